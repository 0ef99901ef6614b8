//! Blood IR → Cranelift IR → relocatable object file.
//!
//! Codegen reads only the Blood IR ([`crate::ir`]); it never sees the AST or the typed HIR, so
//! everything it needs (types of locals, which runtime function a call targets) is explicit in
//! the IR. The structure follows rustc_codegen_cranelift, one lowering concern per module:
//!
//! | module | concern |
//! |---|---|
//! | `mod.rs` | the public API, target ISA selection, module-level declarations, the per-function loop |
//! | [`abi`] | Blood types → Cranelift types, the calling convention, signatures |
//! | [`function`] | `FunctionCx`: one Cranelift block per IR block, statements, terminators |
//! | [`layout_of`] | sizes, alignments and field offsets of types |
//! | [`frame`] | which locals live in memory (aggregates, borrowed locals) |
//! | [`memory`] | typed loads and stores, copies, fills, stack slots |
//! | [`place`] | place addresses; `Store`, `Load`, `Ref`, `Discriminant`, `Len`, `Unsize` |
//! | [`aggregate`] | rvalues building aggregates in their destination's memory |
//! | [`ifconv`] | short conditional updates lowered as selects (`O2`) |
//! | [`layout`] | block placement hints: loop bodies fall through, panic paths are cold |
//! | [`inline`] | inlining of small functions at `O2` (policy over Cranelift's inliner) |
//! | [`values`] | IR locals → Cranelift `Variable`s (SSA construction by cranelift-frontend), constants |
//! | [`ops`] | binary and unary operators, intrinsics |
//! | [`casts`] | `as` casts (LANGUAGE.md §3.6) |
//! | [`calls`] | calls to user functions, runtime functions and compiler support routines |
//! | [`strings`] | string constants as read-only data objects |
//! | [`safepoint`] | the preemption check (DESIGN.md §3) |
//! | [`entry`] | the generated C `main` |
//!
//! Scalars never touch the stack unless they are borrowed: such an IR local is one or two
//! Cranelift `Variable`s and cranelift-frontend builds SSA form, so the register allocator sees
//! plain values. This keeps generated code close to what an optimising C compiler produces for
//! integer code. Aggregates live in stack slots and are passed by address.

mod abi;
mod aggregate;
mod calls;
mod casts;
mod closures;
mod entry;
mod frame;
mod function;
mod heap;
mod ifconv;
mod inline;
mod layout;
mod layout_of;
mod memory;
mod ops;
mod place;
mod safepoint;
mod strings;
mod values;
mod words;

use std::collections::{HashMap, HashSet};
use std::fmt;

use cranelift_codegen::ir::{Type, UserFuncName};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, print_errors};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::{DataId, FuncId, Linkage, Module, ModuleError, default_libcall_names};
use cranelift_object::{ObjectBuilder, ObjectModule};
use target_lexicon::Triple;

use crate::driver::OptLevel;
use crate::ir;

/// What to compile for and what to produce besides the object file.
#[derive(Clone, Debug)]
pub struct CodegenOptions {
    /// Target triple (`Triple::host()` for the machine we run on).
    pub triple: Triple,
    /// `O0` → Cranelift `opt_level=none`, `O2` → `opt_level=speed`.
    pub opt_level: OptLevel,
    /// Also return the CLIF text of every function (before optimisation).
    pub want_clif: bool,
    /// Also return the machine-code listing of every function.
    pub want_asm: bool,
    /// Alignment of every function's first instruction, in bytes (a power of two, at most 64);
    /// `None` is [`default_function_align`].
    pub function_align: Option<u32>,
}

/// Functions start on a 16-byte boundary at `O2`, as with GCC and Clang: where a hot loop falls
/// relative to the CPU's 32- and 64-byte fetch blocks otherwise depends on the size of every
/// function before it, which moved run times by 5% (fib) to 15% (sieve) between builds that
/// differed only in code elsewhere (ARCHITECTURE.md "Safepoints"). `O0` packs functions.
pub fn default_function_align(opt_level: OptLevel) -> u32 {
    match opt_level {
        OptLevel::O0 => 1,
        OptLevel::O2 => 16,
    }
}

impl CodegenOptions {
    /// Options for the host at `O2`, without text outputs.
    pub fn host(opt_level: OptLevel) -> CodegenOptions {
        CodegenOptions { triple: Triple::host(), opt_level, want_clif: false, want_asm: false, function_align: None }
    }
}

/// The result of [`compile_program`].
#[derive(Clone, Debug, Default)]
pub struct CodegenOutput {
    /// The relocatable object file (ELF on Linux).
    pub object: Vec<u8>,
    /// CLIF of every function, in program order, each preceded by a `; fn <ir name>` line.
    pub clif: Option<String>,
    /// Cranelift's listing of the compiled machine code of every function, same layout.
    pub asm: Option<String>,
}

/// Why code generation failed. Every variant except `UnsupportedTarget` is an internal error of
/// the compiler (the IR given to codegen is validated), reported as such by the driver.
#[derive(Debug)]
pub enum CodegenError {
    /// Cranelift has no backend for the requested target or rejected its settings.
    UnsupportedTarget(String),
    /// The IR uses something codegen does not implement.
    Unsupported(String),
    /// The IR violates an invariant codegen relies on (a type mismatch, a bad id).
    InvalidIr(String),
    /// Cranelift's verifier rejected a generated function (a codegen bug).
    Verifier { function: String, message: String },
    /// Declaring, compiling or emitting failed in Cranelift or the object writer.
    Module(String),
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodegenError::UnsupportedTarget(m) => write!(f, "unsupported target: {m}"),
            CodegenError::Unsupported(m) => write!(f, "codegen does not support {m}"),
            CodegenError::InvalidIr(m) => write!(f, "invalid IR given to codegen: {m}"),
            CodegenError::Verifier { function, message } => {
                write!(f, "Cranelift verifier rejected `{function}`:\n{message}")
            }
            CodegenError::Module(m) => write!(f, "code generation failed: {m}"),
        }
    }
}

impl std::error::Error for CodegenError {}

pub(crate) type CgResult<T> = Result<T, CodegenError>;

/// Compiles a whole program to one object file.
///
/// Every IR function becomes a local symbol named [`ir::Function::symbol`]; if the program has a
/// `main`, a C `int main(int argc, char **argv)` is exported that starts the runtime, runs it and
/// shuts the runtime down (see [`entry`]).
pub fn compile_program(program: &ir::Program, options: &CodegenOptions) -> Result<CodegenOutput, CodegenError> {
    let isa = make_isa(options)?;
    let builder = ObjectBuilder::new(isa, "blood", default_libcall_names())
        .map_err(|e| CodegenError::UnsupportedTarget(e.to_string()))?;
    let mut mcx = ModuleCx::new(ObjectModule::new(builder), &options.triple);

    mcx.declare_functions(program)?;
    mcx.strings = strings::define_strings(&mut mcx.module, program)?;

    let mut out = CodegenOutput {
        object: Vec::new(),
        clif: options.want_clif.then(String::new),
        asm: options.want_asm.then(String::new),
    };
    let mut ctx = mcx.module.make_context();
    let mut fctx = FunctionBuilderContext::new();
    // O2: if-conversion while lowering, inlining before compiling.
    let optimize = options.opt_level == OptLevel::O2;

    // Lower every function first (the inliner needs every callee's body), then compile them.
    let mut bodies = Vec::with_capacity(program.functions.len());
    for func in &program.functions {
        function::lower_function(&mut mcx, program, func, optimize, &mut ctx, &mut fctx)?;
        append_clif(&mut out, &func.name, &ctx.func);
        if optimize {
            verify(&ctx.func, mcx.module.isa(), &func.name)?;
        }
        bodies.push(std::mem::replace(&mut ctx.func, cranelift_codegen::ir::Function::new()));
    }
    let sizes: Vec<usize> = if optimize { bodies.iter().map(inline::inst_count).collect() } else { Vec::new() };
    let index_of: HashMap<FuncId, usize> = mcx.functions.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    for (index, func) in program.functions.iter().enumerate() {
        if optimize {
            ctx.func = bodies[index].clone();
            let first_gv = ctx.func.global_values.len();
            let mut inliner = inline::Inliner::new(&bodies, &sizes, &index_of, index);
            ctx.inline(&mut inliner)
                .map_err(|e| CodegenError::Module(format!("inlining into `{}`: {e}", func.name)))?;
            inline::fix_inlined_symbol_names(&mut ctx.func, first_gv, &inliner.inlined, &bodies);
            inline::merge_symbol_values(&mut ctx.func);
            if let Some(slow) = mcx.safepoint_slow_path_id() {
                inline::restore_cold_blocks(&mut ctx.func, slow);
            }
        } else {
            ctx.func = std::mem::replace(&mut bodies[index], cranelift_codegen::ir::Function::new());
        }
        mcx.define(&func.name, mcx.functions[index], &mut ctx, &mut out)?;
    }
    if let Some(main) = program.main {
        let root = if entry::uses_scheduler(program, main) {
            let id = entry::lower_root_main(&mut mcx, program, main, &mut ctx, &mut fctx)?;
            append_clif(&mut out, "<root fiber>", &ctx.func);
            mcx.define("<root fiber>", id, &mut ctx, &mut out)?;
            Some(id)
        } else {
            None
        };
        let id = entry::lower_entry(&mut mcx, program, main, root, &mut ctx, &mut fctx)?;
        append_clif(&mut out, "<C entry point>", &ctx.func);
        mcx.define("<C entry point>", id, &mut ctx, &mut out)?;
    }
    if let Some(id) = mcx.safepoint_trampoline {
        safepoint::lower_trampoline(&mut mcx, &mut ctx, &mut fctx)?;
        append_clif(&mut out, "<safepoint trampoline>", &ctx.func);
        mcx.define("<safepoint trampoline>", id, &mut ctx, &mut out)?;
    }

    let product = mcx.module.finish();
    out.object = product.emit().map_err(|e| CodegenError::Module(format!("writing the object file: {e}")))?;
    Ok(out)
}

/// Builds the Cranelift ISA for the target. For the host, the CPU's features are detected (like
/// `-C target-cpu=native`): generated executables run where they are built, and SSE4.1/AVX give
/// inline `floor`/`ceil` and better code. Foreign triples get the baseline feature set.
fn make_isa(options: &CodegenOptions) -> CgResult<OwnedTargetIsa> {
    let mut flags = settings::builder();
    let opt = match options.opt_level {
        OptLevel::O0 => "none",
        OptLevel::O2 => "speed",
    };
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags.set(name, value).map_err(|e| CodegenError::UnsupportedTarget(format!("setting {name}={value}: {e}")))
    };
    set(&mut flags, "opt_level", opt)?;
    // `cc` links position-independent executables by default; PIC objects link either way.
    set(&mut flags, "is_pic", "true")?;
    // `i128` parameters and returns (ours and the runtime's `blood_print_i128`, libgcc's
    // `__divti3`) use the System V convention of GCC/LLVM: two registers.
    set(&mut flags, "enable_llvm_abi_extensions", "true")?;
    // Blood never unwinds (a panic ends the process; runtime entry points never let a Rust panic
    // escape), so no unwind tables are needed; frame pointers serve debuggers and profilers.
    set(&mut flags, "unwind_info", "false")?;
    // A frame larger than a page (a local array) touches each page as it grows, so it cannot
    // step over a fiber stack's one guard page into other memory.
    set(&mut flags, "enable_probestack", "true")?;
    set(&mut flags, "probestack_strategy", "inline")?;
    // Each function is verified before compilation (see `ModuleCx::define`).
    set(&mut flags, "enable_verifier", "true")?;
    let align = options.function_align.unwrap_or_else(|| default_function_align(options.opt_level));
    if !align.is_power_of_two() || align > 64 {
        return Err(CodegenError::UnsupportedTarget(format!(
            "function alignment {align}: not a power of two up to 64"
        )));
    }
    set(&mut flags, "log2_min_function_alignment", &align.trailing_zeros().to_string())?;
    if pins_preempt_flag(&options.triple) {
        // The preemption flag's address lives in the pinned register (`safepoint.rs`).
        set(&mut flags, "enable_pinned_reg", "true")?;
    }

    let isa_builder = if options.triple == Triple::host() {
        cranelift_native::builder_with_options(true).map_err(|e| CodegenError::UnsupportedTarget(e.to_string()))?
    } else {
        cranelift_codegen::isa::lookup(options.triple.clone())
            .map_err(|e| CodegenError::UnsupportedTarget(format!("{}: {e}", options.triple)))?
    };
    isa_builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| CodegenError::UnsupportedTarget(format!("{}: {e}", options.triple)))
}

/// Whether generated code for `triple` keeps the preemption flag's address in Cranelift's pinned
/// register (`r15` on x86_64) for the whole program (see [`safepoint`]).
fn pins_preempt_flag(triple: &Triple) -> bool {
    matches!(triple.architecture, target_lexicon::Architecture::X86_64)
}

/// Module-wide state shared by the lowering of every function.
pub(crate) struct ModuleCx {
    pub(crate) module: ObjectModule,
    /// Cranelift id of each IR function, indexed like `Program::functions`.
    pub(crate) functions: Vec<FuncId>,
    /// Data object of each string constant, indexed like `Program::strings`.
    pub(crate) strings: Vec<DataId>,
    /// Imported runtime / libc / support-library functions, by symbol.
    imports: HashMap<&'static str, FuncId>,
    /// Imported functions defined in the runtime archive (see [`ModuleCx::is_colocated_func`]).
    runtime_imports: HashSet<FuncId>,
    /// The imported preemption flag, declared on first use.
    preempt_flag: Option<DataId>,
    /// The local `PreserveAll` function safepoints call, declared on first use (see [`safepoint`]).
    pub(crate) safepoint_trampoline: Option<FuncId>,
    /// Whether Cranelift implements the `PreserveAll` convention for this target.
    pub(crate) has_preserve_all: bool,
    /// Whether the pinned register holds the preemption flag's address ([`pins_preempt_flag`]).
    pub(crate) pinned_flag: bool,
    /// IR functions the runtime calls with the C convention (`fn_addr` targets): they set the
    /// pinned register on entry and restore the caller's value on return.
    pub(crate) c_callable: HashSet<usize>,
    pub(crate) pointer_type: Type,
    pub(crate) call_conv: CallConv,
}

impl ModuleCx {
    fn new(module: ObjectModule, triple: &Triple) -> ModuleCx {
        let pointer_type = module.target_config().pointer_type();
        let call_conv = module.target_config().default_call_conv;
        ModuleCx {
            module,
            functions: Vec::new(),
            strings: Vec::new(),
            imports: HashMap::new(),
            runtime_imports: HashSet::new(),
            preempt_flag: None,
            safepoint_trampoline: None,
            has_preserve_all: matches!(
                triple.architecture,
                target_lexicon::Architecture::X86_64 | target_lexicon::Architecture::Aarch64(_)
            ),
            pinned_flag: pins_preempt_flag(triple),
            c_callable: HashSet::new(),
            pointer_type,
            call_conv,
        }
    }

    fn declare_functions(&mut self, program: &ir::Program) -> CgResult<()> {
        for stmt in program.functions.iter().flat_map(|f| &f.blocks).flat_map(|b| &b.stmts) {
            if let ir::Stmt::Assign(_, ir::Rvalue::FnAddr(g)) = stmt {
                self.c_callable.insert(g.0 as usize);
            }
        }
        for func in &program.functions {
            if func.symbol == blood_abi::ENTRY_MAIN.name {
                return Err(CodegenError::InvalidIr(format!(
                    "function `{}` uses the symbol `{}` reserved for the C entry point",
                    func.name, func.symbol
                )));
            }
            let sig = abi::user_signature(func, self.pointer_type, self.call_conv)?;
            let id = self.module.declare_function(&func.symbol, Linkage::Local, &sig).map_err(module_error)?;
            self.functions.push(id);
        }
        Ok(())
    }

    /// Declares (once) an imported runtime, libc or support-library function.
    pub(crate) fn import(&mut self, rf: &blood_abi::RuntimeFn) -> CgResult<FuncId> {
        if let Some(&id) = self.imports.get(rf.name) {
            return Ok(id);
        }
        let sig = abi::runtime_signature(rf, self.pointer_type, self.call_conv);
        let id = self.module.declare_function(rf.name, Linkage::Import, &sig).map_err(module_error)?;
        self.imports.insert(rf.name, id);
        if rf.provider == blood_abi::Provider::Runtime {
            self.runtime_imports.insert(id);
        }
        Ok(id)
    }

    /// Whether calls to `id` may be PC-relative instead of going through the GOT. True for
    /// functions of this object, and for runtime functions: the runtime is a static archive
    /// linked into the same executable, so its symbols are never preempted, even in a PIE. Libc
    /// and libm functions may live in a shared library and keep the GOT.
    pub(crate) fn is_colocated_func(&self, id: FuncId) -> bool {
        self.module.declarations().get_function_decl(id).linkage.is_final() || self.runtime_imports.contains(&id)
    }

    /// The function safepoints call on their slow path, if any safepoint was lowered.
    pub(crate) fn safepoint_slow_path_id(&self) -> Option<FuncId> {
        self.safepoint_trampoline.or_else(|| self.imports.get(blood_abi::SAFEPOINT_SLOW.name).copied())
    }

    /// Whether data object `id` is in the same executable: our string constants, and the
    /// runtime's preemption flag (for the reason given in [`Self::is_colocated_func`]). (In PIC
    /// code Cranelift's x86_64 backend still loads such addresses from the GOT; the linker
    /// relaxes the load into a PC-relative `lea`.)
    pub(crate) fn is_colocated_data(&self, id: DataId) -> bool {
        self.module.declarations().get_data_decl(id).linkage.is_final() || self.preempt_flag == Some(id)
    }

    /// Declares (once) the runtime's global preemption flag.
    pub(crate) fn preempt_flag(&mut self) -> CgResult<DataId> {
        if let Some(id) = self.preempt_flag {
            return Ok(id);
        }
        let id = self
            .module
            .declare_data(blood_abi::PREEMPT_FLAG_SYMBOL, Linkage::Import, true, false)
            .map_err(module_error)?;
        self.preempt_flag = Some(id);
        Ok(id)
    }

    /// Compiles the function in `ctx` into the module, collecting the text outputs.
    fn define(&mut self, name: &str, id: FuncId, ctx: &mut Context, out: &mut CodegenOutput) -> CgResult<()> {
        ctx.set_disasm(out.asm.is_some());
        if let Err(err) = self.module.define_function(id, ctx) {
            let err = match err {
                ModuleError::Compilation(cranelift_codegen::CodegenError::Verifier(errors)) => CodegenError::Verifier {
                    function: name.to_string(),
                    message: print_errors::pretty_verifier_error(&ctx.func, None, errors),
                },
                other => CodegenError::Module(format!("compiling `{name}`: {other}")),
            };
            self.module.clear_context(ctx);
            return Err(err);
        }
        if let Some(asm) = &mut out.asm {
            let listing = ctx.compiled_code().and_then(|c| c.vcode.as_deref()).unwrap_or("");
            asm.push_str(&format!("; fn {name}\n{listing}\n"));
        }
        self.module.clear_context(ctx);
        Ok(())
    }
}

/// Appends a function's CLIF (as lowered, before optimisation) to the text output.
fn append_clif(out: &mut CodegenOutput, name: &str, func: &cranelift_codegen::ir::Function) {
    if let Some(clif) = &mut out.clif {
        clif.push_str(&format!("; fn {name}\n{}\n", func.display()));
    }
}

/// Runs Cranelift's verifier on a freshly lowered function (before inlining copies it around).
fn verify(func: &cranelift_codegen::ir::Function, isa: &dyn TargetIsa, name: &str) -> CgResult<()> {
    cranelift_codegen::verify_function(func, isa).map_err(|errors| CodegenError::Verifier {
        function: name.to_string(),
        message: print_errors::pretty_verifier_error(func, None, errors),
    })
}

/// A readable name for a function in CLIF text: its linker symbol.
pub(crate) fn clif_name(symbol: &str) -> UserFuncName {
    UserFuncName::testcase(symbol)
}

pub(crate) fn module_error(e: ModuleError) -> CodegenError {
    CodegenError::Module(e.to_string())
}

#[cfg(test)]
mod tests;
