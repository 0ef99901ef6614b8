//! x86_64 (System V) context switch.
//!
//! Saved frame of a suspended context, from the saved stack pointer upwards:
//!
//! ```text
//!   sp + 0x00  resume address (a label inside the suspended `switch`, or the fiber trampoline)
//!   sp + 0x08  rbx
//!   sp + 0x10  rbp
//! ```
//!
//! `switch` is inline assembly expanded into its caller, not a function: the caller's `r12`–`r15`
//! and every caller-saved register are declared clobbered, so the compiler saves only what is
//! live; `rbx` and `rbp` (which inline assembly may not declare clobbered) are pushed by hand.
//! It makes no system call. The MXCSR control bits and the x87 control word are also
//! callee-saved in the SysV ABI, but neither Blood code nor the runtime changes them, so every
//! context shares the thread's values.
//!
//! Why no `call`/`ret`: the CPU predicts `ret` with a return-stack buffer filled by `call`. A
//! `call switch` whose `ret` happens on another stack unbalances it, and then *every* return the
//! resumed context makes mispredicts (~5 ns each; a yield returns through three or four frames).
//! Here the save side pushes a resume label's address (no RSB entry) and the restore side jumps
//! to it, so the buffer stays balanced: the resumed context's returns are predicted from the
//! suspended context's call chain, which is usually the same code (fibers parking and yielding
//! through the same paths). Yield benchmark on the 2-core dev machine: 25 ns → 16–19 ns.

use super::FiberEntry;

/// Saves the current context (resume address, `rbx`, `rbp`; the compiler saves the rest it
/// needs) on its stack, stores its stack pointer in `*save_sp`, loads `next_sp` and resumes that
/// context, handing it `arg` as the return value of *its* pending `switch`. Returns (in the
/// original context) when someone switches back, with the value they handed over.
///
/// # Safety
/// `next_sp` must be a stack pointer saved by `switch` or prepared by [`init_stack`], whose stack
/// is alive and not in use by any other thread; `save_sp` must be valid for a write.
#[inline(always)]
pub unsafe fn switch(save_sp: *mut usize, next_sp: usize, arg: usize) -> usize {
    let handed: usize;
    // SAFETY: the caller guarantees both contexts are valid (see above). The assembly leaves
    // the stack pointer as it found it when this context is resumed (it pops what it pushed),
    // and declares every other register it or the resumed context may change as clobbered.
    unsafe {
        core::arch::asm!(
            // Save: rbp, rbx, then the resume address (label 2 below).
            "push rbp",
            "push rbx",
            "lea rcx, [rip + 2f]",
            "push rcx",
            // Publish the current stack pointer: this *is* the saved context.
            "mov [rdi], rsp",
            // Adopt the next context's stack and jump to its resume address; `rax` carries the
            // handed-over value.
            "mov rsp, rsi",
            "mov rax, rdx",
            "pop rcx",
            "jmp rcx",
            // Resumed here by some later `switch`: restore rbx and rbp.
            "2:",
            "pop rbx",
            "pop rbp",
            in("rdi") save_sp,
            in("rsi") next_sp,
            in("rdx") arg,
            lateout("rax") handed,
            out("r12") _,
            out("r13") _,
            out("r14") _,
            out("r15") _,
            clobber_abi("C"),
        );
    }
    handed
}

/// First code a new fiber runs, reached by `switch`'s `jmp rcx` with the prepared frame (see
/// [`init_stack`]) under `rsp` and the handed-over value in `rax`.
#[unsafe(naked)]
unsafe extern "C" fn fiber_trampoline() -> ! {
    core::arch::naked_asm!(
        // The prepared rbx and rbp slots (zero: a null frame pointer ends frame-pointer walks).
        "pop rbx",
        "pop rbp",
        // The entry function and its argument; the handed-over value is its second argument.
        "pop rcx",
        "pop rdi",
        "mov rsi, rax",
        // rsp is now 16-byte aligned; `call` pushes a return address, so the entry sees
        // rsp ≡ 8 (mod 16) as the ABI demands.
        "call rcx",
        // The entry never returns; trap if it ever does.
        "ud2",
    )
}

/// Prepares a fresh stack so that `switch(_, sp, _)` starts `entry(arg, handed)` on it; returns
/// that sp.
///
/// # Safety
/// `top` must be the 16-byte-aligned exclusive upper end of a writable stack with at least 128
/// bytes available below it.
pub unsafe fn init_stack(top: usize, entry: FiberEntry, arg: usize) -> usize {
    debug_assert_eq!(top % 16, 0);
    // Layout (growing down from `top`): a zero word (a null return address that terminates
    // backtraces), padding to keep alignment, then the frame the trampoline pops.
    let frame = [
        fiber_trampoline as *const () as usize, // resume address consumed by `pop rcx; jmp rcx`
        0,                                      // rbx
        0,                                      // rbp: null frame pointer ends frame-pointer walks
        entry as *const () as usize,            // the entry function
        arg,                                    // its argument
        0,                                      // padding: rsp points here when `call` runs
        0,                                      // top word
    ];
    // After the trampoline's pops rsp = sp + 40 = top - 16, which is 16-byte aligned.
    let sp = top - frame.len() * 8;
    // SAFETY: the caller guarantees `[top - 128, top)` is writable and 16-byte aligned.
    unsafe { core::ptr::copy_nonoverlapping(frame.as_ptr(), sp as *mut usize, frame.len()) };
    sp
}
