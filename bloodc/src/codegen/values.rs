//! IR locals → Cranelift `Variable`s or stack slots, and operands → Cranelift values.
//!
//! A scalar or pair local whose address is never taken becomes zero, one or two Cranelift
//! variables according to its [`Shape`](super::abi::Shape); cranelift-frontend's SSA construction
//! turns assignments into SSA values and block parameters, and the register allocator decides
//! what to spill, which is what keeps loops tight. Aggregates and borrowed locals live in memory
//! instead ([`super::frame`] decides): a stack slot, or the caller's memory for an aggregate
//! parameter the function only reads.

use cranelift_codegen::ir::{InstBuilder, StackSlot, Type, Value, types};
use cranelift_frontend::{FunctionBuilder, Variable};

use super::abi::{self, Shape};
use super::frame::Frame;
use super::function::FunctionCx;
use super::layout_of::layout_of;
use super::memory::create_slot;
use super::{CgResult, CodegenError};
use crate::ir::{self, Const, Local, Operand};
use crate::types::{AdtTable, Ty};

/// A Blood value as Cranelift values, shaped like [`Shape`].
#[derive(Copy, Clone, Debug)]
pub(crate) enum CValue {
    Zst,
    One(Value),
    /// `&str`, `&[T]`: (pointer, length).
    Pair(Value, Value),
    /// An aggregate: the address of its storage. The storage is not copied, so the value must
    /// be consumed (copied or passed) before that storage is written again.
    Mem(Value),
}

impl CValue {
    /// Appends the Cranelift values to `out`, in ABI order.
    pub(crate) fn push_to(self, out: &mut Vec<Value>) {
        match self {
            CValue::Zst => {}
            CValue::One(v) | CValue::Mem(v) => out.push(v),
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
            (Shape::Memory, [a]) => Ok(CValue::Mem(*a)),
            _ => Err(CodegenError::InvalidIr(format!(
                "expected a value of shape {shape:?}, got {} values",
                values.len()
            ))),
        }
    }
}

/// Where one IR local lives.
#[derive(Copy, Clone, Debug)]
pub(crate) enum LocalRepr {
    Zst,
    Scalar(Variable),
    Pair(Variable, Variable),
    /// In a stack slot of this function: aggregates, and borrowed scalars and pairs.
    Slot(StackSlot),
    /// An aggregate parameter read in place: its address in the caller's memory (a value of the
    /// entry block, so it dominates the whole function).
    InPlace(Value),
}

/// Declares the variables and stack slots of every local of `func`. `abi_params` are the entry
/// block's parameters (the hidden result pointer first, if any), which in-place parameters use.
pub(crate) fn declare_locals(
    bcx: &mut FunctionBuilder<'_>,
    func: &ir::Function,
    adts: &AdtTable,
    frame: &Frame,
    pointer: Type,
    abi_params: &[Value],
) -> CgResult<Vec<LocalRepr>> {
    let mut next_param = usize::from(abi::returns_in_memory(&func.ret));
    let mut reprs = Vec::with_capacity(func.locals.len());
    for (i, decl) in func.locals.iter().enumerate() {
        let l = Local(i as u32);
        let shape = Shape::of(&decl.ty, pointer)?;
        let abi_index = next_param;
        if i < func.param_count as usize {
            next_param += shape.param_count();
        }
        let repr = if frame.param_in_place(l) {
            let addr = abi_params.get(abi_index).copied().ok_or_else(|| {
                CodegenError::InvalidIr(format!("parameter _{i} of `{}` missing from the signature", func.name))
            })?;
            LocalRepr::InPlace(addr)
        } else if frame.in_memory(l) {
            LocalRepr::Slot(create_slot(bcx, layout_of(adts, &decl.ty)?))
        } else {
            match shape {
                Shape::Zst => LocalRepr::Zst,
                Shape::Scalar(t) => LocalRepr::Scalar(bcx.declare_var(t)),
                Shape::Pair(a, b) => LocalRepr::Pair(bcx.declare_var(a), bcx.declare_var(b)),
                Shape::Memory => {
                    return Err(CodegenError::InvalidIr(format!("aggregate _{i} of `{}` not in memory", func.name)));
                }
            }
        };
        reprs.push(repr);
    }
    Ok(reprs)
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
            LocalRepr::Slot(_) | LocalRepr::InPlace(_) => {
                let ty = self.local_ty(l)?.clone();
                let addr = self.local_addr(l)?;
                self.load_at(&ty, addr, 0)?
            }
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
            (LocalRepr::Slot(_), value) => {
                let ty = self.local_ty(l)?.clone();
                let addr = self.local_addr(l)?;
                self.store_at(&ty, value, addr, 0)
            }
            (LocalRepr::InPlace(_), _) => {
                Err(CodegenError::InvalidIr(format!("write to _{}, a parameter read in place", l.0)))
            }
            (_, other) => Err(mismatch(&other)),
        }
    }

    /// The address of a local that lives in memory.
    pub(crate) fn local_addr(&mut self, l: Local) -> CgResult<Value> {
        match *self.repr(l)? {
            LocalRepr::Slot(slot) => Ok(self.bcx.ins().stack_addr(self.mcx.pointer_type, slot, 0)),
            LocalRepr::InPlace(addr) => Ok(addr),
            _ => Err(CodegenError::InvalidIr(format!("_{} of `{}` has no address", l.0, self.func.name))),
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
