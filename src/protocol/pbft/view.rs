//! What a PBFT node shows: a replica's view and whether it is the primary, how far it has
//! executed, its stable checkpoint, log window and certificates; a client's accepted
//! requests. On the canvas the primary is drawn as the leader (with its view number),
//! backups as followers, a replica waiting for a new view as a candidate, each replica with
//! the stages of its newest requests (pre-prepared, prepared, committed); replicas on a ring,
//! or in rows when there are many, with clients in a row beneath.

use super::replica::{Slot, WINDOW};
use super::*;
use crate::view::{
    pack_stages, Fact, Inspect, LogCell, NodeRender, Number, ProtocolView, RenderRole, LOG_VIEW_MAX, STAGES_MAX,
};

/// Sequence numbers whose certificates the inspector lists, newest first.
const CERTS_SHOWN: usize = 6;
/// Above this many replicas they sit in rows, not on a ring (a ring of 16 crowds its badges).
const RING_MAX: u32 = 8;
/// Most replicas in one row.
const ROW_MAX: u32 = 8;

impl Inspect for Pbft {
    fn view(&self, _now_local_us: Micros) -> ProtocolView {
        let fact = |label, value: String| Fact { label, value };
        match &self.role {
            Role::Client(c) => ProtocolView {
                facts: vec![
                    fact("role", "client".into()),
                    fact("accepted", c.accepted.to_string()),
                    fact(
                        "waiting for",
                        c.waiting.as_ref().map_or("nothing".into(), |(r, replies)| {
                            format!("op {} ({} replies)", r.op, replies.len())
                        }),
                    ),
                ],
                ..ProtocolView::default()
            },
            Role::Replica(r) => replica_view(&self.config, self.id, r),
        }
    }

    fn render(&self) -> NodeRender {
        match &self.role {
            Role::Client(c) => NodeRender {
                role: RenderRole::Client as u8,
                value: c.accepted as f64,
                ..NodeRender::none()
            },
            Role::Replica(r) => {
                let role = if r.changing {
                    RenderRole::Candidate
                } else if self.config.primary(r.view) == self.id {
                    RenderRole::Leader
                } else {
                    RenderRole::Follower
                };
                let newest = r.log.values().filter(|s| s.req.is_some()).rev().take(STAGES_MAX);
                let mut stages: Vec<u8> = newest.map(Slot::stage).collect();
                stages.reverse();
                NodeRender {
                    role: role as u8,
                    term: r.view as u32,
                    log_len: (r.executed + r.pending() as u64) as u32,
                    commit: r.executed as u32,
                    stages: pack_stages(&stages),
                    ..NodeRender::none()
                }
            }
        }
    }

    fn layout(config: &PbftConfig, nodes: u32) -> Vec<f32> {
        if config.replicas <= RING_MAX {
            // Replicas on a circle; clients in a row beneath them.
            return crate::view::ring_over_row(config.replicas, nodes);
        }
        // Rows of at most `ROW_MAX` replicas, evenly filled, so each log badge has the
        // width between two neighbours; clients in the row beneath, as on the ring.
        let n = config.replicas;
        let rows = n.div_ceil(ROW_MAX);
        let per_row = n.div_ceil(rows);
        let mut xy = Vec::with_capacity(2 * nodes as usize);
        for i in 0..n {
            let (row, col) = (i / per_row, i % per_row);
            let in_row = per_row.min(n - row * per_row);
            let x = if in_row == 1 {
                0.0
            } else {
                -0.9 + 1.8 * col as f32 / (in_row - 1) as f32
            };
            // Rows 0.475 apart (room for a row's badges at 12 px nodes), squeezed above 3 rows.
            let step = if rows == 1 {
                0.0
            } else {
                (1.25 / (rows - 1) as f32).min(0.475)
            };
            let y = if rows == 1 { -0.2 } else { -0.8 + step * row as f32 };
            xy.extend([x, y]);
        }
        xy.extend(crate::view::ring_over_row(0, nodes - n));
        xy
    }
}

/// The certificates of the newest sequence numbers in the window, newest first:
/// "#15 pre-prepared (1/2 prepares, 0/3 commits)".
fn certificates(config: &PbftConfig, r: &Replica) -> String {
    let (need_p, need_c) = (config.quorum() - 1, config.quorum());
    let shown: Vec<String> = (r.log.iter().rev().filter(|(_, s)| s.req.is_some()).take(CERTS_SHOWN))
        .map(|(seq, s)| {
            let stage = ["no proposal", "pre-prepared", "prepared", "committed"][s.stage() as usize];
            let (p, c) = s.votes();
            format!("#{seq} {stage} ({p}/{need_p} prepares, {c}/{need_c} commits)")
        })
        .collect();
    if shown.is_empty() {
        "none in the window".into()
    } else {
        shown.join(" · ")
    }
}

fn replica_view(config: &PbftConfig, id: NodeId, r: &Replica) -> ProtocolView {
    let fact = |label, value: String| Fact { label, value };
    let primary = config.primary(r.view);
    let role = match (r.changing, primary == id) {
        (true, _) => format!("waiting for the new view {}", r.view),
        (false, true) => "primary".into(),
        (false, false) => format!("backup (primary n{primary})"),
    };
    let log = (r.log.iter().rev().take(LOG_VIEW_MAX).rev())
        .filter_map(|(&seq, s)| {
            let req = s.req?;
            let text = if req.is_noop() {
                "no-op".into()
            } else {
                format!("c{}#{}", req.client, req.op)
            };
            Some(LogCell {
                index: seq,
                term: s.view,
                committed: s.committed,
                text,
            })
        })
        .collect();
    ProtocolView {
        facts: vec![
            fact("role", role),
            fact("view", r.view.to_string()),
            fact(
                "quorum",
                format!("{} of {} replicas (f = {})", config.quorum(), config.replicas, config.f),
            ),
            fact("executed", r.executed.to_string()),
            fact("stable checkpoint", r.stable.to_string()),
            fact(
                "log window",
                format!(
                    "low water mark {} (stable checkpoint), high {} (low + {WINDOW})",
                    r.stable,
                    r.stable + WINDOW
                ),
            ),
            fact("certificates, newest first", certificates(config, r)),
            fact(
                "prepared certificates",
                format!(
                    "{} (what a view change carries)",
                    r.log.values().filter(|s| s.cert.is_some()).count()
                ),
            ),
            fact("requests waiting", r.pending().to_string()),
            fact("view changes", r.views_changed.to_string()),
        ],
        log,
        notes: bound_note(config).into_iter().collect(),
        numbers: replica_numbers(r),
        ..ProtocolView::default()
    }
}

/// A replica's view number, executed sequence number and stable checkpoint, as numbers.
fn replica_numbers(r: &Replica) -> Vec<Number> {
    let number = |label, value| Number { label, value };
    vec![
        number("view", r.view),
        number("executed", r.executed),
        number("stable checkpoint", r.stable),
    ]
}

/// A plain warning when the cluster is sized below the bound.
pub fn bound_note(config: &PbftConfig) -> Option<String> {
    (!config.tolerates_f()).then(|| {
        format!(
            "n = {} < 3f + 1 = {}: {} liars can make honest replicas disagree",
            config.replicas,
            3 * config.f + 1,
            config.f
        )
    })
}
