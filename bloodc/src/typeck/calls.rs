//! Checking calls: resolving callees (functions, builtins, constructors, associated and trait
//! functions, type parameters' functions), binding arguments to parameters, instantiating
//! generic signatures, and method calls with receiver adjustment (LANGUAGE.md §3.2, §4.10,
//! §5.1–§5.3).

use crate::diagnostics::Diagnostic;
use crate::hir::{self, ExprKind as H};
use crate::source::Span;
use crate::syntax::ast::{self, ExprKind as A};
use crate::types::{InferKind, Ty};

use super::FnCx;
use super::builtins::{self, BuiltinCallee};
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
    pub(super) fn check_call(
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
        let Some(mut resolved) = self.resolve_callee(callee) else {
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
        let params: Vec<(String, Ty)> = match &mut resolved {
            Callee::Ctor(..) => unreachable!("handled above"),
            Callee::Fn(f) => {
                let (sig, targs) = self.instantiate_sig(*f, callee_generic_args(callee), span);
                self.note_call_row(super::effects::effective_row(&sig), span);
                type_args = targs;
                fn_ret = sig.ret.clone();
                sig.params.iter().map(|(n, t, _)| (n.clone(), t.clone())).collect()
            }
            Callee::TraitFn(f, impl_args) => {
                let (sig, targs) = self.instantiate_sig(*f, None, span);
                self.note_call_row(super::effects::effective_row(&sig), span);
                for (a, b) in targs.iter().zip(impl_args) {
                    self.infer.unify(a, b);
                }
                type_args = targs;
                fn_ret = sig.ret.clone();
                sig.params.iter().map(|(n, t, _)| (n.clone(), t.clone())).collect()
            }
            Callee::Builtin(b) => {
                self.instantiate_builtin(b, callee_generic_args(callee), span);
                b.params.iter().enumerate().map(|(i, t)| (format!("arg{i}"), t.clone())).collect()
            }
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
            self.note_call_row(super::effects::effective_row(&sig), span);
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
            self.note_call_row(super::effects::effective_row(&sig), span);
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
            effects: sig.effects,
        };
        (inst, args)
    }

    /// A generic builtin (one parameter `T`, see `builtins::lookup`): `T` becomes the turbofish
    /// argument or a fresh inference variable.
    fn instantiate_builtin(&mut self, b: &mut BuiltinCallee, explicit: Option<&[ast::Type]>, span: Span) {
        let generic = b.params.iter().chain(std::iter::once(&b.ret)).any(|t| t.has_params());
        if !generic {
            if explicit.is_some() {
                self.error(
                    Diagnostic::error("type mismatch", span)
                        .with_code("E0201")
                        .with_note("this function takes no type arguments"),
                );
            }
            return;
        }
        let t = match explicit {
            Some([t]) => {
                let scopes = self.item_scopes.clone();
                self.gcx.lower_type(t, &scopes)
            }
            _ => self.infer.fresh(InferKind::General),
        };
        let args = [t];
        b.params = b.params.iter().map(|p| p.subst(&args)).collect();
        b.ret = b.ret.subst(&args);
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
