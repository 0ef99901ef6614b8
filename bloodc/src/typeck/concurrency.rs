//! `with Nursery {} handle { … }` and `select!` (LANGUAGE.md §7.2).
//!
//! Both are checked here and leave the type checker as ordinary HIR plus one node:
//! * a nursery becomes [`hir::ExprKind::Nursery`], whose lowering opens the runtime nursery,
//!   joins it at the end and cancels it when `return` leaves the body;
//! * `select!` becomes calls of the prelude's helpers (`blood-std/lib/concurrency.blood`):
//!   the receivers are evaluated once, in order, into locals; `__select_wait` waits on their
//!   channels (with the `default`/`timeout` mode) and returns the ready arm's index; each arm
//!   binds its `Option<T>` with `__select_take` and runs its body. The arms form an `if` chain
//!   over the index, so the bodies are checked like `if` branches (one result type).

use crate::diagnostics::Diagnostic;
use crate::hir::{self, BinOp, ExprKind as H, Lit};
use crate::resolve::Def;
use crate::source::Span;
use crate::syntax::ast;
use crate::types::{Effects, InferKind, IntTy, Ty};

use super::FnCx;

/// How `select!` waits when no arm is ready (the `mode` argument of `__select_wait`).
const SELECT_BLOCK: i128 = 0;
const SELECT_DEFAULT: i128 = 1;
const SELECT_TIMEOUT: i128 = 2;

fn int_lit(value: i128, ty: IntTy, span: Span) -> hir::Expr {
    let lit = Lit::Int { negative: value < 0, magnitude: value.unsigned_abs() };
    hir::Expr::new(H::Lit(lit), Ty::Int(ty), span)
}

impl<'a> FnCx<'_, 'a> {
    /// A call of the prelude function `name` with already-checked arguments (in order).
    fn call_prelude(&mut self, name: &str, args: Vec<hir::Expr>, span: Span) -> hir::Expr {
        let scopes = self.item_scopes.clone();
        let Some(Def::Fn(func)) = self.gcx.scopes.lookup(&scopes, name, false) else {
            self.error(Diagnostic::error(format!("internal: the prelude has no `{name}`"), span));
            return Self::error_expr(span);
        };
        let (sig, type_args) = self.instantiate_sig(func, None, span);
        self.note_call_row(super::effects::effective_row(&sig), span);
        let mut bound = Vec::new();
        for (i, (arg, (_, param, _))) in args.into_iter().zip(&sig.params).enumerate() {
            let arg_span = arg.span;
            self.coerce(&arg.ty, param, arg_span);
            bound.push((i, arg));
        }
        hir::Expr::new(H::Call { func, args: bound, type_args }, sig.ret, span)
    }

    fn new_temp(&mut self, name: &str, init: hir::Expr, stmts: &mut Vec<hir::Stmt>) -> hir::Expr {
        let (ty, span) = (init.ty.clone(), init.span);
        let l = self.declare_local(name, ty.clone(), true);
        stmts.push(hir::Stmt::Let { local: Some(l), init });
        hir::Expr::new(H::Local(l), ty, span)
    }

    /// `with Handler { … } handle { body }`: only the built-in `Nursery` handler exists.
    pub(super) fn check_with(
        &mut self,
        handler: &ast::Path,
        fields: &'a [ast::FieldInit],
        body: &'a ast::Block,
        span: Span,
    ) -> hir::Expr {
        let scopes = self.item_scopes.clone();
        let name = handler.segments.iter().map(|s| s.ident.name.as_str()).collect::<Vec<_>>().join(".");
        let shadowed = self.gcx.scopes.lookup(&scopes, &name, true).is_some()
            || self.gcx.scopes.lookup(&scopes, &name, false).is_some()
            || self.lookup_local(&name).is_some();
        if name != "Nursery" || shadowed {
            self.error(
                Diagnostic::error("not a handler", handler.span)
                    .with_note(format!("`{name}` is not a handler (the built-in handler is `Nursery`)")),
            );
            self.check_block(body);
            return Self::error_expr(span);
        }
        for f in fields {
            self.error(Diagnostic::error(format!("unknown field `{}` in handler `Nursery`", f.name.name), f.span));
        }
        // Joining the nursery's fibers blocks: a `Fiber` operation.
        self.note_call_row(Effects::FIBER, handler.span);
        // `break`/`continue` may not leave a `handle` block (LANGUAGE.md §6.4).
        let saved_loops = std::mem::take(&mut self.loops);
        let body = self.check_block(body);
        self.loops = saved_loops;
        let ty = body.ty.clone();
        hir::Expr::new(H::Nursery(Box::new(body)), ty, span)
    }

    /// `select! { … }`.
    pub(super) fn check_select(&mut self, arms: &'a [ast::SelectArm], span: Span) -> hir::Expr {
        let mut stmts = Vec::new();
        let mut fallback: Option<&'a ast::SelectArm> = None;
        let mut mode = SELECT_BLOCK;
        let mut timeout = int_lit(0, IntTy::U64, span);
        // Receivers first, in order, each evaluated once into a `&Receiver<T>` local.
        let mut receivers = Vec::new();
        for arm in arms {
            match &arm.kind {
                ast::SelectArmKind::Recv { binding, receiver } => {
                    let r = self.check_expr(receiver);
                    let r = match self.resolve(&r.ty) {
                        Ty::Ref(..) => r,
                        _ => {
                            let (ty, rspan) = (Ty::reference(r.ty.clone(), false), r.span);
                            hir::Expr::new(H::AddrOf { mutable: false, place: Box::new(r) }, ty, rspan)
                        }
                    };
                    let shown = self.display_ty(&r.ty);
                    let is_receiver = matches!(self.infer.resolve_bound(&r.ty), Ty::Ref(inner, _)
                        if matches!(self.infer.resolve_bound(&inner), Ty::Adt(a, _) if &*a.name == "Receiver"));
                    if !is_receiver {
                        if !shown.contains("error") {
                            self.error(
                                Diagnostic::error("type mismatch", receiver.span)
                                    .with_code("E0201")
                                    .with_label(format!("expected a `Receiver<T>`, found `{shown}`")),
                            );
                        }
                        return Self::error_expr(span);
                    }
                    let local = self.new_temp(&format!("select${}", receivers.len()), r, &mut stmts);
                    receivers.push((arm, binding, local));
                }
                ast::SelectArmKind::Default | ast::SelectArmKind::Timeout(_) if fallback.is_some() => {
                    self.error(Diagnostic::error("a `select!` has at most one `default` or `timeout` arm", arm.span));
                }
                ast::SelectArmKind::Default => {
                    fallback = Some(arm);
                    mode = SELECT_DEFAULT;
                }
                ast::SelectArmKind::Timeout(ms) => {
                    fallback = Some(arm);
                    mode = SELECT_TIMEOUT;
                    timeout = self.check_expr_expect(ms, &Ty::Int(IntTy::U64));
                }
            }
        }
        if receivers.is_empty() && fallback.is_none() {
            self.error(Diagnostic::error("a `select!` needs at least one arm", span));
            return Self::error_expr(span);
        }
        let handles: Vec<hir::Expr> =
            receivers.iter().map(|(_, _, r)| self.call_prelude("__select_handle", vec![r.clone()], span)).collect();
        let n = handles.len() as u64;
        let u64_ty = Ty::Int(IntTy::U64);
        let array = hir::Expr::new(H::Array(handles), Ty::Array(u64_ty.clone().into(), n), span);
        let array = self.new_temp("select$chs", array, &mut stmts);
        let slice_ty = Ty::reference(Ty::Slice(u64_ty.clone().into()), false);
        let array_ref = hir::Expr::new(
            H::AddrOf { mutable: false, place: Box::new(array) },
            Ty::reference(Ty::Array(u64_ty.clone().into(), n), false),
            span,
        );
        let chs = hir::Expr::new(H::Unsize(Box::new(array_ref)), slice_ty, span);
        let out = self.new_temp("select$value", int_lit(0, IntTy::U64, span), &mut stmts);
        let status = self.new_temp("select$status", int_lit(0, IntTy::I32, span), &mut stmts);
        let borrow_mut = |e: &hir::Expr| {
            let ty = Ty::reference(e.ty.clone(), true);
            hir::Expr::new(H::AddrOf { mutable: true, place: Box::new(e.clone()) }, ty, span)
        };
        let wait_args = vec![chs, timeout, int_lit(mode, IntTy::I32, span), borrow_mut(&out), borrow_mut(&status)];
        let wait = self.call_prelude("__select_wait", wait_args, span);
        let index = self.new_temp("select$index", wait, &mut stmts);

        let result_ty = self.infer.fresh(InferKind::General);
        let mut branches = Vec::new();
        for (i, (arm, binding, rx)) in receivers.iter().enumerate() {
            let take = self.call_prelude("__select_take", vec![rx.clone(), out.clone(), status.clone()], arm.span);
            self.scopes.push(Vec::new());
            let value = self.declare_local(&binding.name, take.ty.clone(), false);
            let body = self.check_expr(&arm.body);
            self.scopes.pop();
            self.coerce(&body.ty, &result_ty, arm.body.span);
            let ty = body.ty.clone();
            let block = hir::Expr::new(
                H::Block { stmts: vec![hir::Stmt::Let { local: Some(value), init: take }], tail: Some(Box::new(body)) },
                ty,
                arm.span,
            );
            branches.push((i, block));
        }
        let mut chain = match fallback {
            Some(arm) => {
                let body = self.check_expr(&arm.body);
                self.coerce(&body.ty, &result_ty, arm.body.span);
                body
            }
            None => branches.pop().map(|(_, b)| b).expect("at least one receive arm"),
        };
        while let Some((i, block)) = branches.pop() {
            let cond = hir::Expr::new(
                H::Binary(BinOp::Eq, Box::new(index.clone()), Box::new(int_lit(i as i128, IntTy::I64, span))),
                Ty::Bool,
                span,
            );
            chain = hir::Expr::new(
                H::If { cond: Box::new(cond), then: Box::new(block), else_: Some(Box::new(chain)) },
                result_ty.clone(),
                span,
            );
        }
        hir::Expr::new(H::Block { stmts, tail: Some(Box::new(chain)) }, result_ty, span)
    }
}
