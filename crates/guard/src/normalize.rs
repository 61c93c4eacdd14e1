//! One normal form for matching untrusted text: what a reader (or a model) would take to be the
//! same letters.
//!
//! Per character: format controls that render as nothing (zero-width spaces and joiners, bidi
//! controls, Unicode tag characters, variation selectors, soft hyphens) are removed; the rest goes
//! through NFKC (full-width `［ＩＮＳＴ］` → `[INST]`, mathematical letters, ligatures), then a
//! table of Latin look-alikes from Cyrillic and Greek (UTS #39 confusables restricted to letters
//! that look the same in common fonts), then lower case. Each output character remembers the
//! byte range of the input character it came from, so a match found in the normal form can be
//! escaped in the original text.
//!
//! NFKC is applied per character rather than to the whole string, so combining sequences are not
//! composed; matching does not need them composed, and the mapping stays one input character to
//! a few output ones.

use std::ops::Range;

use unicode_normalization::UnicodeNormalization;

/// Text in normal form with the origin of every character.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Folded {
    pub text: String,
    /// For the i-th *char* of `text`, the byte range of the input character it came from.
    pub origin: Vec<Range<usize>>,
}

impl Folded {
    /// The input byte range covered by the folded byte range `r` (which must lie on char
    /// boundaries of `text`).
    pub fn source_range(&self, r: Range<usize>) -> Range<usize> {
        let first = self.text[..r.start].chars().count();
        let n = self.text[r.clone()].chars().count();
        match (
            self.origin.get(first),
            self.origin.get(first + n.max(1) - 1),
        ) {
            (Some(a), Some(b)) => a.start..b.end,
            _ => 0..0,
        }
    }
}

/// Whether `c` is an invisible formatting character that matching ignores.
pub fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xFFF9..=0xFFFB | 0x1D173..=0x1D17A | 0xE0000..=0xE007F
        | 0xE0100..=0xE01EF)
}

/// The Latin letter a Cyrillic or Greek look-alike stands for, if any.
pub fn confusable(c: char) -> Option<char> {
    Some(match c {
        'а' => 'a',
        'в' => 'b',
        'е' | 'ё' => 'e',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'у' => 'y',
        'х' => 'x',
        'і' => 'i',
        'ј' => 'j',
        'ѕ' => 's',
        'ԁ' => 'd',
        'һ' => 'h',
        'ӏ' => 'l',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'т' => 't',
        'ь' => 'b',
        'А' => 'A',
        'В' => 'B',
        'Е' | 'Ё' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Т' => 'T',
        'Х' => 'X',
        'У' => 'Y',
        'І' => 'I',
        'Ј' => 'J',
        'Ѕ' => 'S',
        'Ԁ' => 'D',
        'Ӏ' => 'I',
        'Ԛ' => 'Q',
        'Ԝ' => 'W',
        'α' => 'a',
        'ο' => 'o',
        'ρ' => 'p',
        'ν' => 'v',
        'ι' => 'i',
        'κ' => 'k',
        'υ' => 'u',
        'χ' => 'x',
        'ε' => 'e',
        'τ' => 't',
        'ϲ' => 'c',
        'ϳ' => 'j',
        'Α' => 'A',
        'Β' => 'B',
        'Ε' => 'E',
        'Ζ' => 'Z',
        'Η' => 'H',
        'Ι' => 'I',
        'Κ' => 'K',
        'Μ' => 'M',
        'Ν' => 'N',
        'Ο' => 'O',
        'Ρ' => 'P',
        'Τ' => 'T',
        'Υ' => 'Y',
        'Χ' => 'X',
        'ı' => 'i',
        'ȷ' => 'j',
        'ℓ' => 'l',
        'Ɩ' => 'l',
        'ǀ' => 'l',
        '∣' => '|',
        '‹' => '<',
        '›' => '>',
        '＜' => '<',
        '＞' => '>',
        _ => return None,
    })
}

/// `text` in normal form, with origins.
pub fn fold(text: &str) -> Folded {
    let mut out = Folded {
        text: String::with_capacity(text.len()),
        origin: Vec::with_capacity(text.len()),
    };
    for (at, c) in text.char_indices() {
        if is_invisible(c) {
            continue;
        }
        let src = at..at + c.len_utf8();
        for d in std::iter::once(c).nfkc() {
            let d = confusable(d).unwrap_or(d);
            for l in d.to_lowercase() {
                out.text.push(l);
                out.origin.push(src.clone());
            }
        }
    }
    out
}

/// `text` in normal form (see the module notes), with runs of white space collapsed to one space
/// and the ends trimmed: what the detector reads.
pub fn normalize(text: &str) -> String {
    let folded = fold(text).text;
    let mut out = String::with_capacity(folded.len());
    for word in folded.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_case_lookalikes_and_invisibles() {
        assert_eq!(fold("［ＩＮＳＴ］").text, "[inst]");
        assert_eq!(fold("Ме").text, "me"); // Cyrillic М, Latin e
        assert_eq!(fold("C\u{200D}o\u{E0041}m\u{202E}puter").text, "computer");
        assert_eq!(fold("𝐂𝐨𝐦𝐩𝐮𝐭𝐞𝐫").text, "computer");
        assert_eq!(
            normalize("  Ignore\t\u{00A0}ALL \n previous  "),
            "ignore all previous"
        );
    }

    #[test]
    fn origins_point_back_into_the_input() {
        let text = "x\u{200B}［ｉ］y";
        let f = fold(text);
        assert_eq!(f.text, "x[i]y");
        let at = f.text.find('[').unwrap();
        let r = f.source_range(at..at + 3);
        assert_eq!(&text[r], "［ｉ］");
        // A character that expands (ﬁ → fi) maps both letters to itself.
        let f = fold("ﬁ");
        assert_eq!(f.text, "fi");
        assert_eq!(f.source_range(1..2), 0..3);
    }
}
