//! The item scope table: modules and blocks, their bindings, paths and visibility.
//!
//! Every module and every block with items has an [`ItemScope`] in one [`ScopeTable`], referred
//! to by [`ScopeId`] (the root module is `ScopeId(0)`). A scope has two namespaces (LANGUAGE.md
//! §2): values (functions, constants, modules) and types (enums, aliases). `use` declarations add
//! bindings to their module's scope, so later lookups see imports the same way as declarations.
//!
//! Lookup of a single name walks the lexical chain (innermost scope first) and falls back to the
//! root module, mirroring the rule for `use` paths (§5.6: "current module, then root"). A
//! multi-segment path descends through modules; an item is reachable from module `C` if it is
//! `pub`, or if `C` is its module or inside it.

use std::collections::HashMap;

use crate::hir::FnId;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScopeId(pub u32);

/// What a name is bound to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Def {
    Fn(FnId),
    /// Index into the type checker's constant table.
    Const(u32),
    /// Index into the type checker's alias table.
    Alias(u32),
    /// Index into the type checker's enum table (fieldless enums).
    Enum(u32),
    /// Index into the ADT table (structs and enums with payloads).
    Adt(u32),
    /// Index into the type checker's trait table.
    Trait(u32),
    /// A variant usable without its enum's name (`Some`, `None`, `Ok`, `Err`): ADT, variant.
    Variant(u32, u32),
    Module(ScopeId),
}

impl Def {
    pub fn is_type(self) -> bool {
        matches!(self, Def::Alias(_) | Def::Enum(_) | Def::Adt(_) | Def::Trait(_))
    }
}

#[derive(Copy, Clone, Debug)]
pub struct Binding {
    pub def: Def,
    pub public: bool,
}

#[derive(Clone, Debug)]
pub struct ItemScope {
    pub values: HashMap<String, Binding>,
    pub types: HashMap<String, Binding>,
    /// The module this scope is (module scopes) or belongs to (block scopes).
    pub module: ScopeId,
    /// For module scopes, the enclosing module (`None` for the root and for blocks).
    pub parent: Option<ScopeId>,
    /// Path prefix of items declared here (`geometry.`), for names and symbols.
    pub prefix: String,
}

/// Why a path did not resolve.
#[derive(Clone, Debug, PartialEq)]
pub enum PathError {
    /// The first segment names nothing.
    Unresolved(String),
    /// `module.name` where the module has no such item.
    NotInModule { module: String, name: String },
    /// The item exists but is private to its module.
    Private(String),
}

#[derive(Default)]
pub struct ScopeTable {
    scopes: Vec<ItemScope>,
    /// Module scope → its name path, for messages.
    names: HashMap<ScopeId, String>,
    /// The standard prelude: searched after the root module (user items shadow it).
    pub prelude: Option<ScopeId>,
}

pub const ROOT: ScopeId = ScopeId(0);

impl ScopeTable {
    /// Creates a module scope (`parent: None` for the root) or, with `block_of`, a block scope
    /// inside that module.
    pub fn new_module(&mut self, parent: Option<ScopeId>, name: &str, prefix: String) -> ScopeId {
        let id = ScopeId(self.scopes.len() as u32);
        self.scopes.push(ItemScope { values: HashMap::new(), types: HashMap::new(), module: id, parent, prefix });
        self.names.insert(id, name.to_string());
        id
    }

    pub fn new_block(&mut self, module: ScopeId, prefix: String) -> ScopeId {
        let id = ScopeId(self.scopes.len() as u32);
        self.scopes.push(ItemScope { values: HashMap::new(), types: HashMap::new(), module, parent: None, prefix });
        id
    }

    pub fn get(&self, id: ScopeId) -> &ItemScope {
        &self.scopes[id.0 as usize]
    }

    /// Binds `name`; returns false if the namespace already has it.
    pub fn insert(&mut self, scope: ScopeId, name: &str, def: Def, public: bool) -> bool {
        let s = &mut self.scopes[scope.0 as usize];
        let map = if def.is_type() { &mut s.types } else { &mut s.values };
        if map.contains_key(name) {
            return false;
        }
        map.insert(name.to_string(), Binding { def, public });
        true
    }

    pub fn module_name(&self, id: ScopeId) -> &str {
        self.names.get(&id).map_or("", String::as_str)
    }

    /// Looks a single name up along `chain` (innermost last), then in the root module.
    /// Values are preferred; `want_type` prefers types.
    pub fn lookup(&self, chain: &[ScopeId], name: &str, want_type: bool) -> Option<Def> {
        let in_scope = |id: ScopeId| {
            let s = self.get(id);
            let (first, second) = if want_type { (&s.types, &s.values) } else { (&s.values, &s.types) };
            first.get(name).or_else(|| second.get(name)).map(|b| b.def)
        };
        chain
            .iter()
            .rev()
            .find_map(|&id| in_scope(id))
            .or_else(|| in_scope(ROOT))
            .or_else(|| self.prelude.and_then(in_scope))
    }

    /// Whether module `inner` is `outer` or nested inside it.
    pub fn is_within(&self, inner: ScopeId, outer: ScopeId) -> bool {
        let mut cur = Some(inner);
        while let Some(c) = cur {
            if c == outer {
                return true;
            }
            cur = self.get(c).parent;
        }
        false
    }

    /// `name` in module `module`, as seen from module `from`.
    pub fn member(&self, module: ScopeId, name: &str, from: ScopeId) -> Result<Def, PathError> {
        let s = self.get(module);
        let binding = s.values.get(name).or_else(|| s.types.get(name)).ok_or_else(|| PathError::NotInModule {
            module: self.module_name(module).to_string(),
            name: name.to_string(),
        })?;
        if binding.public || self.is_within(from, module) {
            Ok(binding.def)
        } else {
            Err(PathError::Private(name.to_string()))
        }
    }

    /// Resolves the longest prefix of `segments` that names an item, descending through
    /// modules. Returns the item and how many segments it used; the caller interprets the rest
    /// (an enum variant, or an error).
    pub fn resolve_path(&self, chain: &[ScopeId], from: ScopeId, segments: &[&str]) -> Result<(Def, usize), PathError> {
        let first = segments[0];
        let mut def = self.lookup(chain, first, false).ok_or_else(|| PathError::Unresolved(first.to_string()))?;
        let mut used = 1;
        while let Def::Module(m) = def {
            let Some(next) = segments.get(used) else { break };
            def = self.member(m, next, from)?;
            used += 1;
        }
        Ok((def, used))
    }

    /// Every name bound along `chain` and in the root, for "did you mean" suggestions.
    pub fn visible_names(&self, chain: &[ScopeId]) -> Vec<String> {
        chain
            .iter()
            .chain(std::iter::once(&ROOT))
            .chain(self.prelude.as_ref())
            .flat_map(|&id| {
                let s = self.get(id);
                s.values.keys().chain(s.types.keys()).cloned().collect::<Vec<_>>()
            })
            .collect()
    }

    /// The public bindings of a module (for glob imports).
    pub fn public_bindings(&self, module: ScopeId) -> Vec<(String, Def)> {
        let s = self.get(module);
        s.values.iter().chain(s.types.iter()).filter(|(_, b)| b.public).map(|(n, b)| (n.clone(), b.def)).collect()
    }
}
