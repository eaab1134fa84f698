//! The released music-evaluation models behind one handle, loaded once per process, and the
//! BittAudio reward computed with them: VGGish embeddings for FAD against a reference SET, PaSST
//! class probabilities for KLD, CLAP for text consistency. Terms whose model is not configured
//! use the built-in stand-ins of [`BuiltinMusicMetrics`], and the handle says which models it
//! runs. Clips are scored in batches: every model sees all clips of a batch in shared passes.

use super::checkpoints::{self, CLAP_REPO, PASST_FILE, VGGISH_FILE};
use super::clap::{Clap, ClapError};
use super::passt::{Passt, PasstConfig};
use super::vggish::Vggish;
use super::vggish_input::{waveform_to_examples, Examples, SAMPLE_RATE as VGGISH_RATE};
use super::ModelError;
use crate::audio::malformed;
use crate::audio::resample::{at_rate, resample};
use crate::bittaudio::{reward_metrics, BuiltinMusicMetrics, MusicMetrics, RewardOptions, Terms};
use crate::fad::{frechet_report, Embeddings, GaussianStats, DEFAULT_EPS};
use crate::kld::{mean_kld, Kld};
use crate::{Challenge, Evaluation, Evaluator, Fingerprint};
use candle_core::{DType, Device};
use rayon::prelude::*;
use salon_core::{Audio, Request, Response, Task};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Examples per VGGish forward pass.
const VGGISH_BATCH: usize = 64;
/// PaSST's input rate.
const PASST_RATE: u32 = super::passt_input::SAMPLE_RATE;
/// CLAP's input rate.
const CLAP_RATE: u32 = 48_000;
/// CLAP reads the first 10 s of a clip; a little more is resampled so the filter has context.
const CLAP_INPUT_SECS: f64 = 10.1;

/// Checkpoint files of the evaluation models; `None` = not configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelPaths {
    /// torchvggish weights (`.pth`) or the same tensors as `.safetensors`.
    pub vggish: Option<PathBuf>,
    /// hear21passt AudioSet weights (`.pt`) or the same tensors as `.safetensors`.
    pub passt: Option<PathBuf>,
    /// A CLAP checkpoint folder in the transformers layout (config.json, weights, tokenizer.json).
    pub clap: Option<PathBuf>,
}

impl ModelPaths {
    /// The checkpoints found in `$SALON_MODELS_DIR` and the Python tools' caches
    /// (see [`checkpoints`]).
    pub fn discover() -> Self {
        Self {
            vggish: checkpoints::find_file(VGGISH_FILE),
            passt: checkpoints::find_file(PASST_FILE),
            clap: checkpoints::find_repo(CLAP_REPO),
        }
    }

    /// The checkpoints in one folder, under their released names: `vggish-10086976.pth`,
    /// `passt-s-f128-p16-s10-ap.476-swa.pt` and the `larger_clap_music/` folder (a
    /// `.safetensors` file of the same stem is accepted for the first two).
    pub fn in_dir(dir: &Path) -> Self {
        let file = |name: &str| {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
            let st = p.with_extension("safetensors");
            st.is_file().then_some(st)
        };
        let clap = dir.join(checkpoints::repo_dir_name(CLAP_REPO));
        Self {
            vggish: file(VGGISH_FILE),
            passt: file(PASST_FILE),
            clap: clap.join("config.json").is_file().then_some(clap),
        }
    }

    /// True when no model is configured.
    pub fn is_empty(&self) -> bool {
        self.vggish.is_none() && self.passt.is_none() && self.clap.is_none()
    }
}

/// The number format the evaluation networks compute in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// Every network in f32, as the Python peers run them.
    #[default]
    F32,
    /// PaSST (the KLD network, most of a clip's arithmetic) in f16, VGGish and CLAP in f32: for
    /// GPUs, whose half-precision matmuls are several times faster. PaSST's logits stay within
    /// 1% of f32's (tests/passt_golden.rs).
    F16,
}

impl Precision {
    /// The default on `device`: f16 on a GPU, where it scores a batch about 1.5x faster and moves
    /// PaSST's probabilities by about 1e-5 (bench/RESULTS.md); f32 on the CPU, where f16 is
    /// slower.
    pub fn for_device(device: &Device) -> Self {
        if device.is_cuda() {
            Self::F16
        } else {
            Self::F32
        }
    }

    /// The dtype PaSST's weights and activations use.
    fn passt_dtype(self) -> DType {
        match self {
            Self::F32 => DType::F32,
            Self::F16 => DType::F16,
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
        })
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "f32" => Ok(Self::F32),
            "f16" => Ok(Self::F16),
            other => Err(format!("unknown precision {other:?}: use f32 or f16")),
        }
    }
}

/// The loaded models and the device they run on.
pub struct MusicModels {
    device: Device,
    vggish: Option<Vggish>,
    passt: Option<Passt>,
    clap: Option<Clap>,
}

impl MusicModels {
    /// Loads every configured model onto `device`, computing in `precision`.
    pub fn load(
        paths: &ModelPaths,
        device: &Device,
        precision: Precision,
    ) -> Result<Self, ModelError> {
        // On a GPU, make sure the fused kernels agree with candle's ops before anything is scored.
        super::fused::verify_on(device);
        let vggish = paths
            .vggish
            .as_deref()
            .map(|p| Vggish::load(p, device))
            .transpose()?;
        let passt = paths
            .passt
            .as_deref()
            .map(|p| {
                Passt::load_with_config(p, &PasstConfig::default(), precision.passt_dtype(), device)
            })
            .transpose()?;
        let clap = paths
            .clap
            .as_deref()
            .map(|p| Clap::load(p, device))
            .transpose()?;
        Ok(Self {
            device: device.clone(),
            vggish,
            passt,
            clap,
        })
    }

    /// Models already built (e.g. from tensors, or with a non-default size) on `device`.
    pub fn new(
        device: &Device,
        vggish: Option<Vggish>,
        passt: Option<Passt>,
        clap: Option<Clap>,
    ) -> Self {
        Self {
            device: device.clone(),
            vggish,
            passt,
            clap,
        }
    }

    /// Names of the loaded models, e.g. `["vggish", "passt", "clap"]`.
    pub fn loaded(&self) -> Vec<&'static str> {
        [
            ("vggish", self.vggish.is_some()),
            ("passt", self.passt.is_some()),
            ("clap", self.clap.is_some()),
        ]
        .into_iter()
        .filter_map(|(n, on)| on.then_some(n))
        .collect()
    }

    /// The device the models run on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// VGGish embeddings [n, 128] of `audio` (mixed to mono, resampled to 16 kHz, 0.96 s
    /// examples), or `None` without VGGish.
    pub fn vggish_embeddings(&self, audio: &Audio) -> Option<Result<Embeddings, ModelError>> {
        let all = self.vggish_batch(&[(&audio.mono_samples(), audio.sample_rate)])?;
        Some(all.map(|mut v| v.remove(0)))
    }

    /// VGGish embeddings of several mono clips `(samples, rate)`, all examples in shared
    /// passes; `None` without VGGish.
    pub fn vggish_batch(
        &self,
        clips: &[(&[f32], u32)],
    ) -> Option<Result<Vec<Embeddings>, ModelError>> {
        let model = self.vggish.as_ref()?;
        let per_clip: Vec<Examples> = clips
            .par_iter()
            .map(|(s, rate)| waveform_to_examples(&resample(s, *rate, VGGISH_RATE)))
            .collect();
        let joined = Examples {
            count: per_clip.iter().map(|e| e.count).sum(),
            data: per_clip
                .iter()
                .flat_map(|e| e.data.iter().copied())
                .collect(),
        };
        let run = || -> Result<Vec<Embeddings>, ModelError> {
            let all = model.embed(&joined, &self.device, VGGISH_BATCH)?;
            let mut out = Vec::with_capacity(per_clip.len());
            let mut row = 0;
            for e in &per_clip {
                let data = all.data[row * all.dim..(row + e.count) * all.dim].to_vec();
                out.push(Embeddings::new(e.count, all.dim, data).map_err(fad_error)?);
                row += e.count;
            }
            Ok(out)
        };
        Some(run())
    }

    /// PaSST softmax rows of every audiocraft segment of each mono clip `(samples, rate)`;
    /// `None` without PaSST.
    pub fn passt_segments(
        &self,
        clips: &[(&[f32], u32)],
    ) -> Option<Result<Vec<Vec<Vec<f32>>>, ModelError>> {
        let model = self.passt.as_ref()?;
        // Clips already at PaSST's rate (the KLD path resamples first to cut pairs) are borrowed.
        let resampled: Vec<_> = clips
            .par_iter()
            .map(|&(s, rate)| at_rate(s, rate, PASST_RATE))
            .collect();
        let refs: Vec<&[f32]> = resampled.iter().map(|c| c.as_ref()).collect();
        Some(model.segment_probabilities_batch(&refs))
    }

    /// CLAP text consistency (cosine) of each mono clip `(samples, rate)` with its prompt;
    /// `None` without CLAP.
    pub fn clap_consistency(
        &self,
        clips: &[(&[f32], u32)],
        prompts: &[&str],
    ) -> Option<Result<Vec<f32>, ModelError>> {
        let model = self.clap.as_ref()?;
        let resampled: Vec<Vec<f32>> = clips
            .par_iter()
            .map(|&(s, rate)| clap_window(s, rate))
            .collect();
        let refs: Vec<&[f32]> = resampled.iter().map(Vec::as_slice).collect();
        Some(
            model
                .text_consistency(&refs, prompts)
                .map_err(ModelError::from),
        )
    }
}

/// The part of a mono clip `(samples, rate)` that CLAP reads: its first 10 s at 48 kHz (a little
/// more is resampled so the filter has context at the cut).
pub fn clap_window(samples: &[f32], rate: u32) -> Vec<f32> {
    let keep = ((CLAP_INPUT_SECS * rate as f64).ceil() as usize).min(samples.len());
    let mut r = resample(&samples[..keep], rate, CLAP_RATE);
    r.truncate(10 * CLAP_RATE as usize);
    r
}

impl From<ClapError> for ModelError {
    fn from(e: ClapError) -> Self {
        ModelError::Clap(Box::new(e))
    }
}

fn fad_error(e: crate::fad::FadError) -> ModelError {
    ModelError::Reference(e.to_string())
}

/// The terms the loaded models measured for some clips, in order (`None`: no model for it).
#[derive(Default)]
struct ModelTerms {
    fad: Option<Vec<f64>>,
    kld: Option<Vec<Kld>>,
    clap: Option<Vec<f32>>,
}

impl ModelTerms {
    /// Writes the terms of clip `live[k]` into `out[live[k]]`, unless the screen found it
    /// unusable.
    fn write(self, live: &[usize], out: &mut [MusicMetrics]) {
        for (k, &i) in live.iter().enumerate() {
            if out[i].unusable.is_some() {
                continue;
            }
            if let Some(f) = &self.fad {
                out[i].fad = f[k];
            }
            if let Some(d) = &self.kld {
                out[i].kld = d[k];
            }
            if let Some(c) = &self.clap {
                out[i].clap = c[k] as f64;
            }
        }
    }
}

/// One clip to score: the prompt it answers, the audio, and the reference clip paired with the
/// prompt (the KLD target; `None`: the reference set's mean class distribution).
#[derive(Clone, Copy, Debug)]
pub struct MusicItem<'a> {
    /// The prompt.
    pub prompt: &'a str,
    /// The response's audio.
    pub audio: &'a Audio,
    /// The reference clip for this prompt, if the validator has one.
    pub paired: Option<&'a Audio>,
}

/// What the model metrics need to know about a reference set: VGGish statistics, the mean PaSST
/// class distribution and the built-in stand-ins (fingerprints for copies). Serialisable, so a
/// set is embedded once and cached on disk (see [`crate::fad::StatsCache`]).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MusicReference {
    /// VGGish embedding statistics of the set (None without VGGish).
    pub vggish: Option<GaussianStats>,
    /// The set's mean PaSST class distribution, the KLD target of unpaired clips.
    pub passt_mean: Option<Vec<f64>>,
    /// The built-in metrics over the same set.
    pub builtin: BuiltinMusicMetrics,
}

impl MusicReference {
    /// Embeds and classifies the reference `clips` with every loaded model and builds the
    /// stand-ins for the rest. Needs at least 2 usable clips.
    pub fn build(models: &MusicModels, clips: &[Audio]) -> Result<Self, ModelError> {
        let builtin = BuiltinMusicMetrics::from_reference(clips)
            .map_err(|e| ModelError::Reference(e.to_string()))?;
        let monos: Vec<(Cow<[f32]>, u32)> = clips
            .iter()
            .filter(|c| malformed(c).is_none())
            .map(|c| (c.mono_samples(), c.sample_rate))
            .collect();
        if monos.is_empty() {
            return Err(ModelError::Reference("no usable reference clip".into()));
        }
        let mut vggish: Option<Embeddings> = None;
        let mut passt_sum: Option<(Vec<f64>, usize)> = None;
        // In chunks, so a large set does not hold every resampled clip at once.
        for chunk in monos.chunks(16) {
            let pairs: Vec<(&[f32], u32)> = chunk
                .iter()
                .map(|(samples, rate)| (&**samples, *rate))
                .collect();
            if let Some(embs) = models.vggish_batch(&pairs) {
                for e in embs? {
                    match &mut vggish {
                        Some(all) => all.extend(&e).map_err(fad_error)?,
                        None => vggish = Some(e),
                    }
                }
            }
            if let Some(segments) = models.passt_segments(&pairs) {
                let (sum, n) = passt_sum.get_or_insert_with(|| (Vec::new(), 0));
                for row in segments?.into_iter().flatten() {
                    if sum.is_empty() {
                        *sum = vec![0.0; row.len()];
                    }
                    sum.iter_mut().zip(&row).for_each(|(s, &v)| *s += v as f64);
                    *n += 1;
                }
            }
        }
        let vggish = vggish.map(|e| e.stats().map_err(fad_error)).transpose()?;
        let passt_mean = passt_sum
            .map(|(sum, n)| {
                if n == 0 {
                    return Err(ModelError::Reference(
                        "no reference clip long enough for PaSST".into(),
                    ));
                }
                Ok(sum.into_iter().map(|s| s / n as f64).collect())
            })
            .transpose()?;
        Ok(Self {
            vggish,
            passt_mean,
            builtin,
        })
    }
}

/// BittAudio's metrics measured with the loaded models over a reference set; built once per
/// set, then [`ModelMusicMetrics::measure_batch`] per batch of clips.
pub struct ModelMusicMetrics {
    models: Arc<MusicModels>,
    vggish_reference: Option<GaussianStats>,
    /// The set's mean PaSST class distribution (the KLD target of unpaired clips).
    passt_mean: Option<Vec<f64>>,
    builtin: BuiltinMusicMetrics,
}

impl ModelMusicMetrics {
    /// Embeds and classifies the reference `clips` with every loaded model (see
    /// [`MusicReference::build`]).
    pub fn from_reference(models: Arc<MusicModels>, clips: &[Audio]) -> Result<Self, ModelError> {
        let reference = MusicReference::build(&models, clips)?;
        Ok(Self::new(models, reference))
    }

    /// Metrics over a reference set already embedded (e.g. read from a cache) with the same
    /// models. A term whose model is loaded but whose statistics are missing uses the stand-in.
    pub fn new(models: Arc<MusicModels>, reference: MusicReference) -> Self {
        Self {
            vggish_reference: reference.vggish.filter(|_| models.vggish.is_some()),
            passt_mean: reference.passt_mean.filter(|_| models.passt.is_some()),
            builtin: reference.builtin,
            models,
        }
    }

    /// The model behind each term, e.g. `"fad=vggish kld=passt clap=clap"`.
    pub fn describe(&self) -> String {
        let [fad, kld, clap] = self.term_models();
        format!("fad={fad} kld={kld} clap={clap}")
    }

    /// The models behind FAD, KLD and CLAP, in that order (`"builtin"` where none is loaded).
    pub fn term_models(&self) -> [&'static str; 3] {
        let pick = |on: bool, name| if on { name } else { BuiltinMusicMetrics::MODEL };
        [
            pick(self.vggish_reference.is_some(), "vggish"),
            pick(self.passt_mean.is_some(), "passt"),
            pick(self.models.clap.is_some(), "clap"),
        ]
    }

    /// Measures one clip (see [`Self::measure_batch`]).
    pub fn measure(&self, prompt: &str, audio: &Audio, paired: Option<&Audio>) -> MusicMetrics {
        let item = MusicItem {
            prompt,
            audio,
            paired,
        };
        self.measure_batch(&[item]).remove(0)
    }

    /// Measures every item, each model running once over all usable clips. Clips that are
    /// malformed or silent come back unusable without reaching a model; the screen for noise and
    /// duplicates runs beside the models (it would otherwise add its time to every batch), and a
    /// clip it rejects has its model terms discarded. If a model fails (e.g. out of GPU memory),
    /// the batch is measured with the built-in stand-ins instead, so a validator's fault never
    /// zeroes a miner.
    pub fn measure_batch(&self, items: &[MusicItem]) -> Vec<MusicMetrics> {
        // The stand-ins measure only the terms no model is loaded for.
        let [fad, kld, clap] = self.term_models().map(|m| m == BuiltinMusicMetrics::MODEL);
        let builtin_terms = Terms { fad, kld, clap };
        let candidates: Vec<usize> = (0..items.len())
            .filter(|&i| BuiltinMusicMetrics::audible(items[i].audio))
            .collect();
        let (mut out, modelled) = rayon::join(
            || {
                items
                    .par_iter()
                    .map(|it| {
                        self.builtin
                            .measure_terms(it.prompt, it.audio, it.paired, builtin_terms)
                    })
                    .collect::<Vec<_>>()
            },
            || {
                if candidates.is_empty() {
                    Ok(ModelTerms::default())
                } else {
                    self.model_terms(items, &candidates)
                }
            },
        );
        match modelled {
            Ok(terms) => terms.write(&candidates, &mut out),
            Err(e) => {
                tracing::warn!(error = %e, "music models failed; scoring this batch with the built-in metrics");
                for (it, m) in items.iter().zip(&mut out) {
                    if m.unusable.is_none() {
                        *m = self.builtin.measure(it.prompt, it.audio, it.paired);
                    }
                }
            }
        }
        out
    }

    /// Runs the three models side by side over the clips `live` (each one's CPU preparation
    /// overlaps the others' network passes).
    fn model_terms(&self, items: &[MusicItem], live: &[usize]) -> Result<ModelTerms, ModelError> {
        let monos: Vec<Cow<[f32]>> = live
            .par_iter()
            .map(|&i| items[i].audio.mono_samples())
            .collect();
        let clips: Vec<(&[f32], u32)> = live
            .iter()
            .zip(&monos)
            .map(|(&i, m)| (&**m, items[i].audio.sample_rate))
            .collect();
        let prompts: Vec<&str> = live.iter().map(|&i| items[i].prompt).collect();
        let paired: Vec<Option<&Audio>> = live.iter().map(|&i| items[i].paired).collect();
        let ((fads, klds), claps) = rayon::join(
            || rayon::join(|| self.fads(&clips), || self.klds(&clips, &paired)),
            || self.models.clap_consistency(&clips, &prompts).transpose(),
        );
        Ok(ModelTerms {
            fad: fads?,
            kld: klds?,
            clap: claps?,
        })
    }

    /// FAD of each clip's VGGish embeddings against the reference set; `None` without VGGish.
    fn fads(&self, clips: &[(&[f32], u32)]) -> Result<Option<Vec<f64>>, ModelError> {
        let Some(reference) = &self.vggish_reference else {
            return Ok(None);
        };
        let Some(embs) = self.models.vggish_batch(clips) else {
            return Ok(None);
        };
        let fad = |e: Embeddings| {
            e.stats()
                .and_then(|s| frechet_report(reference, &s, DEFAULT_EPS))
                .map(|r| r.distance)
                .unwrap_or(f64::INFINITY)
        };
        Ok(Some(embs?.into_par_iter().map(fad).collect()))
    }

    /// audiocraft's KLD of each clip: segment by segment against its paired clip (both cut to
    /// the shorter), or against the set's mean distribution when unpaired; `None` without
    /// PaSST.
    fn klds(
        &self,
        clips: &[(&[f32], u32)],
        paired: &[Option<&Audio>],
    ) -> Result<Option<Vec<Kld>>, ModelError> {
        let Some(mean) = &self.passt_mean else {
            return Ok(None);
        };
        // Everything at PaSST's rate first, so a pair can be cut to the shorter clip.
        let generated: Vec<_> = clips
            .par_iter()
            .map(|&(samples, rate)| at_rate(samples, rate, PASST_RATE))
            .collect();
        let paired: Vec<Option<Vec<f32>>> = paired
            .par_iter()
            .map(|p| {
                let p = p.filter(|p| malformed(p).is_none())?;
                Some(resample(&p.mono_samples(), p.sample_rate, PASST_RATE))
            })
            .collect();
        let mut clips: Vec<(&[f32], u32)> = Vec::new();
        for (g, p) in generated.iter().zip(&paired) {
            match p {
                Some(p) => {
                    let n = g.len().min(p.len());
                    clips.push((&g[..n], PASST_RATE));
                    clips.push((&p[..n], PASST_RATE));
                }
                None => clips.push((g, PASST_RATE)),
            }
        }
        let Some(rows) = self.models.passt_segments(&clips) else {
            return Ok(None);
        };
        let mut rows = rows?.into_iter();
        let widen = |r: &[f32]| r.iter().map(|&v| v as f64).collect::<Vec<f64>>();
        let worst = Kld {
            kld: f64::INFINITY,
            kld_qp: f64::INFINITY,
            kld_both: f64::INFINITY,
        };
        let mut out = Vec::with_capacity(paired.len());
        for p in &paired {
            let generated = rows.next().unwrap_or_default();
            let pairs: Vec<(Vec<f64>, Vec<f64>)> = if p.is_some() {
                let reference = rows.next().unwrap_or_default();
                generated
                    .iter()
                    .zip(&reference)
                    .map(|(g, r)| (widen(g), widen(r)))
                    .collect()
            } else {
                generated
                    .iter()
                    .map(|g| (widen(g), mean.to_vec()))
                    .collect()
            };
            out.push(
                mean_kld(pairs.iter().map(|(g, r)| (g.as_slice(), r.as_slice()))).unwrap_or(worst),
            );
        }
        Ok(Some(out))
    }
}

/// The BittAudio text-to-music evaluator on the loaded models (fixed reward, see
/// [`crate::bittaudio`]).
pub struct ModelMusicEvaluator {
    metrics: ModelMusicMetrics,
    opts: RewardOptions,
}

impl ModelMusicEvaluator {
    /// An evaluator over `metrics` with BittAudio's thresholds.
    pub fn new(metrics: ModelMusicMetrics) -> Self {
        Self {
            metrics,
            opts: RewardOptions::default(),
        }
    }

    /// The models behind each term.
    pub fn describe(&self) -> String {
        self.metrics.describe()
    }
}

impl Evaluator for ModelMusicEvaluator {
    fn supports(&self, task: Task) -> bool {
        task == Task::TextToMusic
    }

    fn evaluate(&self, challenge: &Challenge, response: &Response) -> Evaluation {
        let Request::TextToMusic(req) = &challenge.request else {
            return Evaluation::zero(format!(
                "music evaluator got a {} challenge",
                challenge.request.task()
            ));
        };
        let Response::Audio { audio } = response else {
            return Evaluation::zero("response is not audio");
        };
        let metrics = self.metrics.measure(&req.prompt, audio, None);
        reward_metrics(&metrics, req.duration_secs, None, false, &self.opts).evaluation
    }

    fn fingerprint(&self, response: &Response) -> Option<Fingerprint> {
        crate::audio::response_fingerprint(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_names_round_trip_and_map_to_passt_dtypes() {
        for p in [Precision::F32, Precision::F16] {
            assert_eq!(p.to_string().parse::<Precision>(), Ok(p));
        }
        assert_eq!(Precision::default(), Precision::F32);
        // f16 only where it pays: the CPU keeps the peers' f32.
        assert_eq!(Precision::for_device(&Device::Cpu), Precision::F32);
        assert_eq!(Precision::F16.passt_dtype(), DType::F16);
        assert_eq!(Precision::F32.passt_dtype(), DType::F32);
        let err = "bf16".parse::<Precision>().unwrap_err();
        assert!(err.contains("f32 or f16"), "{err}");
    }
}
