//! `cargo xtask`: Faultline's automation, in Rust instead of shell scripts.
//!
//! Each task is one small function in its own module; this file only reads the command
//! line and dispatches. Run `cargo xtask help` for the list.

mod dist;
mod e2e;
mod engines;
mod fuzz;
mod http;
mod serve;
mod sh;
mod size;
mod soak;
mod test;
mod wasm;

use std::process::ExitCode;

const USAGE: &str = "\
Faultline automation. Usage: cargo xtask TASK [OPTIONS]

TASKS:
    build                      build the wasm module and its JS glue into pkg/
    serve [--port N] [--no-build] [--dir DIR]
                               build, then serve the playground on 127.0.0.1
                               (default port 8000, or the next free one;
                               --dir dist serves the output of `dist`)
    dist [--no-build] [--out DIR] [--keep-engines DIR]
                               build, then write a static site to dist/ (or DIR):
                               content-hashed engine files and pkg/manifest.json;
                               keeps the engines of earlier epochs listed in the
                               previous dist/pkg/ (or --keep-engines DIR)
    bench                      run the engine benchmarks (cargo bench -p faultline)
    size [--top N]             what the wasm module is made of: code bytes by origin
                               (the world per protocol, serde, protocols, core, …),
                               data bytes, and the N largest functions (default 25)
    test [--no-browser]        run every check and test: fmt, clippy, cargo test,
                               the wasm build and the browser end-to-end tests
    fuzz [--inputs N] [--seed S]
                               fuzz the wasm boundary's functions with N inputs
                               (default 10 000 000) and report every panic
    soak [--short]             memory soaks with time travel on: 1 000 nodes for
                               60 simulated s, 5 nodes for 24 simulated h
    help                       print this message
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the task named by the first argument with the remaining arguments.
fn dispatch(args: &[String]) -> sh::Result {
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    match task {
        "build" => no_options(task, rest).and_then(|()| wasm::build()),
        "serve" => serve::Options::parse(rest).and_then(serve::run),
        "dist" => dist::Options::parse(rest).and_then(dist::run),
        "bench" => no_options(task, rest).and_then(|()| bench()),
        "test" => test::Options::parse(rest).and_then(test::run),
        "fuzz" => fuzz::run(rest),
        "soak" => soak::run(rest),
        "size" => size::run(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n\n{USAGE}")),
    }
}

/// Refuses arguments for a task that takes none, so a typo is not silently ignored.
fn no_options(task: &str, rest: &[String]) -> sh::Result {
    match rest.first() {
        None => Ok(()),
        Some(arg) => Err(format!("`{task}` takes no options, got `{arg}`\n\n{USAGE}")),
    }
}

/// Runs the engine benchmarks (`benches/`), which belong to the faultline crate.
fn bench() -> sh::Result {
    sh::run(sh::cargo().args(["bench", "-p", "faultline"]))
}
