//! One view over the two weight sources: a GGUF file (quantized or float tensors, memory-mapped)
//! or a Hugging Face folder (config.json + safetensors, single or sharded, memory-mapped).
//!
//! Models ask for tensors by their Hugging Face names; GGUF names are mapped in one table
//! ([`names::gguf_name`]).

mod adapter;
mod gguf;
pub mod names;
mod safetensors;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use samtal_gguf::GgmlType;

use crate::kernels::MatRef;
use crate::{DType, Error, LoadOptions, Result};

pub use adapter::Adapter;

/// Bytes that live either in a memory map shared by many tensors or in an owned buffer.
#[derive(Clone)]
enum Bytes {
    Mapped {
        map: Arc<memmap2::Mmap>,
        start: usize,
        len: usize,
    },
    /// Owned f32 data (kept as `f32` so that in-place f32 views are aligned).
    F32(Arc<Vec<f32>>),
    Owned(Arc<Vec<u8>>),
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({})", self.as_slice().len())
    }
}

impl Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Mapped { map, start, len } => &map[*start..*start + *len],
            Bytes::F32(v) => {
                // SAFETY: a Vec<f32> is valid to view as its bytes.
                unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), v.len() * 4) }
            }
            Bytes::Owned(v) => v,
        }
    }
}

/// A weight tensor: a shape in PyTorch order (outermost first) and data in one ggml type, rows
/// contiguous. Cheap to clone (shared bytes).
#[derive(Clone, Debug)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub ty: GgmlType,
    bytes: Bytes,
    /// Rows interleaved in groups of 8 for 8-bit products ([`Tensor::pack`]).
    packed: bool,
}

impl Tensor {
    /// An owned f32 tensor (used by tests and for converted weights).
    pub fn from_f32(name: &str, shape: Vec<usize>, data: Vec<f32>) -> Self {
        Self {
            name: name.to_owned(),
            shape,
            ty: GgmlType::F32,
            bytes: Bytes::F32(Arc::new(data)),
            packed: false,
        }
    }

    pub fn n_elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// The raw encoded bytes.
    pub fn data(&self) -> &[u8] {
        self.bytes.as_slice()
    }

    /// All elements as f32 (dequantized).
    pub fn to_f32(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.n_elements()];
        crate::kernels::dequantize(self.ty, self.data(), &mut out);
        out
    }

    /// Checks the shape, naming the tensor on mismatch.
    pub fn expect_shape(self, shape: &[usize]) -> Result<Self> {
        if self.shape != shape {
            return Err(Error::Shape {
                name: self.name,
                expected: shape.to_vec(),
                found: self.shape,
            });
        }
        Ok(self)
    }

    /// A 2-D view for matrix products: `(rows, cols)` with rows = all leading dimensions.
    pub fn mat(&self) -> MatRef<'_> {
        let cols = self.shape.last().copied().unwrap_or(1);
        MatRef {
            ty: self.ty,
            data: self.data(),
            rows: self.n_elements() / cols.max(1),
            cols,
            packed: self.packed,
        }
    }

    /// Whether [`Tensor::pack_all`] would repack this tensor: a matrix of a type with a packed
    /// layout whose rows are whole 32-element blocks.
    fn packable(&self) -> bool {
        !self.packed
            && crate::kernels::packed::tag(self.ty).is_some()
            && self.shape.len() == 2
            && self.shape[1].is_multiple_of(32)
    }

    /// Repacks every matrix among `tensors` whose type has a packed layout (every quantized
    /// type) for 8-bit products (see
    /// [`crate::kernels::packed`]) into one block of memory, asked for in huge pages: a model's
    /// worth of page faults would otherwise cost as much as the repacking, and every token
    /// streams through all of it. The memory-mapped bytes they came from are released from
    /// this process (the kernel drops the pages; reading them again maps them again).
    ///
    /// With `cache` (a file name from [`Weights::pack_cache_file`]) the packed block is kept on
    /// disk: a later load maps it (from the page cache, like the GGUF itself) instead of
    /// repacking and faulting in fresh memory. A cache that cannot be read or written is
    /// ignored.
    pub fn pack_all(tensors: &mut [&mut Tensor], cache: Option<&Path>) {
        use crate::kernels::packed;
        let todo: Vec<usize> = (0..tensors.len())
            .filter(|&i| tensors[i].packable())
            .collect();
        let lens: Vec<usize> = todo
            .iter()
            .map(|&i| {
                let m = tensors[i].mat();
                packed::packed_len(m.ty, m.rows, m.cols)
            })
            .collect();
        let total: usize = lens.iter().sum();
        if total == 0 {
            return;
        }
        // The cache file is named after the source file and, here, the tensors and the layout.
        // Small models repack in no time and are not worth a file.
        let cache = cache.filter(|_| total >= CACHE_MIN_BYTES).map(|base| {
            let mut key = Fnv::new();
            key.add(packed::FORMAT.as_bytes());
            for &i in &todo {
                let t = &*tensors[i];
                key.add(t.name.as_bytes());
                key.add(t.ty.name().as_bytes());
                for d in &t.shape {
                    key.add(&d.to_le_bytes());
                }
            }
            let mut name = base.as_os_str().to_owned();
            name.push(format!(".{:016x}.pack", key.0));
            PathBuf::from(name)
        });
        let map = match cache.as_deref().and_then(|f| map_cached(f, total)) {
            Some(map) => map,
            None => {
                let Ok(mut arena) = memmap2::MmapMut::map_anon(total) else {
                    // No anonymous mapping to be had: each tensor gets its own buffer.
                    for &i in &todo {
                        let t = &mut *tensors[i];
                        let m = t.mat();
                        let data = packed::pack(m.ty, m.data, m.rows, m.cols);
                        t.release_mapping();
                        t.bytes = Bytes::Owned(Arc::new(data));
                        t.packed = true;
                    }
                    return;
                };
                let _ = arena.advise(memmap2::Advice::HugePage);
                let mut rest: &mut [u8] = &mut arena;
                for (&i, &len) in todo.iter().zip(&lens) {
                    let (dst, tail) = rest.split_at_mut(len);
                    rest = tail;
                    let m = tensors[i].mat();
                    packed::pack_into(m.ty, m.data, m.rows, m.cols, dst);
                    tensors[i].release_mapping();
                }
                if let Some(f) = &cache {
                    write_cached(f, &arena);
                }
                let Ok(map) = arena.make_read_only() else {
                    return;
                };
                map
            }
        };
        let map = Arc::new(map);
        let mut start = 0;
        for (&i, &len) in todo.iter().zip(&lens) {
            let t = &mut *tensors[i];
            t.bytes = Bytes::Mapped {
                map: Arc::clone(&map),
                start,
                len,
            };
            t.packed = true;
            start += len;
        }
    }

    /// Drops this tensor's pages of the file mapping from memory (they are read again if used).
    fn release_mapping(&self) {
        if let Bytes::Mapped { map, start, len } = &self.bytes {
            // SAFETY: the file map is read-only and never written, so dropping its pages loses
            // nothing: they are read from the file again if touched.
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, *start, *len)
            };
        }
    }

    /// Converts dense tensors to `dtype`; quantized tensors are left as they are (they stay
    /// quantized in memory).
    ///
    /// [`DType::Q8_0`] quantizes matrices whose rows are whole 32-element blocks; other tensors
    /// stay as they are.
    pub fn convert(self, dtype: DType) -> Self {
        let target = match dtype {
            DType::Auto => return self,
            DType::F32 => GgmlType::F32,
            DType::F16 => GgmlType::F16,
            DType::BF16 => GgmlType::BF16,
            DType::Q8_0 => GgmlType::Q8_0,
        };
        if self.ty.is_quantized() || self.ty == target {
            return self;
        }
        if target == GgmlType::Q8_0 && !(self.shape.len() == 2 && self.shape[1].is_multiple_of(32))
        {
            return self;
        }
        let values = self.to_f32();
        let bytes = match target {
            GgmlType::Q8_0 => Bytes::Owned(Arc::new(crate::kernels::q8::quantize_q8_0(&values))),
            GgmlType::F32 => Bytes::F32(Arc::new(values)),
            GgmlType::F16 => Bytes::Owned(Arc::new(
                values
                    .iter()
                    .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                    .collect(),
            )),
            _ => Bytes::Owned(Arc::new(
                values
                    .iter()
                    .flat_map(|v| half::bf16::from_f32(*v).to_le_bytes())
                    .collect(),
            )),
        };
        Self {
            ty: target,
            bytes,
            ..self
        }
    }

    /// Swaps the two dimensions of a 2-D tensor (GPT-2's Conv1D weights are stored `[in, out]`).
    pub fn transpose(self) -> Result<Self> {
        let &[r, c] = self.shape.as_slice() else {
            return Err(Error::Shape {
                name: self.name,
                expected: vec![0, 0],
                found: self.shape,
            });
        };
        let v = self.to_f32();
        let mut t = vec![0f32; v.len()];
        for i in 0..r {
            for j in 0..c {
                t[j * r + i] = v[i * c + j];
            }
        }
        let ty = self.ty;
        let out = Tensor::from_f32(&self.name, vec![c, r], t);
        Ok(if ty.is_quantized() {
            out
        } else {
            out.convert(DType::from_ggml(ty))
        })
    }
}

/// Where the weights come from.
#[derive(Debug)]
enum Source {
    Gguf(gguf::GgufSource),
    SafeTensors(safetensors::SafeTensorsSource),
}

/// Model weights from either source.
#[derive(Debug)]
pub struct Weights {
    path: PathBuf,
    source: Source,
    /// Updates laid over every tensor read ([`Adapter`]).
    adapter: Option<Arc<Adapter>>,
}

impl Weights {
    /// Opens a GGUF file or a Hugging Face folder.
    pub fn open(path: &Path) -> Result<Self> {
        let source = if path.is_dir() {
            Source::SafeTensors(safetensors::SafeTensorsSource::open(path)?)
        } else {
            Source::Gguf(gguf::GgufSource::open(path)?)
        };
        Ok(Self {
            path: path.to_path_buf(),
            source,
            adapter: None,
        })
    }

    /// Opens a model's weights as `opts` asks: with its adapter laid over them, if any.
    pub fn open_for(path: &Path, opts: &LoadOptions) -> Result<Self> {
        let mut w = Self::open(path)?;
        w.adapter = opts.adapter.clone();
        Ok(w)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where, under `dir`, repacked weights of this GGUF file are kept between runs: named
    /// after the file, its size and its modification time, so that a changed file is
    /// repacked. `None` for Hugging Face folders (nothing to repack).
    pub fn pack_cache_file(&self, dir: &Path) -> Option<PathBuf> {
        // Packed weights with an adapter's updates are not the file's: nothing to share.
        let (Source::Gguf(_), None) = (&self.source, &self.adapter) else {
            return None;
        };
        let meta = std::fs::metadata(&self.path).ok()?;
        let mtime = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        let stem: String = self
            .path
            .file_stem()?
            .to_string_lossy()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Some(dir.join(format!(
            "{stem}.{}.{}.{}",
            meta.len(),
            mtime.as_secs(),
            mtime.subsec_nanos()
        )))
    }

    /// The GGUF header, when the source is a GGUF file.
    pub fn gguf(&self) -> Option<&samtal_gguf::Gguf> {
        match &self.source {
            Source::Gguf(g) => Some(g.header()),
            Source::SafeTensors(_) => None,
        }
    }

    /// Whether a tensor with this Hugging Face name exists.
    pub fn contains(&self, hf_name: &str) -> bool {
        if self
            .adapter
            .as_ref()
            .is_some_and(|a| a.whole(hf_name).is_some())
        {
            return true;
        }
        match &self.source {
            Source::Gguf(g) => g.contains(hf_name),
            Source::SafeTensors(s) => s.contains(hf_name),
        }
    }

    /// A tensor by its Hugging Face name.
    pub fn get(&self, hf_name: &str) -> Result<Tensor> {
        let base = || match &self.source {
            Source::Gguf(g) => g.get(hf_name),
            Source::SafeTensors(s) => s.get(hf_name),
        };
        let Some(adapter) = &self.adapter else {
            return base();
        };
        if let Some(t) = adapter.whole(hf_name) {
            // A replacement keeps the base's shape; a tensor the base lacks is the adapter's.
            return match base() {
                Ok(b) if b.shape != t.shape => Err(Error::Format {
                    path: adapter.origin.clone(),
                    message: format!(
                        "{hf_name} is {:?} in the adapter but {:?} in the model",
                        t.shape, b.shape
                    ),
                }),
                _ => Ok(t.clone()),
            };
        }
        adapter.apply(hf_name, base()?)
    }

    /// A tensor that must exist with this shape.
    pub fn get_shaped(&self, hf_name: &str, shape: &[usize]) -> Result<Tensor> {
        self.get(hf_name)?.expect_shape(shape)
    }

    /// Counts of tensors per element type, e.g. `{"q4_1": 211, "f32": 61}`.
    pub fn type_counts(&self) -> std::collections::BTreeMap<String, usize> {
        let mut counts = std::collections::BTreeMap::new();
        let types: Vec<GgmlType> = match &self.source {
            Source::Gguf(g) => g.header().tensors.iter().map(|t| t.ty).collect(),
            Source::SafeTensors(s) => s.types(),
        };
        for t in types {
            *counts.entry(t.name().to_owned()).or_insert(0) += 1;
        }
        counts
    }

    /// Total number of parameters.
    pub fn n_params(&self) -> u64 {
        match &self.source {
            Source::Gguf(g) => g.header().tensors.iter().map(|t| t.n_elements()).sum(),
            Source::SafeTensors(s) => s.n_params(),
        }
    }
}

/// Packed weights smaller than this are not cached on disk.
const CACHE_MIN_BYTES: usize = 16 << 20;

/// FNV-1a, 64 bits: names a packed-weights cache file.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn add(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        self.0 = (self.0 ^ 0xff).wrapping_mul(0x0100_0000_01b3);
    }
}

/// Maps a packed-weights cache file of exactly `len` bytes.
fn map_cached(path: &Path, len: usize) -> Option<memmap2::Mmap> {
    let file = std::fs::File::open(path).ok()?;
    if file.metadata().ok()?.len() != len as u64 {
        return None;
    }
    // SAFETY: a read-only map of a file samtal writes once (to a temporary name, then renamed)
    // and never changes afterwards.
    unsafe { memmap2::Mmap::map(&file) }.ok()
}

/// Writes a packed-weights cache file: to a temporary name, then renamed, so that a reader
/// never sees it half written. Failure only means the next load repacks.
fn write_cached(path: &Path, bytes: &[u8]) {
    let Some(dir) = path.parent() else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, bytes).is_err() || std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
        return;
    }
    // Older packs of a file of the same name (the model was replaced) are dropped.
    let (Some(name), Ok(entries)) = (path.file_name(), std::fs::read_dir(dir)) else {
        return;
    };
    let name = name.to_string_lossy();
    let Some(stem) = name.split('.').next() else {
        return;
    };
    for entry in entries.flatten() {
        let other = entry.file_name().to_string_lossy().into_owned();
        if other != name && other.starts_with(&format!("{stem}.")) && other.ends_with(".pack") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
