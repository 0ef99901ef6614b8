//! compile-fail: every `tests/compile-fail/*.blood` (first line `// COMPILE_FAIL: reason`) must be
//! rejected by `bloodc::driver::compile` with diagnostics; every `// EXPECT: text` line must be a
//! substring of the rendered diagnostics (the text `blood build` prints), and the whole rendered
//! text is pinned by an insta snapshot per file (`tests/compile-fail/snapshots/NAME.snap`), with
//! absolute paths made workspace-relative.
//!
//! A file with `// COMPILE_FAIL:`, no `fn main`, that another file of the directory loads with
//! `mod NAME;` is a helper module, not a test (LANGUAGE.md §10); other files without `main` are
//! tests (e.g. of "main function not found").

use blood_tests::{
    Args, blood_files, display_path, finish, is_module_helper, parse_directives, stable_paths, tests_dir,
};
use bloodc::driver::{CompileFailure, CompileOptions, Emit, compile};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

fn main() {
    let args = Args::from_env("compile_fail");
    let dir = tests_dir().join("compile-fail");
    let mut files = blood_files(&dir, false);
    files.retain(|f| args.selects(f) && !is_module_helper(f));

    let rendered = blood_tests::parallel_map(&files, args.threads, |path| diagnostics_of(path));

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir.join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);

    let (mut passed, mut failed) = (0, 0);
    for (path, result) in files.iter().zip(rendered) {
        let shown = display_path(path);
        let outcome = result.and_then(|text| {
            let mut s = settings.clone();
            s.set_input_file(path);
            let name = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            catch_unwind(AssertUnwindSafe(|| s.bind(|| insta::assert_snapshot!(name, text)))).map_err(|_| {
                "snapshot differs (see the insta diff above; review with `cargo insta review`)".to_string()
            })
        });
        match outcome {
            Ok(()) => passed += 1,
            Err(why) => {
                failed += 1;
                println!("FAIL {shown}: {why}");
            }
        }
    }
    finish("compile-fail", passed, failed)
}

/// Compiles `path`, expecting failure; returns the rendered diagnostics after checking the
/// header and the `EXPECT:` substrings.
fn diagnostics_of(path: &Path) -> Result<String, String> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let d = parse_directives(&source)?;
    if d.compile_fail.is_none() {
        return Err("first line must be `// COMPILE_FAIL: reason`".to_string());
    }
    if d.expect.is_empty() {
        return Err("no `// EXPECT:` line".to_string());
    }
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let mut options = CompileOptions::new(path);
    options.emit = Emit::Exe;
    options.output = Some(dir.path().join("out"));
    let text = match catch_unwind(|| compile(&options)) {
        Ok(Err(CompileFailure::Diagnostics(text))) => stable_paths(&text),
        Ok(Err(CompileFailure::Io(text))) => return Err(format!("failed with an I/O error, not diagnostics: {text}")),
        Ok(Ok(_)) => return Err("compiled successfully, but must be rejected".to_string()),
        Err(_) => return Err("the compiler panicked".to_string()),
    };
    if dir.path().join("out").exists() {
        return Err("an output file was written despite the errors".to_string());
    }
    let missing: Vec<&String> = d.expect.iter().filter(|e| !text.contains(e.as_str())).collect();
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
        return Err(format!("diagnostics lack {}:\n{}", list.join(", "), indent(&text)));
    }
    Ok(text)
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}
