//! The front end's module graph (`www/`, the embed element and `bench/`): no import cycle,
//! nobody imports the page's entry module (`www/app.js` only composes, exports nothing,
//! and importing it is what starts the page), and engine constants are not copied into
//! JavaScript (they come from the wasm module's `constants()` export).
//!
//! Imports are read from the source text: every `import … from '…'` and `import('…')`
//! with a relative path. A cycle is reported with its modules in order.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.js` file under `dir`, relative to the repository root.
fn js_files(dir: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "js") {
                out.push(path.strip_prefix(root()).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Joins `rel` onto `base`'s folder, folding `.` and `..`, dropping any `?query`.
fn resolve(base: &Path, rel: &str) -> PathBuf {
    let rel = rel.split('?').next().unwrap();
    let mut parts: Vec<Component> = base.parent().unwrap().components().collect();
    for c in Path::new(rel).components() {
        match c {
            Component::ParentDir => {
                parts.pop();
            }
            Component::CurDir => {}
            other => parts.push(other),
        }
    }
    parts.iter().collect()
}

/// The relative module paths a source imports (static and dynamic).
fn imports_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("//") || line.starts_with('*') {
            continue;
        }
        for marker in [" from '", "import('", "import '"] {
            let mut rest = line;
            while let Some(at) = rest.find(marker) {
                let after = &rest[at + marker.len()..];
                let end = after.find('\'').unwrap_or(after.len());
                let spec = &after[..end];
                if spec.starts_with('.') {
                    out.push(spec.to_string());
                }
                rest = &after[end..];
            }
        }
    }
    out
}

fn graph() -> BTreeMap<PathBuf, Vec<PathBuf>> {
    let mut graph = BTreeMap::new();
    for dir in ["www", "bench"] {
        for file in js_files(dir) {
            let text = fs::read_to_string(root().join(&file)).unwrap();
            let deps = imports_of(&text).iter().map(|spec| resolve(&file, spec)).collect();
            graph.insert(file, deps);
        }
    }
    graph
}

/// A cycle through `node` if there is one (depth-first, colours in `state`).
fn find_cycle(
    node: &Path,
    graph: &BTreeMap<PathBuf, Vec<PathBuf>>,
    state: &mut BTreeMap<PathBuf, u8>,
    path: &mut Vec<PathBuf>,
) -> Option<Vec<PathBuf>> {
    match state.get(node) {
        Some(2) => return None,
        Some(1) => {
            let start = path.iter().position(|p| p == node).unwrap();
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_path_buf());
            return Some(cycle);
        }
        _ => {}
    }
    state.insert(node.to_path_buf(), 1);
    path.push(node.to_path_buf());
    for dep in graph.get(node).map(Vec::as_slice).unwrap_or(&[]) {
        if let Some(cycle) = find_cycle(dep, graph, state, path) {
            return Some(cycle);
        }
    }
    path.pop();
    state.insert(node.to_path_buf(), 2);
    None
}

#[test]
fn the_front_end_has_no_import_cycle() {
    let graph = graph();
    assert!(graph.len() > 20, "expected the www/ modules, found {}", graph.len());
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if let Some(cycle) = find_cycle(node, &graph, &mut state, &mut Vec::new()) {
            let names: Vec<String> = cycle.iter().map(|p| p.display().to_string()).collect();
            panic!("import cycle in the front end: {}", names.join(" → "));
        }
    }
}

#[test]
fn every_import_names_an_existing_module() {
    for (file, deps) in graph() {
        for dep in deps {
            let exists = root().join(&dep).is_file() || dep.starts_with("pkg");
            assert!(
                exists,
                "{} imports {}, which does not exist",
                file.display(),
                dep.display()
            );
        }
    }
}

#[test]
fn nobody_imports_the_page_entry_and_it_exports_nothing() {
    let app = PathBuf::from("www/app.js");
    for (file, deps) in graph() {
        assert!(
            !deps.contains(&app),
            "{} imports www/app.js: pass what it needs in instead",
            file.display()
        );
    }
    let text = fs::read_to_string(root().join(&app)).unwrap();
    assert!(
        !text.lines().any(|l| l.starts_with("export ")),
        "www/app.js exports something; it only composes the page"
    );
}

#[test]
fn the_detector_finds_a_cycle_when_there_is_one() {
    let mut graph = BTreeMap::new();
    graph.insert(PathBuf::from("a.js"), vec![PathBuf::from("b.js")]);
    graph.insert(PathBuf::from("b.js"), vec![PathBuf::from("c.js")]);
    graph.insert(PathBuf::from("c.js"), vec![PathBuf::from("a.js")]);
    let cycle = find_cycle(Path::new("a.js"), &graph, &mut BTreeMap::new(), &mut Vec::new());
    assert_eq!(cycle.map(|c| c.len()), Some(4), "a → b → c → a");
    assert_eq!(
        imports_of("import { x } from '../a.js';\nconst m = await import('./b.js?instance=2');"),
        ["../a.js", "./b.js?instance=2"]
    );
    assert_eq!(resolve(Path::new("www/ui/x.js"), "../a.js"), PathBuf::from("www/a.js"));
}

#[test]
fn engine_codes_are_not_copied_into_javascript() {
    // Tables the engine owns; JavaScript reads them from `constants()` (www/constants.js).
    let copied = [
        "lockServer: 5",
        "selfCrashed: 64",
        "'overflow', 'omission'",
        "PAGE_MAX_NODES = ",
    ];
    for dir in ["www", "bench"] {
        for file in js_files(dir) {
            let text = fs::read_to_string(root().join(&file)).unwrap();
            for needle in copied {
                assert!(
                    !text.contains(needle),
                    "{} copies an engine table (`{needle}`)",
                    file.display()
                );
            }
        }
    }
}
