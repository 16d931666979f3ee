//! Built-in scenarios, one or more per failure class. Each is a file `presets/NAME.json`:
//! a scenario with its texts (`about`: the failure class, what happens, what to watch,
//! what to try next) — the same format a course author writes, so every preset doubles as
//! an example. The files are embedded at build time; `presets!` lists them in picker order.
//!
//! Invariant: every preset validates (tested), makes its point within the first seconds
//! of play, and its name (its file's name) is a stable identifier used in URLs and by
//! `faultline run --preset`.

use serde::Serialize;

use crate::scenario::Scenario;

/// A built-in scenario: its name and its file.
pub struct Preset {
    pub name: &'static str,
    /// The preset file: a scenario with its `about` texts.
    pub source: &'static str,
    /// The scenario to run, without its texts (so a shared link stays short).
    pub build: fn() -> Scenario,
}

/// A preset as the page's picker and explanation panel show it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PresetInfo {
    pub name: &'static str,
    pub title: String,
    /// The failure class it shows (from the catalogue).
    pub class: String,
    /// What happens.
    pub summary: String,
    /// What to watch on the canvas and in the inspector.
    pub watch: String,
    /// What to try next.
    pub try_next: String,
}

impl Preset {
    /// The scenario as its file writes it, texts included.
    pub fn scenario(&self) -> Scenario {
        Scenario::from_json(self.source).unwrap_or_else(|e| panic!("preset {}: {e}", self.name))
    }

    pub fn info(&self) -> PresetInfo {
        let scenario = self.scenario();
        let about = scenario.about.unwrap_or_default();
        PresetInfo {
            name: self.name,
            title: scenario.name,
            class: about.class,
            summary: about.summary,
            watch: about.watch,
            try_next: about.try_next,
        }
    }
}

fn without_texts(source: &str) -> Scenario {
    let mut scenario = Scenario::from_json(source).expect("every preset validates (tested)");
    scenario.about = None;
    scenario
}

/// Embeds `presets/NAME.json` for each name, in this order.
macro_rules! presets {
    ($($name:literal),+ $(,)?) => {
        pub const PRESETS: &[Preset] = &[$(Preset {
            name: $name,
            source: include_str!(concat!("../presets/", $name, ".json")),
            build: || without_texts(include_str!(concat!("../presets/", $name, ".json"))),
        },)+];
    };
}

presets![
    "heartbeat",
    "crash-recovery",
    "partition",
    "partial-partition",
    "majorities-ring",
    "asymmetric",
    "flapping-link",
    "omission",
    "slow-node",
    "latency-spike",
    "slow-network",
    "clock-jump",
    "gc-pause",
    "gray-failure",
    "byzantine-forge",
    "torn-write",
    "fixed-timeout",
    "phi-accrual",
    "large-cluster",
    "split-brain",
    "raft-one-leader",
    "expired-lease",
    "fencing-tokens",
    "stonith",
    "cap-cp",
    "cap-ap",
    "stale-read-deposed-leader",
    "read-index-keeps-linearizable",
    "lease-read-clock-drift",
    "swim-at-scale",
    "gray-healthy-on-paper",
    "cascading-failure",
    "retry-storm",
    "circuit-breakers",
    "load-shedding",
    "bulkheads",
    "gray-health-check",
    "flp-in-action",
    "synchronous-detection",
    "adversary-vs-detector",
    "pbft-one-liar",
    "pbft-too-many-liars",
    "pbft-forgery",
    "raft-byzantine-leader",
    "wall-clocks-lie",
    "lww-loses-later-write",
    "hlc-keeps-later-write",
    "vector-clocks-keep-both",
    "concurrent-or-ordered",
    "hlc-stays-close",
];

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

pub fn names() -> String {
    PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_validates_and_names_are_unique() {
        for (i, p) in PRESETS.iter().enumerate() {
            (p.build)()
                .validate()
                .unwrap_or_else(|e| panic!("preset {}: {e}", p.name));
            assert!(
                PRESETS[..i].iter().all(|q| q.name != p.name),
                "duplicate preset {}",
                p.name
            );
            let info = p.info();
            assert!(!info.summary.is_empty() && !info.watch.is_empty() && !info.try_next.is_empty());
            assert!(!info.class.is_empty() && !info.title.is_empty(), "{}", p.name);
            assert_eq!((p.build)().about, None, "a run carries no texts");
        }
    }

    #[test]
    fn every_preset_file_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("presets");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut listed: Vec<String> = PRESETS.iter().map(|p| format!("{}.json", p.name)).collect();
        listed.sort();
        assert_eq!(files, listed);
    }
}
