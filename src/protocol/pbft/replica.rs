//! A PBFT replica: the three-phase normal case, execution in sequence order, checkpoints
//! and view changes (see the module docs of `protocol::pbft`).
//!
//! Invariants: a slot accepts at most one request per view and keeps its latest prepared
//! certificate across views (a view change must report it); a request is executed once, in
//! sequence order, only after 2f + 1 matching commits of the view it prepared in; the log
//! holds no slot at or below the last stable checkpoint and none beyond `WINDOW` above it.

use std::collections::BTreeMap;

use super::*;
use crate::protocol::timers::Generation;

/// Sequence numbers a primary may run ahead of the last stable checkpoint.
pub const WINDOW: u64 = 256;
/// The longest a view-change timeout grows to.
const MAX_TIMEOUT_US: Micros = 60_000_000;

/// Matching votes per digest, as (digest, bitmask of replicas).
type Votes = Vec<(u64, u64)>;
/// The VIEW-CHANGE messages received for each view: sender and certificates.
type ViewChanges = BTreeMap<u64, Vec<(NodeId, Box<[Cert]>)>>;

fn add(votes: &mut Votes, digest: u64, from: NodeId) {
    match votes.iter_mut().find(|(d, _)| *d == digest) {
        Some((_, mask)) => *mask |= 1 << from,
        None => votes.push((digest, 1 << from)),
    }
}

fn count(votes: &Votes, digest: u64) -> u32 {
    votes
        .iter()
        .find(|(d, _)| *d == digest)
        .map_or(0, |(_, m)| m.count_ones())
}

/// One sequence number's progress in the current view.
#[derive(Clone, Debug, Default)]
pub struct Slot {
    pub view: u64,
    pub req: Option<Req>,
    prepares: Votes,
    commits: Votes,
    pub prepared: bool,
    pub committed: bool,
    /// The latest certificate of a request prepared here, kept across views: what a view
    /// change reports.
    pub cert: Option<Cert>,
}

impl Slot {
    /// Prepares and commits matching the request this slot holds (none without one).
    pub fn votes(&self) -> (u32, u32) {
        let digest = self.req.map(|r| r.digest());
        digest.map_or((0, 0), |d| (count(&self.prepares, d), count(&self.commits, d)))
    }

    /// How far its request got here: 0 no proposal yet, 1 pre-prepared, 2 prepared,
    /// 3 committed (the codes of the phase messages that completed each stage).
    pub fn stage(&self) -> u8 {
        match (self.req.is_some(), self.prepared, self.committed) {
            (_, _, true) => 3,
            (true, true, false) => 2,
            (true, false, false) => 1,
            (false, _, false) => 0,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Replica {
    pub view: u64,
    /// Waiting for the NEW-VIEW of `view`.
    pub changing: bool,
    next_seq: u64,
    pub log: BTreeMap<u64, Slot>,
    pub executed: u64,
    /// A digest of the history executed so far (what checkpoints and replies carry).
    pub state: u64,
    /// Requests known and not yet executed, by (client, op).
    known: BTreeMap<(NodeId, u32), Req>,
    /// The last request executed per client, and its result.
    done: BTreeMap<NodeId, (u32, u64)>,
    view_changes: ViewChanges,
    timeout_us: Micros,
    /// The view-change timer: a new generation voids the one armed.
    timer: Generation,
    timer_armed: bool,
    pub stable: u64,
    checkpoints: BTreeMap<u64, Votes>,
    pub views_changed: u64,
}

impl Replica {
    pub fn new(config: &PbftConfig) -> Replica {
        Replica {
            view: 0,
            changing: false,
            next_seq: 1,
            log: BTreeMap::new(),
            executed: 0,
            state: 0,
            known: BTreeMap::new(),
            done: BTreeMap::new(),
            view_changes: BTreeMap::new(),
            timeout_us: config.view_timeout_us,
            timer: Generation::default(),
            timer_armed: false,
            stable: 0,
            checkpoints: BTreeMap::new(),
            views_changed: 0,
        }
    }

    pub fn approx_bytes(&self) -> usize {
        use crate::budget::map_bytes;
        let certs: usize = (self.view_changes.values().flatten())
            .map(|(_, c)| std::mem::size_of_val(&**c))
            .sum();
        map_bytes(&self.log) + map_bytes(&self.known) + map_bytes(&self.done) + map_bytes(&self.checkpoints) + certs
    }

    pub fn pending(&self) -> usize {
        self.known.len()
    }

    fn broadcast(config: &PbftConfig, ctx: &mut PbftCtx, msg: PbftMsg) {
        for r in 0..config.replicas {
            ctx.send(r, msg.clone());
        }
    }

    pub fn on_message(&mut self, config: &PbftConfig, id: NodeId, from: NodeId, msg: PbftMsg, ctx: &mut PbftCtx) {
        match msg {
            PbftMsg::Request { req, .. } => self.on_request(config, id, from, req, ctx),
            PbftMsg::PrePrepare { view, seq, req, .. } => {
                if from == config.primary(view) && view == self.view && !self.changing {
                    self.accept(config, id, view, seq, req, ctx);
                }
            }
            PbftMsg::Prepare { view, seq, digest, .. } => {
                if view == self.view && from < config.replicas && from != config.primary(view) {
                    // Votes may come before the pre-prepare: they wait in the slot.
                    if let Some(slot) = self.slot_for(view, seq) {
                        add(&mut slot.prepares, digest, from);
                        self.check_prepared(config, id, seq, ctx);
                    }
                }
            }
            PbftMsg::Commit { view, seq, digest, .. } => {
                if view == self.view && from < config.replicas {
                    if let Some(slot) = self.slot_for(view, seq) {
                        add(&mut slot.commits, digest, from);
                        self.check_committed(config, id, seq, ctx);
                    }
                }
            }
            PbftMsg::ViewChange { view, certs, .. } => self.on_view_change(config, id, from, view, certs, ctx),
            PbftMsg::NewView { view, batch, .. } => {
                if view >= self.view && from == config.primary(view) && from < config.replicas {
                    self.enter_view(config, id, view, &batch, ctx);
                }
            }
            PbftMsg::Checkpoint { seq, digest, .. } => self.on_checkpoint(config, from, seq, digest),
            PbftMsg::Reply { .. } => {}
        }
    }

    fn on_request(&mut self, config: &PbftConfig, id: NodeId, from: NodeId, req: Req, ctx: &mut PbftCtx) {
        if (config.signatures && !req.verifies()) || req.is_noop() {
            return;
        }
        if let Some(&(op, result)) = self.done.get(&req.client) {
            if op == req.op {
                ctx.send(
                    req.client,
                    PbftMsg::Reply {
                        view: self.view,
                        op,
                        value: result,
                        signer: id,
                    },
                );
            }
            if op >= req.op {
                return;
            }
        }
        self.known.insert((req.client, req.op), req);
        if id == config.primary(self.view) && !self.changing {
            self.propose(config, id, req, ctx);
        } else {
            if from >= config.replicas {
                ctx.send(config.primary(self.view), PbftMsg::Request { req, signer: id });
            }
            self.arm(ctx);
        }
    }

    /// The primary assigns the next sequence number to `req` (once per view).
    fn propose(&mut self, config: &PbftConfig, id: NodeId, req: Req, ctx: &mut PbftCtx) {
        let proposed = self.log.values().any(|s| s.view == self.view && s.req == Some(req));
        if proposed || self.next_seq > self.stable + WINDOW {
            return;
        }
        let (view, seq) = (self.view, self.next_seq);
        self.next_seq += 1;
        for r in (0..config.replicas).filter(|&r| r != id) {
            ctx.send(
                r,
                PbftMsg::PrePrepare {
                    view,
                    seq,
                    req,
                    signer: id,
                },
            );
        }
        self.accept(config, id, view, seq, req, ctx);
    }

    /// The slot of `seq` in the current `view` (a slot of an earlier view starts over,
    /// keeping its certificate and, once committed, the request it committed: a committed
    /// request is final, and a new view proposing another one for it is refused), if `seq`
    /// is inside the window.
    fn slot_for(&mut self, view: u64, seq: u64) -> Option<&mut Slot> {
        if seq <= self.stable || seq > self.stable + WINDOW {
            return None;
        }
        let slot = self.log.entry(seq).or_default();
        if slot.view != view {
            *slot = Slot {
                view,
                committed: slot.committed,
                req: slot.req.filter(|_| slot.committed),
                cert: slot.cert,
                ..Slot::default()
            };
        }
        Some(slot)
    }

    /// Accepts a pre-prepare (or a NEW-VIEW's proposal) and sends PREPARE.
    fn accept(&mut self, config: &PbftConfig, id: NodeId, view: u64, seq: u64, req: Req, ctx: &mut PbftCtx) {
        if config.signatures && !req.verifies() {
            return;
        }
        let Some(slot) = self.slot_for(view, seq) else { return };
        if slot.req.is_some_and(|r| r != req) {
            return; // a second, different proposal for one slot in one view
        }
        slot.req = Some(req);
        if !req.is_noop() {
            self.known.entry((req.client, req.op)).or_insert(req);
        }
        if id != config.primary(view) {
            Self::broadcast(
                config,
                ctx,
                PbftMsg::Prepare {
                    view,
                    seq,
                    digest: req.digest(),
                    signer: id,
                },
            );
        }
        self.arm(ctx);
        self.check_prepared(config, id, seq, ctx);
    }

    fn check_prepared(&mut self, config: &PbftConfig, id: NodeId, seq: u64, ctx: &mut PbftCtx) {
        let Some(slot) = self.log.get_mut(&seq) else { return };
        let Some(req) = slot.req else { return };
        if slot.prepared || count(&slot.prepares, req.digest()) < config.quorum() - 1 {
            return;
        }
        slot.prepared = true;
        let view = slot.view;
        slot.cert = Some(Cert { seq, view, req });
        Self::broadcast(
            config,
            ctx,
            PbftMsg::Commit {
                view,
                seq,
                digest: req.digest(),
                signer: id,
            },
        );
        self.check_committed(config, id, seq, ctx);
    }

    fn check_committed(&mut self, config: &PbftConfig, id: NodeId, seq: u64, ctx: &mut PbftCtx) {
        let Some(slot) = self.log.get_mut(&seq) else { return };
        let Some(req) = slot.req else { return };
        if slot.committed || !slot.prepared || count(&slot.commits, req.digest()) < config.quorum() {
            return;
        }
        slot.committed = true;
        self.execute_ready(config, id, ctx);
    }

    /// Executes committed requests in sequence order, answering their clients.
    fn execute_ready(&mut self, config: &PbftConfig, id: NodeId, ctx: &mut PbftCtx) {
        while let Some(req) = self
            .log
            .get(&(self.executed + 1))
            .filter(|s| s.committed)
            .and_then(|s| s.req)
        {
            self.executed += 1;
            self.state = mix(self.state, req.digest());
            ctx.observe(PbftObs::Executed {
                seq: self.executed,
                req,
            });
            if !req.is_noop() {
                self.known.remove(&(req.client, req.op));
                // A request ordered twice (re-proposed after a view change) answers with
                // the result of its first execution.
                let first = self.done.get(&req.client).is_none_or(|&(op, _)| op < req.op);
                if first {
                    self.done.insert(req.client, (req.op, self.state));
                }
                if let Some(&(op, value)) = self.done.get(&req.client).filter(|&&(op, _)| op == req.op) {
                    ctx.send(
                        req.client,
                        PbftMsg::Reply {
                            view: self.view,
                            op,
                            value,
                            signer: id,
                        },
                    );
                }
            }
            if self.executed % config.checkpoint_every == 0 {
                let (seq, digest) = (self.executed, self.state);
                Self::broadcast(
                    config,
                    ctx,
                    PbftMsg::Checkpoint {
                        seq,
                        digest,
                        signer: id,
                    },
                );
            }
            // Progress: the view-change timer starts over.
            self.timeout_us = config.view_timeout_us;
            self.disarm();
            if !self.known.is_empty() {
                self.arm(ctx);
            }
        }
    }

    fn on_checkpoint(&mut self, config: &PbftConfig, from: NodeId, seq: u64, digest: u64) {
        if seq <= self.stable || from >= config.replicas {
            return;
        }
        let votes = self.checkpoints.entry(seq).or_default();
        add(votes, digest, from);
        if count(votes, digest) >= config.quorum() && seq <= self.executed {
            self.stable = seq;
            self.log.retain(|&s, _| s > seq);
            self.checkpoints.retain(|&s, _| s > seq);
        }
    }

    fn arm(&mut self, ctx: &mut PbftCtx) {
        if !self.timer_armed {
            self.timer_armed = true;
            self.timer.rearm(ctx, self.timeout_us, VIEW_TIMER);
        }
    }

    fn disarm(&mut self) {
        self.timer_armed = false;
        self.timer.void();
    }

    pub fn on_view_timer(&mut self, config: &PbftConfig, id: NodeId, tag: TimerTag, ctx: &mut PbftCtx) {
        if !self.timer.is_current(tag) || !self.timer_armed {
            return;
        }
        self.timer_armed = false;
        if self.known.is_empty() && !self.changing {
            return;
        }
        self.timeout_us = (self.timeout_us * 2).min(MAX_TIMEOUT_US);
        self.start_view_change(config, id, self.view + 1, ctx);
    }

    /// Moves to `view` and asks for it with the prepared certificates above the checkpoint.
    fn start_view_change(&mut self, config: &PbftConfig, id: NodeId, view: u64, ctx: &mut PbftCtx) {
        self.view = view;
        self.changing = true;
        self.views_changed += 1;
        let certs: Box<[Cert]> = self.log.values().filter_map(|s| s.cert).collect();
        Self::broadcast(
            config,
            ctx,
            PbftMsg::ViewChange {
                view,
                certs,
                signer: id,
            },
        );
        // A fresh timer for this view change (a join must not inherit the old one).
        self.disarm();
        self.arm(ctx);
    }

    fn on_view_change(
        &mut self,
        config: &PbftConfig,
        id: NodeId,
        from: NodeId,
        view: u64,
        certs: Box<[Cert]>,
        ctx: &mut PbftCtx,
    ) {
        if view < self.view || (view == self.view && !self.changing) || from >= config.replicas {
            return;
        }
        let senders = self.view_changes.entry(view).or_default();
        if senders.iter().all(|(n, _)| *n != from) {
            senders.push((from, certs));
        }
        let n = senders.len() as u32;
        // f + 1 replicas want a later view: at least one is honest, so join them.
        if view > self.view && n > config.f {
            self.start_view_change(config, id, view, ctx);
        }
        if id == config.primary(view) && self.changing && self.view == view && n >= config.quorum() {
            let batch = self.new_view_batch(view);
            Self::broadcast(
                config,
                ctx,
                PbftMsg::NewView {
                    view,
                    batch,
                    signer: id,
                },
            );
        }
    }

    /// The new primary's proposals: for each sequence number above the lowest stable
    /// checkpoint, the request prepared in the highest view, else a no-op.
    fn new_view_batch(&self, view: u64) -> Box<[Cert]> {
        let mut best: BTreeMap<u64, Cert> = BTreeMap::new();
        for cert in self.view_changes[&view].iter().flat_map(|(_, c)| c.iter()) {
            if cert.seq > self.stable && best.get(&cert.seq).is_none_or(|b| b.view < cert.view) {
                best.insert(cert.seq, *cert);
            }
        }
        let top = best.keys().next_back().copied().unwrap_or(self.stable);
        (self.stable + 1..=top)
            .map(|seq| {
                best.get(&seq).map_or(
                    Cert {
                        seq,
                        view,
                        req: Req::noop(),
                    },
                    |c| Cert { view, ..*c },
                )
            })
            .collect()
    }

    fn enter_view(&mut self, config: &PbftConfig, id: NodeId, view: u64, batch: &[Cert], ctx: &mut PbftCtx) {
        if view == self.view && !self.changing {
            return;
        }
        self.view = view;
        self.changing = false;
        self.view_changes.retain(|&v, _| v > view);
        ctx.observe(PbftObs::NewView { view });
        self.disarm();
        let top = batch.iter().map(|c| c.seq).max().unwrap_or(0);
        self.next_seq = top.max(self.executed).max(self.stable) + 1;
        for c in batch {
            self.accept(config, id, view, c.seq, c.req, ctx);
        }
        if id == config.primary(view) {
            let pending: Vec<Req> = self.known.values().copied().collect();
            for req in pending {
                self.propose(config, id, req, ctx);
            }
        }
        if !self.known.is_empty() {
            self.arm(ctx);
        }
    }
}
