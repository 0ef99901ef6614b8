//! `FunctionCx`: the lowering of one IR function into one Cranelift function.
//!
//! Layout of the generated function:
//! * a Cranelift entry block, with the ABI parameters, that defines the parameter variables,
//!   computes function-wide values (the preemption flag's address) and jumps to IR block 0 —
//!   separate because IR block 0 may be a loop header, and a Cranelift entry block cannot have
//!   predecessors;
//! * one Cranelift block per IR block, all created up front so forward branches have targets;
//! * extra blocks created while lowering (safepoint slow paths, code after a call that never
//!   returns).
//!
//! Aggregate locals and borrowed scalars live in stack slots ([`super::frame`] decides, stack
//! slots are created up front with the variables); an assignment to an aggregate writes its
//! slot directly ([`super::aggregate`]), and a function returning an aggregate copies the
//! returned value into the caller's memory through the hidden result pointer ([`super::abi`]).
//!
//! Blocks are sealed all at once at the end (`seal_all_blocks`), which lets SSA construction see
//! every predecessor before placing block parameters; each function is verified by Cranelift
//! when the module compiles it.

use std::collections::HashMap;

use cranelift_codegen::Context;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::immediates::Imm64;
use cranelift_codegen::ir::{
    Block, ExtFuncData, ExternalName, FuncRef, Function, GlobalValue, GlobalValueData, InstBuilder, TrapCode,
    UserExternalName, Value, types,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{DataId, FuncId, Module};

use super::abi::{self, Shape};
use super::frame::Frame;
use super::ifconv::{self, Triangle};
use super::layout;
use super::values::{self, CValue, LocalRepr};
use super::{CgResult, CodegenError, ModuleCx, clif_name};
use crate::ir::{self, BlockId, Rvalue, Stmt, Terminator};
use crate::types::Ty;

/// Trap code of `unreachable` code paths (after calls that never return). Reaching one is a
/// compiler bug; the trap makes it loud instead of undefined.
pub(crate) const UNREACHABLE_TRAP: TrapCode = TrapCode::unwrap_user(1);

/// State of the lowering of one function.
pub(crate) struct FunctionCx<'m, 'f> {
    pub(crate) mcx: &'m mut ModuleCx,
    pub(crate) program: &'m ir::Program,
    pub(crate) func: &'m ir::Function,
    pub(crate) bcx: FunctionBuilder<'f>,
    /// The Cranelift block of each IR block.
    blocks: Vec<Block>,
    pub(crate) locals: Vec<LocalRepr>,
    /// Where locals live and which are borrowed or written.
    pub(crate) frame: Frame,
    /// The hidden result pointer of a function returning an aggregate.
    sret: Option<Value>,
    /// Module functions already imported into this function.
    func_refs: HashMap<FuncId, FuncRef>,
    /// Module data objects already imported into this function.
    data_refs: HashMap<DataId, GlobalValue>,
    /// Address of the preemption flag, computed once in the entry block (a value defined there
    /// dominates every block, so it serves as the function-wide variable the safepoints read).
    pub(crate) preempt_flag_addr: Option<Value>,
    /// The C caller's pinned register, restored on return, in a function the runtime calls
    /// (see `safepoint.rs`).
    pinned_saved: Option<Value>,
}

/// Lowers `func` (a function of `program`) into `ctx.func`; `optimize` enables the IR-level
/// rewrites done during lowering (if-conversion, see [`ifconv`]).
pub(crate) fn lower_function(
    mcx: &mut ModuleCx,
    program: &ir::Program,
    func: &ir::Function,
    optimize: bool,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
) -> CgResult<()> {
    if func.blocks.is_empty() {
        return Err(CodegenError::InvalidIr(format!("function `{}` has no blocks", func.name)));
    }
    let sig = abi::user_signature(func, mcx.pointer_type, mcx.call_conv)?;
    ctx.func = Function::with_name_signature(clif_name(&func.symbol), sig);
    let frontend_config = mcx.module.target_config();

    let mut bcx = FunctionBuilder::new(&mut ctx.func, fctx);
    let entry = bcx.create_block();
    bcx.append_block_params_for_function_params(entry);
    let blocks: Vec<Block> = func.blocks.iter().map(|_| bcx.create_block()).collect();
    let frame = Frame::analyze(func);
    let abi_params = bcx.block_params(entry).to_vec();
    let locals = values::declare_locals(&mut bcx, func, &program.adts, &frame, mcx.pointer_type, &abi_params)?;
    let sret = abi::returns_in_memory(&func.ret).then(|| abi_params[0]);

    let mut fx = FunctionCx {
        mcx,
        program,
        func,
        bcx,
        blocks,
        locals,
        frame,
        sret,
        func_refs: HashMap::new(),
        data_refs: HashMap::new(),
        preempt_flag_addr: None,
        pinned_saved: None,
    };
    fx.lower_entry_block(entry)?;
    let hints = layout::analyze(func);
    let triangles = if optimize { ifconv::find_triangles(func, &fx.frame) } else { vec![None; func.blocks.len()] };
    for (i, block) in func.blocks.iter().enumerate() {
        fx.bcx.switch_to_block(fx.blocks[i]);
        if hints.cold[i] {
            fx.bcx.set_cold_block(fx.blocks[i]);
        }
        for stmt in &block.stmts {
            fx.lower_stmt(stmt)?;
        }
        match triangles[i] {
            Some(triangle) => fx.lower_triangle(&block.terminator, triangle)?,
            None => fx.lower_terminator(&block.terminator, hints.swap_branch[i])?,
        }
    }
    fx.bcx.seal_all_blocks();
    fx.bcx.finalize(frontend_config);
    Ok(())
}

impl<'m> FunctionCx<'m, '_> {
    /// Defines the parameter variables from the ABI parameters, prepares function-wide values and
    /// jumps to IR block 0.
    fn lower_entry_block(&mut self, entry: Block) -> CgResult<()> {
        self.bcx.switch_to_block(entry);
        let params: Vec<Value> = self.bcx.block_params(entry).to_vec();
        let mut next = usize::from(self.sret.is_some());
        for p in self.func.params() {
            let shape = Shape::of(&self.func.local(p).ty, self.mcx.pointer_type)?;
            let count = shape.param_count();
            let value = CValue::from_values(shape, &params[next..next + count])?;
            next += count;
            // An aggregate parameter read in place needs nothing; one the function modifies is
            // copied into its own slot here.
            if !self.frame.param_in_place(p) {
                self.write_local(p, value)?;
            }
        }
        let index = self.program.functions.iter().position(|f| std::ptr::eq(f, self.func));
        if index.is_some_and(|i| self.mcx.c_callable.contains(&i)) {
            self.pinned_saved = self.enter_from_c()?;
        }
        let has_safepoint = self.func.blocks.iter().any(|b| b.stmts.iter().any(|s| matches!(s, Stmt::Safepoint)));
        if has_safepoint {
            self.init_safepoints()?;
        }
        let first = self.blocks[0];
        self.bcx.ins().jump(first, &[]);
        Ok(())
    }

    fn lower_stmt(&mut self, stmt: &Stmt) -> CgResult<()> {
        match stmt {
            Stmt::Safepoint => self.lower_safepoint(),
            Stmt::Assign(local, rvalue) => {
                let ty = self.local_ty(*local)?.clone();
                if ty.is_aggregate() {
                    let dst = self.local_addr(*local)?;
                    return self.lower_rvalue_into(rvalue, &ty, dst);
                }
                let value = self.lower_rvalue(rvalue, &ty)?;
                self.write_local(*local, value)
            }
            Stmt::Store(place, value) => self.lower_store(place, value),
            Stmt::Drop(_) => Err(CodegenError::InvalidIr("a drop left after `passes::glue`".to_string())),
        }
    }

    /// Lowers an rvalue whose result has type `dest_ty`.
    fn lower_rvalue(&mut self, rvalue: &Rvalue, dest_ty: &Ty) -> CgResult<CValue> {
        match rvalue {
            Rvalue::Use(op) => self.operand(op),
            Rvalue::Binary(op, lhs, rhs) => self.lower_binary(*op, lhs, rhs),
            Rvalue::Unary(op, operand) => self.lower_unary(*op, operand),
            Rvalue::Cast(operand, to) => self.lower_cast(operand, to),
            Rvalue::Call(callee, args) => self.lower_call(callee, args, dest_ty),
            Rvalue::Intrinsic(ir::Intrinsic::Heap(h), args) => self.lower_heap_intrinsic(*h, args, dest_ty),
            Rvalue::Intrinsic(ir::Intrinsic::ToWord, args) => self.lower_to_word(one_arg(args)?),
            Rvalue::Intrinsic(ir::Intrinsic::FromWord, args) => self.lower_from_word(one_arg(args)?, dest_ty),
            Rvalue::FnAddr(func) => self.lower_fn_addr(*func),
            Rvalue::Intrinsic(intrinsic, args) => self.lower_intrinsic(*intrinsic, args),
            Rvalue::Load(place) => self.lower_load(place),
            Rvalue::Ref(place, _) => self.lower_ref(place),
            Rvalue::Discriminant(place) => self.lower_discriminant(place),
            Rvalue::Len(place) => self.lower_len(place),
            Rvalue::Unsize(op) => self.lower_unsize(op),
            Rvalue::FnValue { func, env, heap, env_drop } => self.lower_fn_value(*func, env, *heap, *env_drop),
            Rvalue::Aggregate(..) | Rvalue::Repeat(..) => {
                Err(CodegenError::InvalidIr(format!("an aggregate rvalue assigned to a {dest_ty}")))
            }
        }
    }

    /// Lowers a terminator; `swap_branch` asks for a `Branch` to be emitted with its successors
    /// exchanged (see [`layout`]).
    fn lower_terminator(&mut self, term: &Terminator, swap_branch: bool) -> CgResult<()> {
        match term {
            Terminator::Goto(target) => {
                let block = self.block(*target)?;
                self.bcx.ins().jump(block, &[]);
            }
            Terminator::Branch { cond, then_bb, else_bb } => {
                let then_block = self.block(*then_bb)?;
                let else_block = self.block(*else_bb)?;
                if then_block == else_block {
                    // Evaluate nothing: operands have no side effects.
                    self.bcx.ins().jump(then_block, &[]);
                } else {
                    let c = self.scalar(cond)?;
                    if swap_branch {
                        let zero = self.bcx.ins().iconst(types::I8, 0);
                        let not_c = self.bcx.ins().icmp(IntCC::Equal, c, zero);
                        self.bcx.ins().brif(not_c, else_block, &[], then_block, &[]);
                    } else {
                        self.bcx.ins().brif(c, then_block, &[], else_block, &[]);
                    }
                }
            }
            Terminator::Return(op) => {
                if self.func.ret == Ty::Never {
                    self.bcx.ins().trap(UNREACHABLE_TRAP);
                } else if let Some(sret) = self.sret {
                    let value = self.operand(op)?;
                    let ty = self.func.ret.clone();
                    self.store_at(&ty, value, sret, 0)?;
                    self.leave_to_c(self.pinned_saved);
                    self.bcx.ins().return_(&[]);
                } else {
                    let mut vals = Vec::with_capacity(2);
                    self.operand(op)?.push_to(&mut vals);
                    self.leave_to_c(self.pinned_saved);
                    self.bcx.ins().return_(&vals);
                }
            }
            Terminator::Unreachable => {
                self.bcx.ins().trap(UNREACHABLE_TRAP);
            }
        }
        Ok(())
    }

    /// Lowers the branch ending a block as the selects of an if-converted triangle: the side
    /// block's statements run unconditionally, then each local they assign takes its new value
    /// only if the side would have run.
    fn lower_triangle(&mut self, term: &Terminator, triangle: Triangle) -> CgResult<()> {
        let Terminator::Branch { cond, .. } = term else {
            return Err(CodegenError::InvalidIr("if-conversion of a block that does not branch".to_string()));
        };
        // Read the condition first: the side block may assign the local it lives in.
        let c = self.scalar(cond)?;
        let side = &self.func.blocks[triangle.side];
        let mut assigned: Vec<ir::Local> = Vec::new();
        for stmt in &side.stmts {
            if let Stmt::Assign(l, _) = stmt
                && !assigned.contains(l)
            {
                assigned.push(*l);
            }
        }
        let old: Vec<CValue> = assigned.iter().map(|l| self.read_local(*l)).collect::<CgResult<_>>()?;
        for stmt in &side.stmts {
            self.lower_stmt(stmt)?;
        }
        for (l, old) in assigned.into_iter().zip(old) {
            let (CValue::One(new), CValue::One(old)) = (self.read_local(l)?, old) else {
                return Err(CodegenError::InvalidIr(format!("if-converted assignment to non-scalar _{}", l.0)));
            };
            let (if_true, if_false) = if triangle.side_is_then { (new, old) } else { (old, new) };
            let v = self.bcx.ins().select(c, if_true, if_false);
            self.write_local(l, CValue::One(v))?;
        }
        let join = self.block(BlockId(triangle.join as u32))?;
        self.bcx.ins().jump(join, &[]);
        Ok(())
    }

    fn block(&self, id: BlockId) -> CgResult<Block> {
        self.blocks
            .get(id.0 as usize)
            .copied()
            .ok_or_else(|| CodegenError::InvalidIr(format!("block bb{} out of range in `{}`", id.0, self.func.name)))
    }

    /// Ends the current block with a trap and continues in a fresh block that has no
    /// predecessors (used after calls that never return; Cranelift drops it as unreachable).
    pub(crate) fn trap_and_continue(&mut self) {
        self.bcx.ins().trap(UNREACHABLE_TRAP);
        let dead = self.bcx.create_block();
        self.bcx.switch_to_block(dead);
    }

    /// Imports a module function into this function (once). Like
    /// `Module::declare_func_in_func`, except that runtime functions count as colocated: they are
    /// linked statically into the same executable, so they are called directly instead of
    /// through the GOT (see [`ModuleCx::is_colocated_func`]).
    pub(crate) fn func_ref(&mut self, id: FuncId) -> FuncRef {
        if let Some(&r) = self.func_refs.get(&id) {
            return r;
        }
        let r = import_func(self.mcx, self.bcx.func, id);
        self.func_refs.insert(id, r);
        r
    }

    /// Imports a module data object into this function (once); colocated like [`Self::func_ref`].
    pub(crate) fn data_ref(&mut self, id: DataId) -> GlobalValue {
        if let Some(&gv) = self.data_refs.get(&id) {
            return gv;
        }
        let gv = import_data(self.mcx, self.bcx.func, id);
        self.data_refs.insert(id, gv);
        gv
    }
}

/// Imports module function `id` into `func`; see [`FunctionCx::func_ref`].
/// The single operand of an intrinsic.
pub(crate) fn one_arg(args: &[ir::Operand]) -> CgResult<&ir::Operand> {
    match args {
        [a] => Ok(a),
        _ => Err(CodegenError::InvalidIr(format!("an intrinsic with {} arguments, expected 1", args.len()))),
    }
}

pub(crate) fn import_func(mcx: &ModuleCx, func: &mut Function, id: FuncId) -> FuncRef {
    let colocated = mcx.is_colocated_func(id);
    let decl = mcx.module.declarations().get_function_decl(id);
    let signature = func.import_signature(decl.signature.clone());
    // Namespace 0 is cranelift-module's namespace for functions.
    let name = func.declare_imported_user_function(UserExternalName { namespace: 0, index: id.as_u32() });
    func.import_function(ExtFuncData { name: ExternalName::user(name), signature, colocated, patchable: false })
}

/// Imports module data object `id` into `func`; see [`FunctionCx::func_ref`].
pub(crate) fn import_data(mcx: &ModuleCx, func: &mut Function, id: DataId) -> GlobalValue {
    let colocated = mcx.is_colocated_data(id);
    // Namespace 1 is cranelift-module's namespace for data objects.
    let name = func.declare_imported_user_function(UserExternalName { namespace: 1, index: id.as_u32() });
    func.create_global_value(GlobalValueData::Symbol {
        name: ExternalName::user(name),
        offset: Imm64::new(0),
        colocated,
        tls: false,
    })
}
