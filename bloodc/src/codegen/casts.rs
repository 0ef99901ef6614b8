//! `operand as T` (LANGUAGE.md §3.6), exactly:
//!
//! | from → to | lowering |
//! |---|---|
//! | int → int | `ireduce`, or `sextend`/`uextend` chosen by the **source** signedness |
//! | int → float | `fcvt_from_sint`/`fcvt_from_uint` (nearest); 128-bit sources call `__floatti*f` |
//! | float → int | `fcvt_to_{s,u}int_sat` (truncate, saturate, NaN → 0); narrow targets convert to 32 bits and clamp; 128-bit targets are assembled from two 64-bit halves (below) |
//! | float → float | `fpromote` / `fdemote` |
//! | bool → int | zero-extension of the 0/1 byte |
//! | int → bool | `!= 0` |
//! | char → int | the code point as a `u32`, truncated or zero-extended |
//! | u8 → char | zero-extension (also `u32 → char`, from `char_from_u32`) |
//!
//! Cranelift cannot convert floats to `i128` directly, and libgcc's `__fixdfti` has undefined
//! behaviour out of range, so float → 128-bit is done inline: for `a = |x|` (an integer-valued or
//! fractional double), `hi = floor(a · 2⁻⁶⁴)` and `lo = a − hi · 2⁶⁴` are both computed exactly in
//! binary64 (scaling by a power of two is exact, and `lo` has at most 53 significant bits below
//! 2⁶⁴), then each half converts with a saturating 64-bit conversion. Range limits and NaN are
//! applied with selects at the end.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, Value, types};

use super::abi::{float_type, int_type};
use super::calls::support;
use super::function::FunctionCx;
use super::values::CValue;
use super::{CgResult, CodegenError};
use crate::ir::Operand;
use crate::types::{FloatTy, IntTy, Ty};

impl FunctionCx<'_, '_> {
    pub(crate) fn lower_cast(&mut self, operand: &Operand, to: &Ty) -> CgResult<CValue> {
        let from = self.operand_ty(operand)?;
        if from == *to {
            return self.operand(operand);
        }
        let v = self.scalar(operand)?;
        let r = match (&from, to) {
            (Ty::Int(f), Ty::Int(t)) => self.int_to_int(v, *f, *t),
            (Ty::Int(f), Ty::Float(t)) => self.int_to_float(v, *f, *t)?,
            (Ty::Float(f), Ty::Int(t)) => self.float_to_int(v, *f, *t),
            (Ty::Float(FloatTy::F32), Ty::Float(FloatTy::F64)) => self.bcx.ins().fpromote(types::F64, v),
            (Ty::Float(FloatTy::F64), Ty::Float(FloatTy::F32)) => self.bcx.ins().fdemote(types::F32, v),
            (Ty::Bool, Ty::Int(t)) => self.int_to_int(v, IntTy::U8, *t),
            (Ty::Int(f), Ty::Bool) => {
                let zero = self.iconst(int_type(*f), 0);
                self.bcx.ins().icmp(IntCC::NotEqual, v, zero)
            }
            (Ty::Char, Ty::Int(t)) => self.int_to_int(v, IntTy::U32, *t),
            // The language allows `u8 as char`; `char_from_u32` is lowered to `u32 as char`. Any
            // other integer converts like an integer cast to `u32` (validity is the front end's).
            (Ty::Int(f), Ty::Char) => self.int_to_int(v, *f, IntTy::U32),
            _ => return Err(CodegenError::Unsupported(format!("cast from {from} to {to}"))),
        };
        Ok(CValue::One(r))
    }

    /// Truncation or extension by the source's signedness.
    pub(crate) fn int_to_int(&mut self, v: Value, from: IntTy, to: IntTy) -> Value {
        let (fb, tb) = (from.bits(), to.bits());
        let target = int_type(to);
        if tb < fb {
            self.bcx.ins().ireduce(target, v)
        } else if tb > fb {
            if from.is_signed() { self.bcx.ins().sextend(target, v) } else { self.bcx.ins().uextend(target, v) }
        } else {
            v
        }
    }

    fn int_to_float(&mut self, v: Value, from: IntTy, to: FloatTy) -> CgResult<Value> {
        let ft = float_type(to);
        if from.bits() == 128 {
            let f = match (from.is_signed(), to) {
                (true, FloatTy::F64) => &support::FLOATTIDF,
                (false, FloatTy::F64) => &support::FLOATUNTIDF,
                (true, FloatTy::F32) => &support::FLOATTISF,
                (false, FloatTy::F32) => &support::FLOATUNTISF,
            };
            return self.call_support(f, &[v]);
        }
        // Every backend converts from 32- and 64-bit registers; widen narrower sources first.
        let v = if from.bits() < 32 {
            let wide = if from.is_signed() { IntTy::I32 } else { IntTy::U32 };
            self.int_to_int(v, from, wide)
        } else {
            v
        };
        Ok(if from.is_signed() { self.bcx.ins().fcvt_from_sint(ft, v) } else { self.bcx.ins().fcvt_from_uint(ft, v) })
    }

    /// Truncating, saturating, NaN → 0.
    fn float_to_int(&mut self, v: Value, from: FloatTy, to: IntTy) -> Value {
        let signed = to.is_signed();
        match to.bits() {
            32 | 64 => {
                let t = int_type(to);
                if signed { self.bcx.ins().fcvt_to_sint_sat(t, v) } else { self.bcx.ins().fcvt_to_uint_sat(t, v) }
            }
            128 => self.float_to_128(v, from, signed),
            _ => {
                // 8 and 16 bits: saturate to 32 bits, then clamp to the target range.
                let bits = to.bits();
                let (x, min, max) = if signed {
                    let x = self.bcx.ins().fcvt_to_sint_sat(types::I32, v);
                    (x, -(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
                } else {
                    let x = self.bcx.ins().fcvt_to_uint_sat(types::I32, v);
                    (x, 0, (1i128 << bits) - 1)
                };
                let max_v = self.iconst(types::I32, max);
                let (gt, lt) = if signed {
                    (IntCC::SignedGreaterThan, IntCC::SignedLessThan)
                } else {
                    (IntCC::UnsignedGreaterThan, IntCC::UnsignedLessThan)
                };
                let above = self.bcx.ins().icmp(gt, x, max_v);
                let x = self.bcx.ins().select(above, max_v, x);
                let x = if signed {
                    let min_v = self.iconst(types::I32, min);
                    let below = self.bcx.ins().icmp(lt, x, min_v);
                    self.bcx.ins().select(below, min_v, x)
                } else {
                    x
                };
                self.bcx.ins().ireduce(int_type(to), x)
            }
        }
    }

    /// Float → `i128`/`u128` (see the module documentation for why this is exact).
    fn float_to_128(&mut self, v: Value, from: FloatTy, signed: bool) -> Value {
        let x = match from {
            FloatTy::F32 => self.bcx.ins().fpromote(types::F64, v),
            FloatTy::F64 => v,
        };
        let zero_f = self.bcx.ins().f64const(0.0);
        let (a, negative) = if signed {
            let neg = self.bcx.ins().fcmp(FloatCC::LessThan, x, zero_f);
            (self.bcx.ins().fabs(x), Some(neg))
        } else {
            // Negative inputs saturate to 0 (NaN stays NaN and is handled at the end).
            (self.bcx.ins().fmax(x, zero_f), None)
        };
        let two_pow_m64 = self.bcx.ins().f64const(2f64.powi(-64));
        let two_pow_64 = self.bcx.ins().f64const(2f64.powi(64));
        let scaled = self.bcx.ins().fmul(a, two_pow_m64);
        let hi_f = self.bcx.ins().floor(scaled);
        let hi_part = self.bcx.ins().fmul(hi_f, two_pow_64);
        let lo_f = self.bcx.ins().fsub(a, hi_part);
        let hi = self.bcx.ins().fcvt_to_uint_sat(types::I64, hi_f);
        let lo = self.bcx.ins().fcvt_to_uint_sat(types::I64, lo_f);
        let magnitude = self.bcx.ins().iconcat(lo, hi);

        let result = if let Some(neg) = negative {
            let negated = self.bcx.ins().ineg(magnitude);
            let r = self.bcx.ins().select(neg, negated, magnitude);
            let limit = self.bcx.ins().f64const(2f64.powi(127));
            let too_big = self.bcx.ins().fcmp(FloatCC::GreaterThanOrEqual, x, limit);
            let max = self.iconst(types::I128, i128::MAX);
            let r = self.bcx.ins().select(too_big, max, r);
            let neg_limit = self.bcx.ins().f64const(-(2f64.powi(127)));
            let too_small = self.bcx.ins().fcmp(FloatCC::LessThan, x, neg_limit);
            let min = self.iconst(types::I128, i128::MIN);
            self.bcx.ins().select(too_small, min, r)
        } else {
            let limit = self.bcx.ins().f64const(2f64.powi(128));
            let too_big = self.bcx.ins().fcmp(FloatCC::GreaterThanOrEqual, x, limit);
            let max = self.iconst(types::I128, -1);
            self.bcx.ins().select(too_big, max, magnitude)
        };
        let is_nan = self.bcx.ins().fcmp(FloatCC::Unordered, x, x);
        let zero = self.iconst(types::I128, 0);
        self.bcx.ins().select(is_nan, zero, result)
    }
}
