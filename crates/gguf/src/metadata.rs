//! GGUF metadata values and typed look-ups.

use std::collections::BTreeMap;

use crate::{Error, Reader, Result};

/// One metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    String(String),
    Array(Vec<Value>),
}

impl Value {
    /// The GGUF name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::U8(_) => "u8",
            Value::I8(_) => "i8",
            Value::U16(_) => "u16",
            Value::I16(_) => "i16",
            Value::U32(_) => "u32",
            Value::I32(_) => "i32",
            Value::U64(_) => "u64",
            Value::I64(_) => "i64",
            Value::F32(_) => "f32",
            Value::F64(_) => "f64",
            Value::Bool(_) => "bool",
            Value::String(_) => "string",
            Value::Array(_) => "array",
        }
    }

    /// Any non-negative integer value, whatever its width (writers disagree on widths).
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// Any integer value as `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::I8(v) => Some(v.into()),
            Value::I16(v) => Some(v.into()),
            Value::I32(v) => Some(v.into()),
            Value::I64(v) => Some(v),
            Value::U64(v) => i64::try_from(v).ok(),
            _ => self.as_u64().and_then(|v| i64::try_from(v).ok()),
        }
    }

    /// A float or integer value as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v.into()),
            Value::F64(v) => Some(v),
            _ => self.as_i64().map(|v| v as f64),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// The metadata key/value pairs of a GGUF file, with typed look-ups that name the key on error.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata(BTreeMap<String, Value>);

impl Metadata {
    pub(crate) fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        self.0.insert(key, value)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn typed<'a, T>(
        &'a self,
        key: &str,
        expected: &'static str,
        f: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Result<Option<T>> {
        match self.0.get(key) {
            None => Ok(None),
            Some(v) => f(v).map(Some).ok_or_else(|| Error::WrongType {
                key: key.to_owned(),
                expected,
                found: v.type_name(),
            }),
        }
    }

    /// An optional unsigned integer of any width.
    pub fn u64(&self, key: &str) -> Result<Option<u64>> {
        self.typed(key, "unsigned integer", Value::as_u64)
    }

    /// An optional number (float or integer).
    pub fn f64(&self, key: &str) -> Result<Option<f64>> {
        self.typed(key, "number", Value::as_f64)
    }

    pub fn str(&self, key: &str) -> Result<Option<&str>> {
        self.typed(key, "string", Value::as_str)
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        self.typed(key, "bool", Value::as_bool)
    }

    /// A required unsigned integer.
    pub fn require_u64(&self, key: &str) -> Result<u64> {
        self.u64(key)?
            .ok_or_else(|| Error::MissingKey(key.to_owned()))
    }

    /// A required string.
    pub fn require_str(&self, key: &str) -> Result<&str> {
        self.str(key)?
            .ok_or_else(|| Error::MissingKey(key.to_owned()))
    }

    /// An optional array of strings.
    pub fn str_array(&self, key: &str) -> Result<Option<Vec<&str>>> {
        self.typed(key, "array of strings", |v| {
            v.as_array()?.iter().map(Value::as_str).collect()
        })
    }

    /// An optional array of numbers, as `f32`.
    pub fn f32_array(&self, key: &str) -> Result<Option<Vec<f32>>> {
        self.typed(key, "array of numbers", |v| {
            v.as_array()?
                .iter()
                .map(|x| x.as_f64().map(|f| f as f32))
                .collect()
        })
    }

    /// An optional array of integers, as `i64`.
    pub fn i64_array(&self, key: &str) -> Result<Option<Vec<i64>>> {
        self.typed(key, "array of integers", |v| {
            v.as_array()?.iter().map(Value::as_i64).collect()
        })
    }
}

/// Arrays of arrays are legal GGUF but unused; more than this many levels is treated as hostile.
const MAX_NESTING: usize = 4;

pub(crate) fn read_value(
    r: &mut Reader<'_>,
    key: &str,
    type_id: u32,
    depth: usize,
) -> Result<Value> {
    const W: &str = "metadata value";
    Ok(match type_id {
        0 => Value::U8(r.u8(W)?),
        1 => Value::I8(r.u8(W)? as i8),
        2 => Value::U16(r.u16(W)?),
        3 => Value::I16(r.u16(W)? as i16),
        4 => Value::U32(r.u32(W)?),
        5 => Value::I32(r.u32(W)? as i32),
        6 => Value::F32(f32::from_bits(r.u32(W)?)),
        7 => Value::Bool(r.u8(W)? != 0),
        8 => Value::String(r.string("string value")?),
        9 => {
            if depth >= MAX_NESTING {
                return Err(Error::NestedTooDeep(key.to_owned()));
            }
            let elem_type = r.u32("array type")?;
            let len = r.u64("array length")?;
            let min_size = match elem_type {
                0 | 1 | 7 => 1,
                2 | 3 => 2,
                4..=6 => 4,
                8 | 10..=12 => 8,
                9 => 12,
                _ => {
                    return Err(Error::BadValueType {
                        key: key.to_owned(),
                        type_id: elem_type,
                    })
                }
            };
            r.check_count(len, min_size, "metadata array")?;
            let mut items = Vec::with_capacity(len as usize);
            for _ in 0..len {
                items.push(read_value(r, key, elem_type, depth + 1)?);
            }
            Value::Array(items)
        }
        10 => Value::U64(r.u64(W)?),
        11 => Value::I64(r.u64(W)? as i64),
        12 => Value::F64(f64::from_bits(r.u64(W)?)),
        _ => {
            return Err(Error::BadValueType {
                key: key.to_owned(),
                type_id,
            })
        }
    })
}
