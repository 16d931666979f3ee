//! The built-in exercises: `exercises/NAME.json`, each a scenario with its `exercise` (goal,
//! rules, hints) and `about` texts, embedded at build time in index order. A submission
//! whose `exercise.id` names one of these is held to this copy.
//!
//! Invariant: every file validates, its `exercise.id` is its file name, and the reference
//! solutions in `tests/exercises.rs` meet each goal while the unsolved exercise does not.

use serde::Serialize;

use crate::scenario::Scenario;

/// A built-in exercise: its name and its file.
pub struct BuiltIn {
    pub name: &'static str,
    pub source: &'static str,
}

/// What the exercise index lists.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ExerciseInfo {
    pub name: &'static str,
    pub title: String,
    pub class: String,
    pub task: String,
    pub goal: String,
    pub fault_budget: Option<i64>,
    pub hints: usize,
}

impl BuiltIn {
    /// The exercise as posed: its scenario with the `exercise` block (and its texts).
    pub fn scenario(&self) -> Scenario {
        Scenario::from_json(self.source).unwrap_or_else(|e| panic!("exercise {}: {e}", self.name))
    }

    pub fn info(&self) -> ExerciseInfo {
        let s = self.scenario();
        let e = s.exercise.expect("a built-in exercise poses one (tested)");
        ExerciseInfo {
            name: self.name,
            title: s.name,
            class: s.about.map(|a| a.class).unwrap_or_default(),
            task: e.task,
            goal: e.goal.words(),
            fault_budget: e.rules.faults.max,
            hints: e.hints.len(),
        }
    }
}

macro_rules! exercises {
    ($($name:literal),+ $(,)?) => {
        pub const EXERCISES: &[BuiltIn] = &[$(BuiltIn {
            name: $name,
            source: include_str!(concat!("../../exercises/", $name, ".json")),
        },)+];
    };
}

exercises![
    "detect-a-crash",
    "omission-false-alarm",
    "suspect-everyone",
    "split-brain",
    "expired-lease",
    "fence-the-zombie",
    "lose-an-acked-write",
    "clock-jump",
    "gray-failure",
    "cascading-overload",
    "shed-the-load",
    "tune-the-detector",
    "byzantine-liars",
    "not-linearizable",
];

pub fn find(name: &str) -> Option<&'static BuiltIn> {
    EXERCISES.iter().find(|e| e.name == name)
}

pub fn names() -> String {
    EXERCISES.iter().map(|e| e.name).collect::<Vec<_>>().join(", ")
}
