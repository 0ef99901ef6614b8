//! The abstract syntax tree: what the parser produces and name resolution / type checking read.
//!
//! The AST is faithful to the source (paths are unresolved, `::` and `.` are already unified,
//! macros are not expanded beyond splitting their arguments) and carries a [`Span`] on every node
//! so later stages can point at the code. It never contains inference results; those live in the
//! typed HIR (`crate::hir`). Nodes the parser could not make sense of become `…::Error` nodes so
//! later stages can skip them silently (the parser already reported them).
//!
//! Constructs of language levels the compiler does not implement yet are still parsed into their
//! nodes, so the type checker can reject them with "unsupported feature: …" at the right span.

use crate::source::Span;

/// An identifier with its span. Raw identifiers (`r#type`) are stored without the `r#`.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A whole source file (the root module or a file loaded by `mod name;`).
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub items: Vec<Item>,
    pub span: Span,
}

/// `#[name …]` or `#![name …]`; all attributes are kept but only a few mean anything.
#[derive(Clone, Debug)]
pub struct Attr {
    /// The path at the start of the attribute (`inline`, `derive`, `repr`, `unchecked`).
    pub name: String,
    /// The raw source text between the brackets, for attributes with arguments.
    pub text: String,
    pub inner: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Visibility {
    Private,
    /// `pub`
    Public,
    /// `pub(crate)`, `pub(super)`, `pub(self)`
    Restricted(String),
}

#[derive(Clone, Debug)]
pub struct Item {
    pub attrs: Vec<Attr>,
    pub vis: Visibility,
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ItemKind {
    Fn(FnDecl),
    Struct(StructDecl),
    Enum(EnumDecl),
    TypeAlias(TypeAlias),
    Const(ConstDecl),
    Static(StaticDecl),
    Impl(ImplBlock),
    Trait(TraitDecl),
    Mod(ModDecl),
    Use(UseDecl),
    /// `effect`, `handler`, `bridge` declarations and anything else the parser recognised but
    /// skipped as a whole: `feature` names it for the "unsupported feature: …" diagnostic.
    Unsupported {
        feature: String,
    },
    /// The parser failed inside this item and already reported it.
    Error,
}

#[derive(Clone, Debug, Default)]
pub struct Generics {
    pub params: Vec<GenericParam>,
    pub where_clauses: Vec<WherePredicate>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct GenericParam {
    pub name: Ident,
    pub bounds: Vec<Path>,
}

#[derive(Clone, Debug)]
pub struct WherePredicate {
    pub ty: Type,
    pub bounds: Vec<Path>,
}

#[derive(Clone, Debug)]
pub struct FnDecl {
    pub name: Ident,
    /// `fiber fn`
    pub is_fiber: bool,
    pub generics: Generics,
    /// `self`, `&self`, `&mut self`, `mut self`, `self: T` as the first parameter.
    pub self_param: Option<SelfParam>,
    pub params: Vec<Param>,
    /// `-> T`; `None` means `()`.
    pub ret: Option<Type>,
    /// `/ pure`, `/ {}`, `/ {A, B}`; `None` when absent.
    pub effects: Option<EffectRow>,
    /// `None` for `fn f();` (a trait method without default, or an error outside traits).
    pub body: Option<Block>,
    /// The span of the signature (from `fn` to the end of the return type / row).
    pub sig_span: Span,
}

#[derive(Clone, Debug)]
pub struct SelfParam {
    pub kind: SelfKind,
    pub mutable: bool,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum SelfKind {
    /// `self` / `mut self`
    Value,
    /// `&self`
    Ref,
    /// `&mut self`
    RefMut,
    /// `self: T`
    Explicit(Type),
}

#[derive(Clone, Debug)]
pub struct Param {
    /// `mut x`
    pub mutable: bool,
    /// The parameter name; `_` is an [`Ident`] named `_`.
    pub name: Ident,
    pub ty: Type,
    pub span: Span,
}

/// An effect row written after a signature.
#[derive(Clone, Debug)]
pub struct EffectRow {
    /// `/ pure` or `/ {}` give an empty list.
    pub effects: Vec<Path>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct StructDecl {
    pub name: Ident,
    pub generics: Generics,
    pub kind: StructKind,
}

#[derive(Clone, Debug)]
pub enum StructKind {
    Named(Vec<FieldDecl>),
    Tuple(Vec<TupleFieldDecl>),
    Unit,
}

#[derive(Clone, Debug)]
pub struct FieldDecl {
    pub vis: Visibility,
    pub name: Ident,
    pub ty: Type,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct TupleFieldDecl {
    pub vis: Visibility,
    pub ty: Type,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct EnumDecl {
    pub name: Ident,
    pub generics: Generics,
    pub variants: Vec<VariantDecl>,
}

#[derive(Clone, Debug)]
pub struct VariantDecl {
    pub name: Ident,
    pub kind: StructKind,
    /// `= N`
    pub discriminant: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct TypeAlias {
    pub name: Ident,
    pub generics: Generics,
    pub ty: Type,
}

#[derive(Clone, Debug)]
pub struct ConstDecl {
    pub name: Ident,
    pub ty: Type,
    pub value: Expr,
}

#[derive(Clone, Debug)]
pub struct StaticDecl {
    pub name: Ident,
    pub mutable: bool,
    pub ty: Type,
    pub value: Expr,
}

#[derive(Clone, Debug)]
pub struct ImplBlock {
    pub generics: Generics,
    /// `impl Trait for Type`
    pub trait_: Option<Path>,
    pub self_ty: Type,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug)]
pub struct TraitDecl {
    pub name: Ident,
    pub generics: Generics,
    pub supertraits: Vec<Path>,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug)]
pub struct ModDecl {
    pub name: Ident,
    /// `Some` for `mod name { … }`, `None` for `mod name;` (loaded from `name.blood`).
    pub items: Option<Vec<Item>>,
}

#[derive(Clone, Debug)]
pub struct UseDecl {
    pub tree: UseTree,
}

#[derive(Clone, Debug)]
pub enum UseTree {
    /// `use a.b.c` / `use a.b.c as d`
    Single { path: Path, alias: Option<Ident> },
    /// `use a.b.*`
    Glob { prefix: Path },
    /// `use a.b.{c, d as e}`
    Group { prefix: Path, items: Vec<(Ident, Option<Ident>)> },
}

/// A path `a.b.C`, `a::b`, `Vec<i32>`, `Self`, `self.x` (in expression position paths that start
/// with a local are reinterpreted as field accesses by the type checker).
#[derive(Clone, Debug)]
pub struct Path {
    pub segments: Vec<PathSegment>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct PathSegment {
    pub ident: Ident,
    /// `<T, U>` in types or `::<T>` (turbofish) in expressions.
    pub generic_args: Option<Vec<Type>>,
}

#[derive(Clone, Debug)]
pub struct Type {
    pub kind: TypeKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TypeKind {
    /// `i32`, `Point`, `Vec<T>`, `a.B`, `Self`
    Path(Path),
    /// `()` is `Tuple(vec![])`.
    Tuple(Vec<Type>),
    /// `[T; N]`
    Array(Box<Type>, Box<Expr>),
    /// `[T]` (only behind `&`)
    Slice(Box<Type>),
    /// `&T`, `&mut T` (lifetimes dropped)
    Ref {
        mutable: bool,
        inner: Box<Type>,
    },
    /// `*const T`, `*mut T`
    Ptr {
        mutable: bool,
        inner: Box<Type>,
    },
    /// `fn(A, B) -> R / {E}`
    Fn {
        params: Vec<Type>,
        ret: Option<Box<Type>>,
        effects: Option<EffectRow>,
    },
    /// `!`
    Never,
    /// `_`
    Infer,
    /// `dyn Trait`, `impl Trait` and other syntax outside the subset.
    Unsupported {
        feature: String,
    },
    Error,
}

#[derive(Clone, Debug)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// The final expression without a trailing `;`: the block's value.
    pub tail: Option<Box<Expr>>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    Let(LetStmt),
    Item(Box<Item>),
    /// An expression statement; `has_semi` records a trailing `;`.
    Expr {
        expr: Expr,
        has_semi: bool,
    },
    /// A lone `;`.
    Empty(Span),
}

#[derive(Clone, Debug)]
pub struct LetStmt {
    pub pat: Pattern,
    pub ty: Option<Type>,
    /// `None` only after a parse error (the initializer is required).
    pub init: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Lit(Lit),
    /// A name or path: local, function, const, unit struct, variant, `Type.assoc_fn`.
    Path(Path),
    Unary(UnOp, Box<Expr>),
    /// `&e`, `&mut e`
    Ref {
        mutable: bool,
        expr: Box<Expr>,
    },
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a = b`
    Assign(Box<Expr>, Box<Expr>),
    /// `a += b` etc.; the operator is the arithmetic one (`BinOp::Add` for `+=`).
    AssignOp(BinOp, Box<Expr>, Box<Expr>),
    /// `e as T`
    Cast(Box<Expr>, Type),
    /// `f(args)`; `callee` is any expression (usually a path).
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    /// `recv.name::<T>(args)`
    MethodCall {
        receiver: Box<Expr>,
        method: PathSegment,
        args: Vec<Arg>,
    },
    /// `e.name`
    Field(Box<Expr>, Ident),
    /// `e.0`
    TupleField(Box<Expr>, u32, Span),
    /// `e[i]`
    Index(Box<Expr>, Box<Expr>),
    /// `e?`
    Try(Box<Expr>),
    /// `if c { … } else …`; `else_` is a `Block` or `If`/`IfLet` expression.
    If {
        cond: Box<Expr>,
        then: Block,
        else_: Option<Box<Expr>>,
    },
    /// `if let p = e { … } else …`
    IfLet {
        pat: Pattern,
        scrutinee: Box<Expr>,
        then: Block,
        else_: Option<Box<Expr>>,
    },
    While {
        label: Option<Ident>,
        cond: Box<Expr>,
        body: Block,
    },
    WhileLet {
        label: Option<Ident>,
        pat: Pattern,
        scrutinee: Box<Expr>,
        body: Block,
    },
    Loop {
        label: Option<Ident>,
        body: Block,
    },
    /// `for p in iter { … }`; `iter` is a `Range` for the L0 form.
    For {
        label: Option<Ident>,
        pat: Pattern,
        iter: Box<Expr>,
        body: Block,
    },
    /// `lo..hi`, `lo..=hi`, `..hi`, `lo..`
    Range {
        lo: Option<Box<Expr>>,
        hi: Option<Box<Expr>>,
        inclusive: bool,
    },
    /// `x in lo..hi`
    In {
        expr: Box<Expr>,
        range: Box<Expr>,
    },
    Block(Block),
    /// `unchecked(…) { … }`: runs the block.
    Unchecked(Block),
    /// `@unsafe { … }` (LANGUAGE.md §8.2): the block, where address casts are allowed.
    Unsafe(Block),
    Break {
        label: Option<Ident>,
        value: Option<Box<Expr>>,
    },
    Continue {
        label: Option<Ident>,
    },
    Return(Option<Box<Expr>>),
    /// `(a, b)`, `(a,)`; `()` is `Tuple(vec![])`. A parenthesised expression is not a tuple.
    Tuple(Vec<Expr>),
    /// `[a, b, c]`
    Array(Vec<Expr>),
    /// `[x; n]`
    ArrayRepeat(Box<Expr>, Box<Expr>),
    /// `Path { a: 1, b, ..base }`
    StructLit {
        path: Path,
        fields: Vec<FieldInit>,
        base: Option<Box<Expr>>,
    },
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<MatchArm>,
    },
    Closure(Closure),
    /// `a |> f`
    Pipe(Box<Expr>, Box<Expr>),
    /// `name!(args)`: `println!`, `panic!`, `assert!`, `format!`, `vec!`, `dbg!`, `matches!`…
    /// For `vec![x; n]` the parser produces `ArrayRepeat` inside `args`.
    Macro(MacroCall),
    /// `perform Effect.op(args)` (LANGUAGE.md §6.3); `effect` may be module-qualified.
    Perform {
        effect: Path,
        op: PathSegment,
        args: Vec<Arg>,
    },
    /// `with Handler { field: value, … } handle { … }` (LANGUAGE.md §6.3; the braces may be
    /// omitted).
    With {
        handler: Path,
        fields: Vec<FieldInit>,
        body: Block,
    },
    /// `select! { v = rx.recv() => …, timeout(ms) => …, default => … }` (LANGUAGE.md §7.2).
    Select(Vec<SelectArm>),
    /// A construct of a level not implemented yet (`try … with`, `resume`, `region`),
    /// skipped whole by the parser.
    Unsupported {
        feature: String,
    },
    /// The parser failed here and already reported it.
    Error,
}

/// One arm of `select!`.
#[derive(Clone, Debug)]
pub struct SelectArm {
    pub kind: SelectArmKind,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum SelectArmKind {
    /// `binding = receiver.recv()`: `binding` gets the `Option<T>` the receive produced.
    Recv { binding: Ident, receiver: Expr },
    /// `timeout(ms)`: runs when no other arm became ready within `ms` milliseconds.
    Timeout(Expr),
    /// `default`: runs at once when no other arm is ready.
    Default,
}

#[derive(Clone, Debug)]
pub struct MacroCall {
    pub name: Ident,
    pub args: Vec<Expr>,
    /// For `matches!(e, pat)`: the pattern; `args` then holds `e` only.
    pub pattern: Option<Box<Pattern>>,
}

#[derive(Clone, Debug)]
pub struct Arg {
    /// `name: value` (named argument).
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Debug)]
pub struct FieldInit {
    pub name: Ident,
    /// `None` for shorthand `Point { x }`.
    pub value: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct MatchArm {
    pub pat: Pattern,
    pub guard: Option<Expr>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Closure {
    pub is_move: bool,
    pub params: Vec<ClosureParam>,
    pub ret: Option<Type>,
    pub effects: Option<EffectRow>,
    pub body: Box<Expr>,
}

#[derive(Clone, Debug)]
pub struct ClosureParam {
    pub pat: Pattern,
    pub ty: Option<Type>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    /// Integer literal; `value` is the magnitude (a leading `-` is a separate `UnOp::Neg`).
    /// Out-of-range literals (beyond u128) are reported by the lexer and become `Error`.
    Int {
        value: u128,
        suffix: Option<IntSuffix>,
    },
    Float {
        value: f64,
        suffix: Option<FloatSuffix>,
    },
    Bool(bool),
    Char(char),
    Str(String),
    ByteStr(Vec<u8>),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IntSuffix {
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

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FloatSuffix {
    F32,
    F64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-e`
    Neg,
    /// `!e`
    Not,
    /// `*e`
    Deref,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
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
    /// `&&`
    And,
    /// `||`
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

#[derive(Clone, Debug)]
pub struct Pattern {
    pub kind: PatternKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum PatternKind {
    /// `_`
    Wild,
    /// `ref? mut? name (@ sub)?`; a lone lower-case identifier.
    Ident {
        by_ref: bool,
        mutable: bool,
        name: Ident,
        sub: Option<Box<Pattern>>,
    },
    /// A literal, possibly negative (`-1`): an `ExprKind::Lit` or `Unary(Neg, Lit)` expression.
    Lit(Box<Expr>),
    /// `a..=b`, `a..b`; bounds are literal or path expressions.
    Range {
        lo: Box<Expr>,
        hi: Box<Expr>,
        inclusive: bool,
    },
    /// `(p, q)`
    Tuple(Vec<Pattern>),
    /// A constant pattern: unit variant or unit struct or const (`Color.Red`, `None`).
    Path(Path),
    /// `Some(x)`, `Shape.Circle(r)`
    TupleStruct {
        path: Path,
        elems: Vec<Pattern>,
    },
    /// `Point { x, y: 0, .. }`
    Struct {
        path: Path,
        fields: Vec<FieldPattern>,
        has_rest: bool,
    },
    /// `[a, b, ..]`
    Slice(Vec<Pattern>),
    /// `..` inside tuple and slice patterns.
    Rest,
    /// `&p`, `&mut p`
    Ref {
        mutable: bool,
        inner: Box<Pattern>,
    },
    /// `p | q`
    Or(Vec<Pattern>),
    Error,
}

#[derive(Clone, Debug)]
pub struct FieldPattern {
    pub name: Ident,
    /// `None` for shorthand `{ x }`.
    pub pat: Option<Pattern>,
    pub span: Span,
}
