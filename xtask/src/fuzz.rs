//! `cargo xtask fuzz [--inputs N] [--seed S]`: the long fuzz run of the wasm boundary's
//! functions (`examples/fuzz.rs`, driver in `tests/support/fuzz.rs`), in release. CI runs a
//! short budget of the same driver as `tests/fuzz.rs`.

use crate::sh;

/// Passes `--inputs N` and `--seed S` through to the example, after checking them.
pub fn run(args: &[String]) -> sh::Result {
    let mut pass = vec!["--inputs".to_string(), "10000000".to_string()];
    let mut rest = args.iter();
    while let Some(name) = rest.next() {
        let slot = match name.as_str() {
            "--inputs" => 1,
            "--seed" => {
                pass.extend(["--seed".to_string(), String::new()]);
                3
            }
            other => return Err(format!("fuzz: unknown option `{other}` (--inputs N, --seed S)")),
        };
        let value = rest.next().filter(|v| v.replace('_', "").parse::<u64>().is_ok());
        pass[slot] = value.ok_or(format!("fuzz: `{name}` needs a whole number"))?.clone();
    }
    let example = ["run", "--release", "-p", "faultline", "--example", "fuzz", "--"];
    sh::run(sh::cargo().args(example).args(pass))
}
