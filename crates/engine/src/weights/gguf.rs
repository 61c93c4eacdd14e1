//! Tensors from a memory-mapped GGUF file. Quantized data is not copied.

use std::path::Path;
use std::sync::Arc;

use samtal_gguf::Gguf;

use super::{names::gguf_name, Bytes, Tensor};
use crate::{Error, Result};

#[derive(Debug)]
pub(super) struct GgufSource {
    header: Gguf,
    map: Arc<memmap2::Mmap>,
}

impl GgufSource {
    pub(super) fn open(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: read-only map of a file samtal never writes; see samtal_gguf::MappedGguf.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let header = Gguf::parse(&map).map_err(|source| Error::Gguf {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            header,
            map: Arc::new(map),
        })
    }

    pub(super) fn header(&self) -> &Gguf {
        &self.header
    }

    fn info(&self, hf_name: &str) -> Option<&samtal_gguf::TensorInfo> {
        let name = gguf_name(hf_name)?;
        self.header.tensor(&name)
    }

    pub(super) fn contains(&self, hf_name: &str) -> bool {
        self.info(hf_name).is_some()
    }

    pub(super) fn get(&self, hf_name: &str) -> Result<Tensor> {
        let info = self.info(hf_name).ok_or_else(|| {
            Error::MissingTensor(gguf_name(hf_name).unwrap_or_else(|| hf_name.into()))
        })?;
        Ok(Tensor {
            name: info.name.clone(),
            shape: info.shape(),
            ty: info.ty,
            bytes: Bytes::Mapped {
                map: Arc::clone(&self.map),
                start: info.offset as usize,
                len: info.n_bytes as usize,
            },
            packed: false,
        })
    }
}
