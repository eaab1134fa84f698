//! Built-in voice_clone engine (being written).
