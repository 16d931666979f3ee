//! The long fuzz run: `cargo xtask fuzz --inputs 10000000 [--seed S]` (or
//! `cargo run --release --example fuzz -- --inputs N --seed S`). Prints progress, every
//! crash with the seed that replays it, and a last line `N inputs, K crashes`.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // wall time is reported, never simulated

#[path = "../tests/support/fuzz.rs"]
mod driver;
#[path = "../tests/support/faults.rs"]
mod faults;

use std::process::ExitCode;
use std::time::Instant;

fn arg(args: &[String], name: &str, default: u64) -> Result<u64, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => (args.get(i + 1))
            .and_then(|v| v.replace('_', "").parse().ok())
            .ok_or_else(|| format!("{name} needs a whole number")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = arg(&args, "--inputs", 100_000).and_then(|n| Ok((n, arg(&args, "--seed", 1 << 32)?)));
    let (inputs, seed) = match parsed {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let (ran, crashes) = driver::run(seed, inputs, |done, found| {
        if done % 100_000 == 0 {
            let rate = done as f64 / start.elapsed().as_secs_f64();
            println!("{done} inputs, {found} crashes, {rate:.0} inputs/s");
        }
    });
    for c in &crashes {
        println!("crash: seed {} — {}", c.seed, c.message);
    }
    println!(
        "{ran} inputs from seed {seed}, {} crashes, in {:.0} s",
        crashes.len(),
        start.elapsed().as_secs_f64()
    );
    if crashes.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
