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
//! Message kinds: 0 acquire, 1 grant, 2 busy, 3 renew, 4 renewed, 5 renew refused,
//! 6 release, 7 write, 8 accepted, 9 rejected, 10 fence, 11 fence ack.
//!
//! Checkers: `stale_write_landed` (the storage accepted a write whose lease had run out by
//! true time or had been superseded, or whose token is lower than one already accepted:
//! the corruption), `mutual_exclusion` (two clients believe they hold the lease at once),
//! `fenced_writes` (a measure: stale writes the storage rejected).

use serde::{Deserialize, Serialize};

use crate::checks::{CheckView, Checks, Sampler, SeriesView, Violation, WorldView};
use crate::error::InputError;
use crate::fault::Damage;
use crate::network::NodeId;
use crate::protocol::{Ctx, Durable, Fact, MessageInfo, NodeRender, Protocol, ProtocolView, TimerTag, NO_VALUE};
use crate::rng::Rng;
use crate::time::{ms_to_us, us_to_ms, Micros};

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

impl MessageInfo for LeaseMsg {
    fn kind(&self) -> u8 {
        match self {
            LeaseMsg::Acquire { .. } => 0,
            LeaseMsg::Grant { .. } => 1,
            LeaseMsg::Busy => 2,
            LeaseMsg::Renew { .. } => 3,
            LeaseMsg::Renewed { .. } => 4,
            LeaseMsg::RenewRefused { .. } => 5,
            LeaseMsg::Release { .. } => 6,
            LeaseMsg::Write { .. } => 7,
            LeaseMsg::Accepted { .. } => 8,
            LeaseMsg::Rejected { .. } => 9,
            LeaseMsg::Fence { .. } => 10,
            LeaseMsg::FenceAck { .. } => 11,
        }
    }
    fn kind_name(&self) -> &'static str {
        match self {
            LeaseMsg::Acquire { .. } => "acquire",
            LeaseMsg::Grant { .. } => "grant",
            LeaseMsg::Busy => "busy",
            LeaseMsg::Renew { .. } => "renew",
            LeaseMsg::Renewed { .. } => "renewed",
            LeaseMsg::RenewRefused { .. } => "renew refused",
            LeaseMsg::Release { .. } => "release",
            LeaseMsg::Write { .. } => "write",
            LeaseMsg::Accepted { .. } => "accepted",
            LeaseMsg::Rejected { .. } => "rejected",
            LeaseMsg::Fence { .. } => "fence",
            LeaseMsg::FenceAck { .. } => "fence ack",
        }
    }
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
    fn equivocate(&self, to: NodeId) -> Self {
        match *self {
            LeaseMsg::Grant { token, at } => LeaseMsg::Grant {
                token: token.wrapping_add(to as u64),
                at,
            },
            other => other,
        }
    }
    fn corrupt(&self, noise: u64) -> Self {
        let flip = |t: u64| t ^ (1 << (noise % 8));
        match *self {
            LeaseMsg::Grant { token, at } => LeaseMsg::Grant { token: flip(token), at },
            LeaseMsg::Write { token, seq } => LeaseMsg::Write {
                token: flip(token),
                seq,
            },
            LeaseMsg::Renew { token, at } => LeaseMsg::Renew { token: flip(token), at },
            other => other,
        }
    }
    fn lie(&self) -> Self {
        match *self {
            // Claims a token far ahead of any granted: fencing cannot tell.
            LeaseMsg::Write { token, seq } => LeaseMsg::Write {
                token: token + 1_000,
                seq,
            },
            other => other,
        }
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
/// Expiry timers carry a generation in the upper bits.
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
    /// Generation of the fence-retry timer: one chain at a time.
    fence_gen: u64,
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
    expire_gen: u64,
    /// Generation of the acquire-retry timer chain, and of the holding's work and renew
    /// timers: a timer of an older generation is void.
    acquire_gen: u64,
    lease_gen: u64,
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
            self.server.fence_gen += 1;
            ctx.set_timer(self.config.retry_us, FENCE_RETRY | self.server.fence_gen << 8);
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
        self.client.acquire_gen += 1;
        ctx.set_timer(wait, ACQUIRE | self.client.acquire_gen << 8);
    }

    /// Believes until `asked + lease − margin` by its own clock.
    fn believe(&mut self, token: u64, asked_us: Micros, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        let until = asked_us + self.config.lease_us - self.config.margin_us;
        let current = self.client.holding.filter(|&(t, _)| t == token).map_or(0, |(_, u)| u);
        if until <= ctx.now_local_us || until <= current {
            return; // the answer came too late to be of use
        }
        self.client.holding = Some((token, until));
        self.client.expire_gen += 1;
        ctx.set_timer(until - ctx.now_local_us, EXPIRE | self.client.expire_gen << 8);
    }

    fn drop_lease(&mut self, ctx: &mut Ctx<LeaseMsg, LeaseObs>, rest_us: Micros) {
        self.client.holding = None;
        self.client.prepared = None;
        self.client.min_ask_us = ctx.now_local_us;
        self.client.releasing = false;
        self.client.lease_gen += 1;
        self.arm_acquire(rest_us, ctx);
    }

    fn client_message(&mut self, msg: LeaseMsg, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        match msg {
            LeaseMsg::Grant { token, at } if at >= self.client.min_ask_us && self.client.holding.is_none() => {
                self.believe(token, at, ctx);
                if self.client.holding.is_some() {
                    self.client.since_us = ctx.now_local_us;
                    self.client.prepared = Some(token);
                    self.client.acquire_gen += 1; // no more asking
                    self.client.lease_gen += 1;
                    let gen = self.client.lease_gen << 8;
                    ctx.set_timer(self.config.write_every_us, WORK | gen);
                    ctx.set_timer(self.config.renew_every_us, RENEW | gen);
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
        let gen = tag >> 8;
        let this_lease = gen == self.client.lease_gen;
        match tag & 0xFF {
            ACQUIRE if gen == self.client.acquire_gen && self.client.holding.is_none() => self.ask(ctx),
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
                ctx.set_timer(self.config.write_every_us, WORK | gen << 8);
            }
            RENEW if this_lease => {
                let Some((token, _)) = self.client.holding else { return };
                if now.saturating_sub(self.client.since_us) >= self.config.hold_us {
                    self.client.releasing = true;
                    return;
                }
                ctx.send(SERVER, LeaseMsg::Renew { token, at: now });
                ctx.set_timer(self.config.renew_every_us, RENEW | gen << 8);
            }
            EXPIRE if gen == self.client.expire_gen && self.client.holding.is_some() => {
                self.drop_lease(ctx, self.config.retry_us);
            }
            _ => {}
        }
    }

    fn role(&self) -> u8 {
        match self.id {
            SERVER => 5,
            STORAGE => 6,
            _ => 4,
        }
    }
}

impl Protocol for Lease {
    type Config = LeaseConfig;
    type Msg = LeaseMsg;
    type Durable = LeaseDurable;
    type Obs = LeaseObs;
    type Checks = LeaseChecks;
    const NAME: &'static str = "lease";
    const MESSAGE_KINDS: &'static [(u8, &'static str)] = &[
        (0, "acquire"),
        (1, "grant"),
        (2, "busy"),
        (3, "renew"),
        (4, "renewed"),
        (5, "renew refused"),
        (6, "release"),
        (7, "write"),
        (8, "accepted"),
        (9, "rejected"),
        (10, "fence"),
        (11, "fence ack"),
    ];

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
            SERVER if tag & 0xFF == FENCE_RETRY && tag >> 8 == self.server.fence_gen => self.send_fence(ctx),
            SERVER | STORAGE => {}
            _ => self.client_timer(tag, ctx),
        }
    }

    fn durable(&self) -> LeaseDurable {
        self.durable
    }

    fn view(&self, now_local_us: Micros) -> ProtocolView {
        let fact = |label, value: String| Fact { label, value };
        let ms = |us: Micros| format!("{:.0} ms", us_to_ms(us));
        let mut facts = Vec::new();
        match self.id {
            SERVER => {
                facts.push(fact("role", "lock server".into()));
                match self.server.lease {
                    Some((holder, token, exp)) if now_local_us < exp => {
                        facts.push(fact("holder", format!("node {holder}")));
                        facts.push(fact("token", token.to_string()));
                        facts.push(fact("expires in", ms(exp - now_local_us)));
                    }
                    _ => facts.push(fact("holder", "none".into())),
                }
                facts.push(fact("last token (durable)", self.durable.last_token.to_string()));
                if let Some((c, _, _)) = self.server.fencing {
                    facts.push(fact("fencing for", format!("node {c}")));
                }
            }
            STORAGE => {
                facts.push(fact("role", "storage".into()));
                facts.push(fact("highest token", self.durable.highest_token.to_string()));
                facts.push(fact("fencing", if self.config.fencing { "on" } else { "off" }.into()));
                if self.config.stonith {
                    let admitted = self.durable.admitted.map_or("nobody".into(), |c| format!("node {c}"));
                    facts.push(fact("admitted writer", admitted));
                }
                let last = self
                    .last_write
                    .map_or("none".into(), |(c, t, s)| format!("node {c} #{s}, token {t}"));
                facts.push(fact("last accepted write", last));
                facts.push(fact("writes accepted", self.durable.writes.to_string()));
            }
            _ => {
                facts.push(fact("role", "client".into()));
                match self.client.holding {
                    Some((token, until)) => {
                        facts.push(fact("believes it holds", format!("token {token}")));
                        facts.push(fact("expiry (own clock)", ms(until.saturating_sub(now_local_us))));
                    }
                    None => facts.push(fact("believes it holds", "nothing".into())),
                }
                facts.push(fact("writes accepted", self.client.accepted.to_string()));
                facts.push(fact("writes rejected", self.client.rejected.to_string()));
            }
        }
        ProtocolView {
            facts,
            ..ProtocolView::default()
        }
    }

    fn render(&self) -> NodeRender {
        let token = match self.id {
            SERVER => self.server.lease.map(|(_, t, _)| t),
            STORAGE => Some(self.durable.highest_token).filter(|&t| t > 0),
            _ => self.believes(),
        };
        NodeRender {
            role: self.role(),
            term: token.unwrap_or(0) as u32,
            value: token.map_or(NO_VALUE, |t| t as f64),
            ..NodeRender::none()
        }
    }

    fn layout(_config: &LeaseConfig, nodes: u32) -> Vec<f32> {
        // Server top left, storage top right, clients on an arc below.
        let mut xy = vec![-0.6, -0.6, 0.6, -0.6];
        let clients = nodes - 2;
        for i in 0..clients {
            let f = if clients == 1 {
                0.5
            } else {
                i as f32 / (clients - 1) as f32
            };
            let angle = std::f32::consts::PI * (0.15 + 0.7 * f);
            xy.push(-0.8 * libm::cosf(angle));
            xy.push(0.1 + 0.6 * libm::sinf(angle));
        }
        xy
    }
}

/// How often the checkers sample their series, and how many samples they keep.
const SAMPLE_US: Micros = 100_000;
const SAMPLES_MAX: usize = 600;

/// The lease service's checkers.
#[derive(Clone, Debug)]
pub struct LeaseChecks {
    lease_us: Micros,
    /// The lease in force by true time: (holder, token, true expiry).
    current: Option<(NodeId, u64, Micros)>,
    highest_accepted: u64,
    stale: Violation,
    stale_landed: u64,
    last_stale: Option<(NodeId, u64)>,
    rejected: u64,
    exclusion: Violation,
    believers: Vec<NodeId>,
    /// Believers, stale writes landed and stale writes rejected, over time.
    sampler: Sampler,
}

impl Checks<Lease> for LeaseChecks {
    fn new(config: &LeaseConfig, _nodes: u32) -> Self {
        LeaseChecks {
            lease_us: config.lease_us,
            current: None,
            highest_accepted: 0,
            stale: Violation::default(),
            stale_landed: 0,
            last_stale: None,
            rejected: 0,
            exclusion: Violation::default(),
            believers: Vec::new(),
            sampler: Sampler::new(SAMPLE_US, 3, SAMPLES_MAX),
        }
    }

    fn observe(&mut self, now_us: Micros, _node: NodeId, obs: &LeaseObs) {
        match *obs {
            LeaseObs::Granted { client, token } | LeaseObs::Renewed { client, token } => {
                self.current = Some((client, token, now_us + self.lease_us));
            }
            LeaseObs::Released { .. } => {}
            LeaseObs::Accepted { client, token } => {
                let in_force = self
                    .current
                    .is_some_and(|(holder, t, exp)| holder == client && t == token && now_us < exp);
                if !in_force || token < self.highest_accepted {
                    self.stale_landed += 1;
                    self.last_stale = Some((client, token));
                    self.stale.latch(now_us);
                }
                self.highest_accepted = self.highest_accepted.max(token);
            }
            LeaseObs::Rejected { .. } => self.rejected += 1,
        }
    }

    fn after_event(&mut self, world: &WorldView<'_, Lease>) {
        // At most 62 clients: a scan per event, no allocation once the Vec has grown.
        self.believers.clear();
        for (i, p) in world.protocols.iter().enumerate().skip(2) {
            if p.as_ref().is_some_and(|p| p.believes().is_some()) {
                self.believers.push(i as NodeId);
            }
        }
        self.exclusion.update(world.now_us, self.believers.len() > 1);
        if self.sampler.due(world.now_us) {
            let row = [
                self.believers.len() as f64,
                self.stale_landed as f64,
                self.rejected as f64,
            ];
            self.sampler.push(world.now_us, &row);
        }
    }

    fn series(&self) -> Vec<SeriesView> {
        vec![
            self.sampler.series(
                0,
                "lease_believers",
                "Clients that believe they hold the lease",
                "clients",
            ),
            self.sampler
                .series(1, "stale_writes_landed", "Stale writes landed", "writes"),
            self.sampler
                .series(2, "stale_writes_rejected", "Stale writes rejected", "writes"),
        ]
    }

    fn report(&self, now_us: Micros) -> Vec<CheckView> {
        let stale_detail = match self.last_stale {
            Some((c, t)) => format!(
                "{} stale write(s) landed; last from node {c} with token {t}",
                self.stale_landed
            ),
            None => format!("no stale write landed; {} rejected", self.rejected),
        };
        let excl_detail = if self.believers.len() > 1 {
            format!("{} clients believe they hold the lease", self.believers.len())
        } else {
            format!(
                "{} ms with two believers in all",
                us_to_ms(self.exclusion.total_us(now_us)).round()
            )
        };
        let measure = Violation::default();
        vec![
            self.stale.view(
                "stale_write_landed",
                "No write lands from a holder whose lease is gone",
                stale_detail,
                self.last_stale.map(|(c, _)| vec![c, STORAGE]).unwrap_or_default(),
            ),
            self.exclusion.view(
                "mutual_exclusion",
                "At most one client believes it holds the lease",
                excl_detail,
                self.believers.clone(),
            ),
            measure.view(
                "fenced_writes",
                "Stale writes the storage turned away (a measure)",
                format!("{} stale writes rejected", self.rejected),
                Vec::new(),
            ),
        ]
    }

    fn summary(&self, now_us: Micros) -> Vec<String> {
        let first = self
            .stale
            .first_us()
            .map_or(String::new(), |t| format!(" (first at {} ms)", us_to_ms(t)));
        vec![
            format!("stale writes landed: {}{first}", self.stale_landed),
            format!("stale writes rejected: {}", self.rejected),
            format!(
                "two lease believers: {} times, {} ms",
                self.exclusion.count(),
                us_to_ms(self.exclusion.total_us(now_us)).round()
            ),
        ]
    }
}

impl LeaseChecks {
    pub fn stale_landed(&self) -> u64 {
        self.stale_landed
    }
}
