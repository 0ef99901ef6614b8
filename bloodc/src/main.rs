//! `blood`: the command-line front of the driver.
//!
//! Parses arguments with clap (usage errors exit with status 2), runs `bloodc::driver::compile`,
//! prints diagnostics to stderr and maps the result to the documented exit statuses: 0 success,
//! 1 errors in the program or its environment, 2 usage, 101 internal compiler error (a Rust panic
//! is caught here and reported as a bug, never shown raw).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use bloodc::driver::{self, CompileFailure, CompileOptions, Emit, ErrorFormat, OptLevel};
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "blood", version, about = "The Blood compiler: build native executables from Blood source")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a program to a native executable (or to IR, CLIF, assembly, an object file).
    Build(BuildArgs),
    /// Build a program into a temporary directory and run it; arguments after `--` are passed on.
    Run {
        #[command(flatten)]
        build: BuildArgs,
        /// Arguments for the program.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Check a program for errors without generating code.
    Check(BuildArgs),
}

#[derive(Args, Clone)]
struct BuildArgs {
    /// The `.blood` file to compile.
    file: PathBuf,
    /// Output path (default: FILE without `.blood`; text emits go to stdout).
    #[arg(short = 'o', value_name = "OUT")]
    output: Option<PathBuf>,
    /// What to produce.
    #[arg(long, value_enum, default_value_t = EmitArg::Exe)]
    emit: EmitArg,
    /// Target triple (default: the host), e.g. aarch64-unknown-linux-gnu.
    #[arg(long, value_name = "TRIPLE")]
    target: Option<String>,
    /// Optimisation level: -O0 (fast compile) or -O2 (default).
    #[arg(short = 'O', value_name = "LEVEL", value_parser = ["0", "1", "2", "3"], default_value = "2")]
    opt: String,
    /// Do not insert preemption safepoints.
    #[arg(long)]
    no_preempt: bool,
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
    /// More logging (repeatable).
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
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
    fn to_options(&self, check_only: bool) -> CompileOptions {
        let mut o = CompileOptions::new(&self.file);
        o.output = self.output.clone();
        o.emit = match self.emit {
            EmitArg::Ir => Emit::Ir,
            EmitArg::Clif => Emit::Clif,
            EmitArg::Asm => Emit::Asm,
            EmitArg::Obj => Emit::Obj,
            EmitArg::Exe => Emit::Exe,
        };
        o.target = self.target.clone();
        o.opt_level = if self.opt == "0" { OptLevel::O0 } else { OptLevel::O2 };
        o.no_preempt = self.no_preempt;
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
    // A bug in the compiler must read as a bug report, not as a Rust backtrace.
    std::panic::set_hook(Box::new(|_| {}));
    let input = match &cli.command {
        Command::Build(a) | Command::Check(a) | Command::Run { build: a, .. } => a.file.display().to_string(),
    };
    match std::panic::catch_unwind(move || run(cli)) {
        Ok(code) => code,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            eprintln!("error: internal compiler error while compiling `{input}`: {what}");
            eprintln!("note: this is a bug in blood; please report it with the input file");
            ExitCode::from(101)
        }
    }
}

fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Build(args) => build(&args),
        Command::Check(args) => report(&args, driver::compile(&args.to_options(true)).map(|_| ())),
        Command::Run { build, args } => run_program(&build, &args),
    }
}

fn build(args: &BuildArgs) -> ExitCode {
    let result = driver::compile(&args.to_options(false));
    if let Ok(out) = &result
        && out.path.is_none()
        && let Some(text) = &out.text
    {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }
    report(args, result.map(|_| ()))
}

/// Prints the outcome of a compilation and returns the exit status.
fn report(args: &BuildArgs, result: Result<(), CompileFailure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CompileFailure::Diagnostics(text)) => {
            eprint!("{text}");
            if !args.quiet && matches!(args.error_format, ErrorFormatArg::Human) {
                let n = text.lines().filter(|l| l.starts_with("error")).count();
                eprintln!(
                    "error: could not compile `{}` ({n} error{})",
                    args.file.display(),
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

/// `blood run`: build into a temporary directory, run, forward the exit status.
fn run_program(args: &BuildArgs, program_args: &[String]) -> ExitCode {
    let dir = match tempfile::Builder::new().prefix("blood-run-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot create a temporary directory: {e}");
            return ExitCode::from(1);
        }
    };
    let exe = dir.path().join(args.file.file_stem().unwrap_or_default());
    let mut options = args.to_options(false);
    options.output = Some(exe.clone());
    options.emit = Emit::Exe;
    if let Err(e) = driver::compile(&options) {
        return report(args, Err(e));
    }
    let status = match std::process::Command::new(&exe).args(program_args).status() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot run `{}`: {e}", exe.display());
            return ExitCode::from(1);
        }
    };
    let code = status.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        128 + status.signal().unwrap_or(0)
    });
    ExitCode::from(code as u8)
}
