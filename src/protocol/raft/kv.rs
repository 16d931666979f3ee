//! The key-value workload of Raft's clients (`kv` in a scenario): a few keys, each a
//! register holding a number (0 at first); clients get, put and compare-and-set them. A
//! command travels in a log entry's `cmd` word (0: none, the plain write workload) and is
//! applied to `KvState` in log order; reads take the path `read_path` names (`reads.rs`).
//!
//! Without `kv` the clients write fresh ids to one register, exactly as before, and
//! nothing here runs.

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::time::{ms_to_us, Micros};
use crate::vocab::probability_ppm;

/// Most keys.
pub const KV_KEYS_MAX: usize = 8;
/// Values are kept in 28 bits (a put of op `n` by client `c` writes `n · 100 + c`, wrapped).
const VALUE_MASK: u32 = (1 << 28) - 1;

/// Every key's value, as applied.
pub type KvState = [u32; KV_KEYS_MAX];

/// How a leader answers a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReadPath {
    /// Through the log: the read is an entry, answered when applied (linearizable).
    #[default]
    Log,
    /// ReadIndex: the leader notes its commit index, confirms it still leads with a
    /// heartbeat round a majority answers, then answers once it has applied that far.
    ReadIndex,
    /// Lease: the leader answers at once while a majority acknowledged one of its appends
    /// within `lease_ms` on its own clock (else as ReadIndex). Servers then refuse votes
    /// for `election_min_ms` after hearing from a leader. Safe only while clocks drift
    /// less than the margin `election_min_ms − lease_ms` allows.
    Lease,
    /// The leader answers from its state at once, even if it was deposed (stale reads).
    Naive,
}

/// The key-value workload as a scenario writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KvSpec {
    /// How many keys (1 to 8).
    pub keys: u32,
    /// The share of operations that are gets, and of compare-and-sets; the rest are puts.
    pub read_ratio: f64,
    pub cas_ratio: f64,
    pub read_path: ReadPath,
    /// Lease reads: how long a majority's acknowledgement lets the leader answer alone, on
    /// its own clock; at most `election_min_ms` (default: `election_min_ms − heartbeat_ms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_ms: Option<f64>,
}

impl Default for KvSpec {
    fn default() -> Self {
        KvSpec {
            keys: 2,
            read_ratio: 0.5,
            cas_ratio: 0.1,
            read_path: ReadPath::Log,
            lease_ms: None,
        }
    }
}

/// The workload in engine units.
#[derive(Clone, Debug, PartialEq)]
pub struct KvConfig {
    pub keys: u32,
    pub read_ppm: u32,
    pub cas_ppm: u32,
    pub read_path: ReadPath,
    pub lease_us: Micros,
}

impl KvSpec {
    /// Validates against the election timing (`election_min_us`, `heartbeat_us`).
    pub fn config(&self, election_min_us: Micros, heartbeat_us: Micros) -> Result<KvConfig, InputError> {
        if !(1..=KV_KEYS_MAX as u32).contains(&self.keys) {
            let problem = format!("must be between 1 and {KV_KEYS_MAX}, got {}", self.keys);
            return Err(InputError::new("kv.keys", problem));
        }
        let read_ppm = probability_ppm(self.read_ratio, "kv.read_ratio")?;
        let cas_ppm = probability_ppm(self.cas_ratio, "kv.cas_ratio")?;
        if read_ppm + cas_ppm > 1_000_000 {
            let problem = format!(
                "read_ratio + cas_ratio must be at most 1, got {}",
                self.read_ratio + self.cas_ratio
            );
            return Err(InputError::new("kv.cas_ratio", problem));
        }
        let lease_us = match self.lease_ms {
            None => election_min_us - heartbeat_us,
            Some(ms) => ms_to_us(ms, "kv.lease_ms")?,
        };
        if lease_us == 0 || lease_us > election_min_us {
            let problem = format!("must be above 0 and at most election_min_ms, got {:?}", self.lease_ms);
            return Err(InputError::new("kv.lease_ms", problem));
        }
        Ok(KvConfig {
            keys: self.keys,
            read_ppm,
            cas_ppm,
            read_path: self.read_path,
            lease_us,
        })
    }
}

/// The workload's engine form, if the scenario has one.
pub fn config_of(
    spec: Option<&KvSpec>,
    election_min_us: Micros,
    heartbeat_us: Micros,
) -> Result<Option<KvConfig>, InputError> {
    spec.map(|k| k.config(election_min_us, heartbeat_us)).transpose()
}

/// One command on one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    Get { key: u8 },
    Put { key: u8, value: u32 },
    Cas { key: u8, old: u32, new: u32 },
}

impl Cmd {
    /// Packs into a nonzero word: kind in bits 62–63, key 56–61, old 28–55, new 0–27.
    pub fn encode(self) -> u64 {
        let (kind, key, old, new) = match self {
            Cmd::Get { key } => (1, key, 0, 0),
            Cmd::Put { key, value } => (2, key, 0, value),
            Cmd::Cas { key, old, new } => (3, key, old, new),
        };
        kind << 62 | (key as u64 & 0x3F) << 56 | ((old & VALUE_MASK) as u64) << 28 | (new & VALUE_MASK) as u64
    }

    /// The command a word holds (`None` for 0, no command).
    pub fn decode(word: u64) -> Option<Cmd> {
        let key = (word >> 56 & 0x3F) as u8;
        let (old, new) = ((word >> 28) as u32 & VALUE_MASK, word as u32 & VALUE_MASK);
        match word >> 62 {
            1 => Some(Cmd::Get { key }),
            2 => Some(Cmd::Put { key, value: new }),
            3 => Some(Cmd::Cas { key, old, new }),
            _ => None,
        }
    }

    pub fn key(self) -> u8 {
        match self {
            Cmd::Get { key } | Cmd::Put { key, .. } | Cmd::Cas { key, .. } => key,
        }
    }

    pub fn is_read(self) -> bool {
        matches!(self, Cmd::Get { .. })
    }
}

/// The value client `client_index` writes with its op `op`: unique per client and op.
pub fn fresh_value(op: u32, client_index: u32) -> u32 {
    op.wrapping_mul(100).wrapping_add(client_index) & VALUE_MASK
}

/// Applies `cmd` to `kv` (a key out of range reads and writes nothing): whether it took
/// effect (a cas whose old value did not match did not) and the value it read or wrote.
pub fn apply(kv: &mut KvState, cmd: Cmd) -> (bool, u32) {
    let Some(slot) = kv.get_mut(cmd.key() as usize) else {
        return (false, 0);
    };
    match cmd {
        Cmd::Get { .. } => (true, *slot),
        Cmd::Put { value, .. } => {
            *slot = value;
            (true, value)
        }
        Cmd::Cas { old, new, .. } if *slot == old => {
            *slot = new;
            (true, new)
        }
        Cmd::Cas { .. } => (false, *slot),
    }
}

/// A digest of a state, 0 for the initial one (so plain-write runs hash as before).
pub fn digest(kv: &KvState) -> u64 {
    kv.iter().fold(0u64, |h, &v| h.rotate_left(11) ^ v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_survive_their_encoding_and_apply_as_a_register_does() {
        for cmd in [
            Cmd::Get { key: 7 },
            Cmd::Put { key: 0, value: 1234 },
            Cmd::Cas {
                key: 3,
                old: 0,
                new: VALUE_MASK,
            },
        ] {
            assert_ne!(cmd.encode(), 0);
            assert_eq!(Cmd::decode(cmd.encode()), Some(cmd));
        }
        assert_eq!(Cmd::decode(0), None);
        let mut kv = KvState::default();
        assert_eq!(apply(&mut kv, Cmd::Cas { key: 1, old: 5, new: 6 }), (false, 0));
        assert_eq!(apply(&mut kv, Cmd::Put { key: 1, value: 5 }), (true, 5));
        assert_eq!(apply(&mut kv, Cmd::Cas { key: 1, old: 5, new: 6 }), (true, 6));
        assert_eq!(apply(&mut kv, Cmd::Get { key: 1 }), (true, 6));
        assert_eq!(digest(&KvState::default()), 0);
    }
}
