//! `y = x Wᵀ + b` over dense or quantized weights: one code path for both.

use crate::kernels;
use crate::weights::{Tensor, Weights};
use crate::{LoadOptions, Result};

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
        opts: &LoadOptions,
    ) -> Result<Self> {
        let w = weights
            .get_shaped(&format!("{prefix}.weight"), &[out_dim, in_dim])?
            .convert(opts.dtype);
        let b = if bias {
            Some(weights.get(&format!("{prefix}.bias"))?)
        } else {
            None
        };
        Self::new(w, b)
    }

    /// `xs` is `(n, in)`, `ys` is `(n, out)`.
    pub fn forward(&self, xs: &[f32], ys: &mut [f32]) {
        Self::forward_many(&[self], xs, &mut [ys]);
    }

    /// `ys[i] = layers[i](xs)` for layers that read the same input, as one parallel job (see
    /// [`kernels::matmul_many`]).
    pub fn forward_many(layers: &[&Linear], xs: &[f32], ys: &mut [&mut [f32]]) {
        let ws: Vec<_> = layers.iter().map(|l| l.w.mat()).collect();
        kernels::matmul_many(&ws, xs, ys);
        for (l, y) in layers.iter().zip(ys.iter_mut()) {
            if let Some(b) = &l.b {
                for row in y.chunks_exact_mut(l.out_dim) {
                    for (y, b) in row.iter_mut().zip(b) {
                        *y += b;
                    }
                }
            }
        }
    }

    pub fn weight(&self) -> &Tensor {
        &self.w
    }

    /// The weight, for [`Tensor::pack_all`].
    pub fn weight_mut(&mut self) -> &mut Tensor {
        &mut self.w
    }
}
