//! A fast hasher for maps that are rebuilt for every execution.

use std::hash::{BuildHasherDefault, Hasher};

/// A word-at-a-time multiplicative hasher (the rustc `FxHash` recipe) for
/// the per-execution indexes of the pair counts (`crate::pairs`) and
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
        let rest = chunks.remainder();
        self.add(tail_word(rest) ^ (rest.len() as u64) << 56);
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

/// The last `rest.len()` (< 8) bytes of a key as a little-endian word,
/// zero above them: read in at most two overlapping loads, where copying
/// them into a zeroed buffer called `memcpy` for every key hashed (names
/// and paths end in a partial word almost always).
fn tail_word(rest: &[u8]) -> u64 {
    let n = rest.len();
    if n >= 4 {
        let low = u64::from(u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")));
        let high = u64::from(u32::from_le_bytes(
            rest[n - 4..].try_into().expect("4 bytes"),
        ));
        low | high << ((n - 4) * 8)
    } else if n > 0 {
        let (first, middle, last) = (rest[0], rest[n / 2], rest[n - 1]);
        u64::from(first) | u64::from(middle) << (n / 2 * 8) | u64::from(last) << ((n - 1) * 8)
    } else {
        0
    }
}

/// Hash maps keyed with [`FastHasher`].
pub type Fast = BuildHasherDefault<FastHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The tail word as it was made before: copied into a zeroed buffer.
    fn copied_tail(rest: &[u8]) -> u64 {
        let mut tail = [0u8; 8];
        tail[..rest.len()].copy_from_slice(rest);
        u64::from_le_bytes(tail)
    }

    /// Every length a tail can have, with bytes that differ at every
    /// position: a byte left out, doubled or shifted changes the word.
    #[test]
    fn the_tail_word_is_the_zero_padded_little_endian_word() {
        let bytes: Vec<u8> = (1..=8u8).map(|b| b.wrapping_mul(37) | 0x80).collect();
        for n in 0..8 {
            assert_eq!(
                tail_word(&bytes[..n]),
                copied_tail(&bytes[..n]),
                "length {n}"
            );
            assert_eq!(
                tail_word(&bytes[8 - n..]),
                copied_tail(&bytes[8 - n..]),
                "length {n}"
            );
        }
    }
}
