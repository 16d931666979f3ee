//! The command line's exploring commands: `sweep`, `sweep merge` and `shrink` (the
//! library side is `faultline::explore`); `progress` draws their progress on stderr;
//! `check`, the linearizability of a client history (`faultline::history`); `history`,
//! the register's history that `run --history` writes; `exercise`, judging exercise runs.

pub mod check;
pub mod exercise;
pub mod history;
pub mod progress;
pub mod shrink;
pub mod sweep;
