//! Built-in embedding engine (being written).
