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
//! The symbol and signature come from `blood_abi::ENTRY_MAIN`. The user's `main` is a local
//! symbol of its own (`Function::symbol`), so it never clashes with this one.

use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Function, InstBuilder, Value, types};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module};

use super::function::{UNREACHABLE_TRAP, import_func};
use super::{CgResult, CodegenError, ModuleCx, abi, clif_name, module_error};
use crate::ir;
use crate::types::{IntTy, Ty};

/// Builds the C `main` into `ctx.func`; returns its module id.
pub(crate) fn lower_entry(
    mcx: &mut ModuleCx,
    program: &ir::Program,
    main: ir::FuncId,
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

    ctx.func = Function::with_name_signature(clif_name(entry_fn.name), sig);
    let mut bcx = FunctionBuilder::new(&mut ctx.func, fctx);
    let init = import_func(mcx, bcx.func, init);
    let shutdown = import_func(mcx, bcx.func, shutdown);
    let user = import_func(mcx, bcx.func, user);

    let block = bcx.create_block();
    bcx.append_block_params_for_function_params(block);
    bcx.switch_to_block(block);
    let params: Vec<Value> = bcx.block_params(block).to_vec();
    bcx.ins().call(init, &params);
    let call = bcx.ins().call(user, &[]);
    if user_main.ret == Ty::Never {
        bcx.ins().trap(UNREACHABLE_TRAP);
    } else {
        let status = if returns_status { bcx.inst_results(call)[0] } else { bcx.ins().iconst(types::I32, 0) };
        let call = bcx.ins().call(shutdown, &[]);
        let shutdown_status = bcx.inst_results(call)[0];
        let zero = bcx.ins().iconst(types::I32, 0);
        let failed = bcx.ins().icmp(IntCC::NotEqual, shutdown_status, zero);
        let exit = bcx.ins().select(failed, shutdown_status, status);
        bcx.ins().return_(&[exit]);
    }
    bcx.seal_all_blocks();
    bcx.finalize(mcx.module.target_config());
    Ok(id)
}
