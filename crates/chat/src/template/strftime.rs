//! `strftime_now(format)` for templates that print today's date (Llama 3.2, Granite, …).
//!
//! transformers calls Python's `datetime.now().strftime(format)`, which uses local time. samtal
//! has no time-zone database, so this formats UTC: at most a day apart, and reproducible.

use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// A broken-down UTC time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DateTime {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday
    pub weekday: u32,
    /// 1..=366
    pub yearday: u32,
}

impl DateTime {
    /// Converts seconds since 1970-01-01T00:00:00Z (Howard Hinnant's `civil_from_days`).
    pub fn from_unix(secs: i64) -> Self {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        const CUMULATIVE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
        let yearday = CUMULATIVE[(month - 1) as usize] + day + u32::from(leap && month > 2);
        Self {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u32,
            yearday,
        }
    }
}

pub(crate) fn format_now(format: &str) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    format_time(&DateTime::from_unix(secs), format)
}

/// C `strftime` for the directives chat templates use; glibc's `%-d` style (no padding) is
/// accepted too. Unknown directives are copied through, as glibc does.
pub(crate) fn format_time(t: &DateTime, format: &str) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = chars.next();
        let unpadded = spec == Some('-');
        if unpadded {
            spec = chars.next();
        }
        let num = |v: u32, width: usize| {
            if unpadded {
                v.to_string()
            } else {
                format!("{v:0width$}")
            }
        };
        let month = MONTHS[(t.month as usize - 1) % 12];
        let day = DAYS[t.weekday as usize % 7];
        let hour12 = match t.hour % 12 {
            0 => 12,
            h => h,
        };
        match spec {
            Some('Y') => out.push_str(&t.year.to_string()),
            Some('y') => out.push_str(&num(t.year.rem_euclid(100) as u32, 2)),
            Some('m') => out.push_str(&num(t.month, 2)),
            Some('d') => out.push_str(&num(t.day, 2)),
            Some('e') => out.push_str(&format!("{:>2}", t.day)),
            Some('H') => out.push_str(&num(t.hour, 2)),
            Some('I') => out.push_str(&num(hour12, 2)),
            Some('M') => out.push_str(&num(t.minute, 2)),
            Some('S') => out.push_str(&num(t.second, 2)),
            Some('j') => out.push_str(&num(t.yearday, 3)),
            Some('p') => out.push_str(if t.hour < 12 { "AM" } else { "PM" }),
            Some('B') => out.push_str(month),
            Some('b') | Some('h') => out.push_str(&month[..3]),
            Some('A') => out.push_str(day),
            Some('a') => out.push_str(&day[..3]),
            Some('w') => out.push_str(&t.weekday.to_string()),
            Some('F') => out.push_str(&format!("{}-{:02}-{:02}", t.year, t.month, t.day)),
            Some('T') => out.push_str(&format!("{:02}:{:02}:{:02}", t.hour, t.minute, t.second)),
            Some('Z') => out.push_str("UTC"),
            Some('z') => out.push_str("+0000"),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                if unpadded {
                    out.push('-');
                }
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_from_unix_seconds() {
        // 2024-02-29T13:05:09Z, a Thursday, day 60 of a leap year.
        let t = DateTime::from_unix(1_709_211_909);
        assert_eq!(
            t,
            DateTime {
                year: 2024,
                month: 2,
                day: 29,
                hour: 13,
                minute: 5,
                second: 9,
                weekday: 4,
                yearday: 60,
            }
        );
        assert_eq!(DateTime::from_unix(0).weekday, 4);
        let end = DateTime::from_unix(1_735_689_599); // 2024-12-31T23:59:59Z
        assert_eq!(
            (end.year, end.month, end.day, end.yearday),
            (2024, 12, 31, 366)
        );
        let before = DateTime::from_unix(-1); // 1969-12-31T23:59:59Z, a Wednesday
        assert_eq!(
            (before.year, before.month, before.day, before.weekday),
            (1969, 12, 31, 3)
        );
    }

    #[test]
    fn formats_the_directives_templates_use() {
        let t = DateTime::from_unix(1_709_211_909);
        assert_eq!(format_time(&t, "%d %b %Y"), "29 Feb 2024"); // Llama 3.2
        assert_eq!(format_time(&t, "%B %d, %Y"), "February 29, 2024"); // Granite
        assert_eq!(format_time(&t, "%Y-%m-%d %H:%M:%S"), "2024-02-29 13:05:09");
        assert_eq!(
            format_time(&t, "%A %a %I%p %j %y %%"),
            "Thursday Thu 01PM 060 24 %"
        );
        let march = DateTime::from_unix(1_709_251_200); // 2024-03-01
        assert_eq!(format_time(&march, "%-d %-m|%e|%Q"), "1 3| 1|%Q");
    }
}
