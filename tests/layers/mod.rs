//! The crate's module graph, read from the source: which module each `src/` file is, and
//! which modules its code names through `crate::…` paths (in `use` lines and inline). Used
//! by `tidy.rs` to hold the layer order of `ARCHITECTURE.md`.
//!
//! Units: a module is its own unit, except that everything under `src/engine/` is the
//! unit `engine` and everything under one protocol's folder `src/protocol/NAME/` is the
//! unit `protocol::NAME` (a protocol's files may use one another freely). Test modules
//! (from the first `#[cfg(test)]` on) and comments are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// One `src/` file: its module path, its unit, and the modules its code names.
pub struct Source {
    pub file: String,
    pub module: String,
    pub unit: String,
    /// The code, without comments or test modules.
    pub code: String,
    /// Every module named by a `crate::` path, resolved to the longest known module.
    pub imports: BTreeSet<String>,
}

/// `src/a/b.rs` → `a::b`; `src/a/mod.rs` → `a`; `src/lib.rs` → `` (the crate root).
fn module_of(rel: &Path) -> String {
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts.join("::")
}

pub fn unit_of(module: &str) -> String {
    let parts: Vec<&str> = module.split("::").collect();
    match parts.as_slice() {
        ["engine", ..] => "engine".to_string(),
        ["protocol", name, ..] => format!("protocol::{name}"),
        _ => module.to_string(),
    }
}

/// The code of a file without comments and without its test module.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let code = match line.find(" //") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path written after `crate::` (a `crate::{a, b::c}` group gives each member).
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| is_ident(c) || c == '$') {
            continue; // `$crate::` in a macro names the crate root's items through paths below
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let path: String = item.trim().chars().take_while(|&c| is_ident(c) || c == ':').collect();
                if !path.is_empty() {
                    out.push(path);
                }
            }
        } else {
            out.push(rest.chars().take_while(|&c| is_ident(c) || c == ':').collect());
        }
    }
    out
}

/// Reads every file under `src/` (the binary's `main.rs` names the library as
/// `faultline::`, so it has no `crate::` paths to read).
pub fn read(root: &Path, files: &[std::path::PathBuf]) -> Vec<Source> {
    let src = root.join("src");
    let mut sources: Vec<Source> = files
        .iter()
        .filter(|p| !p.ends_with("main.rs"))
        .map(|path| {
            let module = module_of(path.strip_prefix(&src).unwrap());
            Source {
                file: path.strip_prefix(root).unwrap().display().to_string(),
                unit: unit_of(&module),
                module,
                code: code_of(&fs::read_to_string(path).unwrap()),
                imports: BTreeSet::new(),
            }
        })
        .collect();
    let known: BTreeSet<String> = sources.iter().map(|s| s.module.clone()).collect();
    for source in &mut sources {
        for path in crate_paths(&source.code) {
            let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            let module = (1..=segments.len())
                .rev()
                .map(|n| segments[..n].join("::"))
                .find(|m| known.contains(m))
                .unwrap_or_default(); // the crate root (a re-export from lib.rs)
            source.imports.insert(module);
        }
    }
    sources
}

/// The unit graph: unit → units it imports (itself excluded).
pub fn graph(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in sources {
        let edges = g.entry(s.unit.clone()).or_default();
        for m in &s.imports {
            let to = unit_of(m);
            if to != s.unit {
                edges.insert(to);
            }
        }
    }
    g
}

/// A cycle in the graph, as a list of units ending where it starts, if there is one.
pub fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    // 0 unvisited, 1 on the stack, 2 done.
    fn visit(
        u: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(u.to_string(), 1);
        stack.push(u.to_string());
        for v in g.get(u).into_iter().flatten() {
            match state.get(v.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|s| s == v).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(v.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(v, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(u.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for u in g.keys() {
        if state.get(u.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(u, g, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_reader_resolves_paths_and_finds_cycles() {
    assert_eq!(module_of(Path::new("protocol/raft/mod.rs")), "protocol::raft");
    assert_eq!(unit_of("protocol::raft::checks"), "protocol::raft");
    assert_eq!(unit_of("engine::apply"), "engine");
    let code =
        code_of("use crate::{a::X, b};\n// use crate::c;\nfn f() { crate::d::e::f(); }\n#[cfg(test)]\nuse crate::g;\n");
    assert_eq!(crate_paths(&code), ["a::X", "b", "d::e::f"]);
    let edge = |a: &str, b: &str| (a.to_string(), BTreeSet::from([b.to_string()]));
    let cyclic = BTreeMap::from([edge("a", "b"), edge("b", "c"), edge("c", "a")]);
    assert_eq!(find_cycle(&cyclic).unwrap(), ["a", "b", "c", "a"]);
    let acyclic = BTreeMap::from([edge("a", "b"), edge("b", "c")]);
    assert_eq!(find_cycle(&acyclic), None);
}
