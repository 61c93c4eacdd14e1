//! JSON text exactly as Python's `json.dumps` writes it, for templates that print tool schemas
//! or arguments with `tojson`: `", "` and `": "` separators (`","` once indenting), key order as
//! given, non-ASCII left alone unless `ensure_ascii`, and `repr()`-style floats.

use std::fmt::Write;

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

/// The keyword arguments of transformers' `tojson` filter.
#[derive(Debug, Default)]
pub(crate) struct Options {
    pub ensure_ascii: bool,
    /// An integer (spaces) or a string; none for single-line output.
    pub indent: Option<Value>,
    /// `(item_separator, key_separator)`.
    pub separators: Option<Value>,
    pub sort_keys: bool,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

pub(crate) fn dumps(value: &Value, opts: &Options) -> Result<String, Error> {
    let indent = match &opts.indent {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) => match (v.as_i64(), v.as_str()) {
            (Some(n), _) => Some(" ".repeat(usize::try_from(n).unwrap_or(0))),
            (_, Some(s)) => Some(s.to_owned()),
            _ => return Err(invalid("tojson: indent must be an integer or a string")),
        },
    };
    let (item_sep, key_sep) = match &opts.separators {
        Some(v) if !v.is_none() => {
            let parts: Vec<Value> = v.try_iter()?.collect();
            match parts.as_slice() {
                [a, b] => match (a.as_str(), b.as_str()) {
                    (Some(a), Some(b)) => (a.to_owned(), b.to_owned()),
                    _ => return Err(invalid("tojson: separators must be two strings")),
                },
                _ => return Err(invalid("tojson: separators must be two strings")),
            }
        }
        // json.dumps: ", " without indent, "," with it (no trailing spaces at line ends).
        _ if indent.is_some() => (",".to_owned(), ": ".to_owned()),
        _ => (", ".to_owned(), ": ".to_owned()),
    };
    let mut w = Writer {
        out: String::new(),
        indent,
        item_sep,
        key_sep,
        ensure_ascii: opts.ensure_ascii,
        sort_keys: opts.sort_keys,
    };
    w.value(value, 0)?;
    Ok(w.out)
}

struct Writer {
    out: String,
    indent: Option<String>,
    item_sep: String,
    key_sep: String,
    ensure_ascii: bool,
    sort_keys: bool,
}

/// Nesting beyond this is treated as a cycle rather than recursed into.
const MAX_DEPTH: usize = 256;

impl Writer {
    fn newline(&mut self, depth: usize) {
        if let Some(indent) = &self.indent {
            self.out.push('\n');
            for _ in 0..depth {
                self.out.push_str(indent);
            }
        }
    }

    fn value(&mut self, v: &Value, depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(invalid("tojson: value nested too deeply"));
        }
        match v.kind() {
            ValueKind::Undefined | ValueKind::None => self.out.push_str("null"),
            ValueKind::Bool => self
                .out
                .push_str(if v.is_true() { "true" } else { "false" }),
            ValueKind::Number => self.number(v)?,
            ValueKind::String => self.string(v.as_str().unwrap_or_default()),
            ValueKind::Seq | ValueKind::Iterable => {
                let items: Vec<Value> = v.try_iter()?.collect();
                self.seq(&items, depth)?;
            }
            ValueKind::Map => {
                let mut keys: Vec<Value> = v.try_iter()?.collect();
                if self.sort_keys {
                    keys.sort();
                }
                self.map(v, &keys, depth)?;
            }
            ValueKind::Bytes => {
                return Err(invalid("tojson: bytes are not JSON serializable"));
            }
            _ => self.string(&v.to_string()),
        }
        Ok(())
    }

    fn seq(&mut self, items: &[Value], depth: usize) -> Result<(), Error> {
        if items.is_empty() {
            self.out.push_str("[]");
            return Ok(());
        }
        self.out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                let sep = self.item_sep.clone();
                self.out.push_str(&sep);
            }
            self.newline(depth + 1);
            self.value(item, depth + 1)?;
        }
        self.newline(depth);
        self.out.push(']');
        Ok(())
    }

    fn map(&mut self, map: &Value, keys: &[Value], depth: usize) -> Result<(), Error> {
        if keys.is_empty() {
            self.out.push_str("{}");
            return Ok(());
        }
        self.out.push('{');
        for (i, key) in keys.iter().enumerate() {
            if i > 0 {
                let sep = self.item_sep.clone();
                self.out.push_str(&sep);
            }
            self.newline(depth + 1);
            // json.dumps turns number, bool and None keys into strings.
            match key.kind() {
                ValueKind::String => self.string(key.as_str().unwrap_or_default()),
                ValueKind::None => self.string("null"),
                ValueKind::Bool => self.string(if key.is_true() { "true" } else { "false" }),
                ValueKind::Number => {
                    let mut tmp = std::mem::take(&mut self.out);
                    self.number(key)?;
                    std::mem::swap(&mut tmp, &mut self.out);
                    self.string(&tmp);
                }
                _ => {
                    return Err(invalid(
                        "tojson: keys must be str, int, float, bool or None",
                    ))
                }
            }
            let sep = self.key_sep.clone();
            self.out.push_str(&sep);
            self.value(&map.get_item(key)?, depth + 1)?;
        }
        self.newline(depth);
        self.out.push('}');
        Ok(())
    }

    fn number(&mut self, v: &Value) -> Result<(), Error> {
        if v.is_integer() {
            // Integers print the same in both languages, whatever their width.
            let _ = write!(self.out, "{v}");
            return Ok(());
        }
        let f = f64::try_from(v.clone())?;
        self.out.push_str(&float_repr(f));
        Ok(())
    }

    fn string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                '\u{08}' => self.out.push_str("\\b"),
                '\u{0C}' => self.out.push_str("\\f"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(self.out, "\\u{:04x}", c as u32);
                }
                c if self.ensure_ascii && !c.is_ascii() => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        let _ = write!(self.out, "\\u{unit:04x}");
                    }
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }
}

/// Python's `repr(float)` (what `json.dumps` prints): the shortest round-tripping digits, in
/// positional notation for exponents -4..16 with at least one decimal, scientific otherwise.
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    // Rust's `{:e}` gives the same shortest digits as Python, e.g. "1.5e-5".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let s = format!("{f}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(v: Value) -> String {
        dumps(&v, &Options::default()).unwrap()
    }

    #[test]
    fn floats_print_like_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (123456789.125, "123456789.125"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want, "{f}");
        }
    }

    #[test]
    fn separators_and_escapes_match_json_dumps() {
        let args = Value::from(vec![
            Value::from(1),
            Value::from(2.0),
            Value::from(true),
            Value::from(()),
            Value::from("Göteborg \"quoted\"\n<tag>"),
        ]);
        let empty: Vec<(&str, Value)> = Vec::new();
        let v = Value::from_iter([
            ("name", Value::from("get_weather")),
            ("args", args),
            ("empty", Value::from_iter(empty)),
        ]);
        assert_eq!(
            dump(v),
            r#"{"name": "get_weather", "args": [1, 2.0, true, null, "Göteborg \"quoted\"\n<tag>"], "empty": {}}"#
        );
    }

    #[test]
    fn indent_and_ensure_ascii() {
        let v = Value::from_iter([
            ("a", Value::from(vec![Value::from(1), Value::from("é😀")])),
            ("b", Value::from(Vec::<Value>::new())),
        ]);
        let opts = Options {
            indent: Some(Value::from(2)),
            ensure_ascii: true,
            ..Options::default()
        };
        assert_eq!(
            dumps(&v, &opts).unwrap(),
            "{\n  \"a\": [\n    1,\n    \"\\u00e9\\ud83d\\ude00\"\n  ],\n  \"b\": []\n}"
        );
    }

    #[test]
    fn sort_keys_and_custom_separators() {
        let v = Value::from_iter([("b", 1), ("a", 2)]);
        let opts = Options {
            sort_keys: true,
            separators: Some(Value::from(vec![",", ":"])),
            ..Options::default()
        };
        assert_eq!(dumps(&v, &opts).unwrap(), r#"{"a":2,"b":1}"#);
    }
}
