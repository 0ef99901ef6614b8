//! Binary and unary operators and intrinsics (LANGUAGE.md §3.4–§3.5).
//!
//! The operand type alone selects the instruction (the IR invariant): signedness picks
//! `sdiv`/`udiv`, `sshr`/`ushr` and signed/unsigned comparisons. Points that need care:
//! * `+ - *` and negation wrap: Cranelift's integer instructions already do.
//! * Division must never trap. The IR branches to a panic before dividing by zero, but the
//!   hardware `div` traps on zero *and* on `MIN / -1`, so a non-constant divisor is replaced by 1
//!   when it is 0 or -1, and the `-1` case is patched afterwards (`x / -1 == -x` wrapping,
//!   `x % -1 == 0`). Constant divisors skip the guards.
//! * Shift amounts: CLIF shifts take the amount modulo the width of the shifted value, exactly
//!   the language rule; a 128-bit amount is narrowed first (the low bits decide the result).
//! * `i128` division has no inline lowering in Cranelift: it calls `__divti3` and friends.
//! * Float comparisons are ordered except `!=`, which is true when either side is NaN.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};

use super::abi::{float_type, int_type};
use super::calls::support;
use super::function::FunctionCx;
use super::values::CValue;
use super::{CgResult, CodegenError};
use crate::ir::{BinOp, Const, Intrinsic, Operand, UnOp};
use crate::types::{FloatTy, IntTy, Ty};

impl FunctionCx<'_, '_> {
    pub(crate) fn lower_binary(&mut self, op: BinOp, lhs: &Operand, rhs: &Operand) -> CgResult<CValue> {
        let ty = self.operand_ty(lhs)?;
        let v = match ty {
            Ty::Int(it) => self.int_binary(op, it, lhs, rhs)?,
            Ty::Float(ft) => self.float_binary(op, ft, lhs, rhs)?,
            Ty::Bool | Ty::Char => self.bool_char_binary(op, &ty, lhs, rhs)?,
            Ty::Unit | Ty::Never => {
                // `()` has one value: every `()` equals every other.
                let result = match op {
                    BinOp::Eq | BinOp::Le | BinOp::Ge => true,
                    BinOp::Ne | BinOp::Lt | BinOp::Gt => false,
                    _ => return Err(invalid_operator(op, &ty)),
                };
                self.bcx.ins().iconst(types::I8, i64::from(result))
            }
            other => return Err(CodegenError::Unsupported(format!("operator {op:?} on {other}"))),
        };
        Ok(CValue::One(v))
    }

    fn int_binary(&mut self, op: BinOp, it: IntTy, lhs: &Operand, rhs: &Operand) -> CgResult<Value> {
        let a = self.scalar(lhs)?;
        if matches!(op, BinOp::Shl | BinOp::Shr) {
            let amount = self.shift_amount(rhs)?;
            let ins = self.bcx.ins();
            return Ok(match op {
                BinOp::Shl => ins.ishl(a, amount),
                _ if it.is_signed() => ins.sshr(a, amount),
                _ => ins.ushr(a, amount),
            });
        }
        let b = self.scalar(rhs)?;
        let ins = self.bcx.ins();
        Ok(match op {
            BinOp::Add => ins.iadd(a, b),
            BinOp::Sub => ins.isub(a, b),
            BinOp::Mul => ins.imul(a, b),
            BinOp::BitAnd => ins.band(a, b),
            BinOp::BitOr => ins.bor(a, b),
            BinOp::BitXor => ins.bxor(a, b),
            BinOp::Div | BinOp::Rem => return self.int_div_rem(op, it, a, b, rhs),
            BinOp::Shl | BinOp::Shr => unreachable!("handled above"),
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                ins.icmp(int_cc(op, it.is_signed()), a, b)
            }
        })
    }

    /// The shift amount as a value of at most 64 bits (its type may differ from the shifted
    /// value's; CLIF masks it to the shifted width).
    fn shift_amount(&mut self, rhs: &Operand) -> CgResult<Value> {
        let ty = self.operand_ty(rhs)?;
        let Ty::Int(it) = ty else {
            return Err(CodegenError::InvalidIr(format!("shift amount of type {ty}")));
        };
        let v = self.scalar(rhs)?;
        Ok(if it.bits() == 128 { self.bcx.ins().ireduce(types::I64, v) } else { v })
    }

    /// `a / b` or `a % b` without ever trapping (see the module documentation).
    fn int_div_rem(&mut self, op: BinOp, it: IntTy, a: Value, b: Value, rhs: &Operand) -> CgResult<Value> {
        let ty = int_type(it);
        let signed = it.is_signed();
        if let Operand::Const(Const::Int { bits, .. }) = rhs {
            let is_minus_one = signed && *bits == it.truncate(u128::MAX);
            if *bits != 0 && !is_minus_one {
                return self.raw_div_rem(op, it, a, b);
            }
            if is_minus_one {
                return Ok(match op {
                    BinOp::Div => self.bcx.ins().ineg(a),
                    _ => self.iconst(ty, 0),
                });
            }
        }
        let zero = self.iconst(ty, 0);
        let one = self.iconst(ty, 1);
        let is_zero = self.bcx.ins().icmp(IntCC::Equal, b, zero);
        if !signed {
            let safe = self.bcx.ins().select(is_zero, one, b);
            return self.raw_div_rem(op, it, a, safe);
        }
        let minus_one = self.iconst(ty, -1);
        let is_minus_one = self.bcx.ins().icmp(IntCC::Equal, b, minus_one);
        let bad = self.bcx.ins().bor(is_zero, is_minus_one);
        let safe = self.bcx.ins().select(bad, one, b);
        let r = self.raw_div_rem(op, it, a, safe)?;
        Ok(match op {
            // x % 1 == 0 == x % -1, so only the quotient needs fixing.
            BinOp::Div => {
                let neg = self.bcx.ins().ineg(a);
                self.bcx.ins().select(is_minus_one, neg, r)
            }
            _ => r,
        })
    }

    /// Division instructions proper; the divisor is neither 0 nor (signed) -1.
    fn raw_div_rem(&mut self, op: BinOp, it: IntTy, a: Value, b: Value) -> CgResult<Value> {
        let signed = it.is_signed();
        let div = op == BinOp::Div;
        if it.bits() == 128 {
            let f = match (div, signed) {
                (true, true) => &support::DIVTI3,
                (true, false) => &support::UDIVTI3,
                (false, true) => &support::MODTI3,
                (false, false) => &support::UMODTI3,
            };
            return self.call_support(f, &[a, b]);
        }
        let ins = self.bcx.ins();
        Ok(match (div, signed) {
            (true, true) => ins.sdiv(a, b),
            (true, false) => ins.udiv(a, b),
            (false, true) => ins.srem(a, b),
            (false, false) => ins.urem(a, b),
        })
    }

    fn float_binary(&mut self, op: BinOp, ft: FloatTy, lhs: &Operand, rhs: &Operand) -> CgResult<Value> {
        let a = self.scalar(lhs)?;
        let b = self.scalar(rhs)?;
        let ins = self.bcx.ins();
        Ok(match op {
            BinOp::Add => ins.fadd(a, b),
            BinOp::Sub => ins.fsub(a, b),
            BinOp::Mul => ins.fmul(a, b),
            BinOp::Div => ins.fdiv(a, b),
            BinOp::Rem => {
                let f = match ft {
                    FloatTy::F32 => &blood_abi::LIBM_FMODF,
                    FloatTy::F64 => &blood_abi::LIBM_FMOD,
                };
                return self.call_support(f, &[a, b]);
            }
            BinOp::Eq => ins.fcmp(FloatCC::Equal, a, b),
            BinOp::Ne => ins.fcmp(FloatCC::NotEqual, a, b),
            BinOp::Lt => ins.fcmp(FloatCC::LessThan, a, b),
            BinOp::Le => ins.fcmp(FloatCC::LessThanOrEqual, a, b),
            BinOp::Gt => ins.fcmp(FloatCC::GreaterThan, a, b),
            BinOp::Ge => ins.fcmp(FloatCC::GreaterThanOrEqual, a, b),
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr => {
                return Err(invalid_operator(op, &Ty::Float(ft)));
            }
        })
    }

    /// `bool` (0/1 in an `i8`) and `char` (`i32`): bit operations on bools, unsigned comparisons.
    fn bool_char_binary(&mut self, op: BinOp, ty: &Ty, lhs: &Operand, rhs: &Operand) -> CgResult<Value> {
        let a = self.scalar(lhs)?;
        let b = self.scalar(rhs)?;
        let ins = self.bcx.ins();
        Ok(match op {
            BinOp::BitAnd if *ty == Ty::Bool => ins.band(a, b),
            BinOp::BitOr if *ty == Ty::Bool => ins.bor(a, b),
            BinOp::BitXor if *ty == Ty::Bool => ins.bxor(a, b),
            op if op.is_comparison() => ins.icmp(int_cc(op, false), a, b),
            _ => return Err(invalid_operator(op, ty)),
        })
    }

    pub(crate) fn lower_unary(&mut self, op: UnOp, operand: &Operand) -> CgResult<CValue> {
        let ty = self.operand_ty(operand)?;
        let v = self.scalar(operand)?;
        let ins = self.bcx.ins();
        let r = match (op, &ty) {
            (UnOp::Neg, Ty::Int(_)) => ins.ineg(v),
            (UnOp::Neg, Ty::Float(_)) => ins.fneg(v),
            (UnOp::Not, Ty::Bool) => ins.bxor_imm_u(v, 1),
            (UnOp::Not, Ty::Int(_)) => ins.bnot(v),
            _ => return Err(CodegenError::InvalidIr(format!("unary {op:?} on {ty}"))),
        };
        Ok(CValue::One(r))
    }

    pub(crate) fn lower_intrinsic(&mut self, intrinsic: Intrinsic, args: &[Operand]) -> CgResult<CValue> {
        let [arg] = args else {
            return Err(CodegenError::InvalidIr(format!("{intrinsic:?} takes one argument, got {}", args.len())));
        };
        let ty = self.operand_ty(arg)?;
        if intrinsic == Intrinsic::StrAsBytes {
            // `&str` and `&[u8]` are both (pointer, length in bytes).
            return match (ty, self.operand(arg)?) {
                (Ty::Str, v @ CValue::Pair(..)) => Ok(v),
                (ty, _) => Err(CodegenError::InvalidIr(format!("str_as_bytes on {ty}"))),
            };
        }
        let Ty::Float(ft) = ty else {
            return Err(CodegenError::InvalidIr(format!("{intrinsic:?} on {ty}")));
        };
        let v = self.scalar(arg)?;
        let ins = self.bcx.ins();
        let r = match intrinsic {
            Intrinsic::Sqrt => ins.sqrt(v),
            Intrinsic::Floor => ins.floor(v),
            Intrinsic::Ceil => ins.ceil(v),
            Intrinsic::FAbs => ins.fabs(v),
            Intrinsic::F64ToBits => {
                if float_type(ft) != types::F64 {
                    return Err(CodegenError::InvalidIr(format!("F64ToBits on {ty}")));
                }
                ins.bitcast(types::I64, MemFlagsData::new(), v)
            }
            Intrinsic::StrAsBytes | Intrinsic::Heap(_) | Intrinsic::ToWord | Intrinsic::FromWord => {
                return Err(CodegenError::InvalidIr(format!("{intrinsic:?} on {ty}")));
            }
        };
        Ok(CValue::One(r))
    }
}

fn int_cc(op: BinOp, signed: bool) -> IntCC {
    match (op, signed) {
        (BinOp::Eq, _) => IntCC::Equal,
        (BinOp::Ne, _) => IntCC::NotEqual,
        (BinOp::Lt, true) => IntCC::SignedLessThan,
        (BinOp::Le, true) => IntCC::SignedLessThanOrEqual,
        (BinOp::Gt, true) => IntCC::SignedGreaterThan,
        (BinOp::Ge, true) => IntCC::SignedGreaterThanOrEqual,
        (BinOp::Lt, false) => IntCC::UnsignedLessThan,
        (BinOp::Le, false) => IntCC::UnsignedLessThanOrEqual,
        (BinOp::Gt, false) => IntCC::UnsignedGreaterThan,
        // Only comparisons reach here.
        _ => IntCC::UnsignedGreaterThanOrEqual,
    }
}

fn invalid_operator(op: BinOp, ty: &Ty) -> CodegenError {
    CodegenError::InvalidIr(format!("operator {op:?} on {ty}"))
}
