//! Every bound in the engine, as a named constant with its unit.
//!
//! Hitting a limit is an explicit outcome: either a clear `InputError` (for input) or a
//! counted event (`limits_hit`, an `overflow` drop) — never silent growth.

/// Most nodes a scenario may have (the page offers up to `PAGE_MAX_NODES`).
pub const MAX_NODES: u32 = 10_000;
/// Most nodes the playground page lets a user ask for.
pub const PAGE_MAX_NODES: u32 = 1_000;
/// Most messages in flight at once; a send beyond it is dropped with reason `overflow`.
pub const MAX_IN_FLIGHT: usize = 2_000_000;
/// Most pending events in the queue (in-flight messages, timers and held events).
pub const MAX_QUEUED_EVENTS: usize = 4_000_000;
/// Longest backlog a slow or gray node may build, in µs of queued work (1 minute): a
/// message that would wait longer is dropped as `overflow` (its inbox is full).
pub const MAX_BACKLOG_US: u64 = 60_000_000;
/// Most timers a protocol handler may set in one call.
pub const MAX_TIMERS_PER_HANDLER: usize = 64;
/// Trace events kept in memory (a ring buffer) for the page and time-space diagrams.
pub const TRACE_RING_EVENTS: usize = 1 << 16;
/// Largest cluster whose nodes keep true vector clocks (`engine::causal`); above it only
/// Lamport clocks are kept, and the time-space diagram shows no causal cone.
pub const VECTOR_CLOCK_MAX_NODES: usize = 64;
/// Most recent trace events that keep their vector clock, for the time-space diagram
/// (at 64 nodes: 4 MiB).
pub const CAUSAL_WINDOW_EVENTS: usize = 16_384;
/// Most in-flight messages put in the render columns per frame (evenly strided).
pub const RENDER_MSGS_MAX: usize = 16_384;
/// Recent drops kept for drawing bursts where messages die.
pub const RECENT_DROPS_MAX: usize = 4096;
/// How long a drop stays in the recent-drops column, in simulated microseconds.
pub const RECENT_DROPS_WINDOW_US: u64 = 2_000_000;
/// Faults a scenario may schedule (including interactive injections).
pub const MAX_FAULTS: usize = 10_000;
/// Latest simulated time a scenario may reach or schedule: 30 days, in microseconds.
pub const MAX_TIME_US: u64 = 30 * 24 * 3_600 * 1_000_000;
/// Longest one-way latency a distribution may produce, in microseconds (1 minute).
pub const MAX_LATENCY_US: u64 = 60_000_000;
/// Largest seed: 2^53 − 1, so a seed survives a round trip through a JavaScript number.
pub const MAX_SEED: u64 = (1 << 53) - 1;
/// Longest scenario name, in bytes.
pub const MAX_NAME_BYTES: usize = 200;
/// Largest scenario text accepted, in bytes (JSON).
pub const MAX_SCENARIO_BYTES: usize = 1 << 20;

/// Time-travel checkpoints kept at most, by cluster size (each is a copy of the world).
pub const fn checkpoint_budget(nodes: u32) -> usize {
    if nodes <= 64 {
        32
    } else if nodes <= 256 {
        16
    } else {
        6
    }
}

/// Simulated time between checkpoints at the start of a run, in µs; it doubles each time
/// the budget fills and every other checkpoint is dropped.
pub const CHECKPOINT_INTERVAL_US: u64 = 1_000_000;

/// Most messages per simulated second an all-to-all protocol may plan: n·(n−1) per round.
/// A thousand nodes heartbeating every 100 ms is 9.99 million.
pub const MAX_ALL_TO_ALL_MSGS_PER_S: u64 = 10_000_000;
/// Most ordered node pairs an all-to-all protocol may track (every node keeps state per
/// peer, so memory grows with n²): 4 million, about 2 000 nodes.
pub const MAX_ALL_TO_ALL_PAIRS: u64 = 4_000_000;

/// The node cap of a protocol where every node messages every other once per `round_us`:
/// the pairs it tracks and the messages per simulated second it costs. The error names
/// `nodes`, the cost, and the largest cluster allowed at this round.
pub fn check_all_to_all(nodes: u32, round_us: u64) -> Result<(), crate::error::InputError> {
    let pairs = |n: u64| n * n.saturating_sub(1);
    let rate = |n: u64| pairs(n).saturating_mul(1_000_000) / round_us.max(1);
    let n = nodes as u64;
    let largest = |fits: &dyn Fn(u64) -> bool| (1..=n).rev().find(|&m| fits(m)).unwrap_or(1);
    if pairs(n) > MAX_ALL_TO_ALL_PAIRS {
        let cap = largest(&|m| pairs(m) <= MAX_ALL_TO_ALL_PAIRS);
        let problem = format!(
            "{n} nodes that each track every peer make {} pairs; the limit is {MAX_ALL_TO_ALL_PAIRS} \
             (memory grows with nodes²): at most {cap} nodes",
            pairs(n)
        );
        return Err(crate::error::InputError::new("nodes", problem));
    }
    if rate(n) > MAX_ALL_TO_ALL_MSGS_PER_S {
        let cap = largest(&|m| rate(m) <= MAX_ALL_TO_ALL_MSGS_PER_S);
        let problem = format!(
            "{n} nodes messaging every peer every {} ms send {} messages per simulated second; \
             the limit is {MAX_ALL_TO_ALL_MSGS_PER_S} (nodes² / interval): at most {cap} nodes at this \
             interval, or a longer interval",
            round_us as f64 / 1000.0,
            rate(n)
        );
        return Err(crate::error::InputError::new("nodes", problem));
    }
    Ok(())
}
