//! Checking level-L1 data expressions (LANGUAGE.md §4.1–§4.5): tuples, arrays, struct literals
//! and variant constructors, field access, indexing, references and dereferencing, and the
//! places that assignment and `&mut` need.
//!
//! References are made explicit here: field access, indexing and method receivers
//! auto-dereference by wrapping their base in [`H::Deref`] nodes, so the IR builder never has to
//! guess. A *place expression* is a local, a field or index of a place, or a dereference; only
//! those can be assigned or borrowed (a borrowed temporary is materialised by the IR builder).

use crate::diagnostics::Diagnostic;
use crate::hir::{self, ExprKind as H};
use crate::source::Span;
use crate::syntax::ast;
use crate::types::{CtorKind, InferKind, IntTy, Ty};

use super::FnCx;
use super::finish::{Deferred, OperandClass};

impl<'a> FnCx<'_, 'a> {
    pub(super) fn check_tuple(&mut self, elems: &'a [ast::Expr], span: Span) -> hir::Expr {
        let elems: Vec<hir::Expr> = elems.iter().map(|e| self.check_expr(e)).collect();
        let ty = Ty::tuple(elems.iter().map(|e| e.ty.clone()).collect());
        hir::Expr::new(H::Tuple(elems), ty, span)
    }

    pub(super) fn check_array(&mut self, elems: &'a [ast::Expr], span: Span) -> hir::Expr {
        let elem_ty = self.infer.fresh(InferKind::General);
        let elems: Vec<hir::Expr> = elems.iter().map(|e| self.check_expr_expect(e, &elem_ty)).collect();
        let ty = Ty::Array(elem_ty.into(), elems.len() as u64);
        hir::Expr::new(H::Array(elems), ty, span)
    }

    pub(super) fn check_repeat(&mut self, value: &'a ast::Expr, count: &'a ast::Expr, span: Span) -> hir::Expr {
        let value = self.check_expr(value);
        let scopes = self.item_scopes.clone();
        let Some(n) = self.gcx.array_length(count, &scopes) else { return Self::error_expr(span) };
        let ty = Ty::Array(value.ty.clone().into(), n);
        hir::Expr::new(H::Repeat(Box::new(value), n), ty, span)
    }

    /// Wraps `e` in dereferences until its type is neither a reference nor a `Box`.
    pub(super) fn autoderef(&mut self, mut e: hir::Expr) -> hir::Expr {
        loop {
            match self.resolve(&e.ty) {
                Ty::Ref(inner, _) | Ty::Owned(crate::types::OwnedKind::Box, inner) => {
                    let span = e.span;
                    e = hir::Expr::new(H::Deref(Box::new(e)), (*inner).clone(), span);
                }
                _ => return e,
            }
        }
    }

    /// `base.name` (named field) with auto-dereference.
    pub(super) fn check_field_access(&mut self, base: hir::Expr, name: &ast::Ident, span: Span) -> hir::Expr {
        let base = self.autoderef(base);
        let ty = self.resolve(&base.ty);
        match &ty {
            Ty::Adt(a, args) if !self.gcx.adts.def(a).is_enum => {
                let def = self.gcx.adts.def(a);
                match def.variants[0].fields.iter().position(|f| f.name == name.name) {
                    Some(i) if def.variants[0].ctor == CtorKind::Named => {
                        let fty = self.gcx.adts.field_tys(a, args, 0)[i].clone();
                        hir::Expr::new(H::Field { base: Box::new(base), index: i as u32 }, fty, span)
                    }
                    _ => {
                        let type_name = def.name.clone();
                        self.error(
                            Diagnostic::error("field does not exist", name.span)
                                .with_code("E0213")
                                .with_note(format!("`{type_name}` has no field `{}`", name.name)),
                        );
                        Self::error_expr(span)
                    }
                }
            }
            Ty::Error => Self::error_expr(span),
            _ => {
                let shown = self.display_ty(&ty);
                self.error(
                    Diagnostic::error("type is not a struct", span)
                        .with_code("E0212")
                        .with_note(format!("`{shown}` has no field `{}`", name.name)),
                );
                Self::error_expr(span)
            }
        }
    }

    /// `base.0` on a tuple or tuple struct, with auto-dereference.
    pub(super) fn check_tuple_field(&mut self, base: hir::Expr, index: u32, span: Span) -> hir::Expr {
        let base = self.autoderef(base);
        let ty = self.resolve(&base.ty);
        let field_ty = match &ty {
            Ty::Tuple(elems) => elems.get(index as usize).cloned(),
            Ty::Adt(a, args) if !self.gcx.adts.def(a).is_enum => {
                let def = self.gcx.adts.def(a);
                if def.variants[0].ctor == CtorKind::Tuple {
                    self.gcx.adts.field_tys(a, args, 0).get(index as usize).cloned()
                } else {
                    let type_name = def.name.clone();
                    self.error(
                        Diagnostic::error("field does not exist", span)
                            .with_code("E0213")
                            .with_note(format!("`{type_name}` has no field `{index}`")),
                    );
                    return Self::error_expr(span);
                }
            }
            Ty::Error => return Self::error_expr(span),
            _ => {
                let shown = self.display_ty(&ty);
                self.error(
                    Diagnostic::error("type is not a tuple", span)
                        .with_code("E0227")
                        .with_note(format!("`{shown}` has no numbered fields")),
                );
                return Self::error_expr(span);
            }
        };
        match field_ty {
            Some(t) => hir::Expr::new(H::Field { base: Box::new(base), index }, t, span),
            None => {
                let shown = self.display_ty(&ty);
                self.error(
                    Diagnostic::error("field does not exist", span)
                        .with_code("E0213")
                        .with_note(format!("`{shown}` has no field `{index}`")),
                );
                Self::error_expr(span)
            }
        }
    }

    /// `base[index]` on arrays and slices (references dereferenced automatically).
    pub(super) fn check_index(&mut self, base: &'a ast::Expr, index: &'a ast::Expr, span: Span) -> hir::Expr {
        let base = self.check_expr(base);
        let base = self.autoderef(base);
        let index = self.check_expr(index);
        self.deferred.push(Deferred::Operand {
            span: index.span,
            ty: index.ty.clone(),
            class: OperandClass::Integer,
            op: "index",
        });
        let ty = self.resolve(&base.ty);
        let (base, elem) = match &ty {
            Ty::Array(elem, _) | Ty::Slice(elem) => (base, (**elem).clone()),
            // A vector is indexed through its elements' slice place (LANGUAGE.md §5.5).
            Ty::Owned(crate::types::OwnedKind::Vec, elem) => (super::heap::elements(base, elem), (**elem).clone()),
            Ty::Owned(crate::types::OwnedKind::String, _) => {
                return self.unsupported_expr(span, "indexing `String` (use `as_bytes()`)");
            }
            Ty::Error => return Self::error_expr(span),
            Ty::Str => return self.unsupported_expr(span, "indexing `&str` (use `as_bytes()`)"),
            _ => {
                let shown = self.display_ty(&ty);
                self.error(
                    Diagnostic::error("expression is not indexable", span)
                        .with_code("E0218")
                        .with_note(format!("`{shown}` cannot be indexed")),
                );
                return Self::error_expr(span);
            }
        };
        hir::Expr::new(H::Index { base: Box::new(base), index: Box::new(index) }, elem, span)
    }

    pub(super) fn check_addr_of(&mut self, mutable: bool, inner: &'a ast::Expr, span: Span) -> hir::Expr {
        let place = self.check_expr(inner);
        if mutable && is_place(&place) {
            self.require_mutable_place(&place, inner.span, "borrow as mutable");
        }
        let ty = Ty::reference(place.ty.clone(), mutable);
        hir::Expr::new(H::AddrOf { mutable, place: Box::new(place) }, ty, span)
    }

    pub(super) fn check_deref(&mut self, inner: &'a ast::Expr, span: Span) -> hir::Expr {
        let inner = self.check_expr(inner);
        match self.resolve(&inner.ty) {
            Ty::Ref(t, _) | Ty::Owned(crate::types::OwnedKind::Box, t) => {
                hir::Expr::new(H::Deref(Box::new(inner)), (*t).clone(), span)
            }
            Ty::Error => Self::error_expr(span),
            other => {
                let shown = self.display_ty(&other);
                self.error(
                    Diagnostic::error("type mismatch", span)
                        .with_code("E0201")
                        .with_note(format!("cannot dereference `{shown}`: it is not a reference")),
                );
                Self::error_expr(span)
            }
        }
    }

    /// Reports an error unless `place` may be written (assignment, `&mut`): a `mut` local, or a
    /// place reached through `&mut`.
    pub(super) fn require_mutable_place(&mut self, place: &hir::Expr, span: Span, what: &str) {
        match &place.kind {
            H::Local(l) if self.check_captured_write(*l, span, what) => {}
            H::Local(l) => {
                let info = self.locals[l.0 as usize].clone();
                if !info.mutable {
                    let name = info.name;
                    self.error(
                        Diagnostic::error("cannot mutate immutable value", span)
                            .with_label(format!("`{name}` is not declared `mut`"))
                            .with_help(format!("declare it as `let mut {name}`")),
                    );
                }
            }
            H::Field { base, .. } | H::Index { base, .. } => self.require_mutable_place(base, span, what),
            H::Deref(r) => match self.resolve(&r.ty) {
                Ty::Ref(_, true) | Ty::Error => {}
                // A box's content and a vector's elements are as mutable as the box or vector.
                Ty::Owned(..) => self.require_mutable_place(r, span, what),
                _ => {
                    self.error(
                        Diagnostic::error("cannot mutate immutable value", span)
                            .with_label(format!("cannot {what} through a `&` reference"))
                            .with_help("use a `&mut` reference"),
                    );
                }
            },
            _ => {}
        }
    }

    /// A struct literal `Path { a: 1, b, ..base }` (also `Self { … }` and `E.V { … }`).
    pub(super) fn check_struct_lit(
        &mut self,
        path: &'a ast::Path,
        fields: &'a [ast::FieldInit],
        base: Option<&'a ast::Expr>,
        span: Span,
    ) -> hir::Expr {
        let Some((ty, variant)) = self.resolve_ctor_path(path, span) else {
            for f in fields {
                if let Some(v) = &f.value {
                    self.check_expr(v);
                }
            }
            return Self::error_expr(span);
        };
        let Ty::Adt(a, args) = &ty else { return Self::error_expr(span) };
        let def = self.gcx.adts.def(a).clone();
        let vdef = &def.variants[variant as usize];
        let field_tys = self.gcx.adts.field_tys(a, args, variant as usize);
        let mut seen = vec![false; vdef.fields.len()];
        let mut out = Vec::new();
        for f in fields {
            let Some(i) = vdef.fields.iter().position(|d| d.name == f.name.name) else {
                if let Some(v) = &f.value {
                    self.check_expr(v);
                }
                self.error(
                    Diagnostic::error("field does not exist", f.name.span)
                        .with_code("E0213")
                        .with_note(format!("`{}` has no field `{}`", vdef.name, f.name.name)),
                );
                continue;
            };
            if seen[i] {
                self.error(Diagnostic::error(format!("field `{}` specified more than once", f.name.name), f.name.span));
            }
            seen[i] = true;
            let value = match &f.value {
                Some(v) => self.check_expr_expect(v, &field_tys[i]),
                None => {
                    let p = ast::Path {
                        segments: vec![ast::PathSegment { ident: f.name.clone(), generic_args: None }],
                        span: f.name.span,
                    };
                    let e = self.check_path_expr(&p, f.name.span);
                    self.coerce_expr(e, &field_tys[i])
                }
            };
            out.push((i as u32, value));
        }
        let base = base.map(|b| Box::new(self.check_expr_expect(b, &ty)));
        if base.is_none() {
            let missing: Vec<&str> =
                vdef.fields.iter().zip(&seen).filter(|(_, s)| !**s).map(|(f, _)| f.name.as_str()).collect();
            if !missing.is_empty() {
                self.error(
                    Diagnostic::error("missing required field in struct literal", span)
                        .with_code("E0225")
                        .with_note(format!("missing: {}", missing.join(", "))),
                );
            }
        }
        hir::Expr::new(H::Adt { variant, fields: out, base }, ty, span)
    }

    /// `Name(args)` for a tuple struct or `E.V(args)` for a tuple variant.
    pub(super) fn check_tuple_ctor(&mut self, ty: Ty, variant: u32, args: &'a [ast::Arg], span: Span) -> hir::Expr {
        let Ty::Adt(a, targs) = &ty else { return Self::error_expr(span) };
        let def = self.gcx.adts.def(a).clone();
        let vdef = &def.variants[variant as usize];
        let field_tys = self.gcx.adts.field_tys(a, targs, variant as usize);
        if vdef.ctor != CtorKind::Tuple {
            for arg in args {
                self.check_expr(&arg.value);
            }
            let hint = match vdef.ctor {
                CtorKind::Named => format!("`{}` has named fields: use `{} {{ … }}`", vdef.name, vdef.name),
                _ => format!("`{}` has no fields: write it without parentheses", vdef.name),
            };
            self.error(Diagnostic::error("expression is not callable", span).with_note(hint));
            return Self::error_expr(span);
        }
        if args.len() != field_tys.len() {
            for arg in args {
                self.check_expr(&arg.value);
            }
            self.error(Diagnostic::error("wrong number of arguments", span).with_code("E0211").with_note(format!(
                "`{}` has {} field(s), found {}",
                vdef.name,
                field_tys.len(),
                args.len()
            )));
            return Self::error_expr(span);
        }
        let mut fields = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            if let Some(n) = &arg.name {
                self.error(Diagnostic::error("constructor arguments cannot be named", n.span));
            }
            fields.push((i as u32, self.check_expr_expect(&arg.value, &field_tys[i])));
        }
        hir::Expr::new(H::Adt { variant, fields, base: None }, ty, span)
    }

    /// A unit struct or a unit variant used as a value.
    pub(super) fn unit_ctor(&mut self, ty: Ty, variant: u32, span: Span) -> hir::Expr {
        let Ty::Adt(a, _) = &ty else { return Self::error_expr(span) };
        let vdef = self.gcx.adts.def(a).variants[variant as usize].clone();
        match vdef.ctor {
            CtorKind::Unit => hir::Expr::new(H::Adt { variant, fields: Vec::new(), base: None }, ty, span),
            CtorKind::Tuple => {
                self.unsupported_expr(span, &format!("the constructor `{}` as a function value (L2)", vdef.name))
            }
            CtorKind::Named => {
                self.error(
                    Diagnostic::error("missing required field in struct literal", span)
                        .with_code("E0225")
                        .with_note(format!("`{}` has named fields: use `{} {{ … }}`", vdef.name, vdef.name)),
                );
                Self::error_expr(span)
            }
        }
    }

    /// `Name<?…>`: ADT `id` with a fresh inference variable per type parameter.
    pub(super) fn adt_instance(&mut self, id: u32) -> Ty {
        let n = self.gcx.adts.defs[id as usize].generics.len();
        let args: Vec<Ty> = (0..n).map(|_| self.infer.fresh(InferKind::General)).collect();
        self.gcx.adt_ty_with(id, args)
    }

    /// `e?` (LANGUAGE.md §5.4): `match e { Some(v) => v, None => return None }`, and for
    /// `Result`: `match e { Ok(v) => v, Err(x) => return Err(x) }`.
    pub(super) fn check_try(&mut self, inner: &'a ast::Expr, span: Span) -> hir::Expr {
        let value = self.check_expr(inner);
        let ty = self.resolve(&value.ty);
        let ret = self.resolve(&self.ret.clone());
        let (opt, res) = (self.gcx.prelude_option, self.gcx.prelude_result);
        let id_of = |t: &Ty| match t {
            Ty::Adt(a, _) => Some(a.id),
            _ => None,
        };
        let kind = match (id_of(&ty), id_of(&ret)) {
            (Some(a), Some(b)) if a == b && (Some(a) == opt || Some(a) == res) => a,
            _ => {
                if ty != Ty::Error {
                    self.error(Diagnostic::error("the `?` operator cannot be used here", span).with_note(
                        "`?` needs an `Option` in a function returning `Option`, or a `Result` in a function returning `Result`",
                    ));
                }
                return Self::error_expr(span);
            }
        };
        let (Ty::Adt(_, args), Ty::Adt(_, ret_args)) = (&ty, &ret) else { return Self::error_expr(span) };
        let is_result = Some(kind) == res;
        // Variant indices as declared in the prelude: Option { None, Some(T) }, Result { Ok(T), Err(E) }.
        let (ok_variant, fail_variant) = if is_result { (0, 1) } else { (1, 0) };
        let ok_ty = args[0].clone();
        self.scopes.push(Vec::new());
        let v = self.declare_local("try$value", ok_ty.clone(), false);
        let pat_v =
            hir::Pat { kind: hir::PatKind::Binding { local: v, sub: None, by_ref: false }, ty: ok_ty.clone(), span };
        let ok_arm = hir::MatchArm {
            pat: hir::Pat {
                kind: hir::PatKind::Adt { variant: ok_variant, fields: vec![(0, pat_v)] },
                ty: ty.clone(),
                span,
            },
            guard: None,
            body: hir::Expr::new(H::Local(v), ok_ty, span),
        };
        let (fail_fields, ret_fields) = if is_result {
            self.coerce(&args[1], &ret_args[1], span);
            let x = self.declare_local("try$error", args[1].clone(), false);
            let pat_x = hir::Pat {
                kind: hir::PatKind::Binding { local: x, sub: None, by_ref: false },
                ty: args[1].clone(),
                span,
            };
            (vec![(0, pat_x)], vec![(0, hir::Expr::new(H::Local(x), args[1].clone(), span))])
        } else {
            (Vec::new(), Vec::new())
        };
        self.scopes.pop();
        let ret_value = hir::Expr::new(H::Adt { variant: fail_variant, fields: ret_fields, base: None }, ret, span);
        let fail_arm = hir::MatchArm {
            pat: hir::Pat {
                kind: hir::PatKind::Adt { variant: fail_variant, fields: fail_fields },
                ty: ty.clone(),
                span,
            },
            guard: None,
            body: hir::Expr::new(H::Return(Some(Box::new(ret_value))), Ty::Never, span),
        };
        let result_ty = ok_arm.body.ty.clone();
        hir::Expr::new(H::Match { scrutinee: Box::new(value), arms: vec![ok_arm, fail_arm] }, result_ty, span)
    }

    /// Resolves the path of a struct literal or pattern to (type, variant index).
    pub(super) fn resolve_ctor_path(&mut self, path: &ast::Path, span: Span) -> Option<(Ty, u32)> {
        let (def, used) = self.resolve_item_path(path)?;
        let rest = &path.segments[used..];
        match def {
            crate::resolve::Def::Adt(id) => self.adt_member(id, rest, span),
            crate::resolve::Def::Variant(a, v) if rest.is_empty() => Some((self.adt_instance(a), v)),
            crate::resolve::Def::Enum(_) => {
                self.error(Diagnostic::error("this enum variant has no fields", span));
                None
            }
            _ => {
                let text: Vec<&str> = path.segments.iter().map(|s| s.ident.name.as_str()).collect();
                self.error(Diagnostic::error(format!("`{}` is not a struct or enum variant", text.join(".")), span));
                None
            }
        }
    }

    /// `S` (a struct: variant 0) or `E.V` (a variant of a payload enum).
    pub(super) fn adt_member(&mut self, id: u32, rest: &[ast::PathSegment], span: Span) -> Option<(Ty, u32)> {
        let def = self.gcx.adts.defs[id as usize].clone();
        let ty = self.adt_instance(id);
        match (def.is_enum, rest) {
            (false, []) => Some((ty, 0)),
            (true, [v]) => match def.variants.iter().position(|x| x.name == v.ident.name) {
                Some(i) => Some((ty, i as u32)),
                None => {
                    self.error(Diagnostic::error(
                        format!("no variant `{}` in enum `{}`", v.ident.name, def.name),
                        v.ident.span,
                    ));
                    None
                }
            },
            (true, []) => {
                self.error(Diagnostic::error(
                    format!("the enum `{0}` is not a value; name one of its variants: `{0}.Variant`", def.name),
                    span,
                ));
                None
            }
            (_, [next, ..]) => {
                self.error(Diagnostic::error(format!("unexpected `.{}` after `{}`", next.ident.name, def.name), span));
                None
            }
        }
    }

    /// Coerces `e` to `expected`: `&[T; N]` → `&[T]`, `&mut T` → `&T`, `&Box<T>` → `&T`;
    /// otherwise unifies (and reports a mismatch).
    pub(super) fn coerce_expr(&mut self, e: hir::Expr, expected: &Ty) -> hir::Expr {
        let found = self.resolve(&e.ty);
        let want = self.resolve(expected);
        if let (Ty::Ref(inner, m), Ty::Ref(want_inner, want_m)) = (&found, &want)
            && (*m || !*want_m)
        {
            let inner = self.resolve(inner);
            let want_inner_r = self.resolve(want_inner);
            if let (Ty::Array(elem, _), Ty::Slice(want_elem)) = (&inner, &want_inner_r) {
                if self.infer.unify(elem, want_elem) {
                    let span = e.span;
                    return hir::Expr::new(H::Unsize(Box::new(e)), want, span);
                }
            } else if let Ty::Owned(crate::types::OwnedKind::Box, boxed) = &inner
                && !matches!(want_inner_r, Ty::Infer(_) | Ty::Owned(crate::types::OwnedKind::Box, _))
                && self.infer.unify(boxed, &want_inner_r)
            {
                // `&Box<T>` where `&T` is expected: `&**e` (a borrow of the boxed value).
                let span = e.span;
                let boxed_ty = (**boxed).clone();
                let the_box = hir::Expr::new(H::Deref(Box::new(e)), inner.clone(), span);
                let value = hir::Expr::new(H::Deref(Box::new(the_box)), boxed_ty, span);
                return hir::Expr::new(H::AddrOf { mutable: *want_m, place: Box::new(value) }, want, span);
            } else if *m && !*want_m && self.infer.unify(&inner, &want_inner_r) {
                let mut e = e;
                e.ty = want;
                return e;
            }
        }
        let span = e.span;
        self.coerce(&e.ty, expected, span);
        e
    }

    /// Builtin methods of arrays and slices (`len`, `is_empty`, `contains`) and `as_bytes` of
    /// `&str`; `None` when `name` is not one.
    pub(super) fn check_sequence_method(
        &mut self,
        receiver: &hir::Expr,
        name: &ast::Ident,
        args: &'a [ast::Arg],
        span: Span,
    ) -> Option<hir::Expr> {
        let seq = self.autoderef(receiver.clone());
        let elem = match self.resolve(&seq.ty) {
            Ty::Array(e, _) | Ty::Slice(e) => (*e).clone(),
            _ => return None,
        };
        let arity = |cx: &mut Self, n: usize| {
            if args.len() != n {
                cx.error(
                    Diagnostic::error("wrong number of arguments", span)
                        .with_code("E0211")
                        .with_note(format!("expected {n} argument(s), found {}", args.len())),
                );
                false
            } else {
                true
            }
        };
        let usize_t = Ty::Int(IntTy::Usize);
        let len = |seq: hir::Expr| hir::Expr::new(H::Len(Box::new(seq)), Ty::Int(IntTy::Usize), span);
        match name.name.as_str() {
            "len" => Some(if arity(self, 0) { len(seq) } else { Self::error_expr(span) }),
            "is_empty" => {
                if !arity(self, 0) {
                    return Some(Self::error_expr(span));
                }
                let zero = hir::Expr::new(H::Lit(hir::Lit::Int { negative: false, magnitude: 0 }), usize_t, span);
                Some(hir::Expr::new(H::Binary(ast::BinOp::Eq, Box::new(len(seq)), Box::new(zero)), Ty::Bool, span))
            }
            "contains" => {
                if !arity(self, 1) {
                    return Some(Self::error_expr(span));
                }
                let want = Ty::reference(elem.clone(), false);
                let needle = self.check_expr(&args[0].value);
                let needle = self.coerce_expr(needle, &want);
                self.deferred.push(Deferred::Operand { span, ty: elem, class: OperandClass::Equality, op: "contains" });
                Some(hir::Expr::new(
                    H::Builtin { builtin: hir::Builtin::SliceContains, args: vec![seq, needle] },
                    Ty::Bool,
                    span,
                ))
            }
            _ => None,
        }
    }
}

pub(crate) use crate::hir::is_place;
