//! `cargo xtask serve`: build, then serve the repository root on 127.0.0.1 until Ctrl-C.
//!
//! The listener lives here; what to answer to one request lives in `http`.

use crate::{http, sh, wasm};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const DEFAULT_PORT: u16 = 8000;
/// How many ports after the default to try when it is busy.
const PORT_TRIES: u16 = 10;
/// Connections served at once; the next one gets a 503 instead of another thread.
const CONNECTIONS_MAX: usize = 64;

pub struct Options {
    /// A port asked for explicitly is used or the task fails: a caller that names a port
    /// (Playwright's `webServer`) waits on that port and would never see another one.
    port: Option<u16>,
    build: bool,
    /// What to serve, relative to the repository root; `None` serves the root itself.
    dir: Option<PathBuf>,
}

impl Options {
    /// Reads `[--port N] [--no-build] [--dir DIR]`.
    pub fn parse(args: &[String]) -> sh::Result<Options> {
        let mut options = Options {
            port: None,
            build: true,
            dir: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--no-build" => options.build = false,
                "--port" => options.port = Some(parse_port(args.next())?),
                "--dir" => options.dir = Some(args.next().ok_or("serve: --dir needs a directory")?.into()),
                other => return Err(format!("serve: unknown option `{other}`")),
            }
        }
        Ok(options)
    }
}

fn parse_port(value: Option<&String>) -> sh::Result<u16> {
    let value = value.ok_or("serve: --port needs a number")?;
    value
        .parse()
        .map_err(|_| format!("serve: --port `{value}` is not a port number (0-65535)"))
}

/// Builds unless told not to, binds a port and serves until the process is stopped.
pub fn run(options: Options) -> sh::Result {
    if options.build {
        wasm::build()?;
    }
    let root = served_dir(options.dir)?;
    if !root.join("pkg").join("manifest.json").is_file() {
        eprintln!(
            "warning: {} has no pkg/manifest.json; run `cargo xtask build` (or `dist`) first",
            root.display()
        );
    }
    let listener = bind(options.port)?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    println!("Faultline is running at http://127.0.0.1:{port}/");
    println!("serving {} (Ctrl-C to stop)", root.display());
    accept(&listener, Arc::new(root));
    Ok(())
}

/// The directory to serve: the repository root, or `dir` relative to it (e.g. `dist`).
fn served_dir(dir: Option<PathBuf>) -> sh::Result<PathBuf> {
    let root = match dir {
        Some(dir) => sh::repo_root().join(dir),
        None => sh::repo_root(),
    };
    if !root.is_dir() {
        return Err(format!("serve: {} is not a directory", root.display()));
    }
    Ok(root)
}

/// Binds the requested port, or the first free one from the default.
fn bind(requested: Option<u16>) -> sh::Result<TcpListener> {
    if let Some(port) = requested {
        return TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"));
    }
    let last = DEFAULT_PORT + PORT_TRIES;
    (DEFAULT_PORT..=last)
        .find_map(|port| TcpListener::bind((Ipv4Addr::LOCALHOST, port)).ok())
        .ok_or_else(|| format!("ports {DEFAULT_PORT}-{last} on 127.0.0.1 are all busy; try --port N"))
}

/// Hands each connection to its own thread, up to `CONNECTIONS_MAX` at once.
fn accept(listener: &TcpListener, root: Arc<PathBuf>) {
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        if active.fetch_add(1, Ordering::SeqCst) >= CONNECTIONS_MAX {
            active.fetch_sub(1, Ordering::SeqCst);
            http::refuse_busy(&stream);
            continue;
        }
        spawn(stream, Arc::clone(&root), Arc::clone(&active));
    }
}

/// Serves one connection on a new thread, which releases its slot in `active` when done.
fn spawn(stream: TcpStream, root: Arc<PathBuf>, active: Arc<AtomicUsize>) {
    let slot = Arc::clone(&active);
    let handler = move || {
        http::handle(&stream, Path::new(root.as_path()));
        slot.fetch_sub(1, Ordering::SeqCst);
    };
    if let Err(e) = std::thread::Builder::new().name("http".into()).spawn(handler) {
        active.fetch_sub(1, Ordering::SeqCst);
        eprintln!("cannot start a thread for a connection: {e}");
    }
}
