//! A fast hasher for maps that are rebuilt for every execution.

use std::hash::{BuildHasherDefault, Hasher};

/// A word-at-a-time multiplicative hasher (the rustc `FxHash` recipe) for
/// the per-execution indexes of [`crate::pairs`] and
/// [`crate::dpor::HappensBefore`]: they are rebuilt for every execution, so
/// SipHash's (and byte-at-a-time FNV's) cost dominated. Never used for
/// identities or output.
#[derive(Debug, Clone, Copy, Default)]
pub struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail) ^ (rest.len() as u64) << 56);
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

/// Hash maps keyed with [`FastHasher`].
pub type Fast = BuildHasherDefault<FastHasher>;
