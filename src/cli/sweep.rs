//! `faultline sweep` and `faultline sweep merge`: a scenario over a range of seeds on every
//! core, optionally one shard of it, with a summary, failing seeds as links, and one JSON
//! line per seed in `--out`; and merging shards' outputs into the same summary.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::Mutex;

use faultline::explore::{parallel, summary, Plan, SeedRange, Shard};
use faultline::time::{parse_duration, Micros, US_PER_S};

use super::progress::Progress;
use crate::{load, Source};

pub const USAGE: &str = "\
    faultline sweep SCENARIO.json|--preset NAME|--scenario-url LINK --seeds A..B [OPTIONS]
                                                  run the scenario once per seed, on every core
    faultline sweep merge FILE…                   combine the --out files of a sharded sweep

OPTIONS (sweep):
    --seeds A..B       seeds A up to B − 1 (default 0..100)
    --until DURATION   simulated time per seed (default 30s)
    --swarm            each seed also draws its faults and the knobs the scenario's `vary`
                       marks (without `vary`: faults of every kind on every node)
    --liveness DURATION  how long after the faults heal the run may take to converge
                       (default 5s)
    --check ID         count only this checker (repeat for several; default: all)
    --shard K/N        run only the K-th of N equal slices of the seeds (1 ≤ K ≤ N)
    --out FILE         write a header line, then one JSON line per seed
    --threads N        threads to use (default: every core; or RAYON_NUM_THREADS)
";

struct SweepArgs {
    source: Source,
    seeds: SeedRange,
    until_us: Micros,
    swarm: bool,
    liveness_us: Micros,
    checks: Vec<String>,
    shard: Option<Shard>,
    out: Option<String>,
    threads: Option<usize>,
}

pub fn main(args: &[String]) -> Result<(), String> {
    if args.first().map(String::as_str) == Some("merge") {
        return merge(&args[1..]);
    }
    let args = parse(args)?;
    let (scenario, _) = load(&args.source)?;
    let plan = Plan::new(scenario, args.until_us, args.swarm, args.liveness_us, &args.checks).map_err(|e| {
        match e.field.as_str() {
            "check" | "until" => format!("--{e}"),
            _ => e.to_string(),
        }
    })?;
    let range = match args.shard {
        Some(shard) => match args.seeds.shard(shard) {
            Some(slice) => slice,
            None => return Err(format!("shard {shard} of {} holds no seeds", args.seeds)),
        },
        None => args.seeds,
    };
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| format!("--threads: {e}"))?;
    }
    let header = plan.header(args.seeds, args.shard);
    let out = match &args.out {
        Some(path) => {
            let file = File::create(path).map_err(|e| format!("cannot create {path}: {e}"))?;
            let mut w = BufWriter::new(file);
            writeln!(w, "{}", summary::header_line(&header)).map_err(|e| format!("writing {path}: {e}"))?;
            Some(Mutex::new((w, None::<String>)))
        }
        None => None,
    };
    let progress = Progress::new(range.len(), "seeds");
    let result = parallel::sweep(&plan, &header, range, |outcome| {
        progress.tick(outcome.failed());
        if let Some(out) = &out {
            let mut guard = out.lock().expect("a writer thread panicked");
            let (w, error) = &mut *guard;
            if let Err(e) = writeln!(w, "{}", outcome.to_json_line()) {
                error.get_or_insert(e.to_string());
            }
        }
    });
    progress.finish();
    let wall_s = progress.seconds().max(1e-9);
    if let (Some(out), Some(path)) = (out, &args.out) {
        let (mut w, error) = out.into_inner().expect("a writer thread panicked");
        if let Some(e) = error.or_else(|| w.flush().err().map(|e| e.to_string())) {
            return Err(format!("writing {path}: {e}"));
        }
    }
    if let Some(shard) = args.shard {
        outln!("shard {shard}: seeds {range} of {}", args.seeds);
    }
    out!("{}", result.render());
    outln!(
        "speed: {:.1} s wall on {} threads: {:.0} seeds/s, {:.2} M events/s",
        wall_s,
        rayon::current_num_threads(),
        result.seeds as f64 / wall_s,
        result.events as f64 / wall_s / 1e6
    );
    Ok(())
}

fn parse(args: &[String]) -> Result<SweepArgs, String> {
    let mut a = SweepArgs {
        source: Source::Preset(String::new()),
        seeds: SeedRange { start: 0, end: 100 },
        until_us: 30 * US_PER_S,
        swarm: false,
        liveness_us: 5 * US_PER_S,
        checks: Vec::new(),
        shard: None,
        out: None,
        threads: None,
    };
    let mut source = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        let duration = |text: String| parse_duration(&text).map_err(|e| format!("{arg}: {}", e.problem));
        match arg.as_str() {
            "--seeds" => a.seeds = SeedRange::parse(&value()?).map_err(|e| format!("--{e}"))?,
            "--until" => a.until_us = duration(value()?)?,
            "--liveness" => a.liveness_us = duration(value()?)?,
            "--swarm" => a.swarm = true,
            "--check" => a.checks.push(value()?),
            "--shard" => a.shard = Some(Shard::parse(&value()?).map_err(|e| format!("--{e}"))?),
            "--out" => a.out = Some(value()?),
            "--threads" => {
                let text = value()?;
                let n = text.parse().ok().filter(|&n| n > 0);
                a.threads = Some(n.ok_or_else(|| format!("--threads: `{text}` is not a positive whole number"))?);
            }
            "--preset" => source = Some(Source::Preset(value()?)),
            "--scenario-url" => source = Some(Source::Link(value()?)),
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`\n\n{}", crate::USAGE)),
            path if source.is_none() => source = Some(Source::File(path.to_string())),
            extra => return Err(format!("unexpected argument `{extra}`")),
        }
    }
    a.source = source.ok_or("give a scenario file, --preset NAME or --scenario-url LINK")?;
    Ok(a)
}

/// `faultline sweep merge FILE…`: the summary of the whole sweep from its shards.
fn merge(files: &[String]) -> Result<(), String> {
    if files.is_empty() {
        return Err("sweep merge: give the --out files of the shards".to_string());
    }
    let mut shards = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        shards.push(summary::read_lines(&text, path).map_err(|e| e.to_string())?);
    }
    let (result, missing) = summary::merge(shards).map_err(|e| e.to_string())?;
    out!("{}", result.render());
    if missing > 0 {
        outln!(
            "incomplete: {missing} seeds of {} are in none of the files (a shard missing?)",
            result.header.seeds
        );
    }
    Ok(())
}
