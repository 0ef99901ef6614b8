//! Lowering closures, functions used as values and calls through `fn` values
//! (LANGUAGE.md §5.3; the representation is described in ARCHITECTURE.md, "Closures and
//! function values").
//!
//! Every `fn` value is called the same way, `code(env, args…)`, so one indirect call serves
//! named functions and closures alike:
//! * a closure is *lifted* into a function of its own, built right here by a nested
//!   [`FnBuilder`]: parameter 0 is `env: &(C1, C2, …)` (the captured values, by copy), then the
//!   closure's parameters; its first block copies each capture out of the environment into the
//!   local that stands for the captured variable, so the body lowers unchanged;
//! * a named function used as a value gets a *thunk* (one per function) that takes the unused
//!   environment pointer first and calls it;
//! * [`Rvalue::FnValue`] pairs the code address with the environment (null when nothing is
//!   captured). The builder always asks for a heap environment; `passes::closure_env` moves it
//!   into the frame when the closure provably never outlives it.
//!
//! Lifted functions and thunks are numbered after the program's own functions, in creation
//! order ([`Lifted`]), so the HIR's function ids stay valid as IR ids.

use std::collections::HashMap;

use crate::hir::{self, ExprKind as H};
use crate::ir::{
    BasicBlock, Callee, Const, FuncId, Function, HeapIntrinsic, Intrinsic, Local, LocalDecl, Operand, Place, Proj,
    Rvalue, Stmt, Terminator, Ty,
};

use super::{FnBuilder, ir_ty};

/// `local_map` entry of a HIR local that the function being built does not own.
pub(super) const UNMAPPED: Local = Local(u32::MAX);

/// Functions created while lowering: lifted closures and thunks, in id order after the
/// program's own `base` functions.
pub(crate) struct Lifted {
    base: usize,
    functions: Vec<Function>,
    /// Thunk of each function used as a value.
    thunks: HashMap<FuncId, FuncId>,
    /// Fiber trampoline per result type (`fibers.rs`).
    pub(super) trampolines: HashMap<Ty, FuncId>,
}

impl Lifted {
    pub(super) fn new(base: usize) -> Lifted {
        Lifted { base, functions: Vec::new(), thunks: HashMap::new(), trampolines: HashMap::new() }
    }

    /// Reserves the id of a function built later by [`Lifted::define`].
    pub(super) fn reserve(&mut self) -> FuncId {
        self.functions.push(Function {
            name: String::new(),
            symbol: String::new(),
            param_count: 0,
            ret: Ty::Unit,
            locals: Vec::new(),
            blocks: Vec::new(),
            no_preempt: false,
        });
        FuncId((self.base + self.functions.len() - 1) as u32)
    }

    pub(super) fn define(&mut self, id: FuncId, f: Function) {
        self.functions[id.0 as usize - self.base] = f;
    }

    fn has_symbol(&self, symbol: &str) -> bool {
        self.functions.iter().any(|f| f.symbol == symbol)
    }

    pub(super) fn into_functions(self) -> Vec<Function> {
        self.functions
    }
}

/// A closure called once frees its (heap) environment when it returns: each `return` is
/// preceded by `box_free(env)`.
fn free_environment_on_return(f: &mut Function, env: Local) {
    let unit = Local(f.locals.len() as u32);
    f.locals.push(LocalDecl { ty: Ty::Unit, name: None });
    for block in &mut f.blocks {
        if matches!(block.terminator, Terminator::Return(_)) {
            let free = Rvalue::Intrinsic(Intrinsic::Heap(HeapIntrinsic::BoxFree), vec![Operand::Local(env)]);
            block.stmts.push(Stmt::Assign(unit, free));
        }
    }
}

impl FnBuilder<'_> {
    /// Lowers the `fn`-value expressions; `None` for any other expression.
    pub(super) fn lower_fn_value_expr(&mut self, e: &hir::Expr) -> Option<Operand> {
        Some(match &e.kind {
            H::FnRef { func, .. } => {
                let thunk = self.thunk(FuncId(func.0));
                self.emit(e.ty.clone(), Rvalue::FnValue { func: thunk, env: Vec::new(), heap: false })
            }
            H::Closure(c) => self.lower_closure(c, &e.ty),
            H::CallIndirect { callee, args } => self.lower_call_indirect(callee, args, &e.ty),
            _ => return None,
        })
    }

    /// `callee(args…)`: the callee, then the arguments, in source order.
    fn lower_call_indirect(&mut self, callee: &hir::Expr, args: &[hir::Expr], ret: &Ty) -> Operand {
        let f = match args.first() {
            Some(first) => self.lower_operand_before(callee, first),
            None => self.lower_expr(callee),
        };
        let mut values = Vec::with_capacity(args.len());
        for (i, arg) in args.iter().enumerate() {
            let v = match args.get(i + 1) {
                Some(next) => self.lower_operand_before(arg, next),
                None => self.lower_expr(arg),
            };
            values.push(v);
        }
        let dest = self.temp(ret.clone());
        self.assign(dest, Rvalue::Call(Callee::Indirect(f), values));
        if *ret == Ty::Never {
            return self.diverge(Terminator::Unreachable);
        }
        if ret.is_zero_sized() { Operand::Const(Const::Unit) } else { Operand::Local(dest) }
    }

    /// Lifts closure `c` (of type `ty`) into a function and builds its value.
    fn lower_closure(&mut self, c: &hir::Closure, ty: &Ty) -> Operand {
        let captures: Vec<hir::LocalId> =
            c.captures.iter().copied().filter(|l| !self.hir_locals[l.0 as usize].ty.is_zero_sized()).collect();
        let env: Vec<Operand> = captures.iter().map(|l| Operand::Local(self.map_local(*l))).collect();
        let env_tys: Vec<Ty> = captures.iter().map(|l| ir_ty(&self.hir_locals[l.0 as usize].ty)).collect();
        let id = self.lifted.reserve();
        let symbol = self.lifted_symbol(&c.name);
        let hir = self.hir;
        let hir_locals = self.hir_locals;
        let mut b = FnBuilder::empty(&mut *self.program, &mut *self.lifted, hir, hir_locals);
        b.local_map = vec![UNMAPPED; hir_locals.len()];
        let env_local = b.new_local(Ty::reference(Ty::tuple(env_tys.clone()), false), Some("env".to_string()));
        for p in &c.params {
            let info = &hir_locals[p.0 as usize];
            b.local_map[p.0 as usize] = b.new_local(info.ty.clone(), Some(info.name.clone()));
        }
        for l in c.locals.clone() {
            if b.local_map[l as usize] == UNMAPPED {
                let info = &hir_locals[l as usize];
                b.local_map[l as usize] = b.new_local(info.ty.clone(), Some(info.name.clone()));
            }
        }
        b.current = b.new_block();
        let mut copies = Vec::new();
        for (i, (l, t)) in captures.iter().zip(env_tys).enumerate() {
            let name = hir_locals[l.0 as usize].name.clone();
            let copy = b.new_local(t, Some(name));
            b.local_map[l.0 as usize] = copy;
            let field = Place::local(env_local).project(Proj::Deref).project(Proj::Field(i as u32));
            b.push(Stmt::Assign(copy, Rvalue::Load(field)));
            copies.push(copy);
        }
        // Parameters are owned by the closure's function (dropped at its end). The captured
        // copies are not (the type checker rejects captures that need dropping), except in a
        // closure called once, which owns what it captured.
        b.push_scope(super::drops::ScopeKind::Block);
        for p in &c.params {
            let l = b.local_map[p.0 as usize];
            b.register_binding(l);
        }
        if c.once {
            for &copy in &copies {
                b.register_binding(copy);
            }
        }
        let value = b.lower_expr(&c.body);
        b.lower_return(value);
        let mut function = b.finish(c.name.clone(), symbol, c.params.len() as u32 + 1, ir_ty(&c.ret), false);
        if c.once && !env.is_empty() {
            free_environment_on_return(&mut function, env_local);
        }
        self.lifted.define(id, function);
        // On the heap until `passes::closure_env` proves the frame is enough.
        let heap = !env.is_empty();
        self.emit(ty.clone(), Rvalue::FnValue { func: id, env, heap })
    }

    /// The thunk of program function `f`: `(env, args…) -> R { f(args…) }`.
    fn thunk(&mut self, f: FuncId) -> FuncId {
        if let Some(&t) = self.lifted.thunks.get(&f) {
            return t;
        }
        let target = &self.hir.functions[f.0 as usize];
        let id = self.lifted.reserve();
        self.lifted.thunks.insert(f, id);
        let mut locals = vec![LocalDecl { ty: Ty::reference(Ty::Unit, false), name: Some("env".to_string()) }];
        for info in &target.locals[..target.param_count as usize] {
            locals.push(LocalDecl { ty: ir_ty(&info.ty), name: Some(info.name.clone()) });
        }
        let ret = ir_ty(&target.ret);
        let result = Local(locals.len() as u32);
        locals.push(LocalDecl { ty: ret.clone(), name: None });
        let args = (1..=target.param_count).map(|i| Operand::Local(Local(i))).collect();
        let call = Stmt::Assign(result, Rvalue::Call(Callee::Fn(f), args));
        let terminator = if ret == Ty::Never {
            Terminator::Unreachable
        } else if ret.is_zero_sized() {
            Terminator::Return(Operand::Const(Const::Unit))
        } else {
            Terminator::Return(Operand::Local(result))
        };
        let name = format!("{}.{{thunk}}", target.name);
        let function = Function {
            symbol: self.lifted_symbol(&name),
            name,
            param_count: target.param_count + 1,
            ret,
            locals,
            blocks: vec![BasicBlock { stmts: vec![call], terminator }],
            no_preempt: target.no_preempt,
        };
        self.lifted.define(id, function);
        id
    }

    /// A symbol for a lifted function, unique in the program.
    pub(super) fn lifted_symbol(&self, name: &str) -> String {
        let base = format!("blood.{name}");
        let taken = |s: &str| self.program.functions.iter().any(|g| g.symbol == s) || self.lifted.has_symbol(s);
        if !taken(&base) {
            return base;
        }
        (1..).map(|n| format!("{base}.{n}")).find(|s| !taken(s)).expect("some suffix is free")
    }
}
