//! Scoring the built-in painter's output: honest reproductions match, degraded ones score lower
//! but above zero, and blank, noisy or unrelated images score lowest.

use super::*;
use crate::{Challenge, Evaluator, Truth};
use salon_core::media::ImageFormat;
use salon_core::task::{ImageRequest, ImageToImageRequest, InpaintRequest, UpscaleRequest};
use salon_core::{Image, Request, Response};
use salon_engines::builtin::image::Painter;
use salon_engines::builtin::Fidelity;
use salon_engines::Engine;

fn t2i(prompt: &str, seed: u64) -> Request {
    Request::TextToImage(ImageRequest {
        prompt: prompt.into(),
        width: 192,
        height: 160,
        steps: 20,
        cfg_scale: 7.0,
        seed,
    })
}

fn run(fidelity: f32, req: &Request) -> Response {
    Painter::new(Fidelity(fidelity)).generate(req).unwrap()
}

fn image(r: &Response) -> Image {
    match r {
        Response::Image { image } => image.clone(),
        other => panic!("expected an image, got {other:?}"),
    }
}

fn noise(w: u32, h: u32, seed: u64) -> Image {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let rgb = (0..w * h * 3)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 56) as u8
        })
        .collect();
    Image {
        width: w,
        height: h,
        rgb,
    }
}

/// Scores of: honest, weak (0.5), blank, noise, other seed, other prompt.
fn scores(req: &Request, other_seed: &Request, other_prompt: &Request) -> [f64; 6] {
    let truth = run(1.0, req);
    let c = Challenge {
        request: req.clone(),
        truth: Truth::Reproduction(truth.clone()),
    };
    let e = ReproductionEvaluator;
    let img = image(&truth);
    let (w, h) = (img.width, img.height);
    let s = |r: &Response| e.evaluate(&c, r).score;
    [
        s(&run(1.0, req)),
        s(&run(0.5, req)),
        s(&Response::Image {
            image: Image::filled(w, h, [128; 3]),
        }),
        s(&Response::Image {
            image: noise(w, h, 3),
        }),
        s(&run(1.0, other_seed)),
        s(&run(1.0, other_prompt)),
    ]
}

fn assert_ordering(name: &str, s: [f64; 6]) {
    eprintln!("{name}: honest, weak, blank, noise, other seed, other prompt = {s:?}");
    let [honest, weak, blank, noisy, seed, prompt] = s;
    assert_eq!(honest, 1.0, "{name}: honest reproduction must match: {s:?}");
    assert!(
        weak < 0.9 && weak > 0.05,
        "{name}: weak must be clearly lower but above zero: {s:?}"
    );
    for (what, v) in [
        ("blank", blank),
        ("noise", noisy),
        ("other seed", seed),
        ("other prompt", prompt),
    ] {
        assert!(
            v < weak,
            "{name}: {what} ({v}) must score below weak ({weak}): {s:?}"
        );
    }
    assert_eq!(blank, 0.0, "{name}: {s:?}");
}

#[test]
fn text_to_image_honest_matches_weak_lower_junk_lowest() {
    for (p, q) in [
        (
            "a misty lake under snowy mountains at sunset",
            "neon city at night",
        ),
        (
            "abstract red and blue circles",
            "a forest of pine trees, oil painting",
        ),
        (
            "a sunny beach with the sea",
            "pencil sketch of a village with houses",
        ),
    ] {
        let s = scores(&t2i(p, 11), &t2i(p, 12), &t2i(q, 11));
        assert_ordering(p, s);
    }
    // Weak output never passes as a match, whatever the seed.
    for seed in 0..12 {
        let req = t2i("hills and a river in autumn", seed);
        let c = Challenge {
            request: req.clone(),
            truth: Truth::Reproduction(run(1.0, &req)),
        };
        let weak = ReproductionEvaluator.evaluate(&c, &run(0.5, &req)).score;
        assert!(weak < 0.9 && weak > 0.05, "seed {seed}: weak {weak}");
        let up = Request::Upscale(UpscaleRequest {
            image: image(&run(1.0, &req)),
            scale: 2,
        });
        let c = Challenge {
            request: up.clone(),
            truth: Truth::Reproduction(run(1.0, &up)),
        };
        let weak = ReproductionEvaluator.evaluate(&c, &run(0.5, &up)).score;
        assert!(
            weak < 0.9 && weak > 0.05,
            "seed {seed}: weak upscale {weak}"
        );
    }
}

#[test]
fn edits_honest_matches_weak_lower() {
    let init = image(&run(1.0, &t2i("green hills under a blue sky", 4)));
    let i2i = |prompt: &str, seed| {
        Request::ImageToImage(ImageToImageRequest {
            prompt: prompt.into(),
            init_image: init.clone(),
            strength: 0.6,
            steps: 20,
            cfg_scale: 6.0,
            seed,
        })
    };
    assert_ordering(
        "img2img",
        scores(
            &i2i("a red city skyline", 1),
            &i2i("a red city skyline", 2),
            &i2i("abstract yellow squares", 1),
        ),
    );

    let mut mask = Image::filled(init.width, init.height, [0; 3]);
    for y in 30..110u32 {
        for x in 40..140u32 {
            if (x as i32 - 90).pow(2) + (y as i32 - 70).pow(2) < 40 * 40 {
                let i = ((y * init.width + x) * 3) as usize;
                mask.rgb[i..i + 3].copy_from_slice(&[255; 3]);
            }
        }
    }
    let inpaint = |prompt: &str, seed| {
        Request::Inpaint(InpaintRequest {
            prompt: prompt.into(),
            init_image: init.clone(),
            mask_image: mask.clone(),
            steps: 20,
            cfg_scale: 6.0,
            seed,
        })
    };
    let s = scores(
        &inpaint("a castle with towers", 1),
        &inpaint("a castle with towers", 2),
        &inpaint("abstract purple circles", 1),
    );
    let [honest, weak, blank, noisy, _, prompt] = s;
    assert_eq!(honest, 1.0, "{s:?}");
    assert!(
        weak < 0.9 && weak > 0.05 && blank == 0.0 && noisy < weak && prompt < weak,
        "{s:?}"
    );
    // Returning the input unchanged is not an edit.
    let c = Challenge {
        request: inpaint("a castle", 1),
        truth: Truth::Reproduction(run(1.0, &inpaint("a castle", 1))),
    };
    assert_eq!(
        ReproductionEvaluator
            .evaluate(
                &c,
                &Response::Image {
                    image: init.clone()
                }
            )
            .score,
        0.0
    );
    // Even a light img2img (strength 0.1) must be done: the input as is scores 0.
    let light = Request::ImageToImage(ImageToImageRequest {
        prompt: "a red city skyline".into(),
        init_image: init.clone(),
        strength: 0.1,
        steps: 20,
        cfg_scale: 6.0,
        seed: 3,
    });
    let c = Challenge {
        request: light.clone(),
        truth: Truth::Reproduction(run(1.0, &light)),
    };
    assert_eq!(
        ReproductionEvaluator.evaluate(&c, &run(1.0, &light)).score,
        1.0
    );
    let unchanged = Response::Image {
        image: init.clone(),
    };
    assert_eq!(ReproductionEvaluator.evaluate(&c, &unchanged).score, 0.0);

    let small = image(&run(
        1.0,
        &t2i("a sunny beach with the sea and palm trees", 8),
    ));
    let up = Request::Upscale(UpscaleRequest {
        image: small.clone(),
        scale: 2,
    });
    let truth = run(1.0, &up);
    let c = Challenge {
        request: up.clone(),
        truth: Truth::Reproduction(truth.clone()),
    };
    let e = ReproductionEvaluator;
    assert_eq!(e.evaluate(&c, &truth).score, 1.0);
    let weak = e.evaluate(&c, &run(0.5, &up)).score;
    assert!(weak < 0.9 && weak > 0.05, "upscale weak {weak}");
    let other = image(&run(
        1.0,
        &Request::Upscale(UpscaleRequest {
            image: image(&run(1.0, &t2i("neon city", 8))),
            scale: 2,
        }),
    ));
    assert!(e.evaluate(&c, &Response::Image { image: other }).score < weak);
    let wrong_size = Response::Image { image: small };
    assert_eq!(e.evaluate(&c, &wrong_size).score, 0.0);
}

#[test]
fn without_reproduction_scores_zero_with_a_note() {
    let req = t2i("a lake", 1);
    let c = Challenge {
        request: req.clone(),
        truth: Truth::None,
    };
    let ev = ReproductionEvaluator.evaluate(&c, &run(1.0, &req));
    assert_eq!(ev.score, 0.0);
    assert!(ev.note.unwrap().contains("reproduction"));
}

fn jpeg_and_noise(img: &Image, seed: u64) -> Image {
    let jpg = Image::decode(&img.encode(ImageFormat::Jpeg(80)).unwrap()).unwrap();
    let n = noise(img.width, img.height, seed);
    let rgb = jpg
        .rgb
        .iter()
        .zip(&n.rgb)
        .map(|(&v, &r)| (v as i32 + (r as i32 - 128) / 16).clamp(0, 255) as u8)
        .collect();
    Image { rgb, ..jpg }
}

#[test]
fn fingerprints_survive_jpeg_noise_and_resizing_but_separate_images() {
    let prompts = [
        "a misty lake under snowy mountains at sunset",
        "neon city at night",
        "abstract red and blue circles",
        "a forest of pine trees",
        "a sunny beach with the sea",
        "a village with houses and hills",
    ];
    let imgs: Vec<Image> = prompts
        .iter()
        .enumerate()
        .map(|(i, p)| image(&run(1.0, &t2i(p, i as u64))))
        .collect();
    for (i, img) in imgs.iter().enumerate() {
        let fp = image_fingerprint(img);
        let same = image_fingerprint(&jpeg_and_noise(img, i as u64)).similarity(&fp);
        assert!(same > 0.9, "{}: re-encoded similarity {same}", prompts[i]);
        let resized = image_fingerprint(&img.resized(img.width - 10, img.height - 8).unwrap())
            .similarity(&fp);
        assert!(
            resized > 0.9,
            "{}: resized similarity {resized}",
            prompts[i]
        );
        for (j, other) in imgs.iter().enumerate().skip(i + 1) {
            let d = image_fingerprint(other).similarity(&fp);
            assert!(d < 0.7, "{} vs {}: {d}", prompts[i], prompts[j]);
        }
        let reseeded = image(&run(1.0, &t2i(prompts[i], 100 + i as u64)));
        let d = image_fingerprint(&reseeded).similarity(&fp);
        assert!(d < 0.7, "{} with another seed: {d}", prompts[i]);
    }
}
