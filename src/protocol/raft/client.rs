//! A Raft client (`Raft::Client`): one write or key-value operation in flight, sent to
//! the server it believes leads, redirected by servers that do not, retried at the next
//! server after a timeout (the same write id, so one leader never appends it twice), given
//! up after `retries` tries. The key-value operations themselves are in `reads.rs`.

use super::*;

/// A client's write in flight.
#[derive(Clone, Copy, Debug)]
pub(super) struct Attempt {
    pub(super) op: u32,
    pub(super) write: u64,
    pub(super) tries: u32,
    /// A key-value command, or 0 (a plain write).
    pub(super) cmd: u64,
}

/// A client's state: its operations, where it sends them, and what came of them.
#[derive(Clone, Debug)]
pub struct Client {
    pub(super) config: RaftConfig,
    pub(super) id: NodeId,
    pub(super) rng: Rng,
    /// What the engine handed over at boot, handed back unchanged: a client keeps
    /// nothing durable.
    pub(super) d: RaftDurable,
    pub(super) next_op: u32,
    pub(super) target: NodeId,
    pub(super) pending: Option<Attempt>,
    pub(super) ok: u64,
    pub(super) gave_up: u64,
    pub(super) redirects: u64,
    pub(super) timeouts: u64,
    /// The last value it saw per key (what its cas expects).
    pub(super) seen: KvState,
}

impl Client {
    pub(super) fn boot(
        config: &RaftConfig,
        id: NodeId,
        durable: RaftDurable,
        rng: Rng,
        ctx: &mut Ctx<RaftMsg, RaftObs>,
    ) -> Client {
        let mut node = Client {
            config: config.clone(),
            id,
            rng,
            d: durable,
            next_op: 0,
            target: 0,
            pending: None,
            ok: 0,
            gave_up: 0,
            redirects: 0,
            timeouts: 0,
            seen: KvState::default(),
        };
        node.target = node.client_index() % config.servers;
        let phase = node.rng.between(1, config.op_every_us);
        ctx.set_timer(phase, OP);
        node
    }

    pub(super) fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let arg = tag >> 8;
        match tag & 0xFF {
            OP => {
                if self.pending.is_none() && self.config.kv.is_some() {
                    self.kv_next_op(ctx);
                } else if self.pending.is_none() {
                    self.next_op += 1;
                    let write = (self.id as u64) << 32 | self.next_op as u64;
                    self.pending = Some(Attempt {
                        op: self.next_op,
                        write,
                        tries: 0,
                        cmd: 0,
                    });
                    self.send_attempt(ctx);
                }
                let every = self.config.op_every_us;
                let next = self.rng.between(every - every / 4, every + every / 4);
                ctx.set_timer(next, OP);
            }
            CLIENT_TIMEOUT if self.pending.is_some_and(|a| Self::attempt_arg(a) == arg) => {
                self.timeouts += 1;
                if !self.kv_give_up(ctx) {
                    self.retry(ctx, None, 0);
                }
            }
            RETRY if self.pending.is_some_and(|a| Self::attempt_arg(a) == arg) => self.send_attempt(ctx),
            _ => {}
        }
    }

    pub(super) fn client_index(&self) -> u32 {
        self.id - self.config.servers
    }

    /// Names one try of one write in a timer tag.
    fn attempt_arg(a: Attempt) -> u64 {
        (a.op as u64) << 8 | a.tries as u64
    }

    pub(super) fn send_attempt(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let Some(a) = self.pending else { return };
        let msg = match a.cmd {
            0 => RaftMsg::Write {
                op: a.op,
                write: a.write,
            },
            _ => self.kv_request(a),
        };
        ctx.send(self.target, msg);
        ctx.set_timer(
            self.config.client_timeout_us,
            CLIENT_TIMEOUT | Self::attempt_arg(a) << 8,
        );
    }

    /// One more try at the write in flight, or give up after the last.
    fn retry(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>, to: Option<NodeId>, delay_us: Micros) {
        let Some(mut a) = self.pending else { return };
        a.tries += 1;
        if a.tries > self.config.retries {
            self.pending = None;
            self.gave_up += 1;
            ctx.observe(RaftObs::GaveUp);
            return;
        }
        self.pending = Some(a);
        self.target = to.unwrap_or((self.target + 1) % self.config.servers);
        if delay_us == 0 {
            self.send_attempt(ctx);
        } else {
            ctx.set_timer(delay_us, RETRY | Self::attempt_arg(a) << 8);
        }
    }

    pub(super) fn client_message(&mut self, msg: RaftMsg, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let Some(a) = self.pending else { return };
        match msg {
            RaftMsg::WriteOk { op, index } if op == a.op => {
                self.pending = None;
                self.ok += 1;
                ctx.observe(RaftObs::Acked { write: a.write, index });
            }
            RaftMsg::Reply { op, ok, value, index } if op == a.op => self.kv_reply(ok, value, index, ctx),
            RaftMsg::Redirect { op, leader } if op == a.op => {
                self.redirects += 1;
                // No leader known: wait about one election before asking again.
                let delay = if leader.is_some() {
                    0
                } else {
                    self.config.election_min_us / 2
                };
                self.retry(ctx, leader, delay);
            }
            _ => {}
        }
    }
}
