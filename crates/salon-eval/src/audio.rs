//! audio (being written).
