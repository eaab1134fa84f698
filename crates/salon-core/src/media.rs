//! Media values: [`Audio`] (f32 samples) and [`Image`] (RGB8), with WAV, PNG and JPEG codecs.
//!
//! On the wire both travel as compact encoded bytes in base64 with their format and shape stated
//! in the payload (`{"format": "wav", "sample_rate": 32000, "channels": 1, "data": "..."}`), never
//! as lists of floats and never with an implied sample rate.

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::io::Cursor;

/// What went wrong encoding or decoding media.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The WAV bytes could not be read or written.
    #[error("invalid WAV audio: {0}")]
    Wav(#[from] hound::Error),
    /// The image bytes could not be read or written.
    #[error("invalid image: {0}")]
    Image(#[from] image::ImageError),
    /// The base64 text was malformed.
    #[error("invalid base64 media data: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The payload named a format this build cannot read.
    #[error("unsupported {kind} format {format:?}; expected one of {expected}")]
    Format {
        /// "audio" or "image".
        kind: &'static str,
        /// The format given.
        format: String,
        /// The formats accepted.
        expected: &'static str,
    },
    /// Shape fields disagree with the data.
    #[error("inconsistent media: {0}")]
    Shape(String),
}

/// Audio as interleaved f32 samples in [-1, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct Audio {
    /// Interleaved samples (frame-major: L R L R ... for stereo).
    pub samples: Vec<f32>,
    /// Frames per second.
    pub sample_rate: u32,
    /// Channels per frame (1 = mono).
    pub channels: u16,
}

impl Audio {
    /// Mono audio from samples.
    pub fn mono(samples: Vec<f32>, sample_rate: u32) -> Self {
        Self {
            samples,
            sample_rate,
            channels: 1,
        }
    }

    /// Silence of the given length.
    pub fn silence(seconds: f32, sample_rate: u32) -> Self {
        Self::mono(
            vec![0.0; (seconds * sample_rate as f32).round() as usize],
            sample_rate,
        )
    }

    /// Number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1) as usize
    }

    /// Length in seconds.
    pub fn duration_secs(&self) -> f32 {
        if self.sample_rate == 0 {
            return 0.0;
        }
        self.frames() as f32 / self.sample_rate as f32
    }

    /// A mono mix (channel average); mono audio is returned as is.
    pub fn to_mono(&self) -> Audio {
        Audio::mono(self.mono_samples().into_owned(), self.sample_rate)
    }

    /// The mono mix's samples (channel average), borrowed without a copy when already mono.
    pub fn mono_samples(&self) -> Cow<'_, [f32]> {
        let ch = self.channels.max(1) as usize;
        if ch == 1 {
            return Cow::Borrowed(&self.samples);
        }
        Cow::Owned(
            self.samples
                .chunks_exact(ch)
                .map(|f| f.iter().sum::<f32>() / ch as f32)
                .collect(),
        )
    }

    /// Resampled to `rate` by linear interpolation (adequate for built-in metrics, not for models).
    pub fn resample_linear(&self, rate: u32) -> Audio {
        let mono = self.mono_samples();
        if rate == self.sample_rate || mono.is_empty() {
            return Audio::mono(mono.into_owned(), rate);
        }
        let ratio = self.sample_rate as f64 / rate as f64;
        let out_len = ((mono.len() as f64) / ratio).floor() as usize;
        let last = mono.len() - 1;
        let samples = (0..out_len)
            .map(|i| {
                let pos = i as f64 * ratio;
                let i0 = (pos.floor() as usize).min(last);
                let i1 = (i0 + 1).min(last);
                let t = (pos - i0 as f64) as f32;
                mono[i0] * (1.0 - t) + mono[i1] * t
            })
            .collect();
        Audio::mono(samples, rate)
    }

    /// Root-mean-square level.
    pub fn rms(&self) -> f32 {
        if self.samples.is_empty() {
            return 0.0;
        }
        (self.samples.iter().map(|x| x * x).sum::<f32>() / self.samples.len() as f32).sqrt()
    }

    /// Encodes as a 32-bit float WAV file.
    pub fn to_wav_bytes(&self) -> Result<Vec<u8>, MediaError> {
        let spec = hound::WavSpec {
            channels: self.channels.max(1),
            sample_rate: self.sample_rate,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut buf = Cursor::new(Vec::with_capacity(self.samples.len() * 4 + 64));
        {
            let mut w = hound::WavWriter::new(&mut buf, spec)?;
            for &s in &self.samples {
                w.write_sample(s)?;
            }
            w.finalize()?;
        }
        Ok(buf.into_inner())
    }

    /// Encodes as a 16-bit PCM WAV file (half the size, for storage and listening).
    pub fn to_wav16_bytes(&self) -> Result<Vec<u8>, MediaError> {
        let spec = hound::WavSpec {
            channels: self.channels.max(1),
            sample_rate: self.sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut buf = Cursor::new(Vec::with_capacity(self.samples.len() * 2 + 64));
        {
            let mut w = hound::WavWriter::new(&mut buf, spec)?;
            for &s in &self.samples {
                w.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16)?;
            }
            w.finalize()?;
        }
        Ok(buf.into_inner())
    }

    /// Decodes any PCM or float WAV file.
    pub fn from_wav_bytes(bytes: &[u8]) -> Result<Audio, MediaError> {
        let mut r = hound::WavReader::new(Cursor::new(bytes))?;
        let spec = r.spec();
        let samples: Vec<f32> = match spec.sample_format {
            hound::SampleFormat::Float => r.samples::<f32>().collect::<Result<_, _>>()?,
            hound::SampleFormat::Int => {
                let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
                r.samples::<i32>()
                    .map(|s| s.map(|v| v as f32 * scale))
                    .collect::<Result<_, _>>()?
            }
        };
        Ok(Audio {
            samples,
            sample_rate: spec.sample_rate,
            channels: spec.channels,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct EncodedAudio {
    format: String,
    sample_rate: u32,
    channels: u16,
    data: String,
}

impl Serialize for Audio {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes = self.to_wav_bytes().map_err(serde::ser::Error::custom)?;
        EncodedAudio {
            format: "wav".into(),
            sample_rate: self.sample_rate,
            channels: self.channels,
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Audio {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let e = EncodedAudio::deserialize(d)?;
        decode_audio(&e).map_err(serde::de::Error::custom)
    }
}

fn decode_audio(e: &EncodedAudio) -> Result<Audio, MediaError> {
    if e.format != "wav" {
        return Err(MediaError::Format {
            kind: "audio",
            format: e.format.clone(),
            expected: "wav",
        });
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(&e.data)?;
    let audio = Audio::from_wav_bytes(&bytes)?;
    if audio.sample_rate != e.sample_rate || audio.channels != e.channels {
        return Err(MediaError::Shape(format!(
            "payload says {} Hz x {} ch but the WAV holds {} Hz x {} ch",
            e.sample_rate, e.channels, audio.sample_rate, audio.channels
        )));
    }
    Ok(audio)
}

/// An RGB image, 8 bits per channel, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes, RGB, row-major.
    pub rgb: Vec<u8>,
}

/// Image file formats Salon reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// Lossless PNG.
    Png,
    /// JPEG at the given quality (1-100).
    Jpeg(u8),
}

impl Image {
    /// An image of one colour.
    pub fn filled(width: u32, height: u32, rgb: [u8; 3]) -> Self {
        let mut data = Vec::with_capacity((width * height * 3) as usize);
        for _ in 0..width * height {
            data.extend_from_slice(&rgb);
        }
        Self {
            width,
            height,
            rgb: data,
        }
    }

    /// The pixel at (x, y).
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * self.width + x) * 3) as usize;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    fn to_buffer(&self) -> Result<image::RgbImage, MediaError> {
        image::RgbImage::from_raw(self.width, self.height, self.rgb.clone()).ok_or_else(|| {
            MediaError::Shape(format!(
                "{} bytes is not {}x{} RGB",
                self.rgb.len(),
                self.width,
                self.height
            ))
        })
    }

    /// Encodes as PNG or JPEG.
    pub fn encode(&self, format: ImageFormat) -> Result<Vec<u8>, MediaError> {
        let buf = self.to_buffer()?;
        let mut out = Cursor::new(Vec::new());
        match format {
            ImageFormat::Png => buf.write_to(&mut out, image::ImageFormat::Png)?,
            ImageFormat::Jpeg(q) => {
                let enc =
                    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q.clamp(1, 100));
                buf.write_with_encoder(enc)?;
            }
        }
        Ok(out.into_inner())
    }

    /// Encodes as PNG.
    pub fn to_png_bytes(&self) -> Result<Vec<u8>, MediaError> {
        self.encode(ImageFormat::Png)
    }

    /// Decodes PNG or JPEG (detected from the bytes) into RGB8.
    pub fn decode(bytes: &[u8]) -> Result<Image, MediaError> {
        let img = image::load_from_memory(bytes)?.to_rgb8();
        Ok(Image {
            width: img.width(),
            height: img.height(),
            rgb: img.into_raw(),
        })
    }

    /// Resized with a triangle filter.
    pub fn resized(&self, width: u32, height: u32) -> Result<Image, MediaError> {
        let buf = self.to_buffer()?;
        let out =
            image::imageops::resize(&buf, width, height, image::imageops::FilterType::Triangle);
        Ok(Image {
            width,
            height,
            rgb: out.into_raw(),
        })
    }

    /// Base64 of the PNG encoding, as the seeds' synapses carry images.
    pub fn to_base64_png(&self) -> Result<String, MediaError> {
        Ok(base64::engine::general_purpose::STANDARD.encode(self.to_png_bytes()?))
    }

    /// Decodes base64 PNG/JPEG text (a `data:` URL prefix is accepted).
    pub fn from_base64(text: &str) -> Result<Image, MediaError> {
        let text = text.split_once(";base64,").map(|(_, b)| b).unwrap_or(text);
        let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim())?;
        Image::decode(&bytes)
    }
}

#[derive(Serialize, Deserialize)]
struct EncodedImage {
    format: String,
    width: u32,
    height: u32,
    data: String,
}

impl Serialize for Image {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes = self.to_png_bytes().map_err(serde::ser::Error::custom)?;
        EncodedImage {
            format: "png".into(),
            width: self.width,
            height: self.height,
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Image {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let e = EncodedImage::deserialize(d)?;
        if e.format != "png" && e.format != "jpeg" {
            return Err(serde::de::Error::custom(MediaError::Format {
                kind: "image",
                format: e.format,
                expected: "png, jpeg",
            }));
        }
        let img = Image::from_base64(&e.data).map_err(serde::de::Error::custom)?;
        if img.width != e.width || img.height != e.height {
            return Err(serde::de::Error::custom(MediaError::Shape(format!(
                "payload says {}x{} but the image is {}x{}",
                e.width, e.height, img.width, img.height
            ))));
        }
        Ok(img)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_round_trip_keeps_samples_and_rate() {
        let a = Audio::mono(
            (0..1000).map(|i| (i as f32 * 0.01).sin() * 0.5).collect(),
            32000,
        );
        let b = Audio::from_wav_bytes(&a.to_wav_bytes().unwrap()).unwrap();
        assert_eq!(a, b);
        let c = Audio::from_wav_bytes(&a.to_wav16_bytes().unwrap()).unwrap();
        assert_eq!(c.sample_rate, 32000);
        assert!(a
            .samples
            .iter()
            .zip(&c.samples)
            .all(|(x, y)| (x - y).abs() < 1e-4));
    }

    #[test]
    fn mono_mix_averages_channels_and_borrows_mono() {
        let stereo = Audio {
            samples: vec![1.0, 0.0, 0.5, -0.5, -1.0, 0.0],
            sample_rate: 8000,
            channels: 2,
        };
        assert_eq!(&*stereo.mono_samples(), &[0.5, 0.0, -0.5]);
        assert_eq!(stereo.to_mono(), Audio::mono(vec![0.5, 0.0, -0.5], 8000));
        let mono = Audio::mono(vec![0.25, -0.25], 8000);
        assert!(matches!(mono.mono_samples(), Cow::Borrowed(s) if s == [0.25, -0.25]));
    }

    #[test]
    fn audio_json_states_rate_and_rejects_mismatch() {
        let a = Audio::mono(vec![0.1, -0.2, 0.3], 16000);
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["sample_rate"], 16000);
        assert_eq!(json["format"], "wav");
        let back: Audio = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, a);
        let mut bad = json;
        bad["sample_rate"] = 44100.into();
        let err = serde_json::from_value::<Audio>(bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("16000"), "{err}");
    }

    #[test]
    fn png_round_trip_is_lossless_and_jpeg_is_close() {
        let mut img = Image::filled(8, 4, [10, 200, 30]);
        img.rgb[0] = 255;
        let png = Image::decode(&img.to_png_bytes().unwrap()).unwrap();
        assert_eq!(png, img);
        let jpg = Image::decode(&img.encode(ImageFormat::Jpeg(95)).unwrap()).unwrap();
        assert_eq!((jpg.width, jpg.height), (8, 4));
        let json = serde_json::to_string(&img).unwrap();
        assert_eq!(serde_json::from_str::<Image>(&json).unwrap(), img);
    }

    #[test]
    fn resample_halves_length() {
        let a = Audio::mono(vec![0.5; 32000], 32000);
        let b = a.resample_linear(16000);
        assert_eq!(b.samples.len(), 16000);
        assert!((b.duration_secs() - 1.0).abs() < 1e-6);
    }
}
