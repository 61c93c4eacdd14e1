//! Tensors from a Hugging Face folder: `model.safetensors`, or the shards listed in
//! `model.safetensors.index.json`, each memory-mapped. Data is not copied: f16/bf16 rows are
//! converted as they are used, and f32 rows are read in place when aligned.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use samtal_gguf::GgmlType;
use serde::Deserialize;

use super::{Bytes, Tensor};
use crate::{Error, Result};

#[derive(Debug)]
struct Entry {
    file: usize,
    ty: GgmlType,
    shape: Vec<usize>,
    start: usize,
    len: usize,
}

#[derive(Debug)]
pub(super) struct SafeTensorsSource {
    maps: Vec<Arc<memmap2::Mmap>>,
    entries: HashMap<String, Entry>,
}

#[derive(Deserialize)]
struct Index {
    weight_map: HashMap<String, String>,
}

impl SafeTensorsSource {
    pub(super) fn open(dir: &Path) -> Result<Self> {
        let single = dir.join("model.safetensors");
        let index = dir.join("model.safetensors.index.json");
        let files: Vec<PathBuf> = if single.is_file() {
            vec![single]
        } else if index.is_file() {
            let text = std::fs::read_to_string(&index).map_err(|e| Error::io(&index, e))?;
            let idx: Index = serde_json::from_str(&text).map_err(|e| Error::Format {
                path: index.clone(),
                message: e.to_string(),
            })?;
            let mut names: Vec<&String> = idx.weight_map.values().collect();
            names.sort();
            names.dedup();
            let mut files = Vec::new();
            for n in names {
                // Shard names come from the file; refuse anything that leaves the folder.
                if n.contains('/') || n.contains('\\') || n == ".." {
                    return Err(Error::Format {
                        path: index.clone(),
                        message: format!("shard name {n:?} is not a plain file name"),
                    });
                }
                files.push(dir.join(n));
            }
            files
        } else {
            return Err(Error::Format {
                path: dir.to_path_buf(),
                message: "no model.safetensors or model.safetensors.index.json in this folder"
                    .into(),
            });
        };
        let mut maps = Vec::new();
        let mut entries = HashMap::new();
        for (i, path) in files.iter().enumerate() {
            let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            // SAFETY: read-only map of a file samtal never writes.
            let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
            let (header_len, meta) =
                safetensors::SafeTensors::read_metadata(&map).map_err(|e| Error::Format {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            let base = 8 + header_len;
            for (name, info) in meta.tensors() {
                let ty = match info.dtype {
                    safetensors::Dtype::F32 => GgmlType::F32,
                    safetensors::Dtype::F16 => GgmlType::F16,
                    safetensors::Dtype::BF16 => GgmlType::BF16,
                    // Integer and boolean tensors are buffers older transformers saved beside
                    // the weights (BERT's `embeddings.position_ids`), not weights: no model
                    // reads them.
                    safetensors::Dtype::I64
                    | safetensors::Dtype::I32
                    | safetensors::Dtype::I16
                    | safetensors::Dtype::I8
                    | safetensors::Dtype::U8
                    | safetensors::Dtype::BOOL => continue,
                    other => {
                        return Err(Error::Format {
                            path: path.clone(),
                            message: format!("tensor {name:?} has unsupported dtype {other:?}"),
                        })
                    }
                };
                let (a, b) = info.data_offsets;
                let n: usize = info.shape.iter().product();
                if b < a || b - a != n * ty.block_bytes() || base + b > map.len() {
                    return Err(Error::Format {
                        path: path.clone(),
                        message: format!("tensor {name:?} has inconsistent offsets"),
                    });
                }
                entries.insert(
                    name.clone(),
                    Entry {
                        file: i,
                        ty,
                        shape: info.shape.clone(),
                        start: base + a,
                        len: b - a,
                    },
                );
            }
            maps.push(Arc::new(map));
        }
        Ok(Self { maps, entries })
    }

    /// Transformers saves GPT-2 both with and without the `transformer.` prefix.
    fn entry(&self, hf_name: &str) -> Option<(&str, &Entry)> {
        if let Some((k, e)) = self.entries.get_key_value(hf_name) {
            return Some((k, e));
        }
        let short = hf_name.strip_prefix("transformer.")?;
        self.entries
            .get_key_value(short)
            .map(|(k, e)| (k.as_str(), e))
    }

    pub(super) fn contains(&self, hf_name: &str) -> bool {
        self.entry(hf_name).is_some()
    }

    pub(super) fn get(&self, hf_name: &str) -> Result<Tensor> {
        let (name, e) = self
            .entry(hf_name)
            .ok_or_else(|| Error::MissingTensor(hf_name.to_owned()))?;
        Ok(Tensor {
            name: name.to_owned(),
            shape: e.shape.clone(),
            ty: e.ty,
            bytes: Bytes::Mapped {
                map: Arc::clone(&self.maps[e.file]),
                start: e.start,
                len: e.len,
            },
            packed: false,
        })
    }

    pub(super) fn types(&self) -> Vec<GgmlType> {
        self.entries.values().map(|e| e.ty).collect()
    }

    pub(super) fn n_params(&self) -> u64 {
        self.entries
            .values()
            .map(|e| e.shape.iter().product::<usize>() as u64)
            .sum()
    }
}
