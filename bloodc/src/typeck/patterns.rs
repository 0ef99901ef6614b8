//! Patterns: checking them against the matched type, and `match` / `if let` / `while let`.
//!
//! Every pattern kind of LANGUAGE.md §4.7: literals, ranges, bindings (`x`, `ref x`, `x @ p`),
//! `_`, or-patterns, tuples, structs and enum variants (with `..`), slices and arrays (with
//! `..`), and `&p`. A reference scrutinee is matched only by `&p`, bindings and `_` (no default
//! binding modes). Exhaustiveness and reachability are decided in `exhaustive.rs` once the
//! scrutinee type is final.

use std::collections::HashMap;

use crate::diagnostics::Diagnostic;
use crate::hir::{self, ExprKind as H, Lit, LocalId, MatchArm, Pat, PatKind};
use crate::source::Span;
use crate::syntax::ast::{self, ExprKind as A, PatternKind as P};
use crate::types::Ty;

use super::finish::{Deferred, OperandClass};
use super::{FnCx, unsupported};

/// The sub-patterns written after an ADT path.
enum AdtPatArgs<'a> {
    Unit,
    Tuple(&'a [ast::Pattern]),
    Named(&'a [ast::FieldPattern]),
}

/// Bindings of one pattern: name → local. Or-pattern alternatives after the first must bind
/// exactly the names of the first (`expected`), and reuse their locals.
struct Bindings {
    bound: HashMap<String, LocalId>,
    expected: Option<HashMap<String, LocalId>>,
}

impl<'a> FnCx<'_, 'a> {
    /// Checks a `match` expression.
    pub(super) fn check_match(&mut self, scrutinee: &'a ast::Expr, arms: &'a [ast::MatchArm], span: Span) -> hir::Expr {
        let scrutinee = self.check_expr(scrutinee);
        let mut checked = Vec::new();
        let mut ty: Option<Ty> = None;
        for arm in arms {
            self.scopes.push(Vec::new());
            let pat = self.check_pattern_top(&arm.pat, &scrutinee.ty);
            let guard = arm.guard.as_ref().map(|g| self.check_expr_expect(g, &Ty::Bool));
            let body = self.check_expr(&arm.body);
            self.scopes.pop();
            ty = Some(match ty {
                None => body.ty.clone(),
                Some(t) => {
                    self.join_branches(&t, &body.ty, arm.body.span, None, "`match` arms have incompatible types")
                }
            });
            checked.push(MatchArm { pat, guard, body });
        }
        let ty = ty.unwrap_or(Ty::Never);
        self.defer_match(&scrutinee, &checked, span, false);
        hir::Expr::new(H::Match { scrutinee: Box::new(scrutinee), arms: checked }, ty, span)
    }

    /// `if let p = e { then } else { … }` → `match e { p => then, _ => else }`.
    pub(super) fn check_if_let(
        &mut self,
        pat: &'a ast::Pattern,
        scrutinee: &'a ast::Expr,
        then: &'a ast::Block,
        else_: Option<&'a ast::Expr>,
        span: Span,
    ) -> hir::Expr {
        let scrutinee = self.check_expr(scrutinee);
        self.scopes.push(Vec::new());
        let pat = self.check_pattern_top(pat, &scrutinee.ty);
        let then = self.check_block(then);
        self.scopes.pop();
        let (else_body, ty) = match else_ {
            Some(e) => {
                let e = self.check_expr(e);
                let ty = self.join_branches(
                    &then.ty,
                    &e.ty,
                    e.span,
                    Some(then.span),
                    "`if` and `else` have incompatible types",
                );
                (e, ty)
            }
            None => (hir::Expr::unit(span), Ty::Unit),
        };
        let wild = Pat { kind: PatKind::Wild, ty: scrutinee.ty.clone(), span };
        let arms =
            vec![MatchArm { pat, guard: None, body: then }, MatchArm { pat: wild, guard: None, body: else_body }];
        self.defer_match(&scrutinee, &arms, span, true);
        hir::Expr::new(H::Match { scrutinee: Box::new(scrutinee), arms }, ty, span)
    }

    /// `while let p = e { body }` → `loop { match e { p => body, _ => break } }`.
    pub(super) fn check_while_let(
        &mut self,
        label: Option<&ast::Ident>,
        pat: &'a ast::Pattern,
        scrutinee: &'a ast::Expr,
        body: &'a ast::Block,
        span: Span,
    ) -> hir::Expr {
        let id = self.push_loop(label, false);
        let scrutinee = self.check_expr(scrutinee);
        self.scopes.push(Vec::new());
        let pat = self.check_pattern_top(pat, &scrutinee.ty);
        let body = self.check_block(body);
        self.scopes.pop();
        self.loops.pop();
        let wild = Pat { kind: PatKind::Wild, ty: scrutinee.ty.clone(), span };
        let exit = hir::Expr::new(H::Break { id, value: None }, Ty::Never, span);
        let arms = vec![MatchArm { pat, guard: None, body }, MatchArm { pat: wild, guard: None, body: exit }];
        self.defer_match(&scrutinee, &arms, span, true);
        let m = hir::Expr::new(H::Match { scrutinee: Box::new(scrutinee), arms }, Ty::Unit, span);
        hir::Expr::new(H::Loop { id, body: Box::new(m) }, Ty::Unit, span)
    }

    /// `matches!(e, p)` → `match e { p => true, _ => false }`.
    pub(super) fn check_matches(&mut self, e: &'a ast::Expr, pat: &'a ast::Pattern, span: Span) -> hir::Expr {
        let scrutinee = self.check_expr(e);
        self.scopes.push(Vec::new());
        let pat = self.check_pattern_top(pat, &scrutinee.ty);
        self.scopes.pop();
        let lit = |b| hir::Expr::new(H::Lit(Lit::Bool(b)), Ty::Bool, span);
        let wild = Pat { kind: PatKind::Wild, ty: scrutinee.ty.clone(), span };
        let arms =
            vec![MatchArm { pat, guard: None, body: lit(true) }, MatchArm { pat: wild, guard: None, body: lit(false) }];
        self.defer_match(&scrutinee, &arms, span, true);
        hir::Expr::new(H::Match { scrutinee: Box::new(scrutinee), arms }, Ty::Bool, span)
    }

    fn defer_match(&mut self, scrutinee: &hir::Expr, arms: &[MatchArm], span: Span, has_fallback: bool) {
        let arms = arms.iter().map(|a| (a.pat.clone(), a.guard.is_some())).collect();
        self.deferred.push(Deferred::Match { span, ty: scrutinee.ty.clone(), arms, has_fallback });
    }

    /// Checks a pattern that starts a new set of bindings (an arm, `if let`, `let`).
    pub(super) fn check_pattern_top(&mut self, pat: &'a ast::Pattern, expected: &Ty) -> Pat {
        let mut bindings = Bindings { bound: HashMap::new(), expected: None };
        self.check_pattern(pat, expected, &mut bindings)
    }

    fn check_pattern(&mut self, pat: &'a ast::Pattern, expected: &Ty, bindings: &mut Bindings) -> Pat {
        let span = pat.span;
        let mk = |kind| Pat { kind, ty: expected.clone(), span };
        match &pat.kind {
            P::Wild | P::Error => mk(PatKind::Wild),
            // A lone upper-case name is a constant pattern, never a binding (LANGUAGE.md §4.7).
            P::Ident { mutable: false, by_ref: false, name, sub: None }
                if name.name.starts_with(|c: char| c.is_ascii_uppercase()) =>
            {
                self.const_pattern(name, expected, span)
            }
            P::Ident { mutable, name, sub, by_ref } => {
                let sub = sub.as_ref().map(|s| Box::new(self.check_pattern(s, expected, bindings)));
                let (local_ty, local_mut) = if *by_ref {
                    (Ty::reference(expected.clone(), *mutable), false)
                } else {
                    (expected.clone(), *mutable)
                };
                if bindings.bound.contains_key(&name.name) {
                    self.error(Diagnostic::error(
                        format!("identifier `{}` is bound more than once in the same pattern", name.name),
                        name.span,
                    ));
                    return mk(PatKind::Wild);
                }
                let local = match bindings.expected.as_ref().and_then(|e| e.get(&name.name)) {
                    Some(&local) => {
                        let ty = self.locals[local.0 as usize].ty.clone();
                        self.coerce(&local_ty, &ty, span);
                        local
                    }
                    None => self.declare_local(&name.name, local_ty, local_mut),
                };
                bindings.bound.insert(name.name.clone(), local);
                mk(PatKind::Binding { local, sub, by_ref: *by_ref })
            }
            P::Lit(e) => match self.pattern_literal(e, expected) {
                Some(lit) => mk(PatKind::Lit(lit)),
                None => mk(PatKind::Wild),
            },
            P::Range { lo, hi, inclusive } => {
                let (Some(l), Some(h)) = (self.pattern_literal(lo, expected), self.pattern_literal(hi, expected))
                else {
                    return mk(PatKind::Wild);
                };
                self.deferred.push(Deferred::Operand {
                    span,
                    ty: expected.clone(),
                    class: OperandClass::Ordered,
                    op: "range pattern",
                });
                self.deferred.push(Deferred::RangePattern {
                    span,
                    ty: expected.clone(),
                    lo: l.clone(),
                    hi: h.clone(),
                    inclusive: *inclusive,
                });
                mk(PatKind::Range { lo: l, hi: h, inclusive: *inclusive })
            }
            P::Or(alts) => {
                let mut checked = Vec::new();
                let mut first: Option<HashMap<String, LocalId>> = None;
                for alt in alts {
                    let mut alt_bindings = Bindings { bound: bindings.bound.clone(), expected: first.clone() };
                    let p = self.check_pattern(alt, expected, &mut alt_bindings);
                    match &first {
                        None => first = Some(alt_bindings.bound.clone()),
                        Some(names) => {
                            let missing: Vec<&String> =
                                names.keys().filter(|n| !alt_bindings.bound.contains_key(*n)).collect();
                            let extra: Vec<&String> =
                                alt_bindings.bound.keys().filter(|n| !names.contains_key(*n)).collect();
                            if let Some(m) = missing.first().or(extra.first()) {
                                self.error(Diagnostic::error(
                                    format!("or-pattern alternatives bind different variables; missing: {m}"),
                                    alt.span,
                                ));
                            }
                        }
                    }
                    checked.push(p);
                }
                if let Some(names) = first {
                    bindings.bound.extend(names);
                }
                mk(PatKind::Or(checked))
            }
            P::Path(path) if path.segments.len() == 1 => self.const_pattern(&path.segments[0].ident, expected, span),
            P::Path(path) => {
                let Some((def, used)) = self.resolve_item_path(path) else { return mk(PatKind::Wild) };
                if let crate::resolve::Def::Adt(id) = def {
                    return self.adt_pattern(id, &path.segments[used..], expected, AdtPatArgs::Unit, bindings, span);
                }
                if let crate::resolve::Def::Variant(a, v) = def {
                    return self.variant_pattern(a, v, expected, AdtPatArgs::Unit, bindings, span);
                }
                let value = match def {
                    crate::resolve::Def::Enum(id) => {
                        self.enum_variant(id, &path.segments[used..], span).and_then(|e| match e.kind {
                            H::Lit(lit) => Some((e.ty, lit)),
                            _ => None,
                        })
                    }
                    crate::resolve::Def::Const(id) if used == path.segments.len() => self.gcx.resolve_const(id, span),
                    _ => {
                        self.error(Diagnostic::error("expected a constant or an enum variant in this pattern", span));
                        None
                    }
                };
                self.value_pattern(value, expected, span)
            }
            P::Tuple(elems) => {
                let resolved = self.resolve(expected);
                let n = match &resolved {
                    Ty::Tuple(ts) => ts.len(),
                    _ if elems.iter().any(|e| matches!(e.kind, P::Rest)) => {
                        if resolved != Ty::Error {
                            self.pattern_mismatch(expected, "a tuple", span);
                        }
                        return mk(PatKind::Wild);
                    }
                    _ => elems.len(),
                };
                let fresh: Vec<Ty> = (0..n).map(|_| self.infer.fresh(crate::types::InferKind::General)).collect();
                if !self.infer.unify(&Ty::tuple(fresh.clone()), expected) {
                    self.pattern_mismatch(expected, "a tuple", span);
                    return mk(PatKind::Wild);
                }
                let Some(pats) = self.sequence_with_rest(elems, &fresh, bindings, span) else {
                    return mk(PatKind::Wild);
                };
                if n == 0 {
                    return mk(PatKind::Wild);
                }
                mk(PatKind::Tuple(pats.into_iter().map(|(_, p)| p).collect()))
            }
            P::TupleStruct { path, elems } => {
                let Some((def, used)) = self.resolve_item_path(path) else { return mk(PatKind::Wild) };
                match def {
                    crate::resolve::Def::Adt(id) => {
                        self.adt_pattern(id, &path.segments[used..], expected, AdtPatArgs::Tuple(elems), bindings, span)
                    }
                    crate::resolve::Def::Variant(a, v) if used == path.segments.len() => {
                        self.variant_pattern(a, v, expected, AdtPatArgs::Tuple(elems), bindings, span)
                    }
                    _ => {
                        self.error(Diagnostic::error("expected a tuple struct or tuple variant in this pattern", span));
                        mk(PatKind::Wild)
                    }
                }
            }
            P::Struct { path, fields, .. } => {
                let Some((def, used)) = self.resolve_item_path(path) else { return mk(PatKind::Wild) };
                match def {
                    crate::resolve::Def::Adt(id) => self.adt_pattern(
                        id,
                        &path.segments[used..],
                        expected,
                        AdtPatArgs::Named(fields),
                        bindings,
                        span,
                    ),
                    _ => {
                        self.error(Diagnostic::error("expected a struct or struct variant in this pattern", span));
                        mk(PatKind::Wild)
                    }
                }
            }
            P::Slice(elems) => self.slice_pattern(elems, expected, bindings, span),
            P::Ref { mutable, inner } => {
                let resolved = self.resolve(expected);
                let inner_ty = match &resolved {
                    Ty::Ref(t, m) if *m || !*mutable => (**t).clone(),
                    Ty::Infer(_) => {
                        let t = self.infer.fresh(crate::types::InferKind::General);
                        if !self.infer.unify(&Ty::reference(t.clone(), *mutable), expected) {
                            self.pattern_mismatch(expected, "a reference", span);
                            return mk(PatKind::Wild);
                        }
                        t
                    }
                    Ty::Error => return mk(PatKind::Wild),
                    _ => {
                        self.pattern_mismatch(expected, "a reference", span);
                        return mk(PatKind::Wild);
                    }
                };
                let p = self.check_pattern(inner, &inner_ty, bindings);
                mk(PatKind::Deref(Box::new(p)))
            }
            P::Rest => {
                self.error(Diagnostic::error("`..` can only be used in tuple, tuple-struct and slice patterns", span));
                mk(PatKind::Wild)
            }
        }
    }

    fn pattern_mismatch(&mut self, expected: &Ty, what: &str, span: Span) {
        let shown = self.display_ty(expected);
        self.error(
            Diagnostic::error("type mismatch", span)
                .with_code("E0201")
                .with_label(format!("expected `{shown}`, found {what} pattern")),
        );
    }

    /// Checks the elements of a tuple-like pattern with at most one `..` against `tys`; returns
    /// (field index, pattern) for the written elements.
    fn sequence_with_rest(
        &mut self,
        elems: &'a [ast::Pattern],
        tys: &[Ty],
        bindings: &mut Bindings,
        span: Span,
    ) -> Option<Vec<(u32, Pat)>> {
        let rest = elems.iter().position(|e| matches!(e.kind, P::Rest));
        if elems.iter().filter(|e| matches!(e.kind, P::Rest)).count() > 1 {
            self.error(Diagnostic::error("`..` can only be used once per pattern", span));
            return None;
        }
        let written = elems.len() - usize::from(rest.is_some());
        if (rest.is_none() && written != tys.len()) || written > tys.len() {
            self.error(
                Diagnostic::error("type mismatch", span)
                    .with_code("E0201")
                    .with_note(format!("this pattern has {written} field(s), but the type has {}", tys.len())),
            );
            return None;
        }
        let mut out = Vec::new();
        for (i, e) in elems.iter().enumerate() {
            let index = match rest {
                Some(r) if i == r => continue,
                Some(r) if i > r => tys.len() - (elems.len() - i),
                _ => i,
            };
            let p = self.check_pattern(e, &tys[index], bindings);
            out.push((index as u32, p));
        }
        if rest.is_some() {
            // Elements skipped by `..` match anything.
            for (index, ty) in tys.iter().enumerate() {
                if !out.iter().any(|(i, _)| *i as usize == index) {
                    out.push((index as u32, Pat { kind: PatKind::Wild, ty: ty.clone(), span }));
                }
            }
            out.sort_by_key(|(i, _)| *i);
        }
        Some(out)
    }

    /// A struct, tuple-struct or variant pattern over ADT `id` (`rest` are the path segments
    /// after the type name).
    fn adt_pattern(
        &mut self,
        id: u32,
        rest: &[ast::PathSegment],
        expected: &Ty,
        args: AdtPatArgs<'a>,
        bindings: &mut Bindings,
        span: Span,
    ) -> Pat {
        let wild = Pat { kind: PatKind::Wild, ty: expected.clone(), span };
        let Some((ty, variant)) = self.adt_member(id, rest, span) else { return wild };
        self.adt_pattern_of(ty, variant, expected, args, bindings, span)
    }

    /// A pattern of a variant named without its enum (`Some(x)`, `None`).
    fn variant_pattern(
        &mut self,
        adt: u32,
        variant: u32,
        expected: &Ty,
        args: AdtPatArgs<'a>,
        bindings: &mut Bindings,
        span: Span,
    ) -> Pat {
        let ty = self.adt_instance(adt);
        self.adt_pattern_of(ty, variant, expected, args, bindings, span)
    }

    fn adt_pattern_of(
        &mut self,
        ty: Ty,
        variant: u32,
        expected: &Ty,
        args: AdtPatArgs<'a>,
        bindings: &mut Bindings,
        span: Span,
    ) -> Pat {
        let wild = Pat { kind: PatKind::Wild, ty: expected.clone(), span };
        if !self.infer.unify(&ty, expected) {
            let shown = ty.to_string();
            self.pattern_mismatch(expected, &format!("a `{shown}`"), span);
            return wild;
        }
        let Ty::Adt(a, targs) = &ty else { return wild };
        let vdef = self.gcx.adts.def(a).variants[variant as usize].clone();
        let field_tys = self.gcx.adts.field_tys(a, targs, variant as usize);
        let fields = match args {
            AdtPatArgs::Unit => {
                if vdef.ctor != crate::types::CtorKind::Unit {
                    self.error(
                        Diagnostic::error("type mismatch", span)
                            .with_code("E0201")
                            .with_note(format!("`{}` has fields: match them with `(..)` or `{{ .. }}`", vdef.name)),
                    );
                    return wild;
                }
                Vec::new()
            }
            AdtPatArgs::Tuple(elems) => {
                if vdef.ctor != crate::types::CtorKind::Tuple {
                    self.error(
                        Diagnostic::error("type mismatch", span)
                            .with_code("E0201")
                            .with_note(format!("`{}` is not a tuple struct or tuple variant", vdef.name)),
                    );
                    return wild;
                }
                match self.sequence_with_rest(elems, &field_tys, bindings, span) {
                    Some(f) => f,
                    None => return wild,
                }
            }
            AdtPatArgs::Named(fields) => {
                let mut out = Vec::new();
                for f in fields {
                    let Some(i) = vdef.fields.iter().position(|d| d.name == f.name.name) else {
                        self.error(
                            Diagnostic::error("field does not exist", f.name.span)
                                .with_code("E0213")
                                .with_note(format!("`{}` has no field `{}`", vdef.name, f.name.name)),
                        );
                        continue;
                    };
                    let p = match &f.pat {
                        Some(p) => self.check_pattern(p, &field_tys[i], bindings),
                        None => {
                            let shorthand = ast::Pattern {
                                kind: P::Ident { by_ref: false, mutable: false, name: f.name.clone(), sub: None },
                                span: f.span,
                            };
                            // Shorthand `{ x }` binds `x` even though it may look like a constant.
                            self.bind_shorthand(&shorthand, &field_tys[i], bindings)
                        }
                    };
                    out.push((i as u32, p));
                }
                out
            }
        };
        Pat { kind: PatKind::Adt { variant, fields }, ty: expected.clone(), span }
    }

    fn bind_shorthand(&mut self, pat: &ast::Pattern, ty: &Ty, bindings: &mut Bindings) -> Pat {
        let P::Ident { name, .. } = &pat.kind else { unreachable!("shorthand patterns are identifiers") };
        if bindings.bound.contains_key(&name.name) {
            self.error(Diagnostic::error(
                format!("identifier `{}` is bound more than once in the same pattern", name.name),
                name.span,
            ));
            return Pat { kind: PatKind::Wild, ty: ty.clone(), span: pat.span };
        }
        let local = match bindings.expected.as_ref().and_then(|e| e.get(&name.name)) {
            Some(&l) => l,
            None => self.declare_local(&name.name, ty.clone(), false),
        };
        bindings.bound.insert(name.name.clone(), local);
        Pat { kind: PatKind::Binding { local, sub: None, by_ref: false }, ty: ty.clone(), span: pat.span }
    }

    /// `[a, b, .., z]` over `[T; N]` or `[T]`.
    fn slice_pattern(&mut self, elems: &'a [ast::Pattern], expected: &Ty, bindings: &mut Bindings, span: Span) -> Pat {
        let wild = Pat { kind: PatKind::Wild, ty: expected.clone(), span };
        let (elem, len) = match self.resolve(expected) {
            Ty::Array(t, n) => ((*t).clone(), Some(n)),
            Ty::Slice(t) => ((*t).clone(), None),
            Ty::Error => return wild,
            _ => {
                self.pattern_mismatch(expected, "a slice", span);
                return wild;
            }
        };
        let rest = elems.iter().position(|e| matches!(e.kind, P::Rest));
        let written = elems.len() - usize::from(rest.is_some());
        if let Some(n) = len
            && ((rest.is_none() && written as u64 != n) || written as u64 > n)
        {
            self.error(
                Diagnostic::error("type mismatch", span)
                    .with_code("E0201")
                    .with_note(format!("this pattern has {written} element(s), but the array has {n}")),
            );
            return wild;
        }
        let split = rest.unwrap_or(elems.len());
        let prefix: Vec<Pat> =
            elems[..split].iter().map(|e| self.check_pattern(e, &elem, bindings)).collect::<Vec<_>>();
        let suffix: Vec<Pat> = if rest.is_some() {
            elems[split + 1..].iter().map(|e| self.check_pattern(e, &elem, bindings)).collect()
        } else {
            Vec::new()
        };
        Pat { kind: PatKind::Slice { prefix, rest: rest.is_some(), suffix }, ty: expected.clone(), span }
    }

    /// A literal (or negated literal) in a pattern, checked against the matched type.
    fn pattern_literal(&mut self, e: &'a ast::Expr, expected: &Ty) -> Option<Lit> {
        let (lit, negative) = match &e.kind {
            A::Path(path) if path.segments.len() == 1 => {
                let Some(id) = self.lookup_const(&path.segments[0].ident.name) else {
                    return self.bad_pattern_expr(e.span);
                };
                let (ty, lit) = self.gcx.resolve_const(id, e.span)?;
                self.coerce(&ty, expected, e.span);
                return Some(lit);
            }
            A::Lit(lit) => (lit, false),
            A::Unary(ast::UnOp::Neg, inner) => match &inner.kind {
                A::Lit(lit @ ast::Lit::Int { .. }) => (lit, true),
                _ => return self.bad_pattern_expr(e.span),
            },
            _ => return self.bad_pattern_expr(e.span),
        };
        match lit {
            ast::Lit::Float { .. } => {
                self.error(Diagnostic::error("floating-point literals cannot be used in patterns", e.span));
                None
            }
            ast::Lit::Str(_) | ast::Lit::ByteStr(_) => {
                self.error(unsupported(e.span, "string literal patterns (language level L1)"));
                None
            }
            _ => {
                let h = self.check_lit(lit, negative, e.span);
                if negative {
                    self.deferred.push(Deferred::Operand {
                        span: e.span,
                        ty: h.ty.clone(),
                        class: OperandClass::Neg,
                        op: "-",
                    });
                }
                self.coerce(&h.ty, expected, e.span);
                match h.kind {
                    H::Lit(l) => Some(l),
                    _ => None,
                }
            }
        }
    }

    /// A constant used as a pattern: its value becomes a literal pattern. A unit struct is a
    /// constructor pattern.
    fn const_pattern(&mut self, name: &ast::Ident, expected: &Ty, span: Span) -> Pat {
        let mk = |kind| Pat { kind, ty: expected.clone(), span };
        if let Some(crate::resolve::Def::Adt(id)) = self.gcx.scopes.lookup(&self.item_scopes, &name.name, true) {
            let mut none = Bindings { bound: HashMap::new(), expected: None };
            return self.adt_pattern(id, &[], expected, AdtPatArgs::Unit, &mut none, span);
        }
        if let Some(crate::resolve::Def::Variant(a, v)) = self.gcx.scopes.lookup(&self.item_scopes, &name.name, false) {
            let mut none = Bindings { bound: HashMap::new(), expected: None };
            return self.variant_pattern(a, v, expected, AdtPatArgs::Unit, &mut none, span);
        }
        let Some(id) = self.lookup_const(&name.name) else {
            self.error(unsupported(
                span,
                &format!("the constant pattern `{}` (enums and unit structs are language level L1)", name.name),
            ));
            return mk(PatKind::Wild);
        };
        let value = self.gcx.resolve_const(id, span);
        self.value_pattern(value, expected, span)
    }

    /// A constant value (a `const` or an enum variant) used as a pattern.
    fn value_pattern(&mut self, value: Option<(Ty, Lit)>, expected: &Ty, span: Span) -> Pat {
        let mk = |kind| Pat { kind, ty: expected.clone(), span };
        match value {
            Some((ty, lit @ (Lit::Int { .. } | Lit::Bool(_) | Lit::Char(_)))) => {
                self.coerce(&ty, expected, span);
                mk(PatKind::Lit(lit))
            }
            Some(_) => {
                self.error(Diagnostic::error(
                    "only integer, `bool` and `char` constants can be used in patterns",
                    span,
                ));
                mk(PatKind::Wild)
            }
            None => mk(PatKind::Wild),
        }
    }

    fn bad_pattern_expr(&mut self, span: Span) -> Option<Lit> {
        self.error(Diagnostic::error("expected a literal in this pattern", span));
        None
    }
}
