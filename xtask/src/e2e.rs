//! The browser end-to-end step of `cargo xtask test`: Playwright driving Debian's Chromium.
//!
//! Installs what it needs where it can (Chromium with apt as root, npm packages with
//! `npm ci`) and says what to install where it cannot.

use crate::sh;
use std::path::{Path, PathBuf};

const DEBIAN_CHROMIUM: &str = "/usr/bin/chromium";

/// Runs `npx playwright test` against a built `pkg/` (the caller builds it first).
pub fn run() -> sh::Result {
    let chromium = ensure_chromium()?;
    let cli = build_cli()?;
    ensure_npm_packages()?;
    sh::run(
        sh::command("npx")
            .args(["playwright", "test"])
            .env("CHROMIUM_PATH", chromium)
            // The tests compare the browser's trace hashes with the native CLI's.
            .env("FAULTLINE_CLI", cli),
    )
}

/// The Chromium to drive: `CHROMIUM_PATH`, else Debian's, installed with apt if we are root.
fn ensure_chromium() -> sh::Result<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM_PATH") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(format!(
                "CHROMIUM_PATH is set to {}, which is not a file",
                path.display()
            ));
        }
        return Ok(path);
    }
    let debian = PathBuf::from(DEBIAN_CHROMIUM);
    if debian.is_file() {
        return Ok(debian);
    }
    if !is_root() {
        return Err(
            "Chromium is missing: install it (`sudo apt-get install chromium` on Debian) or set \
             CHROMIUM_PATH to a Chromium binary, or skip these tests with `cargo xtask test --no-browser`"
                .into(),
        );
    }
    install_chromium()?;
    if !debian.is_file() {
        return Err(format!(
            "apt-get installed chromium but {DEBIAN_CHROMIUM} is still missing"
        ));
    }
    Ok(debian)
}

fn is_root() -> bool {
    sh::output(sh::command("id").arg("-u")).is_ok_and(|uid| uid.trim() == "0")
}

fn install_chromium() -> sh::Result {
    sh::run(
        sh::command("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    sh::run(
        sh::command("apt-get")
            .args(["install", "-y", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Builds the native command-line runner and returns its path.
fn build_cli() -> sh::Result<PathBuf> {
    sh::run(sh::cargo().args(["build", "--release", "--bin", "faultline"]))?;
    let cli = sh::target_dir().join("release").join("faultline");
    if !cli.is_file() {
        return Err(format!("cargo reported success but {} is missing", cli.display()));
    }
    Ok(cli)
}

/// Runs `npm ci` when `node_modules/` is missing or older than `package-lock.json`.
pub fn ensure_npm_packages() -> sh::Result {
    if !sh::succeeds(sh::command("npm").arg("--version")) {
        return Err("npm is missing: install Node.js 20 or newer with npm".into());
    }
    let root = sh::repo_root();
    // npm writes this file on every install: its age is the age of node_modules/.
    let installed = root.join("node_modules").join(".package-lock.json");
    if is_newer(&installed, &root.join("package-lock.json")) {
        return Ok(());
    }
    sh::run(sh::command("npm").arg("ci"))
}

/// Whether `a` exists and was modified no earlier than `b`.
fn is_newer(a: &Path, b: &Path) -> bool {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    match (modified(a), modified(b)) {
        (Some(a), Some(b)) => a >= b,
        _ => false,
    }
}
