//! `y = x Wᵀ + b` over dense or quantized weights: one code path for both.

use crate::kernels;
use crate::weights::{Tensor, Weights};
use crate::{DType, Result};

/// A linear layer with weight `(out, in)` (PyTorch `nn.Linear` layout).
#[derive(Clone, Debug)]
pub struct Linear {
    w: Tensor,
    b: Option<Vec<f32>>,
    pub in_dim: usize,
    pub out_dim: usize,
}

impl Linear {
    pub fn new(w: Tensor, b: Option<Tensor>) -> Result<Self> {
        let (out_dim, in_dim) = match w.shape.as_slice() {
            &[o, i] => (o, i),
            _ => {
                return Err(crate::Error::Shape {
                    name: w.name.clone(),
                    expected: vec![0, 0],
                    found: w.shape.clone(),
                })
            }
        };
        let b = match b {
            Some(b) => Some(b.expect_shape(&[out_dim])?.to_f32()),
            None => None,
        };
        Ok(Self {
            w,
            b,
            in_dim,
            out_dim,
        })
    }

    /// Loads `{prefix}.weight` (shape `(out, in)`) and, if `bias`, `{prefix}.bias`.
    pub fn load(
        weights: &Weights,
        prefix: &str,
        in_dim: usize,
        out_dim: usize,
        bias: bool,
        dtype: DType,
    ) -> Result<Self> {
        let w = weights
            .get_shaped(&format!("{prefix}.weight"), &[out_dim, in_dim])?
            .convert(dtype);
        let b = if bias {
            Some(weights.get(&format!("{prefix}.bias"))?)
        } else {
            None
        };
        Self::new(w, b)
    }

    /// `xs` is `(n, in)`, `ys` is `(n, out)`.
    pub fn forward(&self, xs: &[f32], ys: &mut [f32]) {
        kernels::matmul(self.w.mat(), xs, ys);
        if let Some(b) = &self.b {
            for row in ys.chunks_exact_mut(self.out_dim) {
                for (y, b) in row.iter_mut().zip(b) {
                    *y += b;
                }
            }
        }
    }

    pub fn weight(&self) -> &Tensor {
        &self.w
    }
}
