//! snapshots: every `tests/snapshots/*.blood` is compiled with `--emit=ir` and `--emit=clif`
//! (in-process, default options as `blood build --emit=…` uses them) and both texts are pinned by
//! insta snapshots beside the source: `tests/snapshots/NAME.ir.snap` and `NAME.clif.snap`.
//! Review changes with `cargo insta review`; never accept them unread.

use blood_tests::{Args, blood_files, display_path, finish, stable_paths, tests_dir};
use bloodc::driver::{CompileFailure, CompileOptions, Emit, compile};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

fn main() {
    let args = Args::from_env("snapshots");
    let dir = tests_dir().join("snapshots");
    let mut files = blood_files(&dir, false);
    files.retain(|f| args.selects(f));

    let jobs: Vec<(&Path, Emit)> =
        files.iter().flat_map(|f| [(f.as_path(), Emit::Ir), (f.as_path(), Emit::Clif)]).collect();
    let texts = blood_tests::parallel_map(&jobs, args.threads, |(path, emit)| emit_text(path, *emit));

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(&dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);

    let (mut passed, mut failed) = (0, 0);
    for ((path, emit), text) in jobs.iter().zip(texts) {
        let kind = if *emit == Emit::Ir { "ir" } else { "clif" };
        let outcome = text.and_then(|text| {
            let mut s = settings.clone();
            s.set_input_file(path);
            let name = format!("{}.{kind}", path.file_stem().unwrap_or_default().to_string_lossy());
            catch_unwind(AssertUnwindSafe(|| s.bind(|| insta::assert_snapshot!(name, text)))).map_err(|_| {
                "snapshot differs (see the insta diff above; review with `cargo insta review`)".to_string()
            })
        });
        match outcome {
            Ok(()) => passed += 1,
            Err(why) => {
                failed += 1;
                println!("FAIL {} (--emit={kind}): {why}", display_path(path));
            }
        }
    }
    finish("snapshots", passed, failed)
}

fn emit_text(path: &Path, emit: Emit) -> Result<String, String> {
    let mut options = CompileOptions::new(path);
    options.emit = emit;
    match catch_unwind(|| compile(&options)) {
        Ok(Ok(out)) => out.text.map(|t| stable_paths(&t)).ok_or_else(|| "no text returned".to_string()),
        Ok(Err(CompileFailure::Diagnostics(text))) => Err(format!("compile error:\n{}", stable_paths(&text))),
        Ok(Err(CompileFailure::Io(text))) => Err(format!("compile failed (I/O): {text}")),
        Err(_) => Err("the compiler panicked".to_string()),
    }
}
