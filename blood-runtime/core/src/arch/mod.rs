//! The context switch, one file per instruction set. This is the only assembly in the runtime.
//!
//! A context is just a saved stack pointer: everything else a suspended fiber needs (callee-saved
//! registers and the resume address) is on its own stack. On x86_64 [`switch`] is inline assembly
//! that declares every register it does not save itself as clobbered, so the compiler spills
//! only what is live (and no `call`/`ret` pair unbalances the return-stack predictor); on AArch64
//! it is an ordinary `extern "C"` function saving the callee-saved registers. Either way it hands
//! a value to the resumed side (the scheduler passes its worker).

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::{init_stack, switch};

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use aarch64::{init_stack, switch};

/// The function a new fiber starts in: `entry(arg, handed)`, running on the fiber's stack, where
/// `handed` is the value passed to the [`switch`] that first resumed it. It must never return (a
/// fiber leaves its stack by switching away for the last time).
pub type FiberEntry = unsafe extern "C" fn(arg: usize, handed: usize) -> !;
