//! Checking expressions: literals, names, operators, casts, calls.
//!
//! Each `check_*` returns a HIR expression whose type may still contain inference variables;
//! checks that need the final type (operand kinds, literal ranges, casts) are recorded as
//! [`Deferred`] and run by `finish.rs`.

use crate::diagnostics::Diagnostic;
use crate::hir::{self, ExprKind as H, Lit};
use crate::source::Span;
use crate::syntax::ast::{self, BinOp, ExprKind as A};
use crate::types::{FloatTy, InferKind, IntTy, Ty};

use super::builtins;
use super::finish::{Deferred, OperandClass};
use super::{FnCx, suggest, unsupported};
use crate::resolve::Def;

impl<'a> FnCx<'_, 'a> {
    pub fn error_expr(span: Span) -> hir::Expr {
        hir::Expr::new(H::Lit(Lit::Unit), Ty::Error, span)
    }

    /// Checks `e` and requires its type to fit `expected`.
    pub fn check_expr_expect(&mut self, e: &'a ast::Expr, expected: &Ty) -> hir::Expr {
        let h = match &e.kind {
            A::Closure(c) => self.check_closure(c, Some(expected), e.span),
            _ => self.check_expr(e),
        };
        self.coerce_expr(h, expected)
    }

    pub fn check_expr(&mut self, e: &'a ast::Expr) -> hir::Expr {
        let span = e.span;
        match &e.kind {
            A::Lit(lit) => self.check_lit(lit, false, span),
            A::Path(path) => self.check_path_expr(path, span),
            A::Unary(op, inner) => self.check_unary(*op, inner, span),
            A::Binary(op, lhs, rhs) => self.check_binary(*op, lhs, rhs, span),
            A::Assign(lhs, rhs) => self.check_assign(None, lhs, rhs, span),
            A::AssignOp(op, lhs, rhs) => self.check_assign(Some(*op), lhs, rhs, span),
            A::Cast(inner, ty) => {
                let inner = self.check_expr(inner);
                let target = self.gcx.lower_type(ty, &self.item_scopes);
                if let H::FnRef { .. } = inner.kind
                    && let Ty::Int(crate::types::IntTy::U64 | crate::types::IntTy::Usize | crate::types::IntTy::I64) =
                        target
                {
                    // `@unsafe { worker as u64 }`: the function's code address (LANGUAGE.md §8.2).
                    if self.unsafe_depth == 0 {
                        self.error(
                            Diagnostic::error("invalid cast", span)
                                .with_code("E0238")
                                .with_note("operation requires @unsafe: casting a function to an address"),
                        );
                    }
                    return hir::Expr::new(H::Cast(Box::new(inner)), target, span);
                }
                self.deferred.push(Deferred::Cast { span, from: inner.ty.clone(), to: target.clone() });
                hir::Expr::new(H::Cast(Box::new(inner)), target, span)
            }
            A::Call { callee, args } => self.check_call(callee, args, None, span),
            A::Pipe(lhs, rhs) => {
                let arg = self.check_expr(lhs);
                self.check_call(rhs, &[], Some(arg), span)
            }
            A::Macro(mac) => self.check_macro(mac, span),
            A::Perform { effect, op, args } => self.check_perform(effect, op, args, span),
            A::With { handler, fields, body } => self.check_with(handler, fields, body, span),
            A::Select(arms) => self.check_select(arms, span),
            A::In { expr, range } => self.check_in(expr, range, span),
            A::If { .. }
            | A::IfLet { .. }
            | A::While { .. }
            | A::WhileLet { .. }
            | A::Loop { .. }
            | A::For { .. }
            | A::Break { .. }
            | A::Continue { .. }
            | A::Return(_)
            | A::Block(_)
            | A::Unchecked(_)
            | A::Unsafe(_)
            | A::Match { .. } => self.check_control(e),
            A::Tuple(elems) if elems.is_empty() => hir::Expr::new(H::Lit(Lit::Unit), Ty::Unit, span),
            A::Tuple(elems) => self.check_tuple(elems, span),
            A::Array(elems) => self.check_array(elems, span),
            A::ArrayRepeat(value, count) => self.check_repeat(value, count, span),
            A::StructLit { path, fields, base } => self.check_struct_lit(path, fields, base.as_deref(), span),
            A::Ref { mutable, expr } => self.check_addr_of(*mutable, expr, span),
            A::Range { .. } => {
                self.error(Diagnostic::error("range expressions are only allowed in `for` loops and `in` tests", span));
                Self::error_expr(span)
            }
            A::Field(base, name) => {
                let base = self.check_expr(base);
                self.check_field_access(base, name, span)
            }
            A::TupleField(base, index, _) => {
                let base = self.check_expr(base);
                self.check_tuple_field(base, *index, span)
            }
            A::Index(base, index) => self.check_index(base, index, span),
            A::MethodCall { receiver, method, args } => {
                let receiver = self.check_expr(receiver);
                self.check_method(receiver, &method.ident, args, span)
            }
            A::Try(inner) => self.check_try(inner, span),
            A::Closure(c) => self.check_closure(c, None, span),
            A::Unsupported { feature } => self.unsupported_expr(span, feature),
            A::Error => Self::error_expr(span),
        }
    }

    pub fn unsupported_expr(&mut self, span: Span, feature: &str) -> hir::Expr {
        self.error(unsupported(span, feature));
        Self::error_expr(span)
    }

    pub fn check_lit(&mut self, lit: &ast::Lit, negative: bool, span: Span) -> hir::Expr {
        match lit {
            ast::Lit::Int { value, suffix } => {
                let ty = match suffix {
                    Some(s) => Ty::Int(int_suffix(*s)),
                    None => self.infer.fresh(InferKind::Int),
                };
                self.deferred.push(Deferred::IntLit { span, ty: ty.clone(), negative, magnitude: *value });
                hir::Expr::new(H::Lit(Lit::Int { negative, magnitude: *value }), ty, span)
            }
            ast::Lit::Float { value, suffix } => {
                let ty = match suffix {
                    Some(ast::FloatSuffix::F32) => Ty::Float(FloatTy::F32),
                    Some(ast::FloatSuffix::F64) => Ty::Float(FloatTy::F64),
                    None => self.infer.fresh(InferKind::Float),
                };
                let v = if negative { -*value } else { *value };
                hir::Expr::new(H::Lit(Lit::Float(v)), ty, span)
            }
            ast::Lit::Bool(b) => hir::Expr::new(H::Lit(Lit::Bool(*b)), Ty::Bool, span),
            ast::Lit::Char(c) => hir::Expr::new(H::Lit(Lit::Char(*c)), Ty::Char, span),
            ast::Lit::Str(s) => hir::Expr::new(H::Lit(Lit::Str(s.clone())), Ty::Str, span),
            ast::Lit::ByteStr(b) => hir::Expr::new(
                H::Lit(Lit::ByteStr(b.clone())),
                Ty::reference(Ty::Slice(Ty::Int(IntTy::U8).into()), false),
                span,
            ),
        }
    }

    pub(super) fn check_path_expr(&mut self, path: &ast::Path, span: Span) -> hir::Expr {
        let first = &path.segments[0];
        if let Some(local) = self.lookup_local(&first.ident.name) {
            let ty = self.locals[local.0 as usize].ty.clone();
            let mut e = hir::Expr::new(H::Local(local), ty, first.ident.span);
            // `p.x.y` on a local parses as a path: each further segment is a field.
            for seg in &path.segments[1..] {
                let sp = Span::new(span.file, span.lo, seg.ident.span.hi);
                e = match seg.ident.name.parse::<u32>() {
                    Ok(i) => self.check_tuple_field(e, i, sp),
                    Err(_) => self.check_field_access(e, &seg.ident, sp),
                };
            }
            return e;
        }
        let single = path.segments.len() == 1;
        let item = self.gcx.scopes.lookup(&self.item_scopes, &first.ident.name, false);
        if single && item.is_none() {
            if first.ident.name == "default" {
                let ty = self.infer.fresh(crate::types::InferKind::General);
                self.deferred.push(Deferred::DefaultValue { span, ty: ty.clone() });
                return hir::Expr::new(H::Lit(Lit::Default), ty, span);
            }
            if builtins::is_builtin(&first.ident.name) {
                return self.builtin_fn_value(&first.ident.name, span);
            }
        }
        let Some((def, used)) = self.resolve_item_path(path) else { return Self::error_expr(span) };
        let rest = &path.segments[used..];
        match (def, rest) {
            (Def::Const(id), rest) => {
                let Some((ty, lit)) = self.gcx.resolve_const(id, span) else { return Self::error_expr(span) };
                let mut e = match &self.gcx.consts[id as usize].aggregate {
                    Some(value) => {
                        let mut v = value.clone();
                        v.span = span;
                        v
                    }
                    None => hir::Expr::new(H::Lit(lit), ty, span),
                };
                // `CONST.field` reads a field of the constant's value.
                for seg in rest {
                    let sp = Span::new(span.file, span.lo, seg.ident.span.hi);
                    e = match seg.ident.name.parse::<u32>() {
                        Ok(i) => self.check_tuple_field(e, i, sp),
                        Err(_) => self.check_field_access(e, &seg.ident, sp),
                    };
                }
                e
            }
            (Def::Enum(id), rest) => match self.enum_variant(id, rest, span) {
                Some(value) => value,
                None => Self::error_expr(span),
            },
            (Def::Variant(a, v), []) => {
                let ty = self.adt_instance(a);
                self.unit_ctor(ty, v, span)
            }
            (Def::Adt(id), rest) => {
                if let [name] = rest
                    && self
                        .gcx
                        .methods
                        .get(&super::adts::TypeKey::Adt(id))
                        .is_some_and(|m| m.contains_key(&name.ident.name))
                {
                    let func = self.gcx.methods[&super::adts::TypeKey::Adt(id)][&name.ident.name].0;
                    return self.fn_value(func, name.generic_args.as_deref(), span);
                }
                match self.adt_member(id, rest, span) {
                    Some((ty, variant)) => self.unit_ctor(ty, variant, span),
                    None => Self::error_expr(span),
                }
            }
            (Def::Fn(f), []) => self.fn_value(f, path.segments.last().and_then(|s| s.generic_args.as_deref()), span),
            (Def::Module(m), []) => {
                let name = self.gcx.scopes.module_name(m).to_string();
                self.error(Diagnostic::error(format!("module `{name}` is not a value"), span));
                Self::error_expr(span)
            }
            (Def::Trait(_), _) => {
                self.error(Diagnostic::error("a trait is not a value", span));
                Self::error_expr(span)
            }
            (Def::Alias(_), _) => {
                self.error(Diagnostic::error("a type alias is not a value", span));
                Self::error_expr(span)
            }
            (_, [next, ..]) => {
                self.error(Diagnostic::error(format!("unexpected `.{}` after this item", next.ident.name), span));
                Self::error_expr(span)
            }
        }
    }

    /// `Enum.Variant` (or `Enum::Variant`) as a value or pattern: the variant's discriminant,
    /// typed as the enum.
    pub fn enum_variant(&mut self, id: u32, rest: &[ast::PathSegment], span: Span) -> Option<hir::Expr> {
        let def = self.gcx.enums[id as usize].clone();
        let [variant] = rest else {
            let msg = if rest.is_empty() {
                format!("the enum `{}` is not a value; name one of its variants: `{}.Variant`", def.name, def.name)
            } else {
                format!("unexpected path after the variant of `{}`", def.name)
            };
            self.error(Diagnostic::error(msg, span));
            return None;
        };
        let Some(&(_, value)) = def.variants.iter().find(|(n, _)| *n == variant.ident.name) else {
            self.error(Diagnostic::error(
                format!("no variant `{}` in enum `{}`", variant.ident.name, def.name),
                variant.ident.span,
            ));
            return None;
        };
        let lit = Lit::Int { negative: value < 0, magnitude: value.unsigned_abs() };
        Some(hir::Expr::new(H::Lit(lit), self.gcx.enum_ty(id), span))
    }

    pub fn undefined_name(&mut self, ident: &ast::Ident) {
        let mut d = Diagnostic::error(format!("undefined name `{}`", ident.name), ident.span);
        if let Some(s) = suggest(&ident.name, &self.visible_names()) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        self.error(d);
    }

    fn check_unary(&mut self, op: ast::UnOp, inner: &'a ast::Expr, span: Span) -> hir::Expr {
        match op {
            ast::UnOp::Neg => {
                if let A::Lit(lit @ (ast::Lit::Int { .. } | ast::Lit::Float { .. })) = &inner.kind {
                    let h = self.check_lit(lit, true, span);
                    self.deferred.push(Deferred::Operand { span, ty: h.ty.clone(), class: OperandClass::Neg, op: "-" });
                    return h;
                }
                let inner = self.check_expr(inner);
                self.deferred.push(Deferred::Operand { span, ty: inner.ty.clone(), class: OperandClass::Neg, op: "-" });
                let ty = inner.ty.clone();
                hir::Expr::new(H::Unary(hir::UnOp::Neg, Box::new(inner)), ty, span)
            }
            ast::UnOp::Not => {
                let inner = self.check_expr(inner);
                self.deferred.push(Deferred::Operand { span, ty: inner.ty.clone(), class: OperandClass::Not, op: "!" });
                let ty = inner.ty.clone();
                hir::Expr::new(H::Unary(hir::UnOp::Not, Box::new(inner)), ty, span)
            }
            ast::UnOp::Deref => self.check_deref(inner, span),
        }
    }

    fn check_binary(&mut self, op: BinOp, lhs: &'a ast::Expr, rhs: &'a ast::Expr, span: Span) -> hir::Expr {
        if matches!(op, BinOp::And | BinOp::Or) {
            let l = self.check_expr_expect(lhs, &Ty::Bool);
            let r = self.check_expr_expect(rhs, &Ty::Bool);
            return hir::Expr::new(H::Binary(op, Box::new(l), Box::new(r)), Ty::Bool, span);
        }
        let l = self.check_expr(lhs);
        let r = self.check_expr(rhs);
        let ty = self.check_operands(op, &l.ty, &r.ty, rhs, span);
        hir::Expr::new(H::Binary(op, Box::new(l), Box::new(r)), ty, span)
    }

    /// Type rules shared by binary operators and compound assignment; returns the result type.
    fn check_operands(&mut self, op: BinOp, lt: &Ty, rt: &Ty, rhs: &ast::Expr, span: Span) -> Ty {
        if matches!(op, BinOp::Div | BinOp::Rem) && is_literal_zero(rhs) {
            let note = if op == BinOp::Div { "division by zero" } else { "remainder by zero" };
            self.error(
                Diagnostic::error("invalid binary operator for the given types", span)
                    .with_code("E0216")
                    .with_note(note),
            );
        }
        if matches!(op, BinOp::Shl | BinOp::Shr) {
            self.deferred.push(Deferred::Operand {
                span,
                ty: lt.clone(),
                class: OperandClass::Integer,
                op: op.symbol(),
            });
            self.deferred.push(Deferred::Operand {
                span,
                ty: rt.clone(),
                class: OperandClass::Integer,
                op: op.symbol(),
            });
            return lt.clone();
        }
        let l = self.resolve(lt);
        let r = self.resolve(rt);
        let result = if l == Ty::Never { r.clone() } else { l.clone() };
        if l != Ty::Never && r != Ty::Never && !self.infer.unify(&l, &r) {
            let (ls, rs) = (self.display_ty(&l), self.display_ty(&r));
            if op.is_comparison() || !(l == Ty::Bool || r == Ty::Bool) {
                self.error(
                    Diagnostic::error("type mismatch", span)
                        .with_code("E0201")
                        .with_label(format!("`{ls}` {} `{rs}`", op.symbol()))
                        .with_note(format!("both operands of `{}` must have the same type", op.symbol())),
                );
            } else {
                self.error(
                    Diagnostic::error("invalid binary operator for the given types", span)
                        .with_code("E0216")
                        .with_note(format!("cannot apply `{}` to `{ls}` and `{rs}`", op.symbol())),
                );
            }
            return if op.is_comparison() { Ty::Bool } else { Ty::Error };
        }
        let class = match op {
            BinOp::Eq | BinOp::Ne => OperandClass::Equality,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => OperandClass::Ordered,
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => OperandClass::IntegerOrBool,
            _ => OperandClass::Numeric,
        };
        self.deferred.push(Deferred::Operand { span, ty: result.clone(), class, op: op.symbol() });
        if op.is_comparison() { Ty::Bool } else { result }
    }

    fn check_assign(&mut self, op: Option<BinOp>, lhs: &'a ast::Expr, rhs: &'a ast::Expr, span: Span) -> hir::Expr {
        let unit = |kind| hir::Expr::new(kind, Ty::Unit, span);
        let place = match &lhs.kind {
            A::Path(_) | A::Field(..) | A::TupleField(..) | A::Index(..) | A::Unary(ast::UnOp::Deref, _) => {
                self.check_expr(lhs)
            }
            _ => {
                self.error(Diagnostic::error("invalid left-hand side of assignment", lhs.span));
                self.check_expr(rhs);
                return Self::error_expr(span);
            }
        };
        if place.ty == Ty::Error {
            self.check_expr(rhs);
            return Self::error_expr(span);
        }
        if !super::data::is_place(&place) {
            self.error(Diagnostic::error("invalid left-hand side of assignment", lhs.span));
            self.check_expr(rhs);
            return Self::error_expr(span);
        }
        self.require_mutable_place(&place, lhs.span, "assign");
        let place_ty = place.ty.clone();
        match op {
            None => {
                let value = self.check_expr_expect(rhs, &place_ty);
                unit(H::Assign { place: Box::new(place), value: Box::new(value) })
            }
            Some(op) => {
                let value = self.check_expr(rhs);
                let result = self.check_operands(op, &place_ty, &value.ty, rhs, span);
                if !matches!(op, BinOp::Shl | BinOp::Shr) {
                    self.coerce(&result, &place_ty, span);
                }
                unit(H::AssignOp { op, place: Box::new(place), value: Box::new(value) })
            }
        }
    }

    /// `x in lo..hi` → `{ let t = x; lo <= t && t < hi }` (x evaluated once).
    fn check_in(&mut self, expr: &'a ast::Expr, range: &'a ast::Expr, span: Span) -> hir::Expr {
        let value = self.check_expr(expr);
        let A::Range { lo: Some(lo), hi: Some(hi), inclusive } = &range.kind else {
            self.error(Diagnostic::error("`in` needs a range with both bounds: `x in lo..hi`", range.span));
            return Self::error_expr(span);
        };
        let lo = self.check_expr_expect(lo, &value.ty);
        let hi = self.check_expr_expect(hi, &value.ty);
        self.deferred.push(Deferred::Operand { span, ty: value.ty.clone(), class: OperandClass::Ordered, op: "in" });
        let ty = value.ty.clone();
        self.scopes.push(Vec::new());
        let tmp = self.declare_local("in$value", ty.clone(), false);
        self.scopes.pop();
        let t = || hir::Expr::new(H::Local(tmp), ty.clone(), span);
        let lower = hir::Expr::new(H::Binary(BinOp::Le, Box::new(lo), Box::new(t())), Ty::Bool, span);
        let upper_op = if *inclusive { BinOp::Le } else { BinOp::Lt };
        let upper = hir::Expr::new(H::Binary(upper_op, Box::new(t()), Box::new(hi)), Ty::Bool, span);
        let both = hir::Expr::new(H::Binary(BinOp::And, Box::new(lower), Box::new(upper)), Ty::Bool, span);
        hir::Expr::new(
            H::Block { stmts: vec![hir::Stmt::Let { local: Some(tmp), init: value }], tail: Some(Box::new(both)) },
            Ty::Bool,
            span,
        )
    }
}

fn is_literal_zero(e: &ast::Expr) -> bool {
    match &e.kind {
        A::Lit(ast::Lit::Int { value: 0, .. }) => true,
        A::Unary(ast::UnOp::Neg, inner) => is_literal_zero(inner),
        _ => false,
    }
}

pub(super) fn int_suffix(s: ast::IntSuffix) -> IntTy {
    match s {
        ast::IntSuffix::I8 => IntTy::I8,
        ast::IntSuffix::I16 => IntTy::I16,
        ast::IntSuffix::I32 => IntTy::I32,
        ast::IntSuffix::I64 => IntTy::I64,
        ast::IntSuffix::I128 => IntTy::I128,
        ast::IntSuffix::Isize => IntTy::Isize,
        ast::IntSuffix::U8 => IntTy::U8,
        ast::IntSuffix::U16 => IntTy::U16,
        ast::IntSuffix::U32 => IntTy::U32,
        ast::IntSuffix::U64 => IntTy::U64,
        ast::IntSuffix::U128 => IntTy::U128,
        ast::IntSuffix::Usize => IntTy::Usize,
    }
}
