//! Built-in scenarios, one or more per failure class, each with what happens, what to
//! watch and what to try next.
//!
//! Invariant: every preset validates (tested), makes its point within the first seconds
//! of play, and its name is a stable identifier used in URLs and by
//! `faultline run --preset`.

use crate::fault::{Behaviour, Damage, Fault, Shape};
use crate::protocol::lease::LeaseSpec;
use crate::protocol::raft::{Election, RaftSpec};
use crate::protocol::register::{Mode, RegisterSpec};
use crate::protocol::service::{BreakerSpec, NoisySpec, RetryPolicy, ServiceSpec};
use crate::protocol::swim::{GraySpec, SwimSpec};
use crate::scenario::{DetectorSpec, HeartbeatSpec, LatencySpec, NetworkSpec, ProtocolSpec, Scenario, ScheduledFault};

/// A named scenario with its explanation.
pub struct Preset {
    pub name: &'static str,
    pub title: &'static str,
    /// The failure class it shows (from the catalogue).
    pub class: &'static str,
    /// What happens.
    pub summary: &'static str,
    /// What to watch on the canvas and in the inspector.
    pub watch: &'static str,
    /// What to try next.
    pub try_next: &'static str,
    pub build: fn() -> Scenario,
}

fn at(at_ms: f64, fault: Fault) -> ScheduledFault {
    ScheduledFault::at(at_ms, fault)
}

fn lasting(at_ms: f64, fault: Fault, duration_ms: f64) -> ScheduledFault {
    ScheduledFault::lasting(at_ms, fault, duration_ms)
}

fn named(title: &str, nodes: u32, faults: Vec<ScheduledFault>) -> Scenario {
    Scenario {
        name: title.to_string(),
        faults,
        ..Scenario::basic(nodes, 1)
    }
}

/// The detector experiment's six nodes (see `sweep::mixed_links`); node 1 crashes at 10 s.
/// The detector is the only difference between presets.
fn mixed_links(title: &str, timeout_ms: f64, detector: DetectorSpec) -> Scenario {
    let protocol = ProtocolSpec::Heartbeat(HeartbeatSpec {
        interval_ms: 100.0,
        timeout_ms,
        detector,
        probe_ms: None,
        checksum: false,
    });
    Scenario {
        name: title.to_string(),
        ..crate::sweep::mixed_links(protocol, 1, 1, 10_000.0)
    }
}

fn heartbeat(interval_ms: f64, timeout_ms: f64, probe_ms: Option<f64>, checksum: bool) -> ProtocolSpec {
    ProtocolSpec::Heartbeat(HeartbeatSpec {
        detector: Default::default(),
        interval_ms,
        timeout_ms,
        probe_ms,
        checksum,
    })
}

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "heartbeat",
        title: "Heartbeats",
        class: "failure detection",
        summary: "Five nodes send each other a heartbeat every 100 ms; a peer silent for 350 ms is suspected.",
        watch: "The dots are heartbeats in flight, drawn where they are right now.",
        try_next: "Click a node and crash it: within 350 ms plus one message delay every other node suspects it.",
        build: || named("Heartbeats", 5, vec![]),
    },
    Preset {
        name: "crash-recovery",
        title: "Crash and recovery",
        class: "crash-stop, crash-recovery",
        summary:
            "Node 2 crashes at 2 s and restarts at 6 s with its durable state (a boot count) but nothing it had heard.",
        watch:
            "The amber rings: every other node suspects node 2 about 350 ms after the crash, and clears it when the \
                first heartbeat after the restart arrives. The inspector shows its boot count went from 1 to 2.",
        try_next: "Crash two more nodes: a failure detector keeps working with any number of failures.",
        build: || {
            named(
                "Crash and recovery",
                5,
                vec![
                    at(2_000.0, Fault::Crash { node: 2 }),
                    at(6_000.0, Fault::Restart { node: 2 }),
                ],
            )
        },
    },
    Preset {
        name: "partition",
        title: "Network partition",
        class: "network partition (full)",
        summary: "At 2 s the network splits {0,1,2} | {3,4}; at 8 s it heals.",
        watch: "The jagged cut, and heartbeats dying at it. Each side suspects the other: both sides believe they are \
                the live cluster.",
        try_next: "Partition into three groups, or isolate one node.",
        build: || {
            named(
                "Network partition",
                5,
                vec![
                    at(
                        2_000.0,
                        Fault::Partition {
                            groups: vec![vec![0, 1, 2], vec![3, 4]],
                        },
                    ),
                    at(8_000.0, Fault::Heal),
                ],
            )
        },
    },
    Preset {
        name: "partial-partition",
        title: "Partial partition",
        class: "network partition (partial)",
        summary: "At 2 s nodes {0,1} and {3,4} lose each other, but all of them still reach node 2.",
        watch: "Node 2 suspects no one; the others each suspect exactly the far side. \"Is node 3 up?\" has two \
                different true answers.",
        try_next: "Try the majorities ring: every node sees a majority, no two the same one.",
        build: || {
            named(
                "Partial partition",
                5,
                vec![lasting(
                    2_000.0,
                    Fault::PartialPartition {
                        a: vec![0, 1],
                        b: vec![3, 4],
                    },
                    6_000.0,
                )],
            )
        },
    },
    Preset {
        name: "majorities-ring",
        title: "Majorities ring",
        class: "network partition (partial)",
        summary:
            "At 2 s each node can reach only its two ring neighbours: a majority of three, different for every node.",
        watch: "Every node suspects exactly its two far peers. A quorum protocol here would find a majority \
                everywhere and agreement nowhere.",
        try_next: "Heal, then cut a single link in one direction.",
        build: || {
            named(
                "Majorities ring",
                5,
                vec![lasting(2_000.0, Fault::Shape { shape: Shape::Ring }, 6_000.0)],
            )
        },
    },
    Preset {
        name: "asymmetric",
        title: "One-way link",
        class: "network partition (asymmetric)",
        summary: "At 2 s the link 0→1 is cut in one direction only.",
        watch: "Node 1 hears nothing from node 0 and suspects it, while node 0 hears node 1 fine: two nodes disagree \
                about the same link. The one-way arrow marks the cut.",
        try_next: "Cut 1→0 too and see the disagreement vanish.",
        build: || named("One-way link", 5, vec![at(2_000.0, Fault::Cut { from: 0, to: 1 })]),
    },
    Preset {
        name: "flapping-link",
        title: "Flapping link",
        class: "link faults",
        summary: "From 1 s the link between nodes 0 and 3 goes down and up every 500 ms.",
        watch:
            "Node 0 and node 3 suspect each other, forgive, suspect again: a flapping link makes a detector flap too.",
        try_next: "Raise the timeout past the flap period and the flapping stops being seen.",
        build: || {
            named(
                "Flapping link",
                5,
                vec![lasting(
                    1_000.0,
                    Fault::Flap {
                        from: 0,
                        to: 3,
                        period_ms: 500.0,
                        both: true,
                    },
                    8_000.0,
                )],
            )
        },
    },
    Preset {
        name: "omission",
        title: "Send omission",
        class: "omission",
        summary:
            "From 2 s node 1 silently loses 70% of the messages it sends. Nothing says so: they just never arrive.",
        watch: "Bursts where node 1's heartbeats die as they leave, and suspicion of node 1 flickering on and off. \
                The inspector's dropped count shows 'omission'.",
        try_next: "Set receive omission instead, and the flicker moves: node 1 suspects the others.",
        build: || {
            named(
                "Send omission",
                5,
                vec![at(
                    2_000.0,
                    Fault::Omission {
                        node: 1,
                        send: 0.7,
                        receive: 0.0,
                    },
                )],
            )
        },
    },
    Preset {
        name: "slow-node",
        title: "Slow node",
        class: "timing / performance",
        summary: "From 2 s node 3 needs 30–60 ms of processing per event, one at a time: more work than it can do. \
                  Everything it says stays true, but its backlog grows and its answers come later and later.",
        watch: "Once node 3's heartbeats come more than 350 ms apart the others suspect it, though it never stopped. \
                Select node 0: its requests to node 3 start failing (the answers come after the 350 ms deadline) \
                while requests to the others all succeed.",
        try_next: "Make it 2–8 ms instead: slow but keeping up, and no one notices.",
        build: || Scenario {
            protocol: heartbeat(100.0, 350.0, Some(200.0), false),
            ..named(
                "Slow node",
                5,
                vec![at(
                    2_000.0,
                    Fault::Slow {
                        node: 3,
                        delay: LatencySpec::Uniform {
                            min_ms: 30.0,
                            max_ms: 60.0,
                        },
                    },
                )],
            )
        },
    },
    Preset {
        name: "latency-spike",
        title: "Latency spike",
        class: "timing / performance",
        summary: "From 2 s to 4 s every link into node 0 takes 200–1 000 ms: often longer than the 350 ms timeout.",
        watch: "Node 0 keeps suspecting peers although no one failed; a second after the spike all is well again.",
        try_next: "Open 'Slow network' to see the same with jitter instead of a spike.",
        build: || {
            let spike = |from| {
                lasting(
                    2_000.0,
                    Fault::Link {
                        from,
                        to: 0,
                        latency: Some(LatencySpec::Uniform {
                            min_ms: 400.0,
                            max_ms: 600.0,
                        }),
                        loss: None,
                        duplicate: None,
                        both: false,
                    },
                    2_000.0,
                )
            };
            named("Latency spike", 5, (1..5).map(spike).collect())
        },
    },
    Preset {
        name: "slow-network",
        title: "Slow network, false suspicion",
        class: "timing / performance",
        summary: "Latency is normally distributed around 200 ms with a 120 ms spread, against a fixed 350 ms timeout. \
                  No node ever fails.",
        watch: "Suspicions flicker on and off anyway: a fixed timeout cannot tell slow from dead.",
        try_next: "Raise the timeout and watch detection of a real crash slow down with it.",
        build: || Scenario {
            network: NetworkSpec {
                latency: LatencySpec::Normal {
                    mean_ms: 200.0,
                    std_ms: 120.0,
                },
                ..NetworkSpec::default()
            },
            ..named("Slow network, false suspicion", 5, vec![])
        },
    },
    Preset {
        name: "clock-jump",
        title: "Clock jumps",
        class: "clock skew / drift / jumps",
        summary: "At 2 s node 2's clock steps back 1.5 s (an NTP correction); at 6 s node 4's clock leaps 1 s ahead.",
        watch: "Node 2 waits for its clock to re-reach its next heartbeat time and goes silent for 1.5 s: everyone \
                suspects it. Node 4's timeouts all expire at once: it suspects everyone. The dial shows each skew.",
        try_next: "Set a drift of +200 000 ppm on a node: its clock runs 20% fast and it heartbeats more often.",
        build: || {
            named(
                "Clock jumps",
                5,
                vec![
                    at(
                        2_000.0,
                        Fault::ClockJump {
                            node: 2,
                            by_ms: -1_500.0,
                        },
                    ),
                    at(
                        6_000.0,
                        Fault::ClockJump {
                            node: 4,
                            by_ms: 1_000.0,
                        },
                    ),
                ],
            )
        },
    },
    Preset {
        name: "gc-pause",
        title: "Process pause",
        class: "process pause (GC, VM)",
        summary: "Node 1 stops the world for 1.5 s at 2 s (a long garbage collection).",
        watch: "The others suspect it though it never crashed. When it wakes, its late timers and queued heartbeats \
                run in one burst, and it briefly suspects everyone: it saw no one for 1.5 s.",
        try_next: "Pause it for 200 ms, shorter than the 350 ms timeout: nobody notices.",
        build: || {
            named(
                "Process pause",
                5,
                vec![at(
                    2_000.0,
                    Fault::Pause {
                        node: 1,
                        duration_ms: 1_500.0,
                    },
                )],
            )
        },
    },
    Preset {
        name: "gray-failure",
        title: "Gray failure",
        class: "gray",
        summary: "Each node also sends a real request to a random peer every 100 ms. From 2 s node 2 fails 80% of \
                  real requests, but still answers every heartbeat.",
        watch: "No amber ring: the heartbeat detector says node 2 is healthy. Select node 0 and read its probes: \
                requests to node 2 keep failing. Healthy on paper, broken in practice.",
        try_next: "Make node 2 slow for requests instead (fail 0, +300 ms).",
        build: || Scenario {
            protocol: heartbeat(100.0, 350.0, Some(100.0), false),
            ..named(
                "Gray failure",
                5,
                vec![at(
                    2_000.0,
                    Fault::Gray {
                        node: 2,
                        fail: 0.8,
                        slow_ms: 0.0,
                    },
                )],
            )
        },
    },
    Preset {
        name: "byzantine-forge",
        title: "Byzantine forgery",
        class: "Byzantine",
        summary: "From 1 s node 1 also sends heartbeats claiming to come from node 3. At 2 s node 3 crashes.",
        watch: "Nobody but the forger suspects node 3, though it is dead: node 1's forged heartbeats (marked \
                two-faced) keep it alive in every other view. Unsigned messages let one liar rewrite what everyone \
                believes.",
        try_next: "Make node 1 honest again and watch node 3 get suspected within 350 ms.",
        build: || {
            named(
                "Byzantine forgery",
                5,
                vec![
                    at(
                        1_000.0,
                        Fault::Byzantine {
                            node: 1,
                            behaviour: Behaviour::Forge { as_node: 3 },
                        },
                    ),
                    at(2_000.0, Fault::Crash { node: 3 }),
                ],
            )
        },
    },
    Preset {
        name: "torn-write",
        title: "Torn write on restart",
        class: "crash-recovery (storage)",
        summary: "Node 2 crashes at 2 s; its last durable write (the boot count) is torn; it restarts at 3 s. Its \
                  durable state carries a checksum.",
        watch: "The checksum catches the torn write at boot: the inspector notes it and the node resets its boot \
                count instead of trusting it.",
        try_next: "Turn the checksum off (edit the scenario) and the node boots with a stale count, unnoticed.",
        build: || Scenario {
            protocol: heartbeat(100.0, 350.0, None, true),
            ..named(
                "Torn write on restart",
                5,
                vec![
                    at(2_000.0, Fault::Crash { node: 2 }),
                    at(
                        2_500.0,
                        Fault::Storage {
                            node: 2,
                            damage: Damage::Torn,
                        },
                    ),
                    at(3_000.0, Fault::Restart { node: 2 }),
                ],
            )
        },
    },
    Preset {
        name: "fixed-timeout",
        title: "Fixed timeout: false positives",
        class: "failure detection",
        summary: "Links to nodes 4 and 5 are jittery (150 ± 100 ms); the others are calm. Every node uses one \
                  fixed 250 ms timeout, a compromise between the two. Node 1 crashes at 10 s.",
        watch: "Amber rings flicker on nodes 4 and 5 though they never fail: their heartbeats are merely late. \
                The one timeout is too short for the jittery links and longer than needed for the calm ones.",
        try_next: "Open 'Phi accrual adapts': the same run with a detector that learns each link.",
        build: || mixed_links("Fixed timeout: false positives", 250.0, DetectorSpec::Fixed),
    },
    Preset {
        name: "phi-accrual",
        title: "Phi accrual adapts",
        class: "failure detection",
        summary: "The same jittery and calm links, with phi accrual (threshold 8): each node learns the spread of \
                  each peer's heartbeat arrivals and suspects only what is improbable for that link.",
        watch: "No false suspicions of nodes 4 and 5. When node 1 crashes at 10 s, calm observers suspect it within \
                about 160 ms; select a node to see each peer's phi rise through the silence.",
        try_next: "Lower the threshold to 2 and watch false suspicions return: the trade-off curve in one knob.",
        build: || {
            let phi = DetectorSpec::Phi {
                threshold: 8.0,
                window: 100,
                min_std_ms: 10.0,
                acceptable_pause_ms: 0.0,
            };
            mixed_links("Phi accrual adapts", 250.0, phi)
        },
    },
    Preset {
        name: "large-cluster",
        title: "A thousand nodes",
        class: "scale",
        summary: "1,000 nodes heartbeating all-to-all once a second: about a million messages a simulated second.",
        watch: "A 200-node region is partitioned off at 3 s; the suspicion counts climb on both sides.",
        try_next: "Lower the speed and watch individual heartbeats cross the disc.",
        build: || Scenario {
            protocol: heartbeat(1_000.0, 3_000.0, None, false),
            ..named(
                "A thousand nodes",
                1_000,
                vec![at(
                    3_000.0,
                    Fault::Partition {
                        groups: vec![(800..1_000).collect()],
                    },
                )],
            )
        },
    },
    Preset {
        name: "split-brain",
        title: "Split brain (naive election)",
        class: "network partition (full)",
        summary: "Five servers (inner circle) elect a leader the naive way: each believes the highest id it has \
                  heard from lately leads, with no votes and no quorum. Three clients write to the leader, which \
                  acknowledges at once and copies its log to its followers. At 2 s the network splits servers \
                  {3,4} and client 5 (left) from servers {0,1,2} and clients 6, 7; it heals at 8 s.",
        watch: "Node 4 keeps its crown; a moment after the cut node 2 stops hearing 3 and 4 and crowns itself too: \
                two leaders in the split-brain colour, each acknowledging writes and growing its own log. The \
                checkers flag split brain and diverging state machines. At 8 s node 2 hears node 4 again and \
                follows it: the writes node 2 acknowledged are undone (acked writes lost).",
        try_next: "Open 'Raft keeps one leader' for the same partition with terms, votes and majorities.",
        build: || election("Split brain (naive election)", Election::Naive),
    },
    Preset {
        name: "raft-one-leader",
        title: "Raft keeps one leader",
        class: "network partition (full)",
        summary: "The same five servers, clients and partition (2 s to 8 s), running Raft: a candidate needs votes \
                  from a majority, a write commits once a majority holds it, and a leader that stops hearing from \
                  a majority steps down. Node 3 leads when the cut isolates it with node 4.",
        watch: "Node 3 keeps its crown briefly; writes that reach it stay uncommitted (hollow cells in its log \
                strip), and it steps down. Nodes 0-2 elect a new leader in a higher term and commit. Nodes 3 and 4 \
                stand for election again and again (rising terms) and never win. After the heal their \
                uncommitted entries are replaced and every log matches; no acknowledged write is lost and split \
                brain stays at 0 ms.",
        try_next: "Turn check_quorum off in the scenario: the stale leader keeps its crown through the partition, \
                   but still cannot commit a single write.",
        build: || election("Raft keeps one leader", Election::Raft),
    },
    Preset {
        name: "expired-lease",
        title: "GC pause and the expired lease",
        class: "process pause (GC, VM), split brain",
        summary: "Node 0 is a lock server, node 1 the storage, nodes 2 and 3 clients. Client 2 holds a 1 s lease \
                  and writes every 100 ms. At 2 s it is paused for 2.5 s; its lease runs out, client 3 gets it \
                  (token 2) and writes. At 4.5 s client 2 wakes and sends the write it prepared before the pause, \
                  under token 1. The storage has no fencing and accepts it.",
        watch: "The tokens beside the nodes: for 1.5 s clients 2 and 3 both show one (mutual exclusion broken by \
                their beliefs). At about 4.5 s the stale-write check turns red: the storage accepted token 1 after \
                token 2.",
        try_next: "Open 'Fencing tokens': the same pause, with a storage that checks tokens.",
        build: || expired_lease("GC pause and the expired lease", false),
    },
    Preset {
        name: "fencing-tokens",
        title: "Fencing tokens",
        class: "process pause (GC, VM), split brain",
        summary: "The same schedule as 'GC pause and the expired lease', but the storage remembers the highest \
                  token it has accepted and rejects writes with a lower one.",
        watch: "Client 2 still wakes believing it holds the lease, and still sends its write under token 1: the \
                storage rejects it (the fenced-writes count goes to 1) and the stale-write check stays green.",
        try_next: "Pause client 3 as well once it holds the lease: the fence holds for every holder.",
        build: || expired_lease("Fencing tokens", true),
    },
    Preset {
        name: "stonith",
        title: "STONITH: fence before hand-over",
        class: "split brain",
        summary: "The same GC pause, with a storage that does not check tokens. Instead, before the lock server \
                  hands the lease to client 3, it tells the storage that only client 3 may write now, and waits \
                  for the storage to confirm (\"shoot the other node in the head\", done at the storage).",
        watch: "At about 4.5 s client 2 wakes and sends its stale write: the storage turns it away because client \
                2 was fenced out. The stale-write check stays green.",
        try_next: "Crash the storage (node 1) while client 3 holds the lease, then pause client 3: no one gets the \
                   lease until the storage confirms a fence. Safety costs availability.",
        build: || {
            let mut s = expired_lease("STONITH: fence before hand-over", false);
            if let ProtocolSpec::Lease(spec) = &mut s.protocol {
                spec.stonith = true;
            }
            s
        },
    },
    Preset {
        name: "cap-cp",
        title: "CAP: CP refuses",
        class: "network partition (full)",
        summary: "Five register replicas (inner circle) and five clients, each beside its home replica. Writes \
                  need a majority of replicas. At 2 s the network splits replicas {0,1,2} from {3,4}; it heals at \
                  8 s.",
        watch: "Clients 8 and 9, on the minority side, get refusals: their replicas cannot reach a majority, so \
                they refuse instead of diverging. The majority side goes on. No acknowledged write is lost and \
                no read is stale.",
        try_next: "Open 'CAP: AP accepts' for the same partition with last-write-wins replicas.",
        build: || cap("CAP: CP refuses", Mode::Cp),
    },
    Preset {
        name: "cap-ap",
        title: "CAP: AP accepts",
        class: "network partition (full)",
        summary: "The same five replicas, clients and partition (2 s to 8 s), but every replica accepts reads and \
                  writes on its own and gossips its value; on heal the value with the latest timestamp wins.",
        watch: "Both sides keep answering, and the values beside the replicas differ across the cut (diverged). \
                Reads on one side miss the other side's writes (stale reads). At 8 s the sides reconcile and one \
                side's acknowledged writes vanish: the lost-writes count jumps.",
        try_next: "Skew replica 3's clock 3 s ahead before the partition: its side wins every reconcile, even \
                   against writes made later in true time.",
        build: || cap("CAP: AP accepts", Mode::Ap),
    },
    Preset {
        name: "swim-at-scale",
        title: "SWIM at scale",
        class: "failure detection",
        summary: "500 members run SWIM: each pings one peer every 200 ms, asks 3 others to ping it \
                  (ping-req) when the ack is late, suspects it at the period's end, and declares it dead \
                  if nobody refutes within the suspicion timeout. Updates ride on the pings. Node 42 \
                  crashes at 3 s, node 7 pauses for 600 ms at 4 s, node 300 crashes at 6 s.",
        watch: "Each member sends a couple of messages a period instead of 499 heartbeats. Node 7 is \
                suspected, hears it in the gossip when it wakes, and refutes with a new incarnation: \
                it stays. Nodes 42 and 300 are declared dead by every member a few seconds after \
                they crash (the checker panel gives first and last).",
        try_next: "Pause node 7 for 4 s instead: longer than the suspicion timeout, it is declared dead, \
                   then rejoins at a higher incarnation when it wakes.",
        build: || Scenario {
            protocol: ProtocolSpec::Swim(SwimSpec {
                suspicion_mult: 4.0,
                ..SwimSpec::default()
            }),
            ..named(
                "SWIM at scale",
                500,
                vec![
                    at(3_000.0, Fault::Crash { node: 42 }),
                    at(
                        4_000.0,
                        Fault::Pause {
                            node: 7,
                            duration_ms: 600.0,
                        },
                    ),
                    at(6_000.0, Fault::Crash { node: 300 }),
                ],
            )
        },
    },
    Preset {
        name: "gray-healthy-on-paper",
        title: "Gray failure: healthy on paper",
        class: "gray",
        summary: "Eight SWIM members also send a real request (a deep health check) to a random peer every \
                  50 ms and gossip what they see. From 2 s node 2 fails 80% of real work but answers \
                  every ping.",
        watch: "The shallow checks (SWIM pings) keep node 2 alive everywhere: no amber ring. Within a few \
                seconds several observers see its real work failing, gossip it, and every member's \
                'gray suspected' fact names node 2 (and the 'flagged gray' check lists it). Healthy nodes are not \
                flagged: one observer's bad luck is not enough, it takes three who see far more \
                failures than the cluster's median.",
        try_next: "Make node 5 gray with fail 0 and +300 ms: nothing fails, but its latency is an outlier \
                   against the cluster median, and it is flagged too.",
        build: || Scenario {
            protocol: ProtocolSpec::Swim(SwimSpec {
                gray: Some(GraySpec::default()),
                ..SwimSpec::default()
            }),
            ..named(
                "Gray failure: healthy on paper",
                8,
                vec![at(
                    2_000.0,
                    Fault::Gray {
                        node: 2,
                        fail: 0.8,
                        slow_ms: 0.0,
                    },
                )],
            )
        },
    },
    Preset {
        name: "cascading-failure",
        title: "Cascading failure",
        class: "overload",
        summary: "Four clients (left) send 900 requests/s through a load balancer to five replicas (a column), each \
                  serving about 200/s with 4 workers; waiting requests queue, and a replica with more than 120 \
                  queued runs out of memory and restarts cold 3 s later. Clients time out after 1 s and retry at \
                  once, up to 3 times. At 2 s replica 1 crashes (it comes back at 12 s).",
        watch: "The four survivors now get 225/s each: more than they can serve. Queues (the bars) grow, answers \
                come after the clients gave up, and every timeout sends another copy: the retries chart climbs. \
                One replica runs out of memory, its share moves to the others, and they follow. Goodput collapses \
                although most of the capacity was there.",
        try_next: "Open 'Load shedding' or 'Circuit breakers hold the line' for the same crash with defences on.",
        build: || overload("Cascading failure", overload_spec()),
    },
    Preset {
        name: "retry-storm",
        title: "Retry storm",
        class: "overload",
        summary: "The same service at a comfortable 600 requests/s (60% of capacity). At 2 s replicas 1, 2 and 3 \
                  stall for 1.5 s (a long garbage-collection pause); clients time out after 1 s and retry at once, \
                  up to 3 times.",
        watch: "While three replicas stall, every request sent to them times out and comes back as up to three more: \
                the retries chart spikes and offered work multiplies (retry amplification in the checker panel). \
                When the stalled replicas wake they face a backlog of abandoned work; watch whether the service \
                finds its feet or stays in overload after the trigger is gone.",
        try_next: "Set retry to \"backoff\" with a budget of 0.1 in the scenario: amplification stays near 1 and \
                   the service recovers as soon as the pause ends.",
        build: || {
            let spec = ServiceSpec {
                rate_per_s: 600.0,
                ..overload_spec()
            };
            let pauses = (1..=3)
                .map(|node| {
                    at(
                        2_000.0,
                        Fault::Pause {
                            node,
                            duration_ms: 1_500.0,
                        },
                    )
                })
                .collect();
            Scenario {
                protocol: ProtocolSpec::Service(spec),
                ..named("Retry storm", 10, pauses)
            }
        },
    },
    Preset {
        name: "circuit-breakers",
        title: "Circuit breakers hold the line",
        class: "overload",
        summary: "The cascading-failure run (900 requests/s, replica 1 crashes at 2 s) with defences on: a breaker \
                  per replica at the balancer (3 timeouts in a row open it for 1 s), replicas that shed load \
                  when 40 requests wait, and clients that back off with jitter under a retry budget of 10%. \
                  There are no health checks: the breakers are what notices the dead replica.",
        watch: "A second after the crash the first requests sent to replica 1 time out; after three in a row its \
                breaker opens (the box above the balancer counts open breakers) and only one probe a second goes \
                there. The survivors run hot but answer \"overloaded\" instead of queueing without end: errors \
                rise a little, goodput stays near the four survivors' capacity and no other replica dies.",
        try_next: "Turn the defences off one by one in the scenario and find which one the line depends on.",
        build: || {
            let spec = ServiceSpec {
                breaker: Some(BreakerSpec::default()),
                health_check_ms: None,
                shed_at: Some(40),
                retry: RetryPolicy::Backoff,
                budget: Some(0.1),
                ..overload_spec()
            };
            overload("Circuit breakers hold the line", spec)
        },
    },
    Preset {
        name: "load-shedding",
        title: "Load shedding",
        class: "overload",
        summary: "The cascading-failure run with one defence: a replica with 40 requests waiting answers \
                  \"overloaded\" at once instead of queueing more. Clients still retry at once.",
        watch: "Queues stop at 40 and memory never runs out: no replica dies after replica 1. Some requests are \
                shed (errors), and their immediate retries find a replica with room; goodput stays near what \
                four replicas can serve.",
        try_next: "Raise shed_at to 110, close to the memory limit, and see how little margin is enough.",
        build: || {
            let spec = ServiceSpec {
                shed_at: Some(40),
                ..overload_spec()
            };
            overload("Load shedding", spec)
        },
    },
    Preset {
        name: "bulkheads",
        title: "Bulkheads",
        class: "overload",
        summary: "Two tenants share the service: clients 6 and 8 are tenant 0, clients 7 and 9 tenant 1, 250 \
                  requests/s each. At 2 s tenant 1 misbehaves and sends 1,200 requests/s more. Bulkheads give each \
                  tenant half of every replica's workers and a bounded queue of its own.",
        watch: "Tenant 1's requests fill its half and are turned away; tenant 0's goodput line barely moves and no \
                replica runs out of memory.",
        try_next: "Set bulkheads to false in the scenario: the noisy tenant's flood fills the shared queues and \
                   takes tenant 0 down with it.",
        build: || {
            let spec = ServiceSpec {
                rate_per_s: 500.0,
                retry: RetryPolicy::None,
                noisy: Some(NoisySpec {
                    from_ms: 2_000.0,
                    rate_per_s: 1_200.0,
                }),
                bulkheads: true,
                ..overload_spec()
            };
            Scenario {
                protocol: ProtocolSpec::Service(spec),
                ..named("Bulkheads", 10, Vec::new())
            }
        },
    },
    Preset {
        name: "gray-health-check",
        title: "Gray failure fools the health check",
        class: "gray failure",
        summary: "600 requests/s over five replicas with health checks every 250 ms. From 2 s replica 2 loses every \
                  real request it receives, while its health endpoint, served apart from the workers, still answers.",
        watch: "The balancer keeps replica 2 in rotation: its health checks pass. A fifth of the requests time out \
                after a second; clients retry once, so errors and latency p99 rise while every replica looks \
                healthy on the canvas.",
        try_next: "Add a breaker (\"breaker\": {}) to the scenario: timeouts from real requests open it and replica \
                   2 leaves the rotation within a second.",
        build: || {
            let spec = ServiceSpec {
                rate_per_s: 600.0,
                retries: 1,
                ..overload_spec()
            };
            Scenario {
                protocol: ProtocolSpec::Service(spec),
                ..named(
                    "Gray failure fools the health check",
                    10,
                    vec![at(
                        2_000.0,
                        Fault::Gray {
                            node: 2,
                            fail: 1.0,
                            slow_ms: 0.0,
                        },
                    )],
                )
            }
        },
    },
];

/// Lock server, storage, two clients; client 2 pauses past its lease at 2 s for 2.5 s.
fn expired_lease(title: &str, fencing: bool) -> Scenario {
    Scenario {
        protocol: ProtocolSpec::Lease(LeaseSpec {
            hold_ms: 60_000.0,
            fencing,
            ..LeaseSpec::default()
        }),
        ..named(
            title,
            4,
            vec![at(
                2_000.0,
                Fault::Pause {
                    node: 2,
                    duration_ms: 2_500.0,
                },
            )],
        )
    }
}

/// Five replicas and five clients; replicas {0,1,2} and {3,4} split from 2 s to 8 s.
fn cap(title: &str, mode: Mode) -> Scenario {
    Scenario {
        protocol: ProtocolSpec::Register(RegisterSpec {
            replicas: 5,
            mode,
            ..RegisterSpec::default()
        }),
        ..named(
            title,
            10,
            vec![lasting(
                2_000.0,
                Fault::Partition {
                    groups: vec![vec![0, 1, 2, 5, 6, 7], vec![3, 4, 8, 9]],
                },
                6_000.0,
            )],
        )
    }
}

/// Five servers and three clients; servers {3,4} with client 5 are cut off from servers
/// {0,1,2} with clients 6, 7 between 2 s and 8 s.
fn election(title: &str, election: Election) -> Scenario {
    Scenario {
        protocol: ProtocolSpec::Raft(RaftSpec {
            election,
            op_every_ms: 300.0,
            ..RaftSpec::default()
        }),
        ..named(
            title,
            8,
            vec![lasting(
                2_000.0,
                Fault::Partition {
                    groups: vec![vec![0, 1, 2, 6, 7], vec![3, 4, 5]],
                },
                6_000.0,
            )],
        )
    }
}

/// The service of the overload presets: 900 requests/s offered to five replicas of about
/// 200/s each, immediate retries, memory for 120 queued requests.
fn overload_spec() -> ServiceSpec {
    ServiceSpec {
        rate_per_s: 900.0,
        retry: RetryPolicy::Immediate,
        queue_limit: 120,
        ..ServiceSpec::default()
    }
}

/// The overload service with `spec`'s defences, replica 1 crashing at 2 s for 10 s.
fn overload(title: &str, spec: ServiceSpec) -> Scenario {
    Scenario {
        protocol: ProtocolSpec::Service(spec),
        ..named(title, 10, vec![lasting(2_000.0, Fault::Crash { node: 1 }, 10_000.0)])
    }
}

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

pub fn names() -> String {
    PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_validates_and_names_are_unique() {
        for (i, p) in PRESETS.iter().enumerate() {
            (p.build)()
                .validate()
                .unwrap_or_else(|e| panic!("preset {}: {e}", p.name));
            assert!(
                PRESETS[..i].iter().all(|q| q.name != p.name),
                "duplicate preset {}",
                p.name
            );
            assert!(!p.summary.is_empty() && !p.watch.is_empty() && !p.try_next.is_empty());
        }
    }
}
