//! `blood`: the command-line front of the driver.
//!
//! Parses arguments with clap (usage errors exit with status 2), runs `bloodc::driver::compile`,
//! prints diagnostics to stderr and maps the result to the documented exit statuses: 0 success,
//! 1 errors in the program or its environment, 2 usage, 101 internal compiler error (a Rust panic
//! is caught here and reported as a bug, never shown raw), and 130 when Ctrl+C or SIGTERM
//! cancelled a build or a fetch (see `driver::cancel`).
//!
//! Without a FILE, `build`, `run` and `check` work on the package around the current directory
//! (the nearest `Blood.toml`): dependencies are resolved and fetched (`bloodc::package`), and
//! the entry file is compiled into `target/NAME`. `new`, `fetch` and `publish` manage packages.
//! Logging (`-v`, `BLOOD_LOG`, `--log-format`) is set up here, before anything runs.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bloodc::driver::cancel::{self, EXIT_CANCELLED, Operation};
use bloodc::driver::logging::{self, LogFormat};
use bloodc::driver::{self, CompileFailure, CompileOptions, Emit, ErrorFormat, OptLevel};
use bloodc::package::{self, Package, PackageError, PackageOptions};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "blood", version, about = "The Blood compiler: build native executables from Blood source")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// More logging on stderr (-v: phases and timings, -vv: debug); BLOOD_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Format of log lines on stderr.
    #[arg(long, value_enum, default_value_t = LogFormatArg::Human, global = true)]
    log_format: LogFormatArg,
}

#[derive(Copy, Clone, ValueEnum)]
enum LogFormatArg {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a program to a native executable (or to IR, CLIF, assembly, an object file).
    Build(BuildArgs),
    /// Build and run a program (a FILE in a temporary directory, a package in target/); arguments
    /// after `--` are passed on.
    Run {
        #[command(flatten)]
        build: BuildArgs,
        /// Arguments for the program.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Check a program for errors without generating code.
    Check(BuildArgs),
    /// Create a package: NAME/Blood.toml and NAME/src/main.blood.
    New {
        /// The package name (lower-case letters, digits and `_`).
        #[arg(value_parser = parse_package_name)]
        name: String,
    },
    /// Resolve and download the dependencies of the current package; write Blood.lock.
    Fetch {
        #[command(flatten)]
        package: PackageArgs,
        /// Print nothing but errors.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Write the current package's archive and index entry into a registry directory.
    Publish {
        /// The registry directory (served by any static HTTP server).
        #[arg(long, value_name = "DIR")]
        registry_dir: PathBuf,
    },
}

/// Options of builds inside a package.
#[derive(Args, Clone, Default)]
struct PackageArgs {
    /// Fail if Blood.lock is missing or would change.
    #[arg(long)]
    locked: bool,
    /// Use only the download cache (BLOOD_HOME, default ~/.blood); no network.
    #[arg(long)]
    offline: bool,
    /// Registry URL (beats BLOOD_REGISTRY and [registry] in Blood.toml).
    #[arg(long, value_name = "URL")]
    registry: Option<String>,
}

impl PackageArgs {
    fn to_options(&self, quiet: bool) -> Result<PackageOptions, String> {
        Ok(PackageOptions {
            locked: self.locked,
            offline: self.offline,
            registry: self.registry.clone(),
            fetch: package::fetcher::FetchConfig::from_env()?,
            progress: !quiet && std::io::stderr().is_terminal(),
            cache: None,
        })
    }
}

fn parse_package_name(name: &str) -> Result<String, String> {
    package::manifest::validate_name(name).map(|()| name.to_string())
}

/// `--align-functions`: a power of two from 1 to 64.
fn parse_function_align(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n) if n.is_power_of_two() && n <= 64 => Ok(n),
        _ => Err(format!("`{text}` is not a power of two from 1 to 64")),
    }
}

#[derive(Args, Clone)]
struct BuildArgs {
    /// The `.blood` file to compile (default: the package around the current directory).
    file: Option<PathBuf>,
    /// Output path (default: FILE without `.blood`; text emits go to stdout).
    #[arg(short = 'o', value_name = "OUT")]
    output: Option<PathBuf>,
    /// What to produce.
    #[arg(long, value_enum, default_value_t = EmitArg::Exe)]
    emit: EmitArg,
    /// Target triple (default: the host), e.g. aarch64-unknown-linux-gnu.
    #[arg(long, value_name = "TRIPLE")]
    target: Option<String>,
    /// Linker command (default: BLOOD_LINKER, else `cc`); required to link for a foreign target.
    #[arg(long, value_name = "CMD")]
    linker: Option<String>,
    /// Directory holding the runtime archive to link (default: BLOOD_RUNTIME_DIR, else the one
    /// built into `blood`); required to link for a foreign target.
    #[arg(long, value_name = "DIR")]
    runtime_dir: Option<PathBuf>,
    /// Runtime to link: `full` (default; M:N worker pool) or `minimal` (one worker, no OS
    /// threads, metrics or environment configuration; for small and embedded binaries).
    #[arg(long, value_enum, default_value_t = RuntimeArg::Full)]
    runtime: RuntimeArg,
    /// Optimisation level: -O0 (fast compile) or -O2 (default).
    #[arg(short = 'O', value_name = "LEVEL", value_parser = ["0", "1", "2", "3"], default_value = "2")]
    opt: String,
    /// Do not insert preemption safepoints.
    #[arg(long)]
    no_preempt: bool,
    /// Align every function to BYTES (1, 2, 4, …, 64; default 16 at -O2, 1 at -O0).
    #[arg(long, value_name = "BYTES", value_parser = parse_function_align)]
    align_functions: Option<u32>,
    /// Diagnostic format.
    #[arg(long, value_enum, default_value_t = ErrorFormatArg::Human)]
    error_format: ErrorFormatArg,
    /// Colour diagnostics.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
    /// Accepted for harness compatibility; builds use a private temporary directory.
    #[arg(long, value_name = "DIR")]
    build_dir: Option<PathBuf>,
    /// Accepted for harness compatibility; the standard library is built into `blood`.
    #[arg(long, value_name = "DIR")]
    stdlib_path: Option<PathBuf>,
    #[command(flatten)]
    package: PackageArgs,
}

#[derive(Copy, Clone, ValueEnum)]
enum EmitArg {
    Ir,
    Clif,
    Asm,
    Obj,
    Exe,
}

#[derive(Copy, Clone, ValueEnum)]
enum RuntimeArg {
    Full,
    Minimal,
}

#[derive(Copy, Clone, ValueEnum)]
enum ErrorFormatArg {
    Human,
    Json,
}

#[derive(Copy, Clone, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

impl BuildArgs {
    /// Compile options for `input` (the FILE, or a package's entry).
    fn to_options(&self, input: &Path, check_only: bool) -> CompileOptions {
        let mut o = CompileOptions::new(input);
        o.output = self.output.clone();
        o.emit = match self.emit {
            EmitArg::Ir => Emit::Ir,
            EmitArg::Clif => Emit::Clif,
            EmitArg::Asm => Emit::Asm,
            EmitArg::Obj => Emit::Obj,
            EmitArg::Exe => Emit::Exe,
        };
        o.target = self.target.clone();
        o.linker = self.linker.clone();
        o.runtime_dir = self.runtime_dir.clone();
        o.runtime = match self.runtime {
            RuntimeArg::Full => driver::RuntimeKind::Full,
            RuntimeArg::Minimal => driver::RuntimeKind::Minimal,
        };
        o.opt_level = if self.opt == "0" { OptLevel::O0 } else { OptLevel::O2 };
        o.no_preempt = self.no_preempt;
        o.function_align = self.align_functions;
        o.check_only = check_only;
        o.error_format = match self.error_format {
            ErrorFormatArg::Human => ErrorFormat::Human,
            ErrorFormatArg::Json => ErrorFormat::Json,
        };
        o.color = match self.color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => std::io::stderr().is_terminal(),
        };
        o
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = match cli.log_format {
        LogFormatArg::Human => LogFormat::Human,
        LogFormatArg::Json => LogFormat::Json,
    };
    logging::init(cli.verbose, format);
    // A bug in the compiler must read as a bug report, not as a Rust backtrace.
    std::panic::set_hook(Box::new(|_| {}));
    let input = match &cli.command {
        Command::Build(a) | Command::Check(a) | Command::Run { build: a, .. } => match &a.file {
            Some(file) => format!("`{}`", file.display()),
            None => "the package".to_string(),
        },
        Command::New { name } => format!("`{name}`"),
        Command::Fetch { .. } | Command::Publish { .. } => "the package".to_string(),
    };
    if !matches!(cli.command, Command::New { .. }) {
        cancel::set_operation(if matches!(cli.command, Command::Fetch { .. }) {
            Operation::Fetch
        } else {
            Operation::Compile
        });
        if let Err(e) = cancel::install_signal_handler() {
            eprintln!("warning: {e}");
        }
    }
    match std::panic::catch_unwind(move || run(cli)) {
        Ok(code) => code,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            eprintln!("error: internal compiler error while compiling {input}: {what}");
            eprintln!("note: this is a bug in blood; please report it with the input file");
            ExitCode::from(101)
        }
    }
}

fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Build(args) => build(&args),
        Command::Check(args) => match target(&args, true, "check") {
            Ok(t) => {
                let mut options = args.to_options(&t.input, true);
                options.dependencies = t.dependencies;
                report(&args, &t.input, driver::compile(&options).map(|_| ()))
            }
            Err(code) => code,
        },
        Command::Run { build, args } => run_program(&build, &args),
        Command::New { name } => new_package(&name),
        Command::Fetch { package, quiet } => fetch(&package, quiet),
        Command::Publish { registry_dir } => publish(&registry_dir),
    }
}

/// The input file and the default output of a build: FILE and `None`, or a package's entry and
/// `target/NAME` (after its dependencies were prepared) with its dependency modules.
fn target(args: &BuildArgs, check_only: bool, command: &str) -> Result<Target, ExitCode> {
    if let Some(file) = &args.file {
        return Ok(Target { input: file.clone(), output: None, dependencies: Vec::new() });
    }
    let pkg = current_package(command)?;
    let options = args.package.to_options(args.quiet).map_err(fail)?;
    let resolved = logging::phase("resolve", &pkg.root.display().to_string(), || package::prepare(&pkg, &options))
        .map_err(package_failure)?;
    cancel::set_operation(Operation::Compile);
    let dependencies = package::dependency_modules(&resolved);
    for (name, file) in &dependencies {
        tracing::info!(dependency = %name, file = %file.display(), "dependency module");
    }
    let output = pkg.output_path();
    if !check_only && let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create `{}`: {e}", dir.display())))?;
    }
    Ok(Target { input: pkg.entry_path(), output: Some(output), dependencies })
}

/// What to compile: the input file, the default output (a package's `target/NAME`) and the
/// dependency modules.
struct Target {
    input: PathBuf,
    output: Option<PathBuf>,
    dependencies: Vec<(String, PathBuf)>,
}

/// The package around the current directory, or a usage error (status 2).
fn current_package(command: &str) -> Result<Package, ExitCode> {
    let cwd = std::env::current_dir().map_err(|e| fail(format!("cannot read the current directory: {e}")))?;
    let Some(root) = package::manifest::find_package_root(&cwd) else {
        let what = if matches!(command, "fetch" | "publish") { "" } else { " give a FILE, or" };
        Cli::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                format!("`blood {command}`:{what} run it inside a package (a directory with Blood.toml)"),
            )
            .exit()
    };
    Package::load(&root).map_err(fail)
}

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}

fn package_failure(e: PackageError) -> ExitCode {
    match e {
        PackageError::Cancelled => cancelled(),
        PackageError::Failed(message) => fail(message),
    }
}

fn cancelled() -> ExitCode {
    cancel::report();
    ExitCode::from(EXIT_CANCELLED)
}

fn build(args: &BuildArgs) -> ExitCode {
    let Target { input, output: default_output, dependencies } = match target(args, false, "build") {
        Ok(t) => t,
        Err(code) => return code,
    };
    let mut options = args.to_options(&input, false);
    options.dependencies = dependencies;
    if options.output.is_none() {
        // In a package, outputs go to `target/` (text emits still go to stdout).
        match options.emit {
            Emit::Exe => options.output = default_output,
            Emit::Obj => options.output = default_output.map(|p| p.with_extension("o")),
            Emit::Ir | Emit::Clif | Emit::Asm => {}
        }
    }
    let result = driver::compile(&options);
    if let Ok(out) = &result
        && out.path.is_none()
        && let Some(text) = &out.text
    {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }
    report(args, &input, result.map(|_| ()))
}

fn new_package(name: &str) -> ExitCode {
    match package::new_package(Path::new(name), name) {
        Ok(()) => {
            eprintln!("created package `{name}` (build it with `cd {name} && blood build`)");
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("cannot create package `{name}`: {e}")),
    }
}

fn fetch(args: &PackageArgs, quiet: bool) -> ExitCode {
    let pkg = match current_package("fetch") {
        Ok(p) => p,
        Err(code) => return code,
    };
    let options = match args.to_options(quiet) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    match logging::phase("resolve", &pkg.root.display().to_string(), || package::prepare(&pkg, &options)) {
        Ok(resolved) => {
            if !quiet {
                let n = resolved.packages.len();
                let lock = if resolved.lock_written { "written" } else { "unchanged" };
                eprintln!("{n} dependenc{} ready; Blood.lock {lock}", if n == 1 { "y" } else { "ies" });
            }
            ExitCode::SUCCESS
        }
        Err(e) => package_failure(e),
    }
}

fn publish(registry_dir: &Path) -> ExitCode {
    let pkg = match current_package("publish") {
        Ok(p) => p,
        Err(code) => return code,
    };
    match package::registry::publish(&pkg.root, registry_dir) {
        Ok(p) => {
            eprintln!("published `{} {}` to `{}` (sha256 {})", p.name, p.version, registry_dir.display(), p.sha256);
            ExitCode::SUCCESS
        }
        Err(e) if cancel::is_cancelled() => {
            drop(e);
            cancelled()
        }
        Err(e) => fail(e),
    }
}

/// Prints the outcome of a compilation and returns the exit status.
fn report(args: &BuildArgs, input: &Path, result: Result<(), CompileFailure>) -> ExitCode {
    match result {
        Ok(()) => {
            cancel::finish();
            ExitCode::SUCCESS
        }
        Err(_) if cancel::is_cancelled() => cancelled(),
        Err(CompileFailure::Diagnostics(text)) => {
            eprint!("{text}");
            if !args.quiet && matches!(args.error_format, ErrorFormatArg::Human) {
                let n = text.lines().filter(|l| l.starts_with("error")).count();
                eprintln!(
                    "error: could not compile `{}` ({n} error{})",
                    input.display(),
                    if n == 1 { "" } else { "s" }
                );
            }
            ExitCode::from(1)
        }
        Err(CompileFailure::Io(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

/// `blood run`: build (a FILE into a temporary directory, a package into `target/`), run,
/// forward the exit status.
fn run_program(args: &BuildArgs, program_args: &[String]) -> ExitCode {
    let Target { input, output: package_output, dependencies } = match target(args, false, "run") {
        Ok(t) => t,
        Err(code) => return code,
    };
    let dir = match cancel::temp_dir_in(&std::env::temp_dir(), "blood-run-") {
        Ok(d) => d,
        Err(e) => return fail(format!("cannot create a temporary directory: {e}")),
    };
    let exe = package_output.unwrap_or_else(|| dir.path().join(input.file_stem().unwrap_or_default()));
    let mut options = args.to_options(&input, false);
    options.dependencies = dependencies;
    options.output = Some(exe.clone());
    options.emit = Emit::Exe;
    if let Err(e) = driver::compile(&options) {
        return report(args, &input, Err(e));
    }
    // From here on, signals belong to the program (the terminal sends them to both).
    cancel::finish();
    if cancel::is_cancelled() {
        return cancelled();
    }
    let status = match std::process::Command::new(&exe).args(program_args).status() {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot run `{}`: {e}", exe.display())),
    };
    let code = status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        128 + status.signal().unwrap_or(0)
    });
    ExitCode::from(code as u8)
}
