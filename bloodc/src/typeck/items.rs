//! Registering items: the module tree, `use` imports, signatures, constants and bodies.
//!
//! Items may refer to each other in any order and across modules, and `use` may re-export, so
//! registration runs in three phases over the whole program:
//! 1. **declare**: walk the module tree (files loaded by the driver for `mod name;` are already
//!    attached to the AST), give every function, constant, alias, enum and module an id and bind
//!    its name in its scope;
//! 2. **import**: resolve `use` declarations until nothing changes (an import may depend on a
//!    re-export elsewhere); what is left is an "unresolved import";
//! 3. **finish**: lower signatures (types may name imported items), evaluate constants, queue
//!    function bodies with their scope chain.
//!
//! Items declared inside a block go through phases 1 and 3 at once (blocks have no `mod`/`use`).

use crate::diagnostics::Diagnostic;
use crate::hir::FnId;
use crate::resolve::{self, Def, PathError, ScopeId};
use crate::syntax::ast;
use crate::types::Ty;

use super::adts::{AdtSource, TypeKey, is_fieldless};
use super::consts::{AliasDef, ConstDef, ItemState};
use super::generics::{BodyJob, Template};
use super::{FnSig, GlobalCx, unsupported};

/// Items declared in phase 1, waiting for phase 3.
#[derive(Default)]
struct Pending<'a> {
    fns: Vec<(FnId, &'a ast::Item, &'a ast::FnDecl, ScopeId)>,
    consts: Vec<(u32, ScopeId)>,
    aliases: Vec<(u32, ScopeId)>,
    uses: Vec<(ScopeId, &'a ast::Item, &'a ast::UseDecl)>,
    impls: Vec<(&'a ast::ImplBlock, ScopeId)>,
    /// `impl Trait for Type` blocks.
    trait_impls: Vec<(&'a ast::ImplBlock, &'a ast::Path, ScopeId, crate::source::Span)>,
    /// Traits whose supertraits are still to be resolved.
    traits: Vec<(u32, ScopeId)>,
    /// Structs and payload enums whose fields are still to be lowered.
    adts: Vec<(u32, AdtSource<'a>, ScopeId, crate::source::Span)>,
    /// Methods and associated functions whose signatures are still to be lowered.
    methods: Vec<PendingMethod<'a>>,
}

/// A method or associated function of an `impl` block, waiting for phase 3.
pub(crate) struct PendingMethod<'a> {
    pub id: FnId,
    pub item: &'a ast::Item,
    pub decl: &'a ast::FnDecl,
    /// Scope chain of the body (ends with the impl's scope, where `Self` is bound).
    pub chain: Vec<ScopeId>,
    pub self_ty: Ty,
    pub impl_generics: Vec<String>,
    /// For a method written in a trait impl: the trait whose signature it must match.
    pub expected: Option<u32>,
}

fn is_public(vis: &ast::Visibility) -> bool {
    !matches!(vis, ast::Visibility::Private)
}

impl<'a> GlobalCx<'a> {
    /// Registers the whole program, rooted at the items of the root file.
    pub fn register_program(&mut self, root: &'a [ast::Item], prelude: &'a [ast::SourceFile]) {
        let root_id = self.scopes.new_module(None, "crate", String::new());
        let mut pending = Pending::default();
        self.declare_items(root.iter(), root_id, &mut pending, true);
        let prelude_id = (!prelude.is_empty()).then(|| {
            let id = self.scopes.new_module(None, "prelude", String::new());
            self.declare_items(prelude.iter().flat_map(|f| f.items.iter()), id, &mut pending, true);
            self.scopes.prelude = Some(id);
            id
        });
        self.resolve_uses(std::mem::take(&mut pending.uses));
        self.finish_items(pending, &|id| vec![id]);
        if let Some(id) = prelude_id {
            self.bind_variant_shortcuts(id);
        }
    }

    /// Registers the items of a block nested in `chain`; returns the block's scope.
    pub fn register_block(&mut self, items: Vec<&'a ast::Item>, chain: &[ScopeId], prefix: String) -> ScopeId {
        let module = chain.last().map_or(resolve::ROOT, |&c| self.scopes.get(c).module);
        let id = self.scopes.new_block(module, prefix);
        let mut pending = Pending::default();
        self.declare_items(items, id, &mut pending, false);
        let mut full: Vec<ScopeId> = chain.to_vec();
        full.push(id);
        self.finish_items(pending, &|_| full.clone());
        id
    }

    /// Phase 1 for one scope (and, recursively, its modules).
    fn declare_items(
        &mut self,
        items: impl IntoIterator<Item = &'a ast::Item>,
        scope: ScopeId,
        pending: &mut Pending<'a>,
        allow_modules: bool,
    ) {
        let collected = resolve::collect_items(items);
        self.diagnostics.extend(collected.diagnostics);
        let prefix = self.scopes.get(scope).prefix.clone();
        for (item, decl) in collected.functions {
            let id = FnId(self.sigs.len() as u32);
            self.sigs.push(FnSig::declared(format!("{prefix}{}", decl.name.name)));
            self.bodies.push(None);
            self.scopes.insert(scope, &decl.name.name, Def::Fn(id), is_public(&item.vis));
            pending.fns.push((id, item, decl, scope));
        }
        for (item, decl) in collected.consts {
            let id = self.consts.len() as u32;
            self.consts.push(ConstDef { decl, scopes: Vec::new(), state: ItemState::Pending, aggregate: None });
            self.scopes.insert(scope, &decl.name.name, Def::Const(id), is_public(&item.vis));
            pending.consts.push((id, scope));
        }
        for (item, decl) in collected.aliases {
            let id = self.aliases.len() as u32;
            self.aliases.push(AliasDef { decl, scopes: Vec::new(), state: ItemState::Pending });
            self.scopes.insert(scope, &decl.name.name, Def::Alias(id), is_public(&item.vis));
            pending.aliases.push((id, scope));
        }
        for (item, decl) in collected.structs {
            let id = self.declare_adt(AdtSource::Struct(decl));
            self.scopes.insert(scope, &decl.name.name, Def::Adt(id), is_public(&item.vis));
            pending.adts.push((id, AdtSource::Struct(decl), scope, decl.name.span));
        }
        for (item, decl) in collected.enums {
            if !is_fieldless(decl) {
                let id = self.declare_adt(AdtSource::Enum(decl));
                self.scopes.insert(scope, &decl.name.name, Def::Adt(id), is_public(&item.vis));
                pending.adts.push((id, AdtSource::Enum(decl), scope, decl.name.span));
                continue;
            }
            let id = self.enums.len() as u32;
            let def = self.lower_enum(decl);
            self.enums.push(def);
            self.scopes.insert(scope, &decl.name.name, Def::Enum(id), is_public(&item.vis));
        }
        for (item, decl) in collected.modules {
            if !allow_modules {
                self.error(unsupported(decl.name.span, "modules declared inside a block"));
                continue;
            }
            let name = &decl.name.name;
            let child = self.scopes.new_module(Some(scope), name, format!("{prefix}{name}."));
            self.scopes.insert(scope, name, Def::Module(child), is_public(&item.vis));
            if let Some(items) = &decl.items {
                self.declare_items(items.iter(), child, pending, true);
            }
        }
        for (item, block) in collected.impls {
            match &block.trait_ {
                Some(path) => pending.trait_impls.push((block, path, scope, item.span)),
                None => pending.impls.push((block, scope)),
            }
        }
        for (item, decl) in collected.traits {
            let id = self.traits.len() as u32;
            self.traits.push(super::traits::TraitDef {
                name: decl.name.name.clone(),
                decl,
                supertraits: Vec::new(),
                scopes: Vec::new(),
            });
            self.scopes.insert(scope, &decl.name.name, Def::Trait(id), is_public(&item.vis));
            pending.traits.push((id, scope));
        }
        for (item, decl) in collected.uses {
            if allow_modules {
                pending.uses.push((scope, item, decl));
            } else {
                self.error(unsupported(item.span, "`use` inside a block"));
            }
        }
    }

    /// Phase 2: resolves imports until a fixed point; reports what remains.
    fn resolve_uses(&mut self, mut uses: Vec<(ScopeId, &'a ast::Item, &'a ast::UseDecl)>) {
        loop {
            let before = uses.len();
            let mut failed = Vec::new();
            let mut errors = Vec::new();
            for (scope, item, decl) in uses {
                if let Err(e) = self.import(scope, is_public(&item.vis), &decl.tree) {
                    failed.push((scope, item, decl));
                    errors.push(e);
                }
            }
            if failed.is_empty() {
                return;
            }
            if failed.len() == before {
                for ((_, item, _), e) in failed.iter().zip(errors) {
                    let note = match e {
                        PathError::Unresolved(n) => format!("no item `{n}` in this module or the root module"),
                        PathError::NotInModule { module, name } => format!("no item `{name}` in module `{module}`"),
                        PathError::Private(n) => format!("item `{n}` is private"),
                    };
                    self.error(Diagnostic::error("unresolved import", item.span).with_note(note));
                }
                return;
            }
            uses = failed;
        }
    }

    /// Adds the bindings of one `use` to `scope`.
    fn import(&mut self, scope: ScopeId, public: bool, tree: &ast::UseTree) -> Result<(), PathError> {
        let names = |p: &ast::Path| p.segments.iter().map(|s| s.ident.name.clone()).collect::<Vec<String>>();
        match tree {
            ast::UseTree::Single { path, alias } => {
                let segs = names(path);
                let def = self.resolve_full(scope, &segs)?;
                let name = alias.as_ref().map_or_else(|| segs[segs.len() - 1].clone(), |a| a.name.clone());
                self.scopes.insert(scope, &name, def, public);
            }
            ast::UseTree::Glob { prefix } => {
                let Def::Module(m) = self.resolve_full(scope, &names(prefix))? else {
                    return Err(PathError::Unresolved(names(prefix).join(".")));
                };
                for (name, def) in self.scopes.public_bindings(m) {
                    self.scopes.insert(scope, &name, def, public);
                }
            }
            ast::UseTree::Group { prefix, items } => {
                let Def::Module(m) = self.resolve_full(scope, &names(prefix))? else {
                    return Err(PathError::Unresolved(names(prefix).join(".")));
                };
                let mut resolved = Vec::new();
                for (name, alias) in items {
                    let def = self.scopes.member(m, &name.name, scope)?;
                    resolved.push((alias.as_ref().unwrap_or(name).name.clone(), def));
                }
                for (name, def) in resolved {
                    self.scopes.insert(scope, &name, def, public);
                }
            }
        }
        Ok(())
    }

    /// An inherent `impl` block (LANGUAGE.md §4.8): its functions become methods (with a `self`
    /// parameter) or associated functions of the type, in a scope where `Self` names the type.
    fn register_impl(&mut self, block: &'a ast::ImplBlock, chain: &[ScopeId], pending: &mut Pending<'a>) {
        let impl_generics: Vec<String> = block.generics.params.iter().map(|p| p.name.name.clone()).collect();
        let saved = std::mem::replace(&mut self.type_env, super::generics::param_env(&impl_generics));
        let self_ty = self.lower_type(&block.self_ty, chain);
        let impl_bounds = self.lower_bounds(&block.generics, chain);
        self.type_env = saved;
        let (key, self_def, type_name) = match &self_ty {
            Ty::Enum(e) => (TypeKey::Enum(e.id), Def::Enum(e.id), e.name.to_string()),
            Ty::Adt(a, _) => (TypeKey::Adt(a.id), Def::Adt(a.id), a.name.to_string()),
            Ty::Error => return,
            other => {
                self.error(unsupported(
                    block.self_ty.span,
                    &format!("inherent `impl` blocks for `{other}` (only user structs and enums have methods)"),
                ));
                return;
            }
        };
        let module = chain.last().map_or(resolve::ROOT, |&c| self.scopes.get(c).module);
        let scope = self.scopes.new_block(module, format!("{}{type_name}.", self.scopes.get(module).prefix));
        self.scopes.insert(scope, "Self", self_def, false);
        let mut full: Vec<ScopeId> = chain.to_vec();
        full.push(scope);
        for item in &block.items {
            let ast::ItemKind::Fn(decl) = &item.kind else {
                if !matches!(item.kind, ast::ItemKind::Error) {
                    self.error(unsupported(item.span, "items other than functions in `impl` blocks"));
                }
                continue;
            };
            let methods = self.methods.entry(key).or_default();
            if methods.contains_key(&decl.name.name) {
                self.error(
                    Diagnostic::error(format!("duplicate method `{}` in impl block", decl.name.name), decl.name.span)
                        .with_code("E0214"),
                );
                continue;
            }
            let id = FnId(self.sigs.len() as u32);
            let name = format!("{}{}", self.scopes.get(scope).prefix, decl.name.name);
            self.sigs.push(FnSig::declared(name));
            self.bodies.push(None);
            self.methods.entry(key).or_default().insert(decl.name.name.clone(), (id, decl.self_param.is_some()));
            if !impl_bounds.is_empty() {
                self.method_bounds.insert(id, (self_ty.clone(), impl_bounds.clone(), impl_generics.len()));
            }
            pending.methods.push(PendingMethod {
                id,
                item,
                decl,
                chain: full.clone(),
                self_ty: self_ty.clone(),
                impl_generics: impl_generics.clone(),
                expected: None,
            });
        }
    }

    /// A `use` path must name an item with all its segments (starting in `scope`, then root).
    fn resolve_full(&self, scope: ScopeId, segs: &[String]) -> Result<Def, PathError> {
        let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
        match self.scopes.resolve_path(&[scope], scope, &refs)? {
            (def, used) if used == refs.len() => Ok(def),
            (_, used) => Err(PathError::NotInModule { module: refs[..used].join("."), name: refs[used].to_string() }),
        }
    }

    /// `Some`, `None`, `Ok` and `Err` are in scope without their enum's name (LANGUAGE.md §5.4);
    /// the prelude's `ChannelRef` becomes a counted handle.
    fn bind_variant_shortcuts(&mut self, prelude: ScopeId) {
        for (ty, field) in [("Option", &mut self.prelude_option), ("Result", &mut self.prelude_result)] {
            if let Some(b) = self.scopes.get(prelude).types.get(ty)
                && let Def::Adt(id) = b.def
            {
                *field = Some(id);
            }
        }
        if let Some(b) = self.scopes.get(prelude).types.get("ChannelRef")
            && let Def::Adt(id) = b.def
        {
            self.adts.defs[id as usize].counted_handle = true;
        }
        for id in [self.prelude_option, self.prelude_result].into_iter().flatten() {
            let variants: Vec<String> = self.adts.defs[id as usize].variants.iter().map(|v| v.name.clone()).collect();
            for (i, name) in variants.iter().enumerate() {
                self.scopes.insert(prelude, name, Def::Variant(id, i as u32), true);
            }
        }
    }

    /// Queues a body for checking, or records a generic function as a template (checked per
    /// instance, see `generics.rs`). `fixed_env` binds `Self` in methods.
    fn queue_or_template(
        &mut self,
        id: FnId,
        decl: &'a ast::FnDecl,
        scopes: Vec<ScopeId>,
        span: crate::source::Span,
        no_preempt: bool,
        fixed_env: Vec<(String, Ty)>,
    ) {
        if decl.body.is_none() {
            self.error(Diagnostic::error(
                format!("function `{}` declared without a body", decl.name.name),
                decl.name.span,
            ));
            return;
        }
        if self.sigs[id.0 as usize].generics.is_empty() {
            let job = BodyJob { id, decl, scopes, span, no_preempt, env: fixed_env };
            self.queue.push(job);
        } else {
            self.templates.insert(id, Template { decl, scopes, span, no_preempt, fixed_env });
        }
    }

    /// Phase 3: signatures, constants, aliases and bodies, each with its scope chain.
    fn finish_items(&mut self, mut pending: Pending<'a>, chain_of: &dyn Fn(ScopeId) -> Vec<ScopeId>) {
        for &(id, source, scope, _) in &pending.adts {
            self.lower_adt_fields(id, source, &chain_of(scope));
        }
        let spans: Vec<(u32, crate::source::Span)> = pending.adts.iter().map(|&(id, _, _, span)| (id, span)).collect();
        self.check_infinite_size(&spans);
        for &(id, scope) in &pending.traits {
            let chain = chain_of(scope);
            let decl = self.traits[id as usize].decl;
            let supers: Vec<u32> = decl.supertraits.iter().filter_map(|p| self.resolve_trait(p, &chain)).collect();
            self.traits[id as usize].supertraits = supers;
            self.traits[id as usize].scopes = chain;
        }
        for (block, scope) in std::mem::take(&mut pending.impls) {
            self.register_impl(block, &chain_of(scope), &mut pending);
        }
        let first_trait_impl = self.trait_impls.len();
        for (block, path, scope, span) in std::mem::take(&mut pending.trait_impls) {
            self.register_trait_impl(block, path, &chain_of(scope), &mut pending.methods, span);
        }
        self.check_supertraits(first_trait_impl);
        for &(id, scope) in &pending.consts {
            self.consts[id as usize].scopes = chain_of(scope);
        }
        for &(id, scope) in &pending.aliases {
            self.aliases[id as usize].scopes = chain_of(scope);
        }
        for &(id, _, decl, scope) in &pending.fns {
            let name = self.sigs[id.0 as usize].name.clone();
            self.sigs[id.0 as usize] = self.lower_signature(decl, &name, &chain_of(scope));
        }
        for (id, item, decl, scope) in pending.fns {
            let no_preempt = item.attrs.iter().any(|a| a.name == "unchecked" && a.text.contains("preemption"));
            self.queue_or_template(id, decl, chain_of(scope), item.span, no_preempt, Vec::new());
        }
        for m in std::mem::take(&mut pending.methods) {
            let name = self.sigs[m.id.0 as usize].name.clone();
            let sig = self.lower_method_signature(m.decl, &name, &m.chain, &m.self_ty, &m.impl_generics);
            if let Some(t) = m.expected {
                self.check_trait_signature(t, &sig, m.decl, &m.self_ty, &m.impl_generics);
            }
            self.sigs[m.id.0 as usize] = sig;
            let no_preempt = m.item.attrs.iter().any(|a| a.name == "unchecked" && a.text.contains("preemption"));
            let fixed = vec![("Self".to_string(), m.self_ty)];
            self.queue_or_template(m.id, m.decl, m.chain, m.item.span, no_preempt, fixed);
        }
        let ids: Vec<u32> = pending.consts.iter().map(|(id, _)| *id).collect();
        self.check_consts(&ids);
    }
}
