//! A small, portable, seedable PRNG, so schedules never depend on a crate's
//! algorithm changes or on the platform.

/// SplitMix64 (Steele, Lea and Flood, 2014).
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The generator for one execution of a run: independent of how many
    /// threads explore, so execution `i` always gets the same stream.
    pub fn for_execution(seed: u64, execution: u64) -> SplitMix64 {
        let mut mixer = SplitMix64::new(seed ^ 0x5052_4546_4958_5243);
        let a = mixer.next_u64();
        SplitMix64::new(a ^ execution.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in `0..n` (n > 0), without modulo bias.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0)");
        if n.is_power_of_two() {
            // The same numbers as below, without the two divisions (tens of
            // cycles each, at every step of a random schedule over two
            // jobs): `u64::MAX % n` is `n - 1` and `v % n` is `v & (n - 1)`.
            let zone = u64::MAX - (n - 1);
            loop {
                let v = self.next_u64();
                if v < zone {
                    return v & (n - 1);
                }
            }
        }
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct_per_execution() {
        let a: Vec<u64> = (0..4)
            .map(|_| SplitMix64::for_execution(1, 7).next_u64())
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            SplitMix64::for_execution(1, 7).next_u64(),
            SplitMix64::for_execution(1, 8).next_u64()
        );
        let mut r = SplitMix64::new(3);
        assert!((0..1000).all(|_| r.below(3) < 3));
    }

    /// The general formula, division and all: `below`'s shortcut for powers
    /// of two must draw exactly these numbers (schedules replay by seed).
    fn below_by_division(r: &mut SplitMix64, n: u64) -> u64 {
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = r.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    #[test]
    fn below_draws_the_same_numbers_as_the_division_for_every_n() {
        let sizes = (1..=70u64).chain([1 << 20, 1 << 40, 1 << 63, u64::MAX, (1 << 63) + 1]);
        for n in sizes {
            let (mut fast, mut slow) = (SplitMix64::new(n), SplitMix64::new(n));
            for _ in 0..200 {
                assert_eq!(fast.below(n), below_by_division(&mut slow, n), "n = {n}");
            }
        }
    }
}
