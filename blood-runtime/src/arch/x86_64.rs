//! x86_64 (System V) context switch.
//!
//! Saved frame of a suspended context, from the saved stack pointer upwards:
//!
//! ```text
//!   sp + 0x00  r15
//!   sp + 0x08  r14
//!   sp + 0x10  r13
//!   sp + 0x18  r12
//!   sp + 0x20  rbx
//!   sp + 0x28  rbp
//!   sp + 0x30  resume address (the return address pushed by `call switch`)
//! ```
//!
//! Only the callee-saved general registers and `rsp` are switched; `switch` makes no system call.
//! The MXCSR control bits and the x87 control word are also callee-saved in the SysV ABI, but
//! neither Blood code nor the runtime changes them, so every context shares the thread's values.
//! `switch` returns with `pop rcx; jmp rcx` instead of `ret`: after a stack swap the CPU's
//! return-stack predictor always mispredicts a `ret` (10.8 ns vs 3 ns per switch measured here).

use super::FiberEntry;

/// Saves the current context's callee-saved registers on its stack, stores its stack pointer in
/// `*save_sp`, loads `next_sp` and resumes that context, handing it `arg` as the return value of
/// *its* pending `switch` call. Returns (in the original context) when someone switches back.
///
/// # Safety
/// `next_sp` must be a stack pointer saved by `switch` or prepared by [`init_stack`], whose stack
/// is alive and not in use by any other thread; `save_sp` must be valid for a write.
#[unsafe(naked)]
pub unsafe extern "C" fn switch(save_sp: *mut usize, next_sp: usize, arg: usize) -> usize {
    core::arch::naked_asm!(
        // Save the callee-saved registers of the current context (the return address is already
        // on the stack, pushed by the `call` that brought us here).
        "push rbp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        // Publish the current stack pointer: this *is* the saved context.
        "mov [rdi], rsp",
        // Adopt the next context's stack.
        "mov rsp, rsi",
        // Restore its callee-saved registers in reverse order.
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        // The value handed over becomes the return value of the resumed `switch` call.
        "mov rax, rdx",
        // Return to the resume address without `ret` (see the module header).
        "pop rcx",
        "jmp rcx",
    )
}

/// First code a new fiber runs: reached by `switch`'s `jmp rcx` with `rsp` 16-byte aligned, the
/// entry function in `r12` and its argument in `r13` (restored from the prepared frame).
#[unsafe(naked)]
unsafe extern "C" fn fiber_trampoline() -> ! {
    core::arch::naked_asm!(
        // Argument of the entry function.
        "mov rdi, r13",
        // `call` pushes a return address, so the entry sees rsp ≡ 8 (mod 16) as the ABI demands.
        "call r12",
        // The entry never returns; trap if it ever does.
        "ud2",
    )
}

/// Prepares a fresh stack so that `switch(_, sp, _)` starts `entry(arg)` on it; returns that sp.
///
/// # Safety
/// `top` must be the 16-byte-aligned exclusive upper end of a writable stack with at least 128
/// bytes available below it.
pub unsafe fn init_stack(top: usize, entry: FiberEntry, arg: usize) -> usize {
    debug_assert_eq!(top % 16, 0);
    // Layout (growing down from `top`): a zero word (a null return address that terminates
    // backtraces), padding to keep alignment, the resume address, then six saved registers.
    let frame = [
        0usize,                                 // r15
        0,                                      // r14
        arg,                                    // r13: argument of `entry`
        entry as *const () as usize,            // r12: the entry function
        0,                                      // rbx
        0,                                      // rbp: null frame pointer ends frame-pointer walks
        fiber_trampoline as *const () as usize, // resume address consumed by `pop rcx; jmp rcx`
        0,                                      // padding: rsp points here when the trampoline runs
        0,                                      // top word
    ];
    // After popping 7 words rsp = sp + 56 = top - 16, which is 16-byte aligned, so the
    // trampoline's `call` gives the entry function the ABI's rsp ≡ 8 (mod 16).
    let sp = top - frame.len() * 8;
    // SAFETY: the caller guarantees `[top - 128, top)` is writable and 16-byte aligned.
    unsafe { core::ptr::copy_nonoverlapping(frame.as_ptr(), sp as *mut usize, frame.len()) };
    sp
}
