//! Built-in text engine (being written).
