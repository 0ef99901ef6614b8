//! Patterns: checking them against the matched type, and `match` / `if let` / `while let`.
//!
//! Patterns currently range over scalar values (integers, `char`, `bool`, `()`): literals,
//! ranges, bindings (`x`, `x @ p`), `_` and or-patterns. Structural patterns (tuples, structs,
//! enum payloads, slices, references) arrive with those types and report "unsupported feature"
//! until then. Exhaustiveness and reachability are decided in `exhaustive.rs` once the scrutinee
//! type is final.

use std::collections::HashMap;

use crate::diagnostics::Diagnostic;
use crate::hir::{self, ExprKind as H, Lit, LocalId, MatchArm, Pat, PatKind};
use crate::source::Span;
use crate::syntax::ast::{self, ExprKind as A, PatternKind as P};
use crate::types::Ty;

use super::finish::{Deferred, OperandClass};
use super::{FnCx, unsupported};

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
            P::Ident { by_ref: true, .. } => {
                self.error(unsupported(span, "`ref` bindings (references are language level L1)"));
                mk(PatKind::Wild)
            }
            // A lone upper-case name is a constant pattern, never a binding (LANGUAGE.md §4.7).
            P::Ident { mutable: false, name, sub: None, .. }
                if name.name.starts_with(|c: char| c.is_ascii_uppercase()) =>
            {
                self.const_pattern(name, expected, span)
            }
            P::Ident { mutable, name, sub, .. } => {
                let sub = sub.as_ref().map(|s| Box::new(self.check_pattern(s, expected, bindings)));
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
                        self.coerce(expected, &ty, span);
                        local
                    }
                    None => self.declare_local(&name.name, expected.clone(), *mutable),
                };
                bindings.bound.insert(name.name.clone(), local);
                mk(PatKind::Binding { local, sub })
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
            P::Tuple(_) | P::TupleStruct { .. } | P::Struct { .. } | P::Slice(_) | P::Ref { .. } | P::Rest => {
                self.error(unsupported(
                    span,
                    "structural patterns (tuples, structs, enums, slices, references: language level L1)",
                ));
                mk(PatKind::Wild)
            }
        }
    }

    /// A literal (or negated literal) in a pattern, checked against the matched type.
    fn pattern_literal(&mut self, e: &'a ast::Expr, expected: &Ty) -> Option<Lit> {
        let (lit, negative) = match &e.kind {
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

    /// A constant used as a pattern: its value becomes a literal pattern.
    fn const_pattern(&mut self, name: &ast::Ident, expected: &Ty, span: Span) -> Pat {
        let mk = |kind| Pat { kind, ty: expected.clone(), span };
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
