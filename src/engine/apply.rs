//! Applying faults to the world, and undoing timed ones when their duration ends.
//!
//! Every action here was parsed once into engine units (`crate::action`) and passed its
//! status check at this moment. A fault given a duration returns the
//! `Revert` that undoes exactly what it did, if nothing newer has replaced it: a timed
//! crash restarts only the incarnation it crashed, a timed partition heals only its own
//! split, a timed clock fault restores the clock it found. Clock changes re-time the
//! node's pending timers, so a clock jumped forward fires them early, one set back late.

use crate::action::{Action, LinkChange};
use crate::fault::Shape;
use crate::network::{LinkConfig, NodeId};
use crate::node::{Afflictions, Status};
use crate::protocol::Durable;
use crate::time::Micros;

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

impl<P: Runnable> World<P> {
    /// Applies an action whose status check passed; returns how to undo it, for actions
    /// that can be timed.
    pub(super) fn apply_checked(&mut self, action: &Action) -> Option<Revert> {
        match *action {
            Action::Crash { node } => {
                self.crash(node);
                let incarnation = self.runtime[node as usize].incarnation;
                Some(Revert::Restart { node, incarnation })
            }
            Action::Restart { node } => {
                self.restart(node);
                None
            }
            Action::Pause { node, duration_us } => {
                let until_us = self.now_us + duration_us;
                let rt = &mut self.runtime[node as usize];
                let pause_id = rt.new_pause_id();
                rt.status = Status::Paused { until_us, pause_id };
                self.queue.push(until_us, Event::Resume { node, pause_id });
                None
            }
            Action::Omission {
                node,
                send_ppm,
                receive_ppm,
            } => self.afflict(node, |a| {
                a.send_omission_ppm = send_ppm;
                a.receive_omission_ppm = receive_ppm;
            }),
            Action::Slow { node, ref delay } => self.afflict(node, |a| a.slow = delay.clone()),
            Action::Gray {
                node,
                fail_ppm,
                slow_us,
            } => self.afflict(node, |a| {
                a.gray_fail_ppm = fail_ppm;
                a.gray_slow_us = slow_us;
            }),
            Action::Byzantine { node, ref behaviour } => self.afflict(node, |a| a.behaviour = behaviour.clone()),
            Action::Storage { node, damage } => {
                let noise = self.fault_rng.next_u64();
                self.durable[node as usize].damage(damage, noise);
                None
            }
            Action::ClockOffset { .. }
            | Action::ClockDrift { .. }
            | Action::ClockJump { .. }
            | Action::ClockStrobe { .. } => self.apply_clock(action),
            _ => self.apply_network(action),
        }
    }

    fn apply_clock(&mut self, action: &Action) -> Option<Revert> {
        match *action {
            Action::ClockOffset { node, offset_us } => {
                let clock = &mut self.runtime[node as usize].clock;
                let previous = std::mem::replace(&mut clock.offset_us, offset_us);
                self.retime_timers(node);
                Some(Revert::ClockOffset {
                    node,
                    offset_us: previous,
                })
            }
            Action::ClockDrift { node, drift_ppm } => {
                let now = self.now_us;
                let clock = &mut self.runtime[node as usize].clock;
                let previous = clock.drift_ppm;
                clock.set_drift(now, drift_ppm);
                self.retime_timers(node);
                Some(Revert::ClockDrift {
                    node,
                    drift_ppm: previous,
                })
            }
            Action::ClockJump { node, by_us } => {
                self.runtime[node as usize].clock.offset_us += by_us;
                self.retime_timers(node);
                None
            }
            Action::ClockStrobe {
                node,
                a_us,
                b_us,
                period_us,
            } => Some(self.strobe(node, a_us, b_us, period_us)),
            _ => unreachable!("apply_checked sends only clock actions here"),
        }
    }

    fn strobe(&mut self, node: NodeId, a_us: i64, b_us: i64, period_us: Micros) -> Revert {
        let rt = &mut self.runtime[node as usize];
        rt.strobe_id += 1;
        rt.strobing = true;
        let strobe_id = rt.strobe_id;
        let previous = std::mem::replace(&mut rt.clock.offset_us, a_us);
        self.strobe_params[node as usize] = (a_us, b_us, period_us);
        self.retime_timers(node);
        let flip = Event::ClockFlip {
            node,
            strobe_id,
            to_b: true,
        };
        self.queue.push(self.now_us + period_us, flip);
        Revert::StopStrobe {
            node,
            strobe_id,
            offset_us: previous,
        }
    }

    fn apply_network(&mut self, action: &Action) -> Option<Revert> {
        match *action {
            Action::Partition { ref groups } => self.partition(groups),
            Action::Isolate { node } => self.partition(&[vec![node]]),
            Action::Shape { shape } => self.shape(shape),
            Action::PartialPartition { ref a, ref b } => {
                self.network.partial(a, b);
                Some(Revert::HealPartition {
                    generation: self.network.generation(),
                })
            }
            Action::Stabilise => {
                // `World::apply` refused it unless the network has a GST.
                self.network.stabilise(self.now_us);
                None
            }
            Action::Heal => {
                self.network.heal();
                self.flaps.iter_mut().for_each(|f| f.active = false);
                None
            }
            Action::Cut { from, to } => {
                self.network.cut(from, to);
                Some(Revert::Uncut {
                    links: vec![(from, to)],
                })
            }
            Action::Uncut { from, to } => {
                self.network.uncut(from, to);
                None
            }
            Action::Flap {
                from,
                to,
                period_us,
                both,
            } => {
                let links = if both {
                    vec![(from, to), (to, from)]
                } else {
                    vec![(from, to)]
                };
                let id = self.flaps.len() as u32;
                let flap = FlapState {
                    links,
                    period_us,
                    down: false,
                    active: true,
                };
                self.flaps.push(flap);
                self.flap(id);
                Some(Revert::StopFlap { id })
            }
            Action::Link {
                from,
                to,
                ref link,
                both,
            } => Some(self.override_links(from, to, link, both)),
            _ => unreachable!("apply_checked sends only network actions here"),
        }
    }

    fn override_links(&mut self, from: NodeId, to: NodeId, change: &LinkChange, both: bool) -> Revert {
        let pairs = if both {
            vec![(from, to), (to, from)]
        } else {
            vec![(from, to)]
        };
        let mut previous = Vec::new();
        for (a, b) in pairs {
            let mut link = self.network.link(a, b).clone();
            previous.push(((a, b), link.clone()));
            if let Some(latency) = &change.latency {
                link.latency = latency.clone();
            }
            if let Some(ppm) = change.loss_ppm {
                link.loss_ppm = ppm;
            }
            if let Some(ppm) = change.duplicate_ppm {
                link.duplicate_ppm = ppm;
            }
            self.network.set_link(a, b, link);
        }
        Revert::Links { previous }
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

    /// Queues `revert` to run at `at_us`. Ids count every revert ever queued (they are in
    /// the trace); only pending ones are kept, so the table is as small as the queue.
    pub(super) fn schedule_revert(&mut self, at_us: Micros, revert: Revert) {
        let id = self.next_revert_id;
        self.next_revert_id = id.wrapping_add(1);
        let previous = self.reverts.insert(id, (at_us, revert));
        assert!(previous.is_none(), "revert ids are unique among pending reverts");
        self.queue.push(at_us, Event::Revert { id });
    }

    /// When a pending timed crash or self-crash restarts `node`'s current incarnation.
    pub(super) fn restart_due(&self, node: NodeId) -> Option<Micros> {
        let incarnation = self.runtime[node as usize].incarnation;
        (self.reverts.values())
            .filter(
                |(_, r)| matches!(r, Revert::Restart { node: n, incarnation: i } if *n == node && *i == incarnation),
            )
            .map(|(at_us, _)| *at_us)
            .min()
    }

    /// Undoes a timed fault, unless something newer already replaced what it did.
    pub(super) fn revert(&mut self, id: u32) {
        let (_, revert) = self.reverts.remove(&id).expect("each revert runs once");
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

#[cfg(test)]
mod tests {
    use crate::action::Planned;
    use crate::engine::{Engine, World};
    use crate::fault::Fault;
    use crate::protocol::service::Service;
    use crate::registry::ProtocolSpec;

    #[test]
    fn the_revert_table_holds_only_pending_reverts() {
        // Replicas die of overload again and again, each with a pending restart: the table
        // once grew by one per self-crash, forever.
        let scenario = (crate::presets::find("cascading-failure").unwrap().build)();
        let ProtocolSpec::Service(spec) = &scenario.protocol else {
            panic!("a service preset")
        };
        let link = scenario.network.to_link().unwrap();
        let config = spec.config(scenario.nodes).unwrap();
        let mut world = World::<Service>::new(
            config,
            scenario.nodes,
            link,
            crate::timing::Timing::Probabilistic,
            1,
            false,
        );
        let crash = Planned::parse(&Fault::Crash { node: 1 }, Some(500.0), scenario.nodes).unwrap();
        world.apply(&crash).unwrap();
        let mut most = 0;
        for second in 1..=120 {
            world.run_until(second * 1_000_000);
            most = most.max(world.reverts.len());
        }
        assert!(
            world.next_revert_id > 20,
            "only {} reverts queued",
            world.next_revert_id
        );
        assert!(most <= scenario.nodes as usize, "{most} pending at once");
    }
}
