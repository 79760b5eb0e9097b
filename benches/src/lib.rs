//! Criterion benches for prefixrace live in `benches/`.
