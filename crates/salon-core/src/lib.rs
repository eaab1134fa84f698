//! Salon's domain types: identifiers, tasks, media and the request/response pair of every task.
//!
//! This crate does no I/O and knows nothing about transport, chains or models; every other crate
//! speaks in these types.

pub mod ids;
pub mod intent;
pub mod media;
pub mod profile;
pub mod task;

pub use ids::{Hotkey, NetUid, Uid};
pub use intent::{Instrument, MusicIntent};
pub use media::{Audio, Image, MediaError};
pub use profile::Profile;
pub use task::{Request, Response, Task};
