//! Built-in music engine (being written).
