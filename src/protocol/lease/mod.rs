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
mod view;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::protocol::timers::{timer_kind, Generation};
use crate::protocol::{message_kinds, Ctx, Durable, MessageInfo, MessageKinds, Protocol, TimerTag};
use crate::rng::Rng;
use crate::time::{ms_to_us, us_to_ms, Micros};
use crate::vocab::{Damage, NodeId};

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

/// The lock server's volatile state.
#[derive(Clone, Debug, Default)]
struct Server {
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

#[derive(Clone, Debug, Default)]
struct Client {
    /// Answers to asks sent before this local time are void (it dropped that lease).
    min_ask_us: Micros,
    /// Token and local end of belief, while it believes it holds the lease.
    holding: Option<(u64, Micros)>,
    /// When it got the lease (local), to release after `hold`.
    since_us: Micros,
    /// A write checked under this token, sent at the next tick without checking again.
    prepared: Option<u64>,
    seq: u32,
    unacked: u32,
    accepted: u64,
    rejected: u64,
    /// The end of belief's timer.
    expiry: Generation,
    /// The acquire-retry timer chain.
    asking: Generation,
    /// The holding's work and renew timers (one generation for both: they end together).
    holding_timers: Generation,
    releasing: bool,
}

#[derive(Clone, Debug)]
pub struct Lease {
    config: LeaseConfig,
    id: NodeId,
    durable: LeaseDurable,
    server: Server,
    client: Client,
    /// Storage: the last accepted write (client, token, seq).
    last_write: Option<(NodeId, u64, u32)>,
    rng: Rng,
}

impl Lease {
    /// Whether this client believes it holds the lease (its token), by its own clock.
    pub fn believes(&self) -> Option<u64> {
        self.client.holding.map(|(t, _)| t)
    }

    fn jitter(&mut self, us: Micros) -> Micros {
        us + self.rng.below(us / 4 + 1)
    }

    // ---- lock server ----

    fn server_message(&mut self, from: NodeId, msg: LeaseMsg, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        let now = ctx.now_local_us;
        let live = self.server.lease.filter(|&(_, _, exp)| now < exp);
        match msg {
            LeaseMsg::Acquire { at } => {
                if self.server.fencing.is_some_and(|(c, _, _)| c == from) {
                    return; // its grant follows the storage's confirmation
                }
                let busy = now < self.server.quiet_until_us
                    || self.server.fencing.is_some()
                    || live.is_some_and(|(holder, _, _)| holder != from);
                if busy {
                    return ctx.send(from, LeaseMsg::Busy);
                }
                if let Some((_, token, _)) = live {
                    // The holder asks again (it lost the grant): it gets its lease back.
                    self.server.lease = Some((from, token, now + self.config.lease_us));
                    ctx.observe(LeaseObs::Renewed { client: from, token });
                    return ctx.send(from, LeaseMsg::Grant { token, at });
                }
                self.durable.last_token += 1;
                let token = self.durable.last_token;
                if self.config.stonith && self.server.fenced_for != Some(from) {
                    self.server.fencing = Some((from, token, at));
                    self.send_fence(ctx);
                } else {
                    self.grant(from, token, at, ctx);
                }
            }
            LeaseMsg::Renew { token, at } => match live {
                Some((holder, t, _)) if holder == from && t == token => {
                    self.server.lease = Some((from, token, now + self.config.lease_us));
                    ctx.observe(LeaseObs::Renewed { client: from, token });
                    ctx.send(from, LeaseMsg::Renewed { token, at });
                }
                _ => ctx.send(from, LeaseMsg::RenewRefused { token }),
            },
            LeaseMsg::Release { token } if live.is_some_and(|(holder, t, _)| holder == from && t == token) => {
                self.server.lease = None;
                ctx.observe(LeaseObs::Released { token });
            }
            LeaseMsg::FenceAck { token } => {
                if let Some((client, t, at)) = self.server.fencing.filter(|&(_, t, _)| t == token) {
                    self.server.fencing = None;
                    self.server.fenced_for = Some(client);
                    self.grant(client, t, at, ctx);
                }
            }
            _ => {}
        }
    }

    fn grant(&mut self, client: NodeId, token: u64, at: Micros, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        self.server.lease = Some((client, token, ctx.now_local_us + self.config.lease_us));
        ctx.observe(LeaseObs::Granted { client, token });
        ctx.send(client, LeaseMsg::Grant { token, at });
    }

    fn send_fence(&mut self, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        if let Some((holder, token, _)) = self.server.fencing {
            ctx.send(STORAGE, LeaseMsg::Fence { holder, token });
            (self.server.fence_retry).rearm(ctx, self.config.retry_us, FENCE_RETRY);
        }
    }

    // ---- storage ----

    fn storage_message(&mut self, from: NodeId, msg: LeaseMsg, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        match msg {
            LeaseMsg::Write { token, seq } => {
                let d = &mut self.durable;
                let stale_token = self.config.fencing && token < d.highest_token;
                let fenced_out = self.config.stonith && d.admitted != Some(from);
                if stale_token || fenced_out {
                    ctx.observe(LeaseObs::Rejected { client: from, token });
                    return ctx.send(from, LeaseMsg::Rejected { seq });
                }
                d.highest_token = d.highest_token.max(token);
                d.writes += 1;
                self.last_write = Some((from, token, seq));
                ctx.observe(LeaseObs::Accepted { client: from, token });
                ctx.send(from, LeaseMsg::Accepted { seq });
            }
            LeaseMsg::Fence { holder, token } if from == SERVER => {
                self.durable.admitted = Some(holder);
                self.durable.highest_token = self.durable.highest_token.max(token);
                ctx.send(SERVER, LeaseMsg::FenceAck { token });
            }
            _ => {}
        }
    }

    // ---- client ----

    fn ask(&mut self, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        ctx.send(SERVER, LeaseMsg::Acquire { at: ctx.now_local_us });
        self.arm_acquire(self.config.retry_us, ctx);
    }

    /// Asks again after about `delay_us` (jittered), voiding any earlier retry timer.
    fn arm_acquire(&mut self, delay_us: Micros, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        let wait = self.jitter(delay_us.max(1));
        self.client.asking.rearm(ctx, wait, ACQUIRE);
    }

    /// Believes until `asked + lease − margin` by its own clock.
    fn believe(&mut self, token: u64, asked_us: Micros, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        let until = asked_us + self.config.lease_us - self.config.margin_us;
        let current = self.client.holding.filter(|&(t, _)| t == token).map_or(0, |(_, u)| u);
        if until <= ctx.now_local_us || until <= current {
            return; // the answer came too late to be of use
        }
        self.client.holding = Some((token, until));
        (self.client.expiry).rearm(ctx, until - ctx.now_local_us, EXPIRE);
    }

    fn drop_lease(&mut self, ctx: &mut Ctx<LeaseMsg, LeaseObs>, rest_us: Micros) {
        self.client.holding = None;
        self.client.prepared = None;
        self.client.min_ask_us = ctx.now_local_us;
        self.client.releasing = false;
        self.client.holding_timers.void();
        self.arm_acquire(rest_us, ctx);
    }

    fn client_message(&mut self, msg: LeaseMsg, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        match msg {
            LeaseMsg::Grant { token, at } if at >= self.client.min_ask_us && self.client.holding.is_none() => {
                self.believe(token, at, ctx);
                if self.client.holding.is_some() {
                    self.client.since_us = ctx.now_local_us;
                    self.client.prepared = Some(token);
                    self.client.asking.void(); // no more asking
                    let timers = &mut self.client.holding_timers;
                    timers.void();
                    timers.arm(ctx, self.config.write_every_us, WORK);
                    timers.arm(ctx, self.config.renew_every_us, RENEW);
                }
            }
            LeaseMsg::Renewed { token, at } if self.client.holding.is_some_and(|(t, _)| t == token) => {
                self.believe(token, at, ctx);
            }
            LeaseMsg::RenewRefused { token } if self.client.holding.is_some_and(|(t, _)| t == token) => {
                self.drop_lease(ctx, self.config.retry_us);
            }
            LeaseMsg::Accepted { .. } => {
                self.client.unacked = self.client.unacked.saturating_sub(1);
                self.client.accepted += 1;
            }
            LeaseMsg::Rejected { .. } => {
                self.client.unacked = self.client.unacked.saturating_sub(1);
                self.client.rejected += 1;
                // The storage has seen a newer holder: this client's lease is gone.
                if self.client.holding.is_some() {
                    self.drop_lease(ctx, self.config.retry_us);
                }
            }
            _ => {}
        }
    }

    fn client_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        let now = ctx.now_local_us;
        let this_lease = self.client.holding_timers.is_current(tag);
        match timer_kind(tag) {
            ACQUIRE if self.client.asking.is_current(tag) && self.client.holding.is_none() => self.ask(ctx),
            WORK if this_lease => {
                // The write prepared at the last tick goes out now, unchecked.
                if let Some(token) = self.client.prepared.take() {
                    self.client.seq += 1;
                    self.client.unacked += 1;
                    ctx.send(
                        STORAGE,
                        LeaseMsg::Write {
                            token,
                            seq: self.client.seq,
                        },
                    );
                }
                let Some((token, until)) = self.client.holding else {
                    return;
                };
                if self.client.releasing {
                    if self.client.unacked == 0 || now >= until {
                        ctx.send(SERVER, LeaseMsg::Release { token });
                        self.drop_lease(ctx, self.config.rest_us);
                        return;
                    }
                } else if now < until {
                    self.client.prepared = Some(token);
                }
                (self.client.holding_timers).arm(ctx, self.config.write_every_us, WORK);
            }
            RENEW if this_lease => {
                let Some((token, _)) = self.client.holding else { return };
                if now.saturating_sub(self.client.since_us) >= self.config.hold_us {
                    self.client.releasing = true;
                    return;
                }
                ctx.send(SERVER, LeaseMsg::Renew { token, at: now });
                (self.client.holding_timers).arm(ctx, self.config.renew_every_us, RENEW);
            }
            EXPIRE if self.client.expiry.is_current(tag) && self.client.holding.is_some() => {
                self.drop_lease(ctx, self.config.retry_us);
            }
            _ => {}
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
        let mut node = Lease {
            config: config.clone(),
            id,
            durable,
            server: Server::default(),
            client: Client::default(),
            last_write: None,
            rng,
        };
        match id {
            SERVER if durable.last_token > 0 => {
                // A restart: a lease granted before the crash may still be in force.
                node.server.quiet_until_us = ctx.now_local_us + config.lease_us;
            }
            SERVER | STORAGE => {}
            _ => {
                // Clients start in order, a little apart, so the first one wins the lease.
                let start = 100_000 * (id as u64 - 2) + 1_000 + node.rng.below(1_000);
                node.arm_acquire(start, ctx);
            }
        }
        node
    }

    fn on_message(&mut self, from: NodeId, msg: LeaseMsg, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        match self.id {
            SERVER => self.server_message(from, msg, ctx),
            STORAGE => self.storage_message(from, msg, ctx),
            _ if from == SERVER || from == STORAGE => self.client_message(msg, ctx),
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        match self.id {
            SERVER if timer_kind(tag) == FENCE_RETRY && self.server.fence_retry.is_current(tag) => self.send_fence(ctx),
            SERVER | STORAGE => {}
            _ => self.client_timer(tag, ctx),
        }
    }

    fn durable(&self) -> LeaseDurable {
        self.durable
    }
}
