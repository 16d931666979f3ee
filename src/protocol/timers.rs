//! Timer tags and timer generations: how a protocol names its timers and voids the ones
//! it has already armed.
//!
//! A tag carries the protocol's timer kind in its low byte and an argument above it
//! (`timer_tag`). The engine has no way to cancel a timer — an armed timer fires, and the
//! trace records it — so a protocol that changes its mind (a new election timeout, a
//! lease it dropped, a view change that made progress) arms timers under a `Generation`
//! and ignores a timer whose generation is no longer current.
//!
//! Layer: part of the protocol contract, beside `workload`. It imports only the
//! vocabulary and `Ctx`; it draws no random number and sends nothing, so a protocol that
//! adopts it keeps its trace bit for bit (a generation's tag is the tag it wrote by hand).

use crate::protocol::{Ctx, TimerTag};
use crate::time::Micros;

/// A timer tag: the protocol's timer kind in the low byte, the argument above it.
pub fn timer_tag(kind: TimerTag, arg: u64) -> TimerTag {
    debug_assert!(kind <= 0xFF, "timer kind {kind} does not fit the low byte");
    kind | arg << 8
}

/// A timer tag's kind (the low byte).
pub fn timer_kind(tag: TimerTag) -> TimerTag {
    tag & 0xFF
}

/// A timer tag's argument (above the low byte).
pub fn timer_arg(tag: TimerTag) -> u64 {
    tag >> 8
}

/// A generation of timers: starting a new one voids every timer armed under an older one.
/// Several kinds may share one generation (a lease's work and renew ticks end together).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Generation(u64);

impl Generation {
    /// Voids every timer armed so far under this generation.
    pub fn void(&mut self) {
        self.0 += 1;
    }

    /// The tag of a timer of `kind` armed under the current generation.
    pub fn tag(&self, kind: TimerTag) -> TimerTag {
        timer_tag(kind, self.0)
    }

    /// Arms a timer of `kind` after `delay_us` under the current generation (it stays
    /// valid beside the others armed under it).
    pub fn arm<M, O>(&self, ctx: &mut Ctx<M, O>, delay_us: Micros, kind: TimerTag) {
        ctx.set_timer(delay_us, self.tag(kind));
    }

    /// Voids the timers armed so far and arms one of `kind` after `delay_us`: the one
    /// timer of a chain that counts.
    pub fn rearm<M, O>(&mut self, ctx: &mut Ctx<M, O>, delay_us: Micros, kind: TimerTag) {
        self.void();
        self.arm(ctx, delay_us, kind);
    }

    /// Whether a fired timer was armed under the current generation.
    pub fn is_current(&self, tag: TimerTag) -> bool {
        timer_arg(tag) == self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_generation_voids_the_timers_of_the_old_one() {
        let mut ctx: Ctx<(), ()> = Ctx::new();
        let mut g = Generation::default();
        g.rearm(&mut ctx, 10, 3);
        let old = ctx.timers[0].1;
        assert!(g.is_current(old));
        g.rearm(&mut ctx, 10, 3);
        let new = ctx.timers[1].1;
        assert!(!g.is_current(old), "the first timer must be void");
        assert!(g.is_current(new));
        assert_eq!((timer_kind(new), timer_arg(new)), (3, 2));
        g.void();
        assert!(!g.is_current(new));
    }
}
