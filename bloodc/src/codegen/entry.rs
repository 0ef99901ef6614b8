//! The generated C entry point (DESIGN.md §3 "Generated main"):
//!
//! ```c
//! int main(int argc, char **argv) {
//!     blood_runtime_init(argc, argv);
//!     int status = <user main>();            // its i32, or 0 for ()
//!     int shutdown = blood_runtime_shutdown();
//!     return shutdown != 0 ? shutdown : status;
//! }
//! ```
//!
//! A program that uses the scheduler (some function reachable from `main` calls a fiber,
//! channel, nursery or thread entry of the runtime) runs `main` as the **root fiber**
//! (LANGUAGE.md §7.2): `status = blood_runtime_run_main(main.root)`, where the generated
//! `int32_t main.root(void)` calls the user's `main` and returns its status; `run_main` returns
//! after `main` and all its descendants finished. Other programs call `main` on the process's
//! main thread, so they start no worker threads and keep the thread's larger stack.
//!
//! The symbol and signature come from `blood_abi::ENTRY_MAIN`. The user's `main` is a local
//! symbol of its own (`Function::symbol`), so it never clashes with this one.

use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Function, InstBuilder, Value, types};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module};

use super::function::{UNREACHABLE_TRAP, import_func};
use super::{CgResult, CodegenError, ModuleCx, abi, clif_name, module_error, safepoint};
use crate::ir;
use crate::types::{IntTy, Ty};

/// Whether a function reachable from `main` calls a runtime entry that needs the scheduler.
pub(crate) fn uses_scheduler(program: &ir::Program, main: ir::FuncId) -> bool {
    let needs = |rf: &blood_abi::RuntimeFn| {
        ["blood_fiber_", "blood_channel_", "blood_nursery_", "blood_scheduler_", "blood_thread_"]
            .iter()
            .any(|p| rf.name.starts_with(p))
    };
    let mut seen = vec![false; program.functions.len()];
    let mut stack = vec![main];
    while let Some(f) = stack.pop() {
        let Some(done) = seen.get_mut(f.0 as usize) else { continue };
        if std::mem::replace(done, true) {
            continue;
        }
        for block in &program.functions[f.0 as usize].blocks {
            for stmt in &block.stmts {
                let ir::Stmt::Assign(_, rv) = stmt else { continue };
                match rv {
                    ir::Rvalue::Call(ir::Callee::Runtime(rf), _) if needs(rf) => return true,
                    ir::Rvalue::FnValue { func: g, env_drop: Some(d), .. } => stack.extend([*g, *d]),
                    ir::Rvalue::Call(ir::Callee::Fn(g), _)
                    | ir::Rvalue::FnValue { func: g, .. }
                    | ir::Rvalue::FnAddr(g) => stack.push(*g),
                    _ => {}
                }
            }
        }
    }
    false
}

/// Builds `int32_t main.root(void)` (the root fiber's body) into `ctx.func`; returns its id.
pub(crate) fn lower_root_main(
    mcx: &mut ModuleCx,
    program: &ir::Program,
    main: ir::FuncId,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> CgResult<FuncId> {
    let user_main = &program.functions[main.0 as usize];
    let mut sig = cranelift_codegen::ir::Signature::new(mcx.call_conv);
    sig.returns.push(cranelift_codegen::ir::AbiParam::new(types::I32));
    let id = mcx.module.declare_function("blood.main.root", Linkage::Local, &sig).map_err(module_error)?;
    let user = mcx.functions[main.0 as usize];
    ctx.func = Function::with_name_signature(clif_name("blood.main.root"), sig);
    let mut bcx = FunctionBuilder::new(&mut ctx.func, fctx);
    let user = import_func(mcx, bcx.func, user);
    let block = bcx.create_block();
    bcx.switch_to_block(block);
    let saved = safepoint::enter_from_c(mcx, &mut bcx)?;
    let call = bcx.ins().call(user, &[]);
    match &user_main.ret {
        Ty::Never => {
            bcx.ins().trap(UNREACHABLE_TRAP);
        }
        Ty::Int(IntTy::I32) => {
            let status = bcx.inst_results(call)[0];
            safepoint::leave_to_c(&mut bcx, saved);
            bcx.ins().return_(&[status]);
        }
        _ => {
            let zero = bcx.ins().iconst(types::I32, 0);
            safepoint::leave_to_c(&mut bcx, saved);
            bcx.ins().return_(&[zero]);
        }
    }
    bcx.seal_all_blocks();
    bcx.finalize(mcx.module.target_config());
    Ok(id)
}

/// Builds the C `main` into `ctx.func`; returns its module id. `root` is `main.root` when
/// `main` runs as the root fiber.
pub(crate) fn lower_entry(
    mcx: &mut ModuleCx,
    program: &ir::Program,
    main: ir::FuncId,
    root: Option<FuncId>,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> CgResult<FuncId> {
    let user_main = program
        .functions
        .get(main.0 as usize)
        .ok_or_else(|| CodegenError::InvalidIr(format!("Program::main points to missing function #{}", main.0)))?;
    if user_main.param_count != 0 {
        return Err(CodegenError::InvalidIr(format!("`{}` (the program's main) takes parameters", user_main.name)));
    }
    let returns_status = match &user_main.ret {
        Ty::Int(IntTy::I32) => true,
        Ty::Unit | Ty::Never => false,
        other => {
            return Err(CodegenError::Unsupported(format!("`main` returning {other} (only `()` and `i32`)")));
        }
    };

    let entry_fn = &blood_abi::ENTRY_MAIN;
    let sig = abi::runtime_signature(entry_fn, mcx.pointer_type, mcx.call_conv);
    let id = mcx.module.declare_function(entry_fn.name, Linkage::Export, &sig).map_err(module_error)?;
    let init = mcx.import(&blood_abi::RUNTIME_INIT)?;
    let shutdown = mcx.import(&blood_abi::RUNTIME_SHUTDOWN)?;
    let user = mcx.functions[main.0 as usize];
    let run_main = match root {
        Some(_) => Some(mcx.import(&blood_abi::RUNTIME_RUN_MAIN)?),
        None => None,
    };

    ctx.func = Function::with_name_signature(clif_name(entry_fn.name), sig);
    let mut bcx = FunctionBuilder::new(&mut ctx.func, fctx);
    let init = import_func(mcx, bcx.func, init);
    let shutdown = import_func(mcx, bcx.func, shutdown);
    let user = import_func(mcx, bcx.func, user);
    let run_main = run_main.map(|r| import_func(mcx, bcx.func, r));
    let root = root.map(|r| import_func(mcx, bcx.func, r));

    let block = bcx.create_block();
    bcx.append_block_params_for_function_params(block);
    bcx.switch_to_block(block);
    let params: Vec<Value> = bcx.block_params(block).to_vec();
    let saved = safepoint::enter_from_c(mcx, &mut bcx)?;
    bcx.ins().call(init, &params);
    let status = if let (Some(run_main), Some(root)) = (run_main, root) {
        let code = bcx.ins().func_addr(mcx.pointer_type, root);
        let call = bcx.ins().call(run_main, &[code]);
        Some(bcx.inst_results(call)[0])
    } else {
        let call = bcx.ins().call(user, &[]);
        match user_main.ret {
            Ty::Never => None,
            _ if returns_status => Some(bcx.inst_results(call)[0]),
            _ => Some(bcx.ins().iconst(types::I32, 0)),
        }
    };
    if let Some(status) = status {
        let call = bcx.ins().call(shutdown, &[]);
        let shutdown_status = bcx.inst_results(call)[0];
        let zero = bcx.ins().iconst(types::I32, 0);
        let failed = bcx.ins().icmp(IntCC::NotEqual, shutdown_status, zero);
        let exit = bcx.ins().select(failed, shutdown_status, status);
        safepoint::leave_to_c(&mut bcx, saved);
        bcx.ins().return_(&[exit]);
    } else {
        bcx.ins().trap(UNREACHABLE_TRAP);
    }
    bcx.seal_all_blocks();
    bcx.finalize(mcx.module.target_config());
    Ok(id)
}
