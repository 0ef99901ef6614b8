//! Structs and enums with payloads (LANGUAGE.md §4.1–§4.2): registering their definitions in the
//! program's [`AdtTable`](crate::types::AdtTable), lowering their field types, and rejecting
//! types of infinite size.
//!
//! Names are declared in phase 1 of item registration (so types may refer to each other in any
//! order); field types are lowered in phase 3, once every type name and `use` is bound. Fieldless
//! enums stay [`Ty::Enum`] scalars and never enter the table.

use std::sync::Arc;

use crate::diagnostics::Diagnostic;
use crate::resolve::ScopeId;
use crate::syntax::ast;
use crate::types::{AdtDef, AdtRef, CtorKind, FieldDef, Ty, VariantDef};

use super::GlobalCx;

/// The declaration an ADT was registered from.
#[derive(Clone, Copy)]
pub(crate) enum AdtSource<'a> {
    Struct(&'a ast::StructDecl),
    Enum(&'a ast::EnumDecl),
}

/// What methods are attached to: a fieldless enum or an ADT.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum TypeKey {
    Enum(u32),
    Adt(u32),
}

impl TypeKey {
    pub fn of(ty: &Ty) -> Option<TypeKey> {
        // (Generic ADTs share one key: their methods are templates over the parameters.)
        match ty {
            Ty::Enum(e) => Some(TypeKey::Enum(e.id)),
            Ty::Adt(a, _) => Some(TypeKey::Adt(a.id)),
            _ => None,
        }
    }
}

/// An enum whose variants all lack payloads (and which has no type parameters) is a scalar
/// [`Ty::Enum`].
pub(crate) fn is_fieldless(decl: &ast::EnumDecl) -> bool {
    decl.generics.params.is_empty() && decl.variants.iter().all(|v| matches!(v.kind, ast::StructKind::Unit))
}

impl GlobalCx<'_> {
    /// Phase 1: reserves an id for a struct or payload enum (fields come later).
    pub(crate) fn declare_adt(&mut self, source: AdtSource<'_>) -> u32 {
        let (name, is_enum, generics) = match source {
            AdtSource::Struct(d) => (d.name.name.clone(), false, &d.generics),
            AdtSource::Enum(d) => (d.name.name.clone(), true, &d.generics),
        };
        let generics = generics.params.iter().map(|p| p.name.name.clone()).collect();
        self.adts.defs.push(AdtDef { name, generics, is_enum, variants: Vec::new(), counted_handle: false });
        self.adts.defs.len() as u32 - 1
    }

    /// The type `Name<args>` of ADT `id`.
    pub(crate) fn adt_ty_with(&self, id: u32, args: Vec<Ty>) -> Ty {
        Ty::Adt(AdtRef { id, name: self.adts.defs[id as usize].name.as_str().into() }, Arc::from(args))
    }

    /// Phase 3: lowers the field types of a declared ADT.
    pub(crate) fn lower_adt_fields(&mut self, id: u32, source: AdtSource<'_>, scopes: &[ScopeId]) {
        let env = super::generics::param_env(&self.adts.defs[id as usize].generics);
        let saved = std::mem::replace(&mut self.type_env, env);
        self.lower_adt_fields_in_env(id, source, scopes);
        self.type_env = saved;
    }

    fn lower_adt_fields_in_env(&mut self, id: u32, source: AdtSource<'_>, scopes: &[ScopeId]) {
        let variants = match source {
            AdtSource::Struct(d) => vec![self.lower_variant(&d.name.name, &d.kind, scopes)],
            AdtSource::Enum(d) => {
                let mut variants: Vec<VariantDef> = Vec::new();
                for v in &d.variants {
                    if let Some(e) = &v.discriminant {
                        self.error(Diagnostic::error(
                            "discriminants (`= N`) are only allowed on enums whose variants carry no data",
                            e.span,
                        ));
                    }
                    if variants.iter().any(|x| x.name == v.name.name) {
                        self.error(Diagnostic::error(
                            format!("duplicate variant name `{}` in enum", v.name.name),
                            v.name.span,
                        ));
                        continue;
                    }
                    variants.push(self.lower_variant(&v.name.name, &v.kind, scopes));
                }
                variants
            }
        };
        self.adts.defs[id as usize].variants = variants;
    }

    fn lower_variant(&mut self, name: &str, kind: &ast::StructKind, scopes: &[ScopeId]) -> VariantDef {
        let (ctor, fields) = match kind {
            ast::StructKind::Unit => (CtorKind::Unit, Vec::new()),
            ast::StructKind::Tuple(fields) => (
                CtorKind::Tuple,
                fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| FieldDef { name: i.to_string(), ty: self.lower_type(&f.ty, scopes) })
                    .collect(),
            ),
            ast::StructKind::Named(fields) => {
                let mut out: Vec<FieldDef> = Vec::new();
                for f in fields {
                    if out.iter().any(|x| x.name == f.name.name) {
                        self.error(
                            Diagnostic::error(format!("duplicate field name `{}` in struct", f.name.name), f.name.span)
                                .with_code("E0214"),
                        );
                        continue;
                    }
                    out.push(FieldDef { name: f.name.name.clone(), ty: self.lower_type(&f.ty, scopes) });
                }
                (CtorKind::Named, out)
            }
        };
        VariantDef { name: name.to_string(), ctor, fields }
    }

    /// Reports every ADT among `ids` that contains itself by value ("recursive type `S` has
    /// infinite size"); its fields are then cleared so later stages never loop over it.
    pub(crate) fn check_infinite_size(&mut self, ids: &[(u32, crate::source::Span)]) {
        for &(id, span) in ids {
            let mut visiting = vec![false; self.adts.defs.len()];
            let params: Vec<Ty> = (0..self.adts.defs[id as usize].generics.len() as u32)
                .map(|i| Ty::Param(i, self.adts.defs[id as usize].generics[i as usize].as_str().into()))
                .collect();
            if self.contains_by_value(id, &params, id, &mut visiting) {
                let name = self.adts.defs[id as usize].name.clone();
                self.error(
                    Diagnostic::error(format!("recursive type `{name}` has infinite size"), span)
                        .with_help("insert indirection (a `Box`, a `Vec` or a reference) to break the cycle"),
                );
                for v in &mut self.adts.defs[id as usize].variants {
                    for f in &mut v.fields {
                        f.ty = Ty::Error;
                    }
                }
            }
        }
    }

    /// Whether ADT `current` (instantiated with `args`) contains `target` by value (through
    /// fields, tuples, arrays and type arguments used by value, as in `Option<Node>`). `Box`,
    /// `Vec` and references are indirections: they end the search.
    fn contains_by_value(&self, current: u32, args: &[Ty], target: u32, visiting: &mut Vec<bool>) -> bool {
        if visiting[current as usize] {
            return false;
        }
        visiting[current as usize] = true;
        let def = &self.adts.defs[current as usize];
        let found =
            def.variants.iter().flat_map(|v| &v.fields).any(|f| self.ty_contains(&f.ty.subst(args), target, visiting));
        visiting[current as usize] = false;
        found
    }

    fn ty_contains(&self, ty: &Ty, target: u32, visiting: &mut Vec<bool>) -> bool {
        match ty {
            Ty::Adt(a, args) => a.id == target || self.contains_by_value(a.id, args, target, visiting),
            Ty::Tuple(elems) => elems.iter().any(|t| self.ty_contains(t, target, visiting)),
            Ty::Array(t, _) => self.ty_contains(t, target, visiting),
            _ => false,
        }
    }
}
