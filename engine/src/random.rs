//! The injected random source: seeded, reproducible, and unbiased over any range.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// A uniform integer in `0..bound` from `next`, without modulo bias (Lemire's
/// multiply-and-reject). `bound` must be at least 1.
pub fn below(bound: u64, mut next: impl FnMut() -> u64) -> u64 {
    debug_assert!(bound >= 1);
    let mut product = u128::from(next()) * u128::from(bound);
    let mut low = product as u64;
    if low < bound {
        // Reject the few values that would make some results more likely.
        let threshold = bound.wrapping_neg() % bound;
        while low < threshold {
            product = u128::from(next()) * u128::from(bound);
            low = product as u64;
        }
    }
    (product >> 64) as u64
}

/// A seeded ChaCha8 stream: the same seed gives the same draws on every platform.
#[derive(Debug, Clone)]
pub struct SeededRandom(ChaCha8Rng);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        SeededRandom(ChaCha8Rng::seed_from_u64(seed))
    }

    /// A uniform integer in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        below(bound, || self.0.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let (mut a, mut b) = (SeededRandom::new(7), SeededRandom::new(7));
        let xs: Vec<u64> = (0..8).map(|_| a.below(1000)).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.below(1000)).collect();
        assert_eq!(xs, ys);
        assert_ne!(
            xs,
            (0..8)
                .map(|_| SeededRandom::new(8).below(1000))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn stays_in_range_and_covers_it() {
        let mut random = SeededRandom::new(1);
        let mut seen = [false; 3];
        for _ in 0..1000 {
            let x = random.below(3);
            assert!(x < 3);
            seen[x as usize] = true;
        }
        assert_eq!(seen, [true; 3]);
        assert_eq!(random.below(1), 0);
    }

    #[test]
    fn rejects_the_biased_values() {
        // With bound 3 the first value (low bits 0) is below the threshold and must be redrawn.
        let mut values = [0u64, u64::MAX].into_iter();
        assert_eq!(below(3, || values.next().unwrap()), 2);
    }
}
