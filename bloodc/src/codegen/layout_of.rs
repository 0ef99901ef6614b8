//! Memory layout of Blood types: size, alignment and field offsets.
//!
//! (Not to be confused with [`super::layout`], which is about the placement of basic blocks.)
//!
//! The rules are C's, so a layout can be computed from the type alone and never changes between
//! compilations or optimisation levels:
//! * scalars have their natural size and alignment (`bool` 1, `char` 4, `i128` 16/16), a
//!   reference to a sized type is one pointer, `&str` and `&[T]` are (pointer, length) pairs of
//!   16 bytes, and so is an `fn` value (code, environment), `()` and `!` take no space;
//! * structs and tuples place their fields in declaration order, each at the next offset
//!   aligned for it; the size is rounded up to the largest alignment (an empty struct has size 0
//!   and alignment 1);
//! * arrays are `n` elements of the element's (already rounded) size;
//! * payload enums store the tag ([`TAG_REPR`], `u32`) at offset 0 and lay each variant's fields
//!   out like a struct that starts right after the tag; the size is the largest variant, rounded
//!   up to the largest alignment (at least the tag's).
//!
//! Fieldless user enums (`Ty::Enum`) are scalars represented by their `i64` discriminant.
//! Layouts larger than [`MAX_SIZE`] are rejected: such values cannot live on a stack, and field
//! offsets must fit the 32-bit displacement of load and store instructions.

use super::{CgResult, CodegenError};
use crate::types::{AdtTable, FloatTy, TAG_REPR, Ty};

/// The largest size of a type whose values codegen handles (2 GiB - 1).
pub(crate) const MAX_SIZE: u64 = i32::MAX as u64;

/// Nesting depth beyond which a type is considered malformed (a recursive type without
/// indirection, which the type checker rejects).
const MAX_DEPTH: u32 = 512;

/// Size and alignment of a type, in bytes. `size` is a multiple of `align`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct TyLayout {
    pub(crate) size: u64,
    pub(crate) align: u64,
}

impl TyLayout {
    pub(crate) const fn new(size: u64, align: u64) -> TyLayout {
        TyLayout { size, align }
    }

    /// `log2(align)`, as Cranelift's stack slots want it.
    pub(crate) fn align_shift(self) -> u8 {
        self.align.trailing_zeros() as u8
    }
}

/// The layout of `ty`. Unsized types (`[T]`) have none.
pub(crate) fn layout_of(adts: &AdtTable, ty: &Ty) -> CgResult<TyLayout> {
    layout_at(adts, ty, 0)
}

/// The offset of field `field` in a struct or tuple (`variant == None`) or in variant `variant` of
/// a payload enum.
pub(crate) fn field_offset(adts: &AdtTable, ty: &Ty, variant: Option<u32>, field: u32) -> CgResult<u64> {
    if let Ty::Owned(..) = ty {
        // A vector's words: pointer, length, capacity (`ir::VEC_LEN_FIELD`, `VEC_CAP_FIELD`).
        return Ok(u64::from(field) * 8);
    }
    let fields = field_tys(adts, ty, variant)?;
    let start = fields_start(adts, ty);
    let offsets = struct_fields(adts, &fields, start, 1, 0)?.offsets;
    offsets
        .get(field as usize)
        .copied()
        .ok_or_else(|| CodegenError::InvalidIr(format!("field {field} of {ty} (variant {variant:?}) out of range")))
}

/// Offsets and types of every field of a struct or tuple (`variant == None`) or of variant
/// `variant` of a payload enum, in declaration order.
pub(crate) fn fields_of(adts: &AdtTable, ty: &Ty, variant: Option<u32>) -> CgResult<Vec<(u64, Ty)>> {
    let fields = field_tys(adts, ty, variant)?;
    let start = fields_start(adts, ty);
    let offsets = struct_fields(adts, &fields, start, 1, 0)?.offsets;
    Ok(offsets.into_iter().zip(fields).collect())
}

/// The field types of a struct, tuple or enum variant.
fn field_tys(adts: &AdtTable, ty: &Ty, variant: Option<u32>) -> CgResult<Vec<Ty>> {
    match (ty, variant) {
        (Ty::Tuple(elems), None) => Ok(elems.to_vec()),
        (Ty::Adt(a, args), None) if !adts.def(a).is_enum => Ok(adts.field_tys(a, args, 0)),
        (Ty::Adt(a, args), Some(v)) if adts.def(a).is_enum && (v as usize) < adts.def(a).variants.len() => {
            Ok(adts.field_tys(a, args, v as usize))
        }
        _ => Err(CodegenError::InvalidIr(format!("no fields in {ty} (variant {variant:?})"))),
    }
}

/// Where the fields start: 0 for structs and tuples, after the tag for enums.
fn fields_start(adts: &AdtTable, ty: &Ty) -> u64 {
    match ty {
        Ty::Adt(a, _) if adts.def(a).is_enum => tag_layout().size,
        _ => 0,
    }
}

/// The layout of an enum tag.
pub(crate) fn tag_layout() -> TyLayout {
    let bytes = u64::from(TAG_REPR.bits() / 8);
    TyLayout::new(bytes, bytes)
}

fn layout_at(adts: &AdtTable, ty: &Ty, depth: u32) -> CgResult<TyLayout> {
    if depth > MAX_DEPTH {
        return Err(CodegenError::InvalidIr(format!("type {ty} nests too deeply (a recursive type?)")));
    }
    let layout = match ty {
        Ty::Unit | Ty::Never => TyLayout::new(0, 1),
        Ty::Bool => TyLayout::new(1, 1),
        Ty::Char => TyLayout::new(4, 4),
        Ty::Int(it) => {
            let bytes = u64::from(it.bits() / 8);
            TyLayout::new(bytes, bytes)
        }
        Ty::Float(FloatTy::F32) => TyLayout::new(4, 4),
        Ty::Float(FloatTy::F64) => TyLayout::new(8, 8),
        Ty::Enum(_) => TyLayout::new(8, 8),
        Ty::Str | Ty::Fn(..) => TyLayout::new(16, 8),
        Ty::Ref(inner, _) => match &**inner {
            Ty::Slice(_) => TyLayout::new(16, 8),
            _ => TyLayout::new(8, 8),
        },
        Ty::Tuple(elems) => struct_fields(adts, elems, 0, 1, depth)?.layout,
        // A box is a pointer; a vector or string is (data pointer, length, capacity).
        Ty::Owned(crate::types::OwnedKind::Box, _) => TyLayout::new(8, 8),
        Ty::Owned(..) => TyLayout::new(24, 8),
        Ty::Adt(a, args) => {
            let def = adts.def(a);
            if def.is_enum {
                let tag = tag_layout();
                let mut layout = tag;
                for v in 0..def.variants.len() {
                    let fields = adts.field_tys(a, args, v);
                    let l = struct_fields(adts, &fields, tag.size, tag.align, depth)?.layout;
                    layout = TyLayout::new(layout.size.max(l.size), layout.align.max(l.align));
                }
                TyLayout::new(round_up(layout.size, layout.align), layout.align)
            } else {
                struct_fields(adts, &adts.field_tys(a, args, 0), 0, 1, depth)?.layout
            }
        }
        Ty::Array(elem, n) => {
            let e = layout_at(adts, elem, depth + 1)?;
            let size = e.size.checked_mul(*n).ok_or_else(|| too_large(ty))?;
            TyLayout::new(size, e.align)
        }
        Ty::Slice(_) | Ty::Infer(_) | Ty::Param(..) | Ty::Error => {
            return Err(CodegenError::InvalidIr(format!("layout of {ty}, which has no size")));
        }
    };
    if layout.size > MAX_SIZE {
        return Err(too_large(ty));
    }
    Ok(layout)
}

struct StructLayout {
    offsets: Vec<u64>,
    layout: TyLayout,
}

/// Lays out `fields` in order starting at offset `start` in a value aligned to at least
/// `min_align`.
fn struct_fields(adts: &AdtTable, fields: &[Ty], start: u64, min_align: u64, depth: u32) -> CgResult<StructLayout> {
    let mut offset = start;
    let mut align = min_align;
    let mut offsets = Vec::with_capacity(fields.len());
    for f in fields {
        let l = layout_at(adts, f, depth + 1)?;
        offset = round_up(offset, l.align);
        offsets.push(offset);
        offset = offset.checked_add(l.size).filter(|&o| o <= MAX_SIZE).ok_or_else(|| too_large(f))?;
        align = align.max(l.align);
    }
    Ok(StructLayout { offsets, layout: TyLayout::new(round_up(offset, align), align) })
}

fn round_up(x: u64, align: u64) -> u64 {
    x.div_ceil(align) * align
}

fn too_large(ty: &Ty) -> CodegenError {
    CodegenError::Unsupported(format!("values of type {ty}, larger than {MAX_SIZE} bytes"))
}
