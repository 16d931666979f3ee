//! The key-value side of Raft (`kv.rs` holds the commands): commands appended and
//! answered when applied, the four read paths, and the clients that issue them.
//!
//! - `log`: a get is a command like any other, answered when applied.
//! - `read_index`: the leader records its commit index (once it has committed an entry of
//!   its own term; before that, the commit index it reaches then), sends a heartbeat round,
//!   and answers when a majority acknowledged an append sent at or after the read arrived
//!   and it has applied up to the recorded index.
//! - `lease`: the leader answers at once while the majority's freshest acknowledgements
//!   are younger than `lease_us` on its own clock; else it falls back to ReadIndex.
//!   Followers refuse votes (and ignore higher terms in vote requests) for
//!   `election_min_us` after hearing from a leader, so no other leader can be elected
//!   before the lease ends, if clocks keep time.
//! - `naive`: the leader answers from its state at once: a deposed leader that has not
//!   noticed answers stale values.
//!
//! Clients pick get, put or cas on a random key every `op_every`; a put writes a value
//! unique to the client and op, a cas expects the value the client last saw. A get is
//! retried after a timeout (it has no effect); a put or cas that timed out is given up
//! (its outcome unknown), so no command is ever applied twice.

use super::kv::{self, Cmd, KvState, ReadPath};
use super::*;
use crate::protocol::workload::request_id;

/// A read the leader will answer once its leadership is confirmed.
#[derive(Clone, Copy, Debug)]
pub(super) struct PendingRead {
    client: NodeId,
    op: u32,
    key: u8,
    /// The commit index it must have applied; `None` until it committed in its own term.
    index: Option<u64>,
    /// Local time it arrived: acknowledgements of appends sent since confirm leadership.
    since: Micros,
}

impl RaftConfig {
    fn read_path(&self) -> Option<ReadPath> {
        self.kv.as_ref().map(|k| k.read_path)
    }
}

impl Server {
    /// Whether this server leads and may take a client's request now.
    pub(super) fn leads_now(&self, now_local_us: Micros) -> bool {
        match self.config.election {
            Election::Raft => self.role == Role::Leader,
            Election::Naive => self.role == Role::Leader && self.naive_leader(now_local_us) == self.id,
        }
    }

    /// The state after applying everything up to `index` (from the snapshot on).
    pub(super) fn kv_at(&self, index: u64) -> KvState {
        let mut state = self.d.snap_kv;
        for i in self.d.snap_index + 1..=index {
            if let Some(cmd) = self.entry(i).and_then(|e| Cmd::decode(e.cmd)) {
                kv::apply(&mut state, cmd);
            }
        }
        state
    }

    /// Applies a command entry just applied at `self.applied`; the leader answers its client.
    pub(super) fn apply_cmd(&mut self, entry: Entry, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let Some(cmd) = Cmd::decode(entry.cmd) else { return };
        let (ok, value) = kv::apply(&mut self.kv, cmd);
        if self.role != Role::Leader {
            return;
        }
        let index = self.applied;
        if let Some(k) = self.waiting.iter().position(|w| w.index == index) {
            let w = self.waiting.remove(k);
            ctx.send(
                w.client,
                RaftMsg::Reply {
                    op: w.op,
                    ok,
                    value,
                    index,
                },
            );
        }
    }

    /// A client's key-value command or read.
    pub(super) fn client_kv(&mut self, client: NodeId, msg: RaftMsg, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        match msg {
            RaftMsg::Command { op, write, cmd } => self.client_command(client, op, write, cmd, ctx),
            RaftMsg::Read { op, key } => self.client_read(client, op, key, ctx),
            _ => {}
        }
    }

    /// A put, a cas or a get through the log.
    fn client_command(&mut self, client: NodeId, op: u32, write: u64, cmd: u64, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        if !self.leads_now(ctx.now_local_us) {
            ctx.observe(RaftObs::Redirected);
            let leader = self.leader.filter(|&l| l != self.id);
            ctx.send(client, RaftMsg::Redirect { op, leader });
            return;
        }
        let entry = Entry {
            term: self.d.term,
            write,
            cmd,
        };
        let index = self.append_local(entry, ctx);
        self.waiting.push(Waiting { index, client, op });
        self.matched[self.id as usize] = self.last_index();
        self.advance_commit(ctx);
        self.broadcast_append(ctx);
    }

    /// A get by ReadIndex, lease or naively (`log` gets come as commands).
    fn client_read(&mut self, client: NodeId, op: u32, key: u8, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let now = ctx.now_local_us;
        if !self.leads_now(now) {
            ctx.observe(RaftObs::Redirected);
            let leader = self.leader.filter(|&l| l != self.id);
            ctx.send(client, RaftMsg::Redirect { op, leader });
            return;
        }
        let at_once = match self.config.read_path() {
            Some(ReadPath::Naive) => true,
            Some(ReadPath::Lease) => self.lease_holds(now),
            _ => false,
        };
        if at_once {
            let value = self.kv.get(key as usize).copied().unwrap_or(0);
            ctx.send(
                client,
                RaftMsg::Reply {
                    op,
                    ok: true,
                    value,
                    index: 0,
                },
            );
            return;
        }
        let index = self.own_commit.then_some(self.commit);
        self.reads.push(PendingRead {
            client,
            op,
            key,
            index,
            since: now,
        });
        self.broadcast_append(ctx);
        self.serve_reads(ctx);
    }

    /// Whether a majority (this server included) acknowledged appends sent at or after `since`.
    fn confirmed_since(&self, since: Micros) -> bool {
        let others = (0..self.config.servers)
            .filter(|&s| s != self.id && self.acked_at.get(s as usize).is_some_and(|&t| t >= since))
            .count() as u32;
        others + 1 >= self.majority()
    }

    /// Answers the reads whose leadership round is done and whose index is applied.
    pub(super) fn serve_reads(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        if self.reads.is_empty() {
            return;
        }
        if self.role != Role::Leader {
            self.reads.clear();
            return;
        }
        let mut k = 0;
        while k < self.reads.len() {
            let r = &mut self.reads[k];
            if r.index.is_none() && self.own_commit {
                r.index = Some(self.commit);
            }
            let r = *r;
            let ready = r.index.is_some_and(|i| self.applied >= i) && self.confirmed_since(r.since);
            if ready {
                let value = self.kv.get(r.key as usize).copied().unwrap_or(0);
                ctx.send(
                    r.client,
                    RaftMsg::Reply {
                        op: r.op,
                        ok: true,
                        value,
                        index: 0,
                    },
                );
                self.reads.remove(k);
            } else {
                k += 1;
            }
        }
    }

    /// The lease: a majority (this server included) acknowledged appends of this reign sent
    /// less than `lease_us` ago on this server's clock.
    fn lease_holds(&self, now_local_us: Micros) -> bool {
        let Some(lease_us) = self.config.kv.as_ref().map(|k| k.lease_us) else {
            return false;
        };
        if !self.own_commit {
            return false;
        }
        let mut acks: Vec<Micros> = (0..self.config.servers)
            .filter(|&s| s != self.id)
            .map(|s| self.acked_at.get(s as usize).copied().unwrap_or(0))
            .collect();
        acks.sort_unstable_by(|a, b| b.cmp(a));
        let need = self.majority() as usize - 1;
        match need.checked_sub(1).map(|i| acks.get(i).copied()) {
            None => true,
            Some(Some(t)) => t >= self.lead_since && now_local_us < t + lease_us,
            Some(None) => false,
        }
    }

    /// Lease reads: a vote request within `election_min` of hearing from a leader (or
    /// while leading) is ignored, so no one else is elected while a lease may hold.
    pub(super) fn ignores_vote(&self, now_local_us: Micros) -> bool {
        if self.config.read_path() != Some(ReadPath::Lease) {
            return false;
        }
        self.role == Role::Leader
            || self
                .heard_leader_at
                .is_some_and(|t| now_local_us < t + self.config.election_min_us)
    }
}

impl Client {
    /// A new operation on a random key (the `kv` workload).
    pub(super) fn kv_next_op(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let Some(k) = self.config.kv.clone() else { return };
        let op = self.requests.next_op();
        let draw = self.rng.below(1_000_000) as u32;
        let key = self.rng.below(k.keys as u64) as u8;
        let value = kv::fresh_value(op, self.client_index());
        let cmd = if draw < k.read_ppm {
            Cmd::Get { key }
        } else if draw < k.read_ppm + k.cas_ppm {
            let old = self.seen[key as usize];
            Cmd::Cas { key, old, new: value }
        } else {
            Cmd::Put { key, value }
        };
        let ask = Ask {
            write: request_id(self.id, op),
            cmd: cmd.encode(),
        };
        self.requests.begin(op, 0, ask);
        ctx.observe(RaftObs::Invoke { cmd: cmd.encode() });
        self.send_attempt(ctx);
    }

    /// The message for one try of a key-value operation.
    pub(super) fn kv_request(&self, a: Attempt) -> RaftMsg {
        match Cmd::decode(a.what.cmd) {
            Some(Cmd::Get { key }) if self.config.read_path() != Some(ReadPath::Log) => RaftMsg::Read { op: a.op, key },
            _ => RaftMsg::Command {
                op: a.op,
                write: a.what.write,
                cmd: a.what.cmd,
            },
        }
    }

    /// A timed-out put or cas may have been appended: give it up rather than risk it
    /// twice. Returns whether it did (a get, or a plain write, is retried instead).
    pub(super) fn kv_give_up(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) -> bool {
        let Some(a) = self.requests.in_flight() else {
            return false;
        };
        if Cmd::decode(a.what.cmd).is_none_or(Cmd::is_read) {
            return false;
        }
        self.requests.give_up();
        // The next operation tries another server.
        self.requests.follow(None, self.config.servers);
        ctx.observe(RaftObs::GaveUp);
        true
    }

    /// The answer to the operation in flight.
    pub(super) fn kv_reply(&mut self, ok: bool, value: u32, index: u64, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let Some(a) = self.requests.complete() else { return };
        if let Some(cmd) = Cmd::decode(a.what.cmd) {
            if let Some(seen) = self.seen.get_mut(cmd.key() as usize) {
                *seen = value;
            }
            if index != 0 && !cmd.is_read() {
                ctx.observe(RaftObs::Acked {
                    write: a.what.write,
                    index,
                });
            }
        }
        ctx.observe(RaftObs::Done { ok, value });
    }
}
