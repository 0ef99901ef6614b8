//! Lowering the concurrency builtins: spawning a closure as a fiber, values as runtime words,
//! and nurseries (LANGUAGE.md §7.2; the library half is `blood-std/lib/concurrency.blood`).
//!
//! A fiber runs a closure `fn() -> T`. The runtime starts fibers at a C function of two words,
//! `uint64_t entry(uint64_t a, uint64_t b)` (`blood_fiber_spawn_pair`), and a `fn` value is two
//! words (code, environment), so each result type `T` gets one *fiber trampoline*,
//! `fiber_entry<T>(task: fn() -> T) -> u64`: it calls the task and returns its result as a word
//! (`to_word`) for the joiner, which turns it back into a `T` (`from_word`). Spawning is
//! `blood_fiber_spawn_pair(fn_addr trampoline, task)`; the trampoline owns the task and drops it
//! after the call (releasing its environment). The environment must be on the heap:
//! `passes::closure_env` sees an operand of a runtime call as escaping. A task closure of at
//! most three plain words never gets here: `spawn_env.rs` passes its captures as words instead.

use crate::hir;
use crate::ir::{
    BasicBlock, Callee, Const, Function, Intrinsic, Local, LocalDecl, Operand, Place, Rvalue, Stmt, Terminator, Ty,
};
use crate::types::IntTy;

use super::FnBuilder;
use super::drops::{ScopeEntry, ScopeKind};

const U64: Ty = Ty::Int(IntTy::U64);

impl FnBuilder<'_> {
    /// `__blood_spawn(task)`: starts a fiber running `task` (of type `task_ty`); the fiber id.
    pub(super) fn lower_spawn_fiber(&mut self, task: Operand, task_ty: &Ty) -> Operand {
        let Ty::Fn(_, ret, _) = task_ty else { unreachable!("the type checker gives `__blood_spawn` a `fn` argument") };
        let trampoline = self.fiber_trampoline(ret);
        let code = self.emit(U64, Rvalue::FnAddr(trampoline));
        // The task's two words (code, environment) are the runtime's two arguments.
        self.emit(U64, Rvalue::Call(Callee::Runtime(blood_abi::FIBER_SPAWN_PAIR), vec![code, task]))
    }

    /// The trampoline of fibers returning `ret`: `(task: fn() -> T) -> u64`, which the runtime
    /// calls as `uint64_t entry(uint64_t code, uint64_t env)`.
    fn fiber_trampoline(&mut self, ret: &Ty) -> crate::ir::FuncId {
        if let Some(&id) = self.lifted.trampolines.get(ret) {
            return id;
        }
        let id = self.lifted.reserve();
        self.lifted.trampolines.insert(ret.clone(), id);
        let task_ty = Ty::Fn(Vec::new().into(), ret.clone().into(), Default::default());
        let locals = vec![
            LocalDecl { ty: task_ty, name: Some("task".to_string()) },
            LocalDecl { ty: ret.clone(), name: Some("result".to_string()) },
            LocalDecl { ty: U64, name: Some("word".to_string()) },
        ];
        let (task, result, word) = (Local(0), Local(1), Local(2));
        let mut stmts = vec![Stmt::Assign(result, Rvalue::Call(Callee::Indirect(Operand::Local(task)), Vec::new()))];
        let terminator = if *ret == Ty::Never {
            Terminator::Unreachable
        } else {
            // The fiber owned the task (its reference to the environment).
            stmts.push(Stmt::Drop(Place::local(task)));
            let value = if ret.is_zero_sized() { Operand::Const(Const::Unit) } else { Operand::Local(result) };
            stmts.push(Stmt::Assign(word, Rvalue::Intrinsic(Intrinsic::ToWord, vec![value])));
            Terminator::Return(Operand::Local(word))
        };
        let name = format!("fiber_entry<{ret}>");
        let function = Function {
            symbol: self.lifted_symbol(&name),
            name,
            param_count: 1,
            ret: U64,
            locals,
            blocks: vec![BasicBlock { stmts, terminator }],
            no_preempt: false,
        };
        self.lifted.define(id, function);
        id
    }

    /// `with Nursery {} handle { body }`: the nursery is a drop-scope entry, so `return` out of
    /// the body cancels and joins it (`drops.rs`), and the normal end joins it.
    pub(super) fn lower_nursery(&mut self, body: &hir::Expr) -> Operand {
        let handle = self.temp(U64);
        self.assign(handle, Rvalue::Call(Callee::Runtime(blood_abi::NURSERY_BEGIN), Vec::new()));
        self.push_scope(ScopeKind::Temps);
        self.push_scope_entry(ScopeEntry::Nursery(handle));
        let v = self.lower_expr(body);
        let (v, moved) = self.move_out_of_scope(v);
        self.pop_scope();
        if let Some(t) = moved {
            self.register_temp(t);
        }
        v
    }
}
