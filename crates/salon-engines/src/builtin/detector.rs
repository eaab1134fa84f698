//! Built-in detector engine (being written).
