//! Effect rows and `perform` (LANGUAGE.md §6.2, §6.4 for the built-in effects of §7.2).
//!
//! The implemented levels have two effects, `Fiber` and `Cancel`, both handled by the runtime,
//! so a row is a small set ([`Effects`]) and there is no handler search at compile time: a
//! `perform Fiber.op(args)` is a call of the prelude function `__perform_Fiber_op`
//! (`blood-std/lib/concurrency.blood`), which the IR marks as an effect operation (a safepoint
//! goes before it).
//!
//! Rows are checked here, not by unification (`types::Effects` explains why they are erased
//! from type identity):
//! * every body being checked — a function's, or a closure's inside it — has an
//!   [`EffectFrame`]: the row it may use (`None` for a closure without an annotation, whose row
//!   is inferred from what its body uses) and what it used so far;
//! * a direct `perform` of an effect outside the allowed row is "undeclared effect" (E0308); a
//!   call bringing one (the callee's *effective* row: declared row plus the rows of its
//!   `fn`-typed parameters, or the row of a `fn` value's type) is "unhandled effect" (E0301);
//! * a `fn` value fits an expected `fn` type only if its row is a subset (checked in
//!   [`FnCx::check_rows_fit`], called by `coerce`).

use crate::diagnostics::Diagnostic;
use crate::hir::{self, ExprKind as H};
use crate::resolve::{Def, ScopeId};
use crate::source::Span;
use crate::syntax::ast;
use crate::types::{Effects, Ty};

use super::{FnCx, FnSig, GlobalCx};

/// The effect context of the body being checked.
#[derive(Clone, Debug)]
pub(crate) struct EffectFrame {
    /// What the body may perform; `None` while inferring an unannotated closure's row.
    pub allowed: Option<Effects>,
    /// What it performed or called so far.
    pub used: Effects,
}

impl GlobalCx<'_> {
    /// Lowers a written row; reports unknown names, non-effects and duplicates.
    pub(super) fn lower_row(&mut self, row: &ast::EffectRow, scopes: &[ScopeId]) -> Effects {
        let mut effects = Effects::PURE;
        let mut seen: Vec<&str> = Vec::new();
        for path in &row.effects {
            let Some((e, name)) = self.resolve_effect(path, scopes) else { continue };
            if seen.contains(&name) {
                self.error(Diagnostic::error("duplicate effect in row", path.span));
            }
            seen.push(name);
            effects = effects.union(e);
        }
        effects
    }

    /// The built-in effect a path names; reports "undefined effect" / "not an effect type".
    pub(super) fn resolve_effect(&mut self, path: &ast::Path, scopes: &[ScopeId]) -> Option<(Effects, &'static str)> {
        let shown: Vec<&str> = path.segments.iter().map(|s| s.ident.name.as_str()).collect();
        let shown = shown.join(".");
        if let [seg] = path.segments.as_slice() {
            let name = seg.ident.name.as_str();
            // A user item of the same name shadows the built-in effect (LANGUAGE.md §7.2).
            let user = self.scopes.lookup(scopes, name, true).or_else(|| self.scopes.lookup(scopes, name, false));
            if user.is_none()
                && let Some((e, n)) = Effects::ALL.iter().find(|(_, n)| *n == name)
            {
                return Some((*e, n));
            }
            if user.is_some() {
                self.error(
                    Diagnostic::error("not an effect type", path.span)
                        .with_code("E0306")
                        .with_note(format!("`{shown}` is not an effect (the effects are `Fiber` and `Cancel`)")),
                );
                return None;
            }
        }
        self.error(Diagnostic::error(format!("undefined effect `{shown}`"), path.span));
        None
    }
}

/// The effective row of a function (LANGUAGE.md §6.4): its declared row plus the rows written
/// in the types of its `fn`-typed parameters.
pub(super) fn effective_row(sig: &FnSig) -> Effects {
    sig.params.iter().fold(sig.effects, |acc, (_, t, _)| match t {
        Ty::Fn(_, _, row) => acc.union(*row),
        _ => acc,
    })
}

impl<'a> FnCx<'_, 'a> {
    /// Records that the body performs `effect` directly.
    pub(super) fn note_perform(&mut self, effect: Effects, name: &str, span: Span) {
        let frame = self.effects.last_mut().expect("a body is being checked");
        frame.used = frame.used.union(effect);
        if let Some(allowed) = frame.allowed
            && !effect.is_subset(allowed)
        {
            let what = if self.closures.base.is_some() { "closure" } else { "function" };
            self.error(
                Diagnostic::error(format!("undeclared effect `{name}`"), span)
                    .with_code("E0308")
                    .with_help(format!("add `/ {{{name}}}` to the {what}'s signature")),
            );
        }
    }

    /// Records the effects a call brings; reports those the body may not have.
    pub(super) fn note_call_row(&mut self, row: Effects, span: Span) {
        let frame = self.effects.last_mut().expect("a body is being checked");
        frame.used = frame.used.union(row);
        if let Some(allowed) = frame.allowed {
            for name in row.missing_from(allowed) {
                self.error(
                    Diagnostic::error(format!("unhandled effect `{name}`"), span)
                        .with_code("E0301")
                        .with_help(format!("add `/ {{{name}}}` to the enclosing function's signature")),
                );
            }
        }
    }

    /// Runs `f` as a body with its own effect frame; returns its result and the row it used.
    pub(super) fn with_effect_frame<T>(
        &mut self,
        allowed: Option<Effects>,
        f: impl FnOnce(&mut Self) -> T,
    ) -> (T, Effects) {
        self.effects.push(EffectFrame { allowed, used: Effects::PURE });
        let r = f(self);
        let frame = self.effects.pop().expect("pushed above");
        (r, frame.used)
    }

    /// A `fn` value of type `found` used where `expected` is required: its row must be a subset
    /// (LANGUAGE.md §6.4 "Function types"). Returns whether it fits.
    pub(super) fn check_rows_fit(&mut self, found: &Ty, expected: &Ty, span: Span) -> bool {
        let (Ty::Fn(_, _, have), Ty::Fn(_, _, want)) = (self.resolve(found), self.resolve(expected)) else {
            return true;
        };
        if have.is_subset(want) {
            return true;
        }
        let (f, e) = (self.display_ty(found), self.display_ty(expected));
        self.error(
            Diagnostic::error("type mismatch", span)
                .with_code("E0201")
                .with_label(format!("expected `{e}`, found `{f}`"))
                .with_note(format!("the function may perform {have}, but only {want} is allowed here")),
        );
        false
    }

    /// `perform Effect.op(args)`.
    pub(super) fn check_perform(
        &mut self,
        effect: &ast::Path,
        op: &'a ast::PathSegment,
        args: &'a [ast::Arg],
        span: Span,
    ) -> hir::Expr {
        let scopes = self.item_scopes.clone();
        let Some((e, name)) = self.gcx.resolve_effect(effect, &scopes) else {
            for a in args {
                self.check_expr(&a.value);
            }
            return Self::error_expr(span);
        };
        let op_fn = format!("{}{name}_{}", crate::ir::EFFECT_OP_PREFIX, op.ident.name);
        let Some(Def::Fn(func)) = self.gcx.scopes.lookup(&scopes, &op_fn, false) else {
            for a in args {
                self.check_expr(&a.value);
            }
            self.error(Diagnostic::error(
                format!("no operation `{}` in effect `{name}`", op.ident.name),
                op.ident.span,
            ));
            return Self::error_expr(span);
        };
        self.note_perform(e, name, span);
        let (sig, type_args) = self.instantiate_sig(func, op.generic_args.as_deref(), span);
        let params: Vec<(String, Ty)> = sig.params.iter().map(|(n, t, _)| (n.clone(), t.clone())).collect();
        // A fiber's task runs once: a closure written right there may take owned captures.
        self.closures.next_once = (name, op.ident.name.as_str()) == ("Fiber", "spawn")
            && matches!(args, [a] if matches!(a.value.kind, ast::ExprKind::Closure(_)));
        let bound = self.bind_args(&params, args, None, span);
        self.closures.next_once = false;
        let Some(bound) = bound else {
            return Self::error_expr(span);
        };
        hir::Expr::new(H::Call { func, args: bound, type_args }, sig.ret, span)
    }
}
