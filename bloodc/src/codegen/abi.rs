//! How Blood values are represented in Cranelift, the calling convention, and the signatures
//! built from them.
//!
//! One rule for every place a value crosses (locals, parameters, returns, runtime calls), so the
//! pieces agree by construction:
//!
//! | Blood type | Cranelift values |
//! |---|---|
//! | `()`, `!` | none |
//! | `bool` | one `i8` holding 0 or 1 (what `icmp`/`fcmp` produce) |
//! | `char` | one `i32` (a Unicode scalar value) |
//! | integers | one `iN` of the type's width; `i128`/`u128` are a single `i128` |
//! | `f32`, `f64` | one `f32` / `f64` |
//! | fieldless enums | one `i64` (the discriminant) |
//! | `&T` (`T` sized) | one pointer |
//! | `&str`, `&[T]` | two: pointer, then length (`i64`; bytes for `&str`, elements for `&[T]`) |
//! | `fn(A) -> R` | two pointers: code, then environment (see [`super::closures`]) |
//! | structs, payload enums, tuples, arrays | in memory (see [`super::layout_of`]); one pointer to it |
//!
//! # Calling convention
//!
//! Blood functions use the platform C convention (System V on x86-64) over the flattened values
//! above, plus two rules for aggregates, chosen so that passing a large value costs one pointer
//! and no copy in the common case:
//! * **Aggregate parameters are passed by pointer to memory the callee must not modify.** The
//!   caller passes the address of its own value (copying it to a temporary first only if the
//!   value's storage is mutably borrowed somewhere in the caller, so nothing can change it during
//!   the call). A callee that writes to such a parameter, or borrows it mutably, copies it into a
//!   stack slot of its own in its prologue (decided by scanning its IR, see [`super::frame`]);
//!   otherwise it reads the caller's memory in place.
//! * **Aggregate results are returned through a hidden first parameter** (`sret`): a pointer to
//!   memory the caller provides (the destination local's slot). The callee writes it only in
//!   `return`, by copying the returned value, so the destination may be one of the arguments
//!   (`x = f(x)`): every read of the argument happens before the final copy, and that copy
//!   tolerates exact overlap.
//!
//! Runtime and libc functions (`Callee::Runtime`) never take or return aggregates; their
//! signatures come from `blood-abi` descriptors ([`runtime_signature`]).

use blood_abi::{AbiType, RuntimeFn};
use cranelift_codegen::ir::{AbiParam, Signature, Type, types};
use cranelift_codegen::isa::CallConv;

use super::{CgResult, CodegenError};
use crate::ir;
use crate::types::{ENUM_REPR, FloatTy, IntTy, Ty};

/// The Cranelift values making up one Blood value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// No run-time data (`()`, `!`).
    Zst,
    Scalar(Type),
    /// `&str`, `&[T]`: (pointer, length).
    Pair(Type, Type),
    /// An aggregate: it lives in memory, and a value of it in registers is its address.
    Memory,
}

impl Shape {
    /// The shape of a value of `ty`; types codegen does not know yet are an error.
    pub(crate) fn of(ty: &Ty, pointer: Type) -> CgResult<Shape> {
        Ok(match ty {
            Ty::Unit | Ty::Never => Shape::Zst,
            Ty::Bool => Shape::Scalar(types::I8),
            Ty::Char => Shape::Scalar(types::I32),
            Ty::Int(it) => Shape::Scalar(int_type(*it)),
            Ty::Float(ft) => Shape::Scalar(float_type(*ft)),
            Ty::Str => Shape::Pair(pointer, types::I64),
            Ty::Enum(_) => Shape::Scalar(int_type(ENUM_REPR)),
            Ty::Ref(inner, _) => match &**inner {
                Ty::Slice(_) => Shape::Pair(pointer, types::I64),
                _ => Shape::Scalar(pointer),
            },
            // (code pointer, environment pointer): see `super::closures`.
            Ty::Fn(..) => Shape::Pair(pointer, pointer),
            Ty::Adt(..) | Ty::Tuple(_) | Ty::Array(..) => Shape::Memory,
            // `Box<T>` is one pointer; `Vec<T>` and `String` are three words in memory.
            Ty::Owned(crate::types::OwnedKind::Box, _) => Shape::Scalar(pointer),
            Ty::Owned(..) => Shape::Memory,
            Ty::Slice(_) | Ty::Infer(_) | Ty::Param(..) | Ty::Error => {
                return Err(CodegenError::InvalidIr(format!("a value of type {ty}")));
            }
        })
    }

    /// Appends the Cranelift types of this shape, as a parameter, to `out`, in order.
    pub(crate) fn push_types(self, pointer: Type, out: &mut Vec<Type>) {
        match self {
            Shape::Zst => {}
            Shape::Scalar(t) => out.push(t),
            Shape::Pair(a, b) => {
                out.push(a);
                out.push(b);
            }
            Shape::Memory => out.push(pointer),
        }
    }

    /// How many Cranelift values a parameter of this shape takes.
    pub(crate) fn param_count(self) -> usize {
        match self {
            Shape::Zst => 0,
            Shape::Scalar(_) | Shape::Memory => 1,
            Shape::Pair(..) => 2,
        }
    }
}

pub(crate) fn int_type(it: IntTy) -> Type {
    match it.bits() {
        8 => types::I8,
        16 => types::I16,
        32 => types::I32,
        64 => types::I64,
        _ => types::I128,
    }
}

pub(crate) fn float_type(ft: FloatTy) -> Type {
    match ft {
        FloatTy::F32 => types::F32,
        FloatTy::F64 => types::F64,
    }
}

/// Whether a function returning `ret` takes a hidden result pointer (see the module doc).
pub(crate) fn returns_in_memory(ret: &Ty) -> bool {
    ret.is_aggregate()
}

/// The signature of a Blood function: parameters and return value flattened by [`Shape`], with
/// the hidden result pointer first for aggregate results.
pub(crate) fn user_signature(func: &ir::Function, pointer: Type, call_conv: CallConv) -> CgResult<Signature> {
    let mut sig = Signature::new(call_conv);
    let mut tys = Vec::new();
    if returns_in_memory(&func.ret) {
        tys.push(pointer);
    }
    for p in func.params() {
        Shape::of(&func.local(p).ty, pointer)?.push_types(pointer, &mut tys);
    }
    sig.params.extend(tys.drain(..).map(AbiParam::new));
    if !returns_in_memory(&func.ret) {
        Shape::of(&func.ret, pointer)?.push_types(pointer, &mut tys);
        sig.returns.extend(tys.drain(..).map(AbiParam::new));
    }
    Ok(sig)
}

pub(crate) fn abi_type(t: AbiType, pointer: Type) -> Type {
    match t {
        AbiType::I8 => types::I8,
        AbiType::I16 => types::I16,
        AbiType::I32 => types::I32,
        AbiType::I64 => types::I64,
        AbiType::I128 => types::I128,
        AbiType::F32 => types::F32,
        AbiType::F64 => types::F64,
        // A string result's first word; `runtime_signature` adds the length word.
        AbiType::Ptr | AbiType::Str => pointer,
    }
}

/// The C signature of a runtime / libc entry point. Narrow integers are sign-extended to 32 bits
/// at the call: the C ABI leaves the upper bits unspecified, but clang- and rustc-compiled
/// callees rely on the extension, so we provide it.
pub(crate) fn runtime_signature(rf: &RuntimeFn, pointer: Type, call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    for &p in rf.params {
        let t = abi_type(p, pointer);
        let param = if matches!(p, AbiType::I8 | AbiType::I16) { AbiParam::new(t).sext() } else { AbiParam::new(t) };
        sig.params.push(param);
    }
    match rf.ret {
        // A `&str` result comes back as C returns a two-word struct: two return registers.
        Some(AbiType::Str) => {
            sig.returns.push(AbiParam::new(pointer));
            sig.returns.push(AbiParam::new(types::I64));
        }
        Some(r) => sig.returns.push(AbiParam::new(abi_type(r, pointer))),
        None => {}
    }
    sig
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let p = types::I64;
        assert_eq!(Shape::of(&Ty::Unit, p).unwrap(), Shape::Zst);
        assert_eq!(Shape::of(&Ty::Never, p).unwrap(), Shape::Zst);
        assert_eq!(Shape::of(&Ty::Bool, p).unwrap(), Shape::Scalar(types::I8));
        assert_eq!(Shape::of(&Ty::Char, p).unwrap(), Shape::Scalar(types::I32));
        assert_eq!(Shape::of(&Ty::Int(IntTy::U128), p).unwrap(), Shape::Scalar(types::I128));
        assert_eq!(Shape::of(&Ty::Int(IntTy::Usize), p).unwrap(), Shape::Scalar(types::I64));
        assert_eq!(Shape::of(&Ty::Str, p).unwrap(), Shape::Pair(types::I64, types::I64));
    }

    #[test]
    fn runtime_signature_splits_and_extends() {
        let sig = runtime_signature(&blood_abi::PRINT_BOOL, types::I64, CallConv::SystemV);
        assert_eq!(sig.params.len(), 2);
        assert_eq!(sig.params[1].extension, cranelift_codegen::ir::ArgumentExtension::Sext);
        let sig = runtime_signature(&blood_abi::RUNTIME_SHUTDOWN, types::I64, CallConv::SystemV);
        assert_eq!(sig.returns.len(), 1);
    }
}
