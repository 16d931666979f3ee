//! `cargo xtask size`: what the wasm module is made of. Reads the release build's module
//! before wasm-bindgen and wasm-opt (it still has its name section), and prints the code
//! bytes by origin — the generic world instantiated once per protocol, serde's derived
//! deserializers and serializers, the protocols, checkers, `core` and `alloc`, the glue —
//! then the data bytes and the largest functions. Names are demangled without hashes, so
//! the same function instantiated for several protocols shows as one line with a count.

use std::collections::BTreeMap;
use std::path::Path;

use wasmparser::{KnownCustom, Name, Parser, Payload, TypeRef};

use crate::sh;

/// What the module holds: each defined function's name and code bytes, and data bytes.
struct Contents {
    functions: Vec<(String, usize)>,
    data_bytes: usize,
}

pub fn run(rest: &[String]) -> sh::Result {
    let top = match rest {
        [] => 25,
        [flag, n] if flag == "--top" => n.parse().map_err(|_| format!("--top takes a count, got `{n}`"))?,
        _ => return Err(format!("size takes only --top N, got {rest:?}")),
    };
    crate::wasm::ensure_target()?;
    let module = crate::wasm::compile()?;
    let contents = read(&module)?;
    print(&module, &contents, top);
    Ok(())
}

fn read(module: &Path) -> sh::Result<Contents> {
    let bytes = std::fs::read(module).map_err(|e| format!("{}: {e}", module.display()))?;
    let fail = |e: wasmparser::BinaryReaderError| format!("{}: {e}", module.display());
    let (mut imported, mut sizes, mut names, mut data_bytes) = (0u32, Vec::new(), BTreeMap::new(), 0);
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.map_err(fail)? {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    imported += matches!(import.map_err(fail)?.ty, TypeRef::Func(_)) as u32;
                }
            }
            Payload::CodeSectionEntry(body) => sizes.push(body.range().len()),
            Payload::DataSection(reader) => data_bytes += reader.range().len(),
            Payload::CustomSection(reader) => {
                if let KnownCustom::Name(names_reader) = reader.as_known() {
                    for name in names_reader {
                        if let Name::Function(map) = name.map_err(fail)? {
                            for naming in map {
                                let naming = naming.map_err(fail)?;
                                names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let functions = (sizes.into_iter().enumerate())
        .map(|(i, size)| {
            let raw = names.get(&(imported + i as u32)).map_or("?", |n| n.as_str());
            (format!("{:#}", rustc_demangle::demangle(raw)), size)
        })
        .collect();
    Ok(Contents { functions, data_bytes })
}

/// The origin a function's code is counted under, from its demangled name.
fn origin(name: &str) -> &'static str {
    let has = |s: &str| name.contains(s);
    if has("faultline::engine::World<") {
        "the world, once per protocol (engine::World<P>)"
    } else if has("serde_core::de") || has("Deserialize") || has("serde_path_to_error") || has("serde_json::de") {
        "serde: deserializers"
    } else if has("serde_core::ser") || has("Serialize") || has("serde_json::ser") || has("serde_wasm_bindgen") {
        "serde: serializers"
    } else if has("::checks") || has("Checks") {
        "checkers"
    } else if has("faultline::protocol::") {
        "protocols"
    } else if has("wasm_bindgen") || has("js_sys") || has("web_sys") {
        "wasm-bindgen, js-sys"
    } else if has("faultline::") {
        "the rest of faultline"
    } else if name.starts_with("alloc::") || name.starts_with("<alloc::") || has("dlmalloc") {
        "alloc (collections, allocator)"
    } else if name.starts_with("core::") || name.starts_with("<core::") || name.starts_with("<&") {
        "core (formatting, floats, slices, iterators)"
    } else {
        "other (std, libm, miniz_oxide, …)"
    }
}

fn print(module: &Path, contents: &Contents, top: usize) {
    let code: usize = contents.functions.iter().map(|(_, s)| s).sum();
    let mut by_origin: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut by_name: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (name, size) in &contents.functions {
        let o = by_origin.entry(origin(name)).or_default();
        *o = (o.0 + size, o.1 + 1);
        let n = by_name.entry(name).or_default();
        *n = (n.0 + size, n.1 + 1);
    }
    println!(
        "{}: {} of code in {} functions, {} of data",
        module.display(),
        kb(code),
        contents.functions.len(),
        kb(contents.data_bytes)
    );
    println!("\n{:>10} {:>6} {:>6}  origin", "bytes", "share", "fns");
    let mut origins: Vec<_> = by_origin.into_iter().collect();
    origins.sort_by_key(|o| std::cmp::Reverse(o.1 .0));
    for (origin, (bytes, count)) in origins {
        println!(
            "{bytes:>10} {:>5.1}% {count:>6}  {origin}",
            100.0 * bytes as f64 / code as f64
        );
    }
    println!(
        "\n{:>10} {:>6}  largest functions (×N: instantiated N times)",
        "bytes", "copies"
    );
    let mut names: Vec<_> = by_name.into_iter().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.1 .0));
    for (name, (bytes, count)) in names.into_iter().take(top) {
        let short: String = name.chars().take(110).collect();
        println!("{bytes:>10} {:>6}  {short}", format!("×{count}"));
    }
}

fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1_000.0)
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn functions_are_counted_under_their_origin() {
        let world = "<faultline::engine::World<P> as faultline::engine::Engine>::apply";
        assert_eq!(origin(world), "the world, once per protocol (engine::World<P>)");
        let de = "faultline::registry::_::<impl serde_core::de::Deserialize for faultline::registry::ProtocolSpec>::deserialize";
        assert_eq!(origin(de), "serde: deserializers");
        assert_eq!(
            origin("faultline::protocol::pbft::replica::Replica::on_message"),
            "protocols"
        );
        assert_eq!(origin("<faultline::protocol::raft::checks::RaftChecks as faultline::checks::Checks<faultline::protocol::raft::Raft>>::observe"), "checkers");
        assert_eq!(
            origin("core::fmt::write"),
            "core (formatting, floats, slices, iterators)"
        );
        assert_eq!(
            origin("alloc::collections::btree::map::BTreeMap<K,V,A>::insert"),
            "alloc (collections, allocator)"
        );
    }
}
