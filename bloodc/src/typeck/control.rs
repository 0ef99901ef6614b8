//! Checking blocks, `let`, conditionals, loops and jumps.
//!
//! Typing rules of LANGUAGE.md §1.5 and §3.7: a block's value is its `;`-less final expression,
//! or `!` when its last statement has type `!`, or `()`; `if` without `else` is `()`; `loop` has
//! the type of its `break` values (`!` without any); `while`/`for` are `()`.

use crate::diagnostics::Diagnostic;
use crate::hir::{self, ExprKind as H, LoopId};
use crate::source::Span;
use crate::syntax::ast::{self, ExprKind as A};
use crate::types::{InferKind, Ty};

use super::finish::{Deferred, OperandClass};
use super::{FnCx, LoopCx, unsupported};

impl<'a> FnCx<'_, 'a> {
    pub fn check_control(&mut self, e: &'a ast::Expr) -> hir::Expr {
        let span = e.span;
        match &e.kind {
            A::If { cond, then, else_ } => self.check_if(cond, then, else_.as_deref(), span),
            A::While { label, cond, body } => {
                let id = self.push_loop(label.as_ref(), false);
                let cond = self.check_expr_expect(cond, &Ty::Bool);
                let body = self.check_block(body);
                self.loops.pop();
                hir::Expr::new(H::While { id, cond: Box::new(cond), body: Box::new(body) }, Ty::Unit, span)
            }
            A::Loop { label, body } => {
                let id = self.push_loop(label.as_ref(), true);
                let body = self.check_block(body);
                let cx = self.loops.pop().expect("pushed above");
                let ty = cx.break_ty.unwrap_or(Ty::Never);
                hir::Expr::new(H::Loop { id, body: Box::new(body) }, ty, span)
            }
            A::For { label, pat, iter, body } => self.check_for(label.as_ref(), pat, iter, body, span),
            A::Break { label, value } => self.check_break(label.as_ref(), value.as_deref(), span),
            A::Continue { label } => {
                let Some(index) = self.find_loop(label.as_ref(), "continue", span) else {
                    return Self::error_expr(span);
                };
                let id = self.loops[index].id;
                hir::Expr::new(H::Continue { id }, Ty::Never, span)
            }
            A::Return(value) => {
                let ret = self.ret.clone();
                let value = match value {
                    Some(v) => {
                        let v = self.check_expr_expect(v, &ret);
                        self.check_returned_ref(&v);
                        Some(Box::new(v))
                    }
                    None => {
                        self.coerce(&Ty::Unit, &ret, span);
                        None
                    }
                };
                hir::Expr::new(H::Return(value), Ty::Never, span)
            }
            A::Block(block) | A::Unchecked(block) => self.check_block(block),
            A::Unsafe(block) => {
                self.unsafe_depth += 1;
                let b = self.check_block(block);
                self.unsafe_depth -= 1;
                b
            }
            A::IfLet { pat, scrutinee, then, else_ } => self.check_if_let(pat, scrutinee, then, else_.as_deref(), span),
            A::WhileLet { label, pat, scrutinee, body } => {
                self.check_while_let(label.as_ref(), pat, scrutinee, body, span)
            }
            A::Match { scrutinee, arms } => self.check_match(scrutinee, arms, span),
            _ => unreachable!("check_control called with a non-control expression"),
        }
    }

    fn check_if(
        &mut self,
        cond: &'a ast::Expr,
        then: &'a ast::Block,
        else_: Option<&'a ast::Expr>,
        span: Span,
    ) -> hir::Expr {
        let cond = self.check_expr_expect(cond, &Ty::Bool);
        let then = self.check_block(then);
        let Some(else_) = else_ else {
            return hir::Expr::new(H::If { cond: Box::new(cond), then: Box::new(then), else_: None }, Ty::Unit, span);
        };
        let else_ = self.check_expr(else_);
        let message = "`if` and `else` have incompatible types";
        let ty = self.join_branches(&then.ty, &else_.ty, else_.span, Some(then.span), message);
        hir::Expr::new(H::If { cond: Box::new(cond), then: Box::new(then), else_: Some(Box::new(else_)) }, ty, span)
    }

    /// The common type of two branches of one expression (`!` fits any type); reports
    /// `message` [E0201] at `span` otherwise, pointing at `first_span` for the first branch.
    pub(super) fn join_branches(
        &mut self,
        first: &Ty,
        next: &Ty,
        span: Span,
        first_span: Option<Span>,
        message: &str,
    ) -> Ty {
        let (t, e) = (self.resolve(first), self.resolve(next));
        if t == Ty::Never {
            return e;
        }
        if e == Ty::Never || self.infer.unify(&t, &e) {
            return t;
        }
        let (ts, es) = (self.display_ty(&t), self.display_ty(&e));
        let mut d =
            Diagnostic::error(message, span).with_code("E0201").with_label(format!("expected `{ts}`, found `{es}`"));
        if let Some(first_span) = first_span {
            d = d.with_secondary(first_span, format!("this branch has type `{ts}`"));
        }
        self.error(d);
        Ty::Error
    }

    fn check_for(
        &mut self,
        label: Option<&ast::Ident>,
        pat: &'a ast::Pattern,
        iter: &'a ast::Expr,
        body: &'a ast::Block,
        span: Span,
    ) -> hir::Expr {
        let A::Range { lo: Some(lo), hi: Some(hi), inclusive } = &iter.kind else {
            return self.check_for_each(label, pat, iter, body, span);
        };
        let lo = self.check_expr(lo);
        let hi = self.check_expr_expect(hi, &lo.ty.clone());
        self.deferred.push(Deferred::Operand {
            span: iter.span,
            ty: lo.ty.clone(),
            class: OperandClass::Integer,
            op: "for",
        });
        let ty = lo.ty.clone();
        self.scopes.push(Vec::new());
        let var = match &pat.kind {
            ast::PatternKind::Ident { by_ref: false, mutable, name, sub: None } => {
                self.declare_local(&name.name, ty, *mutable)
            }
            ast::PatternKind::Wild => self.declare_local("_", ty, false),
            _ => {
                self.error(unsupported(pat.span, "destructuring patterns (language level L1)"));
                self.declare_local("_", ty, false)
            }
        };
        let id = self.push_loop(label, false);
        let body = self.check_block(body);
        self.loops.pop();
        self.scopes.pop();
        hir::Expr::new(
            H::ForRange { id, var, lo: Box::new(lo), hi: Box::new(hi), inclusive: *inclusive, body: Box::new(body) },
            Ty::Unit,
            span,
        )
    }

    /// `for x in arr` (copies of the elements) and `for x in &arr` / `for x in slice`
    /// (references to them).
    fn check_for_each(
        &mut self,
        label: Option<&ast::Ident>,
        pat: &'a ast::Pattern,
        iter: &'a ast::Expr,
        body: &'a ast::Block,
        span: Span,
    ) -> hir::Expr {
        let seq = self.check_expr(iter);
        let (seq, elem_ty, by_ref) = match self.resolve(&seq.ty) {
            Ty::Array(elem, _) => (seq, (*elem).clone(), false),
            // `for x in v` consumes a vector (LANGUAGE.md §5.5).
            Ty::Owned(crate::types::OwnedKind::Vec, elem) => {
                (super::heap::elements(seq, &elem), (*elem).clone(), false)
            }
            Ty::Ref(inner, m) if matches!(self.resolve(&inner), Ty::Owned(crate::types::OwnedKind::Vec, _)) => {
                let Ty::Owned(_, elem) = self.resolve(&inner) else { unreachable!("matched above") };
                let vec = hir::Expr::new(H::Deref(Box::new(seq)), (*inner).clone(), iter.span);
                (super::heap::elements(vec, &elem), Ty::reference((*elem).clone(), m), true)
            }
            Ty::Ref(inner, m) => match self.resolve(&inner) {
                Ty::Array(elem, _) | Ty::Slice(elem) => {
                    let deref = hir::Expr::new(H::Deref(Box::new(seq)), (*inner).clone(), iter.span);
                    (deref, Ty::reference((*elem).clone(), m), true)
                }
                _ => return self.not_iterable(&Ty::Ref(inner, m), iter.span),
            },
            Ty::Error => (seq, Ty::Error, false),
            other => return self.not_iterable(&other, iter.span),
        };
        self.scopes.push(Vec::new());
        let pat = self.check_pattern_top(pat, &elem_ty);
        self.deferred.push(Deferred::Irrefutable { span: pat.span, ty: elem_ty, arms: vec![(pat.clone(), false)] });
        let id = self.push_loop(label, false);
        let body = self.check_block(body);
        self.loops.pop();
        self.scopes.pop();
        hir::Expr::new(
            H::ForEach { id, pat: Box::new(pat), seq: Box::new(seq), by_ref, body: Box::new(body) },
            Ty::Unit,
            span,
        )
    }

    /// LANGUAGE.md §4.5: returning `&x` for a local or parameter `x` is an error (only the bare
    /// name is checked: `&self.x` behind a reference is fine).
    pub(super) fn check_returned_ref(&mut self, e: &hir::Expr) {
        match &e.kind {
            H::AddrOf { place, .. } if matches!(place.kind, H::Local(_)) => {
                let H::Local(l) = place.kind else { return };
                let name = self.locals[l.0 as usize].name.clone();
                self.error(
                    Diagnostic::error("cannot return reference to local variable", e.span)
                        .with_label(format!("`{name}` is dropped when the function returns")),
                );
            }
            H::Block { tail: Some(t), .. } => self.check_returned_ref(t),
            _ => {}
        }
    }

    fn not_iterable(&mut self, ty: &Ty, span: Span) -> hir::Expr {
        let shown = self.display_ty(ty);
        self.error(unsupported(
            span,
            &format!("`for` over `{shown}` (only integer ranges, arrays and slices can be iterated)"),
        ));
        Self::error_expr(span)
    }

    fn check_break(&mut self, label: Option<&ast::Ident>, value: Option<&'a ast::Expr>, span: Span) -> hir::Expr {
        let Some(index) = self.find_loop(label, "break", span) else {
            if let Some(v) = value {
                self.check_expr(v);
            }
            return Self::error_expr(span);
        };
        let id = self.loops[index].id;
        let value = value.map(|v| self.check_expr(v));
        if !self.loops[index].is_loop {
            if let Some(v) = &value {
                self.error(Diagnostic::error("`break` with a value is only allowed inside `loop`", v.span));
            }
        } else {
            let ty = value.as_ref().map_or(Ty::Unit, |v| v.ty.clone());
            let vspan = value.as_ref().map_or(span, |v| v.span);
            match self.loops[index].break_ty.clone() {
                None => {
                    let resolved = self.resolve(&ty);
                    self.loops[index].break_ty =
                        Some(if resolved == Ty::Never { self.infer.fresh(InferKind::General) } else { ty });
                }
                Some(expected) => {
                    self.coerce(&ty, &expected, vspan);
                }
            }
        }
        hir::Expr::new(H::Break { id, value: value.map(Box::new) }, Ty::Never, span)
    }

    pub(super) fn push_loop(&mut self, label: Option<&ast::Ident>, is_loop: bool) -> LoopId {
        let id = self.new_loop_id();
        self.loops.push(LoopCx { id, label: label.map(|l| label_name(&l.name)), is_loop, break_ty: None });
        id
    }

    /// The loop a `break`/`continue` targets, or `None` after reporting an error.
    fn find_loop(&mut self, label: Option<&ast::Ident>, what: &str, span: Span) -> Option<usize> {
        match label {
            None => {
                if self.loops.is_empty() {
                    self.error(Diagnostic::error(format!("{what} outside of loop"), span));
                    return None;
                }
                Some(self.loops.len() - 1)
            }
            Some(l) => {
                let name = label_name(&l.name);
                let found = self.loops.iter().rposition(|c| c.label.as_deref() == Some(name.as_str()));
                if found.is_none() {
                    self.error(Diagnostic::error(format!("undeclared label `'{name}`"), l.span));
                }
                found
            }
        }
    }

    /// Checks a block in a new scope; nested items are registered first (they are
    /// order-independent and visible in the whole block).
    pub fn check_block(&mut self, block: &'a ast::Block) -> hir::Expr {
        let items: Vec<&'a ast::Item> = block
            .stmts
            .iter()
            .filter_map(|s| match s {
                ast::Stmt::Item(item) => Some(&**item),
                _ => None,
            })
            .collect();
        let pushed_items = !items.is_empty();
        if pushed_items {
            let prefix = format!("{}.", self.fn_name);
            let scope = self.gcx.register_block(items, &self.item_scopes, prefix);
            self.item_scopes.push(scope);
        }
        self.scopes.push(Vec::new());
        let mut stmts = Vec::new();
        let mut last_diverges = false;
        for stmt in &block.stmts {
            match stmt {
                ast::Stmt::Let(let_stmt) => {
                    stmts.push(self.check_let(let_stmt));
                    last_diverges = false;
                }
                ast::Stmt::Expr { expr, .. } => {
                    let h = self.check_expr(expr);
                    last_diverges = self.resolve(&h.ty) == Ty::Never;
                    stmts.push(hir::Stmt::Expr(h));
                }
                ast::Stmt::Item(_) => {}
                ast::Stmt::Empty(_) => {}
            }
        }
        let tail = block.tail.as_ref().map(|t| Box::new(self.check_expr(t)));
        self.scopes.pop();
        if pushed_items {
            self.item_scopes.pop();
        }
        let ty = match &tail {
            Some(t) => t.ty.clone(),
            None if last_diverges => Ty::Never,
            None => Ty::Unit,
        };
        hir::Expr::new(H::Block { stmts, tail }, ty, block.span)
    }

    fn check_let(&mut self, stmt: &'a ast::LetStmt) -> hir::Stmt {
        let declared = match &stmt.ty {
            Some(ast::Type { kind: ast::TypeKind::Infer, .. }) | None => None,
            Some(t) => Some(self.gcx.lower_type(t, &self.item_scopes)),
        };
        let init = match (&stmt.init, &declared) {
            (Some(init), Some(ty)) => self.check_expr_expect(init, ty),
            (Some(init), None) => self.check_expr(init),
            (None, _) => Self::error_expr(stmt.span),
        };
        let ty = declared.unwrap_or_else(|| init.ty.clone());
        if matches!(
            stmt.pat.kind,
            ast::PatternKind::Tuple(_)
                | ast::PatternKind::TupleStruct { .. }
                | ast::PatternKind::Struct { .. }
                | ast::PatternKind::Slice(_)
                | ast::PatternKind::Ref { .. }
                | ast::PatternKind::Ident { by_ref: true, .. }
                | ast::PatternKind::Ident { sub: Some(_), .. }
        ) {
            let pat = self.check_pattern_top(&stmt.pat, &ty);
            let arms = vec![(pat.clone(), false)];
            self.deferred.push(Deferred::Irrefutable { span: stmt.pat.span, ty: ty.clone(), arms });
            return hir::Stmt::LetPat { pat, init };
        }
        let local = match &stmt.pat.kind {
            ast::PatternKind::Ident { by_ref: false, mutable, name, sub: None } => {
                Some(self.declare_local(&name.name, ty, *mutable))
            }
            ast::PatternKind::Wild => None,
            ast::PatternKind::Lit(_) | ast::PatternKind::Range { .. } => {
                self.error(
                    Diagnostic::error("type mismatch", stmt.pat.span)
                        .with_code("E0201")
                        .with_note("refutable pattern in let binding"),
                );
                None
            }
            ast::PatternKind::Error => None,
            _ => {
                self.error(unsupported(stmt.pat.span, "destructuring patterns (language level L1)"));
                None
            }
        };
        hir::Stmt::Let { local, init }
    }
}

/// Labels are compared without their leading `'`.
fn label_name(name: &str) -> String {
    name.trim_start_matches('\'').to_string()
}
