//! A defensive reader for GGUF files (v2 and v3), the format of llama.cpp's models.
//!
//! The reader parses the header, the metadata key/value pairs and the tensor directory from a byte
//! slice (usually a memory map), and checks everything against the slice's length before it
//! allocates: a truncated or hostile file gives an [`Error`], never a panic or a huge allocation.
//! Layout reference: the GGUF specification (ggml/docs/gguf.md).
//!
//! ```
//! let mut bytes = Vec::new();
//! bytes.extend_from_slice(b"GGUF");
//! bytes.extend_from_slice(&3u32.to_le_bytes()); // version
//! bytes.extend_from_slice(&0u64.to_le_bytes()); // tensors
//! bytes.extend_from_slice(&0u64.to_le_bytes()); // metadata pairs
//! let file = samtal_gguf::Gguf::parse(&bytes).unwrap();
//! assert_eq!(file.version, 3);
//! ```

mod metadata;
mod types;
mod writer;

use std::path::{Path, PathBuf};

pub use metadata::{Metadata, Value};
pub use types::GgmlType;
pub use writer::Writer;

/// Errors from reading a GGUF file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not a GGUF file (magic bytes are {0:?})")]
    BadMagic([u8; 4]),
    #[error("unsupported GGUF version {0} (samtal reads versions 2 and 3)")]
    UnsupportedVersion(u32),
    #[error("file is truncated: {what} at byte {offset} needs {needed} bytes, {available} remain")]
    Truncated {
        what: &'static str,
        offset: usize,
        needed: u64,
        available: usize,
    },
    #[error("invalid UTF-8 in {what} at byte {offset}")]
    InvalidUtf8 { what: &'static str, offset: usize },
    #[error("unknown metadata value type {type_id} for key {key:?}")]
    BadValueType { key: String, type_id: u32 },
    #[error("metadata arrays nested too deeply at key {0:?}")]
    NestedTooDeep(String),
    #[error("tensor {name:?} has unsupported type id {type_id}")]
    UnsupportedTensorType { name: String, type_id: u32 },
    #[error("tensor {name:?}: {reason}")]
    BadTensor { name: String, reason: String },
    #[error("duplicate {what} {name:?}")]
    Duplicate { what: &'static str, name: String },
    #[error("metadata key {0:?} is missing")]
    MissingKey(String),
    #[error("metadata key {key:?} has type {found}, expected {expected}")]
    WrongType {
        key: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("general.alignment {0} is not a power of two")]
    BadAlignment(u64),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// One entry of the tensor directory.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// Dimensions in ggml order: `dims[0]` is the contiguous (innermost) one. A PyTorch weight of
    /// shape `(out, in)` is stored with `dims == [in, out]`.
    pub dims: Vec<u64>,
    pub ty: GgmlType,
    /// Absolute offset of the tensor's data in the file.
    pub offset: u64,
    /// Size of the tensor's data in bytes.
    pub n_bytes: u64,
}

impl TensorInfo {
    /// Number of elements.
    pub fn n_elements(&self) -> u64 {
        self.dims.iter().product()
    }

    /// Shape in PyTorch order (outermost first), as `usize`.
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }
}

/// A parsed GGUF header: version, metadata and tensor directory. Tensor data stays in the caller's
/// bytes; [`TensorInfo::offset`] points into them.
#[derive(Clone, Debug)]
pub struct Gguf {
    pub version: u32,
    pub metadata: Metadata,
    pub tensors: Vec<TensorInfo>,
    /// Absolute offset where tensor data begins.
    pub data_offset: u64,
}

const MAGIC: &[u8; 4] = b"GGUF";
/// ggml's GGML_MAX_DIMS.
const MAX_DIMS: u32 = 4;
/// Any single dimension beyond this is treated as corruption rather than allocated.
const MAX_DIM: u64 = 1 << 40;

impl Gguf {
    /// Parses a whole GGUF file held in memory (e.g. a memory map). Tensor extents are checked
    /// against `bytes.len()`.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader { bytes, pos: 0 };
        let magic: [u8; 4] = r.array("magic")?;
        if &magic != MAGIC {
            return Err(Error::BadMagic(magic));
        }
        let version = r.u32("version")?;
        if !(2..=3).contains(&version) {
            return Err(Error::UnsupportedVersion(version));
        }
        let n_tensors = r.u64("tensor count")?;
        let n_kv = r.u64("metadata count")?;
        // Every pair needs at least a key length and a type: 12 bytes.
        r.check_count(n_kv, 12, "metadata pairs")?;
        let mut metadata = Metadata::default();
        for _ in 0..n_kv {
            let key = r.string("metadata key")?;
            let type_id = r.u32("metadata type")?;
            let value = metadata::read_value(&mut r, &key, type_id, 0)?;
            if metadata.insert(key.clone(), value).is_some() {
                return Err(Error::Duplicate {
                    what: "metadata key",
                    name: key,
                });
            }
        }
        let alignment = match metadata.get("general.alignment") {
            Some(v) => v.as_u64().unwrap_or(0),
            None => 32,
        };
        if alignment == 0 || !alignment.is_power_of_two() {
            return Err(Error::BadAlignment(alignment));
        }

        // A tensor entry is at least: name length (8), n_dims (4), type (4), offset (8).
        r.check_count(n_tensors, 24, "tensor directory")?;
        let mut raw = Vec::with_capacity(n_tensors as usize);
        let mut names = std::collections::HashSet::new();
        for _ in 0..n_tensors {
            let name = r.string("tensor name")?;
            let n_dims = r.u32("tensor rank")?;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(Error::BadTensor {
                    name,
                    reason: format!("rank {n_dims} is outside 1..={MAX_DIMS}"),
                });
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for _ in 0..n_dims {
                let d = r.u64("tensor dimension")?;
                if d == 0 || d > MAX_DIM {
                    return Err(Error::BadTensor {
                        name,
                        reason: format!("dimension {d} is absurd"),
                    });
                }
                dims.push(d);
            }
            let type_id = r.u32("tensor type")?;
            let ty = GgmlType::from_id(type_id).ok_or_else(|| Error::UnsupportedTensorType {
                name: name.clone(),
                type_id,
            })?;
            let rel = r.u64("tensor offset")?;
            if !names.insert(name.clone()) {
                return Err(Error::Duplicate {
                    what: "tensor",
                    name,
                });
            }
            raw.push((name, dims, ty, rel));
        }
        let data_offset = align(r.pos as u64, alignment).ok_or(Error::Truncated {
            what: "tensor data",
            offset: r.pos,
            needed: alignment,
            available: 0,
        })?;

        let mut tensors = Vec::with_capacity(raw.len());
        for (name, dims, ty, rel) in raw {
            let n = dims
                .iter()
                .try_fold(1u64, |acc, &d| acc.checked_mul(d))
                .ok_or_else(|| Error::BadTensor {
                    name: name.clone(),
                    reason: "element count overflows".into(),
                })?;
            if dims[0] % ty.block_len() as u64 != 0 {
                return Err(Error::BadTensor {
                    name,
                    reason: format!(
                        "row length {} is not a multiple of the {ty} block size {}",
                        dims[0],
                        ty.block_len()
                    ),
                });
            }
            let n_bytes = ty.bytes_for(n).ok_or_else(|| Error::BadTensor {
                name: name.clone(),
                reason: "byte size overflows".into(),
            })?;
            if rel % alignment != 0 {
                return Err(Error::BadTensor {
                    name,
                    reason: format!("offset {rel} is not aligned to {alignment}"),
                });
            }
            let offset = data_offset.checked_add(rel);
            let end = offset.and_then(|o| o.checked_add(n_bytes));
            match (offset, end) {
                (Some(offset), Some(end)) if end <= bytes.len() as u64 => {
                    tensors.push(TensorInfo {
                        name,
                        dims,
                        ty,
                        offset,
                        n_bytes,
                    })
                }
                _ => {
                    return Err(Error::Truncated {
                        what: "tensor data",
                        offset: data_offset.saturating_add(rel).min(usize::MAX as u64) as usize,
                        needed: n_bytes,
                        available: bytes
                            .len()
                            .saturating_sub(data_offset.saturating_add(rel) as usize),
                    })
                }
            }
        }
        Ok(Gguf {
            version,
            metadata,
            tensors,
            data_offset,
        })
    }

    /// Looks a tensor up by name.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// A GGUF file opened through a read-only memory map.
#[derive(Debug)]
pub struct MappedGguf {
    pub path: PathBuf,
    pub gguf: Gguf,
    mmap: memmap2::Mmap,
}

impl MappedGguf {
    /// Maps and parses `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let file = std::fs::File::open(&path).map_err(io)?;
        // SAFETY: the map is read-only and samtal never writes the file; if another process
        // truncates it while mapped, reads may fault, as with every mmap-based loader
        // (llama.cpp, candle, safetensors).
        let mmap = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        let gguf = Gguf::parse(&mmap)?;
        Ok(Self { path, gguf, mmap })
    }

    /// The raw bytes of a tensor. The extent was checked when the file was parsed.
    pub fn tensor_data(&self, info: &TensorInfo) -> &[u8] {
        &self.mmap[info.offset as usize..(info.offset + info.n_bytes) as usize]
    }

    /// All bytes of the file.
    pub fn bytes(&self) -> &[u8] {
        &self.mmap
    }
}

fn align(x: u64, a: u64) -> Option<u64> {
    Some(x.checked_add(a - 1)? / a * a)
}

/// A bounds-checked little-endian cursor.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8]> {
        if n > self.remaining() as u64 {
            return Err(Error::Truncated {
                what,
                offset: self.pos,
                needed: n,
                available: self.remaining(),
            });
        }
        let s = &self.bytes[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let s = self.take(N as u64, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }
    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn string(&mut self, what: &'static str) -> Result<String> {
        let len = self.u64(what)?;
        let offset = self.pos;
        let s = self.take(len, what)?;
        // Vocabularies hold arbitrary bytes in a few old files; keep them readable, lossily,
        // rather than rejecting the whole model.
        match std::str::from_utf8(s) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) if what == "string value" => Ok(String::from_utf8_lossy(s).into_owned()),
            Err(_) => Err(Error::InvalidUtf8 { what, offset }),
        }
    }

    /// Fails early when `count` items of at least `min_size` bytes cannot fit in what remains,
    /// so that a corrupt count never drives a huge allocation.
    pub(crate) fn check_count(&self, count: u64, min_size: u64, what: &'static str) -> Result<()> {
        let needed = count.saturating_mul(min_size);
        if needed > self.remaining() as u64 {
            return Err(Error::Truncated {
                what,
                offset: self.pos,
                needed,
                available: self.remaining(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
