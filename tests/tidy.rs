//! Tidy: house rules checked as a test (after rust-analyzer's `tidy`). Every Rust module and
//! every front-end module starts with a doc comment saying what it owns; no test is
//! marked to be skipped, in Rust or in the browser tests (no `.skip`, `.only`, `.fixme`:
//! assert today's behaviour with a FIXME instead); the engine reaches for no wall clock,
//! hash-ordered collection or ambient randomness; engine functions stay within 70 lines,
//! with a ratchet for the longer ones of today that lets them only shrink.

use std::fs;
use std::path::{Path, PathBuf};

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_rust_module_starts_with_a_doc_comment() {
    for dir in ["src", "tests", "benches", "xtask/src"] {
        for path in files(dir, "rs") {
            let text = fs::read_to_string(&path).unwrap();
            assert!(
                text.starts_with("//!"),
                "{} does not start with a `//!` module doc",
                path.display()
            );
        }
    }
}

#[test]
fn every_front_end_module_starts_with_a_comment() {
    for path in files("www", "js") {
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("// "),
            "{} does not start with a comment saying what it owns",
            path.display()
        );
    }
}

#[test]
fn no_test_is_ignored() {
    let marker = ["#[", "ignore"].concat();
    for dir in ["src", "tests", "xtask/src"] {
        for path in files(dir, "rs") {
            let text = fs::read_to_string(&path).unwrap();
            assert!(!text.contains(&marker), "{} ignores a test", path.display());
        }
    }
}

#[test]
fn the_engine_uses_no_wall_clock_hash_order_or_ambient_randomness() {
    let banned = [
        "HashMap",
        "HashSet",
        "Instant",
        "SystemTime",
        "thread_rng",
        "SmallRng",
        "StdRng",
        "Date.now",
        "Math.random",
    ];
    for path in files("src", "rs") {
        if path.ends_with("main.rs") {
            continue; // the CLI boundary may time itself
        }
        let text = fs::read_to_string(&path).unwrap();
        for word in banned {
            assert!(!text.contains(word), "{} mentions `{word}`", path.display());
        }
    }
}

#[test]
fn no_browser_test_is_skipped_focused_or_marked_to_fix() {
    // `test.skip(…)`, `test.describe.only(…)`, `test.fixme(…)`, conditional or not: a test
    // that cannot run in CI must say why in an assertion, not vanish from the report.
    for path in files("tests/e2e", "js") {
        let text = fs::read_to_string(&path).unwrap();
        for (number, line) in text.lines().enumerate() {
            for marker in [".skip(", ".only(", ".fixme("] {
                assert!(
                    !line.contains(marker),
                    "{}:{}: `{marker}` skips or focuses tests: {}",
                    path.display(),
                    number + 1,
                    line.trim()
                );
            }
        }
    }
}

/// Functions of the engine (src/, outside `#[cfg(test)]` modules) may be at most this long,
/// counting from the `fn` line to the closing brace.
const FUNCTION_LINES_MAX: usize = 70;

/// The ratchet (as TigerBeetle's tidy keeps one): today's longer functions, as (file under
/// src/, name, lines). An entry may only shrink — lower its number when the function does —
/// or go when the function drops to the limit; a new long function, or one that grew, fails.
const LONG_FUNCTIONS: &[(&str, &str, usize)] = &[
    ("engine/columns.rs", "fill_columns", 94),
    ("protocol/raft.rs", "server_message", 101),
    ("protocol/raft.rs", "view", 113),
    ("protocol/raft_checks.rs", "observe", 94),
    ("protocol/raft_checks.rs", "report", 78),
    ("protocol/service.rs", "config", 169),
    ("protocol/swim.rs", "boot", 71),
    ("protocol/swim.rs", "view", 75),
];

/// Every function in `text` with a body, as (name, lines), skipping `#[cfg(test)]` modules.
/// Relies on rustfmt's layout: a body closes with `}` at the indentation of its `fn` line.
fn function_lengths(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    let closing = |from: usize, at: usize| {
        (from + 1..lines.len()).find(|&i| indent(lines[i]) == at && lines[i].trim_start().starts_with('}'))
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim() == "#[cfg(test)]" && lines.get(i + 1).is_some_and(|l| l.trim_start().starts_with("mod ")) {
            i = closing(i + 1, indent(lines[i + 1])).unwrap_or(lines.len());
            continue;
        }
        if let Some(name) = function_name(line) {
            // The signature ends at `{` (a body follows), `;` (none) or `}` (a body on the
            // same line, `fn f() {}`).
            let ends = |j: &usize| lines[*j].trim_end().ends_with(['{', ';', '}']);
            match (i..lines.len()).find(ends).map(|j| (j, lines[j].trim_end())) {
                Some((j, last)) if last.ends_with('}') => out.push((name, j - i + 1)),
                Some((_, last)) if last.ends_with('{') => {
                    if let Some(end) = closing(i, indent(line)) {
                        out.push((name, end - i + 1));
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    out
}

/// The name of the function a line declares, if it does.
fn function_name(line: &str) -> Option<String> {
    let mut rest = line.trim_start();
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
        "extern \"C\" ",
    ] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some(rest[..end].to_string())
}

#[test]
fn engine_functions_stay_short_and_long_ones_only_shrink() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    for path in files("src", "rs") {
        let file = path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let text = fs::read_to_string(&path).unwrap();
        for (name, lines) in function_lengths(&text) {
            if lines > FUNCTION_LINES_MAX {
                long.push((file.clone(), name, lines));
            }
        }
    }
    let mut problems = Vec::new();
    for (file, name, lines) in &long {
        match LONG_FUNCTIONS.iter().find(|(f, n, _)| f == file && n == name) {
            None => problems.push(format!(
                "src/{file}: fn {name} is {lines} lines (at most {FUNCTION_LINES_MAX}): split it"
            )),
            Some((_, _, allowed)) if lines > allowed => problems.push(format!(
                "src/{file}: fn {name} grew to {lines} lines (allowed {allowed}, at most {FUNCTION_LINES_MAX} for new code): shorten it"
            )),
            Some((_, _, allowed)) if lines < allowed => problems.push(format!(
                "src/{file}: fn {name} shrank to {lines} lines: lower its LONG_FUNCTIONS entry from {allowed} to {lines} in tests/tidy.rs"
            )),
            Some(_) => {}
        }
    }
    for (file, name, _) in LONG_FUNCTIONS {
        if !long.iter().any(|(f, n, _)| f == file && n == name) {
            problems.push(format!(
                "src/{file}: fn {name} is gone or at most {FUNCTION_LINES_MAX} lines: remove its LONG_FUNCTIONS entry in tests/tidy.rs"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
