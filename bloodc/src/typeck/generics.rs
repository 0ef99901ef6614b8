//! Generics by monomorphisation (LANGUAGE.md §5.1).
//!
//! A generic function (or a method of a generic `impl`) is a *template*: its signature is
//! lowered once with its type parameters as [`Ty::Param`], and its body is never checked as
//! such. A call instantiates the signature with fresh inference variables; once the caller's
//! inference is complete (`finish.rs`), the call's type arguments are final and the call is
//! pointed at the *instance* for them, created on first use: a new function id whose signature is
//! the substituted one and whose body is checked with the parameters bound to the concrete
//! types (`GlobalCx::type_env`). This is the "bodies may be checked after substitution" model of
//! the spec: a program is accepted when every instantiation it uses type-checks. Templates never
//! reach the HIR; [`remap_functions`] renumbers the remaining functions densely.

use std::collections::HashMap;

use crate::diagnostics::Diagnostic;
use crate::hir::{self, FnId};
use crate::resolve::ScopeId;
use crate::source::Span;
use crate::syntax::ast;
use crate::types::Ty;

use super::{FnSig, GlobalCx};

/// A body waiting to be checked, with the type parameters it sees.
pub(crate) struct BodyJob<'a> {
    pub id: FnId,
    pub decl: &'a ast::FnDecl,
    pub scopes: Vec<ScopeId>,
    pub span: Span,
    pub no_preempt: bool,
    /// Type parameter names (and `Self`) bound to concrete types for this body.
    pub env: Vec<(String, Ty)>,
}

/// A generic function or method: its declaration, checked once per instantiation.
pub(crate) struct Template<'a> {
    pub decl: &'a ast::FnDecl,
    pub scopes: Vec<ScopeId>,
    pub span: Span,
    pub no_preempt: bool,
    /// Entries of the environment that are not type parameters (`Self` of an impl), as
    /// templates over the parameters.
    pub fixed_env: Vec<(String, Ty)>,
}

/// Instantiations of one template nest at most this deep (polymorphic recursion such as
/// `f::<T>` calling `f::<(T, T)>` would otherwise never end).
const MAX_INSTANCES_PER_TEMPLATE: usize = 512;

/// Binds each parameter name to `Param(i)`.
pub(crate) fn param_env(names: &[String]) -> Vec<(String, Ty)> {
    names.iter().enumerate().map(|(i, n)| (n.clone(), Ty::Param(i as u32, n.as_str().into()))).collect()
}

impl<'a> GlobalCx<'a> {
    /// The instance of template `template` for `args` (created and queued on first use).
    pub(crate) fn instantiate(&mut self, template: FnId, args: Vec<Ty>, span: Span) -> FnId {
        if let Some(&id) = self.instances.get(&(template, args.clone())) {
            return id;
        }
        let count = self.instances.keys().filter(|(t, _)| *t == template).count();
        if count >= MAX_INSTANCES_PER_TEMPLATE {
            self.error(Diagnostic::error(
                "too many instantiations of a generic function (polymorphic recursion?)",
                span,
            ));
            return template;
        }
        let sig = self.sigs[template.0 as usize].clone();
        let shown: Vec<String> = args.iter().map(|t| t.to_string()).collect();
        let inst = FnSig {
            name: format!("{}<{}>", sig.name, shown.join(", ")),
            params: sig.params.iter().map(|(n, t, m)| (n.clone(), t.subst(&args), *m)).collect(),
            ret: sig.ret.subst(&args),
            generics: Vec::new(),
            bounds: Vec::new(),
            effects: sig.effects,
        };
        for (bty, t) in &sig.bounds {
            let concrete = bty.subst(&args);
            if !self.implements(&concrete, *t) {
                let tn = self.traits[*t as usize].name.clone();
                self.error(
                    Diagnostic::error("type does not implement trait", span)
                        .with_code("E0206")
                        .with_note(format!("`{concrete}` does not implement `{tn}`")),
                );
            }
        }
        let id = FnId(self.sigs.len() as u32);
        self.sigs.push(inst);
        self.bodies.push(None);
        self.instances.insert((template, args.clone()), id);
        let t = &self.templates[&template];
        let mut env: Vec<(String, Ty)> = t.fixed_env.iter().map(|(n, ty)| (n.clone(), ty.subst(&args))).collect();
        env.extend(sig.generics.iter().cloned().zip(args));
        let job = BodyJob { id, decl: t.decl, scopes: t.scopes.clone(), span: t.span, no_preempt: t.no_preempt, env };
        self.queue.push(job);
        id
    }
}

/// Drops the templates from the checked functions and renumbers calls (and `main`) densely.
///
/// Functions of the standard library (`in_std`) that no program function reaches are dropped
/// too, so the prelude costs nothing in programs that do not use it.
pub(crate) fn remap_functions(
    mut bodies: Vec<Option<hir::FnDef>>,
    templates: &HashMap<FnId, Template<'_>>,
    main: Option<FnId>,
    in_std: impl Fn(&hir::FnDef) -> bool,
) -> (Vec<hir::FnDef>, Option<FnId>) {
    let mut keep: Vec<bool> = bodies.iter().map(|b| b.as_ref().is_some_and(|f| !in_std(f))).collect();
    let mut stack: Vec<usize> = (0..bodies.len()).filter(|&i| keep[i]).collect();
    while let Some(i) = stack.pop() {
        let Some(f) = &mut bodies[i] else { continue };
        let mut callees = Vec::new();
        collect_callees(&mut f.body, &mut callees);
        for c in callees {
            if !keep[c] && bodies[c].is_some() {
                keep[c] = true;
                stack.push(c);
            }
        }
    }
    let mut map = vec![u32::MAX; bodies.len()];
    let mut next = 0;
    for (i, m) in map.iter_mut().enumerate() {
        if keep[i] && !templates.contains_key(&FnId(i as u32)) {
            *m = next;
            next += 1;
        }
    }
    let mut out = Vec::with_capacity(next as usize);
    for (i, b) in bodies.into_iter().enumerate() {
        if !keep[i] || templates.contains_key(&FnId(i as u32)) {
            continue;
        }
        let mut f = b.expect("every non-template function was checked");
        remap_expr(&mut f.body, &map);
        out.push(f);
    }
    (out, main.map(|m| FnId(map[m.0 as usize])))
}

fn collect_callees(e: &mut hir::Expr, out: &mut Vec<usize>) {
    if let hir::ExprKind::Call { func, .. } | hir::ExprKind::FnRef { func, .. } = &e.kind {
        out.push(func.0 as usize);
    }
    hir::for_each_child_mut(e, &mut |c| collect_callees(c, out));
}

fn remap_expr(e: &mut hir::Expr, map: &[u32]) {
    if let hir::ExprKind::Call { func, .. } | hir::ExprKind::FnRef { func, .. } = &mut e.kind {
        *func = FnId(map[func.0 as usize]);
    }
    hir::for_each_child_mut(e, &mut |c| remap_expr(c, map));
}
