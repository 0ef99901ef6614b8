//! How Blood values are represented in Cranelift, and the signatures built from that.
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
//! | `&str` | two: pointer, then byte length (`i64`) — the runtime ABI's split (blood-abi) |

use blood_abi::{AbiType, RuntimeFn};
use cranelift_codegen::ir::{AbiParam, Signature, Type, types};
use cranelift_codegen::isa::CallConv;

use super::{CgResult, CodegenError};
use crate::ir;
use crate::types::{FloatTy, IntTy, Ty};

/// The Cranelift values making up one Blood value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// No run-time data (`()`, `!`).
    Zst,
    Scalar(Type),
    /// `&str`: (pointer, length).
    Pair(Type, Type),
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
            #[allow(unreachable_patterns, reason = "types added to the language later")]
            other => return Err(CodegenError::Unsupported(format!("values of type {other}"))),
        })
    }

    /// Appends the Cranelift types of this shape to `out`, in order.
    pub(crate) fn push_types(self, out: &mut Vec<Type>) {
        match self {
            Shape::Zst => {}
            Shape::Scalar(t) => out.push(t),
            Shape::Pair(a, b) => {
                out.push(a);
                out.push(b);
            }
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

/// The signature of a Blood function: parameters and return value flattened by [`Shape`].
pub(crate) fn user_signature(func: &ir::Function, pointer: Type, call_conv: CallConv) -> CgResult<Signature> {
    let mut sig = Signature::new(call_conv);
    let mut tys = Vec::new();
    for p in func.params() {
        Shape::of(&func.local(p).ty, pointer)?.push_types(&mut tys);
    }
    sig.params.extend(tys.drain(..).map(AbiParam::new));
    Shape::of(&func.ret, pointer)?.push_types(&mut tys);
    sig.returns.extend(tys.drain(..).map(AbiParam::new));
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
