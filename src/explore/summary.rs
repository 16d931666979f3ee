//! A sweep's summary: per checker how many seeds violated it, with the first few failing
//! seeds as share links, and how the liveness phase went.
//!
//! Invariant: a summary is a function of the *set* of outcomes, not of their order:
//! counts and integer sums add, and each list of failing seeds keeps the smallest seeds.
//! So the thread pool may fold seeds in any order, and shards merged give the very summary
//! one machine prints for the whole range (`merge_lines`).

use std::collections::BTreeMap;

use super::run::{Header, Outcome};
use super::seeds::SeedRange;
use crate::error::InputError;

/// Failing seeds kept per checker (the smallest), each printed as a link.
pub const FAILING_SHOWN: usize = 3;

/// A failing seed, when it failed, and the link that replays it.
#[derive(Clone, Debug, PartialEq)]
pub struct Failing {
    pub seed: u64,
    pub at_ms: f64,
    pub link: String,
}

/// How many seeds failed one way, and the smallest of them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    pub seeds: u64,
    pub first: Vec<Failing>,
}

impl Tally {
    fn add(&mut self, failing: Failing) {
        self.seeds += 1;
        self.keep(failing);
    }

    fn keep(&mut self, failing: Failing) {
        let at = self.first.partition_point(|f| f.seed < failing.seed);
        if at < FAILING_SHOWN {
            self.first.insert(at, failing);
            self.first.truncate(FAILING_SHOWN);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.seeds += other.seeds;
        other.first.into_iter().for_each(|f| self.keep(f));
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub header: Header,
    pub seeds: u64,
    pub failed: u64,
    pub events: u64,
    pub checks: BTreeMap<String, Tally>,
    /// Seeds with a liveness phase, and of them, those that recovered.
    pub judged: u64,
    pub recovered: u64,
    pub recovery_ms_sum: u64,
    pub recovery_ms_max: u64,
    pub not_recovered: Tally,
}

impl Summary {
    pub fn new(header: Header) -> Summary {
        let checks = header.checks.iter().map(|c| (c.clone(), Tally::default())).collect();
        Summary {
            header,
            seeds: 0,
            failed: 0,
            events: 0,
            checks,
            judged: 0,
            recovered: 0,
            recovery_ms_sum: 0,
            recovery_ms_max: 0,
            not_recovered: Tally::default(),
        }
    }

    pub fn add(&mut self, o: &Outcome) {
        self.seeds += 1;
        self.events += o.events;
        self.failed += o.failed() as u64;
        let link = || o.link.clone().unwrap_or_default();
        for (check, &at_ms) in &o.violated {
            let failing = Failing {
                seed: o.seed,
                at_ms,
                link: link(),
            };
            self.checks.entry(check.clone()).or_default().add(failing);
        }
        if let Some(l) = &o.liveness {
            self.judged += 1;
            match l.recovered_after_ms {
                Some(ms) => {
                    self.recovered += 1;
                    self.recovery_ms_sum += ms.round() as u64;
                    self.recovery_ms_max = self.recovery_ms_max.max(ms.round() as u64);
                }
                None => self.not_recovered.add(Failing {
                    seed: o.seed,
                    at_ms: l.heal_ms,
                    link: link(),
                }),
            }
        }
    }

    /// Adds another summary of the same sweep (other seeds).
    pub fn merge(mut self, other: Summary) -> Summary {
        self.seeds += other.seeds;
        self.failed += other.failed;
        self.events += other.events;
        for (check, tally) in other.checks {
            self.checks.entry(check).or_default().merge(tally);
        }
        self.judged += other.judged;
        self.recovered += other.recovered;
        self.recovery_ms_sum += other.recovery_ms_sum;
        self.recovery_ms_max = self.recovery_ms_max.max(other.recovery_ms_max);
        self.not_recovered.merge(other.not_recovered);
        self
    }

    /// The summary in words, the same for one machine and for merged shards.
    pub fn render(&self) -> String {
        let h = &self.header;
        let mut out = format!(
            "sweep: {}, seeds {}, {} ms each{}\n",
            h.scenario,
            h.seeds,
            h.until_ms,
            if h.swarm {
                ", swarm (each seed draws its faults and knobs)"
            } else {
                ""
            }
        );
        out += &format!(
            "seeds run: {}, failed: {}, events: {}\n",
            self.seeds, self.failed, self.events
        );
        for (check, tally) in &self.checks {
            out += &format!("check {check}: violated in {} of {} seeds\n", tally.seeds, self.seeds);
            for f in &tally.first {
                out += &format!("  seed {} at {} ms: #s={}\n", f.seed, f.at_ms, f.link);
            }
        }
        if let Some(rule) = &h.liveness_rule {
            out += &format!(
                "liveness ({rule}, within {} ms of the heal): {} of {} seeds with a heal recovered",
                h.liveness_ms, self.recovered, self.judged
            );
            if let Some(mean) = self.recovery_ms_sum.checked_div(self.recovered) {
                out += &format!("; recovery mean {mean} ms, max {} ms", self.recovery_ms_max);
            }
            out.push('\n');
            for f in &self.not_recovered.first {
                out += &format!(
                    "  seed {} stuck after the heal at {} ms: #s={}\n",
                    f.seed, f.at_ms, f.link
                );
            }
        }
        out
    }
}

/// A sweep's output read back: the header and every seed's outcome.
pub struct Shard {
    pub header: Header,
    pub outcomes: Vec<Outcome>,
}

/// Reads one output file (`--out`): a header line, then one outcome per line.
pub fn read_lines(text: &str, file: &str) -> Result<Shard, InputError> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = lines
        .next()
        .ok_or_else(|| InputError::new(file, "is empty: not the output of `faultline sweep --out`"))?;
    #[derive(serde::Deserialize)]
    struct HeaderLine {
        sweep: Header,
    }
    let header = serde_json::from_str::<HeaderLine>(first)
        .map_err(|e| InputError::new(format!("{file}:1"), format!("not a sweep header ({e})")))?
        .sweep;
    let mut outcomes = Vec::new();
    for (i, line) in lines {
        let outcome = serde_json::from_str::<Outcome>(line)
            .map_err(|e| InputError::new(format!("{file}:{}", i + 1), e.to_string()))?;
        outcomes.push(outcome);
    }
    Ok(Shard { header, outcomes })
}

/// The header line of an output file.
pub fn header_line(header: &Header) -> String {
    serde_json::json!({ "sweep": header }).to_string()
}

/// Merges shards of one sweep into its summary. Errors if they belong to different sweeps
/// or a seed appears twice; returns too how many seeds of the range are missing.
pub fn merge(shards: Vec<Shard>) -> Result<(Summary, u64), InputError> {
    let first = shards
        .first()
        .ok_or_else(|| InputError::new("files", "give at least one file"))?;
    let mut header = first.header.clone();
    header.shard = None;
    let range = SeedRange::parse(&header.seeds)?;
    let mut summary = Summary::new(header.clone());
    let mut seen = std::collections::BTreeSet::new();
    for shard in shards {
        if !shard.header.same_sweep(&header) {
            let problem = format!(
                "belongs to another sweep ({}, seeds {}) than the first file ({}, seeds {})",
                shard.header.scenario, shard.header.seeds, header.scenario, header.seeds
            );
            return Err(InputError::new(
                format!("shard {}", shard.header.shard.unwrap_or_default()),
                problem,
            ));
        }
        for o in &shard.outcomes {
            if !range.contains(o.seed) || !seen.insert(o.seed) {
                let problem = format!(
                    "seed {} is outside {range} or appears twice (a shard given twice?)",
                    o.seed
                );
                return Err(InputError::new("files", problem));
            }
            summary.add(o);
        }
    }
    Ok((summary, range.len() - seen.len() as u64))
}
