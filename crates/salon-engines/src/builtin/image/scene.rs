//! Reading a prompt into a [`Scene`]: palette from colour and mood words, elements from nouns,
//! a rendering [`Style`] from style words. Unknown words still steer the palette via a hash.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// How the scene is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Plain digital painting.
    Plain,
    /// Soft, bleeding colours on paper.
    Watercolor,
    /// Brush-stroke texture, slightly posterised.
    Oil,
    /// Blocky pixels, few colours.
    Pixel,
    /// Grey pencil lines on paper.
    Sketch,
    /// Dark background, saturated glowing colours.
    Neon,
    /// Flat poster colours.
    Flat,
    /// Fine texture and vignette.
    Photo,
}

/// Everything the renderer needs, derived from the prompt and the seed.
#[derive(Clone, Debug)]
pub struct Scene {
    /// Sky colour at the top.
    pub sky_top: [f32; 3],
    /// Sky colour at the horizon.
    pub sky_horizon: [f32; 3],
    /// Two ground colours mixed by texture.
    pub ground: [[f32; 3]; 2],
    /// Water colour if the scene has water.
    pub water: Option<[f32; 3]>,
    /// Horizon height as a fraction of the image height.
    pub horizon: f32,
    /// Sun or moon: centre (fractions), radius (fraction of the width), colour.
    pub sun: Option<([f32; 2], f32, [f32; 3])>,
    /// Cloud cover in [0, 1].
    pub clouds: f32,
    /// Mountains: colour and peak height as a fraction of the sky.
    pub mountains: Option<([f32; 3], f32)>,
    /// Number of trees and their colour.
    pub trees: (u32, [f32; 3]),
    /// Number of buildings and their colour.
    pub buildings: (u32, [f32; 3]),
    /// Number of abstract shapes.
    pub shapes: u32,
    /// Accent colours for shapes, windows and tints.
    pub accents: Vec<[f32; 3]>,
    /// Night sky with stars.
    pub night: bool,
    /// Rendering style.
    pub style: Style,
}

const COLOURS: &[(&str, [f32; 3])] = &[
    ("red", [0.85, 0.15, 0.12]),
    ("crimson", [0.7, 0.05, 0.15]),
    ("orange", [0.95, 0.55, 0.12]),
    ("yellow", [0.95, 0.85, 0.2]),
    ("gold", [0.9, 0.72, 0.25]),
    ("golden", [0.9, 0.72, 0.25]),
    ("green", [0.2, 0.65, 0.25]),
    ("emerald", [0.1, 0.6, 0.4]),
    ("teal", [0.1, 0.55, 0.55]),
    ("cyan", [0.2, 0.8, 0.85]),
    ("blue", [0.15, 0.35, 0.85]),
    ("navy", [0.08, 0.12, 0.4]),
    ("purple", [0.5, 0.2, 0.65]),
    ("violet", [0.6, 0.35, 0.85]),
    ("pink", [0.95, 0.5, 0.7]),
    ("magenta", [0.85, 0.15, 0.7]),
    ("brown", [0.45, 0.3, 0.18]),
    ("white", [0.95, 0.95, 0.95]),
    ("silver", [0.75, 0.77, 0.8]),
    ("grey", [0.5, 0.5, 0.5]),
    ("gray", [0.5, 0.5, 0.5]),
    ("black", [0.05, 0.05, 0.06]),
];

fn words(prompt: &str) -> Vec<String> {
    prompt
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

fn has(words: &[String], set: &[&str]) -> bool {
    words.iter().any(|w| set.contains(&w.as_str()))
}

/// A stable 64-bit FNV-1a hash of the prompt's words, lowercased and joined by spaces.
pub fn prompt_hash(prompt: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in words(prompt).join(" ").bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn jitter(rng: &mut ChaCha8Rng, c: [f32; 3], amount: f32) -> [f32; 3] {
    c.map(|v| (v + (rng.gen::<f32>() - 0.5) * amount).clamp(0.0, 1.0))
}

fn hsv(h: f32, s: f32, v: f32) -> [f32; 3] {
    let h6 = (h.rem_euclid(1.0)) * 6.0;
    let i = h6.floor();
    let f = h6 - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    match i as u32 % 6 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

impl Scene {
    /// Reads `prompt`; `rng` (seeded from the request) places and varies everything.
    pub fn from_prompt(prompt: &str, rng: &mut ChaCha8Rng) -> Scene {
        let w = words(prompt);
        let mut accents: Vec<[f32; 3]> = w
            .iter()
            .filter_map(|x| {
                COLOURS
                    .iter()
                    .find(|(n, _)| *n == x.as_str())
                    .map(|(_, c)| *c)
            })
            .collect();
        // Words the painter does not know still choose hues, so every prompt looks different.
        let hue = (prompt_hash(prompt) % 1000) as f32 / 1000.0;
        if accents.is_empty() {
            accents.push(hsv(hue + rng.gen::<f32>() * 0.1, 0.65, 0.85));
        }
        accents.push(hsv(hue + 0.45 + rng.gen::<f32>() * 0.1, 0.55, 0.75));
        let accents: Vec<[f32; 3]> = accents.into_iter().map(|c| jitter(rng, c, 0.06)).collect();

        let night = has(
            &w,
            &[
                "night", "midnight", "stars", "starry", "moon", "moonlit", "galaxy",
            ],
        );
        let sunset = has(
            &w,
            &["sunset", "sunrise", "dusk", "dawn", "evening", "twilight"],
        );
        let foggy = has(
            &w,
            &[
                "fog", "foggy", "mist", "misty", "haze", "hazy", "rain", "rainy",
            ],
        );
        let dark = has(
            &w,
            &[
                "dark", "gloomy", "moody", "stormy", "storm", "shadow", "gothic",
            ],
        );
        let bright = has(
            &w,
            &["bright", "sunny", "cheerful", "vivid", "summer", "happy"],
        );
        let warm = has(&w, &["warm", "autumn", "fall", "desert", "fire", "cozy"]);
        let cold = has(
            &w,
            &[
                "cold", "winter", "snow", "snowy", "ice", "icy", "frozen", "arctic",
            ],
        );

        let (mut sky_top, mut sky_horizon) = ([0.25, 0.45, 0.85], [0.7, 0.82, 0.95]);
        if sunset {
            (sky_top, sky_horizon) = ([0.35, 0.2, 0.5], [0.98, 0.55, 0.3]);
        }
        if night {
            (sky_top, sky_horizon) = ([0.02, 0.03, 0.12], [0.12, 0.15, 0.32]);
        }
        let tint = accents[0];
        sky_top = mix3(sky_top, tint, 0.2);
        sky_horizon = mix3(sky_horizon, tint, 0.15);
        let mut ground = [[0.3, 0.55, 0.2], [0.45, 0.4, 0.2]];
        if has(&w, &["desert", "sand", "dune", "dunes", "beach"]) {
            ground = [[0.85, 0.72, 0.45], [0.75, 0.6, 0.35]];
        }
        if cold {
            ground = [[0.9, 0.92, 0.96], [0.75, 0.8, 0.88]];
        }
        if has(&w, &["autumn", "fall"]) {
            ground = [[0.7, 0.4, 0.12], [0.55, 0.25, 0.1]];
        }
        ground = ground.map(|g| jitter(rng, mix3(g, accents[accents.len() - 1], 0.15), 0.08));

        let water = has(
            &w,
            &[
                "sea", "ocean", "lake", "river", "water", "beach", "harbor", "harbour", "waves",
                "bay", "pond", "coast",
            ],
        )
        .then(|| jitter(rng, mix3([0.1, 0.3, 0.55], sky_top, 0.3), 0.08));
        let has_mountains = has(
            &w,
            &[
                "mountain",
                "mountains",
                "hill",
                "hills",
                "peak",
                "peaks",
                "valley",
                "alps",
                "cliff",
                "cliffs",
                "volcano",
            ],
        );
        let mountains = has_mountains.then(|| {
            let base = if cold {
                [0.7, 0.75, 0.85]
            } else {
                [0.35, 0.38, 0.45]
            };
            (
                jitter(rng, mix3(base, accents[0], 0.1), 0.1),
                0.35 + rng.gen::<f32>() * 0.4,
            )
        });
        let sun_words = has(
            &w,
            &[
                "sun", "sunny", "sunset", "sunrise", "dawn", "moon", "moonlit",
            ],
        );
        let horizon = 0.45 + rng.gen::<f32>() * 0.25;
        let sun = sun_words.then(|| {
            let colour = if night {
                [0.92, 0.92, 0.85]
            } else if sunset {
                [1.0, 0.6, 0.25]
            } else {
                [1.0, 0.95, 0.7]
            };
            let cy = if sunset {
                horizon * (0.6 + rng.gen::<f32>() * 0.3)
            } else {
                horizon * (0.15 + rng.gen::<f32>() * 0.4)
            };
            (
                [0.15 + rng.gen::<f32>() * 0.7, cy],
                0.04 + rng.gen::<f32>() * 0.05,
                colour,
            )
        });
        let mut clouds = rng.gen::<f32>() * 0.5;
        if has(
            &w,
            &["cloud", "clouds", "cloudy", "overcast", "storm", "stormy"],
        ) {
            clouds = 0.6 + rng.gen::<f32>() * 0.4;
        }
        let tree_count = if has(&w, &["forest", "woods", "jungle"]) {
            14 + rng.gen_range(0..10)
        } else if has(
            &w,
            &[
                "tree", "trees", "garden", "park", "orchard", "pine", "pines", "oak",
            ],
        ) {
            3 + rng.gen_range(0..6)
        } else {
            0
        };
        let tree_colour = if has(&w, &["autumn", "fall"]) {
            [0.8, 0.4, 0.1]
        } else if cold {
            [0.2, 0.35, 0.3]
        } else {
            [0.12, 0.4, 0.15]
        };
        let building_count = if has(
            &w,
            &["city", "skyline", "metropolis", "downtown", "cyberpunk"],
        ) {
            10 + rng.gen_range(0..10)
        } else if has(
            &w,
            &[
                "building",
                "buildings",
                "town",
                "village",
                "street",
                "tower",
                "house",
                "houses",
                "castle",
                "church",
            ],
        ) {
            2 + rng.gen_range(0..5)
        } else {
            0
        };
        let building_colour = jitter(
            rng,
            if night {
                [0.12, 0.12, 0.18]
            } else {
                [0.55, 0.5, 0.48]
            },
            0.15,
        );
        let landscape = water.is_some()
            || mountains.is_some()
            || tree_count > 0
            || building_count > 0
            || sun.is_some()
            || has(
                &w,
                &[
                    "sky",
                    "landscape",
                    "field",
                    "fields",
                    "meadow",
                    "desert",
                    "snow",
                    "horizon",
                    "countryside",
                    "island",
                ],
            );
        let shapes = if has(
            &w,
            &[
                "abstract",
                "geometric",
                "pattern",
                "shapes",
                "circles",
                "squares",
                "cubes",
                "bubbles",
                "fractal",
            ],
        ) {
            8 + rng.gen_range(0..10)
        } else if !landscape {
            5 + rng.gen_range(0..8)
        } else {
            0
        };

        let style = if has(&w, &["watercolor", "watercolour", "pastel"]) {
            Style::Watercolor
        } else if has(
            &w,
            &[
                "oil",
                "painting",
                "impressionist",
                "impressionism",
                "canvas",
                "brush",
            ],
        ) {
            Style::Oil
        } else if has(&w, &["pixel", "pixelated", "retro", "8bit", "voxel"]) {
            Style::Pixel
        } else if has(
            &w,
            &["sketch", "pencil", "drawing", "charcoal", "ink", "lineart"],
        ) {
            Style::Sketch
        } else if has(&w, &["neon", "cyberpunk", "synthwave", "glowing", "glow"]) {
            Style::Neon
        } else if has(
            &w,
            &[
                "flat",
                "minimal",
                "minimalist",
                "vector",
                "poster",
                "cartoon",
            ],
        ) {
            Style::Flat
        } else if has(
            &w,
            &[
                "photo",
                "photograph",
                "realistic",
                "photorealistic",
                "cinematic",
                "hdr",
            ],
        ) {
            Style::Photo
        } else {
            Style::Plain
        };

        let mut scene = Scene {
            sky_top,
            sky_horizon,
            ground,
            water,
            horizon: if landscape { horizon } else { 1.0 },
            sun,
            clouds: if night { clouds * 0.4 } else { clouds },
            mountains,
            trees: (tree_count, tree_colour),
            buildings: (building_count, building_colour),
            shapes,
            accents,
            night,
            style,
        };
        let adjust = |c: [f32; 3]| -> [f32; 3] {
            let mut c = c;
            if dark {
                c = c.map(|v| v * 0.6);
            }
            if bright {
                c = c.map(|v| (v * 1.15 + 0.03).min(1.0));
            }
            if foggy {
                c = mix3(c, [0.78, 0.8, 0.82], 0.45);
            }
            if warm {
                c = [c[0] * 1.08, c[1], c[2] * 0.88];
            }
            if cold {
                c = [c[0] * 0.9, c[1], c[2] * 1.08];
            }
            c.map(|v| v.clamp(0.0, 1.0))
        };
        scene.sky_top = adjust(scene.sky_top);
        scene.sky_horizon = adjust(scene.sky_horizon);
        scene.ground = scene.ground.map(adjust);
        scene.water = scene.water.map(adjust);
        scene.mountains = scene.mountains.map(|(c, h)| (adjust(c), h));
        scene.accents = scene.accents.iter().map(|&c| adjust(c)).collect();
        scene
    }
}

fn mix3(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn prompt_words_choose_elements_and_style() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let s = Scene::from_prompt(
            "A misty lake under snowy mountains at sunset, watercolor",
            &mut rng,
        );
        assert!(s.water.is_some() && s.mountains.is_some() && s.sun.is_some());
        assert_eq!(s.style, Style::Watercolor);
        let a = Scene::from_prompt("abstract red circles", &mut rng);
        assert!(a.shapes > 0 && a.water.is_none());
        assert!(
            a.accents[0][0] > a.accents[0][2],
            "red accent {:?}",
            a.accents[0]
        );
        let c = Scene::from_prompt("neon city at night", &mut rng);
        assert!(c.night && c.buildings.0 >= 10 && c.style == Style::Neon);
    }
}
