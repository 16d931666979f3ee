//! A service under load: clients, a load balancer, replicas with queues that die of
//! overload, an optional shared backend — and the defences that keep it standing.
//!
//! Nodes: 0 is the balancer (role 7), `1..=replicas` the replicas (role 8), then the
//! backend if there is one (role 9), then the clients (role 4). Client `c` belongs to
//! tenant `c mod 2`. A node is a `Service::Client`, `Service::Balancer` or `Service::Server`
//! (a replica or the backend), each with only its own fields.
//!
//! Clients start requests as a Poisson process at their share of the offered rate
//! (constant, ramping, or in bursts; tenant 1 adds `noisy` load from a moment on). Each
//! request has a timeout; after an error or a timeout a client retries (never, at once, or
//! after exponential backoff with full jitter), up to `retries` times, and with a retry
//! budget only while its tokens last (each new request earns `budget`, each retry spends 1).
//!
//! The balancer forwards each request to a replica (round robin or least outstanding),
//! skipping replicas its health checks have ejected (two missed checks in a row) and, with
//! breakers, those whose breaker is open (`failures` timeouts in a row open it for
//! `open_ms`; then one probe request half-opens it). With `max_outstanding` it refuses
//! requests beyond that many in flight (backpressure). Health checks are answered at once,
//! outside the worker pool, so an overloaded or gray replica passes them.
//!
//! A replica serves with `workers` workers, each request taking an exponential service
//! time (mean `service_ms`, three times slower for `warmup_ms` after a restart); the rest
//! wait in a queue. With a backend, a worker stays busy until the backend answers. With
//! `shed_at` a replica answers "overloaded" at once when its queue is that long. Each
//! queued request holds memory: past `queue_limit` queued requests the replica dies (out
//! of memory) and restarts cold after `restart_ms`. With bulkheads, each tenant gets half
//! the workers and a bounded queue of its own, so one tenant cannot starve the other.
//!
//! Durable: a boot count. Everything else is volatile.
//!
//! Message kinds: listed once, in the `message_kinds!` line below.
//!
//! Invariants (asserted): a replica never has more busy workers than it has workers, and
//! a request is in at most one place in a replica (a queue or a worker).

mod byzantine;
mod checks;
mod view;

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::protocol::timers::{timer_arg, timer_kind, timer_tag};
use crate::protocol::workload::{request_id, Backoff, RetryBudget};
use crate::protocol::{message_kinds, Ctx, Durable, MessageInfo, MessageKinds, Protocol, TimerTag};
use crate::rng::Rng;
use crate::time::{ms_to_us, Micros};
use crate::vocab::{Damage, NodeId};

/// Most replicas.
pub const MAX_REPLICAS: u32 = 64;
/// Most nodes in a service scenario.
pub const MAX_SERVICE_NODES: u32 = 200;
/// Highest offered rate, requests per simulated second.
pub const MAX_RATE: f64 = 100_000.0;
/// Most queries a backend holds; beyond, it drops them.
const BACKEND_QUEUE_MAX: usize = 100_000;
/// Most requests one client keeps track of at once.
const CLIENT_INFLIGHT_MAX: usize = 20_000;

/// How the offered load changes over time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Pattern {
    #[default]
    Constant,
    /// From `rate_per_s` at 0 to `to_per_s` at `over_ms`, then steady.
    Ramp { to_per_s: f64, over_ms: f64 },
    /// `factor` times the rate for `for_ms` out of every `every_ms`.
    Bursts { every_ms: f64, for_ms: f64, factor: f64 },
}

/// What a client does after an error or a timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RetryPolicy {
    #[default]
    None,
    Immediate,
    /// Exponential backoff with full jitter.
    Backoff,
}

/// How the balancer picks a replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Balancing {
    #[default]
    RoundRobin,
    LeastOutstanding,
}

/// Extra load from tenant 1's clients, from a moment on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoisySpec {
    pub from_ms: f64,
    pub rate_per_s: f64,
}

/// Circuit breakers at the balancer, one per replica.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerSpec {
    /// Timeouts in a row that open a breaker.
    pub failures: u32,
    /// How long it stays open before a probe.
    pub open_ms: f64,
}

impl Default for BreakerSpec {
    fn default() -> Self {
        BreakerSpec {
            failures: 3,
            open_ms: 1_000.0,
        }
    }
}

/// A service under load as a scenario writes it (milliseconds, requests per second).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceSpec {
    pub replicas: u32,
    pub backend: bool,
    /// Offered load over all clients, new requests per second.
    pub rate_per_s: f64,
    pub pattern: Pattern,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noisy: Option<NoisySpec>,
    pub timeout_ms: f64,
    pub retry: RetryPolicy,
    pub retries: u32,
    pub backoff_ms: f64,
    pub backoff_cap_ms: f64,
    /// Retry budget: tokens each new request earns (none: unlimited retries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
    pub balancing: Balancing,
    /// Health-check period (null: no health checks). Always written, since its default
    /// is not null.
    pub health_check_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breaker: Option<BreakerSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_outstanding: Option<u32>,
    pub workers: u32,
    pub service_ms: f64,
    pub backend_workers: u32,
    pub backend_service_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shed_at: Option<u32>,
    pub queue_limit: u32,
    pub restart_ms: f64,
    pub warmup_ms: f64,
    pub bulkheads: bool,
}

impl Default for ServiceSpec {
    fn default() -> Self {
        ServiceSpec {
            replicas: 5,
            backend: false,
            rate_per_s: 500.0,
            pattern: Pattern::Constant,
            noisy: None,
            timeout_ms: 1_000.0,
            retry: RetryPolicy::None,
            retries: 3,
            backoff_ms: 50.0,
            backoff_cap_ms: 2_000.0,
            budget: None,
            balancing: Balancing::RoundRobin,
            health_check_ms: Some(250.0),
            breaker: None,
            max_outstanding: None,
            workers: 4,
            service_ms: 20.0,
            backend_workers: 16,
            backend_service_ms: 5.0,
            shed_at: None,
            queue_limit: 200,
            restart_ms: 3_000.0,
            warmup_ms: 2_000.0,
            bulkheads: false,
        }
    }
}

/// The service in engine units.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceConfig {
    pub replicas: u32,
    pub backend: Option<NodeId>,
    pub first_client: NodeId,
    pub clients: u32,
    pub rate_per_s: f64,
    pub pattern: Pattern,
    pub noisy: Option<(Micros, f64)>,
    pub timeout_us: Micros,
    pub retry: RetryPolicy,
    pub retries: u32,
    /// With `RetryPolicy::Backoff`: the wait before each retry.
    pub backoff: Backoff,
    pub budget: Option<f64>,
    pub balancing: Balancing,
    pub health_check_us: Option<Micros>,
    pub breaker: Option<(u32, Micros)>,
    pub max_outstanding: Option<u32>,
    pub workers: u32,
    pub service_us: Micros,
    pub backend_workers: u32,
    pub backend_service_us: Micros,
    pub shed_at: Option<u32>,
    pub queue_limit: u32,
    pub restart_us: Micros,
    pub warmup_us: Micros,
    pub bulkheads: bool,
}

impl ServiceConfig {
    /// Requests per second one replica can serve when warm (without a backend).
    pub fn replica_capacity(&self) -> f64 {
        self.workers as f64 * 1e6 / self.service_us as f64
    }
}

/// A duration in ms as µs, refused below 1 ms.
fn at_least_1ms(ms: f64, field: &str) -> Result<Micros, InputError> {
    let us = ms_to_us(ms, field)?;
    if us < 1_000 {
        return Err(InputError::new(field, format!("must be at least 1 ms, got {ms}")));
    }
    Ok(us)
}

impl ServiceSpec {
    /// The wait before retries, from `backoff_ms` and `backoff_cap_ms`.
    fn backoff(&self) -> Result<Backoff, InputError> {
        Ok(Backoff {
            base_us: at_least_1ms(self.backoff_ms, "backoff_ms")?,
            cap_us: at_least_1ms(self.backoff_cap_ms, "backoff_cap_ms")?,
        })
    }

    /// Validates every field against a cluster of `nodes` nodes.
    pub fn config(&self, nodes: u32) -> Result<ServiceConfig, InputError> {
        if !(1..=MAX_REPLICAS).contains(&self.replicas) {
            return Err(InputError::new(
                "replicas",
                format!("must be between 1 and {MAX_REPLICAS}, got {}", self.replicas),
            ));
        }
        let servers = 1 + self.replicas + self.backend as u32;
        if nodes <= servers {
            return Err(InputError::new(
                "nodes",
                format!(
                    "a balancer, {} replicas{} and at least one client need at least {} nodes, got {nodes}",
                    self.replicas,
                    if self.backend { ", a backend" } else { "" },
                    servers + 1
                ),
            ));
        }
        if nodes > MAX_SERVICE_NODES {
            return Err(InputError::new(
                "nodes",
                format!("a service scenario has at most {MAX_SERVICE_NODES} nodes, got {nodes}"),
            ));
        }
        let rate = |r: f64, field: &str| -> Result<f64, InputError> {
            if !(r.is_finite() && (0.0..=MAX_RATE).contains(&r)) {
                return Err(InputError::new(
                    field,
                    format!("must be between 0 and {MAX_RATE} requests per second, got {r}"),
                ));
            }
            Ok(r)
        };
        let at_least_100us = |ms: f64, field: &str| -> Result<Micros, InputError> {
            let us = ms_to_us(ms, field)?;
            if us < 100 {
                return Err(InputError::new(field, format!("must be at least 0.1 ms, got {ms}")));
            }
            Ok(us)
        };
        match &self.pattern {
            Pattern::Constant => {}
            Pattern::Ramp { to_per_s, over_ms } => {
                rate(*to_per_s, "pattern.to_per_s")?;
                at_least_1ms(*over_ms, "pattern.over_ms")?;
            }
            Pattern::Bursts {
                every_ms,
                for_ms,
                factor,
            } => {
                let every = at_least_1ms(*every_ms, "pattern.every_ms")?;
                let r#for = at_least_1ms(*for_ms, "pattern.for_ms")?;
                if r#for > every {
                    return Err(InputError::new(
                        "pattern.for_ms",
                        format!("must be at most every_ms ({every_ms}), got {for_ms}"),
                    ));
                }
                if !(factor.is_finite() && (0.0..=100.0).contains(factor)) {
                    return Err(InputError::new(
                        "pattern.factor",
                        format!("must be between 0 and 100, got {factor}"),
                    ));
                }
                rate(self.rate_per_s * factor, "pattern.factor")?;
            }
        }
        let noisy = match &self.noisy {
            None => None,
            Some(n) => Some((
                ms_to_us(n.from_ms, "noisy.from_ms")?,
                rate(n.rate_per_s, "noisy.rate_per_s")?,
            )),
        };
        if self.retries > 10 {
            return Err(InputError::new(
                "retries",
                format!("must be at most 10, got {}", self.retries),
            ));
        }
        if let Some(b) = self.budget {
            if !(b.is_finite() && (0.0..=1.0).contains(&b)) {
                return Err(InputError::new("budget", format!("must be between 0 and 1, got {b}")));
            }
        }
        let breaker = match &self.breaker {
            None => None,
            Some(b) => {
                if !(1..=100).contains(&b.failures) {
                    return Err(InputError::new(
                        "breaker.failures",
                        format!("must be between 1 and 100, got {}", b.failures),
                    ));
                }
                Some((b.failures, at_least_1ms(b.open_ms, "breaker.open_ms")?))
            }
        };
        let workers = |w: u32, field: &str| -> Result<u32, InputError> {
            if !(1..=256).contains(&w) {
                return Err(InputError::new(field, format!("must be between 1 and 256, got {w}")));
            }
            Ok(w)
        };
        let workers_n = workers(self.workers, "workers")?;
        if self.bulkheads && workers_n < 2 {
            return Err(InputError::new(
                "workers",
                "bulkheads split the workers between two tenants: at least 2 needed, got 1",
            ));
        }
        if !(1..=100_000).contains(&self.queue_limit) {
            return Err(InputError::new(
                "queue_limit",
                format!("must be between 1 and 100000, got {}", self.queue_limit),
            ));
        }
        if let Some(s) = self.shed_at {
            if s == 0 || s > self.queue_limit {
                return Err(InputError::new(
                    "shed_at",
                    format!("must be between 1 and queue_limit ({}), got {s}", self.queue_limit),
                ));
            }
        }
        if self.max_outstanding == Some(0) {
            return Err(InputError::new("max_outstanding", "must be at least 1, got 0"));
        }
        let backend = self.backend.then_some(1 + self.replicas);
        Ok(ServiceConfig {
            replicas: self.replicas,
            backend,
            first_client: servers,
            clients: nodes - servers,
            rate_per_s: rate(self.rate_per_s, "rate_per_s")?,
            pattern: self.pattern.clone(),
            noisy,
            timeout_us: at_least_1ms(self.timeout_ms, "timeout_ms")?,
            retry: self.retry,
            retries: self.retries,
            backoff: self.backoff()?,
            budget: self.budget,
            balancing: self.balancing,
            health_check_us: self
                .health_check_ms
                .map(|ms| at_least_1ms(ms, "health_check_ms"))
                .transpose()?,
            breaker,
            max_outstanding: self.max_outstanding,
            workers: workers_n,
            service_us: at_least_100us(self.service_ms, "service_ms")?,
            backend_workers: workers(self.backend_workers, "backend_workers")?,
            backend_service_us: at_least_100us(self.backend_service_ms, "backend_service_ms")?,
            shed_at: self.shed_at,
            queue_limit: self.queue_limit,
            restart_us: at_least_1ms(self.restart_ms, "restart_ms")?,
            warmup_us: ms_to_us(self.warmup_ms, "warmup_ms")?,
            bulkheads: self.bulkheads,
        })
    }
}

/// A request's identity: client << 32 | sequence.
pub type ReqId = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceMsg {
    Request { id: ReqId, tenant: u8 },
    Response { id: ReqId },
    Error { id: ReqId },
    Forward { id: ReqId, tenant: u8 },
    Reply { id: ReqId, ok: bool },
    Health,
    HealthOk,
    Query { id: ReqId },
    QueryOk { id: ReqId },
}

message_kinds!(ServiceMsg {
    Request = 3 "request",
    Response = 4 "response",
    Error = 5 "error",
    Forward = 6 "forward",
    Reply = 7 "reply",
    Health = 8 "health check",
    HealthOk = 9 "health ok",
    Query = 10 "query",
    QueryOk = 11 "query ok",
});

impl MessageInfo for ServiceMsg {
    fn digest(&self) -> u64 {
        let payload = match *self {
            ServiceMsg::Request { id, tenant } | ServiceMsg::Forward { id, tenant } => id ^ (tenant as u64) << 56,
            ServiceMsg::Response { id }
            | ServiceMsg::Error { id }
            | ServiceMsg::Query { id }
            | ServiceMsg::QueryOk { id } => id,
            ServiceMsg::Reply { id, ok } => id ^ (ok as u64) << 57,
            ServiceMsg::Health | ServiceMsg::HealthOk => 0,
        };
        (self.kind() as u64) << 58 ^ payload
    }
    fn is_work(&self) -> bool {
        matches!(
            self,
            ServiceMsg::Request { .. } | ServiceMsg::Forward { .. } | ServiceMsg::Query { .. }
        )
    }
}

/// A replica's durable state: how many times it booted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceDurable {
    pub boots: u32,
}

impl Durable for ServiceDurable {
    fn damage(&mut self, _damage: Damage, _noise: u64) {}
}

/// Facts for the checkers and charts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceObs {
    /// A client started a new request.
    Offered { tenant: u8 },
    /// A client sent an attempt (the first or a retry).
    Attempt { retry: bool },
    /// A client got its answer after `latency_us`.
    Success { tenant: u8, latency_us: Micros },
    /// An attempt failed: an error answer or a timeout.
    Failed { timeout: bool },
    /// A client gave up on a request.
    GaveUp { tenant: u8 },
    /// A replica turned a request away early (load shedding, a full bulkhead).
    Shed,
    /// A replica ran out of memory.
    OutOfMemory,
    /// A replica finished a request that spent `sojourn_us` in it.
    Served { sojourn_us: Micros },
}

const ARRIVAL: TimerTag = 1;
const SWEEP: TimerTag = 2;
const HEALTH: TimerTag = 3;
/// Retries carry the request's sequence number in the upper bits.
const RETRY: TimerTag = 4;
/// Service completions carry the worker index in the upper bits.
const DONE: TimerTag = 5;

/// How often clients and the balancer look for timed-out requests.
const SWEEP_US: Micros = 20_000;

/// A request a client waits for.
#[derive(Clone, Copy, Debug)]
struct Outstanding {
    started_us: Micros,
    sent_us: Micros,
    attempt: u32,
    /// Waiting for a retry timer (not in flight).
    backing_off: bool,
}

/// A request inside a replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Job {
    id: ReqId,
    tenant: u8,
    arrived_us: Micros,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Worker {
    Idle,
    Serving(Job),
    /// Waiting for the backend's answer.
    Querying(Job),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breaker {
    Closed { failures: u32 },
    Open { until_us: Micros },
    HalfOpen { probing: bool },
}

/// The balancer's view of one replica.
#[derive(Clone, Copy, Debug)]
struct Backend {
    outstanding: u32,
    missed_checks: u32,
    awaiting_check: bool,
    breaker: Breaker,
}

/// A forwarded request the balancer waits on.
#[derive(Clone, Copy, Debug)]
struct Forwarded {
    client: NodeId,
    replica: NodeId,
    sent_us: Micros,
}

/// A node: a client, the balancer, or a server (a replica or the backend), each with only
/// its own fields.
#[derive(Clone, Debug)]
pub enum Service {
    Client(Client),
    Balancer(Balancer),
    Server(Server),
}

impl Service {
    /// Requests waiting in this replica's (or backend's) queues; 0 for other roles.
    pub fn queued(&self) -> usize {
        match self {
            Service::Server(s) => s.queued(),
            _ => 0,
        }
    }

    /// Open (or half-open) breakers at the balancer; 0 for other roles.
    pub fn open_breakers(&self) -> usize {
        match self {
            Service::Balancer(b) => b.open_breakers(),
            _ => 0,
        }
    }
}

/// A client: requests started as a Poisson process, timeouts, retries, a retry budget.
#[derive(Clone, Debug)]
pub struct Client {
    config: ServiceConfig,
    id: NodeId,
    rng: Rng,
    durable: ServiceDurable,
    next_seq: u32,
    inflight: BTreeMap<u32, Outstanding>,
    budget: RetryBudget,
}

/// The load balancer: its view of each replica, the requests it forwarded.
#[derive(Clone, Debug)]
pub struct Balancer {
    config: ServiceConfig,
    durable: ServiceDurable,
    backends: Vec<Backend>,
    forwarded: BTreeMap<ReqId, Forwarded>,
    /// Forwarded ids in send order, for the timeout sweep.
    forward_order: VecDeque<(Micros, ReqId)>,
    next_rr: u32,
}

/// A replica or the backend: workers and queues.
#[derive(Clone, Debug)]
pub struct Server {
    config: ServiceConfig,
    id: NodeId,
    rng: Rng,
    durable: ServiceDurable,
    boot_us: Micros,
    workers: Vec<Worker>,
    queues: [VecDeque<Job>; 2],
    served: u64,
    arrivals: u64,
    sojourn_sum_us: u64,
}

impl Client {
    fn tenant(&self) -> u8 {
        ((self.id - self.config.first_client) % 2) as u8
    }

    /// This client's rate of new requests at local time `now`, per second.
    fn rate_at(&self, now: Micros) -> f64 {
        let c = &self.config;
        let base = match c.pattern {
            Pattern::Constant => c.rate_per_s,
            Pattern::Ramp { to_per_s, over_ms } => {
                let f = (now as f64 / (over_ms * 1_000.0)).min(1.0);
                c.rate_per_s + (to_per_s - c.rate_per_s) * f
            }
            Pattern::Bursts {
                every_ms,
                for_ms,
                factor,
            } => {
                let phase = now as f64 % (every_ms * 1_000.0);
                if phase < for_ms * 1_000.0 {
                    c.rate_per_s * factor
                } else {
                    c.rate_per_s
                }
            }
        };
        let mut rate = base / c.clients as f64;
        if let Some((from, extra)) = c.noisy {
            let noisy_clients = c.clients / 2;
            if self.tenant() == 1 && now >= from && noisy_clients > 0 {
                rate += extra / noisy_clients as f64;
            }
        }
        rate
    }

    fn schedule_arrival(&mut self, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        let rate = self.rate_at(ctx.now_local_us);
        // Exponential gaps; an idle client looks again in 100 ms.
        let gap = if rate <= 0.0 {
            100_000
        } else {
            let u = 1.0 - self.rng.unit();
            ((-libm::log(u) / rate) * 1e6).max(1.0) as Micros
        };
        ctx.set_timer(gap, ARRIVAL);
    }

    fn send_attempt(&mut self, seq: u32, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        let id = request_id(self.id, seq);
        let Some(o) = self.inflight.get_mut(&seq) else { return };
        o.sent_us = ctx.now_local_us;
        o.backing_off = false;
        ctx.observe(ServiceObs::Attempt { retry: o.attempt > 0 });
        ctx.send(
            0,
            ServiceMsg::Request {
                id,
                tenant: self.tenant(),
            },
        );
    }

    /// After a failed attempt: retry now, later, or give up.
    fn after_failure(&mut self, seq: u32, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        let Some(mut o) = self.inflight.get(&seq).copied() else {
            return;
        };
        let c = &self.config;
        let may_retry = c.retry != RetryPolicy::None && o.attempt < c.retries && self.budget.try_spend();
        if !may_retry {
            self.inflight.remove(&seq);
            ctx.observe(ServiceObs::GaveUp { tenant: self.tenant() });
            return;
        }
        o.attempt += 1;
        match c.retry {
            RetryPolicy::Backoff => {
                let delay = c.backoff.delay(&mut self.rng, o.attempt);
                o.backing_off = true;
                self.inflight.insert(seq, o);
                ctx.set_timer(delay, timer_tag(RETRY, seq as u64));
            }
            _ => {
                self.inflight.insert(seq, o);
                self.send_attempt(seq, ctx);
            }
        }
    }

    fn client_message(&mut self, msg: ServiceMsg, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        match msg {
            ServiceMsg::Response { id } => {
                let seq = id as u32;
                if let Some(o) = self.inflight.get(&seq).filter(|o| !o.backing_off) {
                    let latency_us = ctx.now_local_us.saturating_sub(o.started_us);
                    self.inflight.remove(&seq);
                    ctx.observe(ServiceObs::Success {
                        tenant: self.tenant(),
                        latency_us,
                    });
                }
            }
            ServiceMsg::Error { id } => {
                let seq = id as u32;
                if self.inflight.get(&seq).is_some_and(|o| !o.backing_off) {
                    ctx.observe(ServiceObs::Failed { timeout: false });
                    self.after_failure(seq, ctx);
                }
            }
            _ => {}
        }
    }

    fn client_sweep(&mut self, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        let now = ctx.now_local_us;
        let timeout = self.config.timeout_us;
        let expired: Vec<u32> = (self.inflight.iter())
            .filter(|(_, o)| !o.backing_off && now >= o.sent_us + timeout)
            .map(|(&s, _)| s)
            .collect();
        for seq in expired {
            ctx.observe(ServiceObs::Failed { timeout: true });
            self.after_failure(seq, ctx);
        }
    }
}

impl Balancer {
    /// Open (or half-open) breakers.
    pub fn open_breakers(&self) -> usize {
        (self.backends.iter())
            .filter(|b| !matches!(b.breaker, Breaker::Closed { .. }))
            .count()
    }

    fn eligible(&mut self, r: usize, now: Micros) -> bool {
        let b = &mut self.backends[r];
        if b.missed_checks >= 2 {
            return false;
        }
        match b.breaker {
            Breaker::Closed { .. } => true,
            Breaker::Open { until_us } if now >= until_us => {
                b.breaker = Breaker::HalfOpen { probing: false };
                true
            }
            Breaker::Open { .. } => false,
            Breaker::HalfOpen { probing } => !probing,
        }
    }

    fn pick(&mut self, now: Micros) -> Option<usize> {
        let n = self.backends.len();
        match self.config.balancing {
            Balancing::RoundRobin => {
                for k in 0..n {
                    let r = (self.next_rr as usize + k) % n;
                    if self.eligible(r, now) {
                        self.next_rr = ((r + 1) % n) as u32;
                        return Some(r);
                    }
                }
                None
            }
            Balancing::LeastOutstanding => {
                let start = self.next_rr as usize % n;
                self.next_rr = self.next_rr.wrapping_add(1);
                let mut best: Option<usize> = None;
                for k in 0..n {
                    let r = (start + k) % n;
                    if self.eligible(r, now)
                        && best.is_none_or(|b| self.backends[r].outstanding < self.backends[b].outstanding)
                    {
                        best = Some(r);
                    }
                }
                best
            }
        }
    }

    fn breaker_result(&mut self, r: usize, ok: bool, now: Micros) {
        let Some((failures, open_us)) = self.config.breaker else {
            return;
        };
        let b = &mut self.backends[r];
        b.breaker = match (b.breaker, ok) {
            (_, true) => Breaker::Closed { failures: 0 },
            (Breaker::Closed { failures: f }, false) if f + 1 < failures => Breaker::Closed { failures: f + 1 },
            (Breaker::Open { until_us }, false) => Breaker::Open { until_us },
            (_, false) => Breaker::Open {
                until_us: now + open_us,
            },
        };
    }

    fn balancer_message(&mut self, from: NodeId, msg: ServiceMsg, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        let now = ctx.now_local_us;
        match msg {
            ServiceMsg::Request { id, tenant } => {
                let full = self
                    .config
                    .max_outstanding
                    .is_some_and(|m| self.forwarded.len() as u32 >= m);
                let choice = if full { None } else { self.pick(now) };
                let Some(r) = choice else {
                    ctx.send(from, ServiceMsg::Error { id });
                    return;
                };
                let b = &mut self.backends[r];
                b.outstanding += 1;
                if let Breaker::HalfOpen { .. } = b.breaker {
                    b.breaker = Breaker::HalfOpen { probing: true };
                }
                let replica = r as NodeId + 1;
                // A retry of a request still forwarded elsewhere replaces it.
                if let Some(old) = self.forwarded.insert(
                    id,
                    Forwarded {
                        client: from,
                        replica,
                        sent_us: now,
                    },
                ) {
                    let o = &mut self.backends[old.replica as usize - 1].outstanding;
                    *o = o.saturating_sub(1);
                }
                self.forward_order.push_back((now, id));
                ctx.send(replica, ServiceMsg::Forward { id, tenant });
            }
            ServiceMsg::Reply { id, ok } => {
                let Some(f) = self.forwarded.get(&id).copied() else {
                    return;
                };
                if f.replica != from {
                    return;
                }
                self.forwarded.remove(&id);
                let r = from as usize - 1;
                let b = &mut self.backends[r];
                b.outstanding = b.outstanding.saturating_sub(1);
                // A shed request is a fast "try later", not a sign the replica is broken.
                if ok {
                    self.breaker_result(r, true, now);
                    ctx.send(f.client, ServiceMsg::Response { id });
                } else {
                    if let Breaker::HalfOpen { .. } = self.backends[r].breaker {
                        self.backends[r].breaker = Breaker::HalfOpen { probing: false };
                    }
                    ctx.send(f.client, ServiceMsg::Error { id });
                }
            }
            ServiceMsg::HealthOk if (1..=self.config.replicas).contains(&from) => {
                let b = &mut self.backends[from as usize - 1];
                b.awaiting_check = false;
                b.missed_checks = 0;
            }
            _ => {}
        }
    }

    fn balancer_sweep(&mut self, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        let now = ctx.now_local_us;
        let timeout = self.config.timeout_us;
        while let Some(&(sent, id)) = self.forward_order.front() {
            if now < sent + timeout {
                break;
            }
            self.forward_order.pop_front();
            let Some(f) = self.forwarded.get(&id).copied() else {
                continue;
            };
            if f.sent_us != sent {
                continue; // replaced by a later forward of the same id
            }
            self.forwarded.remove(&id);
            let r = f.replica as usize - 1;
            let b = &mut self.backends[r];
            b.outstanding = b.outstanding.saturating_sub(1);
            self.breaker_result(r, false, now);
        }
    }

    fn health_round(&mut self, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        for (r, b) in self.backends.iter_mut().enumerate() {
            if b.awaiting_check {
                b.missed_checks = b.missed_checks.saturating_add(1);
            }
            b.awaiting_check = true;
            ctx.send(r as NodeId + 1, ServiceMsg::Health);
        }
    }
}

impl Server {
    pub fn is_replica(&self) -> bool {
        (1..=self.config.replicas).contains(&self.id)
    }

    pub fn is_backend(&self) -> bool {
        self.config.backend == Some(self.id)
    }

    /// Requests waiting in this replica's (or backend's) queues.
    pub fn queued(&self) -> usize {
        self.queues[0].len() + self.queues[1].len()
    }

    /// Busy workers.
    pub fn busy(&self) -> usize {
        self.workers.iter().filter(|w| **w != Worker::Idle).count()
    }

    fn service_time(&mut self, now: Micros) -> Micros {
        let mean = if self.is_backend() {
            self.config.backend_service_us
        } else {
            self.config.service_us
        };
        let cold = self.is_replica() && self.durable.boots > 1 && now < self.boot_us + self.config.warmup_us;
        let mean = if cold { mean * 3 } else { mean } as f64;
        let u = 1.0 - self.rng.unit();
        (-libm::log(u) * mean).max(1.0) as Micros
    }

    /// The worker pool a tenant may use: all of them, or its half with bulkheads.
    fn pool(&self, tenant: u8) -> std::ops::Range<usize> {
        let n = self.workers.len();
        if self.config.bulkheads && self.is_replica() {
            let half = n / 2;
            if tenant == 0 {
                0..half
            } else {
                half..n
            }
        } else {
            0..n
        }
    }

    fn start(&mut self, w: usize, job: Job, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        assert_eq!(self.workers[w], Worker::Idle, "a busy worker took another request");
        self.workers[w] = Worker::Serving(job);
        let t = self.service_time(ctx.now_local_us);
        ctx.set_timer(t, timer_tag(DONE, w as u64));
    }

    fn accept(&mut self, id: ReqId, tenant: u8, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        self.arrivals += 1;
        let job = Job {
            id,
            tenant,
            arrived_us: ctx.now_local_us,
        };
        let pool = self.pool(tenant);
        if let Some(w) = pool.clone().find(|&w| self.workers[w] == Worker::Idle) {
            self.start(w, job, ctx);
            return;
        }
        let q = if self.config.bulkheads && self.is_replica() {
            tenant as usize
        } else {
            0
        };
        let shed_limit = if self.config.bulkheads && self.is_replica() {
            // A bulkhead bounds each tenant's queue.
            Some(self.config.shed_at.unwrap_or(self.config.queue_limit / 2) / 2)
        } else if self.is_replica() {
            self.config.shed_at
        } else {
            None
        };
        if shed_limit.is_some_and(|s| self.queues[q].len() >= s as usize) {
            ctx.observe(ServiceObs::Shed);
            ctx.send(0, ServiceMsg::Reply { id, ok: false });
            return;
        }
        if self.is_backend() && self.queued() >= BACKEND_QUEUE_MAX {
            return; // a database drowning in queries drops them
        }
        self.queues[q].push_back(job);
        if self.is_replica() && self.queued() > self.config.queue_limit as usize {
            ctx.observe(ServiceObs::OutOfMemory);
            ctx.crash_self(Some(self.config.restart_us));
        }
    }

    fn finish(&mut self, w: usize, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        let job = match self.workers[w] {
            Worker::Serving(job) => job,
            _ => return,
        };
        if let (Some(db), true) = (self.config.backend, self.is_replica()) {
            self.workers[w] = Worker::Querying(job);
            ctx.send(db, ServiceMsg::Query { id: job.id });
            return;
        }
        self.complete(w, job, ctx);
    }

    fn complete(&mut self, w: usize, job: Job, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        self.workers[w] = Worker::Idle;
        let sojourn = ctx.now_local_us.saturating_sub(job.arrived_us);
        self.served += 1;
        self.sojourn_sum_us += sojourn;
        if self.is_backend() {
            // The backend answers the replica that asked (its id rides in the job's tenant slot).
            ctx.send(job.tenant as NodeId + 1, ServiceMsg::QueryOk { id: job.id });
        } else {
            ctx.observe(ServiceObs::Served { sojourn_us: sojourn });
            ctx.send(0, ServiceMsg::Reply { id: job.id, ok: true });
        }
        // The next request this worker may take: its own tenant's queue first.
        let pool = self.pool(job.tenant);
        let q = if self.config.bulkheads && self.is_replica() {
            if pool.start == 0 {
                0
            } else {
                1
            }
        } else {
            0
        };
        if let Some(next) = self.queues[q].pop_front() {
            self.start(w, next, ctx);
        }
    }

    fn server_message(&mut self, from: NodeId, msg: ServiceMsg, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        match msg {
            ServiceMsg::Health if self.is_replica() => ctx.send(from, ServiceMsg::HealthOk),
            ServiceMsg::Forward { id, tenant } if self.is_replica() => self.accept(id, tenant, ctx),
            ServiceMsg::Query { id } if self.is_backend() && (1..=self.config.replicas).contains(&from) => {
                self.accept(id, (from - 1) as u8, ctx)
            }
            ServiceMsg::QueryOk { id } if self.is_replica() => {
                if let Some(w) = (self.workers.iter()).position(|w| matches!(w, Worker::Querying(j) if j.id == id)) {
                    let Worker::Querying(job) = self.workers[w] else {
                        unreachable!()
                    };
                    self.complete(w, job, ctx);
                }
            }
            _ => {}
        }
    }
}

impl Protocol for Service {
    type Config = ServiceConfig;
    type Msg = ServiceMsg;
    type Durable = ServiceDurable;
    type Obs = ServiceObs;
    const NAME: &'static str = "service";
    const CRASHES_ITSELF: bool = true;

    fn approx_bytes(&self) -> usize {
        use crate::budget::{deque_bytes, map_bytes, vec_bytes};
        std::mem::size_of_val(self)
            + match self {
                Service::Client(c) => map_bytes(&c.inflight),
                Service::Balancer(b) => {
                    vec_bytes(&b.backends) + map_bytes(&b.forwarded) + deque_bytes(&b.forward_order)
                }
                Service::Server(s) => vec_bytes(&s.workers) + s.queues.iter().map(deque_bytes).sum::<usize>(),
            }
    }

    fn boot(
        config: &ServiceConfig,
        id: NodeId,
        _nodes: u32,
        mut durable: ServiceDurable,
        rng: Rng,
        ctx: &mut Ctx<ServiceMsg, ServiceObs>,
    ) -> Self {
        durable.boots += 1;
        let config = config.clone();
        if id >= config.first_client {
            let mut node = Client {
                budget: RetryBudget::new(config.budget),
                config,
                id,
                rng,
                durable,
                next_seq: 0,
                inflight: BTreeMap::new(),
            };
            node.schedule_arrival(ctx);
            ctx.set_timer(SWEEP_US, SWEEP);
            Service::Client(node)
        } else if id == 0 {
            let fresh = Backend {
                outstanding: 0,
                missed_checks: 0,
                awaiting_check: false,
                breaker: Breaker::Closed { failures: 0 },
            };
            ctx.set_timer(SWEEP_US, SWEEP);
            if let Some(every) = config.health_check_us {
                ctx.set_timer(every, HEALTH);
            }
            Service::Balancer(Balancer {
                backends: vec![fresh; config.replicas as usize],
                config,
                durable,
                forwarded: BTreeMap::new(),
                forward_order: VecDeque::new(),
                next_rr: 0,
            })
        } else {
            let n = if config.backend == Some(id) {
                config.backend_workers
            } else {
                config.workers
            };
            Service::Server(Server {
                config,
                id,
                rng,
                durable,
                boot_us: ctx.now_local_us,
                workers: vec![Worker::Idle; n as usize],
                queues: [VecDeque::new(), VecDeque::new()],
                served: 0,
                arrivals: 0,
                sojourn_sum_us: 0,
            })
        }
    }

    fn on_message(&mut self, from: NodeId, msg: ServiceMsg, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        match self {
            Service::Client(c) => c.client_message(msg, ctx),
            Service::Balancer(b) => b.balancer_message(from, msg, ctx),
            Service::Server(s) => s.server_message(from, msg, ctx),
        }
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        let arg = timer_arg(tag);
        match (self, timer_kind(tag)) {
            (Service::Client(c), ARRIVAL) => c.arrival(ctx),
            (Service::Client(c), SWEEP) => {
                c.client_sweep(ctx);
                ctx.set_timer(SWEEP_US, SWEEP);
            }
            (Service::Client(c), RETRY) => {
                let seq = arg as u32;
                if c.inflight.get(&seq).is_some_and(|o| o.backing_off) {
                    c.send_attempt(seq, ctx);
                }
            }
            (Service::Balancer(b), SWEEP) => {
                b.balancer_sweep(ctx);
                ctx.set_timer(SWEEP_US, SWEEP);
            }
            (Service::Balancer(b), HEALTH) => {
                b.health_round(ctx);
                if let Some(every) = b.config.health_check_us {
                    ctx.set_timer(every, HEALTH);
                }
            }
            (Service::Server(s), DONE) => s.finish(arg as usize, ctx),
            _ => {}
        }
    }

    fn durable(&self) -> ServiceDurable {
        match self {
            Service::Client(c) => c.durable,
            Service::Balancer(b) => b.durable,
            Service::Server(s) => s.durable,
        }
    }
}

impl Client {
    /// A new request, unless this client already waits on too many.
    fn arrival(&mut self, ctx: &mut Ctx<ServiceMsg, ServiceObs>) {
        if self.inflight.len() < CLIENT_INFLIGHT_MAX {
            self.next_seq = self.next_seq.wrapping_add(1);
            let seq = self.next_seq;
            self.budget.earn();
            ctx.observe(ServiceObs::Offered { tenant: self.tenant() });
            self.inflight.insert(
                seq,
                Outstanding {
                    started_us: ctx.now_local_us,
                    sent_us: ctx.now_local_us,
                    attempt: 0,
                    backing_off: false,
                },
            );
            self.send_attempt(seq, ctx);
        }
        self.schedule_arrival(ctx);
    }
}
