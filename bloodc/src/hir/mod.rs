//! The typed HIR: the program after name resolution and type checking.
//!
//! What changes from the AST:
//! * every name is resolved: locals are [`LocalId`]s, functions are [`FnId`]s, builtins are
//!   [`Builtin`]s; loops are [`LoopId`]s (labels are gone);
//! * every expression carries its final [`Ty`] (no inference variables remain once `typeck`
//!   returns);
//! * sugar is gone: `|>` is a call, named arguments are in parameter order (with their source
//!   evaluation order kept), `x in a..b` is a block, `assert!`/`panic!`/… are builtin calls, and
//!   the print macros are [`ExprKind::Format`] nodes whose pieces are already split.
//!
//! The IR builder (`ir::build`) is the only consumer.

use crate::source::Span;
use crate::types::Ty;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FnId(pub u32);

/// Index into [`FnDef::locals`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub u32);

/// Identifies a loop within one function (target of `break`/`continue`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoopId(pub u32);

#[derive(Clone, Debug, Default)]
pub struct Program {
    pub functions: Vec<FnDef>,
    pub main: Option<FnId>,
    /// Struct and payload-enum definitions referenced by `Ty::Adt`.
    pub adts: std::sync::Arc<crate::types::AdtTable>,
}

#[derive(Clone, Debug)]
pub struct FnDef {
    /// Path for display and symbol names: `main`, `outer.inner`.
    pub name: String,
    /// Parameters are the first `param_count` locals.
    pub param_count: u32,
    pub locals: Vec<LocalInfo>,
    pub ret: Ty,
    pub body: Expr,
    /// `#[unchecked(preemption)]`
    pub no_preempt: bool,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct LocalInfo {
    pub name: String,
    pub ty: Ty,
    pub mutable: bool,
    /// Declared inside a closure: it belongs to the closure's lifted function, not to this one.
    pub in_closure: bool,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Lit {
    /// An integer literal; the value is `-magnitude` when `negative`. Its type is `Expr::ty`.
    Int {
        negative: bool,
        magnitude: u128,
    },
    Float(f64),
    Bool(bool),
    Char(char),
    Str(String),
    /// `b"…"`: a `&[u8]`.
    ByteStr(Vec<u8>),
    Unit,
    /// `default`: the zero value of the expression's type (`0`, `0.0`, `false`, `'\0'`, `()`).
    /// Replaced by the concrete literal when the type checker finishes.
    Default,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Lit(Lit),
    Local(LocalId),
    /// `-e` (wrapping for integers) or `!e`.
    Unary(UnOp, Box<Expr>),
    /// Arithmetic, bitwise, comparison; `&&`/`||` short-circuit.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `place = value`; `place` is a place expression (local, field, index, deref).
    Assign {
        place: Box<Expr>,
        value: Box<Expr>,
    },
    /// `place op= value`
    AssignOp {
        op: BinOp,
        place: Box<Expr>,
        value: Box<Expr>,
    },
    /// Field `index` of a struct or tuple value (`base` has the struct/tuple type; references
    /// are already dereferenced by explicit [`ExprKind::Deref`] nodes).
    Field {
        base: Box<Expr>,
        index: u32,
    },
    /// `base[index]` on an array or slice place (bounds-checked; references already
    /// dereferenced); `index` has any integer type.
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    /// `*e` for `e: &T`.
    Deref(Box<Expr>),
    /// `&place` / `&mut place`; a non-place operand is materialised in a hidden local.
    AddrOf {
        mutable: bool,
        place: Box<Expr>,
    },
    /// `(a, b, …)`
    Tuple(Vec<Expr>),
    /// `[a, b, …]`
    Array(Vec<Expr>),
    /// `[x; n]`
    Repeat(Box<Expr>, u64),
    /// A struct literal or enum variant constructor of this expression's `Ty::Adt` type.
    /// `fields` are (field index, value) in **source order**; fields missing from the list
    /// come from `base` (`..base`), which is evaluated after them.
    Adt {
        variant: u32,
        fields: Vec<(u32, Expr)>,
        base: Option<Box<Expr>>,
    },
    /// `&[T; N]` → `&[T]` (this expression's type).
    Unsize(Box<Expr>),
    /// The element count (`usize`) of an array or slice place.
    Len(Box<Expr>),
    /// `for pat in seq`: `seq` is an array or slice place; the pattern (irrefutable) binds each
    /// element, by copy (`by_ref == false`) or as a reference to it.
    ForEach {
        id: LoopId,
        pat: Box<Pat>,
        seq: Box<Expr>,
        by_ref: bool,
        body: Box<Expr>,
    },
    /// `e as ty` where `ty` is this expression's type.
    Cast(Box<Expr>),
    /// A call of a program function. `args` are in **evaluation (source) order**, each with the
    /// index of the parameter it binds.
    Call {
        func: FnId,
        args: Vec<(usize, Expr)>,
        /// For a call of a generic function while types are being inferred: its type
        /// arguments. Empty in the finished HIR (the call then names the instance).
        type_args: Vec<Ty>,
    },
    /// A named function used as a value of type `fn(..) -> R` (LANGUAGE.md §5.3). `type_args`
    /// as in [`ExprKind::Call`]: empty in the finished HIR.
    FnRef {
        func: FnId,
        type_args: Vec<Ty>,
    },
    /// A closure value (LANGUAGE.md §5.3); see [`Closure`].
    Closure(Box<Closure>),
    /// A call through a value of type `fn(..) -> R`: `callee` is evaluated first, then `args`
    /// (in parameter order, which is also the evaluation order).
    CallIndirect {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    /// A builtin function (LANGUAGE.md §3.9); `args` in parameter order.
    Builtin {
        builtin: Builtin,
        args: Vec<Expr>,
    },
    /// `print!`-family output: literal pieces interleaved with formatted arguments, on `stream`
    /// (`blood_abi::STDOUT`/`STDERR`), with a trailing newline when `newline`.
    Format {
        stream: i32,
        pieces: Vec<FormatPiece>,
        newline: bool,
    },
    /// `panic!(fmt, args…)`: writes the pieces and a newline to stderr (stdout flushed first),
    /// then exits with the panic status.
    PanicFormat {
        pieces: Vec<FormatPiece>,
    },
    /// `with Nursery {} handle { body }` (LANGUAGE.md §7.2): opens a nursery, runs `body`, then
    /// joins every fiber spawned in it; leaving `body` by `return` cancels them first.
    Nursery(Box<Expr>),
    /// `dbg!(e)`: writes `text = <value>` to stderr, yields the value.
    Dbg {
        text: String,
        expr: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        else_: Option<Box<Expr>>,
    },
    /// `loop { body }`; its type is the type of its `break` values.
    Loop {
        id: LoopId,
        body: Box<Expr>,
    },
    While {
        id: LoopId,
        cond: Box<Expr>,
        body: Box<Expr>,
    },
    /// `for var in lo..hi` / `lo..=hi`: `lo` and `hi` are evaluated once, before the loop.
    ForRange {
        id: LoopId,
        var: LocalId,
        lo: Box<Expr>,
        hi: Box<Expr>,
        inclusive: bool,
        body: Box<Expr>,
    },
    Break {
        id: LoopId,
        value: Option<Box<Expr>>,
    },
    Continue {
        id: LoopId,
    },
    Return(Option<Box<Expr>>),
    Block {
        stmts: Vec<Stmt>,
        tail: Option<Box<Expr>>,
    },
    /// `match`; also the desugaring of `if let` and `while let`. Arms are tried in order; the
    /// type checker has proved that some arm always matches.
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<MatchArm>,
    },
}

/// A closure, checked as part of the enclosing function: its parameters and its own locals are
/// locals of that function (ids in `locals`), and its body refers to captured variables by their
/// ids in the enclosing function. The IR builder lifts it into a function of its own whose
/// parameters are the environment and `params`, and which starts by copying `captures` out of
/// the environment.
#[derive(Clone, Debug)]
pub struct Closure {
    pub params: Vec<LocalId>,
    /// Variables of enclosing scopes the body mentions, copied into the environment when the
    /// closure value is created (by value, in this order).
    pub captures: Vec<LocalId>,
    /// The ids of every local declared inside the closure (parameters, its own locals, those of
    /// nested closures): `locals.start..locals.end`.
    pub locals: std::ops::Range<u32>,
    pub ret: Ty,
    pub body: Expr,
    /// Display name: `<enclosing function>.{closure#N}`.
    pub name: String,
    /// Called at most once (a fiber's task, LANGUAGE.md §7.2): it may capture values that own
    /// heap storage, which are *moved* into its environment and dropped by the closure; the
    /// environment is freed when it returns.
    pub once: bool,
}

#[derive(Clone, Debug)]
pub struct MatchArm {
    pub pat: Pat,
    pub guard: Option<Expr>,
    pub body: Expr,
}

/// A checked pattern. Its type is the type of the value it matches.
#[derive(Clone, Debug)]
pub struct Pat {
    pub kind: PatKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum PatKind {
    /// `_`: matches anything.
    Wild,
    /// `name` or `name @ sub`: binds the matched value (a copy) to `local`; with `by_ref`
    /// (`ref name`), a reference to the matched place.
    Binding { local: LocalId, sub: Option<Box<Pat>>, by_ref: bool },
    /// A tuple pattern: one sub-pattern per element.
    Tuple(Vec<Pat>),
    /// A struct or enum-variant pattern over this pattern's `Ty::Adt` type; `fields` are
    /// (field index, pattern) for the mentioned fields (the rest match anything).
    Adt { variant: u32, fields: Vec<(u32, Pat)> },
    /// `&p` / `&mut p`: matches the pointee of a reference.
    Deref(Box<Pat>),
    /// `[a, b, .., z]` over an array or slice: `prefix`, then (with `rest`) any number of
    /// elements, then `suffix` (empty without `rest`).
    Slice { prefix: Vec<Pat>, rest: bool, suffix: Vec<Pat> },
    /// A literal (integer with sign, bool, char).
    Lit(Lit),
    /// `lo..=hi` / `lo..hi` over integers or chars.
    Range { lo: Lit, hi: Lit, inclusive: bool },
    /// `p | q`: alternatives bind the same locals.
    Or(Vec<Pat>),
}

#[derive(Clone, Debug)]
pub enum FormatPiece {
    Str(String),
    Arg(Expr),
}

#[derive(Clone, Debug)]
pub enum Stmt {
    /// `let local = init` (`local` is `None` for `let _ = init`).
    Let { local: Option<LocalId>, init: Expr },
    /// `let pattern = init` with an irrefutable destructuring pattern.
    LetPat { pat: Pat, init: Expr },
    /// An expression evaluated for its effects; its value is discarded.
    Expr(Expr),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

pub use crate::syntax::ast::BinOp;

/// A builtin function of the prelude (LANGUAGE.md §3.9).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// Writes a value of the argument's type (`&str`, integer, float, bool, char) to `stream`,
    /// then a newline if `newline`.
    Print {
        stream: i32,
        newline: bool,
    },
    /// `print_f64_prec(v, decimals)` and friends.
    PrintPrec {
        newline: bool,
    },
    /// `print_newline()`
    PrintNewline,
    /// `panic(msg) -> !`
    Panic,
    /// `assert(cond)`
    Assert,
    /// `assert(cond)` with a message (`assert!(c, "msg")`).
    AssertMsg,
    /// `assert_eq_*(a, b)`: panics if different.
    AssertEq,
    /// `assert_ne_int(a, b)`: panics if equal.
    AssertNe,
    Unreachable,
    Todo,
    /// Math on floats: sqrt, floor, ceil, abs (inline) and sin, cos, exp, log, pow (libm).
    Math(MathFn),
    /// `blood_float64_to_bits(f64) -> u64`
    F64ToBits,
    /// `size_of_i32()` … : an `i64` constant.
    SizeOf(u8),
    /// An operation on `&str` values (LANGUAGE.md §4.6); the first argument is the string.
    Str(StrOp),
    /// `int_to_string`, `f64_to_string`, …: the decimal/Display form of the argument as a new
    /// `&str` (the argument's type picks the runtime routine).
    ToString,
    /// `&str` → `&[u8]`
    StrAsBytes,
    /// `seq.contains(&x)`: the arguments are the array/slice place and a reference to the
    /// needle; compares with `==` element by element.
    SliceContains,
    /// A runtime entry point called with the arguments as they are (`str_concat`, `parse_f64`,
    /// `args_get`, …).
    Direct(blood_abi::RuntimeFn),
    /// An operation of `Vec`, `String` or `Box` (LANGUAGE.md §5.5; `typeck/heap.rs`).
    Heap(HeapOp),
    /// `__blood_to_word(v: T) -> u64`: a value as one machine word, for the runtime's fiber
    /// results and channels. Values of at most 8 bytes are the word; larger ones are moved into
    /// a heap cell whose address is the word (`__blood_from_word` frees it).
    ToWord,
    /// `__blood_from_word::<T>(w: u64) -> T`: the inverse of `ToWord`; consumes the word.
    FromWord,
    /// `__blood_spawn(task: fn() -> T / {Fiber, Cancel}) -> u64`: starts a fiber running the
    /// closure; its result is delivered as a word (`ToWord`) to the joiner. Returns the id.
    SpawnFiber,
}

/// Operations of the builtin heap types. A receiver argument is explicit and already borrowed
/// (`&v` / `&mut v`), so only the other arguments are moved. `String` shares the vector
/// operations (it is a `Vec<u8>` of UTF-8).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum HeapOp {
    /// `Vec.new()`, `String.new()`: no arguments.
    New,
    /// `Vec.with_capacity(n)`, `String.with_capacity(n)`.
    WithCapacity,
    /// `String.from(s: &str)`.
    StringFrom,
    /// `Box.new(v)`.
    BoxNew,
    /// `(&mut Vec<T>, T)`
    Push,
    /// `(&mut Vec<T>) -> Option<T>`
    Pop,
    /// `(&Vec<T>) -> usize`
    Len,
    Capacity,
    /// `(&mut Vec<T>)`: drops the elements, keeps the buffer.
    Clear,
    /// `(&Vec<T>, usize) -> Option<&T>`
    Get,
    First,
    Last,
    /// `(&mut Vec<T>, usize, T)`: panics if the index is beyond the length.
    Insert,
    /// `(&mut Vec<T>, usize) -> T`: panics if the index is out of bounds.
    Remove,
    /// `(&Vec<T>) -> Vec<T>`: an independent copy (elements cloned too).
    Clone,
    /// `(&String) -> &str`
    AsStr,
    /// `(&mut String, char)`
    StringPushChar,
    /// `(&mut String, &str)`
    StringPushStr,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum StrOp {
    /// Byte length (`len()` as `usize`, `str_len` as `i64`: the expression's type says which).
    Len,
    IsEmpty,
    /// Byte equality (`str_eq`).
    Eq,
    /// `assert_eq_str`: panics if different.
    AssertEq,
    StartsWith,
    EndsWith,
    Contains,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum MathFn {
    Sqrt,
    Floor,
    Ceil,
    Abs,
    Sin,
    Cos,
    Exp,
    Log,
    Pow,
}

impl Expr {
    pub fn new(kind: ExprKind, ty: Ty, span: Span) -> Expr {
        Expr { kind, ty, span }
    }

    pub fn unit(span: Span) -> Expr {
        Expr::new(ExprKind::Lit(Lit::Unit), Ty::Unit, span)
    }
}

/// Whether `e` denotes a memory location (so `&mut e` and `e = v` refer to it).
pub fn is_place(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Local(_) | ExprKind::Field { .. } | ExprKind::Index { .. } | ExprKind::Deref(_))
}

/// Calls `f` on every direct sub-expression of `e` (patterns' guards and arm bodies included).
pub fn for_each_child_mut(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    use ExprKind as H;
    match &mut e.kind {
        H::Lit(_) | H::Local(_) | H::Continue { .. } | H::FnRef { .. } => {}
        H::Closure(c) => f(&mut c.body),
        H::CallIndirect { callee, args } => {
            f(callee);
            args.iter_mut().for_each(f);
        }
        H::Unary(_, a)
        | H::Cast(a)
        | H::Dbg { expr: a, .. }
        | H::Nursery(a)
        | H::Field { base: a, .. }
        | H::Deref(a)
        | H::AddrOf { place: a, .. }
        | H::Repeat(a, _)
        | H::Unsize(a)
        | H::Len(a)
        | H::Loop { body: a, .. } => f(a),
        H::Binary(_, a, b) | H::While { cond: a, body: b, .. } | H::Index { base: a, index: b } => {
            f(a);
            f(b);
        }
        H::Assign { place, value } | H::AssignOp { place, value, .. } => {
            f(place);
            f(value);
        }
        H::Call { args, .. } => args.iter_mut().for_each(|(_, a)| f(a)),
        H::Builtin { args, .. } | H::Tuple(args) | H::Array(args) => args.iter_mut().for_each(f),
        H::Format { pieces, .. } | H::PanicFormat { pieces } => {
            for p in pieces {
                if let FormatPiece::Arg(a) = p {
                    f(a);
                }
            }
        }
        H::If { cond, then, else_ } => {
            f(cond);
            f(then);
            if let Some(e) = else_ {
                f(e);
            }
        }
        H::ForRange { lo, hi, body, .. } => {
            f(lo);
            f(hi);
            f(body);
        }
        H::ForEach { seq, body, .. } => {
            f(seq);
            f(body);
        }
        H::Break { value, .. } | H::Return(value) => {
            if let Some(v) = value {
                f(v);
            }
        }
        H::Match { scrutinee, arms } => {
            f(scrutinee);
            for arm in arms {
                if let Some(g) = &mut arm.guard {
                    f(g);
                }
                f(&mut arm.body);
            }
        }
        H::Block { stmts, tail } => {
            for s in stmts {
                match s {
                    Stmt::Let { init, .. } | Stmt::LetPat { init, .. } => f(init),
                    Stmt::Expr(e) => f(e),
                }
            }
            if let Some(t) = tail {
                f(t);
            }
        }
        H::Adt { fields, base, .. } => {
            fields.iter_mut().for_each(|(_, x)| f(x));
            if let Some(b) = base {
                f(b);
            }
        }
    }
}
