//! Applying faults to the world, and undoing timed ones when their duration ends.
//!
//! Every fault here has passed `Fault::check`. A fault given a duration returns the
//! `Revert` that undoes exactly what it did, if nothing newer has replaced it: a timed
//! crash restarts only the incarnation it crashed, a timed partition heals only its own
//! split, a timed clock fault restores the clock it found. Clock changes re-time the
//! node's pending timers, so a clock jumped forward fires them early, one set back late.

use crate::fault::{Fault, Shape};
use crate::network::{LinkConfig, NodeId};
use crate::node::{Afflictions, Status};
use crate::protocol::Durable;
use crate::time::{ms_to_us, Micros};
use crate::vocab::probability_ppm;

use super::{Event, Runnable, Timer, World};

/// What a timed fault undoes when it ends.
#[derive(Clone, Debug)]
pub(super) enum Revert {
    Restart {
        node: NodeId,
        incarnation: u32,
    },
    Afflictions {
        node: NodeId,
        previous: Box<Afflictions>,
    },
    ClockOffset {
        node: NodeId,
        offset_us: i64,
    },
    ClockDrift {
        node: NodeId,
        drift_ppm: i32,
    },
    StopStrobe {
        node: NodeId,
        strobe_id: u32,
        offset_us: i64,
    },
    HealPartition {
        generation: u32,
    },
    Uncut {
        links: Vec<(NodeId, NodeId)>,
    },
    StopFlap {
        id: u32,
    },
    Links {
        previous: Vec<((NodeId, NodeId), LinkConfig)>,
    },
}

/// A flapping link: it toggles every `period_us` while `active`.
#[derive(Clone, Debug)]
pub(super) struct FlapState {
    links: Vec<(NodeId, NodeId)>,
    period_us: Micros,
    down: bool,
    active: bool,
}

fn offset_us(ms: f64) -> i64 {
    (ms * 1_000.0).round() as i64
}

impl<P: Runnable> World<P> {
    /// Applies a checked fault; returns how to undo it, for faults that can be timed.
    pub(super) fn apply_checked(&mut self, fault: &Fault) -> Option<Revert> {
        match fault {
            Fault::Crash { node } => {
                self.crash(*node);
                Some(Revert::Restart {
                    node: *node,
                    incarnation: self.runtime[*node as usize].incarnation,
                })
            }
            Fault::Restart { node } => {
                self.restart(*node);
                None
            }
            Fault::Pause { node, duration_ms } => {
                let until_us = self.now_us + ms_to_us(*duration_ms, "duration_ms").expect("checked");
                let rt = &mut self.runtime[*node as usize];
                let pause_id = rt.new_pause_id();
                rt.status = Status::Paused { until_us, pause_id };
                self.queue.push(until_us, Event::Resume { node: *node, pause_id });
                None
            }
            Fault::Omission { node, send, receive } => self.afflict(*node, |a| {
                a.send_omission_ppm = probability_ppm(*send, "send").expect("checked");
                a.receive_omission_ppm = probability_ppm(*receive, "receive").expect("checked");
            }),
            Fault::Slow { node, delay } => {
                let latency = delay.to_latency().expect("checked");
                let off = latency.max_us() <= 1 && matches!(latency, crate::network::Latency::Constant { us: 0 });
                self.afflict(*node, |a| a.slow = (!off).then_some(latency))
            }
            Fault::Gray { node, fail, slow_ms } => self.afflict(*node, |a| {
                a.gray_fail_ppm = probability_ppm(*fail, "fail").expect("checked");
                a.gray_slow_us = ms_to_us(*slow_ms, "slow_ms").expect("checked");
            }),
            Fault::Byzantine { node, behaviour } => self.afflict(*node, |a| a.behaviour = behaviour.clone()),
            Fault::Storage { node, damage } => {
                let noise = self.fault_rng.next_u64();
                self.durable[*node as usize].damage(*damage, noise);
                None
            }
            Fault::ClockOffset { node, offset_ms } => {
                let clock = &mut self.runtime[*node as usize].clock;
                let previous = std::mem::replace(&mut clock.offset_us, offset_us(*offset_ms));
                self.retime_timers(*node);
                Some(Revert::ClockOffset {
                    node: *node,
                    offset_us: previous,
                })
            }
            Fault::ClockDrift { node, drift_ppm } => {
                let now = self.now_us;
                let clock = &mut self.runtime[*node as usize].clock;
                let previous = clock.drift_ppm;
                clock.set_drift(now, *drift_ppm);
                self.retime_timers(*node);
                Some(Revert::ClockDrift {
                    node: *node,
                    drift_ppm: previous,
                })
            }
            Fault::ClockJump { node, by_ms } => {
                self.runtime[*node as usize].clock.offset_us += offset_us(*by_ms);
                self.retime_timers(*node);
                None
            }
            Fault::ClockStrobe {
                node,
                a_ms,
                b_ms,
                period_ms,
            } => {
                let rt = &mut self.runtime[*node as usize];
                rt.strobe_id += 1;
                rt.strobing = true;
                let strobe_id = rt.strobe_id;
                let previous = std::mem::replace(&mut rt.clock.offset_us, offset_us(*a_ms));
                let period_us = ms_to_us(*period_ms, "period_ms").expect("checked");
                self.strobe_params[*node as usize] = (offset_us(*a_ms), offset_us(*b_ms), period_us);
                self.retime_timers(*node);
                self.queue.push(
                    self.now_us + period_us,
                    Event::ClockFlip {
                        node: *node,
                        strobe_id,
                        to_b: true,
                    },
                );
                Some(Revert::StopStrobe {
                    node: *node,
                    strobe_id,
                    offset_us: previous,
                })
            }
            Fault::Partition { groups } => self.partition(groups),
            Fault::Isolate { node } => self.partition(&[vec![*node]]),
            Fault::Shape { shape } => self.shape(*shape),
            Fault::PartialPartition { a, b } => {
                self.network.partial(a, b);
                Some(Revert::HealPartition {
                    generation: self.network.generation(),
                })
            }
            Fault::Heal => {
                self.network.heal();
                self.flaps.iter_mut().for_each(|f| f.active = false);
                None
            }
            Fault::Cut { from, to } => {
                self.network.cut(*from, *to);
                Some(Revert::Uncut {
                    links: vec![(*from, *to)],
                })
            }
            Fault::Uncut { from, to } => {
                self.network.uncut(*from, *to);
                None
            }
            Fault::Flap {
                from,
                to,
                period_ms,
                both,
            } => {
                let mut links = vec![(*from, *to)];
                if *both {
                    links.push((*to, *from));
                }
                let period_us = ms_to_us(*period_ms, "period_ms").expect("checked");
                let id = self.flaps.len() as u32;
                self.flaps.push(FlapState {
                    links,
                    period_us,
                    down: false,
                    active: true,
                });
                self.flap(id);
                Some(Revert::StopFlap { id })
            }
            Fault::Link {
                from,
                to,
                latency,
                loss,
                duplicate,
                both,
            } => {
                let mut pairs = vec![(*from, *to)];
                if *both {
                    pairs.push((*to, *from));
                }
                let mut previous = Vec::new();
                for (a, b) in pairs {
                    let mut link = self.network.link(a, b).clone();
                    previous.push(((a, b), link.clone()));
                    if let Some(spec) = latency {
                        link.latency = spec.to_latency().expect("checked");
                    }
                    if let Some(p) = loss {
                        link.loss_ppm = probability_ppm(*p, "loss").expect("checked");
                    }
                    if let Some(p) = duplicate {
                        link.duplicate_ppm = probability_ppm(*p, "duplicate").expect("checked");
                    }
                    self.network.set_link(a, b, link);
                }
                Some(Revert::Links { previous })
            }
        }
    }

    fn restart(&mut self, node: NodeId) {
        let rt = &mut self.runtime[node as usize];
        assert_eq!(rt.status, Status::Crashed, "only a crashed node restarts");
        rt.status = Status::Up;
        rt.self_crashed = false;
        rt.restarts += 1;
        self.boot(node);
    }

    fn afflict(&mut self, node: NodeId, change: impl FnOnce(&mut Afflictions)) -> Option<Revert> {
        let afflictions = &mut self.runtime[node as usize].afflictions;
        let previous = Box::new(afflictions.clone());
        change(afflictions);
        Some(Revert::Afflictions { node, previous })
    }

    fn partition(&mut self, groups: &[Vec<NodeId>]) -> Option<Revert> {
        self.network.partition(groups);
        Some(Revert::HealPartition {
            generation: self.network.generation(),
        })
    }

    fn shape(&mut self, shape: Shape) -> Option<Revert> {
        let n = self.n;
        match shape {
            Shape::Halves => return self.partition(&[(0..n / 2 + 1).collect()]),
            Shape::MinorityThird => return self.partition(&[(n - (n / 3).max(1)..n).collect()]),
            Shape::Ring => {
                // Each node reaches itself and `reach` neighbours each way: 2·reach + 1 ≥ a majority.
                let majority = n / 2 + 1;
                self.network.ring(majority / 2)
            }
            Shape::Bridge => {
                let middle = n / 2;
                let (a, b): (Vec<_>, Vec<_>) = ((0..middle).collect(), (middle + 1..n).collect());
                self.network.partial(&a, &b);
            }
        }
        Some(Revert::HealPartition {
            generation: self.network.generation(),
        })
    }

    /// Undoes a timed fault, unless something newer already replaced what it did.
    pub(super) fn revert(&mut self, id: u32) {
        let revert = self.reverts[id as usize].take().expect("each revert runs once");
        self.trace_event(
            crate::trace::TraceKind::Fault,
            crate::trace::NO_NODE,
            crate::trace::NO_NODE,
            "",
            0,
            id as u64,
        );
        match revert {
            Revert::Restart { node, incarnation } => {
                let rt = &self.runtime[node as usize];
                if rt.status == Status::Crashed && rt.incarnation == incarnation {
                    self.restart(node);
                }
            }
            Revert::Afflictions { node, previous } => self.runtime[node as usize].afflictions = *previous,
            Revert::ClockOffset { node, offset_us } => {
                self.runtime[node as usize].clock.offset_us = offset_us;
                self.retime_timers(node);
            }
            Revert::ClockDrift { node, drift_ppm } => {
                let now = self.now_us;
                self.runtime[node as usize].clock.set_drift(now, drift_ppm);
                self.retime_timers(node);
            }
            Revert::StopStrobe {
                node,
                strobe_id,
                offset_us,
            } => {
                let rt = &mut self.runtime[node as usize];
                if rt.strobe_id == strobe_id {
                    rt.strobe_id += 1;
                    rt.strobing = false;
                    rt.clock.offset_us = offset_us;
                    self.retime_timers(node);
                }
            }
            Revert::HealPartition { generation } => self.network.heal_generation(generation),
            Revert::Uncut { links } => links.into_iter().for_each(|(a, b)| self.network.uncut(a, b)),
            Revert::StopFlap { id } => {
                let flap = &mut self.flaps[id as usize];
                flap.active = false;
                for &(a, b) in &flap.links {
                    self.network.set_flap_down(a, b, false);
                }
            }
            Revert::Links { previous } => {
                for ((a, b), link) in previous {
                    self.network.set_link(a, b, link);
                }
            }
        }
    }

    pub(super) fn clock_flip(&mut self, node: NodeId, strobe_id: u32, to_b: bool) {
        if self.runtime[node as usize].strobe_id != strobe_id {
            return; // stopped or replaced
        }
        let (a_us, b_us, period_us) = self.strobe_params[node as usize];
        self.runtime[node as usize].clock.offset_us = if to_b { b_us } else { a_us };
        self.retime_timers(node);
        self.queue.push(
            self.now_us + period_us,
            Event::ClockFlip {
                node,
                strobe_id,
                to_b: !to_b,
            },
        );
    }

    pub(super) fn flap(&mut self, id: u32) {
        let flap = &mut self.flaps[id as usize];
        if !flap.active {
            return;
        }
        flap.down = !flap.down;
        for &(a, b) in &flap.links {
            self.network.set_flap_down(a, b, flap.down);
        }
        let period_us = flap.period_us;
        self.queue.push(self.now_us + period_us, Event::Flap { id });
    }

    /// The node's clock changed: queue fresh copies of its pending timers at the global
    /// time its new clock reaches each deadline, and retire the old copies (new epoch).
    fn retime_timers(&mut self, node: NodeId) {
        let rt = &mut self.runtime[node as usize];
        let old_epoch = rt.clock_epoch;
        rt.clock_epoch += 1;
        let (incarnation, epoch, clock) = (rt.incarnation, rt.clock_epoch, rt.clock);
        let pending: Vec<Timer> = self
            .queue
            .iter()
            .filter_map(|e| match e {
                Event::Timer(t)
                    if t.node == node && t.incarnation == incarnation && t.epoch == old_epoch && !t.slowed =>
                {
                    Some(*t)
                }
                _ => None,
            })
            .collect();
        let mut pending = pending;
        pending.sort_by_key(|t| (t.local_at_us, t.tag));
        for timer in pending {
            let at_us = clock.global_at(self.now_us, timer.local_at_us).max(self.now_us + 1);
            self.queue.push(at_us, Event::Timer(Timer { epoch, ..timer }));
        }
    }
}
