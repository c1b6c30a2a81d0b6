//! A BERT encoder for CPU inference, written for throughput: sequences are packed without padding,
//! Q, K and V come from one matrix product, attention runs per (head, sequence) in parallel, and the
//! element-wise steps are fused passes over rows. Weights are read with candle; products use `gemm`.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail, ensure};
use candle_core::{DType, Device, Tensor};
use gemm::Parallelism;
use rayon::prelude::*;
use serde::Deserialize;

/// The config.json fields the encoder needs.
#[derive(Deserialize)]
struct Config {
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    max_position_embeddings: usize,
    type_vocab_size: usize,
    layer_norm_eps: f64,
    hidden_act: String,
}

/// A BERT model whose output is the mean of the last hidden states over each sequence.
pub(crate) struct Bert {
    hidden: usize,
    heads: usize,
    vocab: usize,
    max_positions: usize,
    eps: f32,
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embed_norm: Norm,
    layers: Vec<Layer>,
}

struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

/// `y = x · wᵀ + b`, with `w` stored `out × inp`, row-major.
struct Linear {
    /// The weights: `out × inp` row-major as stored in the file, `inp × out` row-major once
    /// [`Linear::input_major`] has run (as every layer's are).
    w: Vec<f32>,
    b: Vec<f32>,
    out: usize,
    inp: usize,
}

impl Linear {
    /// Stores the weights input-major: gemm then reads them as they lie instead of repacking
    /// the whole matrix on every call, which dominated a short input (a visitor's question).
    fn input_major(mut self) -> Self {
        let mut t = vec![0f32; self.w.len()];
        for o in 0..self.out {
            for i in 0..self.inp {
                t[i * self.out + o] = self.w[o * self.inp + i];
            }
        }
        self.w = t;
        self
    }
}

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    attn_norm: Norm,
    up: Linear,
    down: Linear,
    out_norm: Norm,
}

/// The weights of a safetensors file, found with or without a "bert." prefix.
struct Weights(HashMap<String, Tensor>);

impl Weights {
    fn get(&self, name: &str, shape: &[usize]) -> anyhow::Result<Vec<f32>> {
        let tensor = self
            .0
            .get(name)
            .or_else(|| self.0.get(&format!("bert.{name}")))
            .with_context(|| format!("model.safetensors has no tensor {name}"))?;
        ensure!(
            tensor.dims() == shape,
            "tensor {name} has shape {:?}, expected {shape:?}",
            tensor.dims()
        );
        Ok(tensor.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?)
    }

    fn linear(&self, name: &str, out: usize, inp: usize) -> anyhow::Result<Linear> {
        Ok(Linear {
            w: self.get(&format!("{name}.weight"), &[out, inp])?,
            b: self.get(&format!("{name}.bias"), &[out])?,
            out,
            inp,
        })
    }

    fn norm(&self, name: &str, size: usize) -> anyhow::Result<Norm> {
        Ok(Norm {
            gamma: self.get(&format!("{name}.weight"), &[size])?,
            beta: self.get(&format!("{name}.bias"), &[size])?,
        })
    }
}

impl Bert {
    /// Reads config.json and model.safetensors from `dir`.
    pub(crate) fn load(dir: &Path) -> anyhow::Result<Self> {
        let cfg: Config = serde_json::from_slice(&std::fs::read(dir.join("config.json"))?)
            .context("config.json is not a BERT configuration")?;
        if cfg.hidden_act != "gelu" {
            bail!(
                "hidden_act {:?} is not supported (only gelu)",
                cfg.hidden_act
            );
        }
        let (h, inter) = (cfg.hidden_size, cfg.intermediate_size);
        ensure!(
            cfg.num_attention_heads > 0 && h % cfg.num_attention_heads == 0,
            "hidden_size is not a multiple of num_attention_heads"
        );
        let weights = Weights(candle_core::safetensors::load(
            dir.join("model.safetensors"),
            &Device::Cpu,
        )?);
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| {
                let p = format!("encoder.layer.{i}");
                let part = |n: &str| weights.linear(&format!("{p}.attention.self.{n}"), h, h);
                let (q, k, v) = (part("query")?, part("key")?, part("value")?);
                Ok(Layer {
                    qkv: Linear {
                        w: [q.w, k.w, v.w].concat(),
                        b: [q.b, k.b, v.b].concat(),
                        out: 3 * h,
                        inp: h,
                    }
                    .input_major(),
                    attn_out: weights
                        .linear(&format!("{p}.attention.output.dense"), h, h)?
                        .input_major(),
                    attn_norm: weights.norm(&format!("{p}.attention.output.LayerNorm"), h)?,
                    up: weights
                        .linear(&format!("{p}.intermediate.dense"), inter, h)?
                        .input_major(),
                    down: weights
                        .linear(&format!("{p}.output.dense"), h, inter)?
                        .input_major(),
                    out_norm: weights.norm(&format!("{p}.output.LayerNorm"), h)?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let e = "embeddings";
        Ok(Self {
            hidden: h,
            heads: cfg.num_attention_heads,
            vocab: cfg.vocab_size,
            max_positions: cfg.max_position_embeddings,
            eps: cfg.layer_norm_eps as f32,
            word: weights.get(&format!("{e}.word_embeddings.weight"), &[cfg.vocab_size, h])?,
            position: weights.get(
                &format!("{e}.position_embeddings.weight"),
                &[cfg.max_position_embeddings, h],
            )?,
            // Every token is of type 0: only the first row is ever used.
            token_type: weights.get(
                &format!("{e}.token_type_embeddings.weight"),
                &[cfg.type_vocab_size, h],
            )?[..h]
                .to_vec(),
            embed_norm: weights.norm(&format!("{e}.LayerNorm"), h)?,
            layers,
        })
    }

    /// Length of the output vectors.
    pub(crate) fn hidden_size(&self) -> usize {
        self.hidden
    }

    /// Mean of the last hidden states of each sequence of token ids (each 1..=max positions long).
    pub(crate) fn pooled(&self, seqs: &[&[u32]]) -> anyhow::Result<Vec<Vec<f32>>> {
        let h = self.hidden;
        for seq in seqs {
            ensure!(
                !seq.is_empty() && seq.len() <= self.max_positions,
                "a sequence has {} tokens, not 1..={}",
                seq.len(),
                self.max_positions
            );
            ensure!(
                seq.iter().all(|&id| (id as usize) < self.vocab),
                "a token id is outside the vocabulary"
            );
        }
        let rows: Vec<(u32, usize)> = seqs
            .iter()
            .flat_map(|s| s.iter().enumerate().map(|(p, &id)| (id, p)))
            .collect();
        let total = rows.len();
        let mut x = vec![0f32; total * h];
        x.par_chunks_mut(h)
            .zip(rows.par_iter())
            .with_min_len(16)
            .for_each(|(row, &(id, p))| {
                let word = &self.word[id as usize * h..][..h];
                let pos = &self.position[p * h..][..h];
                for i in 0..h {
                    row[i] = word[i] + pos[i] + self.token_type[i];
                }
                layer_norm(row, &self.embed_norm, self.eps);
            });
        let inter = self.layers.first().map_or(0, |l| l.up.out);
        let mut qkv = vec![0f32; total * 3 * h];
        let mut ctx = vec![0f32; total * h];
        let mut ctx_by_head = vec![0f32; total * h];
        let mut tmp = vec![0f32; total * h];
        let mut up = vec![0f32; total * inter];
        for layer in &self.layers {
            linear(&x, &layer.qkv, &mut qkv);
            self.attention(&qkv, seqs, &mut ctx_by_head);
            self.heads_to_rows(&ctx_by_head, &mut ctx);
            linear(&ctx, &layer.attn_out, &mut tmp);
            add_norm(&mut x, &tmp, &layer.attn_norm, self.eps);
            linear(&x, &layer.up, &mut up);
            up.par_chunks_mut(4096)
                .for_each(|c| c.iter_mut().for_each(gelu));
            linear(&up, &layer.down, &mut tmp);
            add_norm(&mut x, &tmp, &layer.out_norm, self.eps);
        }
        let mut start = 0;
        Ok(seqs
            .iter()
            .map(|s| {
                let mut mean = vec![0f32; h];
                for row in x[start * h..(start + s.len()) * h].chunks(h) {
                    mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
                }
                start += s.len();
                mean.iter_mut().for_each(|m| *m /= s.len() as f32);
                mean
            })
            .collect())
    }

    /// Softmax(q·kᵀ/√d)·v for every head and sequence, written head-major: `[head][token][d]`.
    fn attention(&self, qkv: &[f32], seqs: &[&[u32]], out: &mut [f32]) {
        let (h, d) = (self.hidden, self.hidden / self.heads);
        let total = qkv.len() / (3 * h);
        let mut tasks = Vec::with_capacity(self.heads * seqs.len());
        for (head, mut rest) in out.chunks_mut(total * d).enumerate() {
            let mut start = 0;
            for s in seqs {
                let (mine, tail) = rest.split_at_mut(s.len() * d);
                tasks.push((head, start, s.len(), mine));
                rest = tail;
                start += s.len();
            }
        }
        let scale = 1.0 / (d as f32).sqrt();
        tasks
            .into_par_iter()
            .for_each_init(Vec::new, |scores, (head, start, len, dst)| {
                let at = |part: usize| &qkv[start * 3 * h + part * h + head * d..];
                let q = View::new(at(0), len, d, 3 * h, 1);
                let kt = View::new(at(1), d, len, 1, 3 * h);
                scores.resize(len * len, 0.0);
                matmul(scores, q, kt, scale, false, Parallelism::None);
                scores.chunks_mut(len).for_each(softmax);
                let p = View::new(scores, len, len, len, 1);
                let v = View::new(at(2), len, d, 3 * h, 1);
                matmul(dst, p, v, 1.0, false, Parallelism::None);
            });
    }

    /// `[head][token][d]` back to `[token][head · d]`.
    fn heads_to_rows(&self, by_head: &[f32], rows: &mut [f32]) {
        let (h, d) = (self.hidden, self.hidden / self.heads);
        let total = rows.len() / h;
        rows.par_chunks_mut(h)
            .enumerate()
            .with_min_len(64)
            .for_each(|(t, row)| {
                for (head, part) in row.chunks_mut(d).enumerate() {
                    part.copy_from_slice(&by_head[(head * total + t) * d..][..d]);
                }
            });
    }
}

/// A read-only strided matrix: element (i, j) is `data[i * rs + j * cs]`.
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a> View<'a> {
    fn new(data: &'a [f32], rows: usize, cols: usize, rs: usize, cs: usize) -> Self {
        assert!(rows > 0 && cols > 0 && (rows - 1) * rs + (cols - 1) * cs < data.len());
        Self {
            data,
            rows,
            cols,
            rs,
            cs,
        }
    }
}

/// `dst (rows × cols, row-major) = [dst +] scale · a · b`.
fn matmul(dst: &mut [f32], a: View, b: View, scale: f32, accumulate: bool, par: Parallelism) {
    let (m, n, k) = (a.rows, b.cols, a.cols);
    assert!(b.rows == k && dst.len() >= m * n);
    // SAFETY: the views' constructors and the assertion above keep every index gemm reads or
    // writes inside the borrowed slices, and `dst` does not alias `a` or `b` (it is `&mut`).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            1.0,
            scale,
            false,
            false,
            false,
            par,
        )
    }
}

/// `out = x · wᵀ + b` for every row of `x`, on every core.
fn linear(x: &[f32], lin: &Linear, out: &mut [f32]) {
    let rows = x.len() / lin.inp;
    out.par_chunks_mut(lin.out)
        .with_min_len(64)
        .for_each(|row| row.copy_from_slice(&lin.b));
    let a = View::new(x, rows, lin.inp, lin.inp, 1);
    let wt = View::new(&lin.w, lin.inp, lin.out, lin.out, 1);
    matmul(out, a, wt, 1.0, true, Parallelism::Rayon(0));
}

/// `x = LayerNorm(x + y)`, row by row.
fn add_norm(x: &mut [f32], y: &[f32], norm: &Norm, eps: f32) {
    let h = norm.gamma.len();
    x.par_chunks_mut(h)
        .zip(y.par_chunks(h))
        .with_min_len(16)
        .for_each(|(xr, yr)| {
            xr.iter_mut().zip(yr).for_each(|(a, b)| *a += b);
            layer_norm(xr, norm, eps);
        });
}

fn layer_norm(row: &mut [f32], norm: &Norm, eps: f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in row.iter_mut().zip(&norm.gamma).zip(&norm.beta) {
        *v = (*v - mean) * inv * g + b;
    }
}

fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    row.iter_mut().for_each(|v| *v /= sum);
}

/// GELU with the exact (erf) form BERT was trained with.
fn gelu(v: &mut f32) {
    *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
}

/// erf, Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
fn erf(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * (-x * x).exp();
    y.copysign(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_is_accurate() {
        // Reference values of erf.
        for (x, want) in [
            (0.0, 0.0),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (-1.5, -0.966_105_1),
            (3.0, 0.999_977_9),
            (10.0, 1.0),
        ] {
            assert!((erf(x) - want).abs() < 3e-7, "erf({x}) = {}", erf(x));
        }
    }

    #[test]
    fn matmul_follows_strides_and_accumulates() {
        // a = [[1, 2], [3, 4]] read transposed through strides; b = [[1, 0, 2], [0, 1, 3]].
        let a = [1.0, 3.0, 2.0, 4.0];
        let b = [1.0, 0.0, 2.0, 0.0, 1.0, 3.0];
        let mut dst = vec![1.0; 6];
        let (va, vb) = (View::new(&a, 2, 2, 1, 2), View::new(&b, 2, 3, 3, 1));
        matmul(&mut dst, va, vb, 2.0, true, Parallelism::None);
        assert_eq!(dst, vec![3.0, 5.0, 17.0, 7.0, 9.0, 37.0]);
    }

    #[test]
    fn softmax_and_norm() {
        let mut row = vec![1.0, 1.0, f32::MIN];
        softmax(&mut row);
        assert_eq!(row, vec![0.5, 0.5, 0.0]);
        let norm = Norm {
            gamma: vec![2.0; 2],
            beta: vec![1.0; 2],
        };
        let mut row = vec![1.0, 3.0];
        layer_norm(&mut row, &norm, 0.0);
        assert_eq!(row, vec![-1.0, 3.0]);
    }
}
