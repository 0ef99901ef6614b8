//! Calls: to functions of the program, to runtime entry points, and to support routines.
//!
//! * User functions are called directly through their module `FuncId`, arguments flattened by
//!   [`Shape`](super::abi::Shape) (a `&str` is two values, an aggregate its address), with the
//!   hidden result pointer first for an aggregate result (the calling convention of
//!   [`super::abi`]).
//! * Runtime and libc functions are declared only from `blood_abi::RuntimeFn` descriptors: the
//!   descriptor gives the symbol and the C signature; `&str` arguments are split into
//!   (pointer, length), and the flattened argument list must match the descriptor exactly.
//! * A call that never returns (a runtime `noreturn` function, or a user function returning `!`)
//!   is followed by a trap, so nothing after it is reachable.

use blood_abi::{Provider, RuntimeFn};
use cranelift_codegen::ir::{InstBuilder, Value};

use super::abi::{self, Shape};
use super::function::FunctionCx;
use super::values::CValue;
use super::{CgResult, CodegenError};
use crate::ir::{Callee, FuncId, Operand};
use crate::types::Ty;

/// Routines of the C compiler's support library (libgcc, or compiler-rt / Rust's
/// compiler-builtins inside the runtime archive), which `cc` links into every executable.
/// Cranelift has no inline lowering for these `i128` operations on x86_64 and aarch64. Also the
/// C library's `memmove` and `memset`, for large aggregates.
///
/// They are not part of the runtime contract, so they are not in `blood-abi`; they are described
/// with the same [`RuntimeFn`] type so there is one way to declare an import.
pub(crate) mod support {
    use blood_abi::AbiType::{F32, F64, I32, I64, I128, Ptr};
    use blood_abi::{AbiType, Provider, RuntimeFn};

    const fn builtin(name: &'static str, params: &'static [AbiType], ret: AbiType) -> RuntimeFn {
        RuntimeFn { name, params, ret: Some(ret), noreturn: false, provider: Provider::Libc }
    }

    /// `__int128 __divti3(__int128, __int128)`
    pub(crate) const DIVTI3: RuntimeFn = builtin("__divti3", &[I128, I128], I128);
    /// `unsigned __int128 __udivti3(unsigned __int128, unsigned __int128)`
    pub(crate) const UDIVTI3: RuntimeFn = builtin("__udivti3", &[I128, I128], I128);
    /// `__int128 __modti3(__int128, __int128)`
    pub(crate) const MODTI3: RuntimeFn = builtin("__modti3", &[I128, I128], I128);
    /// `unsigned __int128 __umodti3(unsigned __int128, unsigned __int128)`
    pub(crate) const UMODTI3: RuntimeFn = builtin("__umodti3", &[I128, I128], I128);
    /// `double __floattidf(__int128)`: nearest representable.
    pub(crate) const FLOATTIDF: RuntimeFn = builtin("__floattidf", &[I128], F64);
    /// `double __floatuntidf(unsigned __int128)`
    pub(crate) const FLOATUNTIDF: RuntimeFn = builtin("__floatuntidf", &[I128], F64);
    /// `float __floattisf(__int128)`
    pub(crate) const FLOATTISF: RuntimeFn = builtin("__floattisf", &[I128], F32);
    /// `float __floatuntisf(unsigned __int128)`
    pub(crate) const FLOATUNTISF: RuntimeFn = builtin("__floatuntisf", &[I128], F32);
    /// `void *memmove(void *, const void *, size_t)`: copies of large aggregates.
    pub(crate) const MEMMOVE: RuntimeFn = builtin("memmove", &[Ptr, Ptr, I64], Ptr);
    /// `void *memset(void *, int, size_t)`: large zero-filled arrays.
    pub(crate) const MEMSET: RuntimeFn = builtin("memset", &[Ptr, I32, I64], Ptr);
}

impl FunctionCx<'_, '_> {
    /// Lowers `callee(args)` whose result is stored in a local of type `dest_ty`.
    pub(crate) fn lower_call(&mut self, callee: &Callee, args: &[Operand], dest_ty: &Ty) -> CgResult<CValue> {
        match callee {
            Callee::Fn(id) => self.call_user(*id, args, None),
            Callee::Runtime(rf) => self.call_runtime(rf, args, dest_ty),
            Callee::Indirect(f) => self.call_indirect(f, args, None),
        }
    }

    /// Calls a function of the program. `sret` is the memory receiving an aggregate result.
    pub(crate) fn call_user(&mut self, id: FuncId, args: &[Operand], sret: Option<Value>) -> CgResult<CValue> {
        let index = id.0 as usize;
        let callee = self
            .program
            .functions
            .get(index)
            .ok_or_else(|| CodegenError::InvalidIr(format!("call to unknown function #{index}")))?;
        if args.len() != callee.param_count as usize {
            return Err(CodegenError::InvalidIr(format!(
                "`{}` takes {} arguments, called with {}",
                callee.name,
                callee.param_count,
                args.len()
            )));
        }
        let mut vals = Vec::with_capacity(args.len() + 1);
        match (abi::returns_in_memory(&callee.ret), sret) {
            (true, Some(dst)) => vals.push(dst),
            (false, None) => {}
            _ => {
                return Err(CodegenError::InvalidIr(format!(
                    "result of `{}` ({}) stored in a local of another kind",
                    callee.name, callee.ret
                )));
            }
        }
        for a in args {
            let value = self.argument(a)?;
            value.push_to(&mut vals);
        }
        let func_ref = self.func_ref(self.mcx.functions[index]);
        let call = self.bcx.ins().call(func_ref, &vals);
        if callee.ret == Ty::Never {
            self.trap_and_continue();
            return Ok(CValue::Zst);
        }
        if sret.is_some() {
            return Ok(CValue::Zst);
        }
        let shape = Shape::of(&callee.ret, self.mcx.pointer_type)?;
        let results = self.bcx.inst_results(call).to_vec();
        CValue::from_values(shape, &results)
    }

    /// An argument of a user call. An aggregate is passed by the address of its storage, which
    /// the callee only reads; if that storage is mutably borrowed somewhere in this function, the
    /// borrow could change it during the call, so a copy is passed instead.
    pub(crate) fn argument(&mut self, a: &Operand) -> CgResult<CValue> {
        let value = self.operand(a)?;
        match (a, value) {
            (Operand::Local(l), CValue::Mem(src)) if self.frame.borrowed_mut[l.0 as usize] => {
                let ty = self.local_ty(*l)?.clone();
                let layout = self.layout(&ty)?;
                let copy = self.temp_slot_addr(layout);
                self.copy_memory(copy, src, layout)?;
                Ok(CValue::Mem(copy))
            }
            _ => Ok(value),
        }
    }

    fn call_runtime(&mut self, rf: &RuntimeFn, args: &[Operand], dest_ty: &Ty) -> CgResult<CValue> {
        let mut vals = Vec::with_capacity(rf.params.len());
        for a in args {
            self.operand(a)?.push_to(&mut vals);
        }
        if vals.len() != rf.params.len() {
            return Err(CodegenError::InvalidIr(format!(
                "`{}` takes {} ABI arguments, called with {} (after splitting `&str`)",
                rf.name,
                rf.params.len(),
                vals.len()
            )));
        }
        let results = self.call_import(rf, &vals)?;
        if rf.noreturn {
            self.trap_and_continue();
            return Ok(CValue::Zst);
        }
        let shape = Shape::of(dest_ty, self.mcx.pointer_type)?;
        match (shape, results.as_slice()) {
            (Shape::Zst, _) => Ok(CValue::Zst),
            (Shape::Scalar(t), [v]) if self.bcx.func.dfg.value_type(*v) == t => Ok(CValue::One(*v)),
            (Shape::Pair(..), [ptr, len]) if rf.ret == Some(blood_abi::AbiType::Str) => Ok(CValue::Pair(*ptr, *len)),
            _ => Err(CodegenError::InvalidIr(format!(
                "result of `{}` ({:?}) stored in a local of type {dest_ty}",
                rf.name, rf.ret
            ))),
        }
    }

    /// Calls an imported function with already-flattened arguments; returns its results.
    pub(crate) fn call_import(&mut self, rf: &RuntimeFn, vals: &[Value]) -> CgResult<Vec<Value>> {
        let pointer = self.mcx.pointer_type;
        for (i, (&v, &p)) in vals.iter().zip(rf.params).enumerate() {
            let have = self.bcx.func.dfg.value_type(v);
            if have != abi::abi_type(p, pointer) {
                return Err(CodegenError::InvalidIr(format!(
                    "argument {i} of `{}` is {have}, the ABI expects {p:?}",
                    rf.name
                )));
            }
        }
        let id = self.mcx.import(rf)?;
        let func_ref = self.func_ref(id);
        let call = self.bcx.ins().call(func_ref, vals);
        Ok(self.bcx.inst_results(call).to_vec())
    }

    /// Calls a libc / support routine returning exactly one value.
    pub(crate) fn call_support(&mut self, rf: &RuntimeFn, vals: &[Value]) -> CgResult<Value> {
        debug_assert!(rf.provider == Provider::Libc && rf.ret.is_some());
        match self.call_import(rf, vals)?.as_slice() {
            [v] => Ok(*v),
            _ => Err(CodegenError::InvalidIr(format!("`{}` must return one value", rf.name))),
        }
    }
}
