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

use super::builtins::{self, BuiltinCallee};
use super::finish::{Deferred, OperandClass};
use super::{FnCx, suggest, unsupported};
use crate::resolve::Def;

/// What a callee path names.
pub(super) enum Callee {
    Fn(hir::FnId),
    Builtin(BuiltinCallee),
    /// A tuple struct or tuple variant constructor: the type and variant.
    Ctor(Ty, u32),
    /// A trait's associated function for a type: the function and the impl's type arguments.
    TraitFn(hir::FnId, Vec<Ty>),
}

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
                self.deferred.push(Deferred::Cast { span, from: inner.ty.clone(), to: target.clone() });
                hir::Expr::new(H::Cast(Box::new(inner)), target, span)
            }
            A::Call { callee, args } => self.check_call(callee, args, None, span),
            A::Pipe(lhs, rhs) => {
                let arg = self.check_expr(lhs);
                self.check_call(rhs, &[], Some(arg), span)
            }
            A::Macro(mac) => self.check_macro(mac, span),
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
                return self.unsupported_expr(span, "functions as values (language level L2)");
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

    /// Resolves the callee of a call; `None` after reporting an error.
    fn resolve_callee(&mut self, callee: &'a ast::Expr) -> Option<Callee> {
        let A::Path(path) = &callee.kind else {
            self.check_expr(callee);
            self.error(Diagnostic::error("expression is not callable", callee.span));
            return None;
        };
        let first = &path.segments[0];
        let name = &first.ident.name;
        if self.lookup_local(name).is_some() {
            if path.segments.len() > 1 {
                self.check_expr(callee);
                self.error(Diagnostic::error("expression is not callable", callee.span));
            } else {
                self.error(
                    Diagnostic::error("expression is not callable", callee.span)
                        .with_note(format!("`{name}` is a local variable")),
                );
            }
            return None;
        }
        if path.segments.len() == 1
            && self.gcx.scopes.lookup(&self.item_scopes, name, false).is_none()
            && let Some(b) = builtins::lookup(name)
        {
            return Some(Callee::Builtin(b));
        }
        // `T.method()` for a type parameter (bound to its concrete type in this instance) or
        // `Self.method()`.
        if path.segments.len() == 2
            && self.gcx.scopes.lookup(&self.item_scopes, name, true).is_none()
            && let Some((_, ty)) = self.gcx.type_env.iter().rev().find(|(n, _)| n == name).cloned()
        {
            let m = &path.segments[1].ident;
            if let Some(key) = super::adts::TypeKey::of(&ty)
                && let Some(&(f, _)) = self.gcx.methods.get(&key).and_then(|ms| ms.get(&m.name))
            {
                return Some(Callee::Fn(f));
            }
            return match self.gcx.find_trait_method(&ty, &m.name) {
                Some(tm) => Some(Callee::TraitFn(tm.func, tm.impl_args)),
                None => {
                    self.error(
                        Diagnostic::error("method does not exist", m.span)
                            .with_code("E0231")
                            .with_note(format!("`{ty}` has no associated function `{}`", m.name)),
                    );
                    None
                }
            };
        }
        let (def, used) = self.resolve_item_path(path)?;
        match def {
            Def::Fn(f) if used == path.segments.len() => Some(Callee::Fn(f)),
            Def::Variant(a, v) if used == path.segments.len() => Some(Callee::Ctor(self.adt_instance(a), v)),
            Def::Adt(a) if used == path.segments.len() || used + 1 == path.segments.len() => {
                if let Some(name) = path.segments.get(used)
                    && let Some(&(f, _)) =
                        self.gcx.methods.get(&super::adts::TypeKey::Adt(a)).and_then(|m| m.get(&name.ident.name))
                {
                    return Some(Callee::Fn(f));
                }
                if let Some(name) = path.segments.get(used)
                    && used + 1 == path.segments.len()
                {
                    let probe = self.adt_instance(a);
                    if let Some(tm) = self.trait_fn_for(&probe, &name.ident.name) {
                        return Some(tm);
                    }
                }
                let def = &self.gcx.adts.defs[a as usize];
                if let Some(name) = path.segments.get(used)
                    && !(def.is_enum && def.variants.iter().any(|v| v.name == name.ident.name))
                {
                    let type_name = def.name.clone();
                    if def.is_enum && name.ident.name.starts_with(|c: char| c.is_ascii_uppercase()) {
                        self.error(Diagnostic::error(
                            format!("no variant `{}` in enum `{type_name}`", name.ident.name),
                            name.ident.span,
                        ));
                        return None;
                    }
                    self.error(
                        Diagnostic::error("method does not exist", name.ident.span).with_code("E0231").with_note(
                            format!("`{type_name}` has no associated function or variant `{}`", name.ident.name),
                        ),
                    );
                    return None;
                }
                let (ty, variant) = self.adt_member(a, &path.segments[used..], callee.span)?;
                Some(Callee::Ctor(ty, variant))
            }
            Def::Enum(e) if used + 1 == path.segments.len() => {
                let name = &path.segments[used].ident;
                if let Some(&(f, _)) =
                    self.gcx.methods.get(&super::adts::TypeKey::Enum(e)).and_then(|m| m.get(&name.name))
                {
                    return Some(Callee::Fn(f));
                }
                let probe = self.gcx.enum_ty(e);
                if let Some(tm) = self.trait_fn_for(&probe, &name.name) {
                    return Some(tm);
                }
                let def = &self.gcx.enums[e as usize];
                if def.variants.iter().any(|(v, _)| *v == name.name) {
                    self.error(
                        Diagnostic::error("expression is not callable", callee.span)
                            .with_note(format!("the variant `{}` has no fields", name.name)),
                    );
                } else {
                    let type_name = def.name.clone();
                    self.error(
                        Diagnostic::error("method does not exist", name.span)
                            .with_code("E0231")
                            .with_note(format!("`{type_name}` has no associated function or variant `{}`", name.name)),
                    );
                }
                None
            }
            _ => {
                self.error(Diagnostic::error("expression is not callable", callee.span));
                None
            }
        }
    }

    /// For a path `E.V.rest…` naming a unit variant (of a fieldless or payload enum) followed by
    /// more segments, the number of segments that make up the variant value.
    fn value_prefix_len(&mut self, path: &ast::Path) -> Option<usize> {
        let segments: Vec<&str> = path.segments.iter().map(|s| s.ident.name.as_str()).collect();
        let from = self.current_module();
        let (def, used) = self.gcx.scopes.resolve_path(&self.item_scopes, from, &segments).ok()?;
        let variant = segments.get(used)?;
        let is_variant = match def {
            Def::Enum(e) => self.gcx.enums[e as usize].variants.iter().any(|(n, _)| n == variant),
            Def::Adt(a) => {
                let d = &self.gcx.adts.defs[a as usize];
                d.is_enum && d.variants.iter().any(|v| v.name == *variant)
            }
            _ => false,
        };
        (is_variant && used + 2 <= segments.len()).then_some(used + 1)
    }

    /// Checks a call `callee(args)`; `piped` is the already-checked left side of `|>`.
    fn check_call(
        &mut self,
        callee: &'a ast::Expr,
        args: &'a [ast::Arg],
        piped: Option<hir::Expr>,
        span: Span,
    ) -> hir::Expr {
        if let Some(value) = self.callee_value(callee) {
            return self.check_indirect_call(value, args, piped, span);
        }
        // `x.a.method(args)` on a local parses as a call of the path `x.a.method`.
        if let A::Path(path) = &callee.kind
            && piped.is_none()
            && path.segments.len() >= 2
            && self.lookup_local(&path.segments[0].ident.name).is_some()
        {
            let n = path.segments.len();
            let recv_path = ast::Path { segments: path.segments[..n - 1].to_vec(), span: path.span };
            let recv_span = Span::new(span.file, path.span.lo, path.segments[n - 2].ident.span.hi);
            let receiver = self.check_path_expr(&recv_path, recv_span);
            return self.check_method(receiver, &path.segments[n - 1].ident, args, span);
        }
        // `Enum.Variant.method(args)`: a method call on a unit variant.
        if let A::Path(path) = &callee.kind
            && piped.is_none()
            && path.segments.len() >= 3
            && self.lookup_local(&path.segments[0].ident.name).is_none()
            && let Some(n) = self.value_prefix_len(path)
        {
            let recv_path = ast::Path { segments: path.segments[..n].to_vec(), span: path.span };
            let recv_span = Span::new(span.file, path.span.lo, path.segments[n - 1].ident.span.hi);
            let mut receiver = self.check_path_expr(&recv_path, recv_span);
            for seg in &path.segments[n..path.segments.len() - 1] {
                receiver = self.check_field_access(receiver, &seg.ident, recv_span);
            }
            return self.check_method(receiver, &path.segments[path.segments.len() - 1].ident, args, span);
        }
        if piped.is_none()
            && let Some(e) = self.check_heap_assoc_call(callee, args, span)
        {
            return e;
        }
        let Some(resolved) = self.resolve_callee(callee) else {
            for a in args {
                self.check_expr(&a.value);
            }
            return Self::error_expr(span);
        };
        if let Callee::Ctor(ty, variant) = resolved {
            if let Some(p) = piped {
                self.error(Diagnostic::error("a constructor cannot be the target of `|>`", p.span));
                return Self::error_expr(span);
            }
            return self.check_tuple_ctor(ty, variant, args, span);
        }
        let mut type_args = Vec::new();
        let mut fn_ret = Ty::Unit;
        let params: Vec<(String, Ty)> = match &resolved {
            Callee::Ctor(..) => unreachable!("handled above"),
            Callee::Fn(f) => {
                let (sig, targs) = self.instantiate_sig(*f, callee_generic_args(callee), span);
                type_args = targs;
                fn_ret = sig.ret.clone();
                sig.params.iter().map(|(n, t, _)| (n.clone(), t.clone())).collect()
            }
            Callee::TraitFn(f, impl_args) => {
                let (sig, targs) = self.instantiate_sig(*f, None, span);
                for (a, b) in targs.iter().zip(impl_args) {
                    self.infer.unify(a, b);
                }
                type_args = targs;
                fn_ret = sig.ret.clone();
                sig.params.iter().map(|(n, t, _)| (n.clone(), t.clone())).collect()
            }
            Callee::Builtin(b) => b.params.iter().enumerate().map(|(i, t)| (format!("arg{i}"), t.clone())).collect(),
        };
        let Some(bound) = self.bind_args(&params, args, piped, span) else {
            return Self::error_expr(span);
        };
        match resolved {
            Callee::Ctor(..) => unreachable!("handled above"),
            Callee::Fn(func) | Callee::TraitFn(func, _) => {
                hir::Expr::new(H::Call { func, args: bound, type_args }, fn_ret, span)
            }
            Callee::Builtin(b) => {
                let mut ordered: Vec<Option<hir::Expr>> = (0..params.len()).map(|_| None).collect();
                for (i, e) in bound {
                    ordered[i] = Some(e);
                }
                let args = ordered.into_iter().map(|e| e.expect("every parameter bound")).collect();
                builtins::builtin_call_expr(self, b, args, span)
            }
        }
    }

    /// `receiver.name(args)` (LANGUAGE.md §4.10): inherent methods of the receiver's type after
    /// removing references, then builtin methods. The receiver is adjusted to the method's
    /// `self` kind (copy, `&` or `&mut` borrow).
    pub(super) fn check_method(
        &mut self,
        receiver: hir::Expr,
        name: &ast::Ident,
        args: &'a [ast::Arg],
        span: Span,
    ) -> hir::Expr {
        let base = self.autoderef(receiver.clone());
        let ty = self.infer.resolve_bound(&base.ty);
        if let Some(key) = super::adts::TypeKey::of(&ty)
            && let Some(&(func, takes_self)) = self.gcx.methods.get(&key).and_then(|m| m.get(&name.name))
        {
            if !self.gcx.method_applies(func, &ty) {
                for a in args {
                    self.check_expr(&a.value);
                }
                self.error(Diagnostic::error("method does not exist", name.span).with_code("E0231").with_note(
                    format!(
                        "`{}` exists only for types that meet its `impl`'s bounds, which `{ty}` does not",
                        name.name
                    ),
                ));
                return Self::error_expr(span);
            }
            if !takes_self {
                for a in args {
                    self.check_expr(&a.value);
                }
                self.error(Diagnostic::error("method does not exist", name.span).with_code("E0231").with_note(
                    format!(
                        "`{0}` is an associated function of `{1}`, not a method: call it as `{1}.{0}(…)`",
                        name.name, ty
                    ),
                ));
                return Self::error_expr(span);
            }
            let (sig, type_args) = self.instantiate_sig(func, None, span);
            let receiver = self.adjust_receiver(receiver, base, &sig.params[0].1, span);
            let params: Vec<(String, Ty)> = sig.params.iter().map(|(n, t, _)| (n.clone(), t.clone())).collect();
            let Some(bound) = self.bind_args(&params, args, Some(receiver), span) else {
                return Self::error_expr(span);
            };
            return hir::Expr::new(H::Call { func, args: bound, type_args }, sig.ret, span);
        }
        if let Some(e) = self.check_heap_method(&base, name, args, span) {
            return e;
        }
        if let Some(e) = self.check_sequence_method(&receiver, name, args, span) {
            return e;
        }
        let method = match ty {
            Ty::Str => builtins::str_method(&name.name),
            Ty::Error => return Self::error_expr(span),
            _ => None,
        };
        if method.is_none()
            && let Some(tm) = self.gcx.find_trait_method(&ty, &name.name)
        {
            if !tm.takes_self {
                for a in args {
                    self.check_expr(&a.value);
                }
                self.error(Diagnostic::error("method does not exist", name.span).with_code("E0231").with_note(
                    format!("`{0}` is an associated function, not a method: call it as `{1}.{0}(…)`", name.name, ty),
                ));
                return Self::error_expr(span);
            }
            let (sig, type_args) = self.instantiate_sig(tm.func, None, span);
            for (a, b) in type_args.iter().zip(&tm.impl_args) {
                self.infer.unify(a, b);
            }
            let receiver = self.adjust_receiver(receiver, base, &sig.params[0].1, span);
            let params: Vec<(String, Ty)> = sig.params.iter().map(|(n, t, _)| (n.clone(), t.clone())).collect();
            let Some(bound) = self.bind_args(&params, args, Some(receiver), span) else {
                return Self::error_expr(span);
            };
            return hir::Expr::new(H::Call { func: tm.func, args: bound, type_args }, sig.ret, span);
        }
        let Some(b) = method else {
            for a in args {
                self.check_expr(&a.value);
            }
            let shown = self.display_ty(&ty);
            self.error(
                Diagnostic::error("method does not exist", name.span)
                    .with_code("E0231")
                    .with_note(format!("`{shown}` has no method `{}`", name.name)),
            );
            return Self::error_expr(span);
        };
        let params: Vec<(String, Ty)> =
            b.params.iter().enumerate().map(|(i, t)| (format!("arg{i}"), t.clone())).collect();
        let Some(bound) = self.bind_args(&params, args, Some(base), span) else {
            return Self::error_expr(span);
        };
        let mut ordered: Vec<Option<hir::Expr>> = (0..params.len()).map(|_| None).collect();
        for (i, e) in bound {
            ordered[i] = Some(e);
        }
        let args = ordered.into_iter().map(|e| e.expect("every parameter bound")).collect();
        builtins::builtin_call_expr(self, b, args, span)
    }

    /// A trait's function named `name` implemented for `ty`, as a callee.
    fn trait_fn_for(&mut self, ty: &Ty, name: &str) -> Option<Callee> {
        let tm = self.gcx.find_trait_method(ty, name)?;
        Some(Callee::TraitFn(tm.func, tm.impl_args))
    }

    /// The signature of `func` as seen by one call: a template's type parameters become fresh
    /// inference variables (or the explicit turbofish arguments), returned as the call's type
    /// arguments.
    pub(super) fn instantiate_sig(
        &mut self,
        func: hir::FnId,
        explicit: Option<&[ast::Type]>,
        span: Span,
    ) -> (super::FnSig, Vec<Ty>) {
        let sig = self.gcx.sigs[func.0 as usize].clone();
        if sig.generics.is_empty() {
            return (sig, Vec::new());
        }
        let n = sig.generics.len();
        let mut args: Vec<Ty> = (0..n).map(|_| self.infer.fresh(InferKind::General)).collect();
        if let Some(explicit) = explicit {
            // Turbofish arguments name the function's own parameters (the last ones).
            if explicit.len() > n {
                self.error(
                    Diagnostic::error("type mismatch", span)
                        .with_code("E0201")
                        .with_note(format!("wrong number of type arguments: expected at most {n}")),
                );
            } else {
                let scopes = self.item_scopes.clone();
                for (slot, t) in args[n - explicit.len()..].iter_mut().zip(explicit) {
                    *slot = self.gcx.lower_type(t, &scopes);
                }
            }
        }
        let inst = super::FnSig {
            name: sig.name.clone(),
            params: sig.params.iter().map(|(p, t, m)| (p.clone(), t.subst(&args), *m)).collect(),
            ret: sig.ret.subst(&args),
            generics: Vec::new(),
            bounds: Vec::new(),
        };
        (inst, args)
    }

    /// Turns a receiver into the method's `self` parameter type `want`: the dereferenced value
    /// (`base`) for `self`, the receiver itself when it already is the right reference, or a
    /// borrow of `base`.
    fn adjust_receiver(&mut self, receiver: hir::Expr, base: hir::Expr, want: &Ty, span: Span) -> hir::Expr {
        let Ty::Ref(want_inner, mutable) = want else { return base };
        let recv_ty = self.resolve(&receiver.ty);
        if let Ty::Ref(inner, m) = &recv_ty
            && (*m || !*mutable)
            && !matches!(self.resolve(inner), Ty::Ref(..) | Ty::Owned(crate::types::OwnedKind::Box, _))
        {
            self.coerce(inner, want_inner, span);
            let mut r = receiver;
            r.ty = want.clone();
            return r;
        }
        if *mutable && super::data::is_place(&base) {
            self.require_mutable_place(&base, base.span, "borrow as mutable");
        }
        self.coerce(&base.ty, want_inner, span);
        hir::Expr::new(H::AddrOf { mutable: *mutable, place: Box::new(base) }, want.clone(), span)
    }

    /// Matches arguments to parameters (positional first, then named in any order), checks
    /// their types, and returns them in source order with their parameter index.
    pub(super) fn bind_args(
        &mut self,
        params: &[(String, Ty)],
        args: &'a [ast::Arg],
        piped: Option<hir::Expr>,
        span: Span,
    ) -> Option<Vec<(usize, hir::Expr)>> {
        let found = args.len() + usize::from(piped.is_some());
        if found != params.len() {
            self.error(
                Diagnostic::error("wrong number of arguments", span)
                    .with_code("E0211")
                    .with_note(format!("expected {} argument(s), found {found}", params.len())),
            );
            for a in args {
                self.check_expr(&a.value);
            }
            return None;
        }
        let mut bound: Vec<(usize, hir::Expr)> = Vec::new();
        let mut used = vec![false; params.len()];
        let mut next_positional = 0;
        let mut ok = true;
        if let Some(p) = piped {
            let p = self.coerce_expr(p, &params[0].1);
            bound.push((0, p));
            used[0] = true;
            next_positional = 1;
        }
        let mut seen_named = false;
        for arg in args {
            let index = match &arg.name {
                None => {
                    if seen_named {
                        self.error(Diagnostic::error("positional argument after named arguments", arg.value.span));
                        ok = false;
                    }
                    next_positional += 1;
                    Some(next_positional - 1)
                }
                Some(name) => {
                    seen_named = true;
                    match params.iter().position(|(n, _)| *n == name.name) {
                        Some(i) if used[i] => {
                            self.error(Diagnostic::error(
                                format!("parameter `{}` is given more than once", name.name),
                                name.span,
                            ));
                            ok = false;
                            None
                        }
                        Some(i) => Some(i),
                        None => {
                            self.error(Diagnostic::error(format!("unknown parameter name `{}`", name.name), name.span));
                            ok = false;
                            None
                        }
                    }
                }
            };
            match index {
                Some(i) if i < params.len() => {
                    used[i] = true;
                    let e = self.check_expr_expect(&arg.value, &params[i].1);
                    bound.push((i, e));
                }
                _ => {
                    self.check_expr(&arg.value);
                }
            }
        }
        ok.then_some(bound)
    }
}

/// The turbofish arguments of a callee path (`name::<T>`), if any.
fn callee_generic_args(callee: &ast::Expr) -> Option<&[ast::Type]> {
    match &callee.kind {
        A::Path(p) => p.segments.last().and_then(|s| s.generic_args.as_deref()),
        _ => None,
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
