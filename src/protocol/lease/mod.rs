//! A lock service with leases, and storage that may check fencing tokens.
//!
//! Roles: node 0 is the lock server (role 5), node 1 the storage (role 6), nodes 2.. are
//! clients (role 4). A client asks the server for the lease; the server grants it for
//! `lease` by its own clock, with a token one higher than any before (the token counter is
//! durable: a restarted server never reuses one, and it waits one lease before granting,
//! so a lease given before the crash has run out). The client believes it holds the lease
//! until its own clock says `lease − margin` has passed since it asked (the margin covers
//! the gap between checking and writing, and network delay). While it believes, it
//! writes to the storage every `write_every`: each write is prepared after a check of the
//! lease and sent at the next tick without checking again — so a process pause between
//! the two (a GC pause) sends a write on a lease that ran out long ago.
//!
//! Defences: with `fencing`, the storage remembers the highest token it has accepted and
//! rejects a write with a lower one. With `stonith`, the lock server fences at the
//! storage before every hand-over: it tells the storage which client alone may write now
//! and waits for the storage to confirm before granting (a storage-level reservation, as
//! SCSI persistent reservations do); while the storage cannot confirm, nobody gets the
//! lease (safety before availability). Killing the old holder by message would not do: a
//! paused process reads its mail only after it wakes, and by then it may have written.
//!
//! A node is `Lease::Server`, `Lease::Storage` or `Lease::Client` (`client.rs`), each
//! with only its own fields.
//!
//! Durable: the server's token counter; the storage's highest token, admitted client and
//! write count. Everything else is volatile.
//!
//! Message kinds: listed once, in the `message_kinds!` line below.
//!
//! Checkers: `stale_write_landed` (the storage accepted a write whose lease had run out by
//! true time or had been superseded, or whose token is lower than one already accepted:
//! the corruption), `mutual_exclusion` (two clients believe they hold the lease at once),
//! `fenced_writes` (a measure: stale writes the storage rejected).

mod byzantine;
mod checks;
mod client;
mod view;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::protocol::timers::{timer_kind, Generation};
use crate::protocol::{message_kinds, Ctx, Durable, MessageInfo, MessageKinds, Protocol, TimerTag};
use crate::rng::Rng;
use crate::time::{ms_to_us, us_to_ms, Micros};
use crate::vocab::{Damage, NodeId};

pub use client::Client;

/// The lock server's node id.
pub const SERVER: NodeId = 0;
/// The storage's node id.
pub const STORAGE: NodeId = 1;
/// Most nodes a lease scenario may have (one server, one storage, clients).
pub const MAX_LEASE_NODES: u32 = 64;

/// The lease service as a scenario writes it (milliseconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeaseSpec {
    /// How long a grant or renewal lasts, by the server's clock.
    pub lease_ms: f64,
    /// How long before its lease runs out (by its own clock) a client stops believing it.
    pub margin_ms: f64,
    /// How often a holder renews.
    pub renew_every_ms: f64,
    /// How often a holder writes.
    pub write_every_ms: f64,
    /// How long a client keeps the lease before releasing it.
    pub hold_ms: f64,
    /// How long a client rests after releasing before asking again.
    pub rest_ms: f64,
    /// How long a client waits after a refusal (or no answer) before asking again.
    pub retry_ms: f64,
    /// The storage rejects writes with a token lower than the highest it has accepted.
    pub fencing: bool,
    /// The server fences the storage (only the new holder may write) before each hand-over.
    pub stonith: bool,
}

impl Default for LeaseSpec {
    fn default() -> Self {
        LeaseSpec {
            lease_ms: 1_000.0,
            margin_ms: 200.0,
            renew_every_ms: 300.0,
            write_every_ms: 100.0,
            hold_ms: 3_000.0,
            rest_ms: 1_000.0,
            retry_ms: 250.0,
            fencing: false,
            stonith: false,
        }
    }
}

/// The lease service in engine units.
#[derive(Clone, Debug, PartialEq)]
pub struct LeaseConfig {
    pub lease_us: Micros,
    pub margin_us: Micros,
    pub renew_every_us: Micros,
    pub write_every_us: Micros,
    pub hold_us: Micros,
    pub rest_us: Micros,
    pub retry_us: Micros,
    pub fencing: bool,
    pub stonith: bool,
}

impl LeaseSpec {
    /// Validates every field against a cluster of `nodes` nodes.
    pub fn config(&self, nodes: u32) -> Result<LeaseConfig, InputError> {
        if nodes < 3 {
            return Err(InputError::new(
                "nodes",
                format!(
                    "a lease scenario needs at least 3 nodes (node 0 the lock server, node 1 the storage, \
                     nodes 2.. clients), got {nodes}"
                ),
            ));
        }
        if nodes > MAX_LEASE_NODES {
            return Err(InputError::new(
                "nodes",
                format!("a lease scenario has at most {MAX_LEASE_NODES} nodes, got {nodes}"),
            ));
        }
        let at_least = |ms: f64, field: &str, min_ms: f64| -> Result<Micros, InputError> {
            let us = ms_to_us(ms, field)?;
            if us < ms_to_us(min_ms, field)? {
                return Err(InputError::new(
                    field,
                    format!("must be at least {min_ms} ms, got {ms}"),
                ));
            }
            Ok(us)
        };
        let lease_us = at_least(self.lease_ms, "lease_ms", 10.0)?;
        let margin_us = ms_to_us(self.margin_ms, "margin_ms")?;
        if margin_us >= lease_us {
            return Err(InputError::new(
                "margin_ms",
                format!(
                    "must be shorter than lease_ms ({} ms), got {}",
                    self.lease_ms, self.margin_ms
                ),
            ));
        }
        let renew_every_us = at_least(self.renew_every_ms, "renew_every_ms", 1.0)?;
        if renew_every_us >= lease_us - margin_us {
            return Err(InputError::new(
                "renew_every_ms",
                format!(
                    "must be shorter than lease_ms − margin_ms ({} ms), or a holder never renews in time; got {}",
                    self.lease_ms - self.margin_ms,
                    self.renew_every_ms
                ),
            ));
        }
        Ok(LeaseConfig {
            lease_us,
            margin_us,
            renew_every_us,
            write_every_us: at_least(self.write_every_ms, "write_every_ms", 1.0)?,
            hold_us: at_least(self.hold_ms, "hold_ms", 1.0)?,
            rest_us: ms_to_us(self.rest_ms, "rest_ms")?,
            retry_us: at_least(self.retry_ms, "retry_ms", 1.0)?,
            fencing: self.fencing,
            stonith: self.stonith,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseMsg {
    /// Sent at the client's local time `at`, echoed in the answer: the client measures its
    /// lease from when it asked, which is before the server granted it.
    Acquire {
        at: Micros,
    },
    Grant {
        token: u64,
        at: Micros,
    },
    Busy,
    Renew {
        token: u64,
        at: Micros,
    },
    Renewed {
        token: u64,
        at: Micros,
    },
    RenewRefused {
        token: u64,
    },
    Release {
        token: u64,
    },
    /// A write of the client's `seq`-th value under `token`.
    Write {
        token: u64,
        seq: u32,
    },
    Accepted {
        seq: u32,
    },
    Rejected {
        seq: u32,
    },
    /// From the server to the storage: from now on only `holder` may write.
    Fence {
        holder: NodeId,
        token: u64,
    },
    FenceAck {
        token: u64,
    },
}

message_kinds!(LeaseMsg {
    Acquire = 0 "acquire",
    Grant = 1 "grant",
    Busy = 2 "busy",
    Renew = 3 "renew",
    Renewed = 4 "renewed",
    RenewRefused = 5 "renew refused",
    Release = 6 "release",
    Write = 7 "write",
    Accepted = 8 "accepted",
    Rejected = 9 "rejected",
    Fence = 10 "fence",
    FenceAck = 11 "fence ack",
});

impl MessageInfo for LeaseMsg {
    fn digest(&self) -> u64 {
        let payload = match *self {
            LeaseMsg::Busy => 0,
            LeaseMsg::Acquire { at } => at,
            LeaseMsg::Grant { token, at } | LeaseMsg::Renew { token, at } | LeaseMsg::Renewed { token, at } => {
                token << 40 ^ at
            }
            LeaseMsg::RenewRefused { token } | LeaseMsg::Release { token } | LeaseMsg::FenceAck { token } => token,
            LeaseMsg::Write { token, seq } => token << 32 | seq as u64,
            LeaseMsg::Accepted { seq } | LeaseMsg::Rejected { seq } => seq as u64,
            LeaseMsg::Fence { holder, token } => token << 32 | holder as u64,
        };
        (self.kind() as u64) << 56 ^ payload
    }
    fn is_work(&self) -> bool {
        matches!(self, LeaseMsg::Write { .. })
    }
}

/// What survives a crash: the server's token counter; the storage's fencing state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeaseDurable {
    /// Server: the last token granted.
    pub last_token: u64,
    /// Storage: the highest token accepted, and the client admitted by the last fence.
    pub highest_token: u64,
    pub admitted: Option<NodeId>,
    pub writes: u64,
}

impl Durable for LeaseDurable {
    fn damage(&mut self, damage: Damage, noise: u64) {
        match damage {
            // The last token never reached the disk: the next grant reuses it.
            Damage::Torn => {
                self.last_token = self.last_token.saturating_sub(1);
                self.highest_token = self.highest_token.saturating_sub(1);
            }
            Damage::Bitflip => {
                self.last_token ^= 1 << (noise % 8);
                self.highest_token ^= 1 << (noise % 8);
            }
        }
    }
}

/// Facts for the checkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseObs {
    /// The server granted (or renewed) `token` to `client`, for one lease from now.
    Granted {
        client: NodeId,
        token: u64,
    },
    Renewed {
        client: NodeId,
        token: u64,
    },
    Released {
        token: u64,
    },
    /// The storage accepted (or rejected) a write.
    Accepted {
        client: NodeId,
        token: u64,
    },
    Rejected {
        client: NodeId,
        token: u64,
    },
}

const ACQUIRE: TimerTag = 1;
const RENEW: TimerTag = 2;
const WORK: TimerTag = 3;
const EXPIRE: TimerTag = 4;
const FENCE_RETRY: TimerTag = 5;

/// A node: the lock server, the storage or a client, each with only its own fields.
///
/// An enum of role structs (as `Service`), not a struct around a role (as `Pbft`): the
/// roles share nothing but the configuration, so there is no common part to wrap, and
/// each role's handlers read `self.config` as they did before the split. The durable
/// record is split too: each role keeps its own part of `LeaseDurable` and hands back a
/// record with only that part filled (no role reads another's part).
#[derive(Clone, Debug)]
pub enum Lease {
    Server(Server),
    Storage(Storage),
    Client(Client),
}

/// The lock server: the lease in force, the token counter, the STONITH hand-over.
#[derive(Clone, Debug)]
pub struct Server {
    config: LeaseConfig,
    /// The last token granted (durable).
    last_token: u64,
    /// (client, token, local expiry) of the lease in force.
    lease: Option<(NodeId, u64, Micros)>,
    /// No grants before this local time (one lease after a restart).
    quiet_until_us: Micros,
    /// STONITH: the client the storage last confirmed as sole writer.
    fenced_for: Option<NodeId>,
    /// STONITH: a hand-over waiting for the storage's confirmation (client, token, the
    /// client's ask time to echo).
    fencing: Option<(NodeId, u64, Micros)>,
    /// The fence-retry timer: one chain at a time.
    fence_retry: Generation,
}

/// The storage: what it accepted, and (durable) whom and which tokens it lets write.
#[derive(Clone, Debug)]
pub struct Storage {
    config: LeaseConfig,
    /// The highest token accepted (durable).
    highest_token: u64,
    /// The client admitted by the last fence (durable).
    admitted: Option<NodeId>,
    /// Writes accepted (durable).
    writes: u64,
    /// The last accepted write (client, token, seq).
    last_write: Option<(NodeId, u64, u32)>,
}

impl Lease {
    /// Whether this client believes it holds the lease (its token), by its own clock.
    pub fn believes(&self) -> Option<u64> {
        match self {
            Lease::Client(c) => c.believes(),
            _ => None,
        }
    }
}

impl Server {
    fn boot(config: &LeaseConfig, durable: LeaseDurable, ctx: &mut Ctx<LeaseMsg, LeaseObs>) -> Server {
        let mut server = Server {
            config: config.clone(),
            last_token: durable.last_token,
            lease: None,
            quiet_until_us: 0,
            fenced_for: None,
            fencing: None,
            fence_retry: Generation::default(),
        };
        if server.last_token > 0 {
            // A restart: a lease granted before the crash may still be in force.
            server.quiet_until_us = ctx.now_local_us + config.lease_us;
        }
        server
    }

    fn on_message(&mut self, from: NodeId, msg: LeaseMsg, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        let now = ctx.now_local_us;
        let live = self.lease.filter(|&(_, _, exp)| now < exp);
        match msg {
            LeaseMsg::Acquire { at } => self.acquire(from, at, live, ctx),
            LeaseMsg::Renew { token, at } => match live {
                Some((holder, t, _)) if holder == from && t == token => {
                    self.lease = Some((from, token, now + self.config.lease_us));
                    ctx.observe(LeaseObs::Renewed { client: from, token });
                    ctx.send(from, LeaseMsg::Renewed { token, at });
                }
                _ => ctx.send(from, LeaseMsg::RenewRefused { token }),
            },
            LeaseMsg::Release { token } if live.is_some_and(|(holder, t, _)| holder == from && t == token) => {
                self.lease = None;
                ctx.observe(LeaseObs::Released { token });
            }
            LeaseMsg::FenceAck { token } => {
                if let Some((client, t, at)) = self.fencing.filter(|&(_, t, _)| t == token) {
                    self.fencing = None;
                    self.fenced_for = Some(client);
                    self.grant(client, t, at, ctx);
                }
            }
            _ => {}
        }
    }

    /// A client asks for the lease (`live`: the lease in force, if any).
    fn acquire(
        &mut self,
        from: NodeId,
        at: Micros,
        live: Option<(NodeId, u64, Micros)>,
        ctx: &mut Ctx<LeaseMsg, LeaseObs>,
    ) {
        let now = ctx.now_local_us;
        if self.fencing.is_some_and(|(c, _, _)| c == from) {
            return; // its grant follows the storage's confirmation
        }
        let busy =
            now < self.quiet_until_us || self.fencing.is_some() || live.is_some_and(|(holder, _, _)| holder != from);
        if busy {
            return ctx.send(from, LeaseMsg::Busy);
        }
        if let Some((_, token, _)) = live {
            // The holder asks again (it lost the grant): it gets its lease back.
            self.lease = Some((from, token, now + self.config.lease_us));
            ctx.observe(LeaseObs::Renewed { client: from, token });
            return ctx.send(from, LeaseMsg::Grant { token, at });
        }
        self.last_token += 1;
        let token = self.last_token;
        if self.config.stonith && self.fenced_for != Some(from) {
            self.fencing = Some((from, token, at));
            self.send_fence(ctx);
        } else {
            self.grant(from, token, at, ctx);
        }
    }

    fn grant(&mut self, client: NodeId, token: u64, at: Micros, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        self.lease = Some((client, token, ctx.now_local_us + self.config.lease_us));
        ctx.observe(LeaseObs::Granted { client, token });
        ctx.send(client, LeaseMsg::Grant { token, at });
    }

    fn send_fence(&mut self, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        if let Some((holder, token, _)) = self.fencing {
            ctx.send(STORAGE, LeaseMsg::Fence { holder, token });
            self.fence_retry.rearm(ctx, self.config.retry_us, FENCE_RETRY);
        }
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        if timer_kind(tag) == FENCE_RETRY && self.fence_retry.is_current(tag) {
            self.send_fence(ctx);
        }
    }

    fn durable(&self) -> LeaseDurable {
        LeaseDurable {
            last_token: self.last_token,
            ..LeaseDurable::default()
        }
    }
}

impl Storage {
    fn boot(config: &LeaseConfig, durable: LeaseDurable) -> Storage {
        Storage {
            config: config.clone(),
            highest_token: durable.highest_token,
            admitted: durable.admitted,
            writes: durable.writes,
            last_write: None,
        }
    }

    fn on_message(&mut self, from: NodeId, msg: LeaseMsg, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        match msg {
            LeaseMsg::Write { token, seq } => {
                let stale_token = self.config.fencing && token < self.highest_token;
                let fenced_out = self.config.stonith && self.admitted != Some(from);
                if stale_token || fenced_out {
                    ctx.observe(LeaseObs::Rejected { client: from, token });
                    return ctx.send(from, LeaseMsg::Rejected { seq });
                }
                self.highest_token = self.highest_token.max(token);
                self.writes += 1;
                self.last_write = Some((from, token, seq));
                ctx.observe(LeaseObs::Accepted { client: from, token });
                ctx.send(from, LeaseMsg::Accepted { seq });
            }
            LeaseMsg::Fence { holder, token } if from == SERVER => {
                self.admitted = Some(holder);
                self.highest_token = self.highest_token.max(token);
                ctx.send(SERVER, LeaseMsg::FenceAck { token });
            }
            _ => {}
        }
    }

    fn durable(&self) -> LeaseDurable {
        LeaseDurable {
            highest_token: self.highest_token,
            admitted: self.admitted,
            writes: self.writes,
            ..LeaseDurable::default()
        }
    }
}

impl Protocol for Lease {
    type Config = LeaseConfig;
    type Msg = LeaseMsg;
    type Durable = LeaseDurable;
    type Obs = LeaseObs;
    const NAME: &'static str = "lease";

    fn boot(
        config: &LeaseConfig,
        id: NodeId,
        _nodes: u32,
        durable: LeaseDurable,
        rng: Rng,
        ctx: &mut Ctx<LeaseMsg, LeaseObs>,
    ) -> Self {
        match id {
            SERVER => Lease::Server(Server::boot(config, durable, ctx)),
            STORAGE => Lease::Storage(Storage::boot(config, durable)),
            _ => Lease::Client(Client::boot(config, id, rng, ctx)),
        }
    }

    fn on_message(&mut self, from: NodeId, msg: LeaseMsg, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        match self {
            Lease::Server(s) => s.on_message(from, msg, ctx),
            Lease::Storage(s) => s.on_message(from, msg, ctx),
            Lease::Client(c) if from == SERVER || from == STORAGE => c.on_message(msg, ctx),
            Lease::Client(_) => {}
        }
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        match self {
            Lease::Server(s) => s.on_timer(tag, ctx),
            Lease::Storage(_) => {}
            Lease::Client(c) => c.on_timer(tag, ctx),
        }
    }

    fn durable(&self) -> LeaseDurable {
        match self {
            Lease::Server(s) => s.durable(),
            Lease::Storage(s) => s.durable(),
            // A client keeps nothing durable.
            Lease::Client(_) => LeaseDurable::default(),
        }
    }
}
