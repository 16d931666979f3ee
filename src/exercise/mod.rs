//! Exercises: a scenario posed as a task, with a goal, rules and hints (`exercise` in the
//! scenario format, so an exercise is shared, embedded and run headless like any scenario).
//!
//! `goal` is a small expression over the checkers' verdicts, figures and series; `rules`
//! hold the fault budget, the settings a learner may change and the time limit; `judge`
//! replays a submitted run (never the page's live state) and says whether the goal was met
//! and when, or which rule was broken. The built-in exercises are data in `exercises/`,
//! embedded by `catalogue`. `docs/exercises.md` explains how to write one.
//!
//! Invariant: the `exercise` field never changes a run: a scenario replays identically
//! with or without it.

pub mod catalogue;
pub mod goal;
pub mod judge;
pub mod rules;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use goal::Goal;
use rules::Rules;

/// At most this many hints, each at most this long.
pub const MAX_HINTS: usize = 8;
pub const MAX_TEXT_BYTES: usize = 2_000;

/// A task posed on a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// A stable name (the built-in exercises' file names); a submission whose id names a
    /// built-in exercise is judged against that exercise's own copy.
    #[serde(default)]
    pub id: String,
    /// The task in words, for the learner.
    #[serde(default)]
    pub task: String,
    pub goal: Goal,
    #[serde(default)]
    pub rules: Rules,
    /// Hints, revealed one at a time.
    #[serde(default)]
    pub hints: Vec<String>,
}

impl Exercise {
    /// The checks that need no run: texts, the rules, the goal's shape.
    pub fn validate(&self, nodes: u32) -> Result<(), InputError> {
        if self.id.len() > crate::limits::MAX_NAME_BYTES {
            return Err(InputError::new("id", "is too long"));
        }
        if self.task.len() > MAX_TEXT_BYTES {
            return Err(InputError::new(
                "task",
                format!("is longer than {MAX_TEXT_BYTES} bytes"),
            ));
        }
        if self.hints.len() > MAX_HINTS {
            return Err(InputError::new("hints", format!("at most {MAX_HINTS} hints")));
        }
        if let Some(i) = self.hints.iter().position(|h| h.len() > MAX_TEXT_BYTES) {
            return Err(InputError::new(
                format!("hints[{i}]"),
                format!("is longer than {MAX_TEXT_BYTES} bytes"),
            ));
        }
        self.rules.validate(nodes).map_err(|e| e.within("rules"))?;
        self.goal
            .validate(self.rules.time_limit_ms)
            .map_err(|problem| InputError::new("goal", problem))
    }
}
