//! The heap intrinsics (`ir::HeapIntrinsic`): allocation, vector growth and frees, expanded into
//! runtime calls with the element layout, which only codegen knows.
//!
//! A `Vec<T>` / `String` in memory is three words: data pointer (offset 0), length (8) and
//! capacity (16), lengths in elements. An empty vector holds a dangling pointer equal to the
//! element alignment (never dereferenced, never freed: capacity 0) so a slice or `&str` made from
//! it is valid. A `Box<T>` is one pointer from `blood_alloc` (the alignment itself for a
//! zero-sized `T`). Every allocation goes through the runtime's single allocator entry
//! (`blood_alloc` / `blood_realloc` / `blood_free`, blood-runtime `alloc.rs`).

use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};

use super::calls::support;
use super::function::FunctionCx;
use super::values::CValue;
use super::{CgResult, CodegenError};
use crate::ir::{HeapIntrinsic, Operand};
use crate::types::{OwnedKind, Ty};

/// Offsets of a vector's words.
const PTR: i32 = 0;
const LEN: i32 = 8;
const CAP: i32 = 16;

impl FunctionCx<'_, '_> {
    /// The (data pointer, length) of the vector stored at `addr`.
    pub(crate) fn vec_words(&mut self, addr: Value) -> CgResult<(Value, Value)> {
        let ptr = self.bcx.ins().load(self.mcx.pointer_type, MemFlagsData::trusted(), addr, PTR);
        let len = self.bcx.ins().load(types::I64, MemFlagsData::trusted(), addr, LEN);
        Ok((ptr, len))
    }

    /// (size, alignment) of the element type of the vector, string or box that `op` is or
    /// points to.
    fn elem_layout(&mut self, op: &Operand) -> CgResult<(u64, u64)> {
        let ty = self.operand_ty(op)?;
        let owned = match &ty {
            Ty::Ref(inner, _) => (**inner).clone(),
            t => t.clone(),
        };
        match owned {
            Ty::Owned(_, elem) => {
                let l = self.layout(&elem)?;
                Ok((l.size, l.align))
            }
            // `box_free(env)` in a closure environment's drop function: the environment tuple.
            env @ Ty::Tuple(_) if matches!(ty, Ty::Ref(..)) => {
                let l = self.layout(&env)?;
                Ok((l.size, l.align))
            }
            other => Err(CodegenError::InvalidIr(format!("heap operation on a {other}"))),
        }
    }

    fn iconst64(&mut self, v: u64) -> Value {
        self.bcx.ins().iconst(types::I64, v as i64)
    }

    /// Heap intrinsics whose result is a scalar, a pair or nothing.
    pub(crate) fn lower_heap_intrinsic(&mut self, h: HeapIntrinsic, args: &[Operand], dest: &Ty) -> CgResult<CValue> {
        let arg =
            |i: usize| args.get(i).ok_or_else(|| CodegenError::InvalidIr(format!("{h:?} needs argument {i}"))).cloned();
        match h {
            HeapIntrinsic::VecReserve => {
                let (size, align) = self.elem_layout(&arg(0)?)?;
                let v = self.scalar(&arg(0)?)?;
                let n = self.scalar(&arg(1)?)?;
                let (s, a) = (self.iconst64(size), self.iconst64(align));
                self.call_import(&blood_abi::VEC_RESERVE, &[v, n, s, a])?;
                Ok(CValue::Zst)
            }
            HeapIntrinsic::VecMoveElems => {
                let (size, _) = self.elem_layout(&arg(0)?)?;
                if size == 0 {
                    return Ok(CValue::Zst);
                }
                let v = self.scalar(&arg(0)?)?;
                let from = self.scalar(&arg(1)?)?;
                let to = self.scalar(&arg(2)?)?;
                let count = self.scalar(&arg(3)?)?;
                let ptr = self.bcx.ins().load(self.mcx.pointer_type, MemFlagsData::trusted(), v, PTR);
                let src_off = self.bcx.ins().imul_imm_u(from, size as i64);
                let dst_off = self.bcx.ins().imul_imm_u(to, size as i64);
                let src = self.bcx.ins().iadd(ptr, src_off);
                let dst = self.bcx.ins().iadd(ptr, dst_off);
                let bytes = self.bcx.ins().imul_imm_u(count, size as i64);
                self.call_support(&support::MEMMOVE, &[dst, src, bytes])?;
                Ok(CValue::Zst)
            }
            HeapIntrinsic::VecFree => {
                let (size, align) = self.elem_layout(&arg(0)?)?;
                let v = self.scalar(&arg(0)?)?;
                let ptr = self.bcx.ins().load(self.mcx.pointer_type, MemFlagsData::trusted(), v, PTR);
                let cap = self.bcx.ins().load(types::I64, MemFlagsData::trusted(), v, CAP);
                let bytes = self.bcx.ins().imul_imm_u(cap, size as i64);
                let a = self.iconst64(align);
                self.call_import(&blood_abi::FREE, &[ptr, bytes, a])?;
                Ok(CValue::Zst)
            }
            HeapIntrinsic::BoxAlloc => {
                let Ty::Owned(OwnedKind::Box, inner) = dest else {
                    return Err(CodegenError::InvalidIr(format!("box_alloc into a {dest}")));
                };
                let l = self.layout(inner)?;
                let (s, a) = (self.iconst64(l.size), self.iconst64(l.align));
                let r = self.call_import(&blood_abi::ALLOC, &[s, a])?;
                Ok(CValue::One(r[0]))
            }
            HeapIntrinsic::BoxFree => {
                let (size, align) = self.elem_layout(&arg(0)?)?;
                let b = self.scalar(&arg(0)?)?;
                let (s, a) = (self.iconst64(size), self.iconst64(align));
                self.call_import(&blood_abi::FREE, &[b, s, a])?;
                Ok(CValue::Zst)
            }
            HeapIntrinsic::FnRetain | HeapIntrinsic::FnRelease => {
                let value = arg(0)?;
                let (code, env) = match self.operand(&value)? {
                    CValue::Pair(code, env) => (code, env),
                    CValue::One(r) => {
                        let pointer = self.mcx.pointer_type;
                        let code = self.bcx.ins().load(pointer, MemFlagsData::trusted(), r, 0);
                        let env = self.bcx.ins().load(pointer, MemFlagsData::trusted(), r, 8);
                        (code, env)
                    }
                    other => return Err(CodegenError::InvalidIr(format!("{h:?} of {other:?}"))),
                };
                if h == HeapIntrinsic::FnRetain { self.fn_retain(code, env) } else { self.fn_release(env) }
            }
            HeapIntrinsic::StringAsStr => {
                let v = self.scalar(&arg(0)?)?;
                let (ptr, len) = self.vec_words(v)?;
                Ok(CValue::Pair(ptr, len))
            }
            HeapIntrinsic::StringPushStr => {
                let v = self.scalar(&arg(0)?)?;
                let CValue::Pair(p, n) = self.operand(&arg(1)?)? else {
                    return Err(CodegenError::InvalidIr("string_push_str of a non-&str".to_string()));
                };
                self.call_import(&blood_abi::STRING_PUSH_STR, &[v, p, n])?;
                Ok(CValue::Zst)
            }
            HeapIntrinsic::StringPushChar => {
                let v = self.scalar(&arg(0)?)?;
                let c = self.scalar(&arg(1)?)?;
                self.call_import(&blood_abi::STRING_PUSH_CHAR, &[v, c])?;
                Ok(CValue::Zst)
            }
            HeapIntrinsic::VecNew | HeapIntrinsic::VecCloneBytes | HeapIntrinsic::Clone => {
                Err(CodegenError::InvalidIr(format!("{h:?} assigned to a {dest}")))
            }
        }
    }

    /// Heap intrinsics producing a vector, written into the memory at `dst`.
    pub(crate) fn lower_heap_into(&mut self, h: HeapIntrinsic, args: &[Operand], ty: &Ty, dst: Value) -> CgResult<()> {
        let Ty::Owned(_, elem) = ty else {
            return Err(CodegenError::InvalidIr(format!("{h:?} into a {ty}")));
        };
        let l = self.layout(elem)?;
        match h {
            HeapIntrinsic::VecNew => {
                let dangling = self.bcx.ins().iconst(self.mcx.pointer_type, l.align as i64);
                let zero = self.iconst64(0);
                self.bcx.ins().store(MemFlagsData::trusted(), dangling, dst, PTR);
                self.bcx.ins().store(MemFlagsData::trusted(), zero, dst, LEN);
                self.bcx.ins().store(MemFlagsData::trusted(), zero, dst, CAP);
                Ok(())
            }
            HeapIntrinsic::VecCloneBytes => {
                let [src] = args else {
                    return Err(CodegenError::InvalidIr("vec_clone_bytes takes one argument".to_string()));
                };
                let src = self.scalar(src)?;
                let (s, a) = (self.iconst64(l.size), self.iconst64(l.align));
                self.call_import(&blood_abi::VEC_CLONE, &[dst, src, s, a])?;
                Ok(())
            }
            _ => Err(CodegenError::InvalidIr(format!("{h:?} produces no {ty}"))),
        }
    }
}
