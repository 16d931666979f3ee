//! Shared plumbing: the repository's paths and running child commands loudly.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Every task reports failure as a message a person can act on.
pub type Result<T = ()> = std::result::Result<T, String>;

/// The repository root: the parent of this crate's directory.
pub fn repo_root() -> PathBuf {
    let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask_dir
        .parent()
        .expect("xtask/ lives inside the repository")
        .to_path_buf()
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR` as cargo does.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => repo_root().join(dir),
        None => repo_root().join("target"),
    }
}

/// A `cargo` command run from the repository root, using the cargo that ran us.
pub fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    command.current_dir(repo_root());
    command
}

/// A command for any program, run from the repository root.
pub fn command(program: &str) -> Command {
    let mut command = Command::new(program);
    command.current_dir(repo_root());
    command
}

/// Prints the command, runs it with inherited output and fails unless it succeeds.
pub fn run(command: &mut Command) -> Result {
    let shown = show(command);
    println!("$ {shown}");
    let status = command
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// Runs the command silently and says whether it started and succeeded.
pub fn succeeds(command: &mut Command) -> bool {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs the command silently and returns its standard output, if it succeeded.
pub fn output(command: &mut Command) -> Result<String> {
    let shown = show(command);
    let out = command
        .output()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{shown}` failed ({})", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The command as a person would type it (program name without its directory).
fn show(command: &Command) -> String {
    let program = Path::new(command.get_program());
    let name = program.file_name().unwrap_or(program.as_os_str());
    let mut words = vec![name.to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|arg| arg.to_string_lossy().into_owned()));
    words.join(" ")
}

/// A size in bytes for people: `131072 bytes (128.0 KiB)`.
pub fn human_size(bytes: u64) -> String {
    // Precision loss is irrelevant for a display figure.
    #[allow(clippy::cast_precision_loss)]
    let kib = bytes as f64 / 1024.0;
    format!("{bytes} bytes ({kib:.1} KiB)")
}

/// Wall-clock time for progress reports.
///
/// The determinism rules (and `clippy.toml`) ban `Instant` from the engine, which runs on
/// virtual time; the xtask measures real builds, so this is the one place allowed to.
#[allow(clippy::disallowed_types, clippy::disallowed_methods)]
pub struct Stopwatch(std::time::Instant);

#[allow(clippy::disallowed_types, clippy::disallowed_methods)]
impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch(std::time::Instant::now())
    }

    /// Elapsed time as `12.3 s` or `2 min 05.1 s`.
    pub fn elapsed(&self) -> String {
        let seconds = self.0.elapsed().as_secs_f64();
        if seconds < 60.0 {
            return format!("{seconds:.1} s");
        }
        let minutes = (seconds / 60.0).floor();
        format!("{minutes:.0} min {:04.1} s", seconds - minutes * 60.0)
    }
}
