//! A lease client (`Lease::Client`): asks the lock server for the lease, believes it holds
//! it until `lease − margin` by its own clock from when it asked, renews and writes while
//! it believes (each write checked at one tick, sent at the next), and releases after
//! `hold`.

use super::*;

/// A client's state: its asks, the lease it believes it holds, its writes.
#[derive(Clone, Debug)]
pub struct Client {
    config: LeaseConfig,
    rng: Rng,
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

impl Client {
    pub(super) fn boot(config: &LeaseConfig, id: NodeId, rng: Rng, ctx: &mut Ctx<LeaseMsg, LeaseObs>) -> Client {
        let mut client = Client {
            config: config.clone(),
            rng,
            min_ask_us: 0,
            holding: None,
            since_us: 0,
            prepared: None,
            seq: 0,
            unacked: 0,
            accepted: 0,
            rejected: 0,
            expiry: Generation::default(),
            asking: Generation::default(),
            holding_timers: Generation::default(),
            releasing: false,
        };
        // Clients start in order, a little apart, so the first one wins the lease.
        let start = 100_000 * (id as u64 - 2) + 1_000 + client.rng.below(1_000);
        client.arm_acquire(start, ctx);
        client
    }

    /// The token it believes it holds, by its own clock.
    pub(super) fn believes(&self) -> Option<u64> {
        self.holding.map(|(t, _)| t)
    }

    /// The token it believes it holds and the local end of that belief.
    pub(super) fn holding(&self) -> Option<(u64, Micros)> {
        self.holding
    }

    /// Writes the storage accepted and rejected.
    pub(super) fn writes(&self) -> (u64, u64) {
        (self.accepted, self.rejected)
    }

    fn jitter(&mut self, us: Micros) -> Micros {
        us + self.rng.below(us / 4 + 1)
    }

    fn ask(&mut self, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        ctx.send(SERVER, LeaseMsg::Acquire { at: ctx.now_local_us });
        self.arm_acquire(self.config.retry_us, ctx);
    }

    /// Asks again after about `delay_us` (jittered), voiding any earlier retry timer.
    fn arm_acquire(&mut self, delay_us: Micros, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        let wait = self.jitter(delay_us.max(1));
        self.asking.rearm(ctx, wait, ACQUIRE);
    }

    /// Believes until `asked + lease − margin` by its own clock.
    fn believe(&mut self, token: u64, asked_us: Micros, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        let until = asked_us + self.config.lease_us - self.config.margin_us;
        let current = self.holding.filter(|&(t, _)| t == token).map_or(0, |(_, u)| u);
        if until <= ctx.now_local_us || until <= current {
            return; // the answer came too late to be of use
        }
        self.holding = Some((token, until));
        self.expiry.rearm(ctx, until - ctx.now_local_us, EXPIRE);
    }

    fn drop_lease(&mut self, ctx: &mut Ctx<LeaseMsg, LeaseObs>, rest_us: Micros) {
        self.holding = None;
        self.prepared = None;
        self.min_ask_us = ctx.now_local_us;
        self.releasing = false;
        self.holding_timers.void();
        self.arm_acquire(rest_us, ctx);
    }

    /// A message from the server or the storage.
    pub(super) fn on_message(&mut self, msg: LeaseMsg, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        match msg {
            LeaseMsg::Grant { token, at } if at >= self.min_ask_us && self.holding.is_none() => {
                self.believe(token, at, ctx);
                if self.holding.is_some() {
                    self.since_us = ctx.now_local_us;
                    self.prepared = Some(token);
                    self.asking.void(); // no more asking
                    let timers = &mut self.holding_timers;
                    timers.void();
                    timers.arm(ctx, self.config.write_every_us, WORK);
                    timers.arm(ctx, self.config.renew_every_us, RENEW);
                }
            }
            LeaseMsg::Renewed { token, at } if self.holding.is_some_and(|(t, _)| t == token) => {
                self.believe(token, at, ctx);
            }
            LeaseMsg::RenewRefused { token } if self.holding.is_some_and(|(t, _)| t == token) => {
                self.drop_lease(ctx, self.config.retry_us);
            }
            LeaseMsg::Accepted { .. } => {
                self.unacked = self.unacked.saturating_sub(1);
                self.accepted += 1;
            }
            LeaseMsg::Rejected { .. } => {
                self.unacked = self.unacked.saturating_sub(1);
                self.rejected += 1;
                // The storage has seen a newer holder: this client's lease is gone.
                if self.holding.is_some() {
                    self.drop_lease(ctx, self.config.retry_us);
                }
            }
            _ => {}
        }
    }

    pub(super) fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        let this_lease = self.holding_timers.is_current(tag);
        match timer_kind(tag) {
            ACQUIRE if self.asking.is_current(tag) && self.holding.is_none() => self.ask(ctx),
            WORK if this_lease => self.work(ctx),
            RENEW if this_lease => self.renew(ctx),
            EXPIRE if self.expiry.is_current(tag) && self.holding.is_some() => {
                self.drop_lease(ctx, self.config.retry_us);
            }
            _ => {}
        }
    }

    /// A work tick: the write prepared at the last tick goes out now, unchecked; then the
    /// lease is checked for the next one (or, releasing, given back once writes are
    /// answered or the lease has run out).
    fn work(&mut self, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        let now = ctx.now_local_us;
        if let Some(token) = self.prepared.take() {
            self.seq += 1;
            self.unacked += 1;
            ctx.send(STORAGE, LeaseMsg::Write { token, seq: self.seq });
        }
        let Some((token, until)) = self.holding else {
            return;
        };
        if self.releasing {
            if self.unacked == 0 || now >= until {
                ctx.send(SERVER, LeaseMsg::Release { token });
                self.drop_lease(ctx, self.config.rest_us);
                return;
            }
        } else if now < until {
            self.prepared = Some(token);
        }
        self.holding_timers.arm(ctx, self.config.write_every_us, WORK);
    }

    /// A renew tick: renew, or after `hold` start releasing.
    fn renew(&mut self, ctx: &mut Ctx<LeaseMsg, LeaseObs>) {
        let now = ctx.now_local_us;
        let Some((token, _)) = self.holding else { return };
        if now.saturating_sub(self.since_us) >= self.config.hold_us {
            self.releasing = true;
            return;
        }
        ctx.send(SERVER, LeaseMsg::Renew { token, at: now });
        self.holding_timers.arm(ctx, self.config.renew_every_us, RENEW);
    }
}
