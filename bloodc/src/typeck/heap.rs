//! Checking the builtin heap types `Vec<T>`, `String` and `Box<T>` (LANGUAGE.md §5.5): their
//! type syntax, associated functions (`Vec.new()`, `String.from(s)`, `Box.new(v)`, …) and
//! methods.
//!
//! Every operation becomes an ordinary HIR node so later stages need no new expression kinds:
//! * operations the IR builder expands are [`hir::Builtin::Heap`] calls whose receiver argument
//!   is made explicit — `&v` / `&mut v` for `&self` / `&mut self` methods — so a method call
//!   never moves its receiver (§5.5: "receivers of `&self`/`&mut self` methods" only read);
//! * a vector's elements are the slice place `Deref(v)` of type `[T]`, so `v.contains(&x)`,
//!   `v[i]` and `for x in &v` reuse the slice machinery of L1; `String.as_bytes()` is `&*s`;
//! * `String`'s `&str` queries call the `&str` builtins on `s.as_str()`.
//!
//! A `String` is handled as a `Vec<u8>` of UTF-8 bytes by the IR and codegen (its [`Ty`] argument
//! is `u8`), so the vector operations serve both.

use crate::diagnostics::Diagnostic;
use crate::hir::{self, Builtin, ExprKind as H, HeapOp, StrOp};
use crate::source::Span;
use crate::syntax::ast;
use crate::types::{InferKind, IntTy, OwnedKind, Ty};

use super::FnCx;

const USIZE: Ty = Ty::Int(IntTy::Usize);

impl super::GlobalCx<'_> {
    /// `Vec<T>`, `Box<T>` and `String` written as types; `None` for other names (user items of
    /// these names were looked up first and shadow the builtins).
    pub(super) fn lower_heap_type(&mut self, seg: &ast::PathSegment, scopes: &[crate::resolve::ScopeId]) -> Option<Ty> {
        let name = seg.ident.name.as_str();
        let arity = match name {
            "Vec" | "Box" => 1,
            "String" => 0,
            _ => return None,
        };
        let args: Vec<Ty> = seg.generic_args.iter().flatten().map(|t| self.lower_type(t, scopes)).collect();
        if args.len() != arity {
            self.error(
                Diagnostic::error("type mismatch", seg.ident.span)
                    .with_code("E0201")
                    .with_note(format!("wrong number of type arguments: `{name}` takes {arity}, found {}", args.len())),
            );
            return Some(Ty::Error);
        }
        Some(match name {
            "Vec" => Ty::vec(args[0].clone()),
            "Box" => Ty::boxed(args[0].clone()),
            _ => Ty::string(),
        })
    }
}

/// A heap operation's HIR node: `Builtin::Heap(op)` with `args`, of type `ty`.
fn heap(op: HeapOp, args: Vec<hir::Expr>, ty: Ty, span: Span) -> hir::Expr {
    hir::Expr::new(H::Builtin { builtin: Builtin::Heap(op), args }, ty, span)
}

fn borrow(place: hir::Expr, mutable: bool) -> hir::Expr {
    let span = place.span;
    let ty = Ty::reference(place.ty.clone(), mutable);
    hir::Expr::new(H::AddrOf { mutable, place: Box::new(place) }, ty, span)
}

/// The elements of a vector place: the slice place `[T]`.
pub(super) fn elements(vec: hir::Expr, elem: &Ty) -> hir::Expr {
    let span = vec.span;
    hir::Expr::new(H::Deref(Box::new(vec)), Ty::Slice(elem.clone().into()), span)
}

impl<'a> FnCx<'_, 'a> {
    /// `Vec.new()`, `Vec.with_capacity(n)`, `String.new()`, `String.from(s)`,
    /// `String.with_capacity(n)`, `Box.new(v)`; `None` if `callee` is not one of these paths
    /// (or a local or user item of the same name shadows it).
    pub(super) fn check_heap_assoc_call(
        &mut self,
        callee: &'a ast::Expr,
        args: &'a [ast::Arg],
        span: Span,
    ) -> Option<hir::Expr> {
        let ast::ExprKind::Path(path) = &callee.kind else { return None };
        let [ty_seg, fn_seg] = path.segments.as_slice() else { return None };
        let ty_name = ty_seg.ident.name.as_str();
        if !matches!(ty_name, "Vec" | "String" | "Box")
            || self.lookup_local(ty_name).is_some()
            || self.gcx.scopes.lookup(&self.item_scopes, ty_name, true).is_some()
        {
            return None;
        }
        let explicit: Option<Ty> = ty_seg.generic_args.as_ref().and_then(|a| a.first()).map(|t| {
            let scopes = self.item_scopes.clone();
            self.gcx.lower_type(t, &scopes)
        });
        let elem = explicit.unwrap_or_else(|| self.infer.fresh(InferKind::General));
        let f = fn_seg.ident.name.as_str();
        let (op, params, ty): (HeapOp, Vec<Ty>, Ty) = match (ty_name, f) {
            ("Vec", "new") => (HeapOp::New, vec![], Ty::vec(elem)),
            ("Vec", "with_capacity") => (HeapOp::WithCapacity, vec![USIZE], Ty::vec(elem)),
            ("String", "new") => (HeapOp::New, vec![], Ty::string()),
            ("String", "with_capacity") => (HeapOp::WithCapacity, vec![USIZE], Ty::string()),
            ("String", "from") => (HeapOp::StringFrom, vec![Ty::Str], Ty::string()),
            ("Box", "new") => (HeapOp::BoxNew, vec![elem.clone()], Ty::boxed(elem)),
            _ => {
                for a in args {
                    self.check_expr(&a.value);
                }
                self.error(
                    Diagnostic::error("method does not exist", fn_seg.ident.span)
                        .with_code("E0231")
                        .with_note(format!("`{ty_name}` has no associated function `{f}`")),
                );
                return Some(Self::error_expr(span));
            }
        };
        let values = self.heap_args(&params, args, span);
        Some(heap(op, values, ty, span))
    }

    /// Checks positional arguments against `params`; reports a count mismatch (the result then
    /// holds error expressions, one per parameter).
    fn heap_args(&mut self, params: &[Ty], args: &'a [ast::Arg], span: Span) -> Vec<hir::Expr> {
        if args.len() != params.len() {
            for a in args {
                self.check_expr(&a.value);
            }
            self.error(Diagnostic::error("wrong number of arguments", span).with_code("E0211").with_note(format!(
                "expected {} argument(s), found {}",
                params.len(),
                args.len()
            )));
            return params.iter().map(|_| Self::error_expr(span)).collect();
        }
        params.iter().zip(args).map(|(p, a)| self.check_expr_expect(&a.value, p)).collect()
    }

    /// A method of `Vec` or `String` on `base` (the receiver with references and boxes removed);
    /// `None` if `base` is neither or the method is not one of theirs.
    pub(super) fn check_heap_method(
        &mut self,
        base: &hir::Expr,
        name: &ast::Ident,
        args: &'a [ast::Arg],
        span: Span,
    ) -> Option<hir::Expr> {
        let (kind, elem) = match self.resolve(&base.ty) {
            Ty::Owned(k @ (OwnedKind::Vec | OwnedKind::String), e) => (k, (*e).clone()),
            _ => return None,
        };
        let m = name.name.as_str();
        let mutates = matches!(m, "push" | "pop" | "clear" | "insert" | "remove" | "push_str");
        let known = match kind {
            OwnedKind::Vec => matches!(
                m,
                "push"
                    | "pop"
                    | "len"
                    | "is_empty"
                    | "capacity"
                    | "clear"
                    | "get"
                    | "first"
                    | "last"
                    | "insert"
                    | "remove"
                    | "contains"
                    | "clone"
            ),
            _ => matches!(
                m,
                "push"
                    | "push_str"
                    | "clear"
                    | "as_str"
                    | "as_bytes"
                    | "len"
                    | "is_empty"
                    | "capacity"
                    | "contains"
                    | "starts_with"
                    | "ends_with"
                    | "clone"
            ),
        };
        if !known {
            return None;
        }
        if mutates && hir::is_place(base) {
            self.require_mutable_place(base, base.span, "borrow as mutable");
        }
        let this = borrow(base.clone(), mutates);
        let opt = |cx: &mut Self, t: Ty| match cx.gcx.prelude_option {
            Some(id) => cx.gcx.adt_ty_with(id, vec![t]),
            None => Ty::Error,
        };
        let is_string = kind == OwnedKind::String;
        let elem_ref = Ty::reference(elem.clone(), false);
        let e = match m {
            "push" if is_string => {
                let a = self.heap_args(&[Ty::Char], args, span);
                heap(HeapOp::StringPushChar, vec![this, a[0].clone()], Ty::Unit, span)
            }
            "push" => {
                let a = self.heap_args(std::slice::from_ref(&elem), args, span);
                heap(HeapOp::Push, vec![this, a[0].clone()], Ty::Unit, span)
            }
            "push_str" => {
                let a = self.heap_args(&[Ty::Str], args, span);
                heap(HeapOp::StringPushStr, vec![this, a[0].clone()], Ty::Unit, span)
            }
            "pop" => {
                self.heap_args(&[], args, span);
                let t = opt(self, elem);
                heap(HeapOp::Pop, vec![this], t, span)
            }
            "len" | "capacity" | "is_empty" => {
                self.heap_args(&[], args, span);
                let op = if m == "capacity" { HeapOp::Capacity } else { HeapOp::Len };
                let n = heap(op, vec![this], USIZE, span);
                if m != "is_empty" {
                    return Some(n);
                }
                let zero = hir::Expr::new(H::Lit(hir::Lit::Int { negative: false, magnitude: 0 }), USIZE, span);
                hir::Expr::new(H::Binary(ast::BinOp::Eq, Box::new(n), Box::new(zero)), Ty::Bool, span)
            }
            "clear" => {
                self.heap_args(&[], args, span);
                heap(HeapOp::Clear, vec![this], Ty::Unit, span)
            }
            "get" => {
                let a = self.heap_args(&[USIZE], args, span);
                let t = opt(self, elem_ref);
                heap(HeapOp::Get, vec![this, a[0].clone()], t, span)
            }
            "first" | "last" => {
                self.heap_args(&[], args, span);
                let t = opt(self, elem_ref);
                heap(if m == "first" { HeapOp::First } else { HeapOp::Last }, vec![this], t, span)
            }
            "insert" => {
                let a = self.heap_args(&[USIZE, elem.clone()], args, span);
                heap(HeapOp::Insert, vec![this, a[0].clone(), a[1].clone()], Ty::Unit, span)
            }
            "remove" => {
                let a = self.heap_args(&[USIZE], args, span);
                heap(HeapOp::Remove, vec![this, a[0].clone()], elem, span)
            }
            "contains" if !is_string => {
                let a = self.heap_args(&[elem_ref], args, span);
                let seq = elements(base.clone(), &elem);
                hir::Expr::new(
                    H::Builtin { builtin: Builtin::SliceContains, args: vec![seq, a[0].clone()] },
                    Ty::Bool,
                    span,
                )
            }
            "clone" => {
                self.heap_args(&[], args, span);
                let t = base.ty.clone();
                heap(HeapOp::Clone, vec![this], t, span)
            }
            "as_str" => {
                self.heap_args(&[], args, span);
                heap(HeapOp::AsStr, vec![this], Ty::Str, span)
            }
            "as_bytes" => {
                self.heap_args(&[], args, span);
                borrow(elements(base.clone(), &elem), false)
            }
            _ => {
                // contains / starts_with / ends_with on a String: the `&str` builtins.
                let op = match m {
                    "contains" => StrOp::Contains,
                    "starts_with" => StrOp::StartsWith,
                    _ => StrOp::EndsWith,
                };
                let a = self.heap_args(&[Ty::Str], args, span);
                let s = heap(HeapOp::AsStr, vec![this], Ty::Str, span);
                hir::Expr::new(H::Builtin { builtin: Builtin::Str(op), args: vec![s, a[0].clone()] }, Ty::Bool, span)
            }
        };
        Some(e)
    }
}
