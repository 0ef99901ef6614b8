//! IR locals → Cranelift `Variable`s, and operands → Cranelift values.
//!
//! Every IR local becomes zero, one or two Cranelift variables according to its
//! [`Shape`](super::abi::Shape); cranelift-frontend's SSA construction turns assignments into SSA
//! values and block parameters. Nothing is ever spilled to an explicit stack slot by codegen: the
//! register allocator decides, which is what keeps loops tight.

use cranelift_codegen::ir::{InstBuilder, Type, Value, types};
use cranelift_frontend::{FunctionBuilder, Variable};

use super::abi::Shape;
use super::function::FunctionCx;
use super::{CgResult, CodegenError};
use crate::ir::{self, Const, Local, Operand};
use crate::types::Ty;

/// A Blood value as Cranelift values, shaped like [`Shape`].
#[derive(Copy, Clone, Debug)]
pub(crate) enum CValue {
    Zst,
    One(Value),
    /// `&str`: (pointer, length).
    Pair(Value, Value),
}

impl CValue {
    /// Appends the Cranelift values to `out`, in ABI order.
    pub(crate) fn push_to(self, out: &mut Vec<Value>) {
        match self {
            CValue::Zst => {}
            CValue::One(v) => out.push(v),
            CValue::Pair(a, b) => {
                out.push(a);
                out.push(b);
            }
        }
    }

    /// Rebuilds a value of `shape` from a flat list (call results, block parameters).
    pub(crate) fn from_values(shape: Shape, values: &[Value]) -> CgResult<CValue> {
        match (shape, values) {
            (Shape::Zst, []) => Ok(CValue::Zst),
            (Shape::Scalar(_), [v]) => Ok(CValue::One(*v)),
            (Shape::Pair(..), [a, b]) => Ok(CValue::Pair(*a, *b)),
            _ => Err(CodegenError::InvalidIr(format!(
                "expected a value of shape {shape:?}, got {} values",
                values.len()
            ))),
        }
    }
}

/// The Cranelift variables of one IR local.
#[derive(Copy, Clone, Debug)]
pub(crate) enum LocalRepr {
    Zst,
    Scalar(Variable),
    Pair(Variable, Variable),
}

/// Declares the variables of every local of `func`.
pub(crate) fn declare_locals(
    bcx: &mut FunctionBuilder<'_>,
    func: &ir::Function,
    pointer: Type,
) -> CgResult<Vec<LocalRepr>> {
    func.locals
        .iter()
        .map(|decl| {
            Ok(match Shape::of(&decl.ty, pointer)? {
                Shape::Zst => LocalRepr::Zst,
                Shape::Scalar(t) => LocalRepr::Scalar(bcx.declare_var(t)),
                Shape::Pair(a, b) => LocalRepr::Pair(bcx.declare_var(a), bcx.declare_var(b)),
            })
        })
        .collect()
}

/// The type of a constant.
pub(crate) fn const_ty(c: &Const) -> Ty {
    match c {
        Const::Int { ty, .. } => Ty::Int(*ty),
        Const::Float { ty, .. } => Ty::Float(*ty),
        Const::Bool(_) => Ty::Bool,
        Const::Char(_) => Ty::Char,
        Const::Unit => Ty::Unit,
        Const::Str(_) => Ty::Str,
    }
}

impl FunctionCx<'_, '_> {
    pub(crate) fn local_ty(&self, l: Local) -> CgResult<&Ty> {
        self.func
            .locals
            .get(l.0 as usize)
            .map(|d| &d.ty)
            .ok_or_else(|| CodegenError::InvalidIr(format!("local _{} out of range in `{}`", l.0, self.func.name)))
    }

    pub(crate) fn operand_ty(&self, op: &Operand) -> CgResult<Ty> {
        match op {
            Operand::Local(l) => self.local_ty(*l).cloned(),
            Operand::Const(c) => Ok(const_ty(c)),
        }
    }

    pub(crate) fn operand(&mut self, op: &Operand) -> CgResult<CValue> {
        match op {
            Operand::Local(l) => self.read_local(*l),
            Operand::Const(c) => self.constant(c),
        }
    }

    /// An operand that must be a single Cranelift value (every scalar type).
    pub(crate) fn scalar(&mut self, op: &Operand) -> CgResult<Value> {
        match self.operand(op)? {
            CValue::One(v) => Ok(v),
            other => Err(CodegenError::InvalidIr(format!("expected a scalar operand, found {other:?} for {op:?}"))),
        }
    }

    pub(crate) fn read_local(&mut self, l: Local) -> CgResult<CValue> {
        let repr = *self.repr(l)?;
        Ok(match repr {
            LocalRepr::Zst => CValue::Zst,
            LocalRepr::Scalar(v) => CValue::One(self.bcx.use_var(v)),
            LocalRepr::Pair(a, b) => CValue::Pair(self.bcx.use_var(a), self.bcx.use_var(b)),
        })
    }

    pub(crate) fn write_local(&mut self, l: Local, value: CValue) -> CgResult<()> {
        let repr = *self.repr(l)?;
        let mismatch = |e: &dyn std::fmt::Debug| {
            CodegenError::InvalidIr(format!("assignment to _{} does not match its type: {e:?}", l.0))
        };
        match (repr, value) {
            (LocalRepr::Zst, _) => Ok(()),
            (LocalRepr::Scalar(var), CValue::One(v)) => self.bcx.try_def_var(var, v).map_err(|e| mismatch(&e)),
            (LocalRepr::Pair(a, b), CValue::Pair(x, y)) => {
                self.bcx.try_def_var(a, x).map_err(|e| mismatch(&e))?;
                self.bcx.try_def_var(b, y).map_err(|e| mismatch(&e))
            }
            (_, other) => Err(mismatch(&other)),
        }
    }

    fn repr(&self, l: Local) -> CgResult<&LocalRepr> {
        self.locals
            .get(l.0 as usize)
            .ok_or_else(|| CodegenError::InvalidIr(format!("local _{} out of range in `{}`", l.0, self.func.name)))
    }

    /// An integer constant of any width, `value` taken modulo 2^width (two's complement).
    pub(crate) fn iconst(&mut self, ty: Type, value: i128) -> Value {
        if ty == types::I128 {
            let lo = self.bcx.ins().iconst(types::I64, value as u64 as i64);
            let hi = self.bcx.ins().iconst(types::I64, (value >> 64) as u64 as i64);
            self.bcx.ins().iconcat(lo, hi)
        } else {
            let bits = ty.bits();
            let masked = if bits >= 64 { value as u64 } else { (value as u64) & ((1u64 << bits) - 1) };
            self.bcx.ins().iconst(ty, masked as i64)
        }
    }

    fn constant(&mut self, c: &Const) -> CgResult<CValue> {
        let v = match c {
            Const::Int { bits, ty } => {
                let t = super::abi::int_type(*ty);
                self.iconst(t, *bits as i128)
            }
            Const::Float { value, ty } => match ty {
                crate::types::FloatTy::F32 => self.bcx.ins().f32const(*value as f32),
                crate::types::FloatTy::F64 => self.bcx.ins().f64const(*value),
            },
            Const::Bool(b) => self.bcx.ins().iconst(types::I8, i64::from(*b)),
            Const::Char(ch) => self.bcx.ins().iconst(types::I32, i64::from(u32::from(*ch))),
            Const::Unit => return Ok(CValue::Zst),
            Const::Str(id) => return self.str_constant(*id),
        };
        Ok(CValue::One(v))
    }
}
