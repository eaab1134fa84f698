//! aggregate (being written).
