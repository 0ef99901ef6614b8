//! Values in memory: loads and stores of typed values at addresses, copies, fills, stack slots.
//!
//! A value in memory has the layout of [`super::layout_of`] and, field by field, the Cranelift
//! types of [`Shape`]: `bool` is one byte (0 or 1), `char` an `i32`, `i128` one 16-byte `i128`,
//! pairs two words (pointer at offset 0, length at 8), an aggregate its bytes. Every address codegen
//! computes is valid and aligned for its type (stack slots get their type's alignment, and
//! references only ever point at values), so accesses use Cranelift's `trusted` flags
//! (`notrap aligned`).
//!
//! Copies of aggregates up to [`INLINE_COPY_MAX`] bytes are loads into registers followed by
//! stores; larger ones call `memmove`. Both tolerate a source equal to the destination (`*r = *q`
//! with `r` and `q` aliasing, `x = f(x)`): two values of one type overlap exactly or not at all.

use cranelift_codegen::ir::{InstBuilder, MemFlagsData, StackSlot, StackSlotData, StackSlotKind, Type, Value, types};
use cranelift_frontend::FunctionBuilder;

use super::abi::Shape;
use super::calls::support;
use super::function::FunctionCx;
use super::layout_of::{TyLayout, layout_of};
use super::values::CValue;
use super::{CgResult, CodegenError};
use crate::types::Ty;

/// Aggregates up to this size are copied with inline loads and stores.
pub(crate) const INLINE_COPY_MAX: u64 = 64;
/// Arrays built by `[x; n]` up to this many elements are stored element by element; longer ones
/// are filled by a loop (or `memset` for a zero element).
const INLINE_FILL_MAX: u64 = 8;

/// Flags of every access codegen emits to memory it laid out.
fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

impl FunctionCx<'_, '_> {
    pub(crate) fn layout(&self, ty: &Ty) -> CgResult<TyLayout> {
        layout_of(&self.program.adts, ty)
    }

    /// The address of a fresh stack slot for a value of `layout`.
    pub(crate) fn temp_slot_addr(&mut self, layout: TyLayout) -> Value {
        let slot = create_slot(&mut self.bcx, layout);
        self.bcx.ins().stack_addr(self.mcx.pointer_type, slot, 0)
    }

    /// `base + offset`, folding a zero offset.
    pub(crate) fn offset_addr(&mut self, base: Value, offset: i64) -> Value {
        if offset == 0 { base } else { self.bcx.ins().iadd_imm_s(base, offset) }
    }

    /// Loads the value of type `ty` stored at `addr + offset`. An aggregate is not loaded: the
    /// result is its address ([`CValue::Mem`]), to be copied by the consumer.
    pub(crate) fn load_at(&mut self, ty: &Ty, addr: Value, offset: i32) -> CgResult<CValue> {
        Ok(match Shape::of(ty, self.mcx.pointer_type)? {
            Shape::Zst => CValue::Zst,
            Shape::Scalar(t) => CValue::One(self.bcx.ins().load(t, flags(), addr, offset)),
            Shape::Pair(a, b) => {
                let second = offset + pair_second_offset(a);
                let x = self.bcx.ins().load(a, flags(), addr, offset);
                let y = self.bcx.ins().load(b, flags(), addr, second);
                CValue::Pair(x, y)
            }
            Shape::Memory => CValue::Mem(self.offset_addr(addr, offset.into())),
        })
    }

    /// Stores `value` (of type `ty`) at `addr + offset`; an aggregate is copied from its address.
    pub(crate) fn store_at(&mut self, ty: &Ty, value: CValue, addr: Value, offset: i32) -> CgResult<()> {
        match (Shape::of(ty, self.mcx.pointer_type)?, value) {
            (Shape::Zst, _) => {}
            (Shape::Scalar(_), CValue::One(v)) => {
                self.bcx.ins().store(flags(), v, addr, offset);
            }
            (Shape::Pair(a, _), CValue::Pair(x, y)) => {
                self.bcx.ins().store(flags(), x, addr, offset);
                self.bcx.ins().store(flags(), y, addr, offset + pair_second_offset(a));
            }
            (Shape::Memory, CValue::Mem(src)) => {
                let layout = self.layout(ty)?;
                let dst = self.offset_addr(addr, offset.into());
                self.copy_memory(dst, src, layout)?;
            }
            (shape, value) => {
                return Err(CodegenError::InvalidIr(format!("storing {value:?} as a {ty} ({shape:?})")));
            }
        }
        Ok(())
    }

    /// Copies a value of `layout` from `src` to `dst`; the two are equal or disjoint.
    pub(crate) fn copy_memory(&mut self, dst: Value, src: Value, layout: TyLayout) -> CgResult<()> {
        if layout.size == 0 {
            return Ok(());
        }
        if layout.size > INLINE_COPY_MAX {
            let size = self.bcx.ins().iconst(self.mcx.pointer_type, layout.size as i64);
            self.call_support(&support::MEMMOVE, &[dst, src, size])?;
            return Ok(());
        }
        // Load everything first, then store: correct when `src == dst`.
        let mut chunks = Vec::new();
        let mut offset = 0u64;
        while offset < layout.size {
            let width = [8u64, 4, 2, 1].into_iter().find(|w| *w <= layout.size - offset).unwrap_or(1);
            let t = Type::int((width * 8) as u16).unwrap_or(types::I8);
            let mut f = MemFlagsData::new().with_notrap();
            if width <= layout.align {
                f = f.with_aligned();
            }
            let v = self.bcx.ins().load(t, f, src, offset as i32);
            chunks.push((v, offset as i32, f));
            offset += width;
        }
        for (v, offset, f) in chunks {
            self.bcx.ins().store(f, v, dst, offset);
        }
        Ok(())
    }

    /// Writes `n` copies of `value` (of type `elem`) from `dst` on: `[value; n]`.
    pub(crate) fn fill(&mut self, dst: Value, elem: &Ty, value: CValue, n: u64, zero: bool) -> CgResult<()> {
        let layout = self.layout(elem)?;
        let total = layout.size.checked_mul(n).filter(|&s| s <= super::layout_of::MAX_SIZE);
        let Some(total) = total else {
            return Err(CodegenError::Unsupported(format!("[{elem}; {n}], larger than the stack")));
        };
        if total == 0 {
            return Ok(());
        }
        if n <= INLINE_FILL_MAX {
            for i in 0..n {
                self.store_at(elem, value, dst, (i * layout.size) as i32)?;
            }
            return Ok(());
        }
        if zero {
            let byte = self.bcx.ins().iconst(types::I32, 0);
            let size = self.bcx.ins().iconst(self.mcx.pointer_type, total as i64);
            self.call_support(&support::MEMSET, &[dst, byte, size])?;
            return Ok(());
        }
        // loop(p): *p = value; p += size; if p < end { loop(p) }
        let pointer = self.mcx.pointer_type;
        let end = self.bcx.ins().iadd_imm_s(dst, total as i64);
        let body = self.bcx.create_block();
        let p = self.bcx.append_block_param(body, pointer);
        let exit = self.bcx.create_block();
        self.bcx.ins().jump(body, &[dst.into()]);
        self.bcx.switch_to_block(body);
        self.store_at(elem, value, p, 0)?;
        let next = self.bcx.ins().iadd_imm_s(p, layout.size as i64);
        let more = self.bcx.ins().icmp(cranelift_codegen::ir::condcodes::IntCC::UnsignedLessThan, next, end);
        self.bcx.ins().brif(more, body, &[next.into()], exit, &[]);
        self.bcx.switch_to_block(exit);
        Ok(())
    }
}

/// A fresh stack slot for a value of `layout`, aligned for it.
pub(crate) fn create_slot(bcx: &mut FunctionBuilder<'_>, layout: TyLayout) -> StackSlot {
    // A zero-sized value still gets a distinct (one-byte) address.
    let size = layout.size.max(1) as u32;
    bcx.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, size, layout.align_shift()))
}

/// The offset of a pair's second word: right after the first.
fn pair_second_offset(first: Type) -> i32 {
    first.bytes() as i32
}
