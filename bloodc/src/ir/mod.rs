//! Blood IR: the typed control-flow-graph form every program is lowered to before codegen.
//!
//! Design (after rustc's MIR, much smaller):
//! * A [`Program`] is a list of [`Function`]s plus the string constants they use.
//! * A function owns typed [`LocalDecl`]s (parameters first) and [`BasicBlock`]s; `BlockId(0)` is
//!   the entry. Every block ends in exactly one [`Terminator`].
//! * Statements assign an [`Rvalue`] to a local. Operands are locals or constants, so every
//!   intermediate value has a local and a type: codegen never infers anything.
//! * Calls are rvalues, not terminators: there is no unwinding (a panic ends the process), so a
//!   call either returns or never does. A call to a function returning `!` is followed by
//!   [`Terminator::Unreachable`].
//! * Integer arithmetic wraps; the semantics of every operation is fixed by its operand types
//!   (signedness chooses `sdiv`/`udiv`, arithmetic/logical shift, signed/unsigned compares).
//!   Division by zero is checked *explicitly* in the IR (a branch to a block that calls the
//!   runtime's panic); the `Div`/`Rem` operations themselves assume a non-zero divisor but must
//!   give `MIN / -1 == MIN` and `MIN % -1 == 0` without trapping.
//! * Values of type `()` and `!` carry no data; locals of those types exist only to keep
//!   statements uniform.
//! * Aggregates (structs, payload enums, tuples, arrays, slice references) are values like any
//!   other: `Use` of an aggregate local copies it. Memory is reached through [`Place`]s: a local
//!   followed by projections (deref, field, variant field, index). `Load`/`Store` read and write
//!   places, `Ref` takes a place's address. Index projections are *unchecked*: the builder emits
//!   the bounds check (`Len`, compare, branch to a panic block) before the access.
//! * Codegen decides where a local lives: scalars in registers unless their address is taken,
//!   aggregates in stack slots.
//!
//! Invariants, checked by [`validate`] between passes in debug builds and tests: operand types
//! match the operation, block ids and local ids are in range, parameters are the first locals.
//! [`print`] gives the stable text form used by `--emit=ir` and the snapshot tests.

pub mod build;
pub mod passes;
pub mod print;
pub mod validate;

pub use crate::types::{AdtRef, AdtTable, FloatTy, IntTy, OwnedKind, Ty};

/// `Proj::Field` index of a `Vec`/`String`'s length (elements in use), a `usize`.
pub const VEC_LEN_FIELD: u32 = 1;
/// `Proj::Field` index of a `Vec`/`String`'s capacity (elements allocated), a `usize`.
pub const VEC_CAP_FIELD: u32 = 2;

/// Index of a function in [`Program::functions`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncId(pub u32);

/// Index of a local in [`Function::locals`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Local(pub u32);

/// Index of a block in [`Function::blocks`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockId(pub u32);

/// Index of a string constant in [`Program::strings`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StrId(pub u32);

#[derive(Clone, Debug, Default)]
pub struct Program {
    pub functions: Vec<Function>,
    /// UTF-8 string constants; a `&str` constant refers to one by [`StrId`].
    pub strings: Vec<String>,
    /// The user's `main` (the generated C `main` calls it between runtime init and shutdown).
    pub main: Option<FuncId>,
    /// Struct and enum definitions, for layouts.
    pub adts: std::sync::Arc<AdtTable>,
}

impl Program {
    pub fn function(&self, id: FuncId) -> &Function {
        &self.functions[id.0 as usize]
    }

    pub fn string(&self, id: StrId) -> &str {
        &self.strings[id.0 as usize]
    }

    /// Interns a string constant.
    pub fn intern_str(&mut self, s: &str) -> StrId {
        if let Some(i) = self.strings.iter().position(|x| x == s) {
            return StrId(i as u32);
        }
        self.strings.push(s.to_string());
        StrId(self.strings.len() as u32 - 1)
    }
}

#[derive(Clone, Debug)]
pub struct Function {
    /// Human-readable path (`main`, `outer.helper`), used by `--emit=ir` and diagnostics.
    pub name: String,
    /// Linker symbol; unique in the program and never clashing with C symbols.
    pub symbol: String,
    /// Number of parameters: locals `0..param_count` are the parameters, in order.
    pub param_count: u32,
    pub ret: Ty,
    pub locals: Vec<LocalDecl>,
    pub blocks: Vec<BasicBlock>,
    /// Safepoints are not inserted in this function (`#[unchecked(preemption)]`).
    pub no_preempt: bool,
}

/// Name prefix of the functions that implement effect operations: `perform Fiber.spawn(f)`
/// calls the prelude's `__perform_Fiber_spawn` (`typeck/effects.rs`,
/// `blood-std/lib/concurrency.blood`). A call of one is an *effect operation*, which gets a
/// safepoint before it (DESIGN.md §3).
pub const EFFECT_OP_PREFIX: &str = "__perform_";

impl Function {
    /// Whether calling this function is an effect operation (see [`EFFECT_OP_PREFIX`]).
    pub fn is_effect_op(&self) -> bool {
        self.name.starts_with(EFFECT_OP_PREFIX)
    }

    pub fn params(&self) -> impl Iterator<Item = Local> {
        (0..self.param_count).map(Local)
    }

    pub fn local(&self, l: Local) -> &LocalDecl {
        &self.locals[l.0 as usize]
    }

    pub fn block(&self, b: BlockId) -> &BasicBlock {
        &self.blocks[b.0 as usize]
    }
}

#[derive(Clone, Debug)]
pub struct LocalDecl {
    pub ty: Ty,
    /// The source name for user variables, `None` for temporaries.
    pub name: Option<String>,
}

#[derive(Clone, Debug)]
pub struct BasicBlock {
    pub stmts: Vec<Stmt>,
    pub terminator: Terminator,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    /// `local = rvalue`. The rvalue's type equals the local's type.
    Assign(Local, Rvalue),
    /// `place = operand`: writes through a place with at least one projection (a bare local is
    /// written with `Assign`). The operand's type equals the place's type.
    Store(Place, Operand),
    /// A preemption check: if the runtime asked the running fiber to yield, yield here.
    /// Inserted by `passes::insert_safepoints`.
    Safepoint,
    /// Runs the drop glue of the value at the place (frees what it owns). Emitted by the
    /// builder; `passes::elaborate_drops` decides, for a bare local, whether it is still
    /// initialised (removing the drop, keeping it, or testing a drop flag), and `passes::glue`
    /// then replaces every drop by a call of the type's drop glue, so codegen never sees one.
    /// A drop of a place with projections is unconditional (the builder emits those only where
    /// the value is known to be there: overwrites, the rest of a partly moved value).
    Drop(Place),
}

/// A memory location: a local, then projections applied left to right.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Place {
    pub base: Local,
    pub proj: Vec<Proj>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Proj {
    /// `*p` for `p: &T` / `&mut T`: continues at the pointee. For `p: &[T]` the result is the
    /// unsized slice place `[T]` (its length comes from the reference).
    Deref,
    /// Field `i` of a struct (`Ty::Adt` with one variant) or tuple.
    Field(u32),
    /// Field `field` of variant `variant` of a payload enum; valid only when the tag is
    /// `variant` (the builder tests the tag first).
    VariantField { variant: u32, field: u32 },
    /// Element `i` of an array or slice place; `i` is a `usize` local already checked to be
    /// in bounds.
    Index(Local),
}

impl Place {
    pub fn local(base: Local) -> Place {
        Place { base, proj: Vec::new() }
    }

    pub fn project(&self, p: Proj) -> Place {
        let mut proj = self.proj.clone();
        proj.push(p);
        Place { base: self.base, proj }
    }

    /// The type of the value at this place.
    pub fn ty(&self, adts: &AdtTable, f: &Function) -> Ty {
        let mut ty = f.local(self.base).ty.clone();
        for p in &self.proj {
            ty = project_ty(adts, &ty, p);
        }
        ty
    }
}

/// The type reached by applying one projection to a place of type `ty`. Panics on a projection
/// that does not apply (the validator checks with [`try_project_ty`] first).
pub fn project_ty(adts: &AdtTable, ty: &Ty, p: &Proj) -> Ty {
    try_project_ty(adts, ty, p).unwrap_or_else(|| panic!("projection {p:?} does not apply to {ty}"))
}

pub fn try_project_ty(adts: &AdtTable, ty: &Ty, p: &Proj) -> Option<Ty> {
    match (p, ty) {
        (Proj::Deref, Ty::Ref(inner, _)) => Some((**inner).clone()),
        (Proj::Field(i), Ty::Tuple(elems)) => elems.get(*i as usize).cloned(),
        (Proj::Field(i), Ty::Adt(a, args)) if !adts.def(a).is_enum => {
            adts.field_tys(a, args, 0).get(*i as usize).cloned()
        }
        (Proj::VariantField { variant, field }, Ty::Adt(a, args)) if adts.def(a).is_enum => {
            let def = adts.def(a);
            if *variant as usize >= def.variants.len() {
                return None;
            }
            adts.field_tys(a, args, *variant as usize).get(*field as usize).cloned()
        }
        (Proj::Index(_), Ty::Array(elem, _) | Ty::Slice(elem)) => Some((**elem).clone()),
        // The elements of a `Vec`/`String` are the unsized slice place `[T]` (its pointer and
        // length are the vector's first two words); a `Box` derefs to its content.
        (Proj::Deref, Ty::Owned(OwnedKind::Vec | OwnedKind::String, elem)) => Some(Ty::Slice(elem.clone())),
        (Proj::Deref, Ty::Owned(OwnedKind::Box, inner)) => Some((**inner).clone()),
        // A vector's length and capacity words (the data pointer is not a field).
        (Proj::Field(VEC_LEN_FIELD | VEC_CAP_FIELD), Ty::Owned(OwnedKind::Vec | OwnedKind::String, _)) => {
            Some(Ty::Int(IntTy::Usize))
        }
        _ => None,
    }
}

#[derive(Clone, Debug)]
pub enum Rvalue {
    Use(Operand),
    /// Both operands have the same type, except for `Shl`/`Shr` whose right operand may be any
    /// integer type (the amount is taken modulo the left operand's bit width). Comparisons yield
    /// `bool`; the others yield the operand type.
    Binary(BinOp, Operand, Operand),
    Unary(UnOp, Operand),
    /// `operand as ty` with the semantics of LANGUAGE.md §3.6.
    Cast(Operand, Ty),
    /// A call. Arguments are in parameter order. For runtime calls, `&str` arguments are split
    /// into (ptr, len) by codegen according to the descriptor's parameter list.
    Call(Callee, Vec<Operand>),
    /// An operation codegen expands inline.
    Intrinsic(Intrinsic, Vec<Operand>),
    /// A copy of the value stored at a place (with at least one projection).
    Load(Place),
    /// The address of a place: `&place` (`false`) or `&mut place` (`true`). The local's type is
    /// `Ref(place type)`; for an unsized slice place the result is the (pointer, length) pair.
    Ref(Place, bool),
    /// A new tuple, array, struct or enum variant from its fields in order.
    Aggregate(AggregateKind, Vec<Operand>),
    /// `[x; n]`: an array of `n` copies.
    Repeat(Operand, u64),
    /// The tag (variant index, as [`crate::types::TAG_REPR`]) of the payload enum at a place.
    Discriminant(Place),
    /// The element count of an array or slice place, as `usize`.
    Len(Place),
    /// `&[T; N]` → `&[T]` (or `&mut`): pairs the pointer with the constant length.
    Unsize(Operand),
    /// A value of the local's type `fn(A..) -> R`: the address of `func` paired with an
    /// environment holding `env` after a two-word header, the tuple [`closure_env_ty`]. `func`
    /// takes a reference to that tuple as its first parameter, then `A..`, and returns `R`.
    /// Without `env` operands the environment pointer is null. The environment is allocated on
    /// the heap (`blood_alloc`) when `heap`, else in the frame (the closure provably does not
    /// outlive it).
    ///
    /// The header counts references: word 0 is the count (1 for a new heap environment; a
    /// frame environment starts at [`FRAME_ENV_COUNT`] and is never released), word 1 the code
    /// address of `env_drop`, called with the environment when the count drops to zero: it
    /// drops the captured values and frees the environment. `env_drop` is `Some` exactly when
    /// `env` is not empty.
    FnValue {
        func: FuncId,
        env: Vec<Operand>,
        heap: bool,
        env_drop: Option<FuncId>,
    },
    /// The code address of `func` as a `u64`, for the runtime to call with the C convention
    /// (fiber entry trampolines).
    FnAddr(FuncId),
}

#[derive(Clone, Debug, PartialEq)]
pub enum AggregateKind {
    /// The local's type is `Ty::Tuple`.
    Tuple,
    /// The local's type is `Ty::Array`; one operand per element.
    Array,
    /// Variant `variant` of the local's `Ty::Adt` type (0 for a struct).
    Adt { variant: u32 },
}

#[derive(Clone, Debug)]
pub enum Callee {
    /// A function of this program.
    Fn(FuncId),
    /// A runtime or libc entry point described by `blood-abi`.
    Runtime(blood_abi::RuntimeFn),
    /// A value of type `fn(A..) -> R`: its code is called with its environment pointer first,
    /// then the arguments (see [`Rvalue::FnValue`]).
    Indirect(Operand),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Intrinsic {
    /// `f64 -> f64` / `f32 -> f32` square root.
    Sqrt,
    Floor,
    Ceil,
    /// Absolute value of a float.
    FAbs,
    /// Bit pattern of an `f64` as `u64`.
    F64ToBits,
    /// `&str` → `&[u8]` over the same bytes.
    StrAsBytes,
    /// Heap operations on `Vec`/`String`/`Box` (LANGUAGE.md §5.5), expanded by
    /// `codegen/heap.rs`; element sizes come from the operand types.
    Heap(HeapIntrinsic),
    /// `T -> u64`: a value as one word for the runtime (fiber results, channel messages). A
    /// value of at most 8 bytes is the word itself; a larger one moves into a `blood_alloc`
    /// cell whose address is the word. Consumes the value.
    ToWord,
    /// `u64 -> T` (the local's type): the inverse of `ToWord`, freeing the cell of a large
    /// value. Each word made by `ToWord` is consumed exactly once.
    FromWord,
}

/// The primitive heap operations generated code performs; everything else about `Vec`,
/// `String` and `Box` (pushing, popping, bounds checks, drop glue) is ordinary IR built from
/// these and from places.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HeapIntrinsic {
    /// `() -> Vec<T>` (or `String`): an empty vector that owns no allocation.
    VecNew,
    /// `(&mut Vec<T>, usize n)`: makes room for `n` more elements (capacity ≥ len + n),
    /// growing geometrically; the runtime's `blood_vec_reserve`.
    VecReserve,
    /// `(&mut Vec<T>, usize from, usize to, usize count)`: moves `count` elements within the
    /// buffer from index `from` to index `to` (`memmove`; for `insert`/`remove`).
    VecMoveElems,
    /// `(&mut Vec<T>)`: frees the buffer (not the elements; the glue drops those first).
    VecFree,
    /// `(&Vec<T>) -> Vec<T>`: a copy of the buffer's bytes (for element types without drop
    /// glue; others are cloned element by element).
    VecCloneBytes,
    /// `(&T) -> T`: an independent copy of a value that owns heap storage (`Vec.clone()`,
    /// `String.clone()`); `passes::glue` replaces it by a call of the type's clone glue.
    Clone,
    /// `() -> Box<T>`: allocates uninitialised memory for a `T` (the builder stores it next).
    BoxAlloc,
    /// `(Box<T>)`: frees the allocation without dropping the content. Also `(&(C…))`: a
    /// closure's heap environment, freed by its `env_drop` function.
    BoxFree,
    /// `(&fn) -> fn` or `(fn) -> fn`: a copy of a `fn` value that counts one more reference
    /// to its environment (nothing to count for a null environment). A local operand is read,
    /// not moved.
    FnRetain,
    /// `(&mut fn)` or `(fn)`: gives up the value's reference to its environment; the last one
    /// calls the environment's `env_drop` function (see [`Rvalue::FnValue`]).
    FnRelease,
    /// `(&String) -> &str`: the bytes in use.
    StringAsStr,
    /// `(&mut String, &str)`: appends the bytes.
    StringPushStr,
    /// `(&mut String, char)`: appends the UTF-8 encoding.
    StringPushChar,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    Local(Local),
    Const(Const),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    /// An integer of type `ty`; `bits` holds the value truncated to the type's width
    /// (two's complement for negative values).
    Int {
        bits: u128,
        ty: IntTy,
    },
    /// A float; an `f32` constant holds its exact value widened to f64.
    Float {
        value: f64,
        ty: FloatTy,
    },
    Bool(bool),
    Char(char),
    Unit,
    /// A `&str` constant.
    Str(StrId),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinOp {
    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// Wrapping negation of an integer, or float negation.
    Neg,
    /// Logical not of a `bool`, bitwise not of an integer.
    Not,
}

#[derive(Clone, Debug)]
pub enum Terminator {
    Goto(BlockId),
    /// `cond` is a `bool` operand.
    Branch {
        cond: Operand,
        then_bb: BlockId,
        else_bb: BlockId,
    },
    /// Returns the operand (of the function's return type; `Const::Unit` for `()`).
    Return(Operand),
    /// Control never reaches here (after a call that does not return).
    Unreachable,
}

impl Terminator {
    pub fn successors(&self) -> Vec<BlockId> {
        match self {
            Terminator::Goto(b) => vec![*b],
            Terminator::Branch { then_bb, else_bb, .. } => vec![*then_bb, *else_bb],
            Terminator::Return(_) | Terminator::Unreachable => vec![],
        }
    }

    /// Redirects every edge to `from` to `to`.
    pub fn retarget(&mut self, from: BlockId, to: BlockId) {
        match self {
            Terminator::Goto(b) => {
                if *b == from {
                    *b = to;
                }
            }
            Terminator::Branch { then_bb, else_bb, .. } => {
                for b in [then_bb, else_bb] {
                    if *b == from {
                        *b = to;
                    }
                }
            }
            Terminator::Return(_) | Terminator::Unreachable => {}
        }
    }
}

/// Fields of a closure environment before the captured values: the reference count and the
/// code address of its drop function (see [`Rvalue::FnValue`]).
pub const ENV_HEADER_FIELDS: u32 = 2;

/// The reference count a frame environment starts with: so large that releases never bring it
/// to zero, since a frame environment is never freed (it provably dies with its frame).
pub const FRAME_ENV_COUNT: u64 = 1 << 62;

/// The tuple type of a closure environment holding `captures`: the header (count, drop
/// function address), then the captured values in order.
pub fn closure_env_ty(captures: impl IntoIterator<Item = Ty>) -> Ty {
    let header = [Ty::Int(IntTy::U64), Ty::Int(IntTy::U64)];
    Ty::tuple(header.into_iter().chain(captures).collect())
}
