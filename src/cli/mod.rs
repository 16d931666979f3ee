//! The command line's exploring commands: `sweep`, `sweep merge` and `shrink` (the
//! library side is `faultline::explore`); `progress` draws their progress on stderr.

pub mod progress;
pub mod shrink;
pub mod sweep;
