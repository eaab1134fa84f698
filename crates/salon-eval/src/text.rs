//! text (being written).
