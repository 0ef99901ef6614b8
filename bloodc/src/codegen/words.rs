//! One-word values for the runtime (`ir::Intrinsic::ToWord` / `FromWord`) and code addresses
//! (`Rvalue::FnAddr`).
//!
//! The runtime moves fiber results and channel messages as `u64`s; generated code decides how a
//! Blood value becomes one, because only codegen knows layouts. A scalar of at most 64 bits is
//! the word (zero-extended; floats by their bits); another value of at most 8 bytes is written
//! into a zeroed 8-byte slot and read back as the word (so padding is always zero); a larger
//! value is moved into a cell from the runtime's allocator and the word is the cell's address. `FromWord` reverses this and frees
//! the cell, so every word made by `ToWord` must be consumed by exactly one `FromWord` of the
//! same type (the prelude's channel and fiber code guarantees it).

use cranelift_codegen::ir::{InstBuilder, MemFlagsData, types};

use super::abi::Shape;
use super::function::FunctionCx;
use super::layout_of::TyLayout;
use super::values::CValue;
use super::{CgResult, CodegenError};
use crate::ir::{FuncId, Operand};
use crate::types::Ty;

/// Values up to this size travel in the word itself.
const INLINE_BYTES: u64 = 8;

impl FunctionCx<'_, '_> {
    /// `to_word(v)`.
    pub(crate) fn lower_to_word(&mut self, arg: &Operand) -> CgResult<CValue> {
        let ty = self.operand_ty(arg)?;
        let layout = self.layout(&ty)?;
        let value = self.operand(arg)?;
        if layout.size == 0 {
            return Ok(CValue::One(self.bcx.ins().iconst(types::I64, 0)));
        }
        if let (Shape::Scalar(t), CValue::One(v)) = (Shape::of(&ty, self.mcx.pointer_type)?, &value)
            && t.bits() <= 64
        {
            let v = if t.is_float() { self.bcx.ins().bitcast(t.as_int(), MemFlagsData::new(), *v) } else { *v };
            let word = if t.bits() < 64 { self.bcx.ins().uextend(types::I64, v) } else { v };
            return Ok(CValue::One(word));
        }
        if layout.size <= INLINE_BYTES {
            let slot = self.temp_slot_addr(TyLayout::new(INLINE_BYTES, INLINE_BYTES));
            let zero = self.bcx.ins().iconst(types::I64, 0);
            self.bcx.ins().store(MemFlagsData::trusted(), zero, slot, 0);
            self.store_at(&ty, value, slot, 0)?;
            let word = self.bcx.ins().load(types::I64, MemFlagsData::trusted(), slot, 0);
            return Ok(CValue::One(word));
        }
        let size = self.bcx.ins().iconst(types::I64, layout.size as i64);
        let align = self.bcx.ins().iconst(types::I64, layout.align as i64);
        let cell = match self.call_import(&blood_abi::ALLOC, &[size, align])?.as_slice() {
            [p] => *p,
            _ => return Err(CodegenError::InvalidIr("blood_alloc must return one pointer".to_string())),
        };
        self.store_at(&ty, value, cell, 0)?;
        Ok(CValue::One(cell))
    }

    /// `from_word(w)` as a value of type `ty`.
    pub(crate) fn lower_from_word(&mut self, arg: &Operand, ty: &Ty) -> CgResult<CValue> {
        let word = self.scalar(arg)?;
        let layout = self.layout(ty)?;
        if layout.size == 0 {
            return Ok(CValue::Zst);
        }
        if let Shape::Scalar(t) = Shape::of(ty, self.mcx.pointer_type)?
            && t.bits() <= 64
        {
            let int = t.as_int();
            let v = if int.bits() < 64 { self.bcx.ins().ireduce(int, word) } else { word };
            let v = if t.is_float() { self.bcx.ins().bitcast(t, MemFlagsData::new(), v) } else { v };
            return Ok(CValue::One(v));
        }
        if layout.size <= INLINE_BYTES {
            let slot = self.temp_slot_addr(TyLayout::new(INLINE_BYTES, INLINE_BYTES.max(layout.align)));
            self.bcx.ins().store(MemFlagsData::trusted(), word, slot, 0);
            return self.load_at(ty, slot, 0);
        }
        // Copy out of the cell first: the value must not live in memory that is freed.
        let slot = self.temp_slot_addr(layout);
        self.copy_memory(slot, word, layout)?;
        let size = self.bcx.ins().iconst(types::I64, layout.size as i64);
        let align = self.bcx.ins().iconst(types::I64, layout.align as i64);
        self.call_import(&blood_abi::FREE, &[word, size, align])?;
        self.load_at(ty, slot, 0)
    }

    /// `fn_addr f`: the code address of an IR function.
    pub(crate) fn lower_fn_addr(&mut self, func: FuncId) -> CgResult<CValue> {
        Ok(CValue::One(self.code_address(func)?))
    }
}
