//! `fn` values: building them ([`Rvalue::FnValue`](crate::ir::Rvalue::FnValue)) and calling
//! through them ([`Callee::Indirect`](crate::ir::Callee::Indirect)).
//!
//! A value of type `fn(A..) -> R` is two pointers (a [`CValue::Pair`]): the code address and the
//! environment address. Every such code pointer points to a Blood function whose first
//! parameter is the environment pointer (a lifted closure, or the thunk of a named function),
//! so a call is one `call_indirect` with the signature of [`super::abi::user_signature`] for
//! `(env, A..) -> R`: the environment goes first (after the hidden result pointer of an
//! aggregate result), then the arguments flattened as for direct calls.
//!
//! The environment is the tuple [`closure_env_ty`] laid out by [`super::layout_of`]: a reference
//! count (offset 0), the code address of its drop function (offset 8), then the captured
//! values. It is allocated with `blood_alloc` when the closure may outlive its frame (count 1),
//! or in a stack slot of the creating function when the IR says it cannot (`heap == false`;
//! count [`FRAME_ENV_COUNT`], never released to zero); without captures the pointer is null and
//! nothing is allocated or counted.
//!
//! `fn_retain` and `fn_release` count with atomic read-modify-write operations, since a `fn`
//! value may be shared by fibers running on different workers. The release that takes the
//! count to zero calls the drop function, which drops the captured values and frees the
//! environment (`ir::build::closures`).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{AbiParam, AtomicRmwOp, InstBuilder, MemFlagsData, Signature, Value, types};

use super::abi::{self, Shape};
use super::function::FunctionCx;
use super::layout_of::fields_of;
use super::values::CValue;
use super::{CgResult, CodegenError};
use crate::ir::{FRAME_ENV_COUNT, FuncId, Operand, closure_env_ty};
use crate::types::Ty;

impl FunctionCx<'_, '_> {
    /// The code address of IR function `func`.
    pub(crate) fn code_address(&mut self, func: FuncId) -> CgResult<cranelift_codegen::ir::Value> {
        let id = *self
            .mcx
            .functions
            .get(func.0 as usize)
            .ok_or_else(|| CodegenError::InvalidIr(format!("address of unknown function #{}", func.0)))?;
        let func_ref = self.func_ref(id);
        Ok(self.bcx.ins().func_addr(self.mcx.pointer_type, func_ref))
    }

    /// `func` paired with a fresh environment holding `env`.
    pub(crate) fn lower_fn_value(
        &mut self,
        func: FuncId,
        env: &[Operand],
        heap: bool,
        env_drop: Option<FuncId>,
    ) -> CgResult<CValue> {
        let pointer = self.mcx.pointer_type;
        let code = self.code_address(func)?;
        let (false, Some(env_drop)) = (env.is_empty(), env_drop) else {
            let null = self.bcx.ins().iconst(pointer, 0);
            return Ok(CValue::Pair(code, null));
        };
        let tys = env.iter().map(|o| self.operand_ty(o)).collect::<CgResult<Vec<Ty>>>()?;
        let env_ty = closure_env_ty(tys);
        let layout = self.layout(&env_ty)?;
        let addr = if heap {
            let size = self.bcx.ins().iconst(cranelift_codegen::ir::types::I64, layout.size as i64);
            let align = self.bcx.ins().iconst(cranelift_codegen::ir::types::I64, layout.align as i64);
            match self.call_import(&blood_abi::ALLOC, &[size, align])?.as_slice() {
                [p] => *p,
                _ => return Err(CodegenError::InvalidIr("blood_alloc must return one pointer".to_string())),
            }
        } else {
            self.temp_slot_addr(layout)
        };
        let fields = fields_of(&self.program.adts, &env_ty, None)?;
        let count = self.bcx.ins().iconst(types::I64, if heap { 1 } else { FRAME_ENV_COUNT as i64 });
        let drop = self.code_address(env_drop)?;
        let header = [CValue::One(count), CValue::One(drop)];
        let values =
            header.into_iter().map(Ok).chain(env.iter().map(|op| self.operand(op))).collect::<CgResult<Vec<_>>>()?;
        for ((offset, ty), v) in fields.iter().zip(values) {
            self.store_at(ty, v, addr, *offset as i32)?;
        }
        Ok(CValue::Pair(code, addr))
    }

    /// `fn_retain`: the `fn` value (`code`, `env`), with one more reference counted on its
    /// environment (if it has one).
    pub(crate) fn fn_retain(&mut self, code: Value, env: Value) -> CgResult<CValue> {
        let count = self.bcx.create_block();
        let done = self.bcx.create_block();
        self.bcx.ins().brif(env, count, &[], done, &[]);
        self.bcx.switch_to_block(count);
        let one = self.bcx.ins().iconst(types::I64, 1);
        self.bcx.ins().atomic_rmw(types::I64, MemFlagsData::trusted(), AtomicRmwOp::Add, env, one);
        self.bcx.ins().jump(done, &[]);
        self.bcx.switch_to_block(done);
        Ok(CValue::Pair(code, env))
    }

    /// `fn_release`: gives up a reference to environment `env` (null: none); the last
    /// reference calls the environment's drop function with it.
    pub(crate) fn fn_release(&mut self, env: Value) -> CgResult<CValue> {
        let pointer = self.mcx.pointer_type;
        let release = self.bcx.create_block();
        let last = self.bcx.create_block();
        let done = self.bcx.create_block();
        self.bcx.set_cold_block(last);
        self.bcx.ins().brif(env, release, &[], done, &[]);
        self.bcx.switch_to_block(release);
        let one = self.bcx.ins().iconst(types::I64, 1);
        let old = self.bcx.ins().atomic_rmw(types::I64, MemFlagsData::trusted(), AtomicRmwOp::Sub, env, one);
        let was_last = self.bcx.ins().icmp_imm_u(IntCC::Equal, old, 1);
        self.bcx.ins().brif(was_last, last, &[], done, &[]);
        self.bcx.switch_to_block(last);
        let drop = self.bcx.ins().load(pointer, MemFlagsData::trusted(), env, 8);
        let mut sig = Signature::new(self.mcx.call_conv);
        sig.params.push(AbiParam::new(pointer));
        let sig = self.bcx.import_signature(sig);
        self.bcx.ins().call_indirect(sig, drop, &[env]);
        self.bcx.ins().jump(done, &[]);
        self.bcx.switch_to_block(done);
        Ok(CValue::Zst)
    }

    /// Calls the `fn` value `callee`. `sret` is the memory receiving an aggregate result.
    pub(crate) fn call_indirect(
        &mut self,
        callee: &Operand,
        args: &[Operand],
        sret: Option<Value>,
    ) -> CgResult<CValue> {
        let pointer = self.mcx.pointer_type;
        let Ty::Fn(params, ret, _) = self.operand_ty(callee)? else {
            return Err(CodegenError::InvalidIr(format!("indirect call of {callee:?}, which is not a `fn` value")));
        };
        let CValue::Pair(code, env) = self.operand(callee)? else {
            return Err(CodegenError::InvalidIr("a `fn` value is not a pair".to_string()));
        };
        if args.len() != params.len() {
            return Err(CodegenError::InvalidIr(format!(
                "a {} called with {} arguments",
                callee_ty(&params, &ret),
                args.len()
            )));
        }
        let in_memory = abi::returns_in_memory(&ret);
        let mut sig = Signature::new(self.mcx.call_conv);
        let mut tys = Vec::new();
        if in_memory {
            tys.push(pointer);
        }
        tys.push(pointer);
        for p in params.iter() {
            Shape::of(p, pointer)?.push_types(pointer, &mut tys);
        }
        sig.params.extend(tys.drain(..).map(AbiParam::new));
        if !in_memory {
            Shape::of(&ret, pointer)?.push_types(pointer, &mut tys);
            sig.returns.extend(tys.drain(..).map(AbiParam::new));
        }
        let mut vals = Vec::with_capacity(args.len() + 2);
        match (in_memory, sret) {
            (true, Some(dst)) => vals.push(dst),
            (false, None) => {}
            _ => {
                return Err(CodegenError::InvalidIr(format!(
                    "result of a {} stored in a local of another kind",
                    callee_ty(&params, &ret)
                )));
            }
        }
        vals.push(env);
        for a in args {
            let value = self.argument(a)?;
            value.push_to(&mut vals);
        }
        let sig_ref = self.bcx.import_signature(sig);
        let call = self.bcx.ins().call_indirect(sig_ref, code, &vals);
        if *ret == Ty::Never {
            self.trap_and_continue();
            return Ok(CValue::Zst);
        }
        if sret.is_some() {
            return Ok(CValue::Zst);
        }
        let shape = Shape::of(&ret, pointer)?;
        let results = self.bcx.inst_results(call).to_vec();
        CValue::from_values(shape, &results)
    }
}

fn callee_ty(params: &std::sync::Arc<[Ty]>, ret: &std::sync::Arc<Ty>) -> Ty {
    Ty::Fn(params.clone(), ret.clone(), Default::default())
}
