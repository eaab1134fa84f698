//! Built-in image engine (being written).
