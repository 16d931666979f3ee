//! `cargo xtask build`: the engine compiled to wasm32, then wasm-bindgen's JS glue in `pkg/`.
//!
//! wasm-bindgen runs as a library (`wasm-bindgen-cli-support`, pinned to the engine's exact
//! `wasm-bindgen` version), so nothing is installed globally. Then binaryen's `wasm-opt -O1`
//! from the npm package (a devDependency; Debian's wasm-opt breaks modules from current
//! wasm-bindgen), when npm is on the machine: about 8 % off the gzipped module. `-O1` was
//! measured against `-Os` and `-Oz`: as small gzipped (722.6 KB against 729.2 and 729.6)
//! and twice as fast (24 s against 41 and 55 on the project's machine).

use crate::{engines, sh};
use std::path::{Path, PathBuf};
use wasm_bindgen_cli_support::Bindgen;

const TARGET: &str = "wasm32-unknown-unknown";
/// The crate built for the browser, and so the stem of every file in `pkg/`.
const CRATE: &str = "faultline";

/// Builds `pkg/faultline.js` and `pkg/faultline_bg.wasm` from a release build of the engine,
/// and `pkg/manifest.json` naming them as the engine of the source's epoch.
pub fn build() -> sh::Result {
    ensure_target()?;
    let module = compile()?;
    let out_dir = sh::repo_root().join("pkg");
    bindgen(&module, &out_dir)?;
    let optimized = optimize(&out_dir.join(format!("{CRATE}_bg.wasm")))?;
    let epoch = engines::current_epoch()?;
    let engine = engines::Engine {
        epoch,
        glue: format!("{CRATE}.js"),
        wasm: format!("{CRATE}_bg.wasm"),
    };
    engines::write(&out_dir, epoch, &[engine])?;
    report(&module, &out_dir, optimized)
}

/// Rewrites the module with binaryen's `wasm-opt -O1` (npm's `binaryen`, installed by
/// `npm ci`); returns false, with a note, where npm is missing or cannot install it.
fn optimize(wasm: &Path) -> sh::Result<bool> {
    // Without npm, or offline: the playground still builds, only larger.
    if let Err(e) = crate::e2e::ensure_npm_packages() {
        println!("note: the module is not run through wasm-opt: {e}");
        return Ok(false);
    }
    let tool = sh::repo_root().join("node_modules").join(".bin").join("wasm-opt");
    let watch = sh::Stopwatch::start();
    let features = [
        "--enable-reference-types",
        "--enable-bulk-memory",
        "--enable-sign-ext",
        "--enable-nontrapping-float-to-int",
        "--enable-mutable-globals",
    ];
    let mut command = sh::command(&tool.display().to_string());
    command.arg("-O1").args(features).arg(wasm).arg("-o").arg(wasm);
    sh::run(&mut command)?;
    println!("wasm-opt -O1 took {}", watch.elapsed());
    Ok(true)
}

/// Lints the crate as compiled for wasm32: the only build that sees the browser boundary
/// (`src/wasm.rs`), which the native clippy run never compiles.
pub fn clippy() -> sh::Result {
    ensure_target()?;
    sh::run(sh::cargo().args([
        "clippy",
        "--release",
        "--target",
        TARGET,
        "--lib",
        "-p",
        CRATE,
        "--",
        "-D",
        "warnings",
    ]))
}

/// Installs the wasm32 standard library with rustup unless it is already there.
pub(crate) fn ensure_target() -> sh::Result {
    let installed = sh::output(sh::command("rustup").args(["target", "list", "--installed"]))?;
    if installed.lines().any(|line| line.trim() == TARGET) {
        return Ok(());
    }
    sh::run(sh::command("rustup").args(["target", "add", TARGET]))
}

/// Compiles the engine library for wasm32 and returns the path of the `.wasm` file.
pub(crate) fn compile() -> sh::Result<PathBuf> {
    sh::run(sh::cargo().args(["build", "--release", "--target", TARGET, "--lib", "-p", CRATE]))?;
    let module = sh::target_dir()
        .join(TARGET)
        .join("release")
        .join(format!("{CRATE}.wasm"));
    if !module.is_file() {
        return Err(format!("cargo reported success but {} is missing", module.display()));
    }
    Ok(module)
}

/// Writes the JS glue and the processed module to `out_dir`, replacing what was there.
fn bindgen(module: &Path, out_dir: &Path) -> sh::Result {
    remove_dir(out_dir)?;
    Bindgen::new()
        .input_path(module)
        .out_name(CRATE)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?
        // The library's default differs from the CLI's: without this, `init()` with no
        // arguments cannot find the `.wasm` file next to the glue.
        .omit_default_module_path(false)
        .typescript(false)
        .generate(out_dir)
        .map_err(|e| format!("wasm-bindgen on {}: {e:#}", module.display()))
}

/// The most the served module may weigh gzipped, in bytes, after wasm-opt. A ratchet: the
/// build fails above it, so size cannot creep back; lower it whenever the module shrinks.
/// Issue 16's target is 200 KB; what the module is made of is in `docs/performance.md`.
pub const WASM_GZIP_LIMIT_BYTES: u64 = 736_000;

/// The same limit for a module built where npm, and so wasm-opt, is missing.
pub const UNOPTIMIZED_GZIP_LIMIT_BYTES: u64 = 800_000;

/// Says what was written, with the sizes a person watching the budget wants, and fails when
/// the module's gzipped size is over `WASM_GZIP_LIMIT_BYTES`.
fn report(module: &Path, out_dir: &Path, optimized: bool) -> sh::Result {
    let limit = if optimized {
        WASM_GZIP_LIMIT_BYTES
    } else {
        UNOPTIMIZED_GZIP_LIMIT_BYTES
    };
    let glue = out_dir.join(format!("{CRATE}.js"));
    let wasm = out_dir.join(format!("{CRATE}_bg.wasm"));
    println!("compiled {} ({})", relative(module), sh::human_size(size(module)?));
    println!("wrote {} ({})", relative(&glue), sh::human_size(size(&glue)?));
    let gzipped = gzipped_size(&wasm)?;
    println!(
        "wrote {} ({}; {} gzipped, limit {})",
        relative(&wasm),
        sh::human_size(size(&wasm)?),
        sh::human_size(gzipped),
        sh::human_size(limit)
    );
    if gzipped > limit {
        return Err(format!(
            "{} is {gzipped} bytes gzipped, over the limit of {limit} (xtask/src/wasm.rs)",
            relative(&wasm)
        ));
    }
    Ok(())
}

/// The file's size as gzip -9 would write it: deflate at level 9 plus gzip's 18-byte frame.
fn gzipped_size(path: &Path) -> sh::Result<u64> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(miniz_oxide::deflate::compress_to_vec(&bytes, 9).len() as u64 + 18)
}

fn size(path: &Path) -> sh::Result<u64> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The path relative to the repository root, for short messages.
fn relative(path: &Path) -> String {
    let root = sh::repo_root();
    path.strip_prefix(&root).unwrap_or(path).display().to_string()
}

/// Removes a directory tree if it exists.
pub fn remove_dir(dir: &Path) -> sh::Result {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("removing {}: {e}", dir.display())),
    }
}
