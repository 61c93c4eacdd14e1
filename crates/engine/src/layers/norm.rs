//! RMSNorm (Llama family) and LayerNorm (GPT-2), applied row by row.

use crate::weights::Weights;
use crate::Result;

#[derive(Clone, Debug)]
pub struct RmsNorm {
    weight: Vec<f32>,
    eps: f32,
}

impl RmsNorm {
    pub fn load(weights: &Weights, name: &str, dim: usize, eps: f32) -> Result<Self> {
        Ok(Self {
            weight: weights.get_shaped(name, &[dim])?.to_f32(),
            eps,
        })
    }

    /// `ys[r] = xs[r] / rms(xs[r]) * weight`, rows of `weight.len()`. Like transformers'
    /// LlamaRMSNorm, the mean of squares is taken in f32.
    pub fn forward(&self, xs: &[f32], ys: &mut [f32]) {
        let d = self.weight.len();
        for (x, y) in xs.chunks_exact(d).zip(ys.chunks_exact_mut(d)) {
            let ms = x.iter().map(|v| v * v).sum::<f32>() / d as f32;
            let inv = 1.0 / (ms + self.eps).sqrt();
            for ((y, x), w) in y.iter_mut().zip(x).zip(&self.weight) {
                *y = w * (x * inv);
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl LayerNorm {
    pub fn load(weights: &Weights, prefix: &str, dim: usize, eps: f32) -> Result<Self> {
        Ok(Self {
            weight: weights
                .get_shaped(&format!("{prefix}.weight"), &[dim])?
                .to_f32(),
            bias: weights
                .get_shaped(&format!("{prefix}.bias"), &[dim])?
                .to_f32(),
            eps,
        })
    }

    pub fn forward(&self, xs: &[f32], ys: &mut [f32]) {
        let d = self.weight.len();
        for (x, y) in xs.chunks_exact(d).zip(ys.chunks_exact_mut(d)) {
            let mean = x.iter().sum::<f32>() / d as f32;
            let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
            let inv = 1.0 / (var + self.eps).sqrt();
            for i in 0..d {
                y[i] = (x[i] - mean) * inv * self.weight[i] + self.bias[i];
            }
        }
    }
}
