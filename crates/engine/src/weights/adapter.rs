//! A LoRA adapter: low-rank updates and replaced tensors laid over a model's weights at load,
//! so that a fine-tuned model ships as a megabyte beside the base it was tuned from.
//!
//! The file is safetensors, names are Hugging Face names (the GGUF table maps them as for any
//! other tensor):
//! - `{name}.lora_a` (rank × in) and `{name}.lora_b` (out × rank, the LoRA scale `alpha / rank`
//!   already folded in, as llama.cpp's converter folds it): the weight read is
//!   `name + lora_b · lora_a`;
//! - `{name}` alone: the tensor replaces the base's (a fine-tuned LayerNorm), or adds one the
//!   base does not have (a classification head).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use samtal_gguf::GgmlType;

use super::Tensor;
use crate::{Error, Result};

/// Updates to lay over a model's weights (see the module notes).
#[derive(Debug)]
pub struct Adapter {
    /// Where it came from, for errors.
    pub origin: PathBuf,
    /// The file's `__metadata__` strings.
    pub metadata: HashMap<String, String>,
    tensors: HashMap<String, Tensor>,
}

impl Adapter {
    /// Reads an adapter file.
    pub fn open(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(&bytes, path)
    }

    /// Parses an adapter's bytes; `origin` names it in errors.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Self> {
        let bad = |message: String| Error::Format {
            path: origin.to_path_buf(),
            message,
        };
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| bad(format!("not a safetensors adapter: {e}")))?;
        let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)
            .map_err(|e| bad(format!("not a safetensors adapter: {e}")))?;
        let metadata = meta.metadata().clone().unwrap_or_default();
        let mut tensors = HashMap::new();
        for (name, view) in st.tensors() {
            let ty = match view.dtype() {
                safetensors::Dtype::F32 => GgmlType::F32,
                safetensors::Dtype::F16 => GgmlType::F16,
                safetensors::Dtype::BF16 => GgmlType::BF16,
                other => return Err(bad(format!("tensor {name:?} has dtype {other:?}"))),
            };
            let n: usize = view.shape().iter().product();
            let mut data = vec![0f32; n];
            crate::kernels::dequantize(ty, view.data(), &mut data);
            tensors.insert(
                name.clone(),
                Tensor::from_f32(&name, view.shape().to_vec(), data),
            );
        }
        for name in tensors.keys() {
            let pair = |from: &str, to: &str| {
                name.strip_suffix(from)
                    .map(|base| (base, format!("{base}{to}")))
            };
            if let Some((base, other)) = pair(".lora_a", ".lora_b").or(pair(".lora_b", ".lora_a")) {
                if !tensors.contains_key(&other) {
                    return Err(bad(format!("{name} has no {other} beside it")));
                }
                if tensors.contains_key(base) {
                    return Err(bad(format!("{base} is both replaced and updated")));
                }
            }
        }
        Ok(Self {
            origin: origin.to_path_buf(),
            metadata,
            tensors,
        })
    }

    /// A tensor the adapter holds whole (replacing or adding one).
    pub fn whole(&self, name: &str) -> Option<&Tensor> {
        self.tensors.get(name)
    }

    /// `base` with this adapter's update to it, if any; otherwise `base` unchanged.
    pub fn apply(&self, name: &str, base: Tensor) -> Result<Tensor> {
        let (Some(a), Some(b)) = (
            self.tensors.get(&format!("{name}.lora_a")),
            self.tensors.get(&format!("{name}.lora_b")),
        ) else {
            return Ok(base);
        };
        let bad = |message: String| Error::Format {
            path: self.origin.clone(),
            message,
        };
        let [rows, cols] = base.shape[..] else {
            return Err(bad(format!(
                "{name} is not a matrix; a low-rank update needs one"
            )));
        };
        let rank = a.shape.first().copied().unwrap_or(0);
        if a.shape != [rank, cols] || b.shape != [rows, rank] {
            return Err(bad(format!(
                "the update of {name} ({rows} x {cols}) has lora_a {:?} and lora_b {:?}; \
                 expected [rank, {cols}] and [{rows}, rank]",
                a.shape, b.shape
            )));
        }
        let (a, b) = (a.to_f32(), b.to_f32());
        let mut w = base.to_f32();
        for (r, row) in w.chunks_exact_mut(cols).enumerate() {
            for k in 0..rank {
                let s = b[r * rank + k];
                for (x, y) in row.iter_mut().zip(&a[k * cols..(k + 1) * cols]) {
                    *x += s * y;
                }
            }
        }
        Ok(Tensor::from_f32(&base.name, base.shape.clone(), w))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn file(tensors: &[(&str, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
            .iter()
            .map(|(n, s, d)| {
                let b = d.iter().flat_map(|x| x.to_le_bytes()).collect();
                ((*n).to_owned(), s.clone(), b)
            })
            .collect();
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
            .iter()
            .map(|(n, s, b)| {
                let v = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                    .unwrap();
                (n.clone(), v)
            })
            .collect();
        let meta = HashMap::from([("rank".to_owned(), "1".to_owned())]);
        safetensors::serialize(views, &Some(meta)).unwrap()
    }

    #[test]
    fn a_low_rank_update_adds_b_times_a() {
        let bytes = file(&[
            ("w.lora_a", vec![1, 3], vec![1.0, 2.0, 3.0]),
            ("w.lora_b", vec![2, 1], vec![10.0, -1.0]),
            ("ln", vec![2], vec![5.0, 6.0]),
        ]);
        let a = Adapter::from_bytes(&bytes, Path::new("t")).unwrap();
        assert_eq!(a.metadata["rank"], "1");
        let base = Tensor::from_f32("w", vec![2, 3], vec![0.5; 6]);
        let w = a.apply("w", base).unwrap();
        assert_eq!(w.to_f32(), vec![10.5, 20.5, 30.5, -0.5, -1.5, -2.5]);
        // Tensors it does not update pass through; whole ones are there to replace.
        let other = Tensor::from_f32("v", vec![1, 1], vec![7.0]);
        assert_eq!(a.apply("v", other).unwrap().to_f32(), vec![7.0]);
        assert_eq!(a.whole("ln").unwrap().to_f32(), vec![5.0, 6.0]);
        // A base of another shape is refused, naming the tensor.
        let e = a
            .apply("w", Tensor::from_f32("w", vec![3, 2], vec![0.0; 6]))
            .unwrap_err();
        assert!(e.to_string().contains("w"), "{e}");
    }

    #[test]
    fn half_an_update_or_a_broken_file_is_refused() {
        let lone = file(&[("w.lora_a", vec![1, 3], vec![1.0, 2.0, 3.0])]);
        let e = Adapter::from_bytes(&lone, Path::new("t")).unwrap_err();
        assert!(e.to_string().contains("no w.lora_b"), "{e}");
        let both = file(&[
            ("w", vec![1], vec![1.0]),
            ("w.lora_a", vec![1, 1], vec![1.0]),
            ("w.lora_b", vec![1, 1], vec![1.0]),
        ]);
        assert!(Adapter::from_bytes(&both, Path::new("t")).is_err());
        let good = file(&[("w", vec![1], vec![1.0])]);
        for cut in [0, 7, 9, good.len() - 1] {
            assert!(Adapter::from_bytes(&good[..cut], Path::new("t")).is_err());
        }
    }
}
