//! Making dependencies importable: each dependency package becomes a module of the program,
//! named like the package, so `use json.parse` or `json.parse(…)` reach its `pub` items.
//!
//! Why a module: the module system (LANGUAGE.md §5.6) already resolves `use` paths from the
//! current module and then from the root, handles privacy, re-exports and nested `mod` files.
//! Attaching each dependency's root file as a root-level module reuses all of it: a package's
//! code and its dependencies' code see every dependency by name (one version per name, chosen by
//! the resolver), and a dependency's own `mod x;` files load from its directory.
//!
//! A dependency's root file is its `src/lib.blood` when present, otherwise its manifest entry
//! (a `main` in it is just a function of the module). A root-level item of the package with the
//! same name as a dependency wins (the dependency is then reachable only through other
//! dependencies), like a local shadowing the prelude.

use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::source::{SourceMap, Span};
use crate::syntax::{self, ast};

/// The file whose items form the module of the package at `root` with entry `entry`.
pub fn library_root(root: &Path, entry: &Path) -> PathBuf {
    let lib = root.join("src").join("lib.blood");
    if lib.is_file() { lib } else { root.join(entry) }
}

/// Adds a module `name` to `items` for every `(name, root file)` in `dependencies`, parsing
/// the files (and their `mod` files). Problems become diagnostics at `at` (the importing
/// program's root file).
pub fn attach_dependencies(
    sources: &mut SourceMap,
    items: &mut Vec<ast::Item>,
    dependencies: &[(String, PathBuf)],
    at: Span,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (name, file) in dependencies {
        if items.iter().any(|item| item_name(item) == Some(name.as_str())) {
            continue;
        }
        let text = match std::fs::read(file).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => {
                diagnostics.push(
                    Diagnostic::error(format!("failed to load dependency '{name}'"), at)
                        .with_note(format!("`{}` is not valid UTF-8", file.display())),
                );
                continue;
            }
            Err(e) => {
                diagnostics.push(
                    Diagnostic::error(format!("failed to load dependency '{name}'"), at)
                        .with_note(format!("cannot read `{}`: {e}", file.display())),
                );
                continue;
            }
        };
        let id = sources.add(file.display().to_string(), Some(file), text);
        let (parsed, mut parse_diagnostics) = syntax::parse_file(id, &sources.file(id).text);
        diagnostics.append(&mut parse_diagnostics);
        let mut module_items = parsed.items;
        let dir = file.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        crate::driver::modules::load_modules(sources, &mut module_items, &dir, diagnostics);
        let span = Span { file: id, lo: 0, hi: 0 };
        items.push(ast::Item {
            attrs: Vec::new(),
            vis: ast::Visibility::Restricted("crate".to_string()),
            kind: ast::ItemKind::Mod(ast::ModDecl {
                name: ast::Ident { name: name.clone(), span },
                items: Some(module_items),
            }),
            span: parsed.span,
        });
    }
}

fn item_name(item: &ast::Item) -> Option<&str> {
    let name = match &item.kind {
        ast::ItemKind::Fn(d) => &d.name,
        ast::ItemKind::Struct(d) => &d.name,
        ast::ItemKind::Enum(d) => &d.name,
        ast::ItemKind::TypeAlias(d) => &d.name,
        ast::ItemKind::Const(d) => &d.name,
        ast::ItemKind::Static(d) => &d.name,
        ast::ItemKind::Trait(d) => &d.name,
        ast::ItemKind::Mod(d) => &d.name,
        _ => return None,
    };
    Some(name.name.as_str())
}
