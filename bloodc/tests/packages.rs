//! Packages end to end with real parts: the real `blood` binary, real registry directories
//! written by `blood publish`, and a real HTTP server on 127.0.0.1 started by each test (a
//! small `TcpListener` server in this file) that injects faults: a server too slow to answer,
//! HTTP 500 before success, a truncated body, a trickle below the low-speed limit, a wrong
//! checksum in the index, an archive with `../` paths, a package changed after it was locked.
//! Also `blood new`/`build`/`run` of packages, path dependencies, `Blood.lock`, `--locked`,
//! `--offline`, and the JSON log lines of each phase.
//!
//! Timeouts are shortened through `BLOOD_HTTP_*` so every test stays within a few seconds.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// The test HTTP server

/// What the server does for one request.
#[derive(Clone, Debug)]
enum Fault {
    /// Serve the file (or 404).
    None,
    /// Answer with this status and a short body.
    Status(u16),
    /// Answer 503 with `Retry-After: N` seconds.
    RetryAfter(u64),
    /// Wait before answering.
    Delay(Duration),
    /// Announce the full length, send half, close.
    Truncate,
    /// Send `chunk` bytes every `every`.
    Trickle(usize, Duration),
}

type FaultFn = dyn Fn(&str, usize) -> Fault + Send + Sync;

/// Serves `root` over HTTP/1.1 on 127.0.0.1; `fault(path, nth)` (nth counts requests to that
/// path from 1) decides each response.
struct Server {
    url: String,
    addr: std::net::SocketAddr,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start(root: &Path, fault: impl Fn(&str, usize) -> Fault + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let fault: Arc<FaultFn> = Arc::new(fault);
        let (root, hits2, stop2) = (root.to_path_buf(), hits.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (root, hits, fault, stop) = (root.clone(), hits2.clone(), fault.clone(), stop2.clone());
                std::thread::spawn(move || serve(stream, &root, &hits, &*fault, &stop));
            }
        });
        Server { url: format!("http://{addr}"), addr, hits, stop }
    }

    fn hits(&self, path_part: &str) -> usize {
        self.hits.lock().unwrap().iter().filter(|(p, _)| p.contains(path_part)).map(|(_, n)| n).sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, root: &Path, hits: &Mutex<HashMap<String, usize>>, fault: &FaultFn, stop: &AtomicBool) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let nth = {
        let mut hits = hits.lock().unwrap();
        let n = hits.entry(path.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let mut out = stream;
    let body = std::fs::read(root.join(path.trim_start_matches('/')));
    let header = |status: &str, len: usize| {
        format!(
            "HTTP/1.1 {status}\r\nContent-Length: {len}\r\nConnection: close\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
    };
    let mut fault = fault(&path, nth);
    if let Fault::Delay(d) = fault {
        let end = Instant::now() + d;
        while Instant::now() < end && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        fault = Fault::None;
    }
    let Ok(body) = body else {
        let _ = out.write_all(header("404 Not Found", 9).as_bytes()).and_then(|()| out.write_all(b"not found"));
        return;
    };
    let _ = match fault {
        Fault::None | Fault::Delay(_) => {
            out.write_all(header("200 OK", body.len()).as_bytes()).and_then(|()| out.write_all(&body))
        }
        Fault::RetryAfter(secs) => out.write_all(
            format!("HTTP/1.1 503 Busy\r\nRetry-After: {secs}\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy")
                .as_bytes(),
        ),
        Fault::Status(code) => {
            out.write_all(header(&format!("{code} Injected"), 8).as_bytes()).and_then(|()| out.write_all(b"injected"))
        }
        Fault::Truncate => {
            out.write_all(header("200 OK", body.len()).as_bytes()).and_then(|()| out.write_all(&body[..body.len() / 2]))
        }
        Fault::Trickle(chunk, every) => {
            let mut r = out.write_all(header("200 OK", body.len()).as_bytes());
            for part in body.chunks(chunk) {
                if r.is_err() || stop.load(Ordering::SeqCst) {
                    break;
                }
                r = out.write_all(part).and_then(|()| out.flush());
                std::thread::sleep(every);
            }
            r
        }
    };
    let _ = out.flush();
    let _ = out.shutdown(std::net::Shutdown::Both);
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// A test world: a registry directory, a cache (`BLOOD_HOME`) and a place for packages.
struct World {
    base: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let w = World { base: tempfile::tempdir().unwrap() };
        std::fs::create_dir_all(w.registry()).unwrap();
        w
    }

    fn registry(&self) -> PathBuf {
        self.base.path().join("registry")
    }

    fn home(&self) -> PathBuf {
        self.base.path().join("home")
    }

    fn blood(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_blood"));
        cmd.current_dir(dir)
            .env("BLOOD_HOME", self.home())
            .env("BLOOD_HTTP_TIMEOUT", "1")
            .env("BLOOD_HTTP_BACKOFF_MS", "10")
            .env_remove("BLOOD_REGISTRY")
            .env_remove("BLOOD_LOG")
            .env_remove("BLOOD_HTTP_RETRIES")
            .env_remove("BLOOD_HTTP_LOW_SPEED_LIMIT")
            .env_remove("BLOOD_HTTP_LOW_SPEED_TIME");
        cmd
    }

    /// `blood new NAME` in a fresh directory; sets the version and appends dependency lines.
    fn package(&self, dir: &str, name: &str, version: &str, deps: &[&str]) -> PathBuf {
        let parent = self.base.path().join(dir);
        std::fs::create_dir_all(&parent).unwrap();
        ok(&run(self.blood(&parent).args(["new", name])), "blood new");
        let root = parent.join(name);
        let manifest = root.join("Blood.toml");
        let mut text = std::fs::read_to_string(&manifest).unwrap().replace("0.1.0", version);
        for d in deps {
            text.push_str(d);
            text.push('\n');
        }
        std::fs::write(&manifest, text).unwrap();
        root
    }

    /// Creates and publishes `name version` into the registry directory.
    fn publish(&self, name: &str, version: &str, deps: &[&str]) -> PathBuf {
        self.publish_lib(name, version, deps, None)
    }

    /// Like `publish`, with `src/lib.blood` (the package's module) when `lib` is given.
    fn publish_lib(&self, name: &str, version: &str, deps: &[&str], lib: Option<&str>) -> PathBuf {
        let root = self.package(&format!("pub-{name}-{version}"), name, version, deps);
        if let Some(lib) = lib {
            std::fs::write(root.join("src/lib.blood"), lib).unwrap();
        }
        ok(&run(self.blood(&root).arg("publish").arg("--registry-dir").arg(self.registry())), "blood publish");
        root
    }

    /// Every file under the cache whose name contains `part` (temp files, partial downloads).
    fn cache_files_containing(&self, part: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![self.home()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if e.file_name().to_string_lossy().contains(part) {
                    found.push(e.path());
                }
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                }
            }
        }
        found
    }

    fn installed(&self, name_version: &str) -> bool {
        self.cache_files_containing(name_version).iter().any(|p| p.is_dir())
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("cannot start blood")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(out: &Output, what: &str) {
    assert!(out.status.success(), "{what} failed: {:?}\n{}", out.status, stderr(out));
}

fn fails(out: &Output, what: &str) -> String {
    assert_eq!(out.status.code(), Some(1), "{what}: expected status 1, got {:?}\n{}", out.status, stderr(out));
    let err = stderr(out);
    assert!(!err.contains("panicked"), "{what}: {err}");
    err
}

/// An app depending on `deps`, using the registry `url`.
fn make_app(world: &World, deps: &[&str], url: &str) -> PathBuf {
    let mut lines = vec!["[registry]".to_string(), format!("url = \"{url}\""), "[dependencies]".to_string()];
    lines.extend(deps.iter().map(|d| d.to_string()));
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = format!("apps-{}", N.fetch_add(1, Ordering::SeqCst));
    let root = world.package(&dir, "app", "0.1.0", &[]);
    let manifest = root.join("Blood.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace("[dependencies]\n", "") + &lines.join("\n") + "\n";
    std::fs::write(&manifest, text).unwrap();
    root
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn new_build_and_run_a_package_with_a_path_dependency() {
    let world = World::new();
    let util = world.package("work", "util", "0.2.0", &[]);
    let app = world.package("work", "app", "0.1.0", &["util = { path = \"../util\" }"]);
    assert!(util.join("src/main.blood").is_file() && app.join(".gitignore").is_file());
    // The dependency's module: its lib.blood, with a `mod` file of its own.
    std::fs::write(util.join("src/lib.blood"), "mod parts;\npub fn answer() -> i32 { parts.half() * 2 }\n").unwrap();
    std::fs::write(util.join("src/parts.blood"), "pub fn half() -> i32 { 21 }\n").unwrap();
    let main = "use util.answer\n\nfn main() {\n    println(\"Hello, world!\")\n    println!(\"{}\", answer() + util.answer())\n}\n";
    std::fs::write(app.join("src/main.blood"), main).unwrap();

    let out = run(world.blood(&app).arg("build"));
    ok(&out, "blood build in a package");
    let exe = app.join("target/app");
    let ran = run(&mut Command::new(&exe));
    assert_eq!(String::from_utf8_lossy(&ran.stdout), "Hello, world!\n84\n");
    let lock = read(&app.join("Blood.lock"));
    assert!(lock.contains("name = \"util\"") && lock.contains("path+../util"), "{lock}");

    // `blood run` from a subdirectory finds the package.
    let out = run(world.blood(&app.join("src")).arg("run"));
    ok(&out, "blood run in a package");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Hello, world!\n84\n");

    // Private items of a dependency stay private.
    std::fs::write(app.join("src/main.blood"), "fn main() {\n    println!(\"{}\", util.parts.half())\n}\n").unwrap();
    let err = fails(&run(world.blood(&app).arg("build")), "private item of a dependency");
    assert!(err.contains("private"), "{err}");

    // Outside any package, `blood build` without FILE is a usage error.
    let out = run(world.blood(world.base.path()).arg("build"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run(world.blood(world.base.path()).args(["new", "Bad-Name"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run(world.blood(app.parent().unwrap()).args(["new", "app"]));
    assert!(fails(&out, "new over an existing directory").contains("already exists"));
}

#[test]
fn fetch_resolves_locks_and_builds_offline() {
    let world = World::new();
    world.publish_lib("lib_b", "1.0.0", &[], Some("pub fn base() -> i32 { 41 }\n"));
    world.publish("lib_b", "2.0.0", &[]);
    world.publish("lib_a", "1.0.0", &[]);
    // lib_a uses its own dependency lib_b.
    world.publish_lib("lib_a", "1.1.0", &["lib_b = \"^1\""], Some("pub fn value() -> i32 { lib_b.base() + 1 }\n"));
    world.publish("lib_a", "2.0.0", &[]);
    let server = Server::start(&world.registry(), |_, _| Fault::None);
    let app = make_app(&world, &["lib_a = \"^1\""], &server.url);

    let out = run(world.blood(&app).arg("fetch"));
    ok(&out, "blood fetch");
    let lock = read(&app.join("Blood.lock"));
    assert!(lock.contains("name = \"lib_a\"\nversion = \"1.1.0\""), "{lock}");
    assert!(lock.contains("name = \"lib_b\"\nversion = \"1.0.0\""), "{lock}");
    assert!(lock.contains("checksum = \"sha256:") && lock.contains(&format!("registry+{}", server.url)), "{lock}");
    assert!(world.installed("lib_a-1.1.0") && world.installed("lib_b-1.0.0"));
    let src = world.cache_files_containing("lib_a-1.1.0").into_iter().find(|p| p.is_dir()).unwrap();
    assert!(src.join("Blood.toml").is_file() && src.join("src/main.blood").is_file());

    // A satisfied lock needs no network: stop the server, build offline and locked; the
    // program uses lib_a, which uses lib_b, both from the cache.
    drop(server);
    std::fs::write(app.join("src/main.blood"), "use lib_a.value\n\nfn main() {\n    println!(\"{}\", value())\n}\n")
        .unwrap();
    let out = run(world.blood(&app).args(["build", "--locked"]));
    ok(&out, "locked build without network");
    let ran = run(&mut Command::new(app.join("target/app")));
    assert_eq!(String::from_utf8_lossy(&ran.stdout), "42\n");
    let out = run(world.blood(&app).args(["fetch", "--offline", "--locked"]));
    ok(&out, "offline locked fetch");
    assert_eq!(read(&app.join("Blood.lock")), lock, "an unchanged resolution does not rewrite the lock");

    // A changed requirement: --locked refuses; --offline resolves from the cached index but
    // the archive of lib_a 1.0.0 was never downloaded.
    let manifest = app.join("Blood.toml");
    std::fs::write(&manifest, read(&manifest).replace("lib_a = \"^1\"", "lib_a = \"=1.0.0\"")).unwrap();
    let err = fails(&run(world.blood(&app).args(["fetch", "--locked"])), "--locked with a changed manifest");
    assert!(err.contains("--locked") && err.contains("Blood.lock"), "{err}");
    let err = fails(&run(world.blood(&app).args(["fetch", "--offline"])), "--offline without the archive");
    assert!(err.contains("lib_a 1.0.0") && err.contains("--offline"), "{err}");
    assert_eq!(read(&app.join("Blood.lock")), lock, "a failed fetch leaves the lock alone");
}

#[test]
fn retries_survive_a_500_and_give_up_after_the_limit() {
    let world = World::new();
    world.publish("lib_a", "1.0.0", &[]);
    // Two 500s, then success: within the default 3 retries.
    let server = Server::start(&world.registry(), |path, nth| {
        if path.contains("archives") && nth <= 2 { Fault::Status(500) } else { Fault::None }
    });
    let app = make_app(&world, &["lib_a = \"1\""], &server.url);
    let out = run(world.blood(&app).arg("fetch"));
    ok(&out, "fetch with two 500s");
    assert_eq!(server.hits("archives/lib_a"), 3);
    assert!(stderr(&out).contains("retrying"), "retries are reported: {}", stderr(&out));

    // Always 503 / 429 with 2 retries: three attempts, then an error naming package and URL.
    let world = World::new();
    world.publish("lib_a", "1.0.0", &[]);
    let server =
        Server::start(
            &world.registry(),
            |path, _| {
                if path.contains("index") { Fault::Status(429) } else { Fault::Status(503) }
            },
        );
    let app = make_app(&world, &["lib_a = \"1\""], &server.url);
    let out = run(world.blood(&app).arg("fetch").env("BLOOD_HTTP_RETRIES", "2"));
    let err = fails(&out, "fetch from a failing server");
    assert_eq!(server.hits("index/lib_a"), 3);
    assert!(err.contains("index of `lib_a`") && err.contains(&server.url) && err.contains("HTTP 429"), "{err}");
    assert!(err.contains("gave up after 3 attempts"), "{err}");

    // `Retry-After` is honoured (the backoff alone would be 10 ms).
    let world = World::new();
    world.publish("lib_a", "1.0.0", &[]);
    let server = Server::start(&world.registry(), |path, nth| {
        if path.contains("index") && nth == 1 { Fault::RetryAfter(1) } else { Fault::None }
    });
    let app = make_app(&world, &["lib_a = \"1\""], &server.url);
    let start = Instant::now();
    ok(&run(world.blood(&app).arg("fetch")), "fetch after Retry-After");
    assert!(start.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was not honoured");
    assert_eq!(server.hits("index/lib_a"), 2);

    // A 404 on the archive is not transient: one attempt.
    let world = World::new();
    world.publish("lib_a", "1.0.0", &[]);
    let server =
        Server::start(
            &world.registry(),
            |path, _| if path.contains("archives") { Fault::Status(404) } else { Fault::None },
        );
    let app = make_app(&world, &["lib_a = \"1\""], &server.url);
    let err = fails(&run(world.blood(&app).arg("fetch")), "404 archive");
    assert_eq!(server.hits("archives/lib_a"), 1);
    assert!(err.contains("lib_a 1.0.0") && err.contains("404"), "{err}");
}

#[test]
fn a_slow_server_trips_the_read_timeout() {
    let world = World::new();
    world.publish("lib_a", "1.0.0", &[]);
    let server = Server::start(&world.registry(), |_, _| Fault::Delay(Duration::from_secs(8)));
    let app = make_app(&world, &["lib_a = \"1\""], &server.url);
    let start = Instant::now();
    let err = fails(&run(world.blood(&app).arg("fetch")), "slow server");
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(5), "the 1 s timeout must stop the fetch early: {elapsed:?}");
    assert!(err.contains("timed out") && err.contains("index of `lib_a`") && err.contains(&server.url), "{err}");
    assert_eq!(server.hits("index/lib_a"), 1, "timeouts are not retried");
}

#[test]
fn truncated_and_too_slow_bodies_install_nothing() {
    let world = World::new();
    world.publish("lib_a", "1.0.0", &[]);
    let server =
        Server::start(
            &world.registry(),
            |path, _| if path.contains("archives") { Fault::Truncate } else { Fault::None },
        );
    let app = make_app(&world, &["lib_a = \"1\""], &server.url);
    let err = fails(&run(world.blood(&app).arg("fetch")), "truncated body");
    assert!(err.contains("lib_a 1.0.0") && err.contains("truncated") && err.contains("archives/lib_a"), "{err}");
    assert!(!world.installed("lib_a-1.0.0"));
    assert!(world.cache_files_containing(".part").is_empty(), "no partial download left");
    assert!(!app.join("Blood.lock").exists());

    // 1 byte every 50 ms against a limit of 1000 bytes/s over 0.5 s.
    let server = Server::start(&world.registry(), |path, _| {
        if path.contains("archives") { Fault::Trickle(1, Duration::from_millis(50)) } else { Fault::None }
    });
    let app = make_app(&world, &["lib_a = \"1\""], &server.url);
    let out = run(world
        .blood(&app)
        .arg("fetch")
        .env("BLOOD_HTTP_LOW_SPEED_LIMIT", "1000")
        .env("BLOOD_HTTP_LOW_SPEED_TIME", "0.5"));
    let err = fails(&out, "trickling server");
    assert!(err.contains("slower than 1000 bytes/s"), "{err}");
    assert!(!world.installed("lib_a-1.0.0") && world.cache_files_containing(".part").is_empty());
}

#[test]
fn a_wrong_checksum_aborts_and_installs_nothing() {
    let world = World::new();
    world.publish("lib_a", "1.0.0", &[]);
    let index = world.registry().join("index/lib_a.jsonl");
    let text = read(&index);
    let sha = text.split("\"sha256\":\"").nth(1).unwrap()[..64].to_string();
    std::fs::write(&index, text.replace(&sha, &"0".repeat(64))).unwrap();
    let server = Server::start(&world.registry(), |_, _| Fault::None);
    let app = make_app(&world, &["lib_a = \"1\""], &server.url);
    let err = fails(&run(world.blood(&app).arg("fetch")), "wrong checksum");
    assert!(err.contains("checksum mismatch") && err.contains("lib_a 1.0.0") && err.contains(&sha), "{err}");
    assert_eq!(server.hits("archives/lib_a"), 1, "a checksum mismatch is not retried");
    assert!(!world.installed("lib_a-1.0.0") && world.cache_files_containing("lib_a-1.0.0").is_empty());
}

#[test]
fn a_locked_package_changed_in_the_registry_is_refused() {
    let world = World::new();
    world.publish("lib_a", "1.0.0", &[]);
    let server = Server::start(&world.registry(), |_, _| Fault::None);
    let app = make_app(&world, &["lib_a = \"1\""], &server.url);
    ok(&run(world.blood(&app).arg("fetch")), "first fetch");
    // The registry replaces the archive (and its index checksum) of the same version.
    let archive = world.registry().join("archives/lib_a/lib_a-1.0.0.tar.gz");
    let mut bytes = std::fs::read(&archive).unwrap();
    bytes.extend_from_slice(&[0; 16]);
    std::fs::write(&archive, &bytes).unwrap();
    std::fs::remove_dir_all(world.home()).unwrap();
    let err = fails(&run(world.blood(&app).arg("fetch")), "changed archive");
    assert!(err.contains("checksum mismatch") && err.contains("lib_a 1.0.0"), "{err}");
}

#[test]
fn archives_with_parent_paths_are_rejected() {
    let world = World::new();
    // Hand-made archive: `lib_a-1.0.0/../../escaped` plus a normal file.
    let escape_name = "lib_a-1.0.0/../../escaped.txt";
    let mut tar_bytes = Vec::new();
    for (name, data) in [("lib_a-1.0.0/Blood.toml", &b"x"[..]), (escape_name, &b"pwned"[..])] {
        let mut header = tar::Header::new_gnu();
        header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar_bytes.extend_from_slice(header.as_bytes());
        tar_bytes.extend_from_slice(data);
        tar_bytes.resize(tar_bytes.len().div_ceil(512) * 512, 0);
    }
    tar_bytes.resize(tar_bytes.len() + 1024, 0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar_bytes).unwrap();
    let archive = gz.finish().unwrap();
    let sha: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&archive).iter().map(|b| format!("{b:02x}")).collect()
    };
    std::fs::create_dir_all(world.registry().join("archives/lib_a")).unwrap();
    std::fs::create_dir_all(world.registry().join("index")).unwrap();
    std::fs::write(world.registry().join("archives/lib_a/lib_a-1.0.0.tar.gz"), &archive).unwrap();
    std::fs::write(
        world.registry().join("index/lib_a.jsonl"),
        format!(
            "{{\"name\":\"lib_a\",\"vers\":\"1.0.0\",\"deps\":[],\"sha256\":\"{sha}\",\"url\":\"archives/lib_a/lib_a-1.0.0.tar.gz\"}}\n"
        ),
    )
    .unwrap();
    let server = Server::start(&world.registry(), |_, _| Fault::None);
    let app = make_app(&world, &["lib_a = \"1\""], &server.url);
    let err = fails(&run(world.blood(&app).arg("fetch")), "archive with ../");
    assert!(err.contains("lib_a 1.0.0") && err.contains("`..`"), "{err}");
    assert!(world.cache_files_containing("escaped").is_empty(), "nothing escaped the cache");
    assert!(!world.base.path().join("escaped.txt").exists());
    assert!(!world.installed("lib_a-1.0.0"));
    assert!(world.cache_files_containing(".tmp-").is_empty(), "the extraction directory was removed");
}

#[test]
fn registry_configuration_and_publish_errors() {
    let world = World::new();
    // A registry dependency without any registry configured.
    let app = world.package("work", "app", "0.1.0", &["lib_a = \"1\""]);
    let err = fails(&run(world.blood(&app).arg("fetch")), "no registry");
    assert!(err.contains("lib_a") && err.contains("BLOOD_REGISTRY"), "{err}");
    // BLOOD_REGISTRY as a plain directory (file:// access) works without a server.
    world.publish("lib_a", "1.0.0", &[]);
    let out = run(world.blood(&app).arg("fetch").env("BLOOD_REGISTRY", world.registry()));
    ok(&out, "fetch from a registry directory");
    // An unknown package and an unsatisfiable requirement.
    let server = Server::start(&world.registry(), |_, _| Fault::None);
    let other = world.package("work2", "app", "0.1.0", &["nope = \"1\"", "lib_a = \"^3\""]);
    let err = fails(&run(world.blood(&other).args(["fetch", "--registry", &server.url])), "bad requirements");
    assert!(err.contains("lib_a") && err.contains("^3") && err.contains("1.0.0") || err.contains("nope"), "{err}");
    // Publishing twice, and publishing with a path dependency.
    let lib = world.base.path().join("pub-lib_a-1.0.0/lib_a");
    let err = fails(&run(world.blood(&lib).arg("publish").arg("--registry-dir").arg(world.registry())), "republish");
    assert!(err.contains("already published"), "{err}");
    let with_path = world.package("work3", "lib_c", "1.0.0", &["lib_d = { path = \"../lib_d\" }"]);
    let err =
        fails(&run(world.blood(&with_path).arg("publish").arg("--registry-dir").arg(world.registry())), "path dep");
    assert!(err.contains("path dependency"), "{err}");
}

#[test]
fn json_logs_have_one_object_per_phase() {
    let world = World::new();
    world.publish("lib_a", "1.0.0", &[]);
    let server = Server::start(&world.registry(), |_, _| Fault::None);
    let app = make_app(&world, &["lib_a = \"1\""], &server.url);
    let out = run(world.blood(&app).args(["build", "-v", "--log-format=json"]));
    ok(&out, "build with JSON logs");
    let mut phases = Vec::new();
    for line in stderr(&out).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if let Some(phase) = v.get("phase").and_then(|p| p.as_str()) {
            assert!(v["duration_ms"].is_number() && v["file"].is_string(), "{line}");
            phases.push(phase.to_string());
        }
    }
    for want in ["fetch", "resolve", "parse", "typecheck", "ir_build", "passes", "codegen", "link"] {
        assert!(phases.iter().any(|p| p == want), "no `{want}` phase in {phases:?}");
    }
    // Without -v nothing is logged, and diagnostics keep their own format.
    let out = run(world.blood(&app).args(["build", "--log-format=json"]));
    ok(&out, "quiet build");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    // BLOOD_LOG selects events without -v; human lines carry the duration.
    let out = run(world.blood(&app).arg("build").env("BLOOD_LOG", "bloodc=info"));
    ok(&out, "BLOOD_LOG build");
    let err = stderr(&out);
    assert!(err.lines().any(|l| l.contains("codegen finished in") && l.contains("duration_ms=")), "{err}");
    std::fs::write(app.join("src/main.blood"), "fn main() {\n    let x: i32 = true\n}\n").unwrap();
    let out = run(world.blood(&app).args(["build", "-v", "--log-format=json", "--error-format=json"]));
    let err = fails(&out, "type error with JSON logs and diagnostics");
    let values: Vec<serde_json::Value> = err.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(values.iter().any(|v| v.get("phase").is_some()), "{err}");
    assert!(values.iter().any(|v| v.get("phase").is_none() && v.to_string().contains("mismatch")), "{err}");
}
