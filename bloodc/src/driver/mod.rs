//! The driver: options, sessions, running the stages in order, files, linking.
//!
//! This is the only module (with `package/`) that performs file and process I/O. The library
//! API here is what the `blood` binary and the end-to-end test harness both call.
//!
//! [`compile`] runs the stages in order and stops at the first stage that reports errors, so a
//! syntax error is not followed by a cascade of type errors. Output files are written only by
//! the last step (object write, or the linker writing a temporary file that is renamed into
//! place), so a failed build never leaves a broken or partial output behind.
//!
//! Each stage runs inside a [`logging::phase`] span (timed, logged with `-v`), and the
//! process-wide cancellation token ([`cancel`]) is checked between stages: Ctrl+C stops a build
//! at the next stage boundary (or, inside a long stage, `cancel` forces the exit after its grace
//! period), and the temporary directory of the link step is registered so that a cancellation
//! removes it. In a package, `CompileOptions::dependencies` names the dependency packages,
//! which `package::imports` attaches as modules after the `mod` files are loaded.

pub mod cancel;
pub mod link;
pub mod logging;
pub mod modules;
pub mod runtime_archive;

use std::path::{Path, PathBuf};

pub use runtime_archive::RuntimeKind;

use crate::codegen::{self, CodegenOptions};
use crate::diagnostics::{self, Diagnostic};
use crate::ir::passes::{self, PassOptions};
use crate::source::SourceMap;
use crate::{ir, syntax, typeck};

/// What `blood build` should produce.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Emit {
    /// Blood IR text (after passes).
    Ir,
    /// Cranelift IR text of every function.
    Clif,
    /// Machine code listing.
    Asm,
    /// Relocatable object file.
    Obj,
    /// Linked executable (default).
    Exe,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OptLevel {
    O0,
    O2,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ErrorFormat {
    Human,
    Json,
}

/// Options of one compilation.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    pub input: PathBuf,
    /// Output path; `None` means the default (input without `.blood`, or stdout for text emits).
    pub output: Option<PathBuf>,
    pub emit: Emit,
    pub opt_level: OptLevel,
    /// Target triple; `None` is the host.
    pub target: Option<String>,
    /// Do not insert safepoints (`--no-preempt`).
    pub no_preempt: bool,
    /// `--align-functions=BYTES`; `None`: the default of the optimisation level.
    pub function_align: Option<u32>,
    /// Stop after type checking (`blood check`).
    pub check_only: bool,
    pub error_format: ErrorFormat,
    pub color: bool,
    /// Dependency packages, by name, with the root file of each one's module: each becomes a
    /// module of the program (`use name.…`). Empty for a single file.
    pub dependencies: Vec<(String, PathBuf)>,
    /// Linker command (`--linker`; else `BLOOD_LINKER`; else `cc` for the host).
    pub linker: Option<String>,
    /// Directory of the runtime archive (`--runtime-dir`; else `BLOOD_RUNTIME_DIR`; else the
    /// archive embedded in `blood`, which exists for the host only).
    pub runtime_dir: Option<PathBuf>,
    /// The runtime to link (`--runtime=full|minimal`). With `Minimal`, a program calling an entry
    /// point the minimal runtime lacks is rejected after the IR passes ([`check_minimal_runtime`]).
    pub runtime: RuntimeKind,
}

impl CompileOptions {
    pub fn new(input: impl Into<PathBuf>) -> CompileOptions {
        CompileOptions {
            input: input.into(),
            output: None,
            emit: Emit::Exe,
            opt_level: OptLevel::O2,
            target: None,
            no_preempt: false,
            function_align: None,
            check_only: false,
            error_format: ErrorFormat::Human,
            color: false,
            dependencies: Vec::new(),
            linker: None,
            runtime_dir: None,
            runtime: RuntimeKind::Full,
        }
    }
}

/// A successful compilation.
#[derive(Debug, Default)]
pub struct CompileOutput {
    /// Text for `--emit=ir|clif|asm` (also written to the output file if one was given).
    pub text: Option<String>,
    /// The file written (executable or object), if any.
    pub path: Option<PathBuf>,
    /// Rendered warnings.
    pub warnings: String,
}

/// Why a compilation failed.
#[derive(Debug)]
pub enum CompileFailure {
    /// The program has errors; the rendered diagnostics (exit status 1).
    Diagnostics(String),
    /// The environment failed: unreadable input, unwritable output, linker failure (status 1).
    Io(String),
}

/// Runs one compilation: read, parse, check, lower, generate code, link (as far as `options`
/// ask). In-process; used by `blood` and by the test harness.
pub fn compile(options: &CompileOptions) -> Result<CompileOutput, CompileFailure> {
    let file_name = options.input.display().to_string();
    let file_name = file_name.as_str();
    let text = read_source(&options.input)?;
    let mut sources = SourceMap::new();
    let file = sources.add(options.input.display().to_string(), Some(&options.input), text);

    let (mut ast, mut parse_diagnostics) =
        logging::phase("parse", file_name, || syntax::parse_file(file, &sources.file(file).text));
    let dir = options.input.parent().map_or_else(|| Path::new(".").to_path_buf(), Path::to_path_buf);
    modules::load_modules(&mut sources, &mut ast.items, &dir, &mut parse_diagnostics);
    crate::package::imports::attach_dependencies(
        &mut sources,
        &mut ast.items,
        &options.dependencies,
        crate::source::Span { file, lo: 0, hi: 0 },
        &mut parse_diagnostics,
    );
    let (prelude, prelude_diagnostics) = typeck::parse_prelude(&mut sources);
    parse_diagnostics.extend(prelude_diagnostics);
    if parse_diagnostics.iter().any(Diagnostic::is_error) {
        return Err(CompileFailure::Diagnostics(render(options, &sources, &parse_diagnostics)));
    }
    check_cancelled()?;
    let resolved = logging::phase("resolve_names", file_name, || typeck::resolve_program(&sources, &ast, &prelude));
    let (hir, diagnostics) = logging::phase("typecheck", file_name, || resolved.check());
    let mut warnings = parse_diagnostics;
    warnings.extend(diagnostics.iter().filter(|d| !d.is_error()).cloned());
    let Some(hir) = hir else {
        return Err(CompileFailure::Diagnostics(render(options, &sources, &diagnostics)));
    };
    let warnings = render(options, &sources, &warnings);
    if options.check_only {
        return Ok(CompileOutput { text: None, path: None, warnings });
    }
    check_cancelled()?;

    let mut program = logging::phase("ir_build", file_name, || ir::build::lower_program(&hir));
    check_cancelled()?;
    let pass_options = PassOptions { no_preempt: options.no_preempt, optimize: options.opt_level == OptLevel::O2 };
    logging::phase("passes", file_name, || {
        for pass in passes::PASSES {
            logging::phase(pass, file_name, || passes::run_pass(pass, &mut program, pass_options));
        }
    });
    logging::phase("validate", file_name, || ir::validate::validate(&program))
        .map_err(|e| CompileFailure::Io(format!("internal compiler error: {e}")))?;
    check_cancelled()?;

    if options.runtime == RuntimeKind::Minimal {
        check_minimal_runtime(&program).map_err(|e| CompileFailure::Diagnostics(render_plain_errors(options, &e)))?;
    }

    if options.emit == Emit::Ir {
        let text = ir::print::print_program(&program);
        return emit_text(options, text, warnings);
    }

    let triple: target_lexicon::Triple = match &options.target {
        Some(t) => t.parse().map_err(|e| CompileFailure::Io(format!("invalid target triple `{t}`: {e}")))?,
        None => target_lexicon::Triple::host(),
    };
    let link_setup = if matches!(options.emit, Emit::Exe | Emit::Ir) {
        Some(LinkSetup::for_target(options, &triple)?)
    } else {
        None
    };
    let cg_options = CodegenOptions {
        triple,
        opt_level: options.opt_level,
        want_clif: options.emit == Emit::Clif,
        want_asm: options.emit == Emit::Asm,
        function_align: options.function_align,
    };
    let output = logging::phase("codegen", file_name, || codegen::compile_program(&program, &cg_options))
        .map_err(|e| CompileFailure::Io(e.to_string()))?;
    check_cancelled()?;
    match options.emit {
        Emit::Clif => emit_text(options, output.clif.unwrap_or_default(), warnings),
        Emit::Asm => emit_text(options, output.asm.unwrap_or_default(), warnings),
        Emit::Obj => {
            let path = options.output.clone().unwrap_or_else(|| options.input.with_extension("o"));
            write_atomically(&path, &output.object)?;
            Ok(CompileOutput { text: None, path: Some(path), warnings })
        }
        Emit::Exe | Emit::Ir => {
            let path = options.output.clone().unwrap_or_else(|| default_executable_path(&options.input));
            if path == options.input {
                return Err(CompileFailure::Io(format!(
                    "the output `{}` would overwrite the input; name the output with `-o`",
                    path.display()
                )));
            }
            let setup = link_setup.expect("computed for executables");
            logging::phase("link", file_name, || link_into_place(&output.object, &path, &setup))?;
            Ok(CompileOutput { text: None, path: Some(path), warnings })
        }
    }
}

/// The message a cancelled compilation fails with (`blood` maps it to status 130 by checking
/// [`cancel::is_cancelled`]; the failure variants stay those of a plain build).
pub const CANCELLED_MESSAGE: &str = "compilation cancelled";

fn check_cancelled() -> Result<(), CompileFailure> {
    cancel::global().check().map_err(|_| CompileFailure::Io(CANCELLED_MESSAGE.to_string()))
}

/// Links `object` into `path`. Everything intermediate (the object file, the linker's output)
/// lives in one temporary directory next to the output, registered with [`cancel`] so a
/// cancellation removes it; the executable is renamed into place (same file system) only if
/// linking succeeded and the build was not cancelled meanwhile.
/// The linker and runtime archive for one target.
struct LinkSetup {
    linker: Option<String>,
    runtime_dir: PathBuf,
    runtime: RuntimeKind,
}

impl LinkSetup {
    /// For the host, `cc` and the embedded runtime are defaults. A foreign target has neither: the
    /// user must name a cross linker and a runtime archive built for that target, and is told
    /// exactly which is missing (before any code is generated).
    fn for_target(options: &CompileOptions, triple: &target_lexicon::Triple) -> Result<LinkSetup, CompileFailure> {
        let linker = options.linker.clone().or_else(|| std::env::var("BLOOD_LINKER").ok().filter(|l| !l.is_empty()));
        let runtime_dir = options
            .runtime_dir
            .clone()
            .or_else(|| std::env::var_os("BLOOD_RUNTIME_DIR").filter(|d| !d.is_empty()).map(PathBuf::from));
        if *triple == target_lexicon::Triple::host() {
            let runtime_dir = match runtime_dir {
                Some(dir) => check_runtime_dir(dir, options.runtime)?,
                None => runtime_archive::runtime_archive_dir_for(options.runtime).map_err(CompileFailure::Io)?,
            };
            return Ok(LinkSetup { linker, runtime_dir, runtime: options.runtime });
        }
        let mut missing = Vec::new();
        if linker.is_none() {
            missing
                .push("a linker for that target: pass `--linker CMD` (e.g. aarch64-linux-gnu-gcc) or set BLOOD_LINKER");
        }
        let runtime_missing = format!(
            "a Blood runtime archive built for that target: pass `--runtime-dir DIR` (a directory holding {}) or set BLOOD_RUNTIME_DIR",
            options.runtime.archive_name()
        );
        if runtime_dir.is_none() {
            missing.push(&runtime_missing);
        }
        if !missing.is_empty() {
            return Err(CompileFailure::Io(format!(
                "linking an executable for `{triple}` needs {}; `--emit=obj` needs neither",
                missing.join(", and ")
            )));
        }
        let runtime_dir = check_runtime_dir(runtime_dir.expect("checked above"), options.runtime)?;
        Ok(LinkSetup { linker, runtime_dir, runtime: options.runtime })
    }
}

fn check_runtime_dir(dir: PathBuf, kind: RuntimeKind) -> Result<PathBuf, CompileFailure> {
    if dir.join(kind.archive_name()).is_file() {
        Ok(dir)
    } else {
        Err(CompileFailure::Io(format!(
            "the runtime directory `{}` does not contain {}",
            dir.display(),
            kind.archive_name()
        )))
    }
}

/// A program's use of something the minimal runtime lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinimalRuntimeError {
    /// The feature (`blood_abi::MINIMAL_EXCLUDED`, or "more than one worker thread").
    pub feature: String,
    /// The IR function that uses it (its source path, e.g. `main`).
    pub function: String,
}

impl std::fmt::Display for MinimalRuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` uses {}, which the minimal runtime does not provide; build with `--runtime=full`",
            self.function, self.feature
        )
    }
}

/// Checks that `program` (after the IR passes, so calls removed as dead do not count) calls
/// only runtime entry points the minimal runtime exports (`blood_abi::in_minimal_runtime`), and
/// does not ask `blood_scheduler_init` for more workers than it runs. Every offending function
/// and feature is reported once.
pub fn check_minimal_runtime(program: &ir::Program) -> Result<(), Vec<MinimalRuntimeError>> {
    let mut errors: Vec<MinimalRuntimeError> = Vec::new();
    for func in &program.functions {
        for block in &func.blocks {
            for stmt in &block.stmts {
                let ir::Stmt::Assign(_, ir::Rvalue::Call(ir::Callee::Runtime(f), args)) = stmt else { continue };
                let feature = if let Some(feature) = blood_abi::minimal_missing_feature(f.name) {
                    feature.to_string()
                } else if f.name == blood_abi::SCHEDULER_INIT.name
                    && matches!(args.first(), Some(ir::Operand::Const(ir::Const::Int { bits, .. }))
                        if *bits > u128::from(blood_abi::MINIMAL_MAX_WORKERS))
                {
                    "more than one worker thread (`__builtin_scheduler_init` with more than 1 worker)".to_string()
                } else {
                    continue;
                };
                let error = MinimalRuntimeError { feature, function: func.name.clone() };
                if !errors.contains(&error) {
                    errors.push(error);
                }
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Renders errors without a source location (the IR has none) in the requested format.
fn render_plain_errors(options: &CompileOptions, errors: &[MinimalRuntimeError]) -> String {
    let mut out = String::new();
    for e in errors {
        match options.error_format {
            ErrorFormat::Human => out.push_str(&format!("error: {e}\n")),
            ErrorFormat::Json => {
                let value = serde_json::json!({ "severity": "error", "message": e.to_string(), "file": options.input.display().to_string() });
                out.push_str(&format!("{value}\n"));
            }
        }
    }
    out
}

fn link_into_place(object: &[u8], path: &Path, setup: &LinkSetup) -> Result<(), CompileFailure> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(CompileFailure::Io(format!(
            "cannot write `{}`: the directory `{}` does not exist",
            path.display(),
            dir.display()
        )));
    }
    let tmp = cancel::temp_dir_in(dir, ".blood-build-")
        .map_err(|e| CompileFailure::Io(format!("cannot write `{}`: {}", path.display(), io_reason(&e))))?;
    let object_path = tmp.path().join("program.o");
    std::fs::write(&object_path, object)
        .map_err(|e| CompileFailure::Io(format!("cannot write `{}`: {e}", object_path.display())))?;
    let linked = tmp.path().join("program");
    check_cancelled()?;
    link::link_executable_with(
        &object_path,
        &linked,
        &setup.runtime_dir,
        setup.runtime.link_name(),
        setup.linker.as_deref(),
    )
    .map_err(|e| {
        // Messages name the requested output, not the temporary one.
        CompileFailure::Io(e.replace(&linked.display().to_string(), &path.display().to_string()))
    })?;
    cancel::commit_output(|| std::fs::rename(&linked, path))
        .map_err(|_| CompileFailure::Io(CANCELLED_MESSAGE.to_string()))?
        .map_err(|e| CompileFailure::Io(format!("cannot write `{}`: {}", path.display(), io_reason(&e))))?;
    Ok(())
}

/// `prog.blood` → `prog` (LANGUAGE.md §11); other names get `.out` so the input is never
/// overwritten.
pub fn default_executable_path(input: &Path) -> PathBuf {
    if input.extension().is_some_and(|e| e == "blood") { input.with_extension("") } else { input.with_extension("out") }
}

fn read_source(path: &Path) -> Result<String, CompileFailure> {
    let shown = path.display();
    if path.is_dir() {
        return Err(CompileFailure::Io(format!("cannot read `{shown}`: it is a directory")));
    }
    let bytes =
        std::fs::read(path).map_err(|e| CompileFailure::Io(format!("cannot read `{shown}`: {}", io_reason(&e))))?;
    String::from_utf8(bytes)
        .map_err(|_| CompileFailure::Io(format!("cannot read `{shown}`: the file is not valid UTF-8")))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

fn render(options: &CompileOptions, sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    match options.error_format {
        ErrorFormat::Human => diagnostics::render(sources, diagnostics, options.color),
        ErrorFormat::Json => diagnostics::render_json(sources, diagnostics),
    }
}

/// Writes a text emit to `-o PATH`, or returns it for stdout (no `-o`, or `-o -`).
fn emit_text(options: &CompileOptions, text: String, warnings: String) -> Result<CompileOutput, CompileFailure> {
    if let Some(path) = options.output.as_ref().filter(|p| p.as_os_str() != "-") {
        write_atomically(path, text.as_bytes())?;
        return Ok(CompileOutput { text: Some(text), path: Some(path.clone()), warnings });
    }
    Ok(CompileOutput { text: Some(text), path: None, warnings })
}

/// Writes a file through a temporary sibling and a rename, so readers never see half a file and
/// a failure leaves nothing behind.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CompileFailure> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let fail = |e: std::io::Error| CompileFailure::Io(format!("cannot write `{}`: {}", path.display(), io_reason(&e)));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    // Registered so that a forced exit on Ctrl+C removes it too.
    let registered = cancel::TempPath::register(tmp.path());
    std::io::Write::write_all(&mut tmp, bytes).map_err(fail)?;
    cancel::commit_output(|| tmp.persist(path))
        .map_err(|_| CompileFailure::Io(CANCELLED_MESSAGE.to_string()))?
        .map_err(|e| fail(e.error))?;
    registered.keep();
    Ok(())
}
