//! Loading the files of `mod name;` declarations (LANGUAGE.md §5.6).
//!
//! `mod name;` loads `name.blood` from the directory of the file that declares it; the file's
//! items become the module's items. This is file I/O, so it lives in the driver: after this step
//! the AST holds the whole module tree and the type checker never touches the file system.
//! `mod std;` names the (empty) standard library and loads nothing.

use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::source::SourceMap;
use crate::syntax::{self, ast};

/// Nesting limit for module files (also stops `a.blood` ↔ `b.blood` cycles).
const MAX_DEPTH: usize = 64;

/// Fills in the items of every `mod name;` in `items`, recursively.
pub fn load_modules(sources: &mut SourceMap, items: &mut [ast::Item], dir: &Path, diagnostics: &mut Vec<Diagnostic>) {
    load(sources, items, dir, diagnostics, &mut Vec::new());
}

fn load(
    sources: &mut SourceMap,
    items: &mut [ast::Item],
    dir: &Path,
    diagnostics: &mut Vec<Diagnostic>,
    stack: &mut Vec<PathBuf>,
) {
    for item in items {
        let ast::ItemKind::Mod(decl) = &mut item.kind else { continue };
        if let Some(inline) = &mut decl.items {
            load(sources, inline, dir, diagnostics, stack);
            continue;
        }
        let name = decl.name.name.clone();
        if name == "std" {
            decl.items = Some(Vec::new());
            continue;
        }
        let path = dir.join(format!("{name}.blood"));
        let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
        if stack.contains(&canonical) || stack.len() >= MAX_DEPTH {
            diagnostics.push(
                Diagnostic::error(format!("failed to load module '{name}'"), decl.name.span)
                    .with_note(format!("`{}` is already being loaded (modules form a cycle)", path.display())),
            );
            continue;
        }
        let text = match std::fs::read(&path).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => {
                diagnostics.push(
                    Diagnostic::error(format!("failed to load module '{name}'"), decl.name.span)
                        .with_note(format!("`{}` is not valid UTF-8", path.display())),
                );
                continue;
            }
            Err(e) => {
                diagnostics.push(
                    Diagnostic::error(format!("failed to load module '{name}'"), decl.name.span)
                        .with_note(format!("cannot read `{}`: {e}", path.display())),
                );
                continue;
            }
        };
        let file = sources.add(path.display().to_string(), Some(&path), text);
        let (parsed, mut parse_diagnostics) = syntax::parse_file(file, &sources.file(file).text);
        diagnostics.append(&mut parse_diagnostics);
        let mut module_items = parsed.items;
        let module_dir = path.parent().map_or_else(|| dir.to_path_buf(), Path::to_path_buf);
        stack.push(canonical);
        load(sources, &mut module_items, &module_dir, diagnostics, stack);
        stack.pop();
        decl.items = Some(module_items);
    }
}
