//! Semantic types after resolution and inference.
//!
//! [`Ty`] is what the typed HIR and Blood IR carry: fully known, no inference variables (those
//! live only inside `typeck`). Layout questions (bit widths, signedness) are answered here so
//! every stage agrees.

use std::fmt;
use std::sync::Arc;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IntTy {
    I8,
    I16,
    I32,
    I64,
    I128,
    Isize,
    U8,
    U16,
    U32,
    U64,
    U128,
    Usize,
}

impl IntTy {
    pub const ALL: [IntTy; 12] = [
        IntTy::I8,
        IntTy::I16,
        IntTy::I32,
        IntTy::I64,
        IntTy::I128,
        IntTy::Isize,
        IntTy::U8,
        IntTy::U16,
        IntTy::U32,
        IntTy::U64,
        IntTy::U128,
        IntTy::Usize,
    ];

    pub fn is_signed(self) -> bool {
        matches!(self, IntTy::I8 | IntTy::I16 | IntTy::I32 | IntTy::I64 | IntTy::I128 | IntTy::Isize)
    }

    /// Width in bits (`isize`/`usize` are 64-bit on every supported target).
    pub fn bits(self) -> u32 {
        match self {
            IntTy::I8 | IntTy::U8 => 8,
            IntTy::I16 | IntTy::U16 => 16,
            IntTy::I32 | IntTy::U32 => 32,
            IntTy::I64 | IntTy::U64 | IntTy::Isize | IntTy::Usize => 64,
            IntTy::I128 | IntTy::U128 => 128,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            IntTy::I8 => "i8",
            IntTy::I16 => "i16",
            IntTy::I32 => "i32",
            IntTy::I64 => "i64",
            IntTy::I128 => "i128",
            IntTy::Isize => "isize",
            IntTy::U8 => "u8",
            IntTy::U16 => "u16",
            IntTy::U32 => "u32",
            IntTy::U64 => "u64",
            IntTy::U128 => "u128",
            IntTy::Usize => "usize",
        }
    }

    pub fn from_name(name: &str) -> Option<IntTy> {
        IntTy::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Smallest value as a signed 129-bit quantity (`i128` cannot hold `u128::MAX`, so ranges are
    /// checked with (negative, magnitude) pairs by [`IntTy::fits`]).
    pub fn fits(self, negative: bool, magnitude: u128) -> bool {
        let bits = self.bits();
        if self.is_signed() {
            let max_pos: u128 = (1u128 << (bits - 1)) - 1;
            if negative { magnitude <= max_pos + 1 } else { magnitude <= max_pos }
        } else if negative {
            magnitude == 0
        } else {
            bits == 128 || magnitude < (1u128 << bits)
        }
    }

    /// Truncates a value to this type's width (two's complement).
    pub fn truncate(self, value: u128) -> u128 {
        if self.bits() == 128 { value } else { value & ((1u128 << self.bits()) - 1) }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FloatTy {
    F32,
    F64,
}

impl FloatTy {
    pub fn name(self) -> &'static str {
        match self {
            FloatTy::F32 => "f32",
            FloatTy::F64 => "f64",
        }
    }
}

/// A fully resolved type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Unit,
    Bool,
    Char,
    Int(IntTy),
    Float(FloatTy),
    /// `&str`: pointer to UTF-8 bytes plus byte length.
    Str,
    /// `!`
    Never,
    /// A user enum whose variants carry no data (LANGUAGE.md §4.2). The IR represents its values
    /// by their discriminants, as [`ENUM_REPR`] integers.
    Enum(EnumRef),
    /// A user struct, or an enum with at least one payload-carrying variant, with its type
    /// arguments. Its fields are described by the [`AdtDef`] at `AdtRef::id` in the program's
    /// [`AdtTable`].
    Adt(AdtRef, Arc<[Ty]>),
    /// `(A, B, …)` with at least one element (`()` is [`Ty::Unit`]).
    Tuple(Arc<[Ty]>),
    /// `[T; N]`
    Array(Arc<Ty>, u64),
    /// `[T]`: unsized; appears only as the pointee of a reference (`&[T]` is a (pointer, length)
    /// pair) and as the type of a place reached through one.
    Slice(Arc<Ty>),
    /// Type parameter `index` of the generic item being described (a generic signature or an
    /// ADT's field template). Substituted away before bodies are checked: no HIR body and no IR
    /// contains one.
    Param(u32, Arc<str>),
    /// `&T` (`false`) or `&mut T` (`true`). A reference to a sized type is one pointer; to a
    /// slice, a (pointer, length) pair. `&str` is [`Ty::Str`], not `Ref(str)`.
    Ref(Arc<Ty>, bool),
    /// `fn(A, B) -> R`: the one callable type, of named functions and closures alike
    /// (LANGUAGE.md §5.3). A value is two words: the code pointer and the environment pointer
    /// (null for named functions and closures without captures); see ARCHITECTURE.md,
    /// "Closures and function values". The [`Effects`] row is part of the written type but not
    /// of its identity (see [`Effects`]).
    Fn(Arc<[Ty]>, Arc<Ty>, Effects),
    /// An owned heap value (LANGUAGE.md §5.5): `Vec<T>`, `String` (whose argument is always
    /// `u8`: a `String` is laid out and handled as a `Vec<u8>` of UTF-8 bytes) or `Box<T>`.
    /// Values of these types, and of every type containing one, move instead of being copied
    /// (see [`Ty::needs_drop`]).
    Owned(OwnedKind, Arc<Ty>),
    /// An inference variable. Exists only inside `typeck`; the typed HIR it returns and
    /// everything after contain none.
    Infer(InferVar),
    /// The type of an expression that already produced an error; unifies with everything so one
    /// mistake is reported once. Never reaches IR (lowering runs only on error-free programs).
    Error,
}

/// An effect row (LANGUAGE.md §6.2): a set of the built-in effects `Fiber` and `Cancel`
/// (§7.2), the only effects of the implemented levels.
///
/// Rows are **erased from type identity**: `==` and `Hash` ignore them, so two `fn` types that
/// differ only in their rows are the same type for unification, monomorphisation, the IR and
/// codegen (a row changes nothing about a value's representation). The type checker checks
/// rows explicitly where the spec says (`typeck/effects.rs`): a `fn` value may be used where
/// its row is a subset of the expected one, a body may only perform what its row allows.
#[derive(Copy, Clone, Debug, Default)]
pub struct Effects(u8);

impl Effects {
    pub const PURE: Effects = Effects(0);
    pub const FIBER: Effects = Effects(1);
    pub const CANCEL: Effects = Effects(2);
    /// Every effect, with its name, in display order.
    pub const ALL: [(Effects, &'static str); 2] = [(Effects::FIBER, "Fiber"), (Effects::CANCEL, "Cancel")];

    pub fn by_name(name: &str) -> Option<Effects> {
        Effects::ALL.iter().find(|(_, n)| *n == name).map(|(e, _)| *e)
    }

    pub fn union(self, other: Effects) -> Effects {
        Effects(self.0 | other.0)
    }

    /// `self ⊆ other`.
    pub fn is_subset(self, other: Effects) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn is_pure(self) -> bool {
        self.0 == 0
    }

    /// The effects of `self` missing from `other`, by name.
    pub fn missing_from(self, other: Effects) -> Vec<&'static str> {
        Effects::ALL.iter().filter(|(e, _)| e.0 & self.0 != 0 && e.0 & other.0 == 0).map(|(_, n)| *n).collect()
    }

    pub fn same_as(self, other: Effects) -> bool {
        self.0 == other.0
    }
}

impl PartialEq for Effects {
    /// Always true: rows are not part of type identity (see the type's documentation).
    fn eq(&self, _: &Effects) -> bool {
        true
    }
}

impl Eq for Effects {}

impl std::hash::Hash for Effects {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl fmt::Display for Effects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Effects::ALL.iter().filter(|(e, _)| e.0 & self.0 != 0).map(|(_, n)| *n).collect();
        write!(f, "{{{}}}", names.join(", "))
    }
}

/// Which builtin heap type a [`Ty::Owned`] is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum OwnedKind {
    /// `Vec<T>`: three words in memory: data pointer, length, capacity (in elements).
    Vec,
    /// `String`: a `Vec<u8>` holding UTF-8.
    String,
    /// `Box<T>`: one pointer to a heap `T`.
    Box,
}

/// Identifies a user enum; the name is carried along for messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnumRef {
    pub id: u32,
    pub name: std::sync::Arc<str>,
}

/// The integer type holding an enum's discriminant in IR and machine code.
pub const ENUM_REPR: IntTy = IntTy::I64;

/// Identifies a user struct or payload enum; the name is carried along for messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AdtRef {
    pub id: u32,
    pub name: Arc<str>,
}

/// The integer type of a payload enum's tag (the variant index), stored at offset 0.
pub const TAG_REPR: IntTy = IntTy::U32;

/// The definitions of every user struct and payload enum of a program, indexed by
/// [`AdtRef::id`]. Shared by the type checker, the IR and codegen (for layouts).
#[derive(Clone, Debug, Default)]
pub struct AdtTable {
    pub defs: Vec<AdtDef>,
}

#[derive(Clone, Debug)]
pub struct AdtDef {
    pub name: String,
    /// Names of the type parameters; field types refer to them as [`Ty::Param`].
    pub generics: Vec<String>,
    pub is_enum: bool,
    /// A struct has exactly one variant (index 0, named like the struct).
    pub variants: Vec<VariantDef>,
    /// The prelude's `ChannelRef`: one `u64` field holding a runtime channel, copied by
    /// counting references (`blood_channel_retain`) and released when dropped
    /// (`blood_channel_release`), like a `fn` value's environment.
    pub counted_handle: bool,
}

#[derive(Clone, Debug)]
pub struct VariantDef {
    pub name: String,
    pub ctor: CtorKind,
    pub fields: Vec<FieldDef>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CtorKind {
    /// `S { a: T }` / `E.V { a: T }`
    Named,
    /// `S(T)` / `E.V(T)`: fields are named `0`, `1`, …
    Tuple,
    /// `S` / `E.V`
    Unit,
}

#[derive(Clone, Debug)]
pub struct FieldDef {
    pub name: String,
    pub ty: Ty,
}

impl AdtTable {
    pub fn def(&self, adt: &AdtRef) -> &AdtDef {
        &self.defs[adt.id as usize]
    }

    /// The field types of `variant` of the instance `adt<args>`.
    pub fn field_tys(&self, adt: &AdtRef, args: &[Ty], variant: usize) -> Vec<Ty> {
        self.def(adt).variants[variant].fields.iter().map(|f| f.ty.subst(args)).collect()
    }
}

/// An inference variable and what it may become.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct InferVar {
    pub id: u32,
    pub kind: InferKind,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum InferKind {
    /// Any type.
    General,
    /// An integer type (from an unsuffixed integer literal; defaults to `i32`).
    Int,
    /// A float type (from an unsuffixed float literal; defaults to `f64`).
    Float,
}

impl Ty {
    pub fn is_integer(&self) -> bool {
        matches!(self, Ty::Int(_))
    }

    pub fn is_float(&self) -> bool {
        matches!(self, Ty::Float(_))
    }

    /// Types that carry no run-time data.
    pub fn is_zero_sized(&self) -> bool {
        matches!(self, Ty::Unit | Ty::Never)
    }

    /// Values kept in memory by codegen (stack slots, passed by pointer): structs, payload enums,
    /// tuples and arrays. Everything else is one or two machine words (`&str` and `&[T]` are
    /// (pointer, length) pairs).
    pub fn is_aggregate(&self) -> bool {
        matches!(
            self,
            Ty::Adt(..)
                | Ty::Tuple(_)
                | Ty::Array(..)
                | Ty::Slice(_)
                | Ty::Owned(OwnedKind::Vec | OwnedKind::String, _)
        )
    }

    /// `Vec<T>` / `Box<T>` / `String`.
    pub fn vec(elem: Ty) -> Ty {
        Ty::Owned(OwnedKind::Vec, Arc::new(elem))
    }

    pub fn boxed(inner: Ty) -> Ty {
        Ty::Owned(OwnedKind::Box, Arc::new(inner))
    }

    pub fn string() -> Ty {
        Ty::Owned(OwnedKind::String, Arc::new(Ty::Int(IntTy::U8)))
    }

    /// Whether values of this type have drop glue: they own heap storage ([`Ty::is_move_type`])
    /// or hold a `fn` value, whose environment is reference-counted, or a channel handle
    /// (`AdtDef::counted_handle`) (ARCHITECTURE.md "Closures
    /// and function values"). Such values are dropped by compiler-inserted drops (LANGUAGE.md
    /// §5.5, ARCHITECTURE.md "Memory").
    pub fn needs_drop(&self, adts: &AdtTable) -> bool {
        self.ownership(adts, true)
    }

    /// Whether values of this type *move* instead of being copied: the type is or contains (as
    /// a field, element, payload or type argument used by a field) a `Vec`, `String` or `Box`.
    /// A type that needs drop only because it holds `fn` values is copied, each copy counting
    /// one more reference to the environments ([`Ty::is_counted_copy`]).
    pub fn is_move_type(&self, adts: &AdtTable) -> bool {
        self.ownership(adts, false)
    }

    /// Whether a value of this type is copied by counting references (it holds `fn` values
    /// and owns nothing else): reading it leaves the source valid and yields a new reference.
    pub fn is_counted_copy(&self, adts: &AdtTable) -> bool {
        self.needs_drop(adts) && !self.is_move_type(adts)
    }

    /// Terminates on recursive types: every cycle of ADTs goes through an owned indirection
    /// (the type checker rejects the others), which answers `true`.
    fn ownership(&self, adts: &AdtTable, count_fns: bool) -> bool {
        match self {
            Ty::Owned(..) => true,
            Ty::Fn(..) => count_fns,
            Ty::Adt(a, _) if adts.def(a).counted_handle => count_fns,
            Ty::Tuple(xs) => xs.iter().any(|x| x.ownership(adts, count_fns)),
            Ty::Array(x, n) => *n > 0 && x.ownership(adts, count_fns),
            Ty::Adt(a, args) => {
                let def = adts.def(a);
                (0..def.variants.len()).any(|v| adts.field_tys(a, args, v).iter().any(|t| t.ownership(adts, count_fns)))
            }
            _ => false,
        }
    }

    /// Whether a type parameter occurs in the type.
    pub fn has_params(&self) -> bool {
        matches!(self, Ty::Param(..)) || self.any_child(&mut |c| c.has_params())
    }

    /// Replaces `Param(i)` by `args[i]` everywhere in the type.
    pub fn subst(&self, args: &[Ty]) -> Ty {
        match self {
            Ty::Param(i, _) => args.get(*i as usize).cloned().unwrap_or(Ty::Error),
            t => t.map_children(&mut |x| x.subst(args)),
        }
    }

    /// The same type constructor applied to `f` of each component type (tuple and ADT
    /// arguments, element, pointee and owned types, function parameters and result); leaves
    /// are returned as they are. Every structural rewrite of types goes through here, so a new
    /// type constructor needs handling in one place.
    pub fn map_children(&self, f: &mut dyn FnMut(&Ty) -> Ty) -> Ty {
        match self {
            Ty::Adt(a, xs) => Ty::Adt(a.clone(), xs.iter().map(&mut *f).collect()),
            Ty::Tuple(xs) => Ty::Tuple(xs.iter().map(&mut *f).collect()),
            Ty::Array(x, n) => Ty::Array(f(x).into(), *n),
            Ty::Slice(x) => Ty::Slice(f(x).into()),
            Ty::Ref(x, m) => Ty::Ref(f(x).into(), *m),
            Ty::Fn(ps, r, e) => Ty::Fn(ps.iter().map(&mut *f).collect(), f(r).into(), *e),
            Ty::Owned(k, x) => Ty::Owned(*k, f(x).into()),
            t => t.clone(),
        }
    }

    /// Whether `pred` holds for some component type (not for `self`).
    pub fn any_child(&self, pred: &mut dyn FnMut(&Ty) -> bool) -> bool {
        match self {
            Ty::Adt(_, xs) | Ty::Tuple(xs) => xs.iter().any(&mut *pred),
            Ty::Array(x, _) | Ty::Slice(x) | Ty::Ref(x, _) | Ty::Owned(_, x) => pred(x),
            Ty::Fn(ps, r, _) => ps.iter().any(&mut *pred) || pred(r),
            _ => false,
        }
    }

    pub fn reference(inner: Ty, mutable: bool) -> Ty {
        Ty::Ref(Arc::new(inner), mutable)
    }

    pub fn tuple(elems: Vec<Ty>) -> Ty {
        if elems.is_empty() { Ty::Unit } else { Ty::Tuple(elems.into()) }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Unit => write!(f, "()"),
            Ty::Bool => write!(f, "bool"),
            Ty::Char => write!(f, "char"),
            Ty::Int(i) => write!(f, "{}", i.name()),
            Ty::Float(x) => write!(f, "{}", x.name()),
            Ty::Str => write!(f, "&str"),
            Ty::Never => write!(f, "!"),
            Ty::Enum(e) => write!(f, "{}", e.name),
            Ty::Adt(a, args) => {
                write!(f, "{}", a.name)?;
                if !args.is_empty() {
                    write!(f, "<{}>", args.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", "))?;
                }
                Ok(())
            }
            Ty::Tuple(elems) => {
                write!(f, "(")?;
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{t}")?;
                }
                if elems.len() == 1 {
                    write!(f, ",")?;
                }
                write!(f, ")")
            }
            Ty::Array(t, n) => write!(f, "[{t}; {n}]"),
            Ty::Param(_, name) => write!(f, "{name}"),
            Ty::Slice(t) => write!(f, "[{t}]"),
            Ty::Ref(t, false) => write!(f, "&{t}"),
            Ty::Ref(t, true) => write!(f, "&mut {t}"),
            Ty::Fn(ps, r, e) => {
                write!(f, "fn({})", ps.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", "))?;
                if **r != Ty::Unit {
                    write!(f, " -> {r}")?;
                }
                if !e.is_pure() {
                    write!(f, " / {e}")?;
                }
                Ok(())
            }
            Ty::Owned(OwnedKind::Vec, t) => write!(f, "Vec<{t}>"),
            Ty::Owned(OwnedKind::String, _) => write!(f, "String"),
            Ty::Owned(OwnedKind::Box, t) => write!(f, "Box<{t}>"),
            Ty::Infer(v) => match v.kind {
                InferKind::General => write!(f, "_"),
                InferKind::Int => write!(f, "{{integer}}"),
                InferKind::Float => write!(f, "{{float}}"),
            },
            Ty::Error => write!(f, "{{error}}"),
        }
    }
}
