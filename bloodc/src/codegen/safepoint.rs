//! Lowering of `Stmt::Safepoint`, the preemption check (DESIGN.md §3 "Preemption").
//!
//! The runtime exports one global word, `blood_abi::PREEMPT_FLAG_SYMBOL`, that its monitor sets
//! when some worker's fiber has overrun its time slice. Thread-local storage is avoided on
//! purpose: Cranelift's ELF TLS access is a call to `__tls_get_addr`.
//!
//! * **x86_64: the pinned register.** The flag's address lives in Cranelift's pinned register
//!   (`r15`, `enable_pinned_reg`) for the whole program, the way Go keeps `g` in `r14`: no
//!   function computes it or keeps a copy of it alive across calls (which would cost a
//!   callee-saved register and its save and restore in every recursive function), and the
//!   register allocator never hands `r15` out. `r15` is callee-saved in the C convention, so the
//!   runtime's code preserves it, and the context switch saves and restores it with the rest
//!   of a fiber's registers. Every way into Blood code from C sets it: the C `main` wrapper,
//!   the root fiber (`entry.rs`) and every function whose address is passed to the runtime
//!   (`fn_addr`: fiber trampolines, thread and fiber entry functions) save the caller's `r15`,
//!   load the address, and restore the caller's value before returning.
//! * **Other targets:** in the entry block, the flag's address is computed once and kept for
//!   the whole function (a value defined in the entry block dominates every use). The symbol is
//!   marked colocated (the runtime is linked statically); in PIC code Cranelift emits a
//!   GOT-relative load, which the linker relaxes into a PC-relative address computation.
//! * Each safepoint is then the fast path `atomic_load.i32 [addr]; brif flag, cold, cont` — one
//!   load, one test-and-branch — and a cold block (placed at the end of the function by
//!   `set_cold_block`) that calls the slow path and jumps back.
//!
//! The load is an `atomic_load` (a plain `mov` on x86_64) rather than a `load`: the flag is an
//! `AtomicU32` written by another thread, and Cranelift's redundant-load elimination must not
//! merge the check in a loop with an earlier one.
//!
//! **The slow-path call must not disturb the fast path.** A plain call in the cold block clobbers
//! the caller-saved registers, so every value live across a safepoint (loop counters,
//! accumulators) would be forced into callee-saved registers or moved around the check, and the
//! hot loop pays for the cold call. So on targets where Cranelift implements the `PreserveAll`
//! convention (x86_64, aarch64), each object gets one local trampoline, `PreserveAll` itself,
//! which calls `blood_safepoint_slow` (C convention) and restores every register it touched: at
//! the safepoint the call clobbers nothing. Other targets call `blood_safepoint_slow` directly.

use cranelift_codegen::Context;
use cranelift_codegen::ir::{Function, InstBuilder, MemFlagsData, Signature, Value, types};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module};

use super::function::{FunctionCx, import_func};
use super::{CgResult, CodegenError, ModuleCx, clif_name, module_error};
use crate::ir::{Rvalue, Stmt, Ty};

// The flag is loaded as an `i32`.
const _: () = assert!(blood_abi::PREEMPT_FLAG_SIZE == 4);

/// Symbol of the per-object `PreserveAll` trampoline (local to the object, so it cannot clash
/// between objects; user symbols never start with `__blood`).
const TRAMPOLINE_SYMBOL: &str = "__blood_safepoint_preserve_all";

impl ModuleCx {
    /// The function a safepoint's cold block calls: the trampoline where available, else the
    /// runtime's slow path itself.
    fn safepoint_slow_path(&mut self) -> CgResult<FuncId> {
        if !self.has_preserve_all {
            return self.import(&blood_abi::SAFEPOINT_SLOW);
        }
        if let Some(id) = self.safepoint_trampoline {
            return Ok(id);
        }
        let sig = Signature::new(CallConv::PreserveAll);
        let id = self.module.declare_function(TRAMPOLINE_SYMBOL, Linkage::Local, &sig).map_err(module_error)?;
        self.safepoint_trampoline = Some(id);
        Ok(id)
    }
}

/// On entry into Blood code from C: saves the caller's pinned register and loads the flag's
/// address into it (nothing to do without a pinned flag). The result goes to [`leave_to_c`].
pub(crate) fn enter_from_c(mcx: &mut ModuleCx, bcx: &mut FunctionBuilder<'_>) -> CgResult<Option<Value>> {
    if !mcx.pinned_flag {
        return Ok(None);
    }
    let saved = bcx.ins().get_pinned_reg(mcx.pointer_type);
    let flag = mcx.preempt_flag()?;
    let gv = mcx.module.declare_data_in_func(flag, bcx.func);
    let addr = bcx.ins().symbol_value(mcx.pointer_type, gv);
    bcx.ins().set_pinned_reg(addr);
    Ok(Some(saved))
}

/// Before returning to C: restores the caller's pinned register.
pub(crate) fn leave_to_c(bcx: &mut FunctionBuilder<'_>, saved: Option<Value>) {
    if let Some(saved) = saved {
        bcx.ins().set_pinned_reg(saved);
    }
}

/// Builds the trampoline (declared by an earlier safepoint) into `ctx.func`.
pub(crate) fn lower_trampoline(
    mcx: &mut ModuleCx,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> CgResult<()> {
    let slow = mcx.import(&blood_abi::SAFEPOINT_SLOW)?;
    ctx.func = Function::with_name_signature(clif_name(TRAMPOLINE_SYMBOL), Signature::new(CallConv::PreserveAll));
    let mut bcx = FunctionBuilder::new(&mut ctx.func, fctx);
    let slow = import_func(mcx, bcx.func, slow);
    let block = bcx.create_block();
    bcx.switch_to_block(block);
    bcx.ins().call(slow, &[]);
    bcx.ins().return_(&[]);
    bcx.seal_all_blocks();
    bcx.finalize(mcx.module.target_config());
    Ok(())
}

impl FunctionCx<'_, '_> {
    /// Computes the flag's address; called in the entry block of functions with safepoints.
    ///
    /// With the pinned register, a function that makes calls reads it at each check: a copy
    /// kept alive across calls would need a callee-saved register (`get_pinned_reg` is never
    /// merged or hoisted). A function whose calls never return (panics) keeps one copy in a
    /// scratch register, which saves a move in each check of its loops.
    pub(crate) fn init_safepoints(&mut self) -> CgResult<()> {
        let addr = if !self.mcx.pinned_flag {
            self.preempt_flag_address()?
        } else if self.makes_returning_calls() {
            return Ok(());
        } else {
            self.bcx.ins().get_pinned_reg(self.mcx.pointer_type)
        };
        self.preempt_flag_addr = Some(addr);
        Ok(())
    }

    fn makes_returning_calls(&self) -> bool {
        self.func.blocks.iter().flat_map(|b| &b.stmts).any(|s| match s {
            Stmt::Assign(dest, Rvalue::Call(..)) => self.func.local(*dest).ty != Ty::Never,
            _ => false,
        })
    }

    fn preempt_flag_address(&mut self) -> CgResult<Value> {
        let flag = self.mcx.preempt_flag()?;
        let gv = self.data_ref(flag);
        Ok(self.bcx.ins().symbol_value(self.mcx.pointer_type, gv))
    }

    pub(crate) fn enter_from_c(&mut self) -> CgResult<Option<Value>> {
        enter_from_c(self.mcx, &mut self.bcx)
    }

    pub(crate) fn leave_to_c(&mut self, saved: Option<Value>) {
        leave_to_c(&mut self.bcx, saved);
    }

    pub(crate) fn lower_safepoint(&mut self) -> CgResult<()> {
        let addr = match self.preempt_flag_addr {
            Some(addr) => addr,
            None if self.mcx.pinned_flag => self.bcx.ins().get_pinned_reg(self.mcx.pointer_type),
            None => return Err(CodegenError::InvalidIr("safepoint lowered before its entry setup".to_string())),
        };
        let set = self.bcx.ins().atomic_load(types::I32, MemFlagsData::trusted(), addr);
        let cold = self.bcx.create_block();
        self.bcx.set_cold_block(cold);
        let cont = self.bcx.create_block();
        // A check in a cold block (an edge check, `layout.rs`) continues in cold code too: the
        // moves on its way back to hot code must not land between hot blocks.
        if self.bcx.current_block().is_some_and(|b| self.bcx.func.layout.is_cold(b)) {
            self.bcx.set_cold_block(cont);
        }
        self.bcx.ins().brif(set, cold, &[], cont, &[]);

        self.bcx.switch_to_block(cold);
        let slow = self.mcx.safepoint_slow_path()?;
        let slow = self.func_ref(slow);
        self.bcx.ins().call(slow, &[]);
        self.bcx.ins().jump(cont, &[]);

        self.bcx.switch_to_block(cont);
        Ok(())
    }
}
