//! The checkers of Byzantine agreement (`protocol::pbft`). A Byzantine node's own state
//! machine is the honest code (only its messages lie), so every replica's executions are
//! judged.
//!
//! - `agreement` (safety): no two replicas execute different requests at one sequence
//!   number. With it, every replica executes the same sequence: total order.
//! - `validity` (safety): every request executed was sent, as it is, by its client.
//! - `client_results` (safety): a client accepts a result (on f + 1 matching replies) only
//!   if it is the state the agreed history reached with its request.
//! - `progress` (measure): requests accepted, views entered, forgeries discarded.
//!
//! Memory is bounded: sequence numbers and requests older than `KEPT` behind the newest
//! are forgotten.

use std::collections::BTreeMap;

use super::*;
use crate::checks::{CheckView, Checked, Checks, Figure, Violation, WorldView};
use crate::time::us_to_ms;

/// Sequence numbers (and requests per client) remembered behind the newest.
const KEPT: u64 = 4_096;

impl Checked for Pbft {
    type Checks = PbftChecks;
}

#[derive(Clone, Debug)]
pub struct PbftChecks {
    /// seq → (digest executed there first, the state after it).
    history: BTreeMap<u64, (u64, u64)>,
    /// (client, op) → value the client really sent.
    sent: BTreeMap<(NodeId, u32), u64>,
    /// (client, op) → the result of the agreed history with it.
    results: BTreeMap<(NodeId, u32), u64>,
    agreement: Violation,
    agreement_detail: String,
    agreement_nodes: Vec<NodeId>,
    validity: Violation,
    validity_detail: String,
    client_results: Violation,
    results_detail: String,
    accepted: u64,
    last_accept_us: Micros,
    top_view: u64,
    forgeries: u64,
    executions: u64,
}

impl PbftChecks {
    fn executed(&mut self, now_us: Micros, node: NodeId, seq: u64, req: Req) {
        self.executions += 1;
        let prev_state = if seq == 1 {
            Some(0)
        } else {
            self.history.get(&(seq - 1)).map(|&(_, s)| s)
        };
        match self.history.get(&seq) {
            Some(&(digest, _)) if digest != req.digest() => {
                self.agreement.latch(now_us);
                self.agreement_detail = format!("n{node} executed a different request at sequence number {seq}");
                self.agreement_nodes = vec![node];
            }
            Some(_) => {}
            None => {
                let state = prev_state.map_or(0, |s| mix(s, req.digest()));
                self.history.insert(seq, (req.digest(), state));
                if !req.is_noop() && prev_state.is_some() {
                    // The first execution's result is the one replicas answer with.
                    self.results.entry((req.client, req.op)).or_insert(state);
                }
                let floor = seq.saturating_sub(KEPT);
                while self.history.first_key_value().is_some_and(|(&s, _)| s < floor) {
                    self.history.pop_first();
                }
            }
        }
        if !req.is_noop() && self.sent.get(&(req.client, req.op)).is_some_and(|&v| v != req.value) {
            self.validity.latch(now_us);
            self.validity_detail = format!(
                "n{node} executed c{}#{} with a value its client never sent",
                req.client, req.op
            );
        }
    }

    fn accepted(&mut self, now_us: Micros, client: NodeId, op: u32, value: u64) {
        self.accepted += 1;
        self.last_accept_us = now_us;
        if self.results.get(&(client, op)).is_some_and(|&r| r != value) {
            self.client_results.latch(now_us);
            self.results_detail = format!("client n{client} accepted a result for op {op} the replicas never reached");
        }
    }

    fn prune(&mut self, client: NodeId, op: u32) {
        let floor = op.saturating_sub(KEPT as u32);
        self.sent.retain(|&(c, o), _| c != client || o >= floor);
        self.results.retain(|&(c, o), _| c != client || o >= floor);
    }
}

impl Checks<Pbft> for PbftChecks {
    fn new(_config: &PbftConfig, _nodes: u32) -> Self {
        PbftChecks {
            history: BTreeMap::new(),
            sent: BTreeMap::new(),
            results: BTreeMap::new(),
            agreement: Violation::default(),
            agreement_detail: String::new(),
            agreement_nodes: Vec::new(),
            validity: Violation::default(),
            validity_detail: String::new(),
            client_results: Violation::default(),
            results_detail: String::new(),
            accepted: 0,
            last_accept_us: 0,
            top_view: 0,
            forgeries: 0,
            executions: 0,
        }
    }

    fn observe(&mut self, now_us: Micros, node: NodeId, obs: &PbftObs) {
        match *obs {
            PbftObs::Sent { req } => {
                self.sent.insert((req.client, req.op), req.value);
                if req.op % 1024 == 0 {
                    self.prune(req.client, req.op);
                }
            }
            PbftObs::Executed { seq, req } => self.executed(now_us, node, seq, req),
            PbftObs::Accepted { op, value } => self.accepted(now_us, node, op, value),
            PbftObs::NewView { view } => self.top_view = self.top_view.max(view),
            PbftObs::Forgery { .. } => self.forgeries += 1,
        }
    }

    fn after_event(&mut self, _world: &WorldView<'_, Pbft>) {}

    fn report(&self, now_us: Micros) -> Vec<CheckView> {
        let or = |v: &Violation, detail: &str, fine: String| if v.count() > 0 { detail.to_string() } else { fine };
        let agreed = self.history.last_key_value().map_or(0, |(&s, _)| s);
        let progress = format!(
            "{} requests accepted, last {} ms ago; view {}; {} forged messages discarded",
            self.accepted,
            us_to_ms(now_us.saturating_sub(self.last_accept_us)).round(),
            self.top_view,
            self.forgeries
        );
        vec![
            self.agreement.view(
                "agreement",
                "No two replicas execute different requests at one sequence number",
                or(
                    &self.agreement,
                    &self.agreement_detail,
                    format!("replicas agree on all {agreed} sequence numbers"),
                ),
                self.agreement_nodes.clone(),
            ),
            self.validity.view(
                "validity",
                "Every request executed was sent, as it is, by its client",
                or(
                    &self.validity,
                    &self.validity_detail,
                    format!("{} executions, all of real requests", self.executions),
                ),
                Vec::new(),
            ),
            self.client_results.view(
                "client_results",
                "A client accepts only the result the replicas reached",
                or(
                    &self.client_results,
                    &self.results_detail,
                    format!("{} results accepted, all correct", self.accepted),
                ),
                Vec::new(),
            ),
            CheckView::measure(
                "progress",
                "Requests completed and views changed (a measure)",
                progress,
                Vec::new(),
            ),
        ]
    }

    fn summary(&self, _now_us: Micros) -> Vec<Figure> {
        let count = |id, n: u64, words| Figure::new(id, n as f64, format!("{words}: {n}"));
        vec![
            count("requests_accepted", self.accepted, "requests accepted"),
            count("view_changes", self.top_view, "view changes"),
            count("forgeries_discarded", self.forgeries, "forged messages discarded"),
            count("agreement_violations", self.agreement.count(), "agreement violations"),
        ]
    }

    fn approx_bytes(&self) -> usize {
        use crate::budget::map_bytes;
        std::mem::size_of_val(self) + map_bytes(&self.history) + map_bytes(&self.sent) + map_bytes(&self.results)
    }
}
