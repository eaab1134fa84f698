//! LocalChain (being written).
