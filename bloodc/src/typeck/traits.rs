//! Traits with static dispatch (LANGUAGE.md §5.2).
//!
//! A trait is a list of method declarations, some with default bodies, and supertraits. An
//! `impl Trait for Type` registers one function per trait method: the impl's own definitions
//! and, for omitted defaulted methods, the trait's default body checked with `Self` bound to
//! the implementing type. Impls may be generic (`impl<T: Show> Show for Wrapper<T>`): their
//! self type contains `Ty::Param`s, matched one-way against concrete types ([`match_ty`]).
//!
//! Method calls look up inherent methods, then builtin ones, then trait methods implemented for
//! the receiver's type (`expr.rs`). Because bodies are checked per instantiation
//! (`generics.rs`), a call through a bound `T: Show` always sees the concrete type, so static
//! dispatch is a lookup in this table. Bounds are checked where instances are created
//! ("type does not implement trait", E0206).
//!
//! Checks at the impl, in order of the spec: trait not found, a method that is not a member,
//! signatures that differ from the trait's (with `Self` replaced), missing methods, conflicting
//! impls of one trait (E0234), the same method name from two traits for one type (E0244),
//! supertraits not implemented (E0206).

use std::collections::HashMap;

use crate::diagnostics::Diagnostic;
use crate::hir::FnId;
use crate::resolve::{Def, ScopeId};
use crate::source::Span;
use crate::syntax::ast;
use crate::types::Ty;

use super::generics::param_env;
use super::{FnSig, GlobalCx};

pub(crate) struct TraitDef<'a> {
    pub name: String,
    pub decl: &'a ast::TraitDecl,
    /// Supertrait ids, resolved in phase 3.
    pub supertraits: Vec<u32>,
    /// The scope chain the trait is declared in (for its signatures and default bodies).
    pub scopes: Vec<ScopeId>,
}

/// A trait's method declarations with their items.
pub(crate) fn trait_methods(decl: &ast::TraitDecl) -> impl Iterator<Item = (&ast::Item, &ast::FnDecl)> {
    decl.items.iter().filter_map(|item| match &item.kind {
        ast::ItemKind::Fn(decl) => Some((item, decl)),
        _ => None,
    })
}

pub(crate) struct ImplDef {
    pub trait_id: u32,
    pub generics: Vec<String>,
    /// Bounds on the impl's parameters: (type over the parameters, trait).
    pub bounds: Vec<(Ty, u32)>,
    pub self_ty: Ty,
    /// Method name → (function, takes `self`).
    pub methods: HashMap<String, (FnId, bool)>,
}

/// The self type, bounds and parameter count of an inherent impl with bounds.
pub(crate) type ImplBounds = (Ty, Vec<(Ty, u32)>, usize);

/// A trait method found for a type: the function, whether it takes `self`, and the impl's
/// type arguments (the first type parameters of the function).
pub(crate) struct TraitMethod {
    pub func: FnId,
    pub takes_self: bool,
    pub impl_args: Vec<Ty>,
}

/// Matches `pattern` (over `Param`s) against `ty`, binding parameters in `args`.
pub(crate) fn match_ty(pattern: &Ty, ty: &Ty, args: &mut [Option<Ty>]) -> bool {
    match (pattern, ty) {
        (Ty::Param(i, _), t) => match &args[*i as usize] {
            Some(bound) => bound == t,
            None => {
                args[*i as usize] = Some(t.clone());
                true
            }
        },
        (Ty::Tuple(xs), Ty::Tuple(ys)) | (Ty::Adt(_, xs), Ty::Adt(_, ys))
            if xs.len() == ys.len() && same_head(pattern, ty) =>
        {
            xs.iter().zip(ys.iter()).all(|(x, y)| match_ty(x, y, args))
        }
        (Ty::Array(x, n), Ty::Array(y, m)) => n == m && match_ty(x, y, args),
        (Ty::Slice(x), Ty::Slice(y)) => match_ty(x, y, args),
        (Ty::Ref(x, a), Ty::Ref(y, b)) => a == b && match_ty(x, y, args),
        // A type still being inferred may become the pattern (the caller unifies afterwards).
        (p, Ty::Infer(v)) => match v.kind {
            crate::types::InferKind::Int => matches!(p, Ty::Int(_)),
            crate::types::InferKind::Float => matches!(p, Ty::Float(_)),
            crate::types::InferKind::General => true,
        },
        (p, t) => p == t,
    }
}

fn same_head(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Adt(x, _), Ty::Adt(y, _)) => x.id == y.id,
        (Ty::Tuple(_), Ty::Tuple(_)) => true,
        _ => false,
    }
}

/// Whether two impl self types (each over its own parameters) could describe the same type.
fn overlap(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Param(..), _) | (_, Ty::Param(..)) => true,
        (Ty::Tuple(xs), Ty::Tuple(ys)) => xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(x, y)| overlap(x, y)),
        (Ty::Adt(p, xs), Ty::Adt(q, ys)) => p.id == q.id && xs.iter().zip(ys.iter()).all(|(x, y)| overlap(x, y)),
        (Ty::Array(x, n), Ty::Array(y, m)) => n == m && overlap(x, y),
        (Ty::Slice(x), Ty::Slice(y)) => overlap(x, y),
        (Ty::Ref(x, p), Ty::Ref(y, q)) => p == q && overlap(x, y),
        (x, y) => x == y,
    }
}

/// Instances nest at most this deep when proving a bound (`impl<T: Show> Show for W<T>`).
const MAX_BOUND_DEPTH: u32 = 32;

impl<'a> GlobalCx<'a> {
    /// Resolves a bound path (`Show`, `shapes.Named`) to a trait, reporting "trait not found".
    pub(crate) fn resolve_trait(&mut self, path: &ast::Path, scopes: &[ScopeId]) -> Option<u32> {
        let segments: Vec<&str> = path.segments.iter().map(|s| s.ident.name.as_str()).collect();
        let from = scopes.last().map_or(crate::resolve::ROOT, |&c| self.scopes.get(c).module);
        match self.scopes.resolve_path(scopes, from, &segments) {
            Ok((Def::Trait(t), used)) if used == segments.len() => Some(t),
            _ => {
                self.error(
                    Diagnostic::error("trait not found", path.span)
                        .with_note(format!("no trait named `{}` is in scope", segments.join("."))),
                );
                None
            }
        }
    }

    /// The bounds of a generic item: `T: A + B` on parameters and `where` clauses, lowered with
    /// the parameters as `Param`s (the caller sets `type_env`).
    pub(crate) fn lower_bounds(&mut self, generics: &ast::Generics, scopes: &[ScopeId]) -> Vec<(Ty, u32)> {
        let mut out = Vec::new();
        for p in &generics.params {
            let Some((_, ty)) = self.type_env.iter().rev().find(|(n, _)| *n == p.name.name).cloned() else { continue };
            for b in &p.bounds {
                if let Some(t) = self.resolve_trait(b, scopes) {
                    out.push((ty.clone(), t));
                }
            }
        }
        for w in &generics.where_clauses {
            let ty = self.lower_type(&w.ty, scopes);
            for b in &w.bounds {
                if let Some(t) = self.resolve_trait(b, scopes) {
                    out.push((ty.clone(), t));
                }
            }
        }
        out
    }

    /// Whether an inherent method restricted by its impl's bounds applies to receiver type `ty`.
    pub(crate) fn method_applies(&self, func: FnId, ty: &Ty) -> bool {
        let Some((self_ty, bounds, n)) = self.method_bounds.get(&func) else { return true };
        let mut args = vec![None; *n];
        if !match_ty(self_ty, ty, &mut args) {
            return true;
        }
        self.bounds_hold(bounds, &args, 0)
    }

    /// Whether `ty` (concrete) implements trait `t`.
    pub(crate) fn implements(&self, ty: &Ty, t: u32) -> bool {
        self.implements_at(ty, t, 0)
    }

    fn implements_at(&self, ty: &Ty, t: u32, depth: u32) -> bool {
        if *ty == Ty::Error {
            return true;
        }
        if depth > MAX_BOUND_DEPTH {
            return false;
        }
        self.trait_impls.iter().filter(|i| i.trait_id == t).any(|imp| {
            let mut args = vec![None; imp.generics.len()];
            match_ty(&imp.self_ty, ty, &mut args) && self.bounds_hold(&imp.bounds, &args, depth + 1)
        })
    }

    /// Whether every bound holds for the (partially) matched arguments; bounds on parameters the
    /// match left open are assumed to hold.
    fn bounds_hold(&self, bounds: &[(Ty, u32)], args: &[Option<Ty>], depth: u32) -> bool {
        bounds.iter().all(|(bty, bt)| {
            if args.iter().any(Option::is_none) {
                return true;
            }
            let full: Vec<Ty> = args.iter().map(|a| a.clone().unwrap_or(Ty::Error)).collect();
            // Types still being inferred match impls leniently (see `match_ty`).
            self.implements_at(&bty.subst(&full), *bt, depth)
        })
    }

    /// The trait method `name` implemented for `ty` (resolved as far as inference allows).
    pub(crate) fn find_trait_method(&self, ty: &Ty, name: &str) -> Option<TraitMethod> {
        for imp in &self.trait_impls {
            let Some(&(func, takes_self)) = imp.methods.get(name) else { continue };
            let mut args = vec![None; imp.generics.len()];
            if !match_ty(&imp.self_ty, ty, &mut args) || !self.bounds_hold(&imp.bounds, &args, 0) {
                continue;
            }
            if args.iter().any(Option::is_none) {
                continue;
            }
            let impl_args = args.into_iter().map(|a| a.expect("checked above")).collect();
            return Some(TraitMethod { func, takes_self, impl_args });
        }
        None
    }

    /// Phase 3 for an `impl Trait for Type` block.
    pub(crate) fn register_trait_impl(
        &mut self,
        block: &'a ast::ImplBlock,
        trait_path: &ast::Path,
        chain: &[ScopeId],
        pending: &mut Vec<super::items::PendingMethod<'a>>,
        span: Span,
    ) {
        let Some(trait_id) = self.resolve_trait(trait_path, chain) else { return };
        let generics: Vec<String> = block.generics.params.iter().map(|p| p.name.name.clone()).collect();
        let saved = std::mem::replace(&mut self.type_env, param_env(&generics));
        let self_ty = self.lower_type(&block.self_ty, chain);
        let bounds = self.lower_bounds(&block.generics, chain);
        self.type_env = saved;
        if self_ty == Ty::Error {
            return;
        }
        let trait_name = self.traits[trait_id as usize].name.clone();
        if self.trait_impls.iter().any(|i| i.trait_id == trait_id && overlap(&i.self_ty, &self_ty)) {
            self.error(
                Diagnostic::error("conflicting implementations of trait for the same type", span)
                    .with_code("E0234")
                    .with_note(format!("`{trait_name}` is already implemented for `{self_ty}`")),
            );
            return;
        }
        let module = chain.last().map_or(crate::resolve::ROOT, |&c| self.scopes.get(c).module);
        let prefix = format!("{}<{self_ty} as {trait_name}>.", self.scopes.get(module).prefix);
        let scope = self.scopes.new_block(module, prefix.clone());
        match &self_ty {
            Ty::Adt(a, _) => {
                self.scopes.insert(scope, "Self", Def::Adt(a.id), false);
            }
            Ty::Enum(e) => {
                self.scopes.insert(scope, "Self", Def::Enum(e.id), false);
            }
            _ => {}
        }
        let mut full: Vec<ScopeId> = chain.to_vec();
        full.push(scope);

        let trait_decl: &'a ast::TraitDecl = self.traits[trait_id as usize].decl;
        let required: Vec<(String, bool)> =
            trait_methods(trait_decl).map(|(_, d)| (d.name.name.clone(), d.body.is_some())).collect();
        let mut methods: HashMap<String, (FnId, bool)> = HashMap::new();
        for item in &block.items {
            let ast::ItemKind::Fn(decl) = &item.kind else {
                if !matches!(item.kind, ast::ItemKind::Error) {
                    self.error(super::unsupported(item.span, "items other than functions in `impl` blocks"));
                }
                continue;
            };
            if !required.iter().any(|(n, _)| *n == decl.name.name) {
                self.error(Diagnostic::error(
                    format!("method `{}` is not a member of trait `{trait_name}`", decl.name.name),
                    decl.name.span,
                ));
                continue;
            }
            if methods.contains_key(&decl.name.name) {
                self.error(
                    Diagnostic::error(format!("duplicate method `{}` in impl block", decl.name.name), decl.name.span)
                        .with_code("E0214"),
                );
                continue;
            }
            let id = self.new_method_id(format!("{prefix}{}", decl.name.name));
            methods.insert(decl.name.name.clone(), (id, decl.self_param.is_some()));
            pending.push(super::items::PendingMethod {
                id,
                item,
                decl,
                chain: full.clone(),
                self_ty: self_ty.clone(),
                impl_generics: generics.clone(),
                expected: Some(trait_id),
            });
        }
        let missing: Vec<String> = required
            .iter()
            .filter(|(n, has_default)| !has_default && !methods.contains_key(n))
            .map(|(n, _)| format!("`{n}`"))
            .collect();
        if !missing.is_empty() {
            self.error(
                Diagnostic::error(format!("not all trait items implemented, missing: {}", missing.join(", ")), span)
                    .with_note(format!("`{trait_name}` requires them for `{self_ty}`")),
            );
        }
        // Omitted defaulted methods: the trait's body, checked for this type.
        let trait_scopes = self.traits[trait_id as usize].scopes.clone();
        let defaults: Vec<(&'a ast::Item, &'a ast::FnDecl)> = trait_methods(trait_decl)
            .filter(|(_, d)| d.body.is_some() && !methods.contains_key(&d.name.name))
            .collect();
        for (item, decl) in defaults {
            let id = self.new_method_id(format!("{prefix}{}", decl.name.name));
            methods.insert(decl.name.name.clone(), (id, decl.self_param.is_some()));
            let mut chain = trait_scopes.clone();
            chain.push(scope);
            pending.push(super::items::PendingMethod {
                id,
                item,
                decl,
                chain,
                self_ty: self_ty.clone(),
                impl_generics: generics.clone(),
                expected: None,
            });
        }
        // The same method name from two traits for overlapping types (reported at this impl).
        for other in &self.trait_impls {
            if other.trait_id == trait_id || !overlap(&other.self_ty, &self_ty) {
                continue;
            }
            if let Some(name) = methods.keys().find(|m| other.methods.contains_key(*m)) {
                let other_name = self.traits[other.trait_id as usize].name.clone();
                self.diagnostics.push(
                    Diagnostic::error("diamond conflict: same method name provided by different traits", span)
                        .with_code("E0244")
                        .with_note(format!(
                            "`{name}` is provided for `{self_ty}` by both `{other_name}` and `{trait_name}`"
                        )),
                );
                break;
            }
        }
        self.trait_impls.push(ImplDef { trait_id, generics, bounds, self_ty, methods });
    }

    fn new_method_id(&mut self, name: String) -> FnId {
        let id = FnId(self.sigs.len() as u32);
        self.sigs.push(FnSig::declared(name));
        self.bodies.push(None);
        id
    }

    /// Checks an impl method's signature against the trait's, with `Self` replaced.
    pub(crate) fn check_trait_signature(
        &mut self,
        trait_id: u32,
        sig: &FnSig,
        decl: &ast::FnDecl,
        self_ty: &Ty,
        impl_generics: &[String],
    ) {
        let trait_scopes = self.traits[trait_id as usize].scopes.clone();
        let trait_decl: &'a ast::TraitDecl = self.traits[trait_id as usize].decl;
        let Some((_, tdecl)) = trait_methods(trait_decl).find(|(_, d)| d.name.name == decl.name.name) else {
            return;
        };
        let expected = self.lower_method_signature(tdecl, &sig.name, &trait_scopes, self_ty, impl_generics);
        let same = expected.params.len() == sig.params.len()
            && expected.params.iter().zip(&sig.params).all(|(a, b)| a.1 == b.1 || a.1 == Ty::Error || b.1 == Ty::Error)
            && (expected.ret == sig.ret || expected.ret == Ty::Error || sig.ret == Ty::Error);
        if !same {
            let show = |s: &FnSig| {
                let ps: Vec<String> = s.params.iter().map(|p| p.1.to_string()).collect();
                format!("fn({}) -> {}", ps.join(", "), s.ret)
            };
            let trait_name = self.traits[trait_id as usize].name.clone();
            self.error(Diagnostic::error("type mismatch", decl.sig_span).with_code("E0201").with_note(format!(
                "method `{}` has an incompatible signature for trait `{trait_name}`: expected `{}`, found `{}`",
                decl.name.name,
                show(&expected),
                show(sig)
            )));
        }
    }

    /// After all impls are registered: every implementor of a trait implements its supertraits.
    pub(crate) fn check_supertraits(&mut self, from: usize) {
        let mut errors = Vec::new();
        for imp in &self.trait_impls[from..] {
            for &sup in &self.traits[imp.trait_id as usize].supertraits {
                let probe = imp.self_ty.clone();
                let implemented =
                    self.trait_impls.iter().filter(|i| i.trait_id == sup).any(|i| overlap(&i.self_ty, &probe));
                if !implemented {
                    errors.push((imp.trait_id, sup, probe));
                }
            }
        }
        for (t, sup, ty) in errors {
            let (tn, sn) = (self.traits[t as usize].name.clone(), self.traits[sup as usize].name.clone());
            let span = self.traits[t as usize].decl.name.span;
            self.error(Diagnostic::error("type does not implement trait", span).with_code("E0206").with_note(format!(
                "`{ty}` implements `{tn}`, which requires `{sn}`, but `{ty}` does not implement `{sn}`"
            )));
        }
    }
}
