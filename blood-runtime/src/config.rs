//! Runtime configuration: defaults from the concurrency spec's Appendix A, overridable by
//! environment variables, validated before anything starts.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `BLOOD_NUM_WORKERS` | CPU count | worker threads (1..=1024) |
//! | `BLOOD_STACK_SIZE` | 8 KiB | resident bytes a pooled stack keeps after trimming; also the minimum stack a fiber may ask for |
//! | `BLOOD_MAX_STACK_SIZE` | 1 MiB | reserved (virtual) size of every fiber stack: the most a fiber can use |
//! | `BLOOD_STACK_GUARDS` | 10000 | stacks that get a hardware guard page (2 VMAs each) |
//! | `BLOOD_PREEMPT_INTERVAL_MS` | 10 | time slice after which a running fiber is asked to yield (0 = off) |
//!
//! Sizes accept a `K`, `M` or `G` suffix (binary units).

use std::time::Duration;

/// Appendix A: initial fiber stack.
pub const DEFAULT_STACK_SIZE: usize = 8 * 1024;
/// Appendix A: maximum fiber stack.
pub const DEFAULT_MAX_STACK_SIZE: usize = 1024 * 1024;
/// Appendix A: preemption interval.
pub const DEFAULT_PREEMPT_INTERVAL: Duration = Duration::from_millis(10);
/// Upper bound on workers.
pub const MAX_WORKERS: usize = 1024;

/// Everything the scheduler needs to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub workers: usize,
    pub stack_size: usize,
    pub max_stack_size: usize,
    pub stack_guards: usize,
    /// `None` disables the preemption monitor.
    pub preempt_interval: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            workers: default_workers(),
            stack_size: DEFAULT_STACK_SIZE,
            max_stack_size: DEFAULT_MAX_STACK_SIZE,
            stack_guards: crate::stack::DEFAULT_GUARDED_SLOTS,
            preempt_interval: Some(DEFAULT_PREEMPT_INTERVAL),
        }
    }
}

/// The number of CPUs this process may run on.
pub fn default_workers() -> usize {
    if !cfg!(feature = "multi-worker") {
        return 1;
    }
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(MAX_WORKERS)
}

/// A configuration error, reported as `blood runtime: <message>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses `123`, `64K`, `1M`, `2G` (binary units).
pub fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim();
    let (digits, mult) = match t.chars().last()? {
        'k' | 'K' => (&t[..t.len() - 1], 1usize << 10),
        'm' | 'M' => (&t[..t.len() - 1], 1 << 20),
        'g' | 'G' => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    digits.trim().parse::<usize>().ok()?.checked_mul(mult)
}

impl Config {
    /// Defaults overridden by the environment.
    #[cfg(feature = "full")]
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// The minimal runtime reads no configuration: the defaults, with one worker.
    #[cfg(not(feature = "full"))]
    pub fn from_env() -> Result<Config, ConfigError> {
        Ok(Config::default().with_workers(1))
    }

    /// Defaults overridden by `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        if let Some(v) = lookup("BLOOD_NUM_WORKERS") {
            c.workers = v.trim().parse::<usize>().ok().filter(|n| (1..=MAX_WORKERS).contains(n)).ok_or_else(|| {
                ConfigError(format!("BLOOD_NUM_WORKERS must be an integer from 1 to {MAX_WORKERS}, got `{v}`"))
            })?;
        }
        let size = |name: &str, min: usize, max: usize| -> Result<Option<usize>, ConfigError> {
            match lookup(name) {
                None => Ok(None),
                Some(v) => parse_size(&v).filter(|n| (min..=max).contains(n)).map(Some).ok_or_else(|| {
                    ConfigError(format!(
                        "{name} must be a size from {min} to {max} bytes (K/M/G suffixes allowed), got `{v}`"
                    ))
                }),
            }
        };
        if let Some(n) = size("BLOOD_STACK_SIZE", 4096, 1 << 30)? {
            c.stack_size = n;
        }
        if let Some(n) = size("BLOOD_MAX_STACK_SIZE", 16 * 1024, 1 << 30)? {
            c.max_stack_size = n;
        }
        if c.stack_size > c.max_stack_size {
            return Err(ConfigError(format!(
                "BLOOD_STACK_SIZE ({}) exceeds BLOOD_MAX_STACK_SIZE ({})",
                c.stack_size, c.max_stack_size
            )));
        }
        if let Some(v) = lookup("BLOOD_STACK_GUARDS") {
            c.stack_guards = v.trim().parse::<usize>().ok().filter(|n| *n <= 30_000).ok_or_else(|| {
                ConfigError(format!("BLOOD_STACK_GUARDS must be an integer from 0 to 30000, got `{v}`"))
            })?;
        }
        if let Some(v) = lookup("BLOOD_PREEMPT_INTERVAL_MS") {
            let ms = v.trim().parse::<u64>().ok().filter(|n| *n <= 60_000).ok_or_else(|| {
                ConfigError(format!("BLOOD_PREEMPT_INTERVAL_MS must be an integer from 0 to 60000, got `{v}`"))
            })?;
            c.preempt_interval = (ms > 0).then(|| Duration::from_millis(ms));
        }
        Ok(c)
    }

    /// Builder helper: the same configuration with `n` workers.
    pub fn with_workers(mut self, n: usize) -> Config {
        self.workers = n.clamp(1, MAX_WORKERS);
        self
    }
}
