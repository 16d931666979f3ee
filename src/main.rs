//! `faultline`: the command-line runner over the same engine the browser uses.
//!
//! `faultline run SCENARIO.json --until 30s [--seed N] [--trace FILE] [--history FILE] [--trace-hash]`,
//! `faultline run --preset NAME …`, `faultline run --scenario-url LINK …`,
//! `faultline link …`, `faultline presets`, `faultline exercises`, `faultline check-exercise`, and the exploring commands in `cli`
//! (`faultline sweep`, `faultline sweep merge`, `faultline shrink`, `faultline check`). A headless run prints a summary;
//! with `--trace-hash` its last line is the trace hash, which equals the hash the wasm
//! build computes in the browser for the same scenario. With `--json` it prints the same
//! run as one JSON object instead (no wall-clock figures, so the output is reproducible):
//! what programs and tests read.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use faultline::presets::{self, PRESETS};
use faultline::time::{parse_duration, us_to_ms, Micros, US_PER_S};
use faultline::{Scenario, Simulation};

mod cli;
use cli::{out, outln};

const USAGE: &str = "\
faultline — a deterministic playground for the ways distributed systems fail

USAGE:
    faultline run SCENARIO.json [OPTIONS]
    faultline run --preset NAME [OPTIONS]
    faultline run --scenario-url LINK [OPTIONS]   a link copied from the playground
    faultline link SCENARIO.json|--preset NAME [--at DURATION]
                                                  print the share link (#s=…) of a scenario
    faultline presets
    faultline sweep …   faultline sweep merge …   faultline shrink …   (see below)
    faultline check HISTORY [--budget N] [--time-ms N]   is a client history linearizable? (see below)
    faultline exercises   faultline check-exercise LINK_OR_FILE…   (see below)

OPTIONS (run):
    --until DURATION   simulated time to run to, e.g. 30s, 1500ms, 2m (default: the
                       link's own moment for --scenario-url, else 30s)
    --seed N           override the scenario's seed (0 … 2^53 − 1)
    --trace FILE       write every event as JSON lines to FILE
    --history FILE     write the clients' operations as a JSON-lines history to FILE
                       (register and Raft key-value scenarios; for `faultline check`;
                       docs/history.md)
    --trace-hash       print the trace hash as the last line
    --json             print the summary as one JSON object instead: the snapshot
                       (counters, trace_hash, …), the checks, the checkers' figures
                       ({id, value, line}) and the faults skipped
";

/// Simulated time per chunk when streaming a trace file, in µs.
const TRACE_CHUNK_US: Micros = 100_000;

struct RunArgs {
    source: Source,
    until_us: Option<Micros>,
    seed: Option<u64>,
    trace: Option<String>,
    history: Option<String>,
    trace_hash: bool,
    json: bool,
}

enum Source {
    File(String),
    Preset(String),
    Link(String),
    Exercise(String),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => parse_run(&args[1..]).and_then(run),
        Some("link") => parse_run(&args[1..]).and_then(link),
        Some("sweep") => cli::sweep::main(&args[1..]),
        Some("shrink") => cli::shrink::main(&args[1..]),
        Some("check") => cli::check::main(&args[1..]),
        Some("check-exercise") => cli::exercise::main(&args[1..]),
        Some("exercises") => cli::exercise::list(),
        Some("presets") => {
            PRESETS.iter().for_each(|p| outln!("{}", p.name));
            Ok(())
        }
        Some("help" | "--help" | "-h") | None => {
            out!(
                "{USAGE}\n{}\n{}\n{}\n{}",
                cli::sweep::USAGE,
                cli::shrink::USAGE,
                cli::check::USAGE,
                cli::exercise::USAGE
            );
            Ok(())
        }
        Some("--version" | "-V") => {
            outln!("faultline {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("faultline: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn parse_run(args: &[String]) -> Result<RunArgs, String> {
    let mut source = None;
    let mut until_us = None;
    let mut seed = None;
    let mut trace = None;
    let mut history = None;
    let mut trace_hash = false;
    let mut json = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--until" | "--at" => {
                let text = value(arg)?;
                until_us = Some(parse_duration(&text).map_err(|e| format!("{arg}: {}", e.problem))?);
            }
            "--seed" => {
                let text = value("--seed")?;
                seed = Some(
                    text.parse()
                        .map_err(|_| format!("--seed: `{text}` is not a whole number"))?,
                );
            }
            "--trace" => trace = Some(value("--trace")?),
            "--history" => history = Some(value("--history")?),
            "--trace-hash" => trace_hash = true,
            "--json" => json = true,
            "--preset" => source = Some(Source::Preset(value("--preset")?)),
            "--exercise" => source = Some(Source::Exercise(value("--exercise")?)),
            "--scenario-url" => source = Some(Source::Link(value("--scenario-url")?)),
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`\n\n{USAGE}")),
            path if source.is_none() => source = Some(Source::File(path.to_string())),
            extra => return Err(format!("unexpected argument `{extra}`")),
        }
    }
    let source =
        source.ok_or_else(|| format!("give a scenario file, --preset NAME or --scenario-url LINK\n\n{USAGE}"))?;
    Ok(RunArgs {
        source,
        until_us,
        seed,
        trace,
        history,
        trace_hash,
        json,
    })
}

/// Prints the share link of a scenario at a moment (`--at`, default 0).
fn link(args: RunArgs) -> Result<(), String> {
    let (scenario, link_us) = load(&args.source)?;
    outln!(
        "#s={}",
        faultline::share::encode(&scenario, args.until_us.unwrap_or(link_us))
    );
    Ok(())
}

/// The scenario and, for a link, the moment it was shared at.
fn load(source: &Source) -> Result<(Scenario, Micros), String> {
    match source {
        Source::Preset(name) => presets::find(name)
            .map(|p| ((p.build)(), 0))
            .ok_or_else(|| format!("no preset named `{name}`; presets: {}", presets::names())),
        Source::Exercise(name) => faultline::exercise::catalogue::find(name)
            .map(|e| (e.scenario(), 0))
            .ok_or_else(|| {
                format!(
                    "no exercise named `{name}`; exercises: {}",
                    faultline::exercise::catalogue::names()
                )
            }),
        Source::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
            Ok((Scenario::from_json(&text).map_err(|e| format!("{path}: {e}"))?, 0))
        }
        Source::Link(text) => {
            let run = faultline::share::decode(text).map_err(|e| format!("--scenario-url: {e}"))?;
            Ok((run.scenario, run.t_us))
        }
    }
}

fn run(args: RunArgs) -> Result<(), String> {
    let (mut scenario, link_us) = load(&args.source)?;
    if let Source::Link(text) = &args.source {
        check_epoch(text, args.json);
    }
    let until_us = match (&args.source, args.until_us) {
        (_, Some(until)) => until,
        (Source::Link(_), None) => link_us,
        (_, None) => 30 * US_PER_S,
    };
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let mut sim = match args.trace {
        Some(_) => Simulation::with_full_trace(scenario),
        None => Simulation::new(scenario),
    }
    .map_err(|e| e.to_string())?;
    let wall = WallClock::start();
    match &args.trace {
        Some(path) => run_with_trace(&mut sim, until_us, path)?,
        None => {
            sim.advance_to(until_us);
        }
    }
    if let Some(path) = &args.history {
        cli::history::write(&sim, path)?;
    }
    if args.json {
        outln!("{}", summary_json(&sim));
        return Ok(());
    }
    print_summary(&sim, wall.seconds());
    if sim.scenario().exercise.is_some() {
        let judgement = faultline::exercise::judge::judge(sim.scenario()).map_err(|e| e.to_string())?;
        judgement.lines().iter().for_each(|l| outln!("{l}"));
    }
    if args.trace_hash {
        outln!("{}", sim.trace_hash_hex());
    }
    Ok(())
}

/// Prints the engine epoch a link was made with (to stderr under `--json`, whose stdout is
/// the JSON alone), and warns when this engine differs.
fn check_epoch(link: &str, json: bool) {
    let Ok(shared) = faultline::share::decode(link) else {
        return;
    };
    match faultline::epoch::replay_note(shared.epoch) {
        Ok(note) if json => eprintln!("{note}"),
        Ok(note) => outln!("{note}"),
        Err(warning) => eprintln!("faultline: warning: {warning}"),
    }
}

fn run_with_trace(sim: &mut Simulation, until_us: Micros, path: &str) -> Result<(), String> {
    let file = File::create(path).map_err(|e| format!("cannot create {path}: {e}"))?;
    let mut out = BufWriter::new(file);
    let write_err = |e: std::io::Error| format!("writing {path}: {e}");
    writeln!(out, "{}", faultline::epoch::trace_header_line()).map_err(write_err)?;
    loop {
        let spill = sim.take_trace();
        for i in 0..spill.events.len() {
            writeln!(out, "{}", spill.json_line(i)).map_err(write_err)?;
        }
        if sim.now_us() >= until_us {
            return out.flush().map_err(write_err);
        }
        sim.advance_to((sim.now_us() + TRACE_CHUNK_US).min(until_us));
    }
}

/// The run's end state as JSON: everything the text summary says but the wall clock.
fn summary_json(sim: &Simulation) -> String {
    serde_json::json!({
        "scenario": sim.scenario().name,
        "snapshot": sim.snapshot(),
        "checks": sim.checks(),
        "figures": sim.figures(),
        "skipped_faults": sim.skipped_faults(),
    })
    .to_string()
}

fn print_summary(sim: &Simulation, wall_s: f64) {
    let snap = sim.snapshot();
    let s = sim.scenario();
    let c = &snap.counters;
    let d = &c.dropped;
    let sim_s = us_to_ms(sim.now_us()) / 1_000.0;
    outln!(
        "scenario: {} ({} nodes, {}, seed {})",
        s.name,
        s.nodes,
        snap.protocol,
        s.seed
    );
    outln!("timing: {}", s.network.timing.describe());
    outln!(
        "ran to {} ms: {} events in {:.3} s wall ({:.0}x real time, {:.2} M events/s)",
        snap.time_ms,
        snap.events,
        wall_s,
        sim_s / wall_s.max(1e-9),
        snap.events as f64 / wall_s.max(1e-9) / 1e6
    );
    outln!(
        "messages: sent {}, delivered {}, duplicated {}, in flight {}, dropped {} (loss {}, partition {}, cut {}, crashed {}, overflow {}, omission {}, gray {})",
        c.sent, c.delivered, c.duplicated, c.in_flight, d.total, d.loss, d.partition, d.cut, d.crashed, d.overflow, d.omission, d.gray
    );
    outln!(
        "nodes: {} up, {} crashed, {} paused",
        snap.nodes_up,
        snap.nodes_crashed,
        snap.nodes_paused
    );
    outln!("suspected at end: {}", suspected_at_end(sim));
    outln!(
        "faults applied: {}",
        s.faults.iter().filter(|f| f.at_ms <= snap.time_ms).count()
    );
    if snap.limits_hit > 0 {
        outln!("limits hit: {} (see overflow drops)", snap.limits_hit);
    }
    for note in sim.skipped_faults() {
        outln!("fault {note}");
    }
    for check in sim.checks() {
        outln!(
            "check {}: {} ({})",
            check.id,
            verdict(&check, snap.time_ms),
            check.detail
        );
    }
    for line in sim.check_summary() {
        outln!("{line}");
    }
}

/// Who is suspected when the run stops: each node with how many suspect it, or a count
/// when more than 20 are.
fn suspected_at_end(sim: &Simulation) -> String {
    let (engine, nodes) = (sim.engine(), sim.scenario().nodes);
    let suspected: Vec<String> = (0..nodes)
        .filter_map(|n| {
            let by = (0..nodes).filter(|&b| b != n && engine.suspects(b, n)).count();
            (by > 0).then(|| format!("n{n} by {by}"))
        })
        .collect();
    match suspected.len() {
        0 => "none".to_string(),
        1..=20 => suspected.join(", "),
        many => format!("{many} nodes"),
    }
}

/// A check's verdict in words, led by its kind: `safety: holds`, `liveness: pending
/// for 1200 ms, not guaranteed here`, `measure`.
fn verdict(check: &faultline::checks::CheckView, now_ms: f64) -> String {
    use faultline::checks::Property;
    match check.property {
        Property::Safety => match (check.violated_since_ms, check.first_violation_ms) {
            (Some(since), _) => format!("safety: VIOLATED since {since} ms"),
            (None, Some(first)) => format!("safety: held again, first violated at {first} ms"),
            (None, None) => "safety: holds".to_string(),
        },
        Property::Liveness => {
            let state = match (check.satisfied_since_ms, check.pending_since_ms) {
                (Some(since), _) => format!("satisfied since {since} ms"),
                (None, Some(since)) => format!("pending for {} ms", (now_ms - since).round()),
                (None, None) => "pending".to_string(),
            };
            let promise = if check.guaranteed { "" } else { ", not guaranteed here" };
            format!("liveness: {state}{promise}")
        }
        Property::Measure => "measure".to_string(),
    }
}

/// Wall-clock timing for the summary: the CLI boundary may read real time; the engine
/// never does.
struct WallClock(#[allow(clippy::disallowed_types)] std::time::Instant);

#[allow(clippy::disallowed_types, clippy::disallowed_methods)]
impl WallClock {
    fn start() -> WallClock {
        WallClock(std::time::Instant::now())
    }

    fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}
