//! Spawning a closure of a few plain words without allocating its environment.
//!
//! `perform Fiber.spawn(task)` is a call of the library's `__perform_Fiber_spawn<T>`, which
//! passes the task's two words (code, environment) to `blood_fiber_spawn_pair` (`fibers.rs`).
//! A closure capturing anything then has a heap environment: allocated by the spawning worker,
//! released by the trampoline on whichever worker ran the fiber, so each spawn pays an
//! allocation, a cross-thread free and three atomic count updates (the library function's copy
//! and drop, the trampoline's drop).
//!
//! Decision: when the task is a closure literal written in the `perform` whose captures are at
//! most [`MAX_WORDS`] values of *word scalars* ([`is_word_scalar`]: integers up to 64 bits,
//! floats, `bool`, `char`, fieldless enums, references to sized types: plain data that
//! `to_word` keeps in the word itself and that needs no drop), the builder lowers the `perform`
//! itself, in place of the library call:
//!
//! ```text
//! wK = to_word(capture K)                       (0 for unused words)
//! id = blood_fiber_spawn_env(fn_addr <closure>.{fiber_entry}, w0, w1, w2)
//! handle = FiberHandle { id }
//! ```
//!
//! The per-closure trampoline `<closure>.{fiber_entry}(w0, w1, w2) -> u64` takes each capture
//! back (`from_word`), rebuilds the closure as a value with a *frame* environment (its count
//! starts at `FRAME_ENV_COUNT`, so nothing ever frees it), calls it and returns the result as
//! a word, as the per-result-type trampolines of `fibers.rs` do. The runtime keeps the four
//! words inline in the fiber record, so the spawn allocates nothing beyond the fiber.
//! Semantics are unchanged: the captured values are read when the `perform` runs, by value.
//! On `tools/bench/concurrency/spawn.blood` (`|| i * 3`, 1M spawns and joins) this took the
//! median per-fiber time from 187 to 176–179 ns on one worker and from 199 to 158 ns on two
//! (five interleaved runs each, on a shared 2-core machine).
//!
//! Every other task (more captures, captures that own heap storage or hold `fn` values, values
//! wider than a word, a task that is not a closure literal) keeps the library call. The
//! runtime call stands for an effect operation, so `passes::insert_safepoints` puts a
//! safepoint before it as it would before the library call (and none with `--no-preempt`).

use crate::hir::{self, ExprKind as H};
use crate::ir::{
    AggregateKind, BasicBlock, Callee, Const, FuncId, Function, Intrinsic, LocalDecl, Operand, Rvalue, Stmt,
    Terminator, Ty,
};
use crate::types::IntTy;

use super::closures::LiftedClosure;
use super::{FnBuilder, ir_ty};

const U64: Ty = Ty::Int(IntTy::U64);

/// The words `blood_fiber_spawn_env` passes to its function.
pub(crate) const MAX_WORDS: usize = 3;

/// The name of the library function `perform Fiber.spawn` calls (before its type arguments).
fn spawn_op_name() -> String {
    format!("{}Fiber_spawn", crate::ir::EFFECT_OP_PREFIX)
}

/// Whether a value of IR type `ty` is plain data that `to_word` keeps in the word itself.
pub(crate) fn is_word_scalar(ty: &Ty) -> bool {
    match ty {
        Ty::Bool | Ty::Char | Ty::Float(_) => true,
        Ty::Int(i) => !matches!(i, IntTy::I128 | IntTy::U128),
        // A reference to a sized type is one pointer (to a slice, two words).
        Ty::Ref(inner, _) => !matches!(**inner, Ty::Slice(_)),
        _ => false,
    }
}

impl FnBuilder<'_> {
    /// `perform Fiber.spawn(|| …)` (a call of `func` with `args`, of type `ret`) lowered to
    /// `blood_fiber_spawn_env` when the task qualifies (see the module header); `None` (and
    /// nothing emitted) otherwise.
    pub(super) fn try_lower_spawn_env(
        &mut self,
        func: hir::FnId,
        args: &[(usize, hir::Expr)],
        ret: &Ty,
    ) -> Option<Operand> {
        let callee = &self.hir.functions[func.0 as usize];
        let op = spawn_op_name();
        if callee.name != op && !callee.name.starts_with(&format!("{op}<")) {
            return None;
        }
        let [(0, task)] = args else { return None };
        let H::Closure(c) = &task.kind else { return None };
        let handle_ty = ir_ty(ret);
        if !c.params.is_empty() || !self.is_id_struct(&handle_ty) {
            return None;
        }
        let captures = self.closure_captures(c);
        if captures.len() > MAX_WORDS || !captures.iter().all(|(_, t)| is_word_scalar(t)) {
            return None;
        }
        let mut words: Vec<Operand> = captures
            .iter()
            .map(|(l, _)| {
                let local = self.map_local(*l);
                self.emit(U64, Rvalue::Intrinsic(Intrinsic::ToWord, vec![Operand::Local(local)]))
            })
            .collect();
        words.resize(MAX_WORDS, Operand::Const(Const::Int { bits: 0, ty: IntTy::U64 }));
        let lifted = self.lift_closure(c, &captures);
        let capture_tys: Vec<Ty> = captures.into_iter().map(|(_, t)| t).collect();
        let trampoline = self.spawn_env_trampoline(c, &ir_ty(&task.ty), &lifted, &capture_tys);
        let code = self.emit(U64, Rvalue::FnAddr(trampoline));
        let mut call_args = vec![code];
        call_args.extend(words);
        let id = self.emit(U64, Rvalue::Call(Callee::Runtime(blood_abi::FIBER_SPAWN_ENV), call_args));
        Some(self.emit(handle_ty, Rvalue::Aggregate(AggregateKind::Adt { variant: 0 }, vec![id])))
    }

    /// Whether `ty` is a struct whose one field is a `u64` (the library's `FiberHandle<T>`):
    /// the value the lowering builds in place of the library call's.
    fn is_id_struct(&self, ty: &Ty) -> bool {
        let Ty::Adt(adt, _) = ty else { return false };
        let def = self.program.adts.def(adt);
        !def.is_enum
            && !def.counted_handle
            && matches!(&def.variants[..], [v] if matches!(&v.fields[..], [f] if f.ty == U64))
    }

    /// `<closure>.{fiber_entry}(w0, w1, w2) -> u64`: rebuilds closure `c` (lifted as `lifted`,
    /// of type `task_ty`, capturing values of `capture_tys`) with a frame environment from the
    /// words, calls it and returns its result as a word. The runtime calls it as
    /// `uint64_t f(uint64_t, uint64_t, uint64_t)`.
    fn spawn_env_trampoline(
        &mut self,
        c: &hir::Closure,
        task_ty: &Ty,
        lifted: &LiftedClosure,
        capture_tys: &[Ty],
    ) -> FuncId {
        let id = self.lifted.reserve();
        let ret = ir_ty(&c.ret);
        let mut locals: Vec<LocalDecl> =
            (0..MAX_WORDS).map(|i| LocalDecl { ty: U64, name: Some(format!("w{i}")) }).collect();
        let mut stmts = Vec::new();
        let mut env = Vec::new();
        for (i, t) in capture_tys.iter().enumerate() {
            let capture = crate::ir::Local(locals.len() as u32);
            locals.push(LocalDecl { ty: t.clone(), name: None });
            let word = Operand::Local(crate::ir::Local(i as u32));
            stmts.push(Stmt::Assign(capture, Rvalue::Intrinsic(Intrinsic::FromWord, vec![word])));
            env.push(Operand::Local(capture));
        }
        let task = crate::ir::Local(locals.len() as u32);
        locals.push(LocalDecl { ty: task_ty.clone(), name: Some("task".to_string()) });
        let result = crate::ir::Local(locals.len() as u32);
        locals.push(LocalDecl { ty: ret.clone(), name: Some("result".to_string()) });
        let word = crate::ir::Local(locals.len() as u32);
        locals.push(LocalDecl { ty: U64, name: Some("word".to_string()) });
        // A frame environment: its count never reaches zero, so the task is not dropped.
        stmts.push(Stmt::Assign(
            task,
            Rvalue::FnValue { func: lifted.func, env, heap: false, env_drop: lifted.env_drop },
        ));
        stmts.push(Stmt::Assign(result, Rvalue::Call(Callee::Indirect(Operand::Local(task)), Vec::new())));
        let terminator = if ret == Ty::Never {
            Terminator::Unreachable
        } else {
            let value = if ret.is_zero_sized() { Operand::Const(Const::Unit) } else { Operand::Local(result) };
            stmts.push(Stmt::Assign(word, Rvalue::Intrinsic(Intrinsic::ToWord, vec![value])));
            Terminator::Return(Operand::Local(word))
        };
        let name = format!("{}.{{fiber_entry}}", c.name);
        let function = Function {
            symbol: self.lifted_symbol(&name),
            name,
            param_count: MAX_WORDS as u32,
            ret: U64,
            locals,
            blocks: vec![BasicBlock { stmts, terminator }],
            no_preempt: false,
        };
        self.lifted.define(id, function);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{FloatTy, OwnedKind};

    #[test]
    fn word_scalars_are_plain_values_of_one_word() {
        let words = [
            Ty::Bool,
            Ty::Char,
            Ty::Int(IntTy::U8),
            Ty::Int(IntTy::I64),
            Ty::Float(FloatTy::F32),
            Ty::Float(FloatTy::F64),
            Ty::reference(Ty::Int(IntTy::I64), false),
            Ty::reference(Ty::Str, true),
        ];
        for t in &words {
            assert!(is_word_scalar(t), "{t} is a word");
        }
        let others = [
            Ty::Unit,
            Ty::Str,
            Ty::Int(IntTy::I128),
            Ty::Int(IntTy::U128),
            Ty::Tuple(vec![Ty::Int(IntTy::I32), Ty::Int(IntTy::I32)].into()),
            Ty::reference(Ty::Slice(Ty::Int(IntTy::U8).into()), false),
            Ty::Fn(Vec::new().into(), Ty::Unit.into(), Default::default()),
            Ty::Owned(OwnedKind::String, Ty::Int(IntTy::U8).into()),
        ];
        for t in &others {
            assert!(!is_word_scalar(t), "{t} is not a word");
        }
    }
}
