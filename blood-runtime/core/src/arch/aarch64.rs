//! AArch64 (AAPCS64) context switch, prepared behind `cfg(target_arch = "aarch64")`.
//!
//! Saved frame (from the saved stack pointer upwards, 16-byte aligned as the ABI requires):
//!
//! ```text
//!   sp + 0x00  x19 x20      sp + 0x30  x25 x26      sp + 0x60  d10 d11
//!   sp + 0x10  x21 x22      sp + 0x40  x27 x28      sp + 0x70  d12 d13
//!   sp + 0x20  x23 x24      sp + 0x50  d8  d9       sp + 0x80  d14 d15
//!   sp + 0x90  x29 (fp)  x30 (lr = resume address)
//! ```
//!
//! Callee-saved registers are x19–x28, fp, lr and the low halves of v8–v15.

use super::FiberEntry;

/// See the x86_64 version for the contract.
///
/// # Safety
/// As for the x86_64 `switch`.
#[unsafe(naked)]
pub unsafe extern "C" fn switch(save_sp: *mut usize, next_sp: usize, arg: usize) -> usize {
    core::arch::naked_asm!(
        "sub sp, sp, #0xa0",
        "stp x19, x20, [sp, #0x00]",
        "stp x21, x22, [sp, #0x10]",
        "stp x23, x24, [sp, #0x20]",
        "stp x25, x26, [sp, #0x30]",
        "stp x27, x28, [sp, #0x40]",
        "stp d8, d9, [sp, #0x50]",
        "stp d10, d11, [sp, #0x60]",
        "stp d12, d13, [sp, #0x70]",
        "stp d14, d15, [sp, #0x80]",
        "stp x29, x30, [sp, #0x90]",
        // Publish the saved context, adopt the next one.
        "mov x9, sp",
        "str x9, [x0]",
        "mov sp, x1",
        "ldp x19, x20, [sp, #0x00]",
        "ldp x21, x22, [sp, #0x10]",
        "ldp x23, x24, [sp, #0x20]",
        "ldp x25, x26, [sp, #0x30]",
        "ldp x27, x28, [sp, #0x40]",
        "ldp d8, d9, [sp, #0x50]",
        "ldp d10, d11, [sp, #0x60]",
        "ldp d12, d13, [sp, #0x70]",
        "ldp d14, d15, [sp, #0x80]",
        "ldp x29, x30, [sp, #0x90]",
        "add sp, sp, #0xa0",
        // Hand over the value and resume (lr holds the resume address).
        "mov x0, x2",
        "br x30",
    )
}

/// New fibers start here with the entry in x19, its argument in x20 and the value handed over by
/// `switch` in x0.
#[unsafe(naked)]
unsafe extern "C" fn fiber_trampoline() -> ! {
    core::arch::naked_asm!("mov x1, x0", "mov x0, x20", "blr x19", "brk #1")
}

/// Prepares a fresh stack so that `switch(_, sp, _)` starts `entry(arg)` on it.
///
/// # Safety
/// `top` must be the 16-byte-aligned end of a writable stack with at least 256 bytes below it.
pub unsafe fn init_stack(top: usize, entry: FiberEntry, arg: usize) -> usize {
    let sp = top - 0xb0;
    let mut frame = [0usize; 0xa0 / 8];
    frame[0] = entry as *const () as usize; // x19
    frame[1] = arg; // x20
    frame[0x98 / 8] = fiber_trampoline as *const () as usize; // x30
    // SAFETY: the caller guarantees the range below `top` is writable.
    unsafe { core::ptr::copy_nonoverlapping(frame.as_ptr(), sp as *mut usize, frame.len()) };
    sp
}
