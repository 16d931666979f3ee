//! A deliberately small static file server: one request per connection, GET and HEAD only.
//!
//! Enough HTTP for a browser to load the playground with the right MIME types (an ES
//! module or a `.wasm` file with the wrong one does not load), and nothing outside the
//! served directory reachable, whatever the URL says.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The request line and headers together may not exceed this; the rest is ignored.
const HEAD_BYTES_MAX: u64 = 16 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The page's Content-Security-Policy, sent on every response: scripts and styles from
/// files of this origin only (no inline script, style or handler, no `eval`), WebAssembly
/// compiled by the page (`'wasm-unsafe-eval'`). `index.html`, `bench/index.html` and
/// `examples/course-page.html` carry the same policy in a `<meta>` for static hosts.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'none'";

struct Response {
    status: u16,
    content_type: &'static str,
    location: Option<String>,
    body: Body,
}

enum Body {
    File { file: File, len: u64 },
    Text(String),
}

impl Response {
    fn text(status: u16) -> Response {
        let body = format!("{status} {}\n", reason(status));
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            location: None,
            body: Body::Text(body),
        }
    }

    fn redirect(location: String) -> Response {
        Response {
            location: Some(location),
            ..Response::text(301)
        }
    }
}

/// Answers one request on the connection, then closes it.
pub fn handle(stream: &TcpStream, root: &Path) {
    // Timeouts keep a silent client from holding a thread forever.
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut reader = BufReader::new(stream.take(HEAD_BYTES_MAX));
    let (method, target, response) = match read_head(&mut reader) {
        Ok((method, target)) => {
            let response = respond(&method, &target, root);
            (method, target, response)
        }
        Err(status) => (String::from("?"), String::from("?"), Response::text(status)),
    };
    println!("{method} {target} {}", response.status);
    if let Err(e) = write(stream, response, method == "HEAD") {
        eprintln!("{method} {target}: writing the response failed: {e}");
    }
}

/// Tells a client that the server is at its connection limit.
pub fn refuse_busy(stream: &TcpStream) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = write(stream, Response::text(503), false);
}

/// Reads the request line and skips the headers; returns the method and the target.
fn read_head(reader: &mut impl BufRead) -> Result<(String, String), u16> {
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|_| 400u16)?;
    let mut words = line.split_whitespace();
    let (Some(method), Some(target), Some(_version)) = (words.next(), words.next(), words.next()) else {
        return Err(400);
    };
    let request = (method.to_string(), target.to_string());
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => return Err(431), // the head was cut off by the size limit (or the client)
            Ok(_) if line.trim_end().is_empty() => return Ok(request),
            Ok(_) => {}
            Err(_) => return Err(400),
        }
    }
}

/// Decides the response to a request without touching the network.
fn respond(method: &str, target: &str, root: &Path) -> Response {
    if method != "GET" && method != "HEAD" {
        return Response::text(405);
    }
    let Some(path) = url_path(target) else {
        return Response::text(400);
    };
    match resolve(root, &path) {
        Ok(file) => open(&file),
        // The raw (still encoded) path: a Location header must stay valid ASCII.
        Err(Unservable::Directory) => Response::redirect(format!("{}/", without_query(target))),
        Err(Unservable::Traversal) => Response::text(403),
        Err(Unservable::Missing) => Response::text(404),
    }
}

/// The decoded path of a request target, without its query string or fragment.
fn url_path(target: &str) -> Option<String> {
    let path = percent_decode(without_query(target))?;
    let valid = path.starts_with('/') && !path.contains(['\0', '\\']);
    valid.then_some(path)
}

fn without_query(target: &str) -> &str {
    let end = target.find(['?', '#']).unwrap_or(target.len());
    &target[..end]
}

/// Decodes `%XX` escapes; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

#[derive(Debug, PartialEq)]
enum Unservable {
    /// A directory asked for without its trailing slash: relative links need one.
    Directory,
    /// `..` in the path, or a link that leads outside the root.
    Traversal,
    /// Nothing there, or a hidden file (`.git`, `.env`) that a dev server has no business showing.
    Missing,
}

/// Maps a URL path to a file under `root`: `index.html` for a directory ending in `/`.
fn resolve(root: &Path, path: &str) -> Result<PathBuf, Unservable> {
    let mut file = root.to_path_buf();
    for segment in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
        if segment == ".." {
            return Err(Unservable::Traversal);
        }
        if segment.starts_with('.') {
            return Err(Unservable::Missing);
        }
        file.push(segment);
    }
    if file.is_dir() {
        if !path.ends_with('/') {
            return Err(Unservable::Directory);
        }
        file.push("index.html");
    }
    let real = file.canonicalize().map_err(|_| Unservable::Missing)?;
    let real_root = root.canonicalize().map_err(|_| Unservable::Missing)?;
    if !real.starts_with(&real_root) {
        return Err(Unservable::Traversal);
    }
    if real.is_file() {
        Ok(real)
    } else {
        Err(Unservable::Missing)
    }
}

fn open(path: &Path) -> Response {
    let opened = File::open(path).and_then(|file| Ok((file.metadata()?.len(), file)));
    match opened {
        Ok((len, file)) => Response {
            status: 200,
            content_type: mime(path),
            location: None,
            body: Body::File { file, len },
        },
        Err(_) => Response::text(404),
    }
}

/// The Content-Type for a file, by extension.
fn mime(path: &Path) -> &'static str {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match extension.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Lets pages on other origins load the embed script, its modules, the manifest and the
/// wasm (module scripts and `fetch` across origins need CORS); everything served is public.
const CROSS_ORIGIN: &str = "Access-Control-Allow-Origin: *\r\nCross-Origin-Resource-Policy: cross-origin\r\n";

/// Writes the status line, headers and (unless `head_only`) the body.
fn write(mut stream: &TcpStream, response: Response, head_only: bool) -> io::Result<()> {
    stream.write_all(head_of(&response).as_bytes())?;
    if !head_only {
        match response.body {
            Body::File { mut file, .. } => drop(io::copy(&mut file, &mut stream)?),
            Body::Text(text) => stream.write_all(text.as_bytes())?,
        }
    }
    stream.flush()
}

/// The status line and headers of a response, ending with the blank line.
fn head_of(response: &Response) -> String {
    let len = match &response.body {
        Body::File { len, .. } => *len,
        Body::Text(text) => text.len() as u64,
    };
    let mut head = format!("HTTP/1.1 {} {}\r\n", response.status, reason(response.status));
    head += &format!("Content-Type: {}\r\nContent-Length: {len}\r\n", response.content_type);
    head += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n";
    head += CROSS_ORIGIN;
    head += &format!("Content-Security-Policy: {CONTENT_SECURITY_POLICY}\r\n");
    if let Some(location) = &response.location {
        head += &format!("Location: {location}\r\n");
    }
    head + "\r\n"
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_and_fragments_are_stripped() {
        assert_eq!(url_path("/index.html?s=abc#frag").as_deref(), Some("/index.html"));
        assert_eq!(url_path("/?embed").as_deref(), Some("/"));
        assert_eq!(url_path("/a%20b.js").as_deref(), Some("/a b.js"));
    }

    #[test]
    fn malformed_targets_are_refused() {
        assert_eq!(url_path("index.html"), None);
        assert_eq!(url_path("/%zz"), None);
        assert_eq!(url_path("/%2"), None);
        assert_eq!(url_path("/a%00b"), None);
        assert_eq!(url_path("/..%5c..%5cetc"), None);
    }

    #[test]
    fn traversal_is_refused_even_when_encoded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(resolve(root, "/../Cargo.toml"), Err(Unservable::Traversal));
        let encoded = url_path("/src/%2e%2e/%2e%2e/Cargo.toml").unwrap();
        assert_eq!(resolve(root, &encoded), Err(Unservable::Traversal));
    }

    #[test]
    fn files_directories_and_hidden_files_resolve_as_expected() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert!(resolve(root, "/Cargo.toml").is_ok());
        assert_eq!(resolve(root, "/src"), Err(Unservable::Directory));
        assert_eq!(resolve(root, "/src/"), Err(Unservable::Missing)); // no index.html there
        assert_eq!(resolve(root, "/nothing.js"), Err(Unservable::Missing));
        assert_eq!(resolve(root, "/.cargo/config.toml"), Err(Unservable::Missing));
    }

    #[test]
    fn mime_types_let_modules_and_wasm_load() {
        assert_eq!(mime(Path::new("pkg/faultline_bg.wasm")), "application/wasm");
        assert_eq!(mime(Path::new("www/app.js")), "text/javascript; charset=utf-8");
        assert_eq!(mime(Path::new("www/app.MJS")), "text/javascript; charset=utf-8");
        assert_eq!(mime(Path::new("index.html")), "text/html; charset=utf-8");
        assert_eq!(mime(Path::new("x.unknown")), "application/octet-stream");
    }

    #[test]
    fn the_wasm_and_the_modules_can_be_loaded_from_another_origin() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let head = head_of(&respond("GET", "/Cargo.toml", root));
        assert!(head.contains("\r\nAccess-Control-Allow-Origin: *\r\n"), "{head}");
        assert!(
            head.contains("\r\nCross-Origin-Resource-Policy: cross-origin\r\n"),
            "{head}"
        );
        assert!(head.ends_with("\r\n\r\n") && head.starts_with("HTTP/1.1 200 OK\r\n"));
        let missing = head_of(&respond("GET", "/nothing.wasm", root));
        assert!(
            missing.contains("Access-Control-Allow-Origin: *"),
            "a 404 is readable too: {missing}"
        );
    }

    #[test]
    fn only_get_and_head_are_served() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(respond("POST", "/Cargo.toml", root).status, 405);
        assert_eq!(respond("GET", "/Cargo.toml", root).status, 200);
        assert_eq!(respond("HEAD", "/Cargo.toml?x=1", root).status, 200);
    }

    #[test]
    fn the_pages_carry_the_same_policy_the_server_sends() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let meta = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">");
        for page in ["index.html", "bench/index.html", "examples/course-page.html"] {
            let text = std::fs::read_to_string(repo.join(page)).unwrap();
            assert!(text.contains(&meta), "{page} lacks the <meta> policy {meta}");
        }
        assert!(
            !CONTENT_SECURITY_POLICY.contains("unsafe-inline") && !CONTENT_SECURITY_POLICY.contains("'unsafe-eval'")
        );
    }
}
