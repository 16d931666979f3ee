//! Judging a submitted run: the rules first (no run needed), then the recorded scenario
//! replayed headless up to the time limit, with the goal's figures and series read as the
//! run goes and its checks at the end. The page judges the same way (`Simulation.judge`),
//! so a learner's time travel or live state cannot fool it.
//!
//! Figures are read every `STEP_MS` of simulated time, so a figure goal's moment is known
//! to that step; check verdicts carry their own exact moments.

use serde::Serialize;

use crate::checks::Property;
use crate::error::InputError;
use crate::scenario::Scenario;
use crate::sim::Simulation;
use crate::time::{ms_to_us, us_to_ms, Micros};

use super::goal::{self, Goal, Part};
use super::rules::{self, Rules};
use super::{catalogue, Exercise};

/// How often figures are read while judging, in simulated ms.
pub const STEP_MS: f64 = 100.0;

/// The verdict on a submitted run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Judgement {
    pub exercise: String,
    pub task: String,
    /// The goal in words.
    pub goal: String,
    pub time_limit_ms: f64,
    pub faults_used: usize,
    pub fault_budget: Option<i64>,
    /// The rules the submission broke; a refused run is not judged further.
    pub broken: Vec<String>,
    pub met: bool,
    /// The moment the goal was met.
    pub met_at_ms: Option<f64>,
    /// Each part of the goal, depth first.
    pub parts: Vec<Part>,
    pub notes: Vec<String>,
    /// The one line a grader reads: `goal met at T ms`, `goal not met …`, `rule broken: …`.
    pub headline: String,
}

impl Judgement {
    /// The judgement as the CLI prints it, headline first.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.headline.clone()];
        lines.extend(self.broken.iter().skip(1).map(|b| format!("rule broken: {b}")));
        let budget = self
            .fault_budget
            .map_or("no limit".to_string(), |m| format!("budget {m}"));
        lines.push(format!(
            "exercise: {} — {} faults used ({budget}), judged to {} ms",
            self.exercise, self.faults_used, self.time_limit_ms
        ));
        for p in &self.parts {
            lines.push(format!(
                "  {} {}: {}",
                if p.met { "met" } else { "NOT met" },
                p.goal,
                p.why
            ));
        }
        lines.extend(self.notes.iter().map(|n| format!("note: {n}")));
        lines
    }
}

/// A judging in progress: `step` until `done`, then `finish` (the page slices it).
pub struct Judging {
    exercise: Exercise,
    sim: Option<Simulation>,
    end_us: Micros,
    atoms: Vec<Goal>,
    /// Figure atoms: since when the bound has held (None while it does not).
    since: Vec<Option<f64>>,
    /// Series atoms: the part, once the window has closed.
    windows: Vec<Option<Part>>,
    faults_used: usize,
    broken: Vec<String>,
    notes: Vec<String>,
}

/// Judges a submitted run completely (the built-in exercise of the same id, if any, is the
/// posed copy it is held to).
pub fn judge(submitted: &Scenario) -> Result<Judgement, InputError> {
    let mut judging = Judging::new(submitted)?;
    while !judging.done() {
        judging.step();
    }
    Ok(judging.finish())
}

impl Judging {
    pub fn new(submitted: &Scenario) -> Result<Judging, InputError> {
        let posed = submitted
            .exercise
            .as_ref()
            .and_then(|e| catalogue::find(&e.id))
            .map(|b| b.scenario());
        Judging::against(submitted, posed.as_ref())
    }

    /// Judges `submitted` against `posed`, the exercise as it was set (None: the
    /// submission's own copy, with only its hand-injected faults counted as the learner's).
    pub fn against(submitted: &Scenario, posed: Option<&Scenario>) -> Result<Judging, InputError> {
        let own = submitted
            .exercise
            .clone()
            .ok_or_else(|| InputError::new("exercise", "this scenario poses no exercise (no `exercise` field)"))?;
        let exercise = posed.and_then(|p| p.exercise.clone()).unwrap_or_else(|| own.clone());
        check_names(submitted, &exercise.goal)?;
        let (faults_used, broken, notes) = check_rules(submitted, posed, &own, &exercise.rules);
        let end_us = ms_to_us(exercise.rules.time_limit_ms, "exercise.rules.time_limit_ms")?;
        let sim = if broken.is_empty() {
            Some(Simulation::new(submitted.clone())?)
        } else {
            None
        };
        let atoms: Vec<Goal> = exercise.goal.atoms().into_iter().cloned().collect();
        Ok(Judging {
            since: vec![None; atoms.len()],
            windows: vec![None; atoms.len()],
            atoms,
            exercise,
            sim,
            end_us,
            faults_used,
            broken,
            notes,
        })
    }

    pub fn done(&self) -> bool {
        self.sim.as_ref().is_none_or(|s| s.now_us() >= self.end_us)
    }

    /// Simulated time judged so far, and the time limit, in ms (for a progress bar).
    pub fn progress_ms(&self) -> (f64, f64) {
        let now = self.sim.as_ref().map_or(self.end_us, |s| s.now_us());
        (us_to_ms(now), us_to_ms(self.end_us))
    }

    /// Runs one step of `STEP_MS` (or to the time limit) and reads the goal's figures and
    /// closed windows.
    pub fn step(&mut self) {
        let Some(sim) = self.sim.as_mut() else {
            return;
        };
        let next = (sim.now_us() + ms_to_us(STEP_MS, "").unwrap_or(1)).min(self.end_us);
        sim.advance_to(next);
        let now_ms = us_to_ms(sim.now_us());
        let figures = if self.atoms.iter().any(|a| matches!(a, Goal::Figure { .. })) {
            sim.figures()
        } else {
            Vec::new()
        };
        let mut series = None;
        for (i, atom) in self.atoms.iter().enumerate() {
            match atom {
                Goal::Figure { figure, bound } => {
                    let holds = goal::figure_value(&figures, figure).is_some_and(|v| bound.admits(v));
                    self.since[i] = if holds { self.since[i].or(Some(now_ms)) } else { None };
                }
                Goal::Suspicion { .. } if self.since[i].is_none() && suspicion_holds(atom, sim) => {
                    self.since[i] = Some(now_ms);
                }
                Goal::Series { to_ms, .. } if self.windows[i].is_none() && now_ms >= *to_ms => {
                    let all = series.get_or_insert_with(|| sim.series());
                    self.windows[i] = Some(window_part(atom, all));
                }
                _ => {}
            }
        }
    }

    pub fn finish(self) -> Judgement {
        let exercise = &self.exercise;
        let mut judgement = Judgement {
            exercise: exercise.id.clone(),
            task: exercise.task.clone(),
            goal: exercise.goal.words(),
            time_limit_ms: exercise.rules.time_limit_ms,
            faults_used: self.faults_used,
            fault_budget: exercise.rules.faults.max,
            broken: self.broken.clone(),
            met: false,
            met_at_ms: None,
            parts: Vec::new(),
            notes: self.notes.clone(),
            headline: String::new(),
        };
        let Some(sim) = &self.sim else {
            judgement.headline = format!("rule broken: {}", self.broken.first().map_or("", String::as_str));
            return judgement;
        };
        let end_ms = us_to_ms(sim.now_us());
        let checks = sim.checks();
        let parts: Vec<Part> = (0..self.atoms.len()).map(|i| self.part(i, &checks, end_ms)).collect();
        let (met, at) = goal::combine(&exercise.goal, &parts, &mut 0);
        judgement.headline = match (met, at) {
            (true, Some(t)) => format!("goal met at {t} ms"),
            (true, None) => format!("goal met by {end_ms} ms"),
            (false, _) => format!(
                "goal not met by {end_ms} ms: {}",
                parts.iter().find(|p| !p.met).map_or("", |p| p.why.as_str())
            ),
        };
        judgement.met = met;
        judgement.met_at_ms = if met { at } else { None };
        judgement.parts = parts;
        judgement
    }

    fn part(&self, i: usize, checks: &[crate::checks::CheckView], end_ms: f64) -> Part {
        let atom = &self.atoms[i];
        match atom {
            Goal::Check { check, .. } => goal::judge_check(atom, checks.iter().find(|c| c.id == check), end_ms),
            Goal::Suspicion { .. } => Part {
                goal: atom.words(),
                met: self.since[i].is_some(),
                at_ms: self.since[i],
                why: match self.since[i] {
                    Some(t) => format!("so it was at {t} ms"),
                    None => format!("it never was, up to {end_ms} ms (read every {STEP_MS} ms)"),
                },
            },
            Goal::Figure { figure, bound } => {
                let value = self.sim.as_ref().map(|s| goal::figure_value(&s.figures(), figure));
                let shown = value.flatten().map_or("not reported".to_string(), |v| format!("{v}"));
                match self.since[i] {
                    Some(t) => Part {
                        goal: atom.words(),
                        met: true,
                        at_ms: Some(t),
                        why: format!("{figure} is {shown} ({}) since {t} ms", bound.words()),
                    },
                    None => Part {
                        goal: atom.words(),
                        met: false,
                        at_ms: None,
                        why: format!("{figure} is {shown} at {end_ms} ms; the goal wants {}", bound.words()),
                    },
                }
            }
            Goal::Series { .. } => self.windows[i].clone().unwrap_or_else(|| Part {
                goal: atom.words(),
                met: false,
                at_ms: None,
                why: "the window had not closed by the end of the run".to_string(),
            }),
            Goal::All(_) | Goal::Any(_) => unreachable!("atoms are never combinators"),
        }
    }
}

/// Whether a suspicion atom holds now, by the engine's view of who suspects whom.
fn suspicion_holds(atom: &Goal, sim: &Simulation) -> bool {
    let Goal::Suspicion {
        node,
        suspects,
        suspected_by,
    } = atom
    else {
        return false;
    };
    let engine = sim.engine();
    let others: Vec<u32> = (0..sim.scenario().nodes).filter(|n| n != node).collect();
    let crowd = |want: Option<goal::Crowd>, hit: &dyn Fn(u32) -> bool| match want {
        None => true,
        Some(goal::Crowd::Everyone) => others.iter().all(|&o| hit(o)),
        Some(goal::Crowd::Nobody) => !others.iter().any(|&o| hit(o)),
    };
    crowd(*suspects, &|o| engine.suspects(*node, o)) && crowd(*suspected_by, &|o| engine.suspects(o, *node))
}

/// A series atom judged over its closed window.
fn window_part(atom: &Goal, all: &[crate::checks::SeriesView]) -> Part {
    let Goal::Series {
        series,
        per,
        from_ms,
        to_ms,
        stat,
        bound,
    } = atom
    else {
        unreachable!("only series atoms have windows");
    };
    let find = |id: &str| all.iter().find(|s| s.id == id);
    let value = find(series).and_then(|s| {
        let per = per.as_deref().and_then(find).map(|p| p.values.as_slice());
        goal::window_stat(&s.t_ms, &s.values, per, *from_ms, *to_ms, *stat)
    });
    let met = value.is_some_and(|v| bound.admits(v));
    let shown = value.map_or("no samples".to_string(), |v| format!("{:.3}", v));
    Part {
        goal: atom.words(),
        met,
        at_ms: met.then_some(*to_ms),
        why: format!(
            "{} was {shown} from {from_ms} to {to_ms} ms",
            atom.words().split(" from ").next().unwrap_or(series)
        ),
    }
}

/// Counts the learner's faults and lists every broken rule, with notes on what could not
/// be checked.
fn check_rules(
    submitted: &Scenario,
    posed: Option<&Scenario>,
    own: &Exercise,
    rules: &Rules,
) -> (usize, Vec<String>, Vec<String>) {
    let mut broken = Vec::new();
    let mut notes = Vec::new();
    let learner = match posed {
        Some(p) => {
            if p.exercise.as_ref() != Some(own) {
                broken.push(format!(
                    "the exercise itself was changed: its goal, rules or hints differ from the built-in `{}`",
                    own.id
                ));
            }
            let (learner, missing) = rules::learner_faults(&p.faults, &submitted.faults);
            broken.extend(missing);
            let json = |s: &Scenario| crate::json_tree::json_tree(s);
            broken.extend(rules.check_settings(&json(p), &json(submitted)));
            learner
        }
        None => {
            notes.push(format!(
                "no built-in exercise `{}`: judged by its own rules; only faults injected on the page count as the learner's, and settings are not compared",
                own.id
            ));
            submitted.faults.iter().filter(|f| f.injected).collect()
        }
    };
    broken.extend(rules.check_faults(&learner));
    (learner.len(), broken, notes)
}

/// Every check, figure and series the goal names must exist in this scenario's protocol,
/// and each verdict must fit its check's kind.
pub fn check_names(scenario: &Scenario, goal: &Goal) -> Result<(), InputError> {
    let sim = Simulation::new(scenario.clone())?;
    let (checks, figures, series) = (sim.checks(), sim.figures(), sim.series());
    let list = |ids: Vec<&str>| {
        if ids.is_empty() {
            "none".to_string()
        } else {
            ids.join(", ")
        }
    };
    let unknown = |what: &str, id: &str, known: String| {
        InputError::new(
            "exercise.goal",
            format!("`{id}` is not a {what} of this scenario's protocol; its {what}s: {known}"),
        )
    };
    for atom in goal.atoms() {
        match atom {
            Goal::Check { check, is, .. } => {
                let Some(c) = checks.iter().find(|c| c.id == check) else {
                    return Err(unknown("check", check, list(checks.iter().map(|c| c.id).collect())));
                };
                if !is.fits(c.property) {
                    let words = if c.property == Property::Liveness {
                        "satisfied or pending"
                    } else {
                        "violated or holds"
                    };
                    return Err(InputError::new(
                        "exercise.goal",
                        format!("`{check}` is a {:?} check: ask whether it is {words}", c.property).to_lowercase(),
                    ));
                }
            }
            Goal::Suspicion { node, .. } if *node >= scenario.nodes => {
                return Err(InputError::new(
                    "exercise.goal",
                    format!("no node {node}: the cluster has nodes 0 to {}", scenario.nodes - 1),
                ));
            }
            Goal::Figure { figure, .. } if !figures.iter().any(|f| f.id == figure) => {
                return Err(unknown("figure", figure, list(figures.iter().map(|f| f.id).collect())));
            }
            Goal::Series { series: id, per, .. } => {
                for id in std::iter::once(id).chain(per) {
                    if !series.iter().any(|s| s.id == id) {
                        return Err(unknown("series", id, list(series.iter().map(|s| s.id).collect())));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}
