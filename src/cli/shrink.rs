//! `faultline shrink`: cuts a failing run down to the faults, durations and nodes it
//! needs to fail the same checker, and prints the smallest link with what it removed.

use faultline::explore::shrink;
use faultline::time::{parse_duration, us_to_ms, Micros, US_PER_S};
use faultline::{Scenario, Simulation};

use super::progress::Progress;
use crate::{load, Source};

pub const USAGE: &str = "\
    faultline shrink LINK|SCENARIO.json|--preset NAME [OPTIONS]
                                                  the smallest run that still fails

OPTIONS (shrink):
    --check ID         the checker that must still fail (default: the first one violated)
    --until DURATION   how long a candidate may run (default: the link's moment, else 30s)
    --max-runs N       candidate runs to spend at most (default 2000)
";

const DEFAULT_MAX_RUNS: u32 = 2_000;

struct ShrinkArgs {
    source: Source,
    check: Option<String>,
    until_us: Option<Micros>,
    max_runs: u32,
}

fn parse(args: &[String]) -> Result<ShrinkArgs, String> {
    let (mut source, mut check, mut until_us, mut max_runs) = (None, None, None, DEFAULT_MAX_RUNS);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--check" => check = Some(value()?),
            "--until" => until_us = Some(parse_duration(&value()?).map_err(|e| format!("--until: {}", e.problem))?),
            "--max-runs" => {
                let text = value()?;
                max_runs = text
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--max-runs: `{text}` is not a positive whole number"))?;
            }
            "--preset" => source = Some(Source::Preset(value()?)),
            "--scenario-url" => source = Some(Source::Link(value()?)),
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`\n\n{}", crate::USAGE)),
            text if source.is_none() => {
                let is_link = text.contains("F1.") && !text.ends_with(".json");
                source = Some(if is_link {
                    Source::Link(text.to_string())
                } else {
                    Source::File(text.to_string())
                });
            }
            extra => return Err(format!("unexpected argument `{extra}`")),
        }
    }
    let source = source.ok_or("give a link, a scenario file or --preset NAME")?;
    Ok(ShrinkArgs {
        source,
        check,
        until_us,
        max_runs,
    })
}

/// The checker to keep failing: the one asked for, else the first one violated.
fn pick_check(scenario: &Scenario, asked: Option<String>, until_us: Micros) -> Result<String, String> {
    let mut sim = Simulation::new(scenario.clone()).map_err(|e| e.to_string())?;
    sim.advance_to(until_us);
    let checks = sim.checks();
    let ids: Vec<&str> = checks.iter().map(|c| c.id).collect();
    match asked {
        Some(c) if ids.contains(&c.as_str()) => Ok(c),
        Some(c) => Err(format!(
            "--check: this scenario has no checker `{c}`; its checkers: {}",
            list(&ids)
        )),
        None => checks
            .iter()
            .filter_map(|c| Some((c.first_violation_ms?, c.id)))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, id)| id.to_string())
            .ok_or_else(|| {
                format!(
                    "no checker is violated within {} ms: nothing to shrink",
                    us_to_ms(until_us)
                )
            }),
    }
}

pub fn main(args: &[String]) -> Result<(), String> {
    let args = parse(args)?;
    let (scenario, link_us) = load(&args.source)?;
    let until_us = args
        .until_us
        .unwrap_or(if link_us > 0 { link_us } else { 30 * US_PER_S });
    let check = pick_check(&scenario, args.check, until_us)?;
    let progress = Progress::new(args.max_runs as u64, "runs");
    let mut last = 0;
    let shrunk = shrink::shrink(&scenario, &check, until_us, args.max_runs, &mut |runs| {
        (last..runs).for_each(|_| progress.tick(false));
        last = runs;
    })
    .map_err(|e| e.to_string())?;
    progress.finish();
    report(&scenario, &check, &shrunk);
    Ok(())
}

fn report(original: &Scenario, check: &str, shrunk: &shrink::Shrunk) {
    let s = &shrunk.scenario;
    outln!(
        "shrunk `{check}`: {} → {} faults, {} → {} nodes, in {} runs{}",
        original.faults.len(),
        s.faults.len(),
        original.nodes,
        s.nodes,
        shrunk.runs,
        if shrunk.budget_hit {
            " (budget spent: it may shrink further with --max-runs)"
        } else {
            ""
        }
    );
    outln!("violated at {} ms", us_to_ms(shrunk.violated_at_us));
    outln!("removed:");
    if shrunk.removed.is_empty() {
        outln!("  nothing: every fault and node is needed");
    }
    shrunk.removed.iter().for_each(|r| outln!("  {r}"));
    outln!("left:");
    for f in &s.faults {
        let lasting = f.duration_ms.map_or(String::new(), |d| format!(" for {d} ms"));
        outln!("  {} at {} ms{lasting}", f.fault.label(), f.at_ms);
    }
    outln!("#s={}", faultline::share::encode(s, shrunk.violated_at_us));
}

fn list(ids: &[&str]) -> String {
    if ids.is_empty() {
        "none".to_string()
    } else {
        ids.join(", ")
    }
}
