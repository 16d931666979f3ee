//! Seed ranges and shards: which seeds a sweep runs.
//!
//! `A..B` is half-open (seed A up to, not including, B), like Rust's ranges. A shard
//! `K/N` (1 ≤ K ≤ N) is the K-th of N contiguous, disjoint slices of a range; together
//! the N shards cover the range exactly once, so machines that share nothing but the range
//! split a sweep between them. Invariant: a parsed range is non-empty and within the seeds
//! a scenario accepts (at most 2^53 − 1).

use crate::error::InputError;
use crate::limits::MAX_SEED;

/// Seeds `start..end`, half-open. Invariant: `start < end <= MAX_SEED + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRange {
    pub start: u64,
    pub end: u64,
}

/// The `index`-th (1-based) of `count` slices of a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// Most shards a range may be cut into.
pub const MAX_SHARDS: u64 = 1 << 20;

impl SeedRange {
    pub fn new(start: u64, end: u64) -> Result<SeedRange, InputError> {
        if start >= end {
            let problem = format!(
                "the range {start}..{end} is empty: its end must be above its start (A..B runs seeds A up to B − 1)"
            );
            return Err(InputError::new("seeds", problem));
        }
        if end > MAX_SEED + 1 {
            let problem = format!("seeds go up to 2^53 − 1 = {MAX_SEED}; the range ends at {end}");
            return Err(InputError::new("seeds", problem));
        }
        Ok(SeedRange { start, end })
    }

    /// Reads `A..B`.
    pub fn parse(text: &str) -> Result<SeedRange, InputError> {
        let (a, b) = text
            .split_once("..")
            .ok_or_else(|| InputError::new("seeds", format!("`{text}` is not a range: write A..B, e.g. 0..1000")))?;
        let number = |t: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| InputError::new("seeds", format!("`{t}` in `{text}` is not a whole number")))
        };
        SeedRange::new(number(a)?, number(b)?)
    }

    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn contains(&self, seed: u64) -> bool {
        (self.start..self.end).contains(&seed)
    }

    /// This shard's slice. It may be empty when there are more shards than seeds: then
    /// `None`.
    pub fn shard(&self, shard: Shard) -> Option<SeedRange> {
        let cut = |k: u64| self.start + ((self.len() as u128 * k as u128) / shard.count as u128) as u64;
        let (start, end) = (cut(shard.index - 1), cut(shard.index));
        (start < end).then_some(SeedRange { start, end })
    }
}

impl std::fmt::Display for SeedRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl Shard {
    /// Reads `K/N` with 1 ≤ K ≤ N.
    pub fn parse(text: &str) -> Result<Shard, InputError> {
        let bad = |why: String| InputError::new("shard", why);
        let (k, n) = text.split_once('/').ok_or_else(|| {
            bad(format!(
                "`{text}` is not a shard: write K/N, e.g. 3/8 for the third of eight"
            ))
        })?;
        let number = |t: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| bad(format!("`{t}` in `{text}` is not a whole number")))
        };
        let (index, count) = (number(k)?, number(n)?);
        if count == 0 || count > MAX_SHARDS {
            return Err(bad(format!(
                "the number of shards must be from 1 to {MAX_SHARDS}, got {count}"
            )));
        }
        if index == 0 || index > count {
            return Err(bad(format!(
                "shard {index}/{count} does not exist: K runs from 1 to N ({count})"
            )));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_range_once() {
        let range = SeedRange::parse("10..1013").unwrap();
        for n in [1, 2, 3, 7, 1003, 2000] {
            let mut next = range.start;
            for k in 1..=n {
                if let Some(s) = range.shard(Shard { index: k, count: n }) {
                    assert_eq!(s.start, next, "shard {k}/{n}");
                    next = s.end;
                }
            }
            assert_eq!(next, range.end, "{n} shards");
        }
    }

    #[test]
    fn bad_ranges_and_shards_say_why() {
        let e = SeedRange::parse("5..2").unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        assert!(SeedRange::parse("5").unwrap_err().to_string().contains("A..B"));
        assert!(SeedRange::parse("x..9")
            .unwrap_err()
            .to_string()
            .contains("whole number"));
        let e = Shard::parse("3/2").unwrap_err().to_string();
        assert!(e.contains("does not exist"), "{e}");
        assert!(Shard::parse("0/2").is_err());
        assert!(Shard::parse("1/0").is_err());
        assert_eq!(Shard::parse("2/8").unwrap(), Shard { index: 2, count: 8 });
    }
}
