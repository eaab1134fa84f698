//! Tasks the network offers, and the request and response of each.
//!
//! A [`Request`] is what a validator (or an app) asks a miner; a [`Response`] is what comes back.
//! Both serialize with a `"task"` / `"kind"` tag so they can travel inside Salon's native synapse.

use crate::media::{Audio, Image};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Every kind of work a Salon miner can be asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Text prompt to music (BittAudio, AudioSubnet).
    TextToMusic,
    /// Text to speech (AudioSubnet).
    TextToSpeech,
    /// Text spoken in a reference voice (AudioSubnet).
    VoiceClone,
    /// Text prompt to image (Vision, NicheImage).
    TextToImage,
    /// Image + prompt to image (Vision, NicheImage).
    ImageToImage,
    /// Masked region repainted from a prompt (Vision).
    Inpaint,
    /// Image enlarged (Vision).
    Upscale,
    /// Image to embedding vectors (Vision's CLIP embeddings).
    ImageEmbedding,
    /// Real-vs-generated image detection (BitMind).
    ImageDetection,
    /// Text completion (Vision chat, NicheImage text models).
    TextGeneration,
}

impl Task {
    /// All tasks, in a fixed order.
    pub const ALL: [Task; 10] = [
        Task::TextToMusic,
        Task::TextToSpeech,
        Task::VoiceClone,
        Task::TextToImage,
        Task::ImageToImage,
        Task::Inpaint,
        Task::Upscale,
        Task::ImageEmbedding,
        Task::ImageDetection,
        Task::TextGeneration,
    ];

    /// The snake_case name used in profiles, flags and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Task::TextToMusic => "text_to_music",
            Task::TextToSpeech => "text_to_speech",
            Task::VoiceClone => "voice_clone",
            Task::TextToImage => "text_to_image",
            Task::ImageToImage => "image_to_image",
            Task::Inpaint => "inpaint",
            Task::Upscale => "upscale",
            Task::ImageEmbedding => "image_embedding",
            Task::ImageDetection => "image_detection",
            Task::TextGeneration => "text_generation",
        }
    }

    /// The engine family that serves this task (`music`, `speech`, `image`, ...), as used in
    /// `--engine FAMILY=SPEC`.
    pub fn family(self) -> &'static str {
        match self {
            Task::TextToMusic => "music",
            Task::TextToSpeech => "speech",
            Task::VoiceClone => "voice_clone",
            Task::TextToImage | Task::ImageToImage | Task::Inpaint | Task::Upscale => "image",
            Task::ImageEmbedding => "embedding",
            Task::ImageDetection => "detector",
            Task::TextGeneration => "text",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task name that is not one of [`Task::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown task {0:?}; known tasks: text_to_music, text_to_speech, voice_clone, text_to_image, image_to_image, inpaint, upscale, image_embedding, image_detection, text_generation")]
pub struct UnknownTask(pub String);

impl FromStr for Task {
    type Err = UnknownTask;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Task::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownTask(s.to_string()))
    }
}

/// Text to music.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MusicRequest {
    /// What the music should be.
    pub prompt: String,
    /// Requested length in seconds.
    pub duration_secs: f32,
    /// Sampling seed.
    pub seed: u64,
}

/// Text to speech.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpeechRequest {
    /// The words to speak.
    pub text: String,
    /// Sampling seed.
    pub seed: u64,
}

/// Text spoken in the voice of a reference clip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoiceCloneRequest {
    /// The words to speak.
    pub text: String,
    /// A clip of the voice to imitate.
    pub reference: Audio,
    /// Sampling seed.
    pub seed: u64,
}

/// Text to image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageRequest {
    /// What the image should show.
    pub prompt: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Denoising steps (or the engine's equivalent effort knob).
    pub steps: u32,
    /// Classifier-free guidance scale.
    pub cfg_scale: f32,
    /// Seed; the same request must give the same image so validators can reproduce it.
    pub seed: u64,
}

/// Image and prompt to image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageToImageRequest {
    /// What the result should show.
    pub prompt: String,
    /// The starting image.
    pub init_image: Image,
    /// How far to move from the starting image (0 = unchanged, 1 = ignore it).
    pub strength: f32,
    /// Denoising steps.
    pub steps: u32,
    /// Classifier-free guidance scale.
    pub cfg_scale: f32,
    /// Seed.
    pub seed: u64,
}

/// Repaint the masked region of an image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InpaintRequest {
    /// What the repainted region should show.
    pub prompt: String,
    /// The image to edit.
    pub init_image: Image,
    /// White where the image is to be repainted, black where kept; same size as `init_image`.
    pub mask_image: Image,
    /// Denoising steps.
    pub steps: u32,
    /// Classifier-free guidance scale.
    pub cfg_scale: f32,
    /// Seed.
    pub seed: u64,
}

/// Enlarge an image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpscaleRequest {
    /// The image to enlarge.
    pub image: Image,
    /// Integer scale factor (2 or 4).
    pub scale: u32,
}

/// Embed images.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingRequest {
    /// The images to embed.
    pub images: Vec<Image>,
}

/// Is this image AI-generated?
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetectionRequest {
    /// The image to judge.
    pub image: Image,
}

/// Text completion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextRequest {
    /// The text to continue.
    pub prompt: String,
    /// At most this many words (tokens) of output.
    pub max_tokens: u32,
    /// Sampling seed.
    pub seed: u64,
}

/// A request for one task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Request {
    /// See [`MusicRequest`].
    TextToMusic(MusicRequest),
    /// See [`SpeechRequest`].
    TextToSpeech(SpeechRequest),
    /// See [`VoiceCloneRequest`].
    VoiceClone(VoiceCloneRequest),
    /// See [`ImageRequest`].
    TextToImage(ImageRequest),
    /// See [`ImageToImageRequest`].
    ImageToImage(ImageToImageRequest),
    /// See [`InpaintRequest`].
    Inpaint(InpaintRequest),
    /// See [`UpscaleRequest`].
    Upscale(UpscaleRequest),
    /// See [`EmbeddingRequest`].
    ImageEmbedding(EmbeddingRequest),
    /// See [`DetectionRequest`].
    ImageDetection(DetectionRequest),
    /// See [`TextRequest`].
    TextGeneration(TextRequest),
}

impl Request {
    /// The task this request belongs to.
    pub fn task(&self) -> Task {
        match self {
            Request::TextToMusic(_) => Task::TextToMusic,
            Request::TextToSpeech(_) => Task::TextToSpeech,
            Request::VoiceClone(_) => Task::VoiceClone,
            Request::TextToImage(_) => Task::TextToImage,
            Request::ImageToImage(_) => Task::ImageToImage,
            Request::Inpaint(_) => Task::Inpaint,
            Request::Upscale(_) => Task::Upscale,
            Request::ImageEmbedding(_) => Task::ImageEmbedding,
            Request::ImageDetection(_) => Task::ImageDetection,
            Request::TextGeneration(_) => Task::TextGeneration,
        }
    }
}

/// What a miner returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Response {
    /// Music, speech or cloned speech.
    Audio {
        /// The generated audio.
        audio: Audio,
    },
    /// A generated or edited image.
    Image {
        /// The image.
        image: Image,
    },
    /// One embedding per input image.
    Embeddings {
        /// Row per image.
        embeddings: Vec<Vec<f32>>,
    },
    /// A detection verdict.
    Detection {
        /// Probability in [0, 1] that the image is AI-generated (> 0.5 means "generated").
        prediction: f32,
    },
    /// Generated text.
    Text {
        /// The text.
        text: String,
    },
}

impl Response {
    /// Whether this kind of response answers `task`.
    pub fn answers(&self, task: Task) -> bool {
        matches!(
            (self, task),
            (
                Response::Audio { .. },
                Task::TextToMusic | Task::TextToSpeech | Task::VoiceClone
            ) | (
                Response::Image { .. },
                Task::TextToImage | Task::ImageToImage | Task::Inpaint | Task::Upscale
            ) | (Response::Embeddings { .. }, Task::ImageEmbedding)
                | (Response::Detection { .. }, Task::ImageDetection)
                | (Response::Text { .. }, Task::TextGeneration)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_names_round_trip() {
        for t in Task::ALL {
            assert_eq!(t.as_str().parse::<Task>().unwrap(), t);
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert!("music".parse::<Task>().is_err());
    }

    #[test]
    fn request_json_is_tagged_by_task() {
        let r = Request::TextToMusic(MusicRequest {
            prompt: "calm piano".into(),
            duration_secs: 5.0,
            seed: 7,
        });
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["task"], "text_to_music");
        assert_eq!(serde_json::from_value::<Request>(v).unwrap(), r);
    }

    #[test]
    fn responses_answer_only_their_tasks() {
        let r = Response::Detection { prediction: 0.9 };
        assert!(r.answers(Task::ImageDetection));
        assert!(!r.answers(Task::TextToImage));
    }
}
