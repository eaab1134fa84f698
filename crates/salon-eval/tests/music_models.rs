//! The fixed BittAudio reward on the model path (VGGish FAD, PaSST KLD, CLAP), with the golden
//! tests' random weights (a full-size VGGish, the tiny PaSST and CLAP) and the built-in composer as
//! the honest miner: silence, white noise, the paired reference clip, that clip with noise added
//! and a 5 s clip for 15 s asked all score below an honest clip. Random weights make FAD, KLD and
//! CLAP values meaningless, so CLAP's 0.1 gate is off here; what is tested is that every term is
//! measured by its model, in one batch, and that the defences hold whatever the models say.

mod common;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use common::music::{compose, reference_set, with_noise};
use salon_core::Audio;
use salon_eval::bittaudio::{reward_metrics, RewardOptions};
use salon_eval::models::clap::Clap;
use salon_eval::models::music::{ModelMusicMetrics, MusicItem, MusicModels};
use salon_eval::models::passt::{Passt, PasstConfig};
use salon_eval::models::vggish::Vggish;
use std::path::PathBuf;
use std::sync::Arc;

const PROMPT: &str = "sad strings in E minor";
const ASKED: f32 = 15.0;

fn fixtures(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn models() -> MusicModels {
    let device = Device::Cpu;
    let vggish_meta = common::read_meta(&fixtures("vggish"));
    let vggish = Vggish::new(VarBuilder::from_tensors(
        common::hash_tensors(&vggish_meta, &device, common::vggish_half),
        DType::F32,
        &device,
    ))
    .unwrap();
    let passt_meta = common::read_meta(&fixtures("passt"));
    let config: PasstConfig = serde_json::from_value(passt_meta["config"].clone()).unwrap();
    let passt = Passt::new(
        VarBuilder::from_tensors(
            common::hash_tensors(&passt_meta, &device, common::passt_half),
            DType::F32,
            &device,
        ),
        &config,
    )
    .unwrap();
    let clap = Clap::load(&fixtures("clap"), &device).unwrap();
    MusicModels::new(&device, Some(vggish), Some(passt), Some(clap))
}

#[test]
fn junk_copies_and_short_clips_score_below_an_honest_clip_on_the_model_path() {
    let corpus = [
        "relaxing ambient synth pads",
        "rock song with guitar bass and drums",
        "lofi hip hop beat",
    ];
    let paired = compose(PROMPT, ASKED, 500);
    let set = reference_set(&corpus, 12.0, &paired);
    let metrics = ModelMusicMetrics::from_reference(Arc::new(models()), &set).unwrap();
    assert_eq!(metrics.describe(), "fad=vggish kld=passt clap=clap");

    let honest = compose(PROMPT, ASKED, 7);
    let silence = Audio {
        samples: vec![0.0; honest.samples.len()],
        ..honest.clone()
    };
    let white = Audio {
        samples: common::fill(honest.samples.len(), 3, 0.5),
        ..honest.clone()
    };
    let short = compose(PROMPT, 5.0, 8);
    let cases = [
        ("honest", &honest),
        ("silence", &silence),
        ("white noise", &white),
        ("the paired reference", &paired),
        (
            "the reference + noise at 20 dB",
            &with_noise(&paired, 20.0, 11),
        ),
        ("a 5 s clip", &short),
    ];
    let items: Vec<MusicItem> = cases
        .iter()
        .map(|(_, a)| MusicItem {
            prompt: PROMPT,
            audio: a,
            paired: Some(&paired),
        })
        .collect();
    let measured = metrics.measure_batch(&items);
    let opts = RewardOptions {
        clap_gate: -1.0,
        ..RewardOptions::default()
    };
    let scores: Vec<f64> = measured
        .iter()
        .zip(&cases)
        .map(|(m, (name, _))| {
            let r = reward_metrics(m, ASKED, None, false, &opts);
            eprintln!(
                "{name}: {m:?} -> {:.4} {:?}",
                r.evaluation.score, r.evaluation.note
            );
            r.evaluation.score
        })
        .collect();

    // The honest clip was measured by every model: finite FAD and KLD, a cosine for CLAP.
    let h = &measured[0];
    assert!(h.unusable.is_none());
    assert!(h.fad.is_finite() && h.fad >= 0.0, "FAD {}", h.fad);
    assert!(h.kld.kld_both.is_finite(), "KLD {:?}", h.kld);
    assert!(
        (-1.0..=1.0).contains(&h.clap) && h.clap != 0.0,
        "CLAP {}",
        h.clap
    );
    assert!(scores[0] > 0.0);
    for ((name, _), s) in cases.iter().zip(&scores).skip(1) {
        assert!(
            *s < scores[0],
            "{name} scored {s} against honest {}",
            scores[0]
        );
    }

    // One clip alone is measured exactly as inside the batch.
    let alone = metrics.measure(PROMPT, &honest, Some(&paired));
    assert!((alone.fad - h.fad).abs() <= 1e-6 * h.fad.max(1.0));
    assert!((alone.kld.kld_both - h.kld.kld_both).abs() < 1e-4);
    assert!((alone.clap - h.clap).abs() < 1e-4);
}
