//! A client's requests, the bookkeeping every protocol's client shares: numbering
//! operations and naming them with run-wide request ids, the one request in flight and
//! which try it is, the retry limit, the server it sends to (rotated after a failure,
//! moved to a leader hint after a redirect), arming timeouts whose tag names the try, and
//! counting what came of it all. What a request asks and what its answer means stay in
//! each protocol; so do the observations it records for its history (the shapes differ,
//! and every one is recorded through `crate::history::record`).
//!
//! A client with many requests in flight (the overloaded service's) keeps its own table
//! of them but shares the rest: `request_id`, exponential backoff with full jitter
//! (`Backoff`) and a retry budget (`RetryBudget`).
//!
//! Layer: part of the protocol contract. It imports only the vocabulary and `Ctx`, and
//! any protocol may use it (checked by `tests/tidy.rs`). Nothing here sends a message,
//! and the one random draw (`Backoff::delay`) comes from the caller's own generator at
//! the point the caller asks: a protocol that adopts it keeps its trace bit for bit.

use crate::protocol::timers::timer_tag;
use crate::protocol::{Ctx, TimerTag};
use crate::rng::Rng;
use crate::time::Micros;
use crate::vocab::NodeId;

/// A request's id, unique across the run: the client's node id above its op number.
pub fn request_id(client: NodeId, op: u32) -> u64 {
    (client as u64) << 32 | op as u64
}

/// A request in flight: its op number, which try this is (0 the first), and what it asks.
#[derive(Clone, Copy, Debug)]
pub struct Request<R> {
    pub op: u32,
    pub tries: u32,
    pub what: R,
}

impl<R> Request<R> {
    /// Names one try of one request in a timer argument, so a timeout armed for an
    /// earlier try is recognised as stale.
    pub fn try_arg(&self) -> u64 {
        (self.op as u64) << 8 | self.tries as u64
    }
}

/// A client's requests: the op counter, the one request in flight, where it goes, and
/// what came of the requests so far.
#[derive(Clone, Debug)]
pub struct Requests<R> {
    last_op: u32,
    in_flight: Option<Request<R>>,
    /// The server the next try goes to.
    pub target: NodeId,
    /// Tries after the first that one request may make before the client gives it up.
    pub retries: u32,
    pub ok: u64,
    pub gave_up: u64,
    pub timeouts: u64,
    pub redirects: u64,
}

impl<R: Copy> Requests<R> {
    pub fn new(target: NodeId, retries: u32) -> Requests<R> {
        Requests {
            last_op: 0,
            in_flight: None,
            target,
            retries,
            ok: 0,
            gave_up: 0,
            timeouts: 0,
            redirects: 0,
        }
    }

    /// Numbers a new operation (1, 2, …).
    pub fn next_op(&mut self) -> u32 {
        self.last_op += 1;
        self.last_op
    }

    /// The request in flight, if any.
    pub fn in_flight(&self) -> Option<Request<R>> {
        self.in_flight
    }

    pub fn is_idle(&self) -> bool {
        self.in_flight.is_none()
    }

    /// Whether `op` is the request in flight (an answer or timeout to an older one is stale).
    pub fn is_current_op(&self, op: u32) -> bool {
        self.in_flight.is_some_and(|r| r.op == op)
    }

    /// Whether a timer argument names the current try of the request in flight.
    pub fn is_current_try(&self, arg: u64) -> bool {
        self.in_flight.is_some_and(|r| r.try_arg() == arg)
    }

    /// Puts a request in flight, at try `tries`.
    pub fn begin(&mut self, op: u32, tries: u32, what: R) -> Request<R> {
        assert!(op <= self.last_op, "op {op} was never numbered");
        let request = Request { op, tries, what };
        self.in_flight = Some(request);
        request
    }

    /// The request in flight was answered.
    pub fn complete(&mut self) -> Option<Request<R>> {
        let done = self.in_flight.take();
        if done.is_some() {
            self.ok += 1;
        }
        done
    }

    /// The request in flight is given up (no answer will count).
    pub fn give_up(&mut self) -> Option<Request<R>> {
        let dropped = self.in_flight.take();
        if dropped.is_some() {
            self.gave_up += 1;
        }
        dropped
    }

    /// Ends the request in flight without counting it (the caller decides what came of it).
    pub fn take(&mut self) -> Option<Request<R>> {
        self.in_flight.take()
    }

    /// Counts one more try of the request in flight and returns it, or gives the request
    /// up (returning None) when it has used its retries.
    pub fn another_try(&mut self) -> Option<Request<R>> {
        let mut r = self.in_flight?;
        r.tries += 1;
        if r.tries > self.retries {
            self.give_up();
            return None;
        }
        self.in_flight = Some(r);
        Some(r)
    }

    /// Whether a request at try `tries` may try once more.
    pub fn may_retry(&self, tries: u32) -> bool {
        tries < self.retries
    }

    /// The next try goes to the leader a server named, or else to the next of `servers`.
    pub fn follow(&mut self, leader_hint: Option<NodeId>, servers: u32) {
        self.target = leader_hint.unwrap_or((self.target + 1) % servers);
    }

    /// Arms the timeout of the current try: `kind` is the protocol's timer kind, and
    /// `arg` (from `try_arg` or the op) rides above it.
    pub fn arm_timeout<M, O>(&self, ctx: &mut Ctx<M, O>, timeout_us: Micros, kind: TimerTag, arg: u64) {
        debug_assert!(self.in_flight.is_some(), "a timeout with no request in flight");
        ctx.set_timer(timeout_us, timer_tag(kind, arg));
    }
}

/// Exponential backoff with full jitter: before retry number `k` (1 the first) a client
/// waits a uniform draw from 1 µs to `min(cap, base · 2^(k−1))`, so retries spread out
/// instead of arriving in synchronized waves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base_us: Micros,
    pub cap_us: Micros,
}

impl Backoff {
    /// The longest wait before retry `retry` (1 the first; the doubling stops at 2^20).
    pub fn ceiling(&self, retry: u32) -> Micros {
        assert!(retry >= 1, "backoff is for retries, numbered from 1");
        (self.base_us << (retry - 1).min(20)).min(self.cap_us).max(1)
    }

    /// The wait before retry `retry`, drawn from the caller's generator.
    pub fn delay(&self, rng: &mut Rng, retry: u32) -> Micros {
        rng.between(1, self.ceiling(retry))
    }
}

/// A retry budget: each new request earns `per_request` tokens (up to `TOKENS_MAX`), each
/// retry spends one, and a client retries only while it holds a whole token — so retries
/// stay a bounded fraction of requests and cannot multiply an overload. Without a budget
/// every retry is allowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryBudget {
    per_request: Option<f64>,
    tokens: f64,
}

impl RetryBudget {
    /// The most tokens a client banks.
    pub const TOKENS_MAX: f64 = 10.0;

    /// A full budget earning `per_request` a request, or none (unlimited retries).
    pub fn new(per_request: Option<f64>) -> RetryBudget {
        RetryBudget {
            per_request,
            tokens: Self::TOKENS_MAX,
        }
    }

    /// A new request earns its share.
    pub fn earn(&mut self) {
        if let Some(p) = self.per_request {
            self.tokens = (self.tokens + p).min(Self::TOKENS_MAX);
        }
    }

    /// Spends a token for one retry, or answers false when the budget has none left.
    pub fn try_spend(&mut self) -> bool {
        if self.tokens < 1.0 {
            return false;
        }
        if self.per_request.is_some() {
            self.tokens -= 1.0;
        }
        true
    }

    /// The tokens left, if there is a budget.
    pub fn tokens(&self) -> Option<f64> {
        self.per_request.map(|_| self.tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_gives_up_after_its_retries() {
        let mut r: Requests<()> = Requests::new(0, 2);
        let op = r.next_op();
        r.begin(op, 0, ());
        assert_eq!(r.another_try().map(|x| x.tries), Some(1));
        assert_eq!(r.another_try().map(|x| x.tries), Some(2));
        assert!(r.another_try().is_none());
        assert_eq!((r.gave_up, r.is_idle()), (1, true));
    }

    #[test]
    fn a_redirect_follows_the_hint_and_a_failure_rotates() {
        let mut r: Requests<()> = Requests::new(1, 0);
        r.follow(Some(0), 3);
        assert_eq!(r.target, 0);
        r.follow(None, 3);
        r.follow(None, 3);
        r.follow(None, 3);
        assert_eq!(r.target, 0);
        assert_eq!(request_id(2, 5), 2 << 32 | 5);
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_draws_within_it() {
        let b = Backoff {
            base_us: 50,
            cap_us: 300,
        };
        let ceilings: Vec<Micros> = (1..=5).map(|k| b.ceiling(k)).collect();
        assert_eq!(ceilings, [50, 100, 200, 300, 300]);
        let mut rng = Rng::from_seed(7);
        assert!((0..1_000).all(|_| (1..=100).contains(&b.delay(&mut rng, 2))));
    }

    #[test]
    fn a_budget_allows_retries_only_while_requests_earn_them() {
        let mut budget = RetryBudget::new(Some(0.5));
        let spent = (0..20).take_while(|_| budget.try_spend()).count();
        assert_eq!(spent, 10, "a full budget holds ten retries");
        budget.earn();
        assert!(!budget.try_spend(), "half a token is not a retry");
        budget.earn();
        assert!(budget.try_spend());
        let mut unlimited = RetryBudget::new(None);
        assert!((0..100).all(|_| unlimited.try_spend()));
        assert_eq!(unlimited.tokens(), None);
    }
}
