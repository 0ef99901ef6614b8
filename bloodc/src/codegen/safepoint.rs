//! Lowering of `Stmt::Safepoint`, the preemption check (DESIGN.md §3 "Preemption").
//!
//! The runtime exports one global word, `blood_abi::PREEMPT_FLAG_SYMBOL`, that its monitor sets
//! when some worker's fiber has overrun its time slice. Thread-local storage is avoided on
//! purpose: Cranelift's ELF TLS access is a call to `__tls_get_addr`.
//!
//! * In the entry block, the flag's address is computed once (a GOT load in PIC code) and kept
//!   for the whole function (a value defined in the entry block dominates every use).
//! * Each safepoint is then the fast path `atomic_load.i32 [addr]; brif flag, cold, cont` — one
//!   load, one test-and-branch — and a cold block (placed at the end of the function by
//!   `set_cold_block`) that calls `blood_safepoint_slow()` and jumps back.
//!
//! The load is an `atomic_load` (a plain `mov` on x86_64) rather than a `load`: the flag is an
//! `AtomicU32` written by another thread, and Cranelift's redundant-load elimination must not
//! merge the check in a loop with an earlier one.

use cranelift_codegen::ir::{InstBuilder, MemFlagsData, types};

use super::function::FunctionCx;
use super::{CgResult, CodegenError};

// The flag is loaded as an `i32`.
const _: () = assert!(blood_abi::PREEMPT_FLAG_SIZE == 4);

impl FunctionCx<'_, '_> {
    /// Computes the flag's address; called in the entry block of functions with safepoints.
    pub(crate) fn init_safepoints(&mut self) -> CgResult<()> {
        let flag = self.mcx.preempt_flag()?;
        let gv = self.data_ref(flag);
        let addr = self.bcx.ins().symbol_value(self.mcx.pointer_type, gv);
        self.preempt_flag_addr = Some(addr);
        Ok(())
    }

    pub(crate) fn lower_safepoint(&mut self) -> CgResult<()> {
        let Some(addr) = self.preempt_flag_addr else {
            return Err(CodegenError::InvalidIr("safepoint lowered before its entry setup".to_string()));
        };
        let flag = self.bcx.ins().atomic_load(types::I32, MemFlagsData::trusted(), addr);
        let cold = self.bcx.create_block();
        self.bcx.set_cold_block(cold);
        let cont = self.bcx.create_block();
        self.bcx.ins().brif(flag, cold, &[], cont, &[]);

        self.bcx.switch_to_block(cold);
        self.call_import(&blood_abi::SAFEPOINT_SLOW, &[])?;
        self.bcx.ins().jump(cont, &[]);

        self.bcx.switch_to_block(cont);
        Ok(())
    }
}
