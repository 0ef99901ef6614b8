//! Closures, named functions as values, and calls through `fn` values (LANGUAGE.md §5.3).
//!
//! A closure is checked inline, as part of the enclosing function body, because its parameter
//! and return types are inferred by the same unification as the rest of the body ("from the
//! expected `fn` type or from use"). Its parameters and locals are therefore locals of the
//! enclosing function; what makes the closure a separate function is decided afterwards:
//! * *captures* are the locals the body mentions that were declared before the closure started
//!   (local ids are allocated in order, so "declared outside" is `id < first local of the
//!   closure`), plus whatever nested closures capture from outside this one;
//! * captured variables are read-only inside (they are copies made at creation), which
//!   `require_mutable_place` enforces through [`ClosureState::base`];
//! * `return` targets the closure (the enclosing `ret` is swapped out) and loops of the enclosing
//!   function are invisible (the loop stack is swapped out).
//!
//! The IR builder lifts each closure into its own function (`ir/build/closures.rs`).
//!
//! A call `f(args)` where `f` is not an item is a call through a value: any expression of type
//! `fn(..) -> R` (a local, a parameter, `(s.f)`, `make()(1)`, `fs[i]`). A variable of a still
//! unknown type that is called becomes a `fn` type of that many parameters.

use crate::diagnostics::Diagnostic;
use crate::hir::{self, ExprKind as H, LocalId};
use crate::source::Span;
use crate::syntax::ast::{self, ExprKind as A};
use crate::types::{Effects, InferKind, Ty};

use super::FnCx;
use super::finish::Deferred;

/// Closure-related state of one function body.
#[derive(Default)]
pub(crate) struct ClosureState {
    /// The first local id of the innermost closure being checked: locals below it are captured.
    pub base: Option<u32>,
    /// Closures created so far (for their names).
    pub count: u32,
    /// The next closure checked is called at most once (the task of `perform Fiber.spawn`).
    pub next_once: bool,
}

impl<'a> FnCx<'_, 'a> {
    /// `|params| body` with the type the context expects, if any.
    pub(super) fn check_closure(&mut self, c: &'a ast::Closure, expected: Option<&Ty>, span: Span) -> hir::Expr {
        let once = std::mem::take(&mut self.closures.next_once);
        let scopes = self.item_scopes.clone();
        let annotated = c.effects.as_ref().map(|row| self.gcx.lower_row(row, &scopes));
        let expected = expected.map(|t| self.resolve(t));
        let expected_fn = match &expected {
            Some(Ty::Fn(ps, r, _)) if ps.len() == c.params.len() => Some((ps.clone(), (**r).clone())),
            _ => None,
        };
        let first = self.locals.len() as u32;
        let saved_loops = std::mem::take(&mut self.loops);
        let saved_base = self.closures.base.replace(first);
        self.scopes.push(Vec::new());
        let mut params = Vec::new();
        let mut param_tys = Vec::new();
        let mut destructure = Vec::new();
        for (i, p) in c.params.iter().enumerate() {
            let from_context = expected_fn.as_ref().map(|(ps, _)| ps[i].clone());
            let ty = match (&p.ty, from_context) {
                (Some(t), ctx) => {
                    let ty = self.gcx.lower_type(t, &scopes);
                    if let Some(ctx) = ctx {
                        self.coerce(&ctx, &ty, t.span);
                    }
                    ty
                }
                (None, Some(ctx)) => ctx,
                (None, None) => self.infer.fresh(InferKind::General),
            };
            let local = match &p.pat.kind {
                ast::PatternKind::Ident { by_ref: false, mutable, name, sub: None }
                    if !name.name.starts_with(|ch: char| ch.is_ascii_uppercase()) =>
                {
                    self.declare_local(&name.name, ty.clone(), *mutable)
                }
                ast::PatternKind::Wild => self.declare_local("_", ty.clone(), false),
                _ => {
                    let l = self.declare_local(&format!("param${i}"), ty.clone(), false);
                    let pat = self.check_pattern_top(&p.pat, &ty);
                    let arms = vec![(pat.clone(), false)];
                    self.deferred.push(Deferred::Irrefutable { span: p.pat.span, ty: ty.clone(), arms });
                    let init = hir::Expr::new(H::Local(l), ty.clone(), p.pat.span);
                    destructure.push(hir::Stmt::LetPat { pat, init });
                    l
                }
            };
            params.push(local);
            param_tys.push(ty);
        }
        let ret = match (&c.ret, &expected_fn) {
            (Some(t), ctx) => {
                let ty = self.gcx.lower_type(t, &scopes);
                if let Some((_, r)) = ctx {
                    self.coerce(r, &ty, t.span);
                }
                ty
            }
            (None, Some((_, r))) => r.clone(),
            (None, None) => self.infer.fresh(InferKind::General),
        };
        let saved_ret = std::mem::replace(&mut self.ret, ret.clone());
        let (body, used) = self.with_effect_frame(annotated, |cx| cx.check_expr_expect(&c.body, &ret));
        let row = annotated.unwrap_or(used);
        self.check_returned_ref(&body);
        self.ret = saved_ret;
        self.scopes.pop();
        self.closures.base = saved_base;
        self.loops = saved_loops;
        let body = if destructure.is_empty() {
            body
        } else {
            let (ty, body_span) = (body.ty.clone(), body.span);
            hir::Expr::new(H::Block { stmts: destructure, tail: Some(Box::new(body)) }, ty, body_span)
        };
        let mut body = body;
        let mut captures = Vec::new();
        collect_captures(&mut body, first, &mut captures);
        let name = format!("{}.{{closure#{}}}", self.fn_name, self.closures.count);
        self.closures.count += 1;
        let closure = hir::Closure {
            params,
            captures,
            locals: first..self.locals.len() as u32,
            ret: ret.clone(),
            body,
            name,
            once,
        };
        let ty = Ty::Fn(param_tys.into(), ret.into(), row);
        hir::Expr::new(H::Closure(Box::new(closure)), ty, span)
    }

    /// A builtin used as a value (`apply(sqrt, 2.0)`): a closure without captures that calls it.
    pub(super) fn builtin_fn_value(&mut self, name: &str, span: Span) -> hir::Expr {
        let Some(b) = super::builtins::lookup(name) else {
            return self.unsupported_expr(span, &format!("`{name}` as a value"));
        };
        if b.params.iter().chain(std::iter::once(&b.ret)).any(Ty::has_params) {
            return self.unsupported_expr(span, &format!("the generic builtin `{name}` as a value"));
        }
        let first = self.locals.len() as u32;
        let saved_base = self.closures.base.replace(first);
        let params: Vec<LocalId> = b
            .params
            .iter()
            .enumerate()
            .map(|(i, t)| self.declare_local(&format!("{name}$arg{i}"), t.clone(), false))
            .collect();
        self.closures.base = saved_base;
        let args = params.iter().zip(&b.params).map(|(l, t)| hir::Expr::new(H::Local(*l), t.clone(), span)).collect();
        let (param_tys, ret) = (b.params.clone(), b.ret.clone());
        let body = super::builtins::builtin_call_expr(self, b, args, span);
        let closure_name = format!("{}.{{{name}}}", self.fn_name);
        self.closures.count += 1;
        let closure = hir::Closure {
            params,
            captures: Vec::new(),
            locals: first..self.locals.len() as u32,
            ret: ret.clone(),
            body,
            name: closure_name,
            once: false,
        };
        hir::Expr::new(H::Closure(Box::new(closure)), Ty::Fn(param_tys.into(), ret.into(), Effects::PURE), span)
    }

    /// A named function used as a value: `double`, `id::<i32>`, `Point.norm`.
    pub(super) fn fn_value(&mut self, func: hir::FnId, explicit: Option<&[ast::Type]>, span: Span) -> hir::Expr {
        let (sig, type_args) = self.instantiate_sig(func, explicit, span);
        let params: Vec<Ty> = sig.params.iter().map(|(_, t, _)| t.clone()).collect();
        let row = super::effects::effective_row(&sig);
        let ty = Ty::Fn(params.into(), sig.ret.into(), row);
        hir::Expr::new(H::FnRef { func, type_args }, ty, span)
    }

    /// If `callee` is a value rather than an item (a local, or any expression that is not a
    /// path), checks it and returns it; `None` leaves the callee to item resolution (functions,
    /// builtins, constructors, and the method-call forms `x.m(..)` and `E.V.m(..)` that parse
    /// as calls of paths).
    pub(super) fn callee_value(&mut self, callee: &'a ast::Expr) -> Option<hir::Expr> {
        let A::Path(path) = &callee.kind else { return Some(self.check_expr(callee)) };
        self.lookup_local(&path.segments[0].ident.name)?;
        // `(s.f)(x)`: the parentheses widen the expression's span beyond the path's.
        let parenthesized = callee.span.lo < path.span.lo;
        (path.segments.len() == 1 || parenthesized).then(|| self.check_path_expr(path, callee.span))
    }

    /// `callee(args)` for a callee value; `piped` is the left side of `|>`.
    pub(super) fn check_indirect_call(
        &mut self,
        callee: hir::Expr,
        args: &'a [ast::Arg],
        piped: Option<hir::Expr>,
        span: Span,
    ) -> hir::Expr {
        let n = args.len() + usize::from(piped.is_some());
        let (params, ret) = match self.resolve(&callee.ty) {
            Ty::Fn(ps, r, row) => {
                self.note_call_row(row, span);
                (ps.to_vec(), (*r).clone())
            }
            Ty::Infer(v) if v.kind == InferKind::General => {
                let ps: Vec<Ty> = (0..n).map(|_| self.infer.fresh(InferKind::General)).collect();
                let r = self.infer.fresh(InferKind::General);
                self.infer.unify(&callee.ty, &Ty::Fn(ps.clone().into(), r.clone().into(), Default::default()));
                (ps, r)
            }
            other => {
                for a in args {
                    self.check_expr(&a.value);
                }
                if other != Ty::Error {
                    let mut d = Diagnostic::error("expression is not callable", callee.span);
                    if let H::Local(l) = callee.kind {
                        d = d.with_note(format!("`{}` is a local variable", self.locals[l.0 as usize].name));
                    } else {
                        let shown = self.display_ty(&other);
                        d = d.with_note(format!("its type is `{shown}`, not a function type"));
                    }
                    self.error(d);
                }
                return Self::error_expr(span);
            }
        };
        let named: Vec<(String, Ty)> = params.iter().enumerate().map(|(i, t)| (format!("arg{i}"), t.clone())).collect();
        let Some(bound) = self.bind_args(&named, args, piped, span) else { return Self::error_expr(span) };
        let mut ordered: Vec<Option<hir::Expr>> = (0..params.len()).map(|_| None).collect();
        for (i, e) in bound {
            ordered[i] = Some(e);
        }
        let args = ordered.into_iter().map(|e| e.expect("every parameter bound")).collect();
        hir::Expr::new(H::CallIndirect { callee: Box::new(callee), args }, ret, span)
    }

    /// After inference: a closure whose parameter or result types are still unknown gets one
    /// "cannot infer type" at the closure (instead of one per local at the function).
    pub(super) fn check_closure_inferred(&mut self, c: &hir::Closure, span: Span) {
        if self.reported_infer {
            return;
        }
        let tys = c.params.iter().map(|p| self.locals[p.0 as usize].ty.clone()).chain([c.ret.clone()]);
        let unknown = tys.collect::<Vec<_>>().iter().any(|t| {
            let t = self.infer.resolve_deep(t);
            super::infer::InferTable::has_infer(&t)
        });
        if unknown {
            self.reported_infer = true;
            self.error(
                Diagnostic::error("cannot infer type", span)
                    .with_code("E0202")
                    .with_note("the closure's parameter or result types are not fixed by its uses; annotate them"),
            );
        }
    }

    /// "cannot assign to captured variable `x`" when `local` is captured by the closure being
    /// checked; returns whether it reported.
    pub(super) fn check_captured_write(&mut self, local: LocalId, span: Span, what: &str) -> bool {
        match self.closures.base {
            Some(base) if local.0 < base => {
                let name = self.locals[local.0 as usize].name.clone();
                let msg = if what == "assign" {
                    format!("cannot assign to captured variable `{name}`")
                } else {
                    format!("cannot {what} captured variable `{name}`")
                };
                self.error(
                    Diagnostic::error(msg, span)
                        .with_note("closures capture variables by value, at creation; the copy is read-only"),
                );
                true
            }
            _ => false,
        }
    }
}

/// The locals below `first` that `e` mentions (directly or through nested closures), in order of
/// first mention.
fn collect_captures(e: &mut hir::Expr, first: u32, out: &mut Vec<LocalId>) {
    let add = |l: LocalId, out: &mut Vec<LocalId>| {
        if l.0 < first && !out.contains(&l) {
            out.push(l);
        }
    };
    match &e.kind {
        H::Local(l) => add(*l, out),
        H::Closure(c) => {
            for l in &c.captures {
                add(*l, out);
            }
            return;
        }
        _ => {}
    }
    hir::for_each_child_mut(e, &mut |c| collect_captures(c, first, out));
}
