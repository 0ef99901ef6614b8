//! Item collection, scopes, modules and `use`.
//!
//! Items are order-independent within a module or block (LANGUAGE.md §2), so each scope's items
//! are collected before any body is checked. This module finds them, reports duplicate
//! definitions and items of language levels the compiler does not implement yet, and hands the
//! functions to the type checker, which registers their signatures in an [`ItemScope`].
//!
//! Local variables are resolved by the type checker itself (`typeck::FnCx` keeps the lexical
//! scopes), because their types are inferred at the same time.

mod scopes;

pub use scopes::{Binding, Def, ItemScope, PathError, ROOT, ScopeId, ScopeTable};

use std::collections::HashMap;

use crate::diagnostics::Diagnostic;
use crate::source::Span;
use crate::syntax::ast;

/// The parts of a `const` or `static` declaration that constant evaluation reads.
#[derive(Clone, Copy)]
pub struct ConstLike<'a> {
    pub name: &'a ast::Ident,
    pub ty: &'a ast::Type,
    pub value: &'a ast::Expr,
}

impl<'a> From<&'a ast::ConstDecl> for ConstLike<'a> {
    fn from(d: &'a ast::ConstDecl) -> Self {
        ConstLike { name: &d.name, ty: &d.ty, value: &d.value }
    }
}

impl<'a> From<&'a ast::StaticDecl> for ConstLike<'a> {
    fn from(d: &'a ast::StaticDecl) -> Self {
        ConstLike { name: &d.name, ty: &d.ty, value: &d.value }
    }
}

/// The result of [`collect_items`].
pub struct CollectedItems<'a> {
    /// Functions in source order, each with its item (attributes, span, visibility).
    pub functions: Vec<(&'a ast::Item, &'a ast::FnDecl)>,
    /// `const` items and immutable `static`s.
    pub consts: Vec<(&'a ast::Item, ConstLike<'a>)>,
    pub aliases: Vec<(&'a ast::Item, &'a ast::TypeAlias)>,
    pub enums: Vec<(&'a ast::Item, &'a ast::EnumDecl)>,
    pub structs: Vec<(&'a ast::Item, &'a ast::StructDecl)>,
    pub traits: Vec<(&'a ast::Item, &'a ast::TraitDecl)>,
    pub modules: Vec<(&'a ast::Item, &'a ast::ModDecl)>,
    pub uses: Vec<(&'a ast::Item, &'a ast::UseDecl)>,
    /// `impl` blocks, inherent and of traits.
    pub impls: Vec<(&'a ast::Item, &'a ast::ImplBlock)>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Collects the functions of a scope; reports duplicates [E0214] and unsupported items.
pub fn collect_items<'a>(items: impl IntoIterator<Item = &'a ast::Item>) -> CollectedItems<'a> {
    let mut functions = Vec::new();
    let mut consts = Vec::new();
    let mut aliases = Vec::new();
    let mut enums = Vec::new();
    let mut structs = Vec::new();
    let mut traits = Vec::new();
    let mut modules = Vec::new();
    let mut uses = Vec::new();
    let mut impls = Vec::new();
    let mut diagnostics = Vec::new();
    // Two namespaces (LANGUAGE.md §2): types, traits, effects and handlers share one; functions,
    // consts, statics and modules the other.
    let mut seen_types: HashMap<&str, Span> = HashMap::new();
    let mut seen_values: HashMap<&str, Span> = HashMap::new();
    for item in items {
        check_attrs(&item.attrs, &mut diagnostics);
        let (name, feature) = match &item.kind {
            ast::ItemKind::Fn(decl) => (Some(&decl.name), None),
            ast::ItemKind::Struct(d) => (Some(&d.name), None),
            ast::ItemKind::Enum(d) => (Some(&d.name), enum_unsupported(d)),
            ast::ItemKind::TypeAlias(d) => (Some(&d.name), None),
            ast::ItemKind::Const(d) => (Some(&d.name), None),
            ast::ItemKind::Static(d) => (Some(&d.name), d.mutable.then_some("`static mut` (language level L5)")),
            ast::ItemKind::Impl(_) => (None, None),
            ast::ItemKind::Trait(d) => (Some(&d.name), None),
            ast::ItemKind::Mod(d) => (Some(&d.name), None),
            ast::ItemKind::Use(_) => (None, None),
            ast::ItemKind::Unsupported { feature } => {
                diagnostics.push(Diagnostic::error(format!("unsupported feature: {feature}"), item.span));
                continue;
            }
            ast::ItemKind::Error => continue,
        };
        if let Some(feature) = feature {
            let span = name.map_or(item.span, |n| n.span);
            diagnostics.push(Diagnostic::error(format!("unsupported feature: {feature}"), span));
        }
        let is_type = matches!(
            item.kind,
            ast::ItemKind::Struct(_) | ast::ItemKind::Enum(_) | ast::ItemKind::TypeAlias(_) | ast::ItemKind::Trait(_)
        );
        let seen = if is_type { &mut seen_types } else { &mut seen_values };
        if let Some(name) = name {
            if let Some(first) = seen.get(name.name.as_str()) {
                diagnostics.push(
                    Diagnostic::error("duplicate definition", name.span)
                        .with_code("E0214")
                        .with_label(format!("`{}` redefined here", name.name))
                        .with_secondary(*first, "first defined here"),
                );
                continue;
            }
            seen.insert(name.name.as_str(), name.span);
        }
        match &item.kind {
            ast::ItemKind::Fn(decl) => functions.push((item, decl)),
            ast::ItemKind::Const(decl) => consts.push((item, decl.into())),
            ast::ItemKind::Static(decl) if !decl.mutable => consts.push((item, decl.into())),
            ast::ItemKind::TypeAlias(decl) => aliases.push((item, decl)),
            ast::ItemKind::Enum(decl) if enum_unsupported(decl).is_none() => enums.push((item, decl)),
            ast::ItemKind::Struct(decl) => structs.push((item, decl)),
            ast::ItemKind::Mod(decl) => modules.push((item, decl)),
            ast::ItemKind::Use(decl) => uses.push((item, decl)),
            ast::ItemKind::Impl(block) => impls.push((item, block)),
            ast::ItemKind::Trait(decl) => traits.push((item, decl)),
            _ => {}
        }
    }
    CollectedItems { functions, consts, aliases, enums, structs, traits, modules, uses, impls, diagnostics }
}

fn enum_unsupported(_decl: &ast::EnumDecl) -> Option<&'static str> {
    None
}

/// Attributes are inert (LANGUAGE.md §3.8) except `#[derive]`, which is outside the subset.
fn check_attrs(attrs: &[ast::Attr], diagnostics: &mut Vec<Diagnostic>) {
    for attr in attrs {
        if attr.name == "derive" {
            diagnostics.push(Diagnostic::error("unsupported feature: #[derive(…)]", attr.span));
        }
    }
}
