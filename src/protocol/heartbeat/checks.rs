//! Heartbeats have no checkers: what the detectors do is judged by the tests and the
//! detector sweep.

use super::*;
use crate::checks::{Checked, NoChecks};

impl Checked for Heartbeat {
    type Checks = NoChecks;
}
