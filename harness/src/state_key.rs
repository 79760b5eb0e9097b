//! 128-bit keys of execution states.
//!
//! A [`StateKey`] names the state of an execution at one step: the model
//! filesystem, and every job's history. Two executions that reach the same
//! key continue identically, so the rest of the execution is computed once
//! and reused (see [`crate::tail`]). Keys are built with [`StateHasher`], a
//! fixed-seed 128-bit hasher (never `RandomState`: a key must mean the same
//! thing in every thread and every run), and sets of parts are combined by
//! XOR, so an incremental key can add and remove a part in O(1).

use std::hash::{Hash, Hasher};
use std::ops::{BitXor, BitXorAssign};

use crate::op::{OpResult, Value};

/// A 128-bit key of a state, or of one part of a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StateKey(pub u128);

impl StateKey {
    /// The key of one hashable value.
    pub fn of<T: Hash + ?Sized>(value: &T) -> StateKey {
        let mut h = StateHasher::default();
        value.hash(&mut h);
        h.finish128()
    }
}

impl BitXor for StateKey {
    type Output = StateKey;

    fn bitxor(self, rhs: StateKey) -> StateKey {
        StateKey(self.0 ^ rhs.0)
    }
}

impl BitXorAssign for StateKey {
    fn bitxor_assign(&mut self, rhs: StateKey) {
        self.0 ^= rhs.0;
    }
}

const P1: u64 = 0x9e37_79b9_7f4a_7c15;
const P2: u64 = 0xc2b2_ae3d_27d4_eb4f;
const P3: u64 = 0x1656_67b1_9e37_79f9;

/// MurmurHash3's 64-bit finalizer: every input bit reaches every output bit.
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// A deterministic two-lane hasher producing a [`StateKey`].
///
/// Each 64-bit word goes into both lanes through different multipliers and
/// rotations; [`StateHasher::finish128`] finalizes and cross-mixes them.
#[derive(Debug, Clone, Copy)]
pub struct StateHasher {
    a: u64,
    b: u64,
    len: u64,
}

impl Default for StateHasher {
    fn default() -> Self {
        StateHasher {
            a: 0x243f_6a88_85a3_08d3,
            b: 0x1319_8a2e_0370_7344,
            len: 0,
        }
    }
}

impl StateHasher {
    fn word(&mut self, w: u64) {
        self.a = (self.a ^ w).wrapping_mul(P1).rotate_left(31);
        self.b = (self.b ^ w.rotate_left(23))
            .wrapping_mul(P2)
            .rotate_left(27);
        self.len = self.len.wrapping_add(1);
    }

    /// The 128-bit key of everything written so far.
    pub fn finish128(&self) -> StateKey {
        let a = fmix64(self.a ^ self.len.wrapping_mul(P3));
        let b = fmix64(self.b.wrapping_add(a));
        let a = fmix64(a ^ b.rotate_left(13));
        StateKey(((a as u128) << 64) | b as u128)
    }
}

impl Hasher for StateHasher {
    fn finish(&self) -> u64 {
        let k = self.finish128().0;
        (k as u64) ^ ((k >> 64) as u64)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.word(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        let mut tail = [0u8; 8];
        tail[..rest.len()].copy_from_slice(rest);
        // The length marks where the bytes end, so "ab"+"c" differs from "a"+"bc".
        self.word(u64::from_le_bytes(tail) ^ ((bytes.len() as u64) << 56));
    }

    fn write_u8(&mut self, i: u8) {
        self.word(i as u64 | 0x100);
    }

    fn write_u32(&mut self, i: u32) {
        self.word(i as u64 | 0x4_0000_0000);
    }

    fn write_u64(&mut self, i: u64) {
        self.word(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.word(i as u64);
    }
}

/// Feeds one op result to `h`: what a job learns from it, exactly (data
/// read blob by blob, see [`crate::content::Content::hash_chunks`]).
pub fn hash_result(h: &mut StateHasher, result: &OpResult) {
    match result {
        Err(errno) => (0u8, errno).hash(h),
        Ok(Value::Unit) => 1u8.hash(h),
        Ok(Value::Fd(fd)) => (2u8, fd).hash(h),
        Ok(Value::Meta(meta)) => (3u8, meta).hash(h),
        Ok(Value::Data(content)) => {
            4u8.hash(h);
            content.hash_chunks(h);
        }
        Ok(Value::Written(n)) => (5u8, n).hash(h),
        Ok(Value::Names(names)) => (6u8, names).hash(h),
    }
}

/// A [`Hasher`] for maps keyed by [`StateKey`]: keys are already uniform
/// hashes, so it takes their low bits.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ *b as u64;
        }
    }

    fn write_u128(&mut self, i: u128) {
        self.0 = i as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_deterministic_and_tell_values_apart() {
        assert_eq!(
            StateKey::of("Cython/__init__.py"),
            StateKey::of("Cython/__init__.py")
        );
        assert_ne!(
            StateKey::of("Cython/__init__.py"),
            StateKey::of("Cython/__init__.pyc")
        );
        assert_ne!(StateKey::of(&(1u64, 2u64)), StateKey::of(&(2u64, 1u64)));
        assert_ne!(StateKey::of(&("ab", "c")), StateKey::of(&("a", "bc")));
        assert_ne!(StateKey::of(&0u64), StateKey::default());
    }

    #[test]
    fn xor_adds_and_removes_parts_in_any_order() {
        let (x, y, z) = (StateKey::of(&1u8), StateKey::of(&2u8), StateKey::of(&3u8));
        let mut k = StateKey::default();
        k ^= x;
        k ^= y;
        k ^= z;
        assert_eq!(k, z ^ x ^ y);
        k ^= y;
        assert_eq!(k, x ^ z);
    }

    #[test]
    fn no_collisions_among_many_small_values() {
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..20_000u64 {
            assert!(seen.insert(StateKey::of(&i)));
            assert!(seen.insert(StateKey::of(&(i, 7u32))));
        }
    }
}
