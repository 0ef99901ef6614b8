//! `blood-runtime`: the runtime linked into every Blood program.
//!
//! It provides program output (buffered stdout, unbuffered stderr), panics, the process
//! lifecycle, and the fiber runtime: stackful fibers on lazily committed, pooled stacks
//! ([`stack`], [`arch`]), an M:N work-stealing scheduler ([`scheduler`]) with priorities,
//! parking and preemption requests, timers ([`time`]), channels with select ([`channel`]),
//! a cancellation token tree ([`cancellation`]) and counters ([`metrics`]). Every wait goes
//! through one protocol ([`waiter`]).
//!
//! Generated code reaches the runtime only through the `extern "C"` functions in
//! [`ffi_exports`], whose names and signatures are fixed by `blood-abi`. Rust code (tests,
//! benchmarks, future Rust hosts) uses the Rust API re-exported here.
//!
//! Module map: `ffi_exports` (C ABI) → `scheduler` (`worker`, `queue`, `park`) → `fiber`
//! (records in `fiber/record.rs`) → `arch` + `stack`; `waiter`, `time`, `channel`,
//! `cancellation` build on the scheduler; `output`, `panic`, `lifecycle`, `config`, `metrics`,
//! `preempt` and `sync` (the channels' lock) are leaves.
//!
//! The std-free code the minimal runtime shares lives in `blood-runtime-core` (built here with
//! its `std` feature) and is re-exported under its old paths: `output`, `panic`, `alloc` (the
//! heap allocator entry and the `Vec`/`String` helpers of generated code), `arch` (the context
//! switch), the stack slots and overflow handler under `stack`, the `&str`/number/clock/argument
//! entry points under `ffi_exports`, and the argument store under `lifecycle`.

#![allow(non_upper_case_globals)]

pub use blood_runtime_core::{alloc, arch, output, panic};

/// The heap of every Blood program on the full runtime, and of the runtime itself: mimalloc.
/// Fibers migrate, so memory is routinely allocated on one worker thread and freed on another (a
/// spawned closure's environment, channel messages' boxes, a `Vec` built by one fiber and
/// dropped by its joiner); glibc's per-thread caches hold 7 blocks per size and its arenas take
/// a lock for such frees, while mimalloc's per-thread pages take them without a lock. See
/// ARCHITECTURE.md "Memory" for the figures.
#[cfg(feature = "full")]
#[global_allocator]
static HEAP: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "full")]
pub(crate) mod heap_options {
    unsafe extern "C" {
        fn mi_option_set(option: i32, value: std::ffi::c_long);
    }
    /// `mi_option_arena_eager_commit` in the `mi_option_e` enum of the mimalloc v3 sources that
    /// libmimalloc-sys 0.1.49 builds (`c_src/mimalloc/v3/include/mimalloc.h`; the sys crate's
    /// own constants follow the v2 numbering). `bloodc/tests/memory.rs`
    /// (`a_program_that_allocates_little_stays_small`) fails if the number names another option.
    pub const ARENA_EAGER_COMMIT: i32 = 4;

    /// Commit arena memory as it is used, not a whole arena up front: mimalloc's default on
    /// Linux commits eagerly, which made every program's resident size 4 MB larger (nbody:
    /// 6.2 MB instead of 2.2 MB) for no measurable speed.
    extern "C" fn configure() {
        // SAFETY: setting an option is allowed at any time, from any thread.
        unsafe { mi_option_set(ARENA_EAGER_COMMIT, 0) }
    }

    /// Runs before `main` and so before the first allocation (kept beside the runtime's
    /// entry points, which every program links, so the linker keeps this object file).
    #[used]
    #[unsafe(link_section = ".init_array")]
    static CONFIGURE: extern "C" fn() = configure;
}

pub mod cancellation;
pub mod channel;
pub mod config;
pub mod ffi_exports;
mod ffi_fiber;
pub mod fiber;
pub mod lifecycle;
pub mod metrics;
pub mod preempt;
pub mod scheduler;
pub mod scope;
pub mod stack;
pub mod sync;
pub mod time;
pub mod waiter;

pub use cancellation::{CancelToken, Cancelled, check_cancelled};
pub use channel::{
    Receiver, RecvError, Selected, SendError, Sender, TryRecvError, TrySendError, bounded, select_recv, unbounded,
};
pub use config::Config;
pub use fiber::{FiberConfig, FiberState, JoinError, JoinHandle, Priority};
pub use metrics::Snapshot;
pub use scheduler::{Runtime, current_id, spawn, spawn_with, yield_now};
pub use scope::{Scope, scope};
pub use time::{sleep, sleep_until};
