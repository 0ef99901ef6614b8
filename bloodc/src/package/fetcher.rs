//! The only network code of `blood`: HTTP(S) GETs of registry index files and archives.
//!
//! Why it is careful: a build must not hang on a dead server, must not give up on one hiccup,
//! and must never install bytes it did not verify. So:
//!
//! * connect and read timeouts (default 30 s each) and a low-speed abort (by default less than
//!   10 bytes/s over 30 s), all configurable (`FetchConfig`, or `BLOOD_HTTP_TIMEOUT`,
//!   `BLOOD_HTTP_RETRIES`, `BLOOD_HTTP_LOW_SPEED_LIMIT`, `BLOOD_HTTP_LOW_SPEED_TIME`,
//!   `BLOOD_HTTP_BACKOFF_MS`);
//! * retries only for transient failures (connection failures, HTTP 5xx and 429), 3 by default,
//!   with exponential backoff and jitter so many clients do not retry in lockstep (a
//!   `Retry-After` of up to 10 s is honoured); a timeout, a 4xx, a truncated body or a checksum
//!   mismatch is not retried;
//! * downloads stream into a temporary file next to the destination (registered with the
//!   driver's cancellation registry), hashed on the way, and renamed into place only if the
//!   SHA-256 matches: a failed or cancelled download leaves nothing;
//! * the cancellation token is checked between reads and during backoff sleeps;
//! * every error names what was fetched, the URL and the cause.
//!
//! `file://` URLs are read from disk through the same path (checksums, temp file, rename), so a
//! registry directory written by `blood publish` can be used without a server.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::driver::cancel::{self, CancelToken, Cancelled, TempPath};

/// Network settings.
#[derive(Clone, Debug)]
pub struct FetchConfig {
    pub connect_timeout: Duration,
    /// Longest wait for any data (headers or body).
    pub read_timeout: Duration,
    /// Abort when fewer than `low_speed_limit` bytes/s arrive over `low_speed_time`.
    pub low_speed_limit: u64,
    pub low_speed_time: Duration,
    /// Retries after the first attempt, for transient failures only.
    pub retries: u32,
    /// First backoff delay; doubled on each retry, with ±50 % jitter.
    pub backoff_base: Duration,
    /// Largest body accepted.
    pub max_bytes: u64,
}

impl Default for FetchConfig {
    fn default() -> FetchConfig {
        FetchConfig {
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(30),
            low_speed_limit: 10,
            low_speed_time: Duration::from_secs(30),
            retries: 3,
            backoff_base: Duration::from_millis(500),
            max_bytes: 256 * 1024 * 1024,
        }
    }
}

impl FetchConfig {
    /// Defaults overridden by the `BLOOD_HTTP_*` environment variables.
    pub fn from_env() -> Result<FetchConfig, String> {
        let mut c = FetchConfig::default();
        let secs = |name: &str| -> Result<Option<Duration>, String> {
            match std::env::var(name) {
                Ok(v) => v
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .map(|s| Some(Duration::from_secs_f64(s)))
                    .ok_or_else(|| format!("{name}=`{v}` is not a positive number of seconds")),
                Err(_) => Ok(None),
            }
        };
        let int = |name: &str| -> Result<Option<u64>, String> {
            match std::env::var(name) {
                Ok(v) => v.trim().parse::<u64>().map(Some).map_err(|_| format!("{name}=`{v}` is not a whole number")),
                Err(_) => Ok(None),
            }
        };
        if let Some(t) = secs("BLOOD_HTTP_TIMEOUT")? {
            c.connect_timeout = t;
            c.read_timeout = t;
        }
        if let Some(t) = secs("BLOOD_HTTP_LOW_SPEED_TIME")? {
            c.low_speed_time = t;
        }
        if let Some(n) = int("BLOOD_HTTP_LOW_SPEED_LIMIT")? {
            c.low_speed_limit = n;
        }
        if let Some(n) = int("BLOOD_HTTP_RETRIES")? {
            c.retries = n.min(20) as u32;
        }
        if let Some(n) = int("BLOOD_HTTP_BACKOFF_MS")? {
            c.backoff_base = Duration::from_millis(n);
        }
        Ok(c)
    }
}

/// Why a fetch failed.
#[derive(Debug, PartialEq)]
pub enum FetchError {
    Cancelled,
    Failed { what: String, url: String, cause: String },
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Cancelled => write!(f, "fetch cancelled"),
            FetchError::Failed { what, url, cause } => write!(f, "cannot download {what} from {url}: {cause}"),
        }
    }
}

/// The outcome of one attempt.
enum Attempt {
    Cancelled,
    /// Worth retrying; the server may have said when (`Retry-After`, capped).
    Transient(String, Option<Duration>),
    Fatal(String),
}

impl From<Cancelled> for Attempt {
    fn from(_: Cancelled) -> Attempt {
        Attempt::Cancelled
    }
}

/// The longest `Retry-After` honoured; a server asking for more is retried sooner.
const MAX_RETRY_AFTER_SECS: u64 = 10;

/// Performs downloads with one configuration, one connection pool and one cancellation token.
pub struct Fetcher {
    agent: ureq::Agent,
    config: FetchConfig,
    cancel: CancelToken,
    progress: bool,
}

impl Fetcher {
    /// `progress`: draw a progress bar on stderr (only pass `true` when stderr is a terminal).
    pub fn new(config: FetchConfig, cancel: CancelToken, progress: bool) -> Fetcher {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(config.connect_timeout)
            .timeout_read(config.read_timeout)
            .user_agent(concat!("blood/", env!("CARGO_PKG_VERSION")))
            .build();
        Fetcher { agent, config, cancel, progress }
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// GETs a small text file (an index). `Ok(None)` when the server says 404.
    pub fn get_text(&self, url: &str, what: &str) -> Result<Option<String>, FetchError> {
        const MAX_INDEX: u64 = 16 * 1024 * 1024;
        let bytes = self.with_retries(url, what, |fetcher| {
            let mut body = Vec::new();
            match fetcher.attempt(url, &mut body, MAX_INDEX, None)? {
                true => Ok(Some(body)),
                false => Ok(None),
            }
        })?;
        match bytes {
            None => Ok(None),
            Some(b) => String::from_utf8(b).map(Some).map_err(|_| FetchError::Failed {
                what: what.to_string(),
                url: url.to_string(),
                cause: "the response is not UTF-8 text".to_string(),
            }),
        }
    }

    /// Downloads `url` into `dest`, which appears only if the SHA-256 of the bytes is
    /// `expected_sha256` (hex).
    pub fn download(&self, url: &str, what: &str, dest: &Path, expected_sha256: &str) -> Result<(), FetchError> {
        let dir = dest.parent().unwrap_or(Path::new("."));
        let fail = |cause: String| FetchError::Failed { what: what.to_string(), url: url.to_string(), cause };
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create `{}`: {e}", dir.display())))?;
        self.with_retries(url, what, |fetcher| {
            let file_name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let (file, tmp_path) = tempfile::Builder::new()
                .prefix(&format!(".{file_name}.part-"))
                .tempfile_in(dir)
                .and_then(|t| t.keep().map_err(|e| e.error))
                .map_err(|e| Attempt::Fatal(format!("cannot create a temporary file in `{}`: {e}", dir.display())))?;
            let tmp = TempPath::register(tmp_path);
            let mut sink = HashingWriter { file: std::io::BufWriter::new(file), hasher: sha2::Digest::new() };
            if !fetcher.attempt(url, &mut sink, fetcher.config.max_bytes, Some(what))? {
                return Err(Attempt::Fatal("not found (HTTP 404)".to_string()));
            }
            sink.file.flush().map_err(|e| Attempt::Fatal(format!("cannot write the download: {e}")))?;
            let actual = super::registry::hex(&sha2::Digest::finalize(sink.hasher));
            if !actual.eq_ignore_ascii_case(expected_sha256) {
                return Err(Attempt::Fatal(format!(
                    "checksum mismatch: expected sha256 {expected_sha256}, got {actual}; nothing was installed"
                )));
            }
            cancel::commit(|| std::fs::rename(tmp.path(), dest))?
                .map_err(|e| Attempt::Fatal(format!("cannot move the download to `{}`: {e}", dest.display())))?;
            tmp.keep();
            Ok(())
        })
    }

    fn with_retries<T>(
        &self,
        url: &str,
        what: &str,
        mut attempt: impl FnMut(&Fetcher) -> Result<T, Attempt>,
    ) -> Result<T, FetchError> {
        let fail = |cause: String| FetchError::Failed { what: what.to_string(), url: url.to_string(), cause };
        let mut tries = 0u32;
        loop {
            if self.cancel.is_cancelled() {
                return Err(FetchError::Cancelled);
            }
            tracing::debug!(url, attempt = tries + 1, "GET");
            match attempt(self) {
                Ok(v) => return Ok(v),
                Err(Attempt::Cancelled) => return Err(FetchError::Cancelled),
                Err(Attempt::Fatal(cause)) => return Err(fail(cause)),
                Err(Attempt::Transient(cause, _)) if tries >= self.config.retries => {
                    let n = tries + 1;
                    return Err(fail(format!("{cause} (gave up after {n} attempt{})", if n == 1 { "" } else { "s" })));
                }
                Err(Attempt::Transient(cause, retry_after)) => {
                    let delay = backoff(self.config.backoff_base, tries).max(retry_after.unwrap_or_default());
                    tracing::warn!(url, "{what}: {cause}; retrying in {} ms", delay.as_millis());
                    self.sleep(delay)?;
                    tries += 1;
                }
            }
        }
    }

    /// Sleeps `delay`, waking every 20 ms to check cancellation.
    fn sleep(&self, delay: Duration) -> Result<(), FetchError> {
        let end = Instant::now() + delay;
        while Instant::now() < end {
            if self.cancel.is_cancelled() {
                return Err(FetchError::Cancelled);
            }
            std::thread::sleep((end - Instant::now()).min(Duration::from_millis(20)));
        }
        Ok(())
    }

    /// One GET streamed into `sink`. Ok(false) on 404.
    fn attempt(&self, url: &str, sink: &mut dyn Write, max: u64, progress: Option<&str>) -> Result<bool, Attempt> {
        if let Some(path) = url.strip_prefix("file://") {
            return self.read_local(Path::new(path), sink, max);
        }
        let response = match self.agent.get(url).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(404 | 410, _)) => return Ok(false),
            Err(ureq::Error::Status(code, r)) => {
                let cause = format!("the server answered HTTP {code} {}", r.status_text());
                if code >= 500 || code == 429 {
                    // Seconds form only; the HTTP-date form is rare for these statuses.
                    let retry_after = r
                        .header("Retry-After")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(|s| Duration::from_secs(s.min(MAX_RETRY_AFTER_SECS)));
                    return Err(Attempt::Transient(cause, retry_after));
                }
                return Err(Attempt::Fatal(cause));
            }
            Err(ureq::Error::Transport(t)) => return Err(self.classify_transport(&t)),
        };
        let length = response.header("Content-Length").and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(len) = length.filter(|len| *len > max) {
            return Err(Attempt::Fatal(format!("the response is {len} bytes, more than the limit of {max}")));
        }
        let bar = self.progress_bar(progress, length);
        let result = self.copy_body(response.into_reader(), sink, max, length, &bar);
        bar.finish_and_clear();
        let received = result?;
        tracing::debug!(url, bytes = received, "received");
        Ok(true)
    }

    fn classify_transport(&self, t: &ureq::Transport) -> Attempt {
        use ureq::ErrorKind;
        let io_kind =
            std::error::Error::source(t).and_then(|s| s.downcast_ref::<std::io::Error>()).map(std::io::Error::kind);
        if matches!(io_kind, Some(std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock)) {
            let secs = self.config.read_timeout.as_secs_f64();
            return Attempt::Fatal(format!("timed out: no response within {secs} s"));
        }
        // The transport's own Display repeats the URL; keep the message and the OS error.
        let mut detail = t.message().map(str::to_string).unwrap_or_else(|| t.kind().to_string());
        if let Some(source) = std::error::Error::source(t) {
            detail = format!("{detail}: {source}");
        }
        match t.kind() {
            ErrorKind::ConnectionFailed => Attempt::Transient(format!("connection failed ({detail})"), None),
            ErrorKind::Io => Attempt::Transient(format!("connection error ({detail})"), None),
            _ => Attempt::Fatal(detail),
        }
    }

    fn copy_body(
        &self,
        mut body: impl Read,
        sink: &mut dyn Write,
        max: u64,
        length: Option<u64>,
        bar: &indicatif::ProgressBar,
    ) -> Result<u64, Attempt> {
        let mut buf = vec![0u8; 32 * 1024];
        let mut received: u64 = 0;
        let mut window_start = Instant::now();
        let mut window_bytes: u64 = 0;
        loop {
            self.cancel.check()?;
            let n = match body.read(&mut buf) {
                Ok(n) => n,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {
                    let secs = self.config.read_timeout.as_secs_f64();
                    return Err(Attempt::Fatal(format!("timed out: no data for {secs} s after {received} bytes")));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Err(Attempt::Fatal(truncated(received, length)));
                }
                Err(e) => return Err(Attempt::Fatal(format!("the connection broke after {received} bytes: {e}"))),
            };
            if n == 0 {
                break;
            }
            received += n as u64;
            if received > max {
                return Err(Attempt::Fatal(format!("the response is larger than the limit of {max} bytes")));
            }
            sink.write_all(&buf[..n]).map_err(|e| Attempt::Fatal(format!("cannot write the download: {e}")))?;
            bar.set_position(received);
            window_bytes += n as u64;
            let elapsed = window_start.elapsed();
            if elapsed >= self.config.low_speed_time {
                if (window_bytes as f64) < self.config.low_speed_limit as f64 * elapsed.as_secs_f64() {
                    return Err(Attempt::Fatal(format!(
                        "the transfer was slower than {} bytes/s for {} s; aborted",
                        self.config.low_speed_limit,
                        self.config.low_speed_time.as_secs_f64()
                    )));
                }
                window_start = Instant::now();
                window_bytes = 0;
            }
        }
        self.cancel.check()?;
        if length.is_some_and(|len| received < len) {
            return Err(Attempt::Fatal(truncated(received, length)));
        }
        Ok(received)
    }

    fn read_local(&self, path: &Path, sink: &mut dyn Write, max: u64) -> Result<bool, Attempt> {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Attempt::Fatal(format!("cannot read `{}`: {e}", path.display()))),
        };
        let length = file.metadata().ok().map(|m| m.len());
        self.copy_body(file, sink, max, length, &indicatif::ProgressBar::hidden())?;
        Ok(true)
    }

    fn progress_bar(&self, what: Option<&str>, length: Option<u64>) -> indicatif::ProgressBar {
        let Some(what) = what.filter(|_| self.progress) else { return indicatif::ProgressBar::hidden() };
        let bar = indicatif::ProgressBar::with_draw_target(length, indicatif::ProgressDrawTarget::stderr());
        let style =
            indicatif::ProgressStyle::with_template("{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(what.to_string());
        bar
    }
}

fn truncated(received: u64, length: Option<u64>) -> String {
    match length {
        Some(len) => format!("the response was truncated: it ended after {received} of {len} bytes"),
        None => format!("the response was truncated after {received} bytes"),
    }
}

/// `base · 2^retry`, times a jitter factor in [0.5, 1.5).
fn backoff(base: Duration, retry: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(retry);
    let jitter = 0.5 + (h.finish() % 1000) as f64 / 1000.0;
    base.mul_f64(f64::from(1u32 << retry.min(10)) * jitter)
}

struct HashingWriter {
    file: std::io::BufWriter<std::fs::File>,
    hasher: sha2::Sha256,
}

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        sha2::Digest::update(&mut self.hasher, &buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter() {
        let base = Duration::from_millis(100);
        for retry in 0..4 {
            let d = backoff(base, retry);
            let nominal = 100.0 * f64::from(1u32 << retry);
            let ms = d.as_secs_f64() * 1000.0;
            assert!(ms >= nominal * 0.5 && ms < nominal * 1.5, "retry {retry}: {ms} ms");
        }
    }

    #[test]
    fn local_files_are_checked_and_renamed() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.tar.gz");
        std::fs::write(&src, b"hello").unwrap();
        let fetcher = Fetcher::new(FetchConfig::default(), CancelToken::new(), false);
        let url = format!("file://{}", src.display());
        let dest = dir.path().join("out/a.tar.gz");
        let sha = super::super::registry::sha256_hex(b"hello");
        let err = fetcher.download(&url, "`a 1.0.0`", &dest, &"0".repeat(64)).unwrap_err();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path().join("out")).unwrap().count(), 0, "nothing left behind");
        fetcher.download(&url, "`a 1.0.0`", &dest, &sha).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello");
        let missing = format!("file://{}", dir.path().join("none").display());
        assert_eq!(fetcher.get_text(&missing, "index").unwrap(), None);
    }

    #[test]
    fn cancelled_fetch_stops() {
        let token = CancelToken::new();
        token.cancel();
        let fetcher = Fetcher::new(FetchConfig::default(), token, false);
        assert_eq!(fetcher.get_text("http://127.0.0.1:9/x", "index"), Err(FetchError::Cancelled));
    }
}
