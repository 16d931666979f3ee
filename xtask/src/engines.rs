//! The engine manifest, `pkg/manifest.json`: which engine builds a site ships, one per epoch.
//!
//! The page reads it to load the current engine and, for a link made with an earlier epoch,
//! that epoch's engine (`www/sim.js`). Paths are relative to the manifest's directory and
//! never leave it. `cargo xtask build` writes a one-entry manifest for `pkg/faultline.js`;
//! `cargo xtask dist` writes content-hashed names and the engines it keeps.
//!
//! ```json
//! { "current": 1,
//!   "engines": [ { "epoch": 1, "glue": "e1/faultline.0f3a….js", "wasm": "e1/faultline_bg.9c2e….wasm" } ] }
//! ```

use crate::sh;
use serde_json::{json, Value};
use std::path::Path;

/// The manifest's file name, inside `pkg/`.
pub const MANIFEST: &str = "manifest.json";

/// One engine build: its epoch and its two files.
#[derive(Clone, Debug, PartialEq)]
pub struct Engine {
    pub epoch: u32,
    pub glue: String,
    pub wasm: String,
}

/// The engine epoch of the source tree, read from `pub const EPOCH: u32 = N;` in `src/epoch.rs`.
pub fn current_epoch() -> sh::Result<u32> {
    let path = sh::repo_root().join("src").join("epoch.rs");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .find_map(|line| line.trim().strip_prefix("pub const EPOCH: u32 = "))
        .and_then(|rest| rest.trim_end_matches(';').trim().parse().ok())
        .ok_or_else(|| format!("{}: no `pub const EPOCH: u32 = N;` line", path.display()))
}

/// Writes `dir/manifest.json`, engines newest first.
pub fn write(dir: &Path, current: u32, engines: &[Engine]) -> sh::Result {
    let mut engines = engines.to_vec();
    engines.sort_by_key(|e| std::cmp::Reverse(e.epoch));
    let list: Vec<Value> = engines
        .iter()
        .map(|e| json!({ "epoch": e.epoch, "glue": e.glue, "wasm": e.wasm }))
        .collect();
    let text =
        serde_json::to_string_pretty(&json!({ "current": current, "engines": list })).map_err(|e| e.to_string())?;
    let path = dir.join(MANIFEST);
    std::fs::write(&path, text + "\n").map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Reads `dir/manifest.json`: the engines it lists, each checked to be a pair of files
/// inside `dir`.
pub fn read(dir: &Path) -> sh::Result<Vec<Engine>> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let list = value["engines"]
        .as_array()
        .ok_or_else(|| format!("{}: no `engines` list", path.display()))?;
    list.iter()
        .map(|entry| parse_entry(entry, dir).map_err(|e| format!("{}: {e}", path.display())))
        .collect()
}

fn parse_entry(entry: &Value, dir: &Path) -> sh::Result<Engine> {
    let epoch = entry["epoch"]
        .as_u64()
        .and_then(|e| u32::try_from(e).ok())
        .ok_or("an engine without a whole-number `epoch`")?;
    let file = |key: &str| -> sh::Result<String> {
        let name = entry[key]
            .as_str()
            .ok_or_else(|| format!("engine e{epoch} has no `{key}`"))?;
        let inside = !name.starts_with('/') && !name.split('/').any(|s| s.is_empty() || s == "..");
        if !inside || !dir.join(name).is_file() {
            return Err(format!(
                "engine e{epoch}: `{name}` is not a file inside {}",
                dir.display()
            ));
        }
        Ok(name.to_string())
    };
    Ok(Engine {
        epoch,
        glue: file("glue")?,
        wasm: file("wasm")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_round_trips_and_refuses_paths_outside_its_directory() {
        let dir = std::env::temp_dir().join(format!("faultline-engines-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("e1")).unwrap();
        std::fs::write(dir.join("e1/a.js"), "glue").unwrap();
        std::fs::write(dir.join("e1/a.wasm"), "wasm").unwrap();
        let engine = Engine {
            epoch: 1,
            glue: "e1/a.js".into(),
            wasm: "e1/a.wasm".into(),
        };
        write(&dir, 1, std::slice::from_ref(&engine)).unwrap();
        assert_eq!(read(&dir).unwrap(), vec![engine]);
        let escape = r#"{"current":1,"engines":[{"epoch":0,"glue":"../x.js","wasm":"e1/a.wasm"}]}"#;
        std::fs::write(dir.join(MANIFEST), escape).unwrap();
        assert!(read(&dir).unwrap_err().contains("not a file inside"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_current_epoch_is_read_from_the_engine_source() {
        assert!(current_epoch().unwrap() >= 1);
    }
}
