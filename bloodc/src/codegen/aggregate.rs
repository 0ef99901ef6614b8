//! Rvalues producing aggregates (structs, payload enums, tuples, arrays), written straight into
//! their destination's memory.
//!
//! An aggregate local's value is its storage, so `l = rvalue` for an aggregate `l` is lowered in
//! destination-passing style: a copy (`Use`, `Load`), a call whose hidden result pointer is the
//! destination (`Call`), one store per field at its offset plus the tag for an enum variant
//! (`Aggregate`), or a fill (`Repeat`). Operands are other locals (an aggregate's fields never
//! contain the aggregate itself), so writing the destination field by field cannot clobber an
//! operand not yet read.

use cranelift_codegen::ir::{InstBuilder, Value};

use super::function::FunctionCx;
use super::layout_of::{fields_of, tag_layout};
use super::values::CValue;
use super::{CgResult, CodegenError};
use crate::ir::{AggregateKind, Callee, Const, Operand, Rvalue};
use crate::types::{TAG_REPR, Ty};

impl FunctionCx<'_, '_> {
    /// Lowers `rvalue`, of aggregate type `ty`, into the memory at `dst`.
    pub(crate) fn lower_rvalue_into(&mut self, rvalue: &Rvalue, ty: &Ty, dst: Value) -> CgResult<()> {
        match rvalue {
            Rvalue::Use(op) => {
                let v = self.operand(op)?;
                self.store_at(ty, v, dst, 0)
            }
            Rvalue::Load(place) => {
                let v = self.lower_load(place)?;
                self.store_at(ty, v, dst, 0)
            }
            Rvalue::Call(Callee::Fn(id), args) => {
                self.call_user(*id, args, Some(dst))?;
                Ok(())
            }
            Rvalue::Call(Callee::Indirect(f), args) => {
                self.call_indirect(f, args, Some(dst))?;
                Ok(())
            }
            Rvalue::Aggregate(kind, ops) => self.lower_aggregate(kind, ops, ty, dst),
            Rvalue::Intrinsic(crate::ir::Intrinsic::Heap(h), args) => self.lower_heap_into(*h, args, ty, dst),
            Rvalue::Intrinsic(crate::ir::Intrinsic::FromWord, args) => {
                let v = self.lower_from_word(super::function::one_arg(args)?, ty)?;
                self.store_at(ty, v, dst, 0)
            }
            Rvalue::Repeat(op, n) => {
                let Ty::Array(elem, _) = ty else {
                    return Err(CodegenError::InvalidIr(format!("[x; {n}] assigned to a {ty}")));
                };
                let v = self.operand(op)?;
                let zero = matches!(op, Operand::Const(c) if is_zero(c));
                self.fill(dst, elem, v, *n, zero)
            }
            other => Err(CodegenError::InvalidIr(format!("{other:?} produces no {ty}"))),
        }
    }

    fn lower_aggregate(&mut self, kind: &AggregateKind, ops: &[Operand], ty: &Ty, dst: Value) -> CgResult<()> {
        let program = self.program;
        let adts = &*program.adts;
        let fields: Vec<(u64, Ty)> = match (kind, ty) {
            (AggregateKind::Array, Ty::Array(elem, n)) => {
                if ops.len() as u64 != *n {
                    return Err(CodegenError::InvalidIr(format!("{} elements for a {ty}", ops.len())));
                }
                let size = self.layout(elem)?.size;
                (0..*n).map(|i| (i * size, (**elem).clone())).collect()
            }
            (AggregateKind::Tuple, Ty::Tuple(_)) => fields_of(adts, ty, None)?,
            (AggregateKind::Adt { variant }, Ty::Adt(a, _)) => {
                if adts.def(a).is_enum {
                    debug_assert_eq!(tag_layout().size * 8, u64::from(TAG_REPR.bits()));
                    let t = super::abi::int_type(TAG_REPR);
                    let tag = self.bcx.ins().iconst(t, i64::from(*variant));
                    self.bcx.ins().store(cranelift_codegen::ir::MemFlagsData::trusted(), tag, dst, 0);
                    fields_of(adts, ty, Some(*variant))?
                } else {
                    fields_of(adts, ty, None)?
                }
            }
            _ => return Err(CodegenError::InvalidIr(format!("{kind:?} aggregate assigned to a {ty}"))),
        };
        if fields.len() != ops.len() {
            return Err(CodegenError::InvalidIr(format!(
                "{} operands for the {} fields of {ty}",
                ops.len(),
                fields.len()
            )));
        }
        for ((offset, field_ty), op) in fields.iter().zip(ops) {
            let v: CValue = self.operand(op)?;
            self.store_at(field_ty, v, dst, *offset as i32)?;
        }
        Ok(())
    }
}

/// A constant whose bytes are all zero (`[0; n]` becomes a `memset`).
fn is_zero(c: &Const) -> bool {
    match c {
        Const::Int { bits, .. } => *bits == 0,
        Const::Float { value, .. } => value.to_bits() == 0,
        Const::Bool(b) => !b,
        Const::Char(ch) => *ch == '\0',
        Const::Unit => true,
        Const::Str(_) => false,
    }
}
