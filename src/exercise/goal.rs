//! An exercise's goal: a small expression over what the run's checkers already say.
//!
//! Atoms read a checker's verdict (`{"check": "split_brain", "is": "violated"}`), a figure
//! of the headless summary against a bound (`{"figure": "acked_writes_lost", "at_least":
//! 1}`), or a chart series over a window (`{"series": "goodput", "per": "offered",
//! "from_ms": 2000, "to_ms": 12000, "at_least": 0.8}`); `all` and `any` combine them. The
//! JSON form is one object with optional fields (`Raw`), turned into the typed `Goal` with
//! errors a course author can act on.

use serde::{Deserialize, Serialize};

use crate::checks::{CheckView, Figure, Property};

/// At most this many atoms in one goal, and this deep a nesting of `all` / `any`.
pub const MAX_GOAL_ATOMS: usize = 32;
pub const MAX_GOAL_DEPTH: usize = 4;

/// What a checker's verdict must be at the end of the judged run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Safety: violated at some moment (by `by_ms`, if given). Met at the first violation.
    Violated,
    /// Safety: never violated up to the time limit. Met at the end of the run.
    Holds,
    /// Liveness: satisfied at the end (since a moment no later than `by_ms`, if given).
    Satisfied,
    /// Liveness: still pending at the end.
    Pending,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Violated => "violated",
            Verdict::Holds => "holds",
            Verdict::Satisfied => "satisfied",
            Verdict::Pending => "pending",
        }
    }

    /// Whether the verdict can be asked of a check of this kind.
    pub fn fits(self, property: Property) -> bool {
        match self {
            Verdict::Violated | Verdict::Holds => property != Property::Liveness,
            Verdict::Satisfied | Verdict::Pending => property == Property::Liveness,
        }
    }
}

/// Everyone or nobody, for a suspicion goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Crowd {
    Everyone,
    Nobody,
}

/// How a window of series samples is summed up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    #[default]
    Mean,
    Min,
    Max,
}

/// A figure's bound: at least, at most, or both.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bound {
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
}

impl Bound {
    pub fn admits(&self, value: f64) -> bool {
        !value.is_nan() && self.at_least.is_none_or(|lo| value >= lo) && self.at_most.is_none_or(|hi| value <= hi)
    }

    pub fn words(&self) -> String {
        match (self.at_least, self.at_most) {
            (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
            (Some(lo), None) => format!("at least {lo}"),
            (None, Some(hi)) => format!("at most {hi}"),
            (None, None) => "anything".to_string(),
        }
    }
}

/// A goal, typed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Raw", into = "Raw")]
pub enum Goal {
    Check {
        check: String,
        is: Verdict,
        after_ms: Option<f64>,
        by_ms: Option<f64>,
    },
    /// At some moment (read every `judge::STEP_MS`), `node` suspects everyone / nobody and
    /// is suspected by everyone / nobody among the other nodes.
    Suspicion {
        node: u32,
        suspects: Option<Crowd>,
        suspected_by: Option<Crowd>,
    },
    Figure {
        figure: String,
        bound: Bound,
    },
    Series {
        series: String,
        per: Option<String>,
        from_ms: f64,
        to_ms: f64,
        stat: Stat,
        bound: Bound,
    },
    All(Vec<Goal>),
    Any(Vec<Goal>),
}

/// The JSON form: one object, the fields of whichever atom it is.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Raw {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    check: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    is: Option<Verdict>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    by_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    suspects: Option<Crowd>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    suspected_by: Option<Crowd>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    figure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    series: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    per: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stat: Option<Stat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at_least: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at_most: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    all: Option<Vec<Goal>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    any: Option<Vec<Goal>>,
}

impl Raw {
    /// The names of the fields that are set, for "use only one of" messages.
    fn heads(&self) -> Vec<&'static str> {
        let mut heads = Vec::new();
        for (set, name) in [
            (self.check.is_some(), "check"),
            (self.node.is_some(), "node"),
            (self.figure.is_some(), "figure"),
            (self.series.is_some(), "series"),
            (self.all.is_some(), "all"),
            (self.any.is_some(), "any"),
        ] {
            if set {
                heads.push(name);
            }
        }
        heads
    }

    fn bound(&self) -> Result<Bound, String> {
        let bound = Bound {
            at_least: self.at_least,
            at_most: self.at_most,
        };
        if bound.at_least.is_none() && bound.at_most.is_none() {
            return Err("give a bound: at_least, at_most or both".to_string());
        }
        if [bound.at_least, bound.at_most].iter().flatten().any(|v| !v.is_finite()) {
            return Err("at_least and at_most must be finite numbers".to_string());
        }
        Ok(bound)
    }

    /// Fields that belong to other atoms, so a misplaced one is an error, not ignored.
    fn stray(&self, allowed: &[&str]) -> Result<(), String> {
        let set = [
            ("is", self.is.is_some()),
            ("after_ms", self.after_ms.is_some()),
            ("by_ms", self.by_ms.is_some()),
            ("suspects", self.suspects.is_some()),
            ("suspected_by", self.suspected_by.is_some()),
            ("per", self.per.is_some()),
            ("from_ms", self.from_ms.is_some()),
            ("to_ms", self.to_ms.is_some()),
            ("stat", self.stat.is_some()),
            ("at_least", self.at_least.is_some()),
            ("at_most", self.at_most.is_some()),
        ];
        match set.iter().find(|(name, on)| *on && !allowed.contains(name)) {
            Some((name, _)) => Err(format!("`{name}` does not belong in this kind of goal")),
            None => Ok(()),
        }
    }
}

impl TryFrom<Raw> for Goal {
    type Error = String;

    fn try_from(raw: Raw) -> Result<Goal, String> {
        let heads = raw.heads();
        if heads.len() != 1 {
            return Err(format!(
                "a goal is exactly one of check, node, figure, series, all, any; this one has {}",
                if heads.is_empty() {
                    "none".to_string()
                } else {
                    heads.join(", ")
                }
            ));
        }
        match heads[0] {
            "check" => {
                raw.stray(&["is", "after_ms", "by_ms"])?;
                let is = raw
                    .is
                    .ok_or("a check goal needs `is`: violated, holds, satisfied or pending")?;
                Ok(Goal::Check {
                    check: raw.check.unwrap_or_default(),
                    is,
                    after_ms: raw.after_ms,
                    by_ms: raw.by_ms,
                })
            }
            "node" => {
                raw.stray(&["suspects", "suspected_by"])?;
                if raw.suspects.is_none() && raw.suspected_by.is_none() {
                    return Err("a node goal needs `suspects`, `suspected_by` or both: everyone or nobody".to_string());
                }
                Ok(Goal::Suspicion {
                    node: raw.node.unwrap_or_default(),
                    suspects: raw.suspects,
                    suspected_by: raw.suspected_by,
                })
            }
            "figure" => {
                raw.stray(&["at_least", "at_most"])?;
                Ok(Goal::Figure {
                    bound: raw.bound()?,
                    figure: raw.figure.unwrap_or_default(),
                })
            }
            "series" => series_from(raw),
            "all" => Ok(Goal::All(raw.all.unwrap_or_default())),
            _ => Ok(Goal::Any(raw.any.unwrap_or_default())),
        }
    }
}

fn series_from(raw: Raw) -> Result<Goal, String> {
    raw.stray(&["per", "from_ms", "to_ms", "stat", "at_least", "at_most"])?;
    let bound = raw.bound()?;
    let (Some(from_ms), Some(to_ms)) = (raw.from_ms, raw.to_ms) else {
        return Err("a series goal needs a window: from_ms and to_ms".to_string());
    };
    if !(from_ms.is_finite() && to_ms.is_finite() && 0.0 <= from_ms && from_ms < to_ms) {
        return Err(format!(
            "the window must run forward from 0 or later; got {from_ms} to {to_ms} ms"
        ));
    }
    Ok(Goal::Series {
        series: raw.series.unwrap_or_default(),
        per: raw.per,
        from_ms,
        to_ms,
        stat: raw.stat.unwrap_or_default(),
        bound,
    })
}

impl From<Goal> for Raw {
    fn from(goal: Goal) -> Raw {
        let bounded = |bound: Bound, raw: Raw| Raw {
            at_least: bound.at_least,
            at_most: bound.at_most,
            ..raw
        };
        match goal {
            Goal::Check {
                check,
                is,
                after_ms,
                by_ms,
            } => Raw {
                check: Some(check),
                is: Some(is),
                after_ms,
                by_ms,
                ..Raw::default()
            },
            Goal::Suspicion {
                node,
                suspects,
                suspected_by,
            } => Raw {
                node: Some(node),
                suspects,
                suspected_by,
                ..Raw::default()
            },
            Goal::Figure { figure, bound } => bounded(
                bound,
                Raw {
                    figure: Some(figure),
                    ..Raw::default()
                },
            ),
            Goal::Series {
                series,
                per,
                from_ms,
                to_ms,
                stat,
                bound,
            } => bounded(
                bound,
                Raw {
                    series: Some(series),
                    per,
                    from_ms: Some(from_ms),
                    to_ms: Some(to_ms),
                    stat: (stat != Stat::Mean).then_some(stat),
                    ..Raw::default()
                },
            ),
            Goal::All(goals) => Raw {
                all: Some(goals),
                ..Raw::default()
            },
            Goal::Any(goals) => Raw {
                any: Some(goals),
                ..Raw::default()
            },
        }
    }
}

impl Goal {
    /// The atoms (checks, figures, series) in order, depth first.
    pub fn atoms(&self) -> Vec<&Goal> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Goal>) {
        match self {
            Goal::All(goals) | Goal::Any(goals) => goals.iter().for_each(|g| g.collect(out)),
            atom => out.push(atom),
        }
    }

    fn depth(&self) -> usize {
        match self {
            Goal::All(goals) | Goal::Any(goals) => 1 + goals.iter().map(Goal::depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// The shape rules that need no run: sizes, empty combinators, windows within the
    /// time limit. Names are checked against a run by `judge::check_names`.
    pub fn validate(&self, time_limit_ms: f64) -> Result<(), String> {
        if self.depth() > MAX_GOAL_DEPTH {
            return Err(format!("nests all/any more than {MAX_GOAL_DEPTH} deep"));
        }
        if self.atoms().len() > MAX_GOAL_ATOMS {
            return Err(format!("has more than {MAX_GOAL_ATOMS} parts"));
        }
        self.validate_parts(time_limit_ms)
    }

    fn validate_parts(&self, time_limit_ms: f64) -> Result<(), String> {
        match self {
            Goal::All(goals) | Goal::Any(goals) if goals.is_empty() => {
                Err("`all` and `any` need at least one goal".to_string())
            }
            Goal::All(goals) | Goal::Any(goals) => goals.iter().try_for_each(|g| g.validate_parts(time_limit_ms)),
            Goal::Check { after_ms, by_ms, .. }
                if [after_ms, by_ms]
                    .into_iter()
                    .flatten()
                    .any(|t| !(t.is_finite() && *t >= 0.0)) =>
            {
                Err("after_ms and by_ms must be moments from 0 on".to_string())
            }
            Goal::Series { series, to_ms, .. } if *to_ms > time_limit_ms => Err(format!(
                "the window of `{series}` ends at {to_ms} ms, after the time limit ({time_limit_ms} ms)"
            )),
            _ => Ok(()),
        }
    }

    /// The goal in words, for the panel and the CLI.
    pub fn words(&self) -> String {
        match self {
            Goal::Check {
                check,
                is,
                after_ms,
                by_ms,
            } => {
                let after = after_ms.map(|t| format!(" after {t} ms")).unwrap_or_default();
                let by = by_ms.map(|t| format!(" by {t} ms")).unwrap_or_default();
                format!("{check} {}{after}{by}", is.word())
            }
            Goal::Suspicion {
                node,
                suspects,
                suspected_by,
            } => {
                let crowd = |c: &Option<Crowd>| match c {
                    Some(Crowd::Everyone) => "everyone",
                    Some(Crowd::Nobody) => "nobody",
                    None => "",
                };
                let mut parts = Vec::new();
                if suspects.is_some() {
                    parts.push(format!("suspects {}", crowd(suspects)));
                }
                if suspected_by.is_some() {
                    parts.push(format!("is suspected by {}", crowd(suspected_by)));
                }
                format!("node {node} {}", parts.join(" and "))
            }
            Goal::Figure { figure, bound } => format!("{figure} {}", bound.words()),
            Goal::Series {
                series,
                per,
                from_ms,
                to_ms,
                stat,
                bound,
            } => {
                let of = per.as_ref().map(|p| format!(" per {p}")).unwrap_or_default();
                let stat = format!("{stat:?}").to_lowercase();
                format!("{stat} of {series}{of} from {from_ms} to {to_ms} ms {}", bound.words())
            }
            Goal::All(goals) => join(goals, " and "),
            Goal::Any(goals) => join(goals, " or "),
        }
    }
}

fn join(goals: &[Goal], sep: &str) -> String {
    let parts: Vec<String> = goals
        .iter()
        .map(|g| match g {
            Goal::All(_) | Goal::Any(_) => format!("({})", g.words()),
            _ => g.words(),
        })
        .collect();
    parts.join(sep)
}

/// Whether one part of a goal was met, when, and why (or why not), in words.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Part {
    pub goal: String,
    pub met: bool,
    pub at_ms: Option<f64>,
    pub why: String,
}

/// A check atom judged at the end of the run, from the check's final view.
pub fn judge_check(atom: &Goal, view: Option<&CheckView>, end_ms: f64) -> Part {
    let Goal::Check {
        check,
        is,
        after_ms,
        by_ms,
    } = atom
    else {
        unreachable!("judge_check judges check atoms");
    };
    let (is, by_ms) = (*is, *by_ms);
    let goal = atom.words();
    let Some(v) = view else {
        return Part {
            goal,
            met: false,
            at_ms: None,
            why: format!("{check} was not reported"),
        };
    };
    let detail = v.detail.as_str();
    let (met, at_ms, why) = match is {
        Verdict::Violated => timed(
            (check, "violated at", detail),
            v.first_violation_ms,
            (*after_ms, by_ms),
            format!("{check} was never violated: {detail}"),
        ),
        Verdict::Holds => match v.first_violation_ms {
            Some(t) => (false, None, format!("{check} was violated at {t} ms: {detail}")),
            None => (true, Some(end_ms), format!("{check} held throughout: {detail}")),
        },
        Verdict::Satisfied => timed(
            (check, "satisfied since", detail),
            v.satisfied_since_ms,
            (*after_ms, by_ms),
            format!("{check} still pending at {end_ms} ms: {detail}"),
        ),
        Verdict::Pending => match v.satisfied_since_ms {
            Some(t) => (false, None, format!("{check} satisfied since {t} ms: {detail}")),
            None => (
                true,
                Some(end_ms),
                format!("{check} still pending at {end_ms} ms: {detail}"),
            ),
        },
    };
    Part { goal, met, at_ms, why }
}

/// A verdict that happens at a moment (a first violation, satisfied since): met when the
/// moment exists and falls within `after_ms` … `by_ms`; `never` says why not otherwise.
fn timed(
    (check, what, detail): (&str, &str, &str),
    moment: Option<f64>,
    (after_ms, by_ms): (Option<f64>, Option<f64>),
    never: String,
) -> (bool, Option<f64>, String) {
    match moment {
        Some(t) if by_ms.is_some_and(|by| t > by) => (
            false,
            None,
            format!("{check} {what} {t} ms, after {} ms: {detail}", by_ms.unwrap_or(0.0)),
        ),
        Some(t) if after_ms.is_some_and(|after| t < after) => (
            false,
            None,
            format!("{check} {what} {t} ms, before {} ms: {detail}", after_ms.unwrap_or(0.0)),
        ),
        Some(t) => (true, Some(t), format!("{check} {what} {t} ms: {detail}")),
        None => (false, None, never),
    }
}

/// A figure's value by id (the largest, when a summary lists the id more than once).
pub fn figure_value(figures: &[Figure], id: &str) -> Option<f64> {
    figures
        .iter()
        .filter(|f| f.id == id)
        .map(|f| f.value)
        .reduce(|a, b| if b > a { b } else { a })
}

/// A window of samples summed up by `stat`; `None` when the window holds no sample.
pub fn window_stat(
    t_ms: &[f64],
    values: &[f64],
    per: Option<&[f64]>,
    from_ms: f64,
    to_ms: f64,
    stat: Stat,
) -> Option<f64> {
    let picked: Vec<f64> = t_ms
        .iter()
        .enumerate()
        .filter(|(_, t)| **t >= from_ms && **t <= to_ms)
        .filter_map(|(i, _)| {
            let v = *values.get(i)?;
            match per {
                None => Some(v),
                Some(p) => p.get(i).filter(|d| **d > 0.0).map(|d| v / d),
            }
        })
        .filter(|v| !v.is_nan())
        .collect();
    if picked.is_empty() {
        return None;
    }
    Some(match stat {
        Stat::Mean => picked.iter().sum::<f64>() / picked.len() as f64,
        Stat::Min => picked.iter().copied().fold(f64::INFINITY, f64::min),
        Stat::Max => picked.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// Combines the parts' outcomes (depth-first order, as `atoms`) through the goal's
/// `all` / `any`: all are met at the latest of their moments, any at the earliest.
pub fn combine(goal: &Goal, parts: &[Part], next: &mut usize) -> (bool, Option<f64>) {
    match goal {
        Goal::All(goals) => {
            let outs: Vec<(bool, Option<f64>)> = goals.iter().map(|g| combine(g, parts, next)).collect();
            let met = outs.iter().all(|o| o.0);
            let at = outs.iter().filter_map(|o| o.1).reduce(f64::max);
            (met, if met { at } else { None })
        }
        Goal::Any(goals) => {
            let outs: Vec<(bool, Option<f64>)> = goals.iter().map(|g| combine(g, parts, next)).collect();
            let at = outs.iter().filter(|o| o.0).filter_map(|o| o.1).reduce(f64::min);
            (outs.iter().any(|o| o.0), at)
        }
        _ => {
            let part = &parts[*next];
            *next += 1;
            (part.met, part.at_ms)
        }
    }
}
