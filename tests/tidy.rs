//! Tidy: house rules checked as a test (after rust-analyzer's `tidy`). Every Rust module and
//! every front-end module starts with a doc comment saying what it owns; no test is
//! marked to be skipped (assert today's behaviour with a FIXME instead); the engine reaches
//! for no wall clock, hash-ordered collection or ambient randomness.

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

#[path = "layers/mod.rs"]
mod layers;

/// The layer order of `ARCHITECTURE.md`, lowest first. A unit (a module; one protocol's
/// folder; the engine's folder) may import only from its own layer or lower ones, and every
/// unit must be listed, so a new module takes a place in the order on purpose.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "vocabulary",
        &["error", "limits", "time", "rng", "vocab", "latency", "epoch", "budget"],
    ),
    (
        "machine and protocol contract",
        &["network", "node", "fault", "action", "trace", "protocol"],
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
        ],
    ),
    ("boundary", &["wasm", ""]),
];

/// What the protocol contract and a protocol's state machine may import: the vocabulary
/// (and the contract itself, and files of its own folder).
const PURE: &[&str] = &[
    "error", "limits", "time", "rng", "vocab", "latency", "budget", "protocol",
];

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
            let is_protocol = |u: &str| u.starts_with("protocol::");
            assert!(
                !(is_protocol(&s.unit) && is_protocol(&to_unit) && to_unit != s.unit),
                "{} imports `{m}`: one protocol does not reach into another",
                s.file
            );
        }
        let in_protocol_folder = s.unit.starts_with("protocol::");
        let adapter = ADAPTERS.iter().any(|a| s.file.ends_with(a));
        if s.unit == "protocol" || (in_protocol_folder && !adapter) {
            for m in &s.imports {
                assert!(
                    PURE.contains(&m.as_str()) || layers::unit_of(m) == s.unit,
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
