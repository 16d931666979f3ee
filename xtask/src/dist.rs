//! `cargo xtask dist`: a self-contained static site in `dist/`, ready for any file host.
//!
//! The entries keep stable URLs (`index.html`, `www/embed/faultline-sim.js`, `www/…`); the
//! engine's wasm and JS glue get content-hashed names under `pkg/eN/` (N: the engine
//! epoch), listed in `pkg/manifest.json`, so a cache can never pair an old module with new
//! glue. Engine builds of earlier epochs are kept from the previous site (`--keep-engines
//! DIR`, by default the `dist/pkg/` being replaced), so links made with them replay as
//! they were. `docs/publishing.md` describes the result for a person publishing it.

use crate::engines::{self, Engine};
use crate::{sh, wasm};
use std::path::{Path, PathBuf};

/// What the site needs, relative to the repository root; optional entries may be absent.
const REQUIRED: [&str; 2] = ["index.html", "www"];
const OPTIONAL: [&str; 1] = ["examples"];

/// `_headers`, read by Netlify and Cloudflare Pages (other hosts: `docs/publishing.md`):
/// pages on other origins may load the embed script, its modules, the manifest and the wasm.
const HOST_HEADERS: &str = "\
# Netlify and Cloudflare Pages read this file; for other hosts see docs/publishing.md.
/*
  Access-Control-Allow-Origin: *
  Cross-Origin-Resource-Policy: cross-origin
";

pub struct Options {
    build: bool,
    out: Option<PathBuf>,
    keep_from: Option<PathBuf>,
}

impl Options {
    /// Reads `[--no-build] [--out DIR] [--keep-engines DIR]`.
    pub fn parse(args: &[String]) -> sh::Result<Options> {
        let mut options = Options {
            build: true,
            out: None,
            keep_from: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut dir =
                || -> sh::Result<PathBuf> { Ok(args.next().ok_or(format!("dist: {arg} needs a directory"))?.into()) };
            match arg.as_str() {
                "--no-build" => options.build = false,
                "--out" => options.out = Some(dir()?),
                "--keep-engines" => options.keep_from = Some(dir()?),
                other => return Err(format!("dist: unknown option `{other}`")),
            }
        }
        Ok(options)
    }
}

/// A kept engine build, read into memory before the old site is removed.
struct Kept {
    engine: Engine,
    glue: Vec<u8>,
    wasm: Vec<u8>,
}

/// Builds, then writes the site: entries, hashed engine files, kept engines, manifest.
pub fn run(options: Options) -> sh::Result {
    if options.build {
        wasm::build()?;
    }
    let root = sh::repo_root();
    let dist = options.out.map_or_else(|| root.join("dist"), |out| root.join(out));
    let current = engines::current_epoch()?;
    let keep_from = options.keep_from.map(|dir| root.join(dir)).unwrap_or(dist.join("pkg"));
    let kept = read_kept(&keep_from, current)?;
    wasm::remove_dir(&dist)?;
    for entry in REQUIRED {
        copy(&root.join(entry), &dist.join(entry))?;
    }
    for entry in OPTIONAL.iter().filter(|entry| root.join(entry).exists()) {
        copy(&root.join(entry), &dist.join(entry))?;
    }
    let pkg = dist.join("pkg");
    let mut shipped = vec![hashed_engine(&root.join("pkg"), &pkg, current)?];
    for k in &kept {
        write_file(&pkg.join(&k.engine.glue), &k.glue)?;
        write_file(&pkg.join(&k.engine.wasm), &k.wasm)?;
        shipped.push(k.engine.clone());
    }
    engines::write(&pkg, current, &shipped)?;
    // The page's Content-Security-Policy as a header too (the pages also carry it in a <meta>).
    let headers = format!(
        "{HOST_HEADERS}  Content-Security-Policy: {}\n",
        crate::http::CONTENT_SECURITY_POLICY
    );
    write_file(&dist.join("_headers"), headers.as_bytes())?;
    let epochs: Vec<String> = shipped.iter().map(|e| format!("e{}", e.epoch)).collect();
    println!(
        "wrote {} ({} files; engines {})",
        dist.display(),
        count_files(&dist)?,
        epochs.join(", ")
    );
    Ok(())
}

/// The engines of other epochs listed in `dir/manifest.json`; none when there is no manifest.
fn read_kept(dir: &Path, current: u32) -> sh::Result<Vec<Kept>> {
    if !dir.join(engines::MANIFEST).is_file() {
        return Ok(Vec::new());
    }
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"));
    let mut kept = Vec::new();
    for engine in engines::read(dir)?.into_iter().filter(|e| e.epoch != current) {
        let glue = read(&engine.glue)?;
        let wasm = read(&engine.wasm)?;
        println!("keeping engine e{} from {}", engine.epoch, dir.display());
        kept.push(Kept { engine, glue, wasm });
    }
    Ok(kept)
}

/// Copies the freshly built glue and wasm from `built` to `pkg/eN/` under content-hashed
/// names.
fn hashed_engine(built: &Path, pkg: &Path, epoch: u32) -> sh::Result<Engine> {
    let read = |name: &str| {
        let path = built.join(name);
        std::fs::read(&path).map_err(|e| format!("{}: {e} (run `cargo xtask build`)", path.display()))
    };
    let glue = read("faultline.js")?;
    let wasm = read("faultline_bg.wasm")?;
    let engine = Engine {
        epoch,
        glue: format!("e{epoch}/faultline.{}.js", content_hash(&glue)),
        wasm: format!("e{epoch}/faultline_bg.{}.wasm", content_hash(&wasm)),
    };
    write_file(&pkg.join(&engine.glue), &glue)?;
    write_file(&pkg.join(&engine.wasm), &wasm)?;
    Ok(engine)
}

/// FNV-1a over the bytes, 16 hex digits: a cache key, not a signature.
fn content_hash(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn write_file(path: &Path, bytes: &[u8]) -> sh::Result {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earlier_epochs_are_kept_and_the_current_one_is_rebuilt() {
        let dir = std::env::temp_dir().join(format!("faultline-kept-{}", std::process::id()));
        for (epoch, bytes) in [(0, "old"), (1, "current")] {
            write_file(&dir.join(format!("e{epoch}/g.js")), bytes.as_bytes()).unwrap();
            write_file(&dir.join(format!("e{epoch}/w.wasm")), bytes.as_bytes()).unwrap();
        }
        let engine = |epoch: u32| Engine {
            epoch,
            glue: format!("e{epoch}/g.js"),
            wasm: format!("e{epoch}/w.wasm"),
        };
        engines::write(&dir, 1, &[engine(1), engine(0)]).unwrap();
        let kept = read_kept(&dir, 1).unwrap();
        assert_eq!(kept.len(), 1, "only the earlier epoch is kept");
        assert_eq!((&kept[0].engine, kept[0].wasm.as_slice()), (&engine(0), &b"old"[..]));
        assert!(read_kept(&dir.join("nothing-here"), 1).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn content_hashes_follow_the_bytes() {
        assert_eq!(content_hash(b"glue"), content_hash(b"glue"));
        assert_ne!(content_hash(b"glue v1"), content_hash(b"glue v2"));
        assert_eq!(content_hash(b"").len(), 16);
    }
}
