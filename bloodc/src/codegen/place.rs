//! Places: the address a place designates, and the statements and rvalues that use one
//! (`Store`, `Load`, `Ref`, `Discriminant`, `Len`) plus `Unsize`.
//!
//! A place is walked left to right. It starts at the base local's storage (which lives in
//! memory, see [`super::frame`]) or, when the first projection is a dereference, at the pointer
//! held by the local (a register value; the pointer local itself need not have an address).
//! `Field` and `VariantField` add constant offsets from [`super::layout_of`], accumulated and
//! folded into the final access's displacement; `Index` adds `i * size_of(elem)` (indices are
//! already bounds-checked by the IR); a later `Deref` loads the pointer stored at the current
//! address. Dereferencing a `&[T]` yields the unsized place `[T]`, whose length (the pair's
//! second word) is carried along for `Len`, `Ref` and the IR's own bounds checks.

use cranelift_codegen::ir::{InstBuilder, Value, types};

use super::function::FunctionCx;
use super::layout_of::{field_offset, tag_layout};
use super::values::CValue;
use super::{CgResult, CodegenError};
use crate::ir::{Operand, Place, Proj, try_project_ty};
use crate::types::{TAG_REPR, Ty};

/// A place resolved to memory: `base + offset`, the type there, and for an unsized slice place
/// its element count.
pub(crate) struct PlaceRef {
    pub(crate) base: Value,
    pub(crate) offset: i64,
    pub(crate) ty: Ty,
    pub(crate) len: Option<Value>,
}

impl PlaceRef {
    fn disp(&self) -> CgResult<i32> {
        i32::try_from(self.offset)
            .map_err(|_| CodegenError::Unsupported(format!("a field offset of {} bytes", self.offset)))
    }
}

impl FunctionCx<'_, '_> {
    pub(crate) fn place_ref(&mut self, place: &Place) -> CgResult<PlaceRef> {
        let program = self.program;
        let adts = &*program.adts;
        let base_ty = self.local_ty(place.base)?.clone();
        let mut projs = place.proj.iter();
        let mut at = if let Some(Proj::Deref) = place.proj.first() {
            projs.next();
            let pointer = self.read_local(place.base)?;
            self.deref(&base_ty, pointer)?
        } else {
            PlaceRef { base: self.local_addr(place.base)?, offset: 0, ty: base_ty, len: None }
        };
        for p in projs {
            let next_ty = try_project_ty(adts, &at.ty, p)
                .ok_or_else(|| CodegenError::InvalidIr(format!("projection {p:?} on a {}", at.ty)))?;
            match p {
                Proj::Deref => {
                    let disp = at.disp()?;
                    let pointer = self.load_at(&at.ty, at.base, disp)?;
                    at = self.deref(&at.ty, pointer)?;
                    continue;
                }
                Proj::Field(i) => at.offset += field_offset(adts, &at.ty, None, *i)? as i64,
                Proj::VariantField { variant, field } => {
                    at.offset += field_offset(adts, &at.ty, Some(*variant), *field)? as i64;
                }
                Proj::Index(i) => {
                    let size = self.layout(&next_ty)?.size;
                    let index = self.scalar(&Operand::Local(*i))?;
                    let scaled = self.bcx.ins().imul_imm_u(index, size as i64);
                    at.base = self.bcx.ins().iadd(at.base, scaled);
                    at.len = None;
                }
            }
            at.ty = next_ty;
        }
        Ok(at)
    }

    /// The place a pointer value of type `ref_ty` points to: the pointee of a reference or box,
    /// or the elements (`[T]`, with their count) of a vector, whose value is its address.
    fn deref(&mut self, ref_ty: &Ty, pointer: CValue) -> CgResult<PlaceRef> {
        if let (Ty::Owned(kind, elem), CValue::Mem(addr)) = (ref_ty, pointer)
            && *kind != crate::types::OwnedKind::Box
        {
            let (ptr, len) = self.vec_words(addr)?;
            return Ok(PlaceRef { base: ptr, offset: 0, ty: Ty::Slice(elem.clone()), len: Some(len) });
        }
        if let (Ty::Owned(crate::types::OwnedKind::Box, inner), CValue::One(p)) = (ref_ty, pointer) {
            return Ok(PlaceRef { base: p, offset: 0, ty: (**inner).clone(), len: None });
        }
        let Ty::Ref(pointee, _) = ref_ty else {
            return Err(CodegenError::InvalidIr(format!("dereference of a {ref_ty}")));
        };
        let (base, len) = match pointer {
            CValue::One(p) => (p, None),
            CValue::Pair(p, n) => (p, Some(n)),
            other => return Err(CodegenError::InvalidIr(format!("dereference of {other:?}"))),
        };
        Ok(PlaceRef { base, offset: 0, ty: (**pointee).clone(), len })
    }

    /// The address of a place as one value.
    pub(crate) fn place_addr(&mut self, at: &PlaceRef) -> Value {
        self.offset_addr(at.base, at.offset)
    }

    /// `place = value`.
    pub(crate) fn lower_store(&mut self, place: &Place, value: &Operand) -> CgResult<()> {
        let v = self.operand(value)?;
        let at = self.place_ref(place)?;
        let disp = at.disp()?;
        self.store_at(&at.ty, v, at.base, disp)
    }

    /// `Load(place)` into a scalar or pair local (aggregates are copied by
    /// [`Self::lower_rvalue_into`](super::aggregate)).
    pub(crate) fn lower_load(&mut self, place: &Place) -> CgResult<CValue> {
        let at = self.place_ref(place)?;
        let disp = at.disp()?;
        self.load_at(&at.ty, at.base, disp)
    }

    /// `&place` / `&mut place`: the address, paired with the length for a slice place.
    pub(crate) fn lower_ref(&mut self, place: &Place) -> CgResult<CValue> {
        let at = self.place_ref(place)?;
        let addr = self.place_addr(&at);
        match (&at.ty, at.len) {
            (Ty::Slice(_), Some(len)) => Ok(CValue::Pair(addr, len)),
            (Ty::Slice(_), None) => Err(CodegenError::InvalidIr("a slice place without a length".to_string())),
            _ => Ok(CValue::One(addr)),
        }
    }

    /// The tag of the payload enum at a place.
    pub(crate) fn lower_discriminant(&mut self, place: &Place) -> CgResult<CValue> {
        let at = self.place_ref(place)?;
        let disp = at.disp()?;
        debug_assert_eq!(tag_layout().size * 8, u64::from(TAG_REPR.bits()));
        let t = super::abi::int_type(TAG_REPR);
        Ok(CValue::One(self.bcx.ins().load(t, cranelift_codegen::ir::MemFlagsData::trusted(), at.base, disp)))
    }

    /// The element count of an array (a constant) or slice (from the reference) place.
    pub(crate) fn lower_len(&mut self, place: &Place) -> CgResult<CValue> {
        // The length of an array needs no address (the place may even be a bare local).
        let mut ty = self.local_ty(place.base)?.clone();
        for p in &place.proj {
            ty = try_project_ty(&self.program.adts, &ty, p)
                .ok_or_else(|| CodegenError::InvalidIr(format!("projection {p:?} on a {ty}")))?;
        }
        if let Ty::Array(_, n) = &ty {
            return Ok(CValue::One(self.bcx.ins().iconst(types::I64, *n as i64)));
        }
        let at = self.place_ref(place)?;
        match (&at.ty, at.len) {
            (Ty::Slice(_), Some(len)) => Ok(CValue::One(len)),
            (ty, _) => Err(CodegenError::InvalidIr(format!("length of a {ty}"))),
        }
    }

    /// `&[T; N]` → `&[T]`: the same pointer with the constant length.
    pub(crate) fn lower_unsize(&mut self, op: &Operand) -> CgResult<CValue> {
        let ty = self.operand_ty(op)?;
        let Ty::Ref(inner, _) = &ty else {
            return Err(CodegenError::InvalidIr(format!("unsize of a {ty}")));
        };
        let Ty::Array(_, n) = &**inner else {
            return Err(CodegenError::InvalidIr(format!("unsize of a {ty}")));
        };
        let ptr = self.scalar(op)?;
        let len = self.bcx.ins().iconst(types::I64, *n as i64);
        Ok(CValue::Pair(ptr, len))
    }
}
