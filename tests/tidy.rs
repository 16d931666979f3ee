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

/// Tests read numbers from structured output (`NodeView::number`, a check's fields, the
/// summary's figures), never by parsing display text back: a reworded fact must not turn
/// into a test that reads the wrong number. The one thing tests parse is an environment
/// variable (a seed or a count), within a few lines of reading it.
#[test]
fn tests_parse_no_display_text() {
    let parse = [".", "parse"].concat();
    for path in files("tests", "rs") {
        if path.ends_with("tidy.rs") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.contains(&parse) {
                continue;
            }
            let near = &lines[i.saturating_sub(3)..=i];
            assert!(
                near.iter().any(|l| l.contains("env::var")),
                "{}:{} parses text that is not an environment variable: {}",
                path.display(),
                i + 1,
                line.trim()
            );
        }
    }
}

/// `ARCHITECTURE.md` is the code map: it names every source file, by its path (`www/ui/x.js`,
/// `protocol/workload.rs`) or by its folder (`cli/`) and its file name (`sweep.rs`; a
/// folder's `mod.rs` by the folder alone), and every path it names exists.
#[test]
fn the_code_map_names_every_file_and_only_files_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let named = |rel: &str, prefix: &str| {
        let (dir, file) = rel.rsplit_once('/').map_or(("", rel), |(d, f)| (d, f));
        map.contains(rel)
            || (!dir.is_empty()
                && map.contains(&format!("{prefix}{dir}/"))
                && (file == "mod.rs" || map.contains(&format!("`{file}`"))))
    };
    for (dir, ext, prefix) in [("src", "rs", ""), ("www", "js", "www/")] {
        for path in files(dir, ext) {
            let rel = path
                .strip_prefix(root.join(dir))
                .unwrap()
                .to_string_lossy()
                .trim_start_matches('/')
                .to_string();
            assert!(
                named(&format!("{prefix}{rel}"), "") || named(&rel, prefix),
                "ARCHITECTURE.md does not name {}",
                path.display()
            );
        }
    }
    for word in map.split('`').skip(1).step_by(2) {
        let is_path = word.starts_with("www/") && word.ends_with(".js") && !word.contains(' ');
        if is_path {
            assert!(
                Path::new(word).exists(),
                "ARCHITECTURE.md names {word}, which does not exist"
            );
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

#[path = "layers/mod.rs"]
mod layers;

/// The layer order of `ARCHITECTURE.md`, lowest first. A unit (a module; one protocol's
/// folder; the engine's folder) may import only from its own layer or lower ones, and every
/// unit must be listed, so a new module takes a place in the order on purpose.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "vocabulary",
        &[
            "error",
            "limits",
            "time",
            "rng",
            "vocab",
            "latency",
            "timing",
            "epoch",
            "budget",
            "history",
            "history::*",
            "json_tree",
        ],
    ),
    (
        "machine and protocol contract",
        &[
            "network",
            "node",
            "fault",
            "action",
            "trace",
            "protocol",
            "protocol::timers",
            "protocol::workload",
        ],
    ),
    ("beside the protocols", &["view", "byzantine", "checks", "inspect"]),
    ("protocols", &["protocol::*"]),
    ("engine", &["engine"]),
    ("registry", &["registry"]),
    (
        "runs",
        &[
            "scenario",
            "schedule",
            "checkpoints",
            "sim",
            "sweep",
            "presets",
            "share",
            "compare",
            "explore",
            "explore::*",
            "exercise",
            "exercise::*",
        ],
    ),
    ("boundary", &["wasm", "", "cli", "cli::*"]),
];

/// The vocabulary the protocol contract and a protocol's state machine may import; they
/// may also import the contract (`protocol` and `CONTRACT`) and files of their own folder
/// (`is_pure`).
const PURE_VOCABULARY: &[&str] = &["error", "limits", "time", "rng", "vocab", "latency", "budget"];

fn is_pure(unit: &str) -> bool {
    PURE_VOCABULARY.contains(&unit) || unit == "protocol" || CONTRACT.contains(&unit)
}

/// Files under `src/protocol/` that belong to the contract, not to one protocol: every
/// protocol may use them.
const CONTRACT: &[&str] = &["protocol::timers", "protocol::workload"];

/// A protocol folder's files that implement the traits beside the protocol; every other
/// file in the folder is the state machine.
const ADAPTERS: &[&str] = &["view.rs", "byzantine.rs", "checks.rs"];

fn layer_of(unit: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, units)| {
        units
            .iter()
            .any(|u| *u == unit || (u.ends_with("::*") && unit.starts_with(&u[..u.len() - 1])))
    })
}

#[test]
fn rust_modules_form_one_way_layers_without_cycles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = layers::read(root, &files("src", "rs"));
    assert!(sources.len() > 30, "read only {} files", sources.len());
    let graph = layers::graph(&sources);
    if let Some(cycle) = layers::find_cycle(&graph) {
        panic!("import cycle among modules: {}", cycle.join(" → "));
    }
    for s in &sources {
        let from = layer_of(&s.unit).unwrap_or_else(|| panic!("{}: unit `{}` has no layer in LAYERS", s.file, s.unit));
        for m in &s.imports {
            let to_unit = layers::unit_of(m);
            let to = layer_of(&to_unit).unwrap_or_else(|| panic!("`{m}` has no layer in LAYERS"));
            assert!(
                to <= from,
                "{} ({}) imports `{m}` ({}): layers point one way",
                s.file,
                LAYERS[from].0,
                LAYERS[to].0
            );
            let is_protocol = |u: &str| u.starts_with("protocol::") && !CONTRACT.contains(&u);
            assert!(
                !(is_protocol(&s.unit) && is_protocol(&to_unit) && to_unit != s.unit),
                "{} imports `{m}`: one protocol does not reach into another",
                s.file
            );
        }
        let in_protocol_folder = s.unit.starts_with("protocol::") && !CONTRACT.contains(&s.unit.as_str());
        let adapter = ADAPTERS.iter().any(|a| s.file.ends_with(a));
        let contract = s.unit == "protocol" || CONTRACT.contains(&s.unit.as_str());
        if contract || (in_protocol_folder && !adapter) {
            for m in &s.imports {
                assert!(
                    is_pure(m) || layers::unit_of(m) == s.unit,
                    "{} imports `{m}`: a protocol's state machine knows only the vocabulary and \
                     the `Protocol` contract (rendering, checkers and Byzantine rewrites go in {ADAPTERS:?})",
                    s.file
                );
            }
            for adapter in ["view::", "checks::", "byzantine::"] {
                assert!(
                    !s.code.contains(adapter),
                    "{} names `{adapter}`: the state machine does not reach its own adapters",
                    s.file
                );
            }
        }
    }
}

#[test]
fn only_the_boundary_knows_wasm_and_the_core_knows_no_json_text() {
    for path in files("src", "rs") {
        let text = fs::read_to_string(&path).unwrap();
        let name = path.display().to_string();
        if !name.ends_with("wasm.rs") {
            for word in ["wasm_bindgen", "js_sys", "web_sys", "serde_wasm_bindgen"] {
                assert!(!text.contains(word), "{name} mentions `{word}`: only src/wasm.rs may");
            }
        }
        let core = [
            "src/engine/",
            "src/protocol/",
            "src/node.rs",
            "src/network.rs",
            "src/view.rs",
            "src/checks.rs",
        ];
        if core.iter().any(|c| name.contains(c)) {
            assert!(
                !text.contains("serde_json"),
                "{name} reads or writes JSON text: the engine does not"
            );
        }
    }
    for path in files("www", "js") {
        let text = fs::read_to_string(&path).unwrap();
        if text.contains("pkg/faultline") {
            assert!(
                path.ends_with("www/sim.js"),
                "{} loads the wasm module: only www/sim.js may",
                path.display()
            );
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
    ("protocol/raft/mod.rs", "server_message", 85),
    ("protocol/raft/checks.rs", "observe", 80),
    ("protocol/service/mod.rs", "config", 161),
    ("protocol/swim/mod.rs", "boot", 71),
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
