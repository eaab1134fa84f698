//! Built-in speech engine (being written).
