//! Structured logging of the driver with `tracing`: one span per phase, with its duration.
//!
//! Why: "where does the time go" and "what did the fetcher do" must be answerable without a
//! debugger, by users and by tests, yet logs must never disturb diagnostics (which have their
//! own human and JSON formats on stderr) or a program's output. So logs are off unless asked
//! for (`-v` info, `-vv` debug, `-vvv` trace, or `BLOOD_LOG` with `tracing-subscriber`'s filter
//! syntax such as `debug` or `bloodc::package=trace`), always go to stderr, and each finished
//! phase produces one event carrying `phase`, `file` and `duration_ms`. With
//! `--log-format=json` every event is one JSON object per line with those fields at the top
//! level, for tools.

use std::time::Instant;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// How log lines are written.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

/// Installs the global subscriber. `verbosity` is the number of `-v`; `BLOOD_LOG`, when set,
/// takes precedence. Safe to call more than once (later calls do nothing).
pub fn init(verbosity: u8, format: LogFormat) {
    // Other crates (Cranelift logs every function at info level) stay at `warn` until -vvv.
    let default = match verbosity {
        0 => "warn",
        1 => "warn,bloodc=info,blood=info",
        2 => "warn,bloodc=debug,blood=debug",
        _ => "trace",
    };
    let filter = match std::env::var("BLOOD_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(spec.trim()).unwrap_or_else(|e| {
            eprintln!("warning: ignoring BLOOD_LOG=`{spec}`: {e}");
            EnvFilter::new(default)
        }),
        _ => EnvFilter::new(default),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Human => builder.with_ansi(false).with_span_events(FmtSpan::NONE).with_target(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(false).try_init(),
    };
    // Already installed (a second call in the same process): keep the first.
    let _ = result;
}

/// Runs `f` as the phase `name` of compiling `file`: inside a span, and followed by an info
/// event with the duration (emitted outside the span, so a human-format line does not repeat
/// the fields).
pub fn phase<T>(name: &'static str, file: &str, f: impl FnOnce() -> T) -> T {
    let span = tracing::info_span!("phase", phase = name, file);
    let start = Instant::now();
    let value = span.in_scope(f);
    finished(name, file, start);
    value
}

/// Emits the "phase finished" event for a phase that started at `start` (for phases whose
/// work is not one closure, such as a download loop).
pub fn finished(name: &'static str, file: &str, start: Instant) {
    let duration_ms = start.elapsed().as_secs_f64() * 1000.0;
    let duration_ms = (duration_ms * 1000.0).round() / 1000.0;
    tracing::info!(phase = name, file, duration_ms, "{name} finished in {duration_ms:.3} ms");
}
