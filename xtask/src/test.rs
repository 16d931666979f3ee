//! `cargo xtask test`: every check and test, in order, stopping at the first failure.
//!
//! "If `cargo xtask test` passes locally, CI is green too": `.ci/run` calls exactly this.

use crate::{e2e, sh, wasm};

pub struct Options {
    browser: bool,
}

impl Options {
    /// Reads `[--no-browser]`.
    pub fn parse(args: &[String]) -> sh::Result<Options> {
        let mut options = Options { browser: true };
        for arg in args {
            match arg.as_str() {
                "--no-browser" => options.browser = false,
                other => return Err(format!("test: unknown option `{other}`")),
            }
        }
        Ok(options)
    }
}

type Step = (&'static str, fn() -> sh::Result);

/// Runs the steps, announcing each, and ends with a count and the total time.
pub fn run(options: Options) -> sh::Result {
    let total = sh::Stopwatch::start();
    let steps = steps(&options);
    for (index, (name, step)) in steps.iter().enumerate() {
        println!("\n==> [{}/{}] {name}", index + 1, steps.len());
        let watch = sh::Stopwatch::start();
        if let Err(message) = step() {
            println!("\n==> FAILED: {name} (after {})", watch.elapsed());
            println!("total time: {}", total.elapsed());
            println!("steps: {index} passed, 1 failed");
            return Err(message);
        }
        println!("==> ok: {name} ({})", watch.elapsed());
    }
    if !options.browser {
        println!("\n==> skipped: browser end-to-end tests (--no-browser)");
    }
    println!("\ntotal time: {}", total.elapsed());
    // Last, as a plain `N passed, N failed` line that log readers recognise.
    println!("steps: {} passed, 0 failed", steps.len());
    Ok(())
}

fn steps(options: &Options) -> Vec<Step> {
    let mut steps: Vec<Step> = vec![
        ("formatting (cargo fmt --check)", fmt),
        ("lints (cargo clippy -D warnings)", clippy),
        ("Rust tests (cargo test --workspace --release)", cargo_test),
        ("wasm build (cargo xtask build)", wasm::build),
        (
            "lints for the wasm boundary (cargo clippy --target wasm32)",
            wasm::clippy,
        ),
    ];
    if options.browser {
        steps.push(("browser end-to-end tests (Playwright in Chromium)", e2e::run));
    }
    steps
}

fn fmt() -> sh::Result {
    ensure_component("fmt", "rustfmt")?;
    sh::run(sh::cargo().args(["fmt", "--all", "--", "--check"]))
}

fn clippy() -> sh::Result {
    ensure_component("clippy", "clippy")?;
    sh::run(sh::cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))
}

/// Release, because the property tests sweep many seeds.
fn cargo_test() -> sh::Result {
    sh::run(sh::cargo().args(["test", "--workspace", "--release"]))
}

/// Adds a rustup component when its cargo subcommand is missing.
fn ensure_component(subcommand: &str, component: &str) -> sh::Result {
    if sh::succeeds(sh::cargo().args([subcommand, "--version"])) {
        return Ok(());
    }
    sh::run(sh::command("rustup").args(["component", "add", component]))
}
