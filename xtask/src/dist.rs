//! `cargo xtask dist`: a self-contained static site in `dist/`, ready for any file host.

use crate::{sh, wasm};
use std::path::Path;

/// What the site needs, relative to the repository root; optional entries may be absent.
const REQUIRED: [&str; 3] = ["index.html", "www", "pkg"];
const OPTIONAL: [&str; 1] = ["examples"];

/// Builds, then copies the page, the front end and the wasm package into a fresh `dist/`.
pub fn run() -> sh::Result {
    wasm::build()?;
    let root = sh::repo_root();
    let dist = root.join("dist");
    wasm::remove_dir(&dist)?;
    for entry in REQUIRED {
        copy(&root.join(entry), &dist.join(entry))?;
    }
    for entry in OPTIONAL.iter().filter(|entry| root.join(entry).exists()) {
        copy(&root.join(entry), &dist.join(entry))?;
    }
    println!("wrote {} ({} files)", dist.display(), count_files(&dist)?);
    Ok(())
}

/// Copies a file, or a directory tree recursively, creating parent directories.
fn copy(from: &Path, to: &Path) -> sh::Result {
    let meta = std::fs::metadata(from).map_err(|e| format!("{}: {e}", from.display()))?;
    if meta.is_dir() {
        std::fs::create_dir_all(to).map_err(|e| format!("creating {}: {e}", to.display()))?;
        for entry in read_dir(from)? {
            copy(&from.join(&entry), &to.join(&entry))?;
        }
        return Ok(());
    }
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    std::fs::copy(from, to).map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))?;
    Ok(())
}

/// The names in a directory, sorted so that the copy order is stable.
fn read_dir(dir: &Path) -> sh::Result<Vec<std::ffi::OsString>> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut names = entries
        .map(|entry| entry.map(|e| e.file_name()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("reading {}: {e}", dir.display()))?;
    names.sort();
    Ok(names)
}

fn count_files(dir: &Path) -> sh::Result<usize> {
    let mut count = 0;
    for name in read_dir(dir)? {
        let path = dir.join(name);
        count += if path.is_dir() { count_files(&path)? } else { 1 };
    }
    Ok(count)
}
