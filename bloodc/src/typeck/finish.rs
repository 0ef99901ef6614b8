//! The end of checking a function: resolve types, run deferred checks, write final types.
//!
//! Some rules can only be checked once inference is complete: `let x = 300; let y: u8 = x;`
//! makes the literal a `u8`, and only then is it out of range; `a + b` is valid for numbers but
//! not for `bool`, which may only be known later. Those checks are recorded as [`Deferred`] while
//! the body is checked and run here, after every inference variable has its final type
//! (unconstrained literals default to `i32`/`f64`). Finally the HIR is walked once to replace
//! inference variables by their resolution, so later stages see only concrete types.

use crate::diagnostics::Diagnostic;
use crate::hir::{self, ExprKind as H, FormatPiece};
use crate::source::Span;
use crate::types::{IntTy, Ty};

use super::infer::InferTable;
use super::{FnCx, FnSig, exhaustive, usefulness};

/// A check that needs final types.
pub(crate) enum Deferred {
    /// An integer literal (with its sign) must fit its type.
    IntLit { span: Span, ty: Ty, negative: bool, magnitude: u128 },
    /// An operand of `op` must be of `class`.
    Operand { span: Span, ty: Ty, class: OperandClass, op: &'static str },
    /// `from as to` must be a valid cast (LANGUAGE.md §3.6).
    Cast { span: Span, from: Ty, to: Ty },
    /// A match must be exhaustive and every arm reachable. `has_fallback`: the last arm was
    /// added by desugaring (`if let`, `while let`, `matches!`) and may be unreachable.
    Match { span: Span, ty: Ty, arms: Vec<(hir::Pat, bool)>, has_fallback: bool },
    /// A `let` or `for` pattern must match every value of its type.
    Irrefutable { span: Span, ty: Ty, arms: Vec<(hir::Pat, bool)> },
    /// `default` needs a scalar type known from its context.
    DefaultValue { span: Span, ty: Ty },
    /// A range pattern's bounds must be in order.
    RangePattern { span: Span, ty: Ty, lo: hir::Lit, hi: hir::Lit, inclusive: bool },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum OperandClass {
    /// `+ - * / %`: integers and floats.
    Numeric,
    /// `<< >>` operands, `for` bounds: integers.
    Integer,
    /// `& | ^`: integers and bool.
    IntegerOrBool,
    /// `== !=`: every scalar and `&str`.
    Equality,
    /// `< <= > >=`, `in`: integers, floats, char.
    Ordered,
    /// unary `-`: signed integers and floats.
    Neg,
    /// unary `!`: bool and integers.
    Not,
    /// `{}` arguments and `dbg!`: printable scalars.
    Printable,
}

impl FnCx<'_, '_> {
    pub(super) fn finish(mut self, mut body: hir::Expr, sig: FnSig, span: Span, no_preempt: bool) -> hir::FnDef {
        self.finish_expr(&mut body);
        let mut locals = std::mem::take(&mut self.locals);
        for local in &mut locals {
            local.ty = self.final_ty(&local.ty, span);
        }
        hir::FnDef {
            name: sig.name,
            param_count: sig.params.len() as u32,
            locals,
            ret: sig.ret,
            body,
            no_preempt,
            span,
        }
    }

    /// Runs the deferred checks and writes final types into `body`.
    pub(super) fn finish_expr(&mut self, body: &mut hir::Expr) {
        let deferred = std::mem::take(&mut self.deferred);
        // Resolve literal defaults before checking anything, so every check sees final types.
        for d in &deferred {
            if let Deferred::IntLit { ty, .. } | Deferred::Operand { ty, .. } = d {
                self.infer.resolve_with_defaults(ty);
            }
        }
        for d in deferred {
            self.run_deferred(d);
        }
        self.zonk_expr(body);
    }

    fn run_deferred(&mut self, d: Deferred) {
        match d {
            Deferred::IntLit { span, ty, negative, magnitude } => {
                let ty = self.infer.resolve_with_defaults(&ty);
                if let Ty::Int(int) = ty {
                    if negative && !int.is_signed() {
                        // Reported by the `Neg` operand check.
                    } else if !int.fits(negative, magnitude) {
                        self.error(
                            Diagnostic::error(format!("literal out of range for `{}`", int.name()), span)
                                .with_note(format!("the range of `{}` is {}", int.name(), int_range(int))),
                        );
                    }
                }
            }
            Deferred::Operand { span, ty, class, op } => self.check_operand_class(span, &ty, class, op),
            Deferred::Match { span, ty, arms, has_fallback } => {
                let ty = self.infer.resolve_with_defaults(&ty);
                if ty == Ty::Error {
                    return;
                }
                let variants = match &ty {
                    Ty::Enum(e) => Some(self.gcx.enums[e.id as usize].variants.clone()),
                    _ => None,
                };
                let scalar =
                    matches!(ty, Ty::Int(_) | Ty::Bool | Ty::Char | Ty::Unit | Ty::Enum(_) | Ty::Float(_) | Ty::Str);
                let check = if scalar {
                    let c = exhaustive::check_arms(&ty, &arms, variants.as_deref());
                    (c.unreachable, c.missing)
                } else {
                    let enums: Vec<Vec<(String, i128)>> = self.gcx.enums.iter().map(|e| e.variants.clone()).collect();
                    let mut zonked = arms.clone();
                    for (p, _) in &mut zonked {
                        self.zonk_pat(p);
                    }
                    let cx = usefulness::TyCx { adts: &self.gcx.adts, enums: &enums };
                    let c = usefulness::check_arms(&cx, &ty, &zonked);
                    (c.unreachable, c.missing)
                };
                let check = exhaustive::MatchCheck { unreachable: check.0, missing: check.1 };
                for i in check.unreachable {
                    if has_fallback && i + 1 == arms.len() {
                        continue;
                    }
                    self.error(Diagnostic::error("unreachable pattern", arms[i].0.span).with_code("E0237"));
                }
                if let Some(missing) = check.missing {
                    self.error(
                        Diagnostic::error(format!("non-exhaustive patterns: {missing} not covered"), span)
                            .with_code("E0236")
                            .with_help("add an arm for it, or a catch-all `_ =>` arm"),
                    );
                }
            }
            Deferred::Irrefutable { span, ty, arms } => {
                let ty = self.infer.resolve_deep(&ty);
                if ty == Ty::Error {
                    return;
                }
                let enums: Vec<Vec<(String, i128)>> = self.gcx.enums.iter().map(|e| e.variants.clone()).collect();
                let mut arms = arms;
                for (p, _) in &mut arms {
                    self.zonk_pat(p);
                }
                let cx = usefulness::TyCx { adts: &self.gcx.adts, enums: &enums };
                if let Some(missing) = usefulness::check_arms(&cx, &ty, &arms).missing {
                    self.error(
                        Diagnostic::error("type mismatch", span)
                            .with_code("E0201")
                            .with_note(format!("refutable pattern in let binding: {missing} not covered")),
                    );
                }
            }
            Deferred::DefaultValue { span, ty } => {
                let ty = self.infer.resolve_with_defaults(&ty);
                if !matches!(ty, Ty::Int(_) | Ty::Float(_) | Ty::Bool | Ty::Char | Ty::Unit | Ty::Error) {
                    let shown =
                        if matches!(ty, Ty::Infer(_)) { "an unknown type".to_string() } else { format!("`{ty}`") };
                    self.error(
                        Diagnostic::error("cannot infer type", span)
                            .with_code("E0202")
                            .with_note(format!("`default` needs a scalar type from its context, found {shown}")),
                    );
                }
            }
            Deferred::RangePattern { span, ty, lo, hi, inclusive } => {
                let ty = self.infer.resolve_with_defaults(&ty);
                if let (Some(l), Some(h)) = (exhaustive::ordinal(&lo, &ty), exhaustive::ordinal(&hi, &ty))
                    && (l > h || (!inclusive && l == h))
                {
                    self.error(Diagnostic::error("lower range bound must be less than the upper bound", span));
                }
            }
            Deferred::Cast { span, from, to } => {
                let from = self.infer.resolve_with_defaults(&from);
                let to = self.infer.resolve_with_defaults(&to);
                if !valid_cast(&from, &to) {
                    self.error(
                        Diagnostic::error("invalid cast", span)
                            .with_code("E0238")
                            .with_note(format!("cannot cast `{from}` as `{to}`")),
                    );
                }
            }
        }
    }

    fn check_operand_class(&mut self, span: Span, ty: &Ty, class: OperandClass, op: &str) {
        let ty = self.infer.resolve_deep(ty);
        if matches!(ty, Ty::Error | Ty::Never) {
            return;
        }
        let ok = match class {
            OperandClass::Numeric => ty.is_integer() || ty.is_float(),
            OperandClass::Integer => ty.is_integer(),
            OperandClass::IntegerOrBool | OperandClass::Not => ty.is_integer() || ty == Ty::Bool,
            OperandClass::Equality => self.is_comparable(&ty),
            OperandClass::Ordered => matches!(ty, Ty::Int(_) | Ty::Float(_) | Ty::Char),
            OperandClass::Neg => matches!(ty, Ty::Int(i) if i.is_signed()) || ty.is_float(),
            OperandClass::Printable => {
                matches!(ty, Ty::Int(_) | Ty::Float(_) | Ty::Bool | Ty::Char | Ty::Str)
                    || matches!(ty, Ty::Owned(crate::types::OwnedKind::String, _))
            }
        };
        if ok {
            return;
        }
        if matches!(class, OperandClass::Equality | OperandClass::Ordered)
            && let Some(culprit) = self.user_type_in(&ty)
        {
            let name = if class == OperandClass::Equality { "PartialEq" } else { "PartialOrd" };
            self.error(
                Diagnostic::error(format!("`{culprit}` does not implement `{name}`"), span)
                    .with_note("user structs and enums are not comparable; compare their fields, or use `match`"),
            );
            return;
        }
        let d = match class {
            OperandClass::Neg if matches!(ty, Ty::Int(_)) => Diagnostic::error("cannot negate unsigned integer", span)
                .with_note(format!("`{ty}` is unsigned; use a signed type or wrapping subtraction from 0")),
            OperandClass::Neg | OperandClass::Not => Diagnostic::error("type mismatch", span)
                .with_code("E0201")
                .with_note(format!("cannot apply unary `{op}` to `{ty}`")),
            OperandClass::Printable => Diagnostic::error(format!("`{ty}` cannot be formatted with `{{}}`"), span),
            OperandClass::Integer if op == "for" => Diagnostic::error("type mismatch", span)
                .with_code("E0201")
                .with_note(format!("`for` ranges need integer bounds, found `{ty}`")),
            _ => Diagnostic::error("invalid binary operator for the given types", span)
                .with_code("E0216")
                .with_note(format!("cannot apply `{op}` to `{ty}`")),
        };
        self.error(d);
    }

    /// LANGUAGE.md §4.11: scalars, `&str`, and tuples, arrays, slices and references of them.
    fn is_comparable(&mut self, ty: &Ty) -> bool {
        match self.infer.resolve_deep(ty) {
            Ty::Int(_) | Ty::Float(_) | Ty::Bool | Ty::Char | Ty::Unit | Ty::Str | Ty::Error | Ty::Never => true,
            Ty::Tuple(xs) => xs.iter().all(|x| self.is_comparable(x)),
            Ty::Array(x, _) | Ty::Slice(x) | Ty::Ref(x, _) => self.is_comparable(&x),
            // `Vec<T>` and `String` (LANGUAGE.md §4.11, L2); `Box` is not in the list.
            Ty::Owned(crate::types::OwnedKind::Vec | crate::types::OwnedKind::String, x) => self.is_comparable(&x),
            Ty::Adt(a, args) if self.is_prelude_enum(a.id) => args.iter().all(|x| self.is_comparable(x)),
            _ => false,
        }
    }

    /// `Option` and `Result` are comparable when their arguments are (LANGUAGE.md §4.11).
    fn is_prelude_enum(&self, id: u32) -> bool {
        Some(id) == self.gcx.prelude_option || Some(id) == self.gcx.prelude_result
    }

    /// The first user struct or enum inside `ty` (for "does not implement `PartialEq`").
    fn user_type_in(&mut self, ty: &Ty) -> Option<String> {
        match self.infer.resolve_deep(ty) {
            Ty::Enum(e) => Some(e.name.to_string()),
            Ty::Adt(a, args) if self.is_prelude_enum(a.id) => args.iter().find_map(|x| self.user_type_in(x)),
            Ty::Adt(a, _) => Some(a.name.to_string()),
            Ty::Tuple(xs) => xs.iter().find_map(|x| self.user_type_in(x)),
            Ty::Array(x, _) | Ty::Slice(x) | Ty::Ref(x, _) | Ty::Owned(_, x) => self.user_type_in(&x),
            _ => None,
        }
    }

    /// The final type of a HIR node's type: inference variables resolved, defaults applied.
    fn final_ty(&mut self, ty: &Ty, span: Span) -> Ty {
        match self.infer.resolve_deep(ty) {
            t if InferTable::has_infer(&t) => {
                if !self.reported_infer {
                    self.error(Diagnostic::error("cannot infer type", span).with_code("E0202"));
                }
                Ty::Error
            }
            t => t,
        }
    }

    /// The final type of an expression or pattern: unconstrained variables nobody uses carry
    /// no data, so they become `()`.
    fn zonk_ty(&mut self, ty: &Ty) -> Ty {
        let t = self.infer.resolve_deep(ty);
        if InferTable::has_infer(&t) { replace_infer(&t) } else { t }
    }

    fn zonk_expr(&mut self, e: &mut hir::Expr) {
        // A value nobody constrains and nobody uses (e.g. the type of a `loop` whose only
        // `break` is inside dead code) carries no data: treat it as `()`.
        e.ty = self.zonk_ty(&e.ty);
        if let H::Lit(lit @ hir::Lit::Default) = &mut e.kind {
            *lit = match e.ty {
                Ty::Int(_) => hir::Lit::Int { negative: false, magnitude: 0 },
                Ty::Float(_) => hir::Lit::Float(0.0),
                Ty::Bool => hir::Lit::Bool(false),
                Ty::Char => hir::Lit::Char('\0'),
                _ => hir::Lit::Unit,
            };
        }
        match &mut e.kind {
            H::Lit(_) | H::Local(_) | H::Continue { .. } => {}
            H::Unary(_, a) | H::Cast(a) | H::Dbg { expr: a, .. } | H::Nursery(a) => self.zonk_expr(a),
            H::Binary(_, a, b) => {
                self.zonk_expr(a);
                self.zonk_expr(b);
            }
            H::Assign { place, value } | H::AssignOp { place, value, .. } => {
                self.zonk_expr(place);
                self.zonk_expr(value);
            }
            H::Field { base: a, .. }
            | H::Deref(a)
            | H::AddrOf { place: a, .. }
            | H::Repeat(a, _)
            | H::Unsize(a)
            | H::Len(a) => self.zonk_expr(a),
            H::Index { base, index } => {
                self.zonk_expr(base);
                self.zonk_expr(index);
            }
            H::Tuple(xs) | H::Array(xs) => xs.iter_mut().for_each(|x| self.zonk_expr(x)),
            H::Adt { fields, base, .. } => {
                fields.iter_mut().for_each(|(_, x)| self.zonk_expr(x));
                if let Some(b) = base {
                    self.zonk_expr(b);
                }
            }
            H::ForEach { pat, seq, body, .. } => {
                self.zonk_pat(pat);
                self.zonk_expr(seq);
                self.zonk_expr(body);
            }
            H::Call { func, args, type_args } => {
                args.iter_mut().for_each(|(_, a)| self.zonk_expr(a));
                self.instantiate_use(func, type_args, e.span);
            }
            H::FnRef { func, type_args } => self.instantiate_use(func, type_args, e.span),
            H::Closure(c) => {
                self.check_closure_inferred(c, e.span);
                c.ret = self.zonk_ty(&c.ret);
                self.zonk_expr(&mut c.body);
            }
            H::CallIndirect { callee, args } => {
                self.zonk_expr(callee);
                args.iter_mut().for_each(|a| self.zonk_expr(a));
            }
            H::Builtin { args, .. } => args.iter_mut().for_each(|a| self.zonk_expr(a)),
            H::Format { pieces, .. } | H::PanicFormat { pieces } => {
                for p in pieces {
                    if let FormatPiece::Arg(a) = p {
                        self.zonk_expr(a);
                    }
                }
            }
            H::If { cond, then, else_ } => {
                self.zonk_expr(cond);
                self.zonk_expr(then);
                if let Some(e) = else_ {
                    self.zonk_expr(e);
                }
            }
            H::Loop { body, .. } => self.zonk_expr(body),
            H::While { cond, body, .. } => {
                self.zonk_expr(cond);
                self.zonk_expr(body);
            }
            H::ForRange { lo, hi, body, .. } => {
                self.zonk_expr(lo);
                self.zonk_expr(hi);
                self.zonk_expr(body);
            }
            H::Break { value, .. } | H::Return(value) => {
                if let Some(v) = value {
                    self.zonk_expr(v);
                }
            }
            H::Match { scrutinee, arms } => {
                self.zonk_expr(scrutinee);
                for arm in arms {
                    self.zonk_pat(&mut arm.pat);
                    if let Some(g) = &mut arm.guard {
                        self.zonk_expr(g);
                    }
                    self.zonk_expr(&mut arm.body);
                }
            }
            H::Block { stmts, tail } => {
                for s in stmts {
                    match s {
                        hir::Stmt::Let { init, .. } => self.zonk_expr(init),
                        hir::Stmt::LetPat { pat, init } => {
                            self.zonk_pat(pat);
                            self.zonk_expr(init);
                        }
                        hir::Stmt::Expr(e) => self.zonk_expr(e),
                    }
                }
                if let Some(t) = tail {
                    self.zonk_expr(t);
                }
            }
        }
    }
}

impl FnCx<'_, '_> {
    /// Points a call of (or a reference to) a generic function at the instance for its final
    /// type arguments.
    fn instantiate_use(&mut self, func: &mut hir::FnId, type_args: &mut Vec<Ty>, span: Span) {
        if type_args.is_empty() {
            return;
        }
        let resolved: Vec<Ty> = type_args.iter().map(|t| self.infer.resolve_deep(t)).collect();
        if resolved.iter().any(InferTable::has_infer) {
            self.reported_infer = true;
            let name = self.gcx.sigs[func.0 as usize].name.clone();
            self.error(
                Diagnostic::error("cannot infer type", span)
                    .with_code("E0202")
                    .with_note(format!("the type parameters of `{name}` are not fixed by this call")),
            );
        } else if !resolved.contains(&Ty::Error) {
            *func = self.gcx.instantiate(*func, resolved, span);
        }
        type_args.clear();
    }

    pub(super) fn zonk_pat(&mut self, p: &mut hir::Pat) {
        p.ty = self.zonk_ty(&p.ty);
        match &mut p.kind {
            hir::PatKind::Binding { sub: Some(sub), .. } | hir::PatKind::Deref(sub) => self.zonk_pat(sub),
            hir::PatKind::Or(alts) | hir::PatKind::Tuple(alts) => alts.iter_mut().for_each(|a| self.zonk_pat(a)),
            hir::PatKind::Adt { fields, .. } => fields.iter_mut().for_each(|(_, a)| self.zonk_pat(a)),
            hir::PatKind::Slice { prefix, suffix, .. } => {
                prefix.iter_mut().chain(suffix.iter_mut()).for_each(|a| self.zonk_pat(a))
            }
            _ => {}
        }
    }
}

/// `t` with every remaining inference variable replaced by `()`.
fn replace_infer(t: &Ty) -> Ty {
    match t {
        Ty::Infer(_) => Ty::Unit,
        t => t.map_children(&mut replace_infer),
    }
}

fn int_range(int: IntTy) -> String {
    let bits = int.bits();
    if int.is_signed() {
        let max = (1u128 << (bits - 1)) - 1;
        format!("-{}..={max}", max + 1)
    } else {
        let max = if bits == 128 { u128::MAX } else { (1u128 << bits) - 1 };
        format!("0..={max}")
    }
}

/// The cast table of LANGUAGE.md §3.6 (L0 types).
pub(crate) fn valid_cast(from: &Ty, to: &Ty) -> bool {
    if matches!(from, Ty::Error | Ty::Never) || matches!(to, Ty::Error) || from == to {
        return true;
    }
    matches!(
        (from, to),
        (Ty::Int(_) | Ty::Float(_), Ty::Int(_) | Ty::Float(_))
            | (Ty::Bool, Ty::Int(_))
            | (Ty::Int(_), Ty::Bool)
            | (Ty::Char, Ty::Int(_))
            | (Ty::Int(IntTy::U8), Ty::Char)
            | (Ty::Enum(_), Ty::Int(_))
    )
}
