//! Name resolution and type checking: AST → typed HIR.
//!
//! The work is split the way the language is:
//! * [`crate::resolve`] collects the items of a scope (duplicate definitions, unsupported items);
//! * this module registers function signatures and checks `main`;
//! * `expr.rs`, `control.rs` and `builtins.rs` check function bodies, one [`FnCx`] per body,
//!   with local unification (`infer.rs`);
//! * `finish.rs` resolves every inference variable (applying literal defaults), runs the checks
//!   that need final types (literal ranges, operator operand kinds, casts), and writes the final
//!   types into the HIR.
//!
//! Nothing here prints or touches files. Errors become diagnostics and `Ty::Error`, which unifies
//! with everything, so one mistake produces one message.

mod adts;
mod builtins;
mod calls;
mod closures;
mod concurrency;
mod consts;
mod control;
mod data;
mod effects;
mod exhaustive;
mod expr;
mod finish;
mod generics;
mod heap;
mod infer;
mod items;
mod moves;
mod patterns;
mod traits;
mod usefulness;

use crate::diagnostics::Diagnostic;
use crate::hir::{self, FnId, LocalId, LocalInfo, LoopId};
use crate::resolve::{Def, ScopeId, ScopeTable};
use crate::source::{SourceMap, Span};
use crate::syntax::ast;
use crate::types::{Effects, FloatTy, IntTy, Ty};

use finish::Deferred;
use infer::InferTable;

/// The signature of a program function.
#[derive(Clone, Debug)]
pub(crate) struct FnSig {
    pub name: String,
    pub params: Vec<(String, Ty, bool)>,
    pub ret: Ty,
    /// Type parameter names of a template (`Ty::Param(i)` in `params`/`ret`); empty otherwise.
    pub generics: Vec<String>,
    /// Trait bounds over the parameters, checked when an instance is created.
    pub bounds: Vec<(Ty, u32)>,
    /// The declared effect row (LANGUAGE.md §6.2), with `Fiber` added for a `fiber fn`.
    pub effects: Effects,
}

impl FnSig {
    /// The signature of a function declared but not lowered yet (phase 1 of registration).
    pub(crate) fn declared(name: String) -> FnSig {
        FnSig {
            name,
            params: Vec::new(),
            ret: Ty::Unit,
            generics: Vec::new(),
            bounds: Vec::new(),
            effects: Effects::PURE,
        }
    }
}

/// State shared by all function bodies of one program.
pub(crate) struct GlobalCx<'a> {
    pub sources: &'a SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub sigs: Vec<FnSig>,
    pub bodies: Vec<Option<hir::FnDef>>,
    /// Bodies still to check.
    pub queue: Vec<generics::BodyJob<'a>>,
    /// Generic functions and methods, by id; they are checked per instance.
    pub templates: std::collections::HashMap<FnId, generics::Template<'a>>,
    /// Instances already created: (template, type arguments) → function.
    pub instances: std::collections::HashMap<(FnId, Vec<Ty>), FnId>,
    /// Type parameters (and `Self`) in scope while lowering a signature or checking a body.
    pub type_env: Vec<(String, Ty)>,
    pub traits: Vec<traits::TraitDef<'a>>,
    /// Methods of inherent impls with bounds (`impl<T: Freeze> Wrapper<T>`): the impl's self
    /// type and bounds; the method exists only for types meeting them.
    pub method_bounds: std::collections::HashMap<FnId, traits::ImplBounds>,
    pub trait_impls: Vec<traits::ImplDef>,
    pub scopes: ScopeTable,
    pub consts: Vec<consts::ConstDef<'a>>,
    pub aliases: Vec<consts::AliasDef<'a>>,
    pub enums: Vec<EnumDef>,
    /// Structs and payload enums (`Ty::Adt`).
    pub adts: crate::types::AdtTable,
    /// The prelude's `Option` and `Result` (for `?`, equality and the variant shortcuts).
    pub prelude_option: Option<u32>,
    pub prelude_result: Option<u32>,
    /// Methods and associated functions by type (enum id) and name; `true` when the function
    /// takes `self`.
    pub methods: std::collections::HashMap<adts::TypeKey, std::collections::HashMap<String, (FnId, bool)>>,
}

/// A fieldless enum: its variants in declaration order with their discriminants.
#[derive(Clone, Debug)]
pub(crate) struct EnumDef {
    pub name: String,
    pub variants: Vec<(String, i128)>,
}

/// The set of ordinals (see `exhaustive.rs`) a scalar pattern matches; everything for a
/// catch-all. Used by the IR builder's decision trees.
pub(crate) fn pattern_ordinals(pat: &hir::Pat) -> exhaustive::IntervalSet {
    exhaustive::pattern_set(pat, &pat.ty).unwrap_or_else(|| exhaustive::IntervalSet::single(0, u128::MAX))
}

/// Type-checks a program given its root file and the parsed prelude ([`parse_prelude`]).
/// Returns the typed HIR when there were no errors.
pub fn check_program(
    sources: &SourceMap,
    root: &ast::SourceFile,
    prelude: &[ast::SourceFile],
) -> (Option<hir::Program>, Vec<Diagnostic>) {
    resolve_program(sources, root, prelude).check()
}

/// Adds the standard prelude's files (`blood-std`) to `sources` and parses them.
pub fn parse_prelude(sources: &mut SourceMap) -> (Vec<ast::SourceFile>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    for f in blood_std::PRELUDE {
        let id = sources.add(f.path, None, f.source);
        let (ast, diags) = crate::syntax::parse_file(id, f.source);
        files.push(ast);
        diagnostics.extend(diags);
    }
    (files, diagnostics)
}

/// A program whose items are registered and names resolved (modules, `use`, signatures,
/// constants), ready for its bodies to be checked. Split from [`check_program`] so the driver can
/// time name resolution on its own.
pub struct Resolved<'a> {
    gcx: GlobalCx<'a>,
    main: Option<FnId>,
}

/// Registers every item of the program and resolves `use` declarations.
pub fn resolve_program<'a>(
    sources: &'a SourceMap,
    root: &'a ast::SourceFile,
    prelude: &'a [ast::SourceFile],
) -> Resolved<'a> {
    let mut gcx = GlobalCx {
        sources,
        diagnostics: Vec::new(),
        sigs: Vec::new(),
        bodies: Vec::new(),
        queue: Vec::new(),
        templates: Default::default(),
        instances: Default::default(),
        type_env: Vec::new(),
        traits: Vec::new(),
        method_bounds: Default::default(),
        trait_impls: Vec::new(),
        consts: Vec::new(),
        aliases: Vec::new(),
        enums: Vec::new(),
        adts: Default::default(),
        prelude_option: None,
        prelude_result: None,
        scopes: ScopeTable::default(),
        methods: Default::default(),
    };
    gcx.register_program(&root.items, prelude);
    let main = check_main(&mut gcx, root.span);
    Resolved { gcx, main }
}

impl Resolved<'_> {
    /// Checks every function body; returns the typed HIR when the program has no errors.
    pub fn check(self) -> (Option<hir::Program>, Vec<Diagnostic>) {
        let Resolved { mut gcx, main } = self;
        while let Some(job) = gcx.queue.pop() {
            let id = job.id;
            let body = check_fn_body(&mut gcx, job);
            gcx.bodies[id.0 as usize] = body;
        }
        let has_errors = gcx.diagnostics.iter().any(Diagnostic::is_error);
        let mut diagnostics = gcx.diagnostics;
        diagnostics.sort_by_key(|d| (d.span.file, d.span.lo));
        if has_errors {
            return (None, diagnostics);
        }
        let sources = gcx.sources;
        let in_std = |f: &hir::FnDef| sources.file(f.span.file).name.starts_with("<blood-std>");
        let (functions, main) = generics::remap_functions(gcx.bodies, &gcx.templates, main, in_std);
        let program = hir::Program { functions, main, adts: std::sync::Arc::new(gcx.adts) };
        // Ownership (LANGUAGE.md §5.5): uses after moves, on the finished HIR.
        let move_errors = moves::check_program(&program);
        if !move_errors.is_empty() {
            diagnostics.extend(move_errors);
            diagnostics.sort_by_key(|d| (d.span.file, d.span.lo));
            return (None, diagnostics);
        }
        (Some(program), diagnostics)
    }
}

impl<'a> GlobalCx<'a> {
    pub fn error(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    pub fn enum_ty(&self, id: u32) -> Ty {
        Ty::Enum(crate::types::EnumRef { id, name: self.enums[id as usize].name.as_str().into() })
    }

    /// Computes the discriminants of a fieldless enum (`= N`, else the previous one plus 1).
    fn lower_enum(&mut self, decl: &ast::EnumDecl) -> EnumDef {
        let mut variants: Vec<(String, i128)> = Vec::new();
        let mut next: i128 = 0;
        for v in &decl.variants {
            if let Some(expr) = &v.discriminant {
                match literal_value(expr) {
                    Some(value) => next = value,
                    None => self.error(Diagnostic::error("an enum discriminant must be an integer literal", expr.span)),
                }
            }
            if !crate::types::ENUM_REPR.fits(next < 0, next.unsigned_abs()) {
                self.error(Diagnostic::error(format!("discriminant of `{}` does not fit in i64", v.name.name), v.span));
            }
            if variants.iter().any(|(n, _)| *n == v.name.name) {
                self.error(Diagnostic::error(format!("duplicate variant name `{}` in enum", v.name.name), v.name.span));
            } else if variants.iter().any(|(_, d)| *d == next) {
                self.error(Diagnostic::error(format!("discriminant value `{next}` assigned more than once"), v.span));
            } else {
                variants.push((v.name.name.clone(), next));
            }
            next = next.wrapping_add(1);
        }
        EnumDef { name: decl.name.name.clone(), variants }
    }

    /// Lowers a signature; `outer_generics` are the type parameters of an enclosing generic
    /// `impl` (they come first, then the function's own).
    fn lower_signature(&mut self, decl: &ast::FnDecl, name: &str, scopes: &[ScopeId]) -> FnSig {
        self.lower_signature_in(decl, name, scopes, &[], &[])
    }

    fn lower_signature_in(
        &mut self,
        decl: &ast::FnDecl,
        name: &str,
        scopes: &[ScopeId],
        outer_generics: &[String],
        fixed_env: &[(String, Ty)],
    ) -> FnSig {
        let mut generics: Vec<String> = outer_generics.to_vec();
        generics.extend(decl.generics.params.iter().map(|p| p.name.name.clone()));
        let saved = std::mem::take(&mut self.type_env);
        self.type_env = fixed_env.to_vec();
        self.type_env.extend(generics::param_env(&generics));
        let mut sig = self.lower_signature_inner(decl, name, scopes, generics);
        sig.bounds = self.lower_bounds(&decl.generics, scopes);
        self.type_env = saved;
        sig
    }

    fn lower_signature_inner(
        &mut self,
        decl: &ast::FnDecl,
        name: &str,
        scopes: &[ScopeId],
        generics: Vec<String>,
    ) -> FnSig {
        if let Some(sp) = &decl.self_param {
            self.error(Diagnostic::error("`self` parameter is only allowed in methods", sp.span));
        }
        let mut effects = decl.effects.as_ref().map_or(Effects::PURE, |row| self.lower_row(row, scopes));
        if decl.is_fiber {
            effects = effects.union(Effects::FIBER);
        }
        let params =
            decl.params.iter().map(|p| (p.name.name.clone(), self.lower_type(&p.ty, scopes), p.mutable)).collect();
        let ret = decl.ret.as_ref().map_or(Ty::Unit, |t| self.lower_type(t, scopes));
        FnSig { name: name.to_string(), params, ret, generics, bounds: Vec::new(), effects }
    }

    /// The signature of a function of an `impl` block: `self` (by value, or `&self` — the same
    /// for the value types that have methods so far) becomes the first parameter.
    pub(crate) fn lower_method_signature(
        &mut self,
        decl: &ast::FnDecl,
        name: &str,
        scopes: &[ScopeId],
        self_ty: &Ty,
        impl_generics: &[String],
    ) -> FnSig {
        let fixed = vec![("Self".to_string(), self_ty.clone())];
        let mut sig = {
            let plain = ast::FnDecl { self_param: None, ..decl.clone() };
            self.lower_signature_in(&plain, name, scopes, impl_generics, &fixed)
        };
        let saved = std::mem::take(&mut self.type_env);
        self.type_env = fixed;
        self.type_env.extend(generics::param_env(&sig.generics));
        if let Some(sp) = &decl.self_param {
            let (ty, mutable) = match &sp.kind {
                ast::SelfKind::Value => (self_ty.clone(), sp.mutable),
                ast::SelfKind::Ref => (Ty::reference(self_ty.clone(), false), false),
                ast::SelfKind::RefMut => (Ty::reference(self_ty.clone(), true), false),
                ast::SelfKind::Explicit(t) => {
                    let ty = self.lower_type(t, scopes);
                    let ok = match &ty {
                        Ty::Ref(inner, _) => **inner == *self_ty,
                        t => t == self_ty,
                    };
                    if !ok && ty != Ty::Error {
                        self.error(
                            Diagnostic::error("type mismatch", t.span)
                                .with_code("E0201")
                                .with_note(format!("the type of `self` must be `{self_ty}` or a reference to it")),
                        );
                        (self_ty.clone(), false)
                    } else {
                        (ty, sp.mutable)
                    }
                }
            };
            sig.params.insert(0, ("self".to_string(), ty, mutable));
        }
        self.type_env = saved;
        sig
    }

    /// Resolves a written type (scalar types and aliases of them) in the given item scopes.
    pub fn lower_type(&mut self, ty: &ast::Type, scopes: &[ScopeId]) -> Ty {
        match &ty.kind {
            ast::TypeKind::Path(path) if path.segments.len() == 1 => {
                let seg = &path.segments[0];
                let name = seg.ident.name.as_str();
                if let Some((_, t)) = self.type_env.iter().rev().find(|(n, _)| n == name) {
                    return t.clone();
                }
                match self.scopes.lookup(scopes, name, true) {
                    Some(Def::Alias(alias)) => return self.resolve_alias(alias, ty.span),
                    Some(Def::Enum(id)) => return self.enum_ty(id),
                    Some(Def::Adt(id)) => return self.lower_adt_type(id, seg, scopes, ty.span),
                    _ => {}
                }
                let resolved = match name {
                    "bool" => Some(Ty::Bool),
                    "char" => Some(Ty::Char),
                    "f32" => Some(Ty::Float(FloatTy::F32)),
                    "f64" => Some(Ty::Float(FloatTy::F64)),
                    _ => IntTy::from_name(name).map(Ty::Int),
                };
                match resolved {
                    Some(t) => {
                        if seg.generic_args.is_some() {
                            self.error(
                                Diagnostic::error("type mismatch", ty.span)
                                    .with_code("E0201")
                                    .with_note("wrong number of type arguments"),
                            );
                        }
                        t
                    }
                    None if name == "str" => {
                        self.error(Diagnostic::error("`str` must be used behind a reference: `&str`", ty.span));
                        Ty::Error
                    }
                    None if let Some(t) = self.lower_heap_type(seg, scopes) => t,
                    None if matches!(name, "Option" | "Result") => {
                        self.error(unsupported(ty.span, &format!("`{name}` (language level L2)")));
                        Ty::Error
                    }
                    None if matches!(
                        self.scopes.lookup(scopes, name, false),
                        Some(Def::Fn(_) | Def::Const(_) | Def::Module(_))
                    ) =>
                    {
                        self.error(Diagnostic::error(format!("not a type: `{name}` is not a type"), ty.span));
                        Ty::Error
                    }
                    None => {
                        self.error(Diagnostic::error(format!("unknown type: {name}"), ty.span).with_code("E0203"));
                        Ty::Error
                    }
                }
            }
            ast::TypeKind::Path(path) => {
                let segments: Vec<&str> = path.segments.iter().map(|s| s.ident.name.as_str()).collect();
                let from = scopes.last().map_or(crate::resolve::ROOT, |&c| self.scopes.get(c).module);
                match self.scopes.resolve_path(scopes, from, &segments) {
                    Ok((Def::Alias(a), used)) if used == segments.len() => self.resolve_alias(a, ty.span),
                    Ok((Def::Enum(e), used)) if used == segments.len() => self.enum_ty(e),
                    Ok((Def::Adt(a), used)) if used == segments.len() => {
                        let seg = &path.segments[used - 1];
                        self.lower_adt_type(a, seg, scopes, ty.span)
                    }
                    Err(crate::resolve::PathError::Private(name)) => {
                        self.error(Diagnostic::error(format!("item `{name}` is private"), ty.span));
                        Ty::Error
                    }
                    _ => {
                        let text = segments.join(".");
                        self.error(Diagnostic::error(format!("unknown type: {text}"), ty.span).with_code("E0203"));
                        Ty::Error
                    }
                }
            }
            ast::TypeKind::Tuple(elems) if elems.is_empty() => Ty::Unit,
            ast::TypeKind::Ref { mutable: false, inner } if is_str_path(inner) => Ty::Str,
            ast::TypeKind::Never => Ty::Never,
            ast::TypeKind::Infer => {
                self.error(Diagnostic::error("the type placeholder `_` is only allowed in `let` annotations", ty.span));
                Ty::Error
            }
            ast::TypeKind::Tuple(elems) => Ty::tuple(elems.iter().map(|t| self.lower_type(t, scopes)).collect()),
            ast::TypeKind::Array(elem, len) => {
                let elem = self.lower_type(elem, scopes);
                match self.array_length(len, scopes) {
                    Some(n) => Ty::Array(elem.into(), n),
                    None => Ty::Error,
                }
            }
            ast::TypeKind::Slice(_) => {
                self.error(Diagnostic::error("a slice type `[T]` must be used behind a reference: `&[T]`", ty.span));
                Ty::Error
            }
            ast::TypeKind::Ref { mutable, inner, .. } => {
                let inner_ty = match &inner.kind {
                    ast::TypeKind::Slice(elem) => Ty::Slice(self.lower_type(elem, scopes).into()),
                    ast::TypeKind::Path(p) if p.segments.len() == 1 && p.segments[0].ident.name == "str" => {
                        if *mutable {
                            self.error(unsupported(ty.span, "`&mut str`"));
                            return Ty::Error;
                        }
                        return Ty::Str;
                    }
                    _ => self.lower_type(inner, scopes),
                };
                if inner_ty == Ty::Error { Ty::Error } else { Ty::reference(inner_ty, *mutable) }
            }
            ast::TypeKind::Ptr { .. } => self.unsupported_ty(ty.span, "raw pointers (language level L5)"),
            ast::TypeKind::Fn { params, ret, effects } => {
                let row = effects.as_ref().map_or(Effects::PURE, |row| self.lower_row(row, scopes));
                let params: Vec<Ty> = params.iter().map(|t| self.lower_type(t, scopes)).collect();
                let ret = ret.as_ref().map_or(Ty::Unit, |t| self.lower_type(t, scopes));
                Ty::Fn(params.into(), ret.into(), row)
            }
            ast::TypeKind::Unsupported { feature } => {
                let feature = feature.clone();
                self.unsupported_ty(ty.span, &feature)
            }
            ast::TypeKind::Error => Ty::Error,
        }
    }

    /// `Name` / `Name<A, B>` for a struct or enum: the type arguments must match its parameters.
    fn lower_adt_type(&mut self, id: u32, seg: &ast::PathSegment, scopes: &[ScopeId], span: Span) -> Ty {
        let args: Vec<Ty> = seg.generic_args.iter().flatten().map(|t| self.lower_type(t, scopes)).collect();
        let expected = self.adts.defs[id as usize].generics.len();
        if args.len() != expected {
            self.error(Diagnostic::error("type mismatch", span).with_code("E0201").with_note(format!(
                "wrong number of type arguments: `{}` takes {expected}, found {}",
                self.adts.defs[id as usize].name,
                args.len()
            )));
            return Ty::Error;
        }
        let name = self.adts.defs[id as usize].name.as_str().into();
        Ty::Adt(crate::types::AdtRef { id, name }, args.into())
    }

    /// The `N` of `[T; N]`: an integer literal or a `const` item.
    pub fn array_length(&mut self, e: &ast::Expr, scopes: &[ScopeId]) -> Option<u64> {
        let bad = |gcx: &mut Self| {
            gcx.error(Diagnostic::error("array length must be an integer literal or a `const` item", e.span));
            None
        };
        match &e.kind {
            ast::ExprKind::Lit(ast::Lit::Int { value, .. }) => u64::try_from(*value).ok().or_else(|| bad(self)),
            ast::ExprKind::Path(p) if p.segments.len() == 1 => {
                match self.scopes.lookup(scopes, &p.segments[0].ident.name, false) {
                    Some(Def::Const(id)) => match self.resolve_const(id, e.span)? {
                        (_, hir::Lit::Int { negative: false, magnitude }) => u64::try_from(magnitude).ok(),
                        _ => bad(self),
                    },
                    _ => bad(self),
                }
            }
            _ => bad(self),
        }
    }

    fn unsupported_ty(&mut self, span: Span, feature: &str) -> Ty {
        self.error(unsupported(span, feature));
        Ty::Error
    }
}

/// The value of an integer literal expression, possibly negated.
fn literal_value(e: &ast::Expr) -> Option<i128> {
    match &e.kind {
        ast::ExprKind::Lit(ast::Lit::Int { value, .. }) => i128::try_from(*value).ok(),
        ast::ExprKind::Unary(ast::UnOp::Neg, inner) => literal_value(inner).map(|v| -v),
        _ => None,
    }
}

fn is_str_path(ty: &ast::Type) -> bool {
    matches!(&ty.kind, ast::TypeKind::Path(p) if p.segments.len() == 1 && p.segments[0].ident.name == "str")
}

/// "unsupported feature: …" (LANGUAGE.md §9).
pub(crate) fn unsupported(span: Span, feature: &str) -> Diagnostic {
    Diagnostic::error(format!("unsupported feature: {feature}"), span)
}

/// Checks that `main` exists with a valid signature (LANGUAGE.md §2).
fn check_main(gcx: &mut GlobalCx<'_>, file_span: Span) -> Option<FnId> {
    let main = gcx.scopes.get(crate::resolve::ROOT).values.get("main").map(|b| b.def);
    let Some(Def::Fn(id)) = main else {
        gcx.error(Diagnostic::error("main function not found", Span::new(file_span.file, 0, 0)));
        return None;
    };
    if gcx.templates.contains_key(&id) {
        gcx.error(Diagnostic::error("`main` cannot be generic", file_span));
        return None;
    }
    let decl = gcx.queue.iter().find(|j| j.id == id).map(|j| j.decl)?;
    let sig = gcx.sigs[id.0 as usize].clone();
    if !sig.params.is_empty() || decl.self_param.is_some() {
        gcx.error(Diagnostic::error("main function must have no parameters", decl.name.span));
    }
    if !matches!(sig.ret, Ty::Unit | Ty::Int(IntTy::I32) | Ty::Error) {
        let span = decl.ret.as_ref().map_or(decl.name.span, |t| t.span);
        gcx.error(
            Diagnostic::error("invalid signature for main", span)
                .with_note(format!("`main` must return `()` or `i32`, not `{}`", sig.ret)),
        );
    }
    Some(id)
}

/// A loop being checked: the target of `break`/`continue`.
pub(crate) struct LoopCx {
    pub id: LoopId,
    pub label: Option<String>,
    /// `loop` (accepts `break value`) rather than `while`/`for`.
    pub is_loop: bool,
    /// The type of `break` values (`loop` only), once one has been seen.
    pub break_ty: Option<Ty>,
}

/// Per-function checking state.
pub(crate) struct FnCx<'g, 'a> {
    pub gcx: &'g mut GlobalCx<'a>,
    pub fn_name: String,
    pub locals: Vec<LocalInfo>,
    /// Lexical scopes of local variables, innermost last.
    pub scopes: Vec<Vec<(String, LocalId)>>,
    /// Item scopes visible in the body, innermost last.
    pub item_scopes: Vec<ScopeId>,
    pub loops: Vec<LoopCx>,
    pub next_loop: u32,
    pub ret: Ty,
    pub infer: InferTable,
    pub deferred: Vec<Deferred>,
    /// A "cannot infer type" was reported at a call: locals left unknown by it are not
    /// reported again.
    pub reported_infer: bool,
    pub closures: closures::ClosureState,
    /// Effect frames of the function body and the closures being checked in it, innermost last.
    pub effects: Vec<effects::EffectFrame>,
    /// Nesting depth of `@unsafe` blocks around the expression being checked.
    pub unsafe_depth: u32,
}

fn check_fn_body<'a>(gcx: &mut GlobalCx<'a>, job: generics::BodyJob<'a>) -> Option<hir::FnDef> {
    let generics::BodyJob { id, decl, scopes: item_scopes, span, no_preempt, env } = job;
    let saved_env = std::mem::replace(&mut gcx.type_env, env);
    let body = check_fn_body_in_env(gcx, id, decl, item_scopes, span, no_preempt);
    gcx.type_env = saved_env;
    body
}

fn check_fn_body_in_env<'a>(
    gcx: &mut GlobalCx<'a>,
    id: FnId,
    decl: &'a ast::FnDecl,
    item_scopes: Vec<ScopeId>,
    span: Span,
    no_preempt: bool,
) -> Option<hir::FnDef> {
    let sig = gcx.sigs[id.0 as usize].clone();
    let mut cx = FnCx {
        gcx,
        fn_name: sig.name.clone(),
        locals: Vec::new(),
        scopes: vec![Vec::new()],
        item_scopes,
        loops: Vec::new(),
        next_loop: 0,
        ret: sig.ret.clone(),
        infer: InferTable::default(),
        deferred: Vec::new(),
        reported_infer: false,
        closures: Default::default(),
        effects: vec![effects::EffectFrame { allowed: Some(effects::effective_row(&sig)), used: Effects::PURE }],
        unsafe_depth: 0,
    };
    for (name, ty, mutable) in &sig.params {
        cx.declare_local(name, ty.clone(), *mutable);
    }
    let body = decl.body.as_ref()?;
    let body_expr = cx.check_block(body);
    cx.check_returned_ref(&body_expr);
    let ret = sig.ret.clone();
    let body_span = body.tail.as_ref().map_or(body.span, |t| t.span);
    cx.coerce(&body_expr.ty, &ret, body_span);
    Some(cx.finish(body_expr, sig, span, no_preempt))
}

impl FnCx<'_, '_> {
    pub fn error(&mut self, d: Diagnostic) {
        self.gcx.error(d);
    }

    pub fn declare_local(&mut self, name: &str, ty: Ty, mutable: bool) -> LocalId {
        let id = LocalId(self.locals.len() as u32);
        let in_closure = self.closures.base.is_some();
        self.locals.push(LocalInfo { name: name.to_string(), ty, mutable, in_closure });
        if name != "_" {
            self.scopes.last_mut().expect("a scope is open").push((name.to_string(), id));
        }
        id
    }

    pub fn lookup_local(&self, name: &str) -> Option<LocalId> {
        self.scopes.iter().rev().flat_map(|s| s.iter().rev()).find(|(n, _)| n == name).map(|(_, id)| *id)
    }

    pub fn lookup_const(&self, name: &str) -> Option<u32> {
        match self.gcx.scopes.lookup(&self.item_scopes, name, false) {
            Some(Def::Const(id)) => Some(id),
            _ => None,
        }
    }

    /// The module the body being checked belongs to (for visibility).
    pub fn current_module(&self) -> ScopeId {
        self.item_scopes.last().map_or(crate::resolve::ROOT, |&s| self.gcx.scopes.get(s).module)
    }

    /// Resolves a multi-segment item path (`geometry.area`, `shapes.Color.Red`), reporting
    /// errors. Returns the item and the number of segments it used.
    pub fn resolve_item_path(&mut self, path: &ast::Path) -> Option<(Def, usize)> {
        let segments: Vec<&str> = path.segments.iter().map(|s| s.ident.name.as_str()).collect();
        let from = self.current_module();
        match self.gcx.scopes.resolve_path(&self.item_scopes, from, &segments) {
            Ok(found) => Some(found),
            Err(crate::resolve::PathError::Unresolved(_)) => {
                self.undefined_name(&path.segments[0].ident);
                None
            }
            Err(crate::resolve::PathError::NotInModule { module, name }) => {
                let span = path.segments.iter().find(|s| s.ident.name == name).map_or(path.span, |s| s.ident.span);
                self.error(Diagnostic::error(format!("undefined name `{name}` in module `{module}`"), span));
                None
            }
            Err(crate::resolve::PathError::Private(name)) => {
                let span = path.segments.iter().find(|s| s.ident.name == name).map_or(path.span, |s| s.ident.span);
                self.error(Diagnostic::error(format!("item `{name}` is private"), span));
                None
            }
        }
    }

    /// Every name visible in the body, for "did you mean" suggestions.
    pub fn visible_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.scopes.iter().flat_map(|s| s.iter().map(|(n, _)| n.clone())).collect();
        names.extend(self.gcx.scopes.visible_names(&self.item_scopes));
        names.extend(builtins::BUILTIN_NAMES.iter().map(|s| s.to_string()));
        names
    }

    /// Checks that a value of type `found` can be used where `expected` is required (`!`
    /// coerces to everything); reports "type mismatch" otherwise. Returns whether it fit.
    pub fn coerce(&mut self, found: &Ty, expected: &Ty, span: Span) -> bool {
        let f = self.infer.shallow_resolve(found);
        if f == Ty::Never {
            return true;
        }
        if self.infer.unify(&f, expected) {
            return self.check_rows_fit(&f, expected, span);
        }
        let expected = self.display_ty(expected);
        let found = self.display_ty(&f);
        self.error(
            Diagnostic::error("type mismatch", span)
                .with_code("E0201")
                .with_label(format!("expected `{expected}`, found `{found}`")),
        );
        false
    }

    pub fn display_ty(&mut self, ty: &Ty) -> String {
        self.infer.shallow_resolve(ty).to_string()
    }

    pub fn resolve(&mut self, ty: &Ty) -> Ty {
        self.infer.shallow_resolve(ty)
    }

    pub fn new_loop_id(&mut self) -> LoopId {
        self.next_loop += 1;
        LoopId(self.next_loop - 1)
    }
}

/// Suggests the visible name closest to `name` (edit distance ≤ 2), for "did you mean".
pub(crate) fn suggest(name: &str, candidates: &[String]) -> Option<String> {
    let mut best: Option<(usize, &String)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let d = edit_distance(name, c);
        let limit = if name.len() <= 3 { 1 } else { 2 };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.clone())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}
