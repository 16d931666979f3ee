//! A Raft client (`Raft::Client`): one write or key-value operation in flight, sent to
//! the server it believes leads, redirected by servers that do not, retried at the next
//! server after a timeout (the same write id, so one leader never appends it twice), given
//! up after `retries` tries. The key-value operations themselves are in `reads.rs`.

use super::*;
use crate::protocol::timers::{timer_arg, timer_kind, timer_tag};
use crate::protocol::workload::{request_id, Request, Requests};

/// What a client's request asks: its write id (the same on every try) and its command.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ask {
    pub(super) write: u64,
    /// A key-value command, or 0 (a plain write).
    pub(super) cmd: u64,
}

/// A client's request in flight.
pub(super) type Attempt = Request<Ask>;

/// A client's state: its operations, where it sends them, and what came of them.
#[derive(Clone, Debug)]
pub struct Client {
    pub(super) config: RaftConfig,
    pub(super) id: NodeId,
    pub(super) rng: Rng,
    /// What the engine handed over at boot, handed back unchanged: a client keeps
    /// nothing durable.
    pub(super) d: RaftDurable,
    /// Op numbers, the request in flight, its target and tries, and the tallies.
    pub(super) requests: Requests<Ask>,
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
            // The first tries go to a home server, the clients spread over the servers.
            requests: Requests::new((id - config.servers) % config.servers, config.retries),
            seen: KvState::default(),
        };
        let phase = node.rng.between(1, config.op_every_us);
        ctx.set_timer(phase, OP);
        node
    }

    pub(super) fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let arg = timer_arg(tag);
        match timer_kind(tag) {
            OP => {
                if self.requests.is_idle() && self.config.kv.is_some() {
                    self.kv_next_op(ctx);
                } else if self.requests.is_idle() {
                    let op = self.requests.next_op();
                    let write = request_id(self.id, op);
                    self.requests.begin(op, 0, Ask { write, cmd: 0 });
                    self.send_attempt(ctx);
                }
                let every = self.config.op_every_us;
                let next = self.rng.between(every - every / 4, every + every / 4);
                ctx.set_timer(next, OP);
            }
            CLIENT_TIMEOUT if self.requests.is_current_try(arg) => {
                self.requests.timeouts += 1;
                if !self.kv_give_up(ctx) {
                    self.retry(ctx, None, 0);
                }
            }
            RETRY if self.requests.is_current_try(arg) => self.send_attempt(ctx),
            _ => {}
        }
    }

    pub(super) fn client_index(&self) -> u32 {
        self.id - self.config.servers
    }

    pub(super) fn send_attempt(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let Some(a) = self.requests.in_flight() else { return };
        let msg = match a.what.cmd {
            0 => RaftMsg::Write {
                op: a.op,
                write: a.what.write,
            },
            _ => self.kv_request(a),
        };
        ctx.send(self.requests.target, msg);
        self.requests
            .arm_timeout(ctx, self.config.client_timeout_us, CLIENT_TIMEOUT, a.try_arg());
    }

    /// One more try at the write in flight, or give up after the last.
    fn retry(&mut self, ctx: &mut Ctx<RaftMsg, RaftObs>, to: Option<NodeId>, delay_us: Micros) {
        if self.requests.is_idle() {
            return;
        }
        let Some(a) = self.requests.another_try() else {
            ctx.observe(RaftObs::GaveUp);
            return;
        };
        self.requests.follow(to, self.config.servers);
        if delay_us == 0 {
            self.send_attempt(ctx);
        } else {
            ctx.set_timer(delay_us, timer_tag(RETRY, a.try_arg()));
        }
    }

    pub(super) fn client_message(&mut self, msg: RaftMsg, ctx: &mut Ctx<RaftMsg, RaftObs>) {
        let Some(a) = self.requests.in_flight() else { return };
        match msg {
            RaftMsg::WriteOk { op, index } if op == a.op => {
                self.requests.complete();
                ctx.observe(RaftObs::Acked {
                    write: a.what.write,
                    index,
                });
            }
            RaftMsg::Reply { op, ok, value, index } if op == a.op => self.kv_reply(ok, value, index, ctx),
            RaftMsg::Redirect { op, leader } if op == a.op => {
                self.requests.redirects += 1;
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
