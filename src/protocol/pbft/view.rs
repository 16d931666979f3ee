//! What a PBFT node shows: a replica's view and whether it is the primary, how far it has
//! executed, its stable checkpoint and log window; a client's accepted requests. On the
//! canvas the primary is drawn as the leader (with its view number), backups as followers,
//! a replica waiting for a new view as a candidate; clients in a row beneath.

use super::*;
use crate::view::{Fact, Inspect, LogCell, NodeRender, ProtocolView, RenderRole, LOG_VIEW_MAX};

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
                NodeRender {
                    role: role as u8,
                    term: r.view as u32,
                    log_len: (r.executed + r.pending() as u64) as u32,
                    commit: r.executed as u32,
                    ..NodeRender::none()
                }
            }
        }
    }

    fn layout(config: &PbftConfig, nodes: u32) -> Vec<f32> {
        // Replicas on a circle; clients in a row beneath them.
        crate::view::ring_over_row(config.replicas, nodes)
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
            fact("requests waiting", r.pending().to_string()),
            fact("view changes", r.views_changed.to_string()),
        ],
        log,
        notes: bound_note(config).into_iter().collect(),
        ..ProtocolView::default()
    }
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
