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
    BasicBlock, Callee, Const, ENV_HEADER_FIELDS, FuncId, Function, HeapIntrinsic, Intrinsic, Local, LocalDecl,
    Operand, Place, Proj, Rvalue, Stmt, Terminator, Ty,
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

/// A closure lifted by [`FnBuilder::lift_closure`], before any value of it is built.
pub(super) struct LiftedClosure {
    /// `(env: &(header, C…), params…) -> R`.
    pub func: FuncId,
    /// The environment drop function; `Some` exactly when the closure captures something.
    pub env_drop: Option<FuncId>,
}

impl FnBuilder<'_> {
    /// Lowers the `fn`-value expressions; `None` for any other expression.
    pub(super) fn lower_fn_value_expr(&mut self, e: &hir::Expr) -> Option<Operand> {
        Some(match &e.kind {
            H::FnRef { func, .. } => {
                let thunk = self.thunk(FuncId(func.0));
                self.emit(e.ty.clone(), Rvalue::FnValue { func: thunk, env: Vec::new(), heap: false, env_drop: None })
            }
            H::Closure(c) => self.lower_closure(c, &e.ty),
            H::CallIndirect { callee, args } => self.lower_call_indirect(callee, args, &e.ty),
            _ => return None,
        })
    }

    /// `callee(args…)`: the callee, then the arguments, in source order.
    ///
    /// A callee that is a variable is called in place, without counting a copy of it: the
    /// variable is read when the call is made, after the arguments were evaluated.
    fn lower_call_indirect(&mut self, callee: &hir::Expr, args: &[hir::Expr], ret: &Ty) -> Operand {
        let f = match (&callee.kind, args.first()) {
            (H::Local(l), _) => Operand::Local(self.map_local(*l)),
            (_, Some(first)) => self.lower_operand_before(callee, first),
            (_, None) => self.lower_expr(callee),
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
        let captures = self.closure_captures(c);
        // Values that own heap storage were moved in (the type checker marked them moved);
        // values holding `fn`s are counted copies; the rest plain copies.
        let env: Vec<Operand> = captures
            .iter()
            .map(|(l, t)| {
                let local = self.map_local(*l);
                if t.is_counted_copy(&self.program.adts) {
                    self.copy_place(Place::local(local), t)
                } else {
                    Operand::Local(local)
                }
            })
            .collect();
        let lifted = self.lift_closure(c, &captures);
        // On the heap until `passes::closure_env` proves the frame is enough.
        let heap = !env.is_empty();
        self.emit(ty.clone(), Rvalue::FnValue { func: lifted.func, env, heap, env_drop: lifted.env_drop })
    }

    /// The variables closure `c` captures, in environment order, with their IR types; those of
    /// zero-sized types take no room and are left out.
    pub(super) fn closure_captures(&self, c: &hir::Closure) -> Vec<(hir::LocalId, Ty)> {
        c.captures
            .iter()
            .map(|l| (*l, &self.hir_locals[l.0 as usize].ty))
            .filter(|(_, t)| !t.is_zero_sized())
            .map(|(l, t)| (l, ir_ty(t)))
            .collect()
    }

    /// Lifts closure `c`, capturing `captures` (from [`Self::closure_captures`]), into a
    /// function `(env: &(header, C…), params…) -> R`, and makes its environment drop function.
    /// Builds no value: the caller pairs the function with an environment.
    pub(super) fn lift_closure(&mut self, c: &hir::Closure, captures: &[(hir::LocalId, Ty)]) -> LiftedClosure {
        let id = self.lifted.reserve();
        let symbol = self.lifted_symbol(&c.name);
        let hir = self.hir;
        let hir_locals = self.hir_locals;
        let mut b = FnBuilder::empty(&mut *self.program, &mut *self.lifted, hir, hir_locals);
        b.local_map = vec![UNMAPPED; hir_locals.len()];
        let env_ty = if captures.is_empty() {
            Ty::Unit
        } else {
            crate::ir::closure_env_ty(captures.iter().map(|(_, t)| t.clone()))
        };
        let env_local = b.new_local(Ty::reference(env_ty.clone(), false), Some("env".to_string()));
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
        for (i, (l, t)) in captures.iter().enumerate() {
            let name = hir_locals[l.0 as usize].name.clone();
            let copy = b.new_local(t.clone(), Some(name));
            b.local_map[l.0 as usize] = copy;
            let field = Place::local(env_local).project(Proj::Deref).project(Proj::Field(ENV_HEADER_FIELDS + i as u32));
            b.push(Stmt::Assign(copy, Rvalue::Load(field)));
            copies.push(copy);
        }
        // Parameters are owned by the closure's function (dropped at its end). The captured
        // copies are not: the environment owns the captured values and its drop function drops
        // them (the body may only read those that own heap storage), except in a closure called
        // once, which owns what it captured.
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
        let function = b.finish(c.name.clone(), symbol, c.params.len() as u32 + 1, ir_ty(&c.ret), false);
        self.lifted.define(id, function);
        let env_drop = (!captures.is_empty()).then(|| self.env_drop_fn(&c.name, &env_ty, c.once));
        LiftedClosure { func: id, env_drop }
    }

    /// The drop function of a closure environment of type `env_ty`, called by the release of
    /// its last reference: `(env: &(header, C…))` drops each captured value that needs it
    /// (unless the closure is called `once`: its body consumed them) and frees the environment.
    fn env_drop_fn(&mut self, closure: &str, env_ty: &Ty, once: bool) -> FuncId {
        let id = self.lifted.reserve();
        let name = format!("{closure}.{{env_drop}}");
        let env = Local(0);
        let unit = Local(1);
        let locals = vec![
            LocalDecl { ty: Ty::reference(env_ty.clone(), false), name: Some("env".to_string()) },
            LocalDecl { ty: Ty::Unit, name: None },
        ];
        let mut stmts = Vec::new();
        if let Ty::Tuple(fields) = env_ty
            && !once
        {
            for (i, t) in fields.iter().enumerate().skip(ENV_HEADER_FIELDS as usize) {
                if t.needs_drop(&self.program.adts) {
                    stmts.push(Stmt::Drop(Place::local(env).project(Proj::Deref).project(Proj::Field(i as u32))));
                }
            }
        }
        let free = Rvalue::Intrinsic(Intrinsic::Heap(HeapIntrinsic::BoxFree), vec![Operand::Local(env)]);
        stmts.push(Stmt::Assign(unit, free));
        let function = Function {
            symbol: self.lifted_symbol(&name),
            name,
            param_count: 1,
            ret: Ty::Unit,
            locals,
            blocks: vec![BasicBlock { stmts, terminator: Terminator::Return(Operand::Const(Const::Unit)) }],
            no_preempt: true,
        };
        self.lifted.define(id, function);
        id
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
