//! Leader election and log replication: Raft, or a naive election with no quorum.
//!
//! Roles: a node is a `Raft::Server` or a `Raft::Client` (`client.rs`), each with only its
//! own fields. Nodes `0..servers` are servers (follower 1, candidate 2, leader 3 on the
//! canvas, on a circle), the rest clients (role 4, in a row beneath). Each client writes every `op_every` (skipping a beat while a
//! write is outstanding) to the server it believes leads; a server that does not lead
//! redirects it to the leader it knows of (or to no one, then the client tries the next
//! server a little later). After a timeout the client retries at the next server, up to
//! `retries` times, with the same write id, so a retried write is never appended twice by
//! one leader.
//!
//! Raft (`election: "raft"`, after Ongaro and Ousterhout): terms, randomized election
//! timeouts in `[election_min, election_max]`, votes only for candidates whose log is at
//! least as up to date, one vote per term (durable), log replication with the consistency
//! check on the previous entry, and commitment by a majority of matching servers for an
//! entry of the leader's own term (a new leader appends a no-op to commit its
//! predecessors' entries). A write is acknowledged only once applied. With `check_quorum`
//! (default on) a leader steps down when no majority has acknowledged an append it sent
//! within `election_min − heartbeat`: by then a majority may be electing someone else, so
//! at most one server believes it leads at a time unless clocks misbehave. Servers keep at
//! most about `2 × KEEP` applied entries and fold older ones into a snapshot (the register
//! value), sent to followers too far behind.
//!
//! Naive (`election: "naive"`): every server announces itself each heartbeat; a server
//! believes the highest id it has heard from within `election_min` (itself included) leads.
//! A leader takes the next term it has not seen, appends writes, commits and acknowledges
//! them at once, and pushes its log to the servers that follow it, which adopt it
//! wholesale, undoing applied entries when they conflict. Under a partition each side
//! elects its own leader: split brain, and on heal one side's acknowledged writes vanish.
//!
//! Durable: term, vote, log and snapshot. Volatile: role, commit and applied indexes,
//! replication progress, client requests.
//!
//! Message kinds: listed once, in the `message_kinds!` line below.
//!
//! A Raft server never removes a committed entry unless a Byzantine or storage fault makes
//! it (then it undoes what it applied, as the naive protocol does by design); safety is
//! checked by `checks.rs` beside it, outside the state machine, after every event.

mod byzantine;
mod checks;
mod client;
pub mod kv;
mod reads;
mod view;

use client::{Ask, Attempt, Client};
use kv::{KvConfig, KvState};
pub use kv::{KvSpec, ReadPath};
use reads::PendingRead;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::protocol::timers::{timer_kind, Generation};
use crate::protocol::{message_kinds, Ctx, Durable, MessageInfo, MessageKinds, Protocol, TimerTag};
use crate::rng::Rng;
use crate::time::{ms_to_us, us_to_ms, Micros};
use crate::vocab::{Damage, NodeId, TimingRole};

/// Most servers (vote sets are bitmasks).
pub const MAX_SERVERS: u32 = 9;
/// Most nodes in a Raft scenario (servers and clients).
pub const MAX_RAFT_NODES: u32 = 64;
/// Most entries in one append message.
pub const BATCH: usize = 8;
/// Applied entries a server keeps in its log; past twice this it compacts.
pub const KEEP: u64 = 64;
/// How far back a leader looks for a retried write before appending it again.
const DEDUPE_WINDOW: usize = 64;

/// How leaders are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Election {
    /// Terms, votes and majorities.
    #[default]
    Raft,
    /// The highest id a server can hear leads; no quorum.
    Naive,
}

/// Leader election and replication as a scenario writes it (milliseconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RaftSpec {
    pub servers: u32,
    pub election: Election,
    /// A follower that hears no leader for a random time in this range stands for
    /// election (naive: a server not heard from for `election_min_ms` is presumed gone).
    pub election_min_ms: f64,
    pub election_max_ms: f64,
    /// How often a leader sends appends (heartbeats) when it has nothing new.
    pub heartbeat_ms: f64,
    /// A Raft leader steps down when a majority stops answering (see the module doc).
    pub check_quorum: bool,
    /// How often each client writes.
    pub op_every_ms: f64,
    /// How long a client waits for an acknowledgement.
    pub client_timeout_ms: f64,
    /// How many times a client retries one write.
    pub retries: u32,
    /// The clients' key-value workload (get, put, cas on a few keys, and how reads are
    /// answered; `kv.rs`). Absent: each client writes fresh ids to one register.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv: Option<KvSpec>,
}

impl Default for RaftSpec {
    fn default() -> Self {
        RaftSpec {
            servers: 5,
            election: Election::Raft,
            election_min_ms: 300.0,
            election_max_ms: 600.0,
            heartbeat_ms: 75.0,
            check_quorum: true,
            op_every_ms: 500.0,
            client_timeout_ms: 1_000.0,
            retries: 3,
            kv: None,
        }
    }
}

/// The election parameters in engine units.
#[derive(Clone, Debug, PartialEq)]
pub struct RaftConfig {
    pub servers: u32,
    pub election: Election,
    pub election_min_us: Micros,
    pub election_max_us: Micros,
    pub heartbeat_us: Micros,
    pub check_quorum: bool,
    pub op_every_us: Micros,
    pub client_timeout_us: Micros,
    pub retries: u32,
    pub kv: Option<KvConfig>,
}

impl RaftSpec {
    /// Validates every field against a cluster of `nodes` nodes.
    pub fn config(&self, nodes: u32) -> Result<RaftConfig, InputError> {
        if !(1..=MAX_SERVERS).contains(&self.servers) {
            return Err(InputError::new(
                "servers",
                format!("must be between 1 and {MAX_SERVERS}, got {}", self.servers),
            ));
        }
        if nodes < self.servers {
            return Err(InputError::new(
                "nodes",
                format!(
                    "must be at least the {} servers (the rest are clients), got {nodes}",
                    self.servers
                ),
            ));
        }
        if nodes > MAX_RAFT_NODES {
            return Err(InputError::new(
                "nodes",
                format!("a Raft scenario has at most {MAX_RAFT_NODES} nodes, got {nodes}"),
            ));
        }
        let at_least_1ms = |ms: f64, field: &str| -> Result<Micros, InputError> {
            let us = ms_to_us(ms, field)?;
            if us < 1_000 {
                return Err(InputError::new(field, format!("must be at least 1 ms, got {ms}")));
            }
            Ok(us)
        };
        let election_min_us = at_least_1ms(self.election_min_ms, "election_min_ms")?;
        let election_max_us = at_least_1ms(self.election_max_ms, "election_max_ms")?;
        if election_max_us < election_min_us {
            return Err(InputError::new(
                "election_max_ms",
                format!(
                    "must be at least election_min_ms ({} ms), got {}",
                    self.election_min_ms, self.election_max_ms
                ),
            ));
        }
        let heartbeat_us = at_least_1ms(self.heartbeat_ms, "heartbeat_ms")?;
        if 3 * heartbeat_us > election_min_us {
            return Err(InputError::new(
                "heartbeat_ms",
                format!(
                    "must be at most a third of election_min_ms ({} ms), or followers stand for election \
                     between heartbeats; got {}",
                    self.election_min_ms, self.heartbeat_ms
                ),
            ));
        }
        if self.retries > 10 {
            return Err(InputError::new(
                "retries",
                format!("must be at most 10, got {}", self.retries),
            ));
        }
        Ok(RaftConfig {
            kv: kv::config_of(self.kv.as_ref(), election_min_us, heartbeat_us)?,
            servers: self.servers,
            election: self.election,
            election_min_us,
            election_max_us,
            heartbeat_us,
            check_quorum: self.check_quorum,
            op_every_us: at_least_1ms(self.op_every_ms, "op_every_ms")?,
            client_timeout_us: at_least_1ms(self.client_timeout_ms, "client_timeout_ms")?,
            retries: self.retries,
        })
    }
}

/// One log entry: the term it was created in and the write it carries (0: a no-op).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub term: u64,
    /// The write: client << 32 | op.
    pub write: u64,
    /// A key-value command (`kv::Cmd::encode`); 0 for none (the plain write workload).
    pub cmd: u64,
}

/// Up to `BATCH` entries, on the heap: an append without entries (a heartbeat, most of
/// them) allocates nothing, and every Raft message stays small, so the engine moves a few
/// dozen bytes per event instead of the 200 an inline array of `BATCH` entries took.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    items: Vec<Entry>,
}

impl Batch {
    pub fn as_slice(&self) -> &[Entry] {
        &self.items
    }

    pub fn as_mut_slice(&mut self) -> &mut [Entry] {
        &mut self.items
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn push(&mut self, entry: Entry) {
        assert!(self.items.len() < BATCH, "a batch holds at most BATCH entries");
        if self.items.is_empty() {
            self.items.reserve_exact(BATCH);
        }
        self.items.push(entry);
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaftMsg {
    Write {
        op: u32,
        write: u64,
    },
    WriteOk {
        op: u32,
        index: u64,
    },
    Redirect {
        op: u32,
        leader: Option<NodeId>,
    },
    RequestVote {
        term: u64,
        last_index: u64,
        last_term: u64,
    },
    Vote {
        term: u64,
        granted: bool,
    },
    Append {
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: Batch,
        commit: u64,
        /// The leader's local clock when it sent this, echoed in the reply.
        sent_at: Micros,
    },
    AppendReply {
        term: u64,
        ok: bool,
        /// On success the last index known to match; on failure where to try next.
        index: u64,
        sent_at: Micros,
    },
    Snapshot {
        term: u64,
        index: u64,
        snap_term: u64,
        write: u64,
        sent_at: Micros,
        /// The key-value state at the snapshot (all 0 without the `kv` workload).
        kv: KvState,
    },
    Alive {
        term: u64,
    },
    /// A client's key-value command (a get too, when reads go through the log).
    Command {
        op: u32,
        write: u64,
        cmd: u64,
    },
    /// A client's get by ReadIndex, lease or naively.
    Read {
        op: u32,
        key: u8,
    },
    /// The answer to a command or a read: whether it took effect, the value read or
    /// written, and the log index (0 for reads off the log).
    Reply {
        op: u32,
        ok: bool,
        value: u32,
        index: u64,
    },
}

message_kinds!(RaftMsg {
    Write = 3 "write",
    WriteOk = 4 "write ok",
    Redirect = 5 "redirect",
    RequestVote = 6 "request vote",
    Vote = 7 "vote",
    Append = 8 "append",
    AppendReply = 9 "append reply",
    Snapshot = 10 "snapshot",
    Alive = 11 "alive",
    Command = 12 "command",
    Read = 13 "read",
    Reply = 14 "reply",
});

impl MessageInfo for RaftMsg {
    /// A granted vote decides an election if it comes in time: an adversary holds it.
    fn timing_role(&self) -> TimingRole {
        match self {
            RaftMsg::Vote { granted: true, .. } => TimingRole::Decisive,
            _ => TimingRole::Ordinary,
        }
    }
    fn heap_bytes(&self) -> usize {
        match self {
            RaftMsg::Append { entries, .. } => entries.items.capacity() * std::mem::size_of::<Entry>(),
            _ => 0,
        }
    }
    fn digest(&self) -> u64 {
        let payload = match *self {
            RaftMsg::Write { op, write } => (op as u64) ^ write.rotate_left(8),
            RaftMsg::WriteOk { op, index } => (op as u64) ^ index << 20,
            RaftMsg::Redirect { op, leader } => (op as u64) ^ (leader.map_or(0xFF, |l| l as u64) << 40),
            RaftMsg::RequestVote {
                term,
                last_index,
                last_term,
            } => term ^ last_index << 16 ^ last_term << 40,
            RaftMsg::Vote { term, granted } => term << 1 | granted as u64,
            RaftMsg::Append {
                term,
                prev_index,
                prev_term,
                ref entries,
                commit,
                sent_at,
            } => {
                let mut h = term ^ prev_index << 16 ^ prev_term << 32 ^ commit << 44 ^ sent_at.rotate_left(7);
                for e in entries.as_slice() {
                    h = h.rotate_left(5) ^ e.term ^ e.write.rotate_left(13);
                    if e.cmd != 0 {
                        h ^= e.cmd.rotate_left(29);
                    }
                }
                h
            }
            RaftMsg::AppendReply {
                term,
                ok,
                index,
                sent_at,
            } => term ^ index << 20 ^ (ok as u64) << 63 ^ sent_at.rotate_left(7),
            RaftMsg::Snapshot {
                term,
                index,
                snap_term,
                write,
                sent_at,
                kv,
            } => term ^ index << 16 ^ snap_term << 32 ^ write.rotate_left(9) ^ sent_at.rotate_left(7) ^ kv::digest(&kv),
            RaftMsg::Alive { term } => term,
            RaftMsg::Command { op, write, cmd } => (op as u64) ^ write.rotate_left(8) ^ cmd.rotate_left(21),
            RaftMsg::Read { op, key } => (op as u64) ^ (key as u64) << 40,
            RaftMsg::Reply { op, ok, value, index } => {
                (op as u64) ^ (value as u64) << 24 ^ index.rotate_left(52) ^ (ok as u64) << 63
            }
        };
        (self.kind() as u64) << 58 ^ payload
    }
    fn is_work(&self) -> bool {
        matches!(
            self,
            RaftMsg::Write { .. } | RaftMsg::Command { .. } | RaftMsg::Read { .. }
        )
    }
}

/// What a server keeps on disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaftDurable {
    pub term: u64,
    pub voted_for: Option<NodeId>,
    /// The last index and term folded into the snapshot (0, 0 for none).
    pub snap_index: u64,
    pub snap_term: u64,
    /// The register's value at the snapshot: the last write applied (0 for none).
    pub snap_write: u64,
    /// The entries after the snapshot: `entries[k]` has index `snap_index + 1 + k`.
    pub entries: Vec<Entry>,
    /// The key-value state at the snapshot.
    pub snap_kv: KvState,
}

impl Durable for RaftDurable {
    fn damage(&mut self, damage: Damage, noise: u64) {
        match damage {
            // The last append never reached the disk whole.
            Damage::Torn => {
                self.entries.pop();
            }
            Damage::Bitflip => {
                if let Some(e) = self.entries.last_mut() {
                    e.write ^= 1 << (noise % 32);
                } else {
                    self.term ^= 1 << (noise % 4);
                }
            }
        }
    }
}

/// Facts for the checkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaftObs {
    /// This server now leads `term`.
    BecameLeader { term: u64 },
    /// An entry written into this server's log at `index`, after an entry of `prev_term`.
    Appended { index: u64, entry: Entry, prev_term: u64 },
    /// A Raft leader of `term` committed everything up to `index`.
    Committed { index: u64, term: u64 },
    /// This server applied the entry at `index` to its register.
    Applied { index: u64, entry: Entry },
    /// This server undid an applied entry (naive only: Raft never does).
    RolledBack { index: u64, write: u64 },
    /// A client got its acknowledgement: the write sits at `index`.
    Acked { write: u64, index: u64 },
    /// A client gave up on a write after its retries.
    GaveUp,
    /// A server turned a write away (not the leader).
    Redirected,
    /// A client called a key-value command (`kv::Cmd::encode`).
    Invoke { cmd: u64 },
    /// A client's key-value command returned: took effect or not (a cas), with the value
    /// read or written.
    Done { ok: bool, value: u32 },
}

const ELECTION: TimerTag = 1;
const HEARTBEAT: TimerTag = 2;
const OP: TimerTag = 3;
/// Client timeouts and retries carry the write's op number in the upper bits.
const CLIENT_TIMEOUT: TimerTag = 4;
const RETRY: TimerTag = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Follower,
    Candidate,
    Leader,
}

/// A write a leader acknowledges once it is applied.
#[derive(Clone, Copy, Debug)]
struct Waiting {
    index: u64,
    client: NodeId,
    op: u32,
}

/// A node: a server (Raft or the naive election, and the key-value state machine) or a
/// client (`client.rs`), each with only its own fields.
#[derive(Clone, Debug)]
pub enum Raft {
    Server(Server),
    Client(Client),
}

impl Raft {
    /// The server's state, if this node is a server.
    pub fn server(&self) -> Option<&Server> {
        match self {
            Raft::Server(s) => Some(s),
            Raft::Client(_) => None,
        }
    }

    pub fn is_server(&self) -> bool {
        self.server().is_some()
    }

    pub fn is_leader(&self) -> bool {
        self.server().is_some_and(|s| s.role == Role::Leader)
    }
}

/// A server: election, log, replication, and answering clients.
#[derive(Clone, Debug)]
pub struct Server {
    config: RaftConfig,
    id: NodeId,
    rng: Rng,
    pub(crate) d: RaftDurable,
    pub(crate) role: Role,
    pub(crate) commit: u64,
    applied: u64,
    /// The register's value: the last write applied.
    value: u64,
    /// Who this server believes leads.
    leader: Option<NodeId>,
    /// A new one voids the pending election timer.
    election: Generation,
    /// A new one voids the heartbeat chain of an earlier reign.
    heartbeat: Generation,
    votes: u16,
    election_started_at: Micros,
    // leader
    next: Vec<u64>,
    matched: Vec<u64>,
    /// Per server, the local send time of the latest append it acknowledged.
    acked_at: Vec<Micros>,
    waiting: Vec<Waiting>,
    // naive
    heard: Vec<Option<Micros>>,
    term_seen: u64,
    // key-value workload (`reads.rs`)
    kv: KvState,
    reads: Vec<PendingRead>,
    /// This leader has committed an entry of its own term.
    own_commit: bool,
    /// Local time this server became leader.
    lead_since: Micros,
    /// Local time this server last accepted an append from a leader.
    heard_leader_at: Option<Micros>,
}

impl Server {
    pub fn last_index(&self) -> u64 {
        self.d.snap_index + self.d.entries.len() as u64
    }

    fn last_term(&self) -> u64 {
        self.d.entries.last().map_or(self.d.snap_term, |e| e.term)
    }

    /// The term of the entry at `index`; None when compacted away or beyond the log.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.d.snap_index {
            Some(self.d.snap_term)
        } else {
            self.entry(index).map(|e| e.term)
        }
    }

    /// The entry at `index`, if the log still holds it.
    pub fn entry(&self, index: u64) -> Option<Entry> {
        if index <= self.d.snap_index {
            return None;
        }
        self.d.entries.get((index - self.d.snap_index - 1) as usize).copied()
    }

    /// The first index the log still holds entries from.
    pub fn first_index(&self) -> u64 {
        self.d.snap_index + 1
    }

    fn majority(&self) -> u32 {
        self.config.servers / 2 + 1
    }

    fn naive(&self) -> bool {
        self.config.election == Election::Naive
    }

    fn random_election_timeout(&mut self) -> Micros {
        self.rng
            .between(self.config.election_min_us, self.config.election_max_us)
    }

    fn reset_election_timer(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let after = self.random_election_timeout();
        self.election.rearm(ctx, after, ELECTION);
    }

    fn to_other_servers(&self, msg: RaftMsg, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        for s in 0..self.config.servers {
            if s != self.id {
                ctx.send(s, msg.clone());
            }
        }
    }

    fn append_local(&mut self, entry: Entry, ctx: &mut Ctx<RaftMsg, RaftObs>) -> u64 {
        let prev_term = self.last_term();
        self.d.entries.push(entry);
        let index = self.last_index();
        ctx.observe(RaftObs::Appended {
            index,
            entry,
            prev_term,
        });
        index
    }

    /// Drops every entry after `index` (a conflict with the leader's log).
    fn truncate_after(&mut self, index: u64, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        if index < self.applied {
            // Naive (or a Raft server misled by a fault): undo what was applied beyond the cut.
            for i in (index + 1..=self.applied).rev() {
                if let Some(e) = self.entry(i) {
                    ctx.observe(RaftObs::RolledBack {
                        index: i,
                        write: e.write,
                    });
                }
            }
            self.applied = index.max(self.d.snap_index);
            self.value = self.value_at(self.applied);
            if self.config.kv.is_some() {
                self.kv = self.kv_at(self.applied);
            }
        }
        self.commit = self.commit.min(index);
        let keep = index.saturating_sub(self.d.snap_index) as usize;
        self.d.entries.truncate(keep);
    }

    /// The register's value after applying everything up to `index`.
    fn value_at(&self, index: u64) -> u64 {
        let mut i = index;
        while i > self.d.snap_index {
            match self.entry(i) {
                Some(e) if e.write != 0 => return e.write,
                _ => i -= 1,
            }
        }
        self.d.snap_write
    }

    fn apply(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        while self.applied < self.commit {
            self.applied += 1;
            let Some(entry) = self.entry(self.applied) else {
                continue;
            };
            if entry.write != 0 {
                self.value = entry.write;
            }
            ctx.observe(RaftObs::Applied {
                index: self.applied,
                entry,
            });
            if entry.cmd != 0 {
                self.apply_cmd(entry, ctx);
            }
        }
        if self.role == Role::Leader && !self.waiting.is_empty() {
            let applied = self.applied;
            self.waiting.retain(|w| {
                if w.index <= applied {
                    ctx.send(
                        w.client,
                        RaftMsg::WriteOk {
                            op: w.op,
                            index: w.index,
                        },
                    );
                    false
                } else {
                    true
                }
            });
        }
        self.serve_reads(ctx);
        self.compact();
    }

    /// Folds applied entries into the snapshot once the log holds twice `KEEP` of them.
    fn compact(&mut self) {
        if self.applied < self.d.snap_index + 2 * KEEP {
            return;
        }
        let upto = self.applied - KEEP;
        let Some(term) = self.term_at(upto) else { return };
        let write = self.value_at(upto);
        if self.config.kv.is_some() {
            self.d.snap_kv = self.kv_at(upto);
        }
        let drop = (upto - self.d.snap_index) as usize;
        self.d.entries.drain(..drop);
        self.d.snap_index = upto;
        self.d.snap_term = term;
        self.d.snap_write = write;
    }

    fn become_follower(&mut self, term: u64, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        if term > self.d.term {
            self.d.term = term;
            self.d.voted_for = None;
        }
        let was_leader = self.role == Role::Leader;
        self.role = Role::Follower;
        self.votes = 0;
        self.waiting.clear();
        self.reads.clear();
        if was_leader || self.leader == Some(self.id) {
            self.leader = None;
        }
        if !self.naive() {
            self.reset_election_timer(ctx);
        }
    }

    fn start_election(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        self.d.term += 1;
        self.d.voted_for = Some(self.id);
        self.role = Role::Candidate;
        self.leader = None;
        self.votes = 1 << self.id;
        self.election_started_at = ctx.now_local_us;
        self.reset_election_timer(ctx);
        if self.majority() == 1 {
            self.become_leader(ctx);
            return;
        }
        self.to_other_servers(
            RaftMsg::RequestVote {
                term: self.d.term,
                last_index: self.last_index(),
                last_term: self.last_term(),
            },
            ctx,
        );
    }

    fn become_leader(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let n = self.config.servers as usize;
        self.role = Role::Leader;
        self.leader = Some(self.id);
        self.own_commit = false;
        self.lead_since = ctx.now_local_us;
        self.election.void(); // no more elections while leading
        self.next = vec![self.last_index() + 1; n];
        self.matched = vec![0; n];
        // A voter reset its election timer when it granted the vote, after the election began.
        self.acked_at = (0..n)
            .map(|s| {
                if self.votes & (1 << s) != 0 {
                    self.election_started_at
                } else {
                    0
                }
            })
            .collect();
        self.acked_at[self.id as usize] = ctx.now_local_us;
        ctx.observe(RaftObs::BecameLeader { term: self.d.term });
        if !self.naive() {
            // Commits the previous terms' entries through one of this term.
            self.append_local(
                Entry {
                    term: self.d.term,
                    write: 0,
                    cmd: 0,
                },
                ctx,
            );
        }
        self.matched[self.id as usize] = self.last_index();
        self.advance_commit(ctx);
        self.broadcast_append(ctx);
        self.heartbeat.void();
        self.arm_heartbeat(ctx);
    }

    fn arm_heartbeat(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        self.heartbeat.arm(ctx, self.config.heartbeat_us, HEARTBEAT);
    }

    fn broadcast_append(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        for s in 0..self.config.servers {
            if s != self.id {
                self.send_append(s, ctx);
            }
        }
    }

    fn send_append(&mut self, to: NodeId, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let next = self.next[to as usize].clamp(1, self.last_index() + 1);
        let sent_at = ctx.now_local_us;
        if next <= self.d.snap_index {
            ctx.send(
                to,
                RaftMsg::Snapshot {
                    term: self.d.term,
                    index: self.d.snap_index,
                    snap_term: self.d.snap_term,
                    write: self.d.snap_write,
                    sent_at,
                    kv: self.d.snap_kv,
                },
            );
            return;
        }
        let prev_index = next - 1;
        let prev_term = self.term_at(prev_index).expect("next is within the log");
        let mut entries = Batch::default();
        let mut i = next;
        while entries.len() < BATCH {
            let Some(e) = self.entry(i) else { break };
            entries.push(e);
            i += 1;
        }
        ctx.send(
            to,
            RaftMsg::Append {
                term: self.d.term,
                prev_index,
                prev_term,
                entries,
                commit: self.commit,
                sent_at,
            },
        );
    }

    /// The highest index a majority holds, if it is of this term (Raft) — or all of the
    /// log (naive: the leader commits alone).
    fn advance_commit(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let target = if self.naive() {
            self.last_index()
        } else {
            // The servers' match indexes on the stack (at most MAX_SERVERS), highest first.
            let mut buf = [0u64; MAX_SERVERS as usize];
            let m = &mut buf[..self.matched.len()];
            m.copy_from_slice(&self.matched);
            m[self.id as usize] = self.last_index();
            m.sort_unstable_by(|a, b| b.cmp(a));
            let candidate = m[self.majority() as usize - 1];
            if candidate > self.commit && self.term_at(candidate) == Some(self.d.term) {
                candidate
            } else {
                self.commit
            }
        };
        if target > self.commit {
            self.own_commit = true;
            if !self.naive() {
                ctx.observe(RaftObs::Committed {
                    index: target,
                    term: self.d.term,
                });
            }
            self.commit = target;
            self.apply(ctx);
        }
    }

    /// A heartbeat: step down without a quorum, else append (or just remind) everyone.
    fn leader_tick(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        if !self.step_down_without_quorum(ctx) {
            self.broadcast_append(ctx);
            self.arm_heartbeat(ctx);
        }
    }

    fn step_down_without_quorum(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) -> bool {
        if !self.config.check_quorum || self.naive() {
            return false;
        }
        let lease = self.config.election_min_us - self.config.heartbeat_us;
        // Checked once a heartbeat: step down if the lease could lapse before the next check.
        self.acked_at[self.id as usize] = ctx.now_local_us;
        let horizon = ctx.now_local_us + self.config.heartbeat_us;
        let fresh = self.acked_at.iter().filter(|&&t| t + lease > horizon).count() as u32;
        if fresh < self.majority() {
            let term = self.d.term;
            self.become_follower(term, ctx);
            true
        } else {
            false
        }
    }

    // ---- naive election ----

    /// The server this one believes leads: the highest id heard from lately, or itself.
    fn naive_leader(&self, now: Micros) -> NodeId {
        let window = self.config.election_min_us;
        (0..self.config.servers)
            .rev()
            .find(|&s| s == self.id || self.heard[s as usize].is_some_and(|t| now < t + window))
            .expect("a server hears itself")
    }

    fn naive_tick(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let now = ctx.now_local_us;
        let leader = self.naive_leader(now);
        if leader == self.id {
            if self.role != Role::Leader {
                self.d.term = self.d.term.max(self.term_seen) + 1;
                self.term_seen = self.d.term;
                self.votes = 0;
                self.become_leader(ctx);
                return; // become_leader announces itself and arms the heartbeat
            }
            self.broadcast_append(ctx);
        } else {
            if self.role == Role::Leader {
                self.role = Role::Follower;
                self.waiting.clear();
            }
            self.leader = Some(leader);
            self.to_other_servers(RaftMsg::Alive { term: self.d.term }, ctx);
        }
        self.arm_heartbeat(ctx);
    }

    // ---- server message handling ----

    fn server_message(&mut self, from: NodeId, msg: RaftMsg, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let from_server = from < self.config.servers;
        if from_server {
            if let Some(h) = self.heard.get_mut(from as usize) {
                *h = Some(ctx.now_local_us);
            }
        }
        match msg {
            RaftMsg::Write { op, write } => self.client_write(from, op, write, ctx),
            RaftMsg::Command { .. } | RaftMsg::Read { .. } => self.client_kv(from, msg, ctx),
            RaftMsg::Alive { term } => self.term_seen = self.term_seen.max(term),
            RaftMsg::RequestVote {
                term,
                last_index,
                last_term,
            } if from_server && !self.naive() && !self.ignores_vote(ctx.now_local_us) => {
                self.request_vote(from, term, (last_index, last_term), ctx)
            }
            RaftMsg::Vote { term, granted } if from_server && !self.naive() => {
                if term > self.d.term {
                    self.become_follower(term, ctx);
                } else if self.role == Role::Candidate && term == self.d.term && granted {
                    self.votes |= 1 << from;
                    if self.votes.count_ones() >= self.majority() {
                        self.become_leader(ctx);
                    }
                }
            }
            RaftMsg::Append {
                term,
                prev_index,
                prev_term,
                entries,
                commit,
                sent_at,
            } if from_server => {
                if !self.accept_leader(from, term, sent_at, ctx) {
                    return;
                }
                let reply = self.follow(prev_index, prev_term, entries.as_slice(), commit, ctx);
                let (ok, index) = match reply {
                    Ok(m) => (true, m),
                    Err(hint) => (false, hint),
                };
                ctx.send(
                    from,
                    RaftMsg::AppendReply {
                        term: self.d.term,
                        ok,
                        index,
                        sent_at,
                    },
                );
            }
            RaftMsg::Snapshot {
                term,
                index,
                snap_term,
                write,
                sent_at,
                kv,
            } if from_server => {
                if !self.accept_leader(from, term, sent_at, ctx) {
                    return;
                }
                self.install_snapshot(index, snap_term, (write, kv), ctx);
                ctx.send(
                    from,
                    RaftMsg::AppendReply {
                        term: self.d.term,
                        ok: true,
                        index,
                        sent_at,
                    },
                );
            }
            RaftMsg::AppendReply {
                term,
                ok,
                index,
                sent_at,
            } if from_server => self.append_reply(from, term, ok, index, sent_at, ctx),
            _ => {}
        }
    }

    /// A candidate's vote request; `last`: its last log index and term.
    fn request_vote(&mut self, from: NodeId, term: u64, last: (u64, u64), ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let (last_index, last_term) = last;
        if term > self.d.term {
            self.become_follower(term, ctx);
        }
        let up_to_date = (last_term, last_index) >= (self.last_term(), self.last_index());
        let granted = term == self.d.term
            && self.d.voted_for.is_none_or(|v| v == from)
            && up_to_date
            && self.role != Role::Leader;
        if granted {
            self.d.voted_for = Some(from);
            self.reset_election_timer(ctx);
        }
        ctx.send(
            from,
            RaftMsg::Vote {
                term: self.d.term,
                granted,
            },
        );
    }

    /// Whether an append from `from` in `term` comes from the leader this server follows;
    /// answers a stale Raft leader with the current term.
    fn accept_leader(&mut self, from: NodeId, term: u64, sent_at: Micros, ctx: &mut Ctx<RaftMsg, RaftObs>) -> bool {
        if self.naive() {
            self.term_seen = self.term_seen.max(term);
            // Follows whoever it believes leads; a higher id takes over at once.
            let believed = self.naive_leader(ctx.now_local_us);
            if from != believed {
                return false;
            }
            if self.role == Role::Leader {
                self.role = Role::Follower;
                self.waiting.clear();
            }
            self.leader = Some(from);
            self.d.term = self.d.term.max(term);
            return true;
        }
        if term < self.d.term {
            ctx.send(
                from,
                RaftMsg::AppendReply {
                    term: self.d.term,
                    ok: false,
                    index: 0,
                    sent_at,
                },
            );
            return false;
        }
        if term > self.d.term || self.role != Role::Follower {
            self.become_follower(term, ctx);
        } else {
            self.reset_election_timer(ctx);
        }
        self.leader = Some(from);
        self.heard_leader_at = Some(ctx.now_local_us);
        true
    }

    /// The follower's side of an append: Ok(last matching index) or Err(where to retry).
    fn follow(
        &mut self,
        prev_index: u64,
        prev_term: u64,
        entries: &[Entry],
        leader_commit: u64,
        ctx: &mut Ctx<RaftMsg, RaftObs>,
    ) -> Result<u64, u64> {
        let mut prev_index = prev_index;
        let mut entries = entries;
        if prev_index < self.d.snap_index {
            if !self.naive() {
                // Everything up to the snapshot is committed, so it matches the leader's.
                let skip = ((self.d.snap_index - prev_index) as usize).min(entries.len());
                entries = &entries[skip..];
                prev_index += skip as u64;
                if prev_index < self.d.snap_index {
                    return Ok(self.d.snap_index);
                }
            } else {
                // Naive: cannot check below its snapshot; ask for the leader's.
                return Err(0);
            }
        }
        let prev_term = if prev_index == self.d.snap_index && !self.naive() {
            self.d.snap_term
        } else {
            prev_term
        };
        if self.term_at(prev_index) != Some(prev_term) {
            let hint = if prev_index > self.last_index() {
                self.last_index()
            } else {
                // Skip back over the whole conflicting term.
                let bad = self.term_at(prev_index);
                let mut i = prev_index - 1;
                while i > self.d.snap_index && self.term_at(i) == bad {
                    i -= 1;
                }
                i
            };
            return Err(hint);
        }
        let mut index = prev_index;
        for &entry in entries {
            index += 1;
            match self.term_at(index) {
                Some(t) if t == entry.term && self.entry(index) == Some(entry) => continue,
                Some(_) => self.truncate_after(index - 1, ctx),
                None => {}
            }
            self.append_local(entry, ctx);
        }
        let new_commit = leader_commit.min(index);
        if new_commit > self.commit {
            self.commit = new_commit;
            self.apply(ctx);
        }
        Ok(index)
    }

    /// `state`: the snapshot's register value and key-value state.
    fn install_snapshot(&mut self, index: u64, snap_term: u64, state: (u64, KvState), ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let (write, kv) = state;
        if index <= self.d.snap_index && !self.naive() {
            return;
        }
        if self.term_at(index) == Some(snap_term) && !self.naive() {
            // It has the entry: keep what follows.
            let drop = (index - self.d.snap_index) as usize;
            self.d.entries.drain(..drop);
        } else {
            if self.naive() && self.applied > index.min(self.last_index()) {
                self.truncate_after(index.min(self.last_index()).max(self.d.snap_index), ctx);
            }
            self.d.entries.clear();
        }
        self.d.snap_index = index;
        self.d.snap_term = snap_term;
        self.d.snap_write = write;
        self.d.snap_kv = kv;
        if self.commit < index || self.naive() {
            self.commit = index.max(self.commit.min(self.last_index()));
        }
        if self.applied < index || self.naive() {
            self.applied = index;
            self.value = self.value_at(index);
            self.kv = kv;
        }
        self.apply(ctx);
    }

    fn append_reply(
        &mut self,
        from: NodeId,
        term: u64,
        ok: bool,
        index: u64,
        sent_at: Micros,
        ctx: &mut Ctx<RaftMsg, RaftObs>,
    ) {
        if term > self.d.term && !self.naive() {
            self.become_follower(term, ctx);
            return;
        }
        if self.role != Role::Leader || (term != self.d.term && !self.naive()) {
            return;
        }
        let f = from as usize;
        self.acked_at[f] = self.acked_at[f].max(sent_at);
        if ok {
            self.matched[f] = self.matched[f].max(index);
            self.next[f] = self.matched[f] + 1;
            self.advance_commit(ctx);
            if self.next[f] <= self.last_index() {
                self.send_append(from, ctx);
            }
        } else {
            self.next[f] = (index + 1).min(self.next[f].saturating_sub(1)).max(1);
            self.send_append(from, ctx);
        }
        self.serve_reads(ctx);
    }

    fn client_write(&mut self, client: NodeId, op: u32, write: u64, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        if !self.leads_now(ctx.now_local_us) {
            ctx.observe(RaftObs::Redirected);
            let leader = self.leader.filter(|&l| l != self.id);
            ctx.send(client, RaftMsg::Redirect { op, leader });
            return;
        }
        // A retried write already in the log is not appended again.
        let tail = self.d.entries.len().saturating_sub(DEDUPE_WINDOW);
        let found = (self.d.entries[tail..].iter().rposition(|e| e.write == write))
            .map(|k| self.d.snap_index + 1 + (tail + k) as u64);
        let index = match found {
            Some(i) => i,
            None => self.append_local(
                Entry {
                    term: self.d.term,
                    write,
                    cmd: 0,
                },
                ctx,
            ),
        };
        if index <= self.applied {
            ctx.send(client, RaftMsg::WriteOk { op, index });
            return;
        }
        self.waiting.push(Waiting { index, client, op });
        self.matched[self.id as usize] = self.last_index();
        self.advance_commit(ctx);
        if found.is_none() {
            self.broadcast_append(ctx);
        }
    }
}

impl Protocol for Raft {
    type Config = RaftConfig;
    type Msg = RaftMsg;
    type Durable = RaftDurable;
    type Obs = RaftObs;
    const NAME: &'static str = "raft";

    fn boot(
        config: &RaftConfig,
        id: NodeId,
        _nodes: u32,
        durable: RaftDurable,
        rng: Rng,
        ctx: &mut Ctx<RaftMsg, RaftObs>,
    ) -> Self {
        if id < config.servers {
            Raft::Server(Server::boot(config, id, durable, rng, ctx))
        } else {
            Raft::Client(Client::boot(config, id, durable, rng, ctx))
        }
    }

    fn on_message(&mut self, from: NodeId, msg: RaftMsg, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        match self {
            Raft::Server(s) => s.server_message(from, msg, ctx),
            Raft::Client(c) if from < c.config.servers => c.client_message(msg, ctx),
            Raft::Client(_) => {}
        }
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        match self {
            Raft::Server(s) => s.on_timer(tag, ctx),
            Raft::Client(c) => c.on_timer(tag, ctx),
        }
    }

    fn durable(&self) -> RaftDurable {
        match self {
            Raft::Server(s) => s.d.clone(),
            Raft::Client(c) => c.d.clone(),
        }
    }
}

impl Server {
    fn boot(
        config: &RaftConfig,
        id: NodeId,
        durable: RaftDurable,
        rng: Rng,
        ctx: &mut Ctx<RaftMsg, RaftObs>,
    ) -> Server {
        let servers = config.servers as usize;
        let mut node = Server {
            config: config.clone(),
            id,
            rng,
            commit: durable.snap_index,
            applied: durable.snap_index,
            value: durable.snap_write,
            kv: durable.snap_kv,
            term_seen: durable.term,
            d: durable,
            role: Role::Follower,
            leader: None,
            election: Generation::default(),
            heartbeat: Generation::default(),
            votes: 0,
            election_started_at: 0,
            next: Vec::new(),
            matched: Vec::new(),
            acked_at: Vec::new(),
            waiting: Vec::new(),
            heard: vec![None; servers],
            reads: Vec::new(),
            own_commit: false,
            lead_since: 0,
            heard_leader_at: None,
        };
        match config.election {
            Election::Raft => node.reset_election_timer(ctx),
            Election::Naive => {
                // Listens for a while before presuming the others gone.
                let quiet = node.rng.between(config.heartbeat_us, config.election_min_us);
                ctx.set_timer(quiet, HEARTBEAT);
                node.heard = vec![Some(ctx.now_local_us); servers];
            }
        }
        node
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        match timer_kind(tag) {
            ELECTION if self.election.is_current(tag) && self.role != Role::Leader => self.start_election(ctx),
            HEARTBEAT if !self.heartbeat.is_current(tag) => {}
            HEARTBEAT if self.naive() => self.naive_tick(ctx),
            HEARTBEAT if self.role == Role::Leader => self.leader_tick(ctx),
            _ => {}
        }
    }
}
