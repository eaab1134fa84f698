//! The fixed BittAudio reward on the built-in metrics, with the built-in composer as the honest
//! miner: silence, white noise, the paired reference clip itself, that clip with noise added and
//! a 5 s clip for 15 s asked all score below an honest clip.

mod common;

use common::music::{compose, reference_set, with_noise};
use salon_core::Audio;
use salon_eval::bittaudio::{reward_metrics, BuiltinMusicMetrics, RewardOptions};

const PROMPT: &str = "sad strings in E minor";
const ASKED: f32 = 15.0;

#[test]
fn junk_copies_and_short_clips_score_below_an_honest_clip() {
    let corpus = [
        "relaxing ambient synth pads",
        "rock song with guitar bass and drums",
        "a lullaby on the music box",
        "epic brass and strings soundtrack in C minor",
        "lofi hip hop beat",
        "folk tune with guitar and flute",
    ];
    let paired = compose(PROMPT, ASKED, 500);
    let set = reference_set(&corpus, ASKED, &paired);
    let metrics = BuiltinMusicMetrics::from_reference(&set).unwrap();
    let opts = RewardOptions::default();
    let score = |audio: &Audio| {
        let m = metrics.measure(PROMPT, audio, Some(&paired));
        let r = reward_metrics(&m, ASKED, None, false, &opts);
        eprintln!(
            "{:?} -> {:.4} {:?}",
            m, r.evaluation.score, r.evaluation.note
        );
        r
    };

    let honest = score(&compose(PROMPT, ASKED, 7));
    let h = honest.evaluation.score;
    assert!(h > 0.3, "honest clip: {honest:?}");
    assert!(!honest.duplicate);

    let cases = [
        ("silence", Audio::silence(ASKED, 32000)),
        (
            "white noise",
            Audio::mono(common::fill((ASKED * 32000.0) as usize, 5, 0.3), 32000),
        ),
        ("the reference clip itself", paired.clone()),
        ("the reference with noise", with_noise(&paired, 20.0, 99)),
        ("a 5 s clip", compose(PROMPT, 5.0, 7)),
    ];
    for (what, audio) in cases {
        let r = score(&audio);
        assert!(
            r.evaluation.score < h,
            "{what} scored {} >= honest {h}: {r:?}",
            r.evaluation.score
        );
    }
    // The copies are zeroed as copies, not merely outscored.
    for copy in [paired.clone(), with_noise(&paired, 20.0, 99)] {
        let r = score(&copy);
        assert!(r.duplicate);
        assert_eq!(r.evaluation.score, 0.0);
    }
}
