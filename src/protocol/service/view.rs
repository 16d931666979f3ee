//! What service shows: the inspector's view of a node, its drawing on the canvas, where
//! nodes sit.

use super::*;
use crate::view::{Fact, Inspect, NodeRender, Number, ProtocolView, RenderRole, NO_VALUE};

impl Inspect for Service {
    fn view(&self, now_local_us: Micros) -> ProtocolView {
        let facts = match self {
            Service::Client(c) => c.facts(now_local_us),
            Service::Balancer(b) => b.facts(),
            Service::Server(s) => s.facts(now_local_us),
        };
        let numbers = match self {
            Service::Server(s) => s.numbers(),
            _ => Vec::new(),
        };
        ProtocolView {
            facts,
            numbers,
            ..ProtocolView::default()
        }
    }

    fn render(&self) -> NodeRender {
        match self {
            Service::Client(c) => NodeRender {
                role: RenderRole::Client.code(),
                queue: c.inflight.len() as u32,
                ..NodeRender::none()
            },
            Service::Balancer(b) => NodeRender {
                role: RenderRole::Balancer.code(),
                queue: b.forwarded.len() as u32,
                value: if b.config.breaker.is_some() {
                    b.open_breakers() as f64
                } else {
                    NO_VALUE
                },
                ..NodeRender::none()
            },
            Service::Server(s) => NodeRender {
                role: if s.is_backend() {
                    RenderRole::Backend
                } else {
                    RenderRole::Replica
                }
                .code(),
                term: s.durable.boots,
                load: s.busy() as f32 / s.workers.len().max(1) as f32,
                queue: s.queued() as u32,
                ..NodeRender::none()
            },
        }
    }

    fn layout(config: &ServiceConfig, nodes: u32) -> Vec<f32> {
        // Clients on the left, the balancer, the replicas in a column, the backend right.
        let mut xy = vec![0.0f32; 2 * nodes as usize];
        let column = |i: u32, n: u32, span: f32| {
            if n <= 1 {
                0.0
            } else {
                -span + 2.0 * span * i as f32 / (n - 1) as f32
            }
        };
        xy[0] = -0.3;
        xy[1] = 0.0;
        for r in 0..config.replicas {
            let k = (1 + r) as usize;
            xy[2 * k] = if config.backend.is_some() { 0.3 } else { 0.5 };
            xy[2 * k + 1] = column(r, config.replicas, 0.85);
        }
        if let Some(b) = config.backend {
            xy[2 * b as usize] = 0.85;
            xy[2 * b as usize + 1] = 0.0;
        }
        for c in 0..config.clients {
            let k = (config.first_client + c) as usize;
            xy[2 * k] = -0.85;
            xy[2 * k + 1] = column(c, config.clients, 0.7);
        }
        xy
    }
}

fn fact(label: &'static str, value: String) -> Fact {
    Fact { label, value }
}

impl Client {
    fn facts(&self, now_local_us: Micros) -> Vec<Fact> {
        let mut facts = vec![
            fact("role", format!("client (tenant {})", self.tenant())),
            fact("offered rate", format!("{:.0} req/s", self.rate_at(now_local_us))),
            fact("waiting for", self.inflight.len().to_string()),
        ];
        if let Some(tokens) = self.budget.tokens() {
            facts.push(fact("retry tokens", format!("{tokens:.1}")));
        }
        facts
    }
}

impl Balancer {
    fn facts(&self) -> Vec<Fact> {
        let replicas: Vec<String> = (self.backends.iter().enumerate())
            .map(|(r, b)| {
                let breaker = match b.breaker {
                    Breaker::Closed { .. } if self.config.breaker.is_none() => "",
                    Breaker::Closed { .. } => ", breaker closed",
                    Breaker::Open { .. } => ", breaker OPEN",
                    Breaker::HalfOpen { .. } => ", breaker half-open",
                };
                let health = if b.missed_checks >= 2 { "ejected" } else { "in rotation" };
                format!("{}: {} in flight, {health}{breaker}", r + 1, b.outstanding)
            })
            .collect();
        vec![
            fact("role", "load balancer".into()),
            fact("in flight", self.forwarded.len().to_string()),
            fact("replicas", replicas.join("; ")),
        ]
    }
}

impl Server {
    fn facts(&self, now_local_us: Micros) -> Vec<Fact> {
        let role = if self.is_backend() { "backend" } else { "replica" };
        let mut facts = vec![
            fact("role", role.into()),
            fact("busy workers", format!("{} of {}", self.busy(), self.workers.len())),
            fact("queued", self.queued().to_string()),
        ];
        if self.is_replica() {
            facts.push(fact(
                "memory limit",
                format!("{} queued requests", self.config.queue_limit),
            ));
            let cold = self.durable.boots > 1 && now_local_us < self.boot_us + self.config.warmup_us;
            facts.push(fact("boots", self.durable.boots.to_string()));
            if cold {
                facts.push(fact("warming up", "service 3× slower".into()));
            }
        }
        facts.push(fact("served", self.served.to_string()));
        if self.served > 0 {
            facts.push(fact(
                "mean time inside",
                format!("{:.1} ms", self.sojourn_sum_us as f64 / self.served as f64 / 1_000.0),
            ));
        }
        facts
    }

    /// Requests served, and their total time inside (queued and in service, local µs).
    fn numbers(&self) -> Vec<Number> {
        vec![
            Number {
                label: "served",
                value: self.served,
            },
            Number {
                label: "time inside, µs",
                value: self.sojourn_sum_us,
            },
        ]
    }
}
