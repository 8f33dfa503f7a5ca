//! Exact O(1) weighted draws: Vose's alias method over integer weights.
//!
//! Rates are exact decimals; scaled to integers they become weights whose
//! ratios are the rates exactly, so a 0.0001 award keeps its share. A draw
//! takes two uniform integers and one comparison, with no division.

use serde::Serialize;

/// An alias table over `entries` (indices into the pool).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrawTable {
    /// Pool entry indices, one per column.
    pub entries: Vec<u32>,
    /// Integer weights, one per column, in the same order; their sum is `total`.
    pub weights: Vec<u64>,
    pub total: u64,
    #[serde(skip)]
    cut: Vec<u64>,
    #[serde(skip)]
    alias: Vec<u32>,
}

/// Why a table cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TableError {
    #[error("a draw table needs at least one entry")]
    Empty,
    #[error("a draw table weight must be positive")]
    ZeroWeight,
    #[error("the weights sum past the largest representable total")]
    Overflow,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl DrawTable {
    /// Builds the table from `(entry, weight)` pairs.
    pub fn new(pairs: &[(u32, u64)]) -> Result<Self, TableError> {
        if pairs.is_empty() {
            return Err(TableError::Empty);
        }
        if pairs.iter().any(|(_, w)| *w == 0) {
            return Err(TableError::ZeroWeight);
        }
        // Dividing by the common factor keeps the random ranges small; ratios are unchanged.
        let common = pairs.iter().fold(0, |g, (_, w)| gcd(g, *w));
        let weights: Vec<u64> = pairs.iter().map(|(_, w)| w / common).collect();
        let total = weights
            .iter()
            .try_fold(0u64, |sum, w| sum.checked_add(*w))
            .ok_or(TableError::Overflow)?;
        let n = weights.len();
        let total_wide = u128::from(total);
        // Each column holds probability 1/n; scaled by n·total, column i needs w_i·n.
        let mut scaled: Vec<u128> = weights.iter().map(|w| u128::from(*w) * n as u128).collect();
        let mut cut = vec![total; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < total_wide);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            cut[s] = scaled[s] as u64;
            alias[s] = l as u32;
            scaled[l] -= total_wide - scaled[s];
            if scaled[l] < total_wide {
                large.pop();
                small.push(l);
            }
        }
        // Whatever remains is exactly full; integer arithmetic leaves no rounding residue.
        for i in small.into_iter().chain(large) {
            cut[i] = total;
            alias[i] = i as u32;
        }
        Ok(DrawTable {
            entries: pairs.iter().map(|(e, _)| *e).collect(),
            weights,
            total,
            cut,
            alias,
        })
    }

    /// Draws one entry from two uniform integers: `column` in `0..len()` and
    /// `point` in `0..total`.
    pub fn pick(&self, column: u64, point: u64) -> u32 {
        let column = column as usize;
        let chosen = if point < self.cut[column] {
            column
        } else {
            self.alias[column] as usize
        };
        self.entries[chosen]
    }

    /// Draws with a random source: `below(n)` returns a uniform integer in `0..n`.
    pub fn draw(&self, mut below: impl FnMut(u64) -> u64) -> u32 {
        let column = below(self.entries.len() as u64);
        let point = below(self.total);
        self.pick(column, point)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The exact probability of each entry as (weight, total): what the table
    /// yields when every (column, point) pair is counted once.
    pub fn exact_counts(&self) -> Vec<(u32, u128)> {
        let n = self.entries.len();
        let mut counts = vec![0u128; n];
        for column in 0..n {
            counts[column] += u128::from(self.cut[column]);
            counts[self.alias[column] as usize] += u128::from(self.total - self.cut[column]);
        }
        self.entries.iter().copied().zip(counts).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_gets_exactly_its_weight() {
        let pairs = [(0, 7900), (1, 2000), (2, 99), (3, 1)];
        let table = DrawTable::new(&pairs).unwrap();
        let n = pairs.len() as u128;
        for ((entry, count), (want_entry, weight)) in table.exact_counts().into_iter().zip(pairs) {
            assert_eq!(entry, want_entry);
            // Summed over all n columns, entry i must hold w_i/total of n·total.
            assert_eq!(count, u128::from(weight) * n, "entry {entry}");
        }
    }

    #[test]
    fn tiny_rates_keep_their_share() {
        // 0.0001 next to 0.9999: the reference's slot table rounds it away.
        let table = DrawTable::new(&[(0, 9999), (1, 1)]).unwrap();
        let counts = table.exact_counts();
        assert_eq!(counts[1].1, 2);
        assert_eq!(counts[0].1, 9999 * 2);
    }

    #[test]
    fn common_factors_are_removed() {
        let table = DrawTable::new(&[(0, 300_000), (1, 700_000)]).unwrap();
        assert_eq!(table.weights, vec![3, 7]);
        assert_eq!(table.total, 10);
    }

    #[test]
    fn refuses_empty_and_zero() {
        assert_eq!(DrawTable::new(&[]), Err(TableError::Empty));
        assert_eq!(DrawTable::new(&[(0, 0)]), Err(TableError::ZeroWeight));
    }
}
