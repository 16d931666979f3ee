//! `faultline check HISTORY`: is a history of client operations linearizable? Reads the
//! JSON-lines format of `faultline run --history` or a Jepsen log of a single register
//! (`faultline::history`), and prints the verdict with the operations that cannot be
//! ordered. Any verdict exits 0; only unreadable input is an error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use faultline::history::{self, interval_words, op_words, History, Verdict};

pub const USAGE: &str = "\
    faultline check HISTORY [OPTIONS]              is a client history linearizable?

OPTIONS (check):
    --budget N         search steps to spend at most (default 2000000); past it the
                       verdict is `unknown (budget exhausted after N states)`
    --time-ms N        wall-clock milliseconds to search at most (default 10000); past
                       them the verdict is unknown too
    --format F         json (faultline run --history) or jepsen (a Jepsen log of one
                       register); default: json if the first line starts with `{`
";

/// The default search budget, in steps (about a second of work, a few hundred MB at most).
pub const DEFAULT_BUDGET: u64 = 2_000_000;
/// The default wall-clock budget, in ms.
pub const DEFAULT_TIME_MS: u64 = 10_000;
/// How many operations of the longest linearized prefix are printed (its last ones).
const PREFIX_SHOWN_MAX: usize = 12;

struct CheckArgs {
    path: String,
    budget: u64,
    time_ms: u64,
    format: Option<String>,
}

fn parse(args: &[String]) -> Result<CheckArgs, String> {
    let (mut path, mut budget, mut format, mut time_ms) = (None, DEFAULT_BUDGET, None, DEFAULT_TIME_MS);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--budget" => {
                let text = value()?;
                budget = (text.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--budget: `{text}` is not a positive whole number"))?;
            }
            "--time-ms" => {
                let text = value()?;
                time_ms = (text.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--time-ms: `{text}` is not a positive whole number"))?;
            }
            "--format" => match value()?.as_str() {
                f @ ("json" | "jepsen") => format = Some(f.to_string()),
                other => return Err(format!("--format: `{other}` is neither json nor jepsen")),
            },
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`\n\n{USAGE}")),
            text if path.is_none() => path = Some(text.to_string()),
            extra => return Err(format!("unexpected argument `{extra}`")),
        }
    }
    let path = path.ok_or_else(|| format!("give a history file\n\n{USAGE}"))?;
    Ok(CheckArgs {
        path,
        budget,
        time_ms,
        format,
    })
}

/// Reads a history in the given format, or the one its first line shows.
pub fn read(path: &str, format: Option<&str>) -> Result<History, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let json = match format {
        Some(f) => f == "json",
        None => text
            .lines()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.trim_start().starts_with('{')),
    };
    let parsed = if json {
        history::json::parse(&text)
    } else {
        history::jepsen::parse(&text)
    };
    parsed.map_err(|e| format!("{path}: {e}"))
}

pub fn main(args: &[String]) -> Result<(), String> {
    let args = parse(args)?;
    let history = read(&args.path, args.format.as_deref())?;
    // A timer thread raises the flag; the search polls it (the checker has no clock).
    let stop: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let time = Duration::from_millis(args.time_ms);
    std::thread::spawn(move || {
        std::thread::sleep(time);
        stop.store(true, Ordering::Relaxed);
    });
    let verdict = history::check_until(&history, args.budget, stop);
    let mut out = report(&history, verdict);
    if stop.load(Ordering::Relaxed) && out.starts_with("unknown") {
        out += &format!("the time budget ran out ({} ms; --time-ms)\n", args.time_ms);
    }
    out!("{out}");
    Ok(())
}

/// The verdict as printed: `linearizable`, `not linearizable` or `unknown (…)` on the
/// first line, then the details.
fn report(history: &History, verdict: Verdict) -> String {
    let keys = history.keys().len();
    let about = format!("{} operations on {keys} key(s)", history.ops.len());
    match verdict {
        Verdict::Linearizable { states } => format!("linearizable\n{about}, {states} states explored\n"),
        Verdict::Unknown { states } => format!("unknown (budget exhausted after {states} states)\n{about}\n"),
        Verdict::NotLinearizable(c) => {
            let mut out = format!("not linearizable\n{}\n", c.explanation);
            out += &format!("operations that cannot be ordered (key {}):\n", c.key);
            for o in &c.ops {
                out += &format!("  {} {}\n", op_words(o), interval_words(o));
            }
            let shown = c.linearized.len().min(PREFIX_SHOWN_MAX);
            out += &format!(
                "longest linearized prefix: {} operations{}\n",
                c.linearized.len(),
                if shown < c.linearized.len() {
                    format!(", the last {shown}:")
                } else {
                    ":".into()
                }
            );
            for o in &c.linearized[c.linearized.len() - shown..] {
                out += &format!("  {} {}\n", op_words(o), interval_words(o));
            }
            out + &format!("{about}, {} states explored\n", c.states)
        }
    }
}
