//! Typed HIR → Blood IR.
//!
//! One [`FnBuilder`] per function turns the expression tree into basic blocks. The builder keeps
//! a *current block*; lowering an expression appends statements to it and returns an
//! [`Operand`] holding the expression's value. An expression of type `!` terminates the current
//! block and continues in a fresh block that nothing jumps to (removed later by
//! `passes::remove_unreachable_blocks`), so every construct can be lowered without asking
//! whether control reaches it.
//!
//! Evaluation order is the source order (LANGUAGE.md §3.4): operands that read a variable are
//! copied to a temporary when a later operand could change that variable.
//!
//! Submodules: `expr.rs` (operators, calls, control flow), `builtins.rs` (builtins, printing,
//! panics), `places.rs` (places, aggregates, equality), `matching.rs` (patterns), `heap.rs`
//! (`Vec`/`String`/`Box` operations), `drops.rs` (drop scopes and moves out of places),
//! `fibers.rs` (spawning, nurseries), `spawn_env.rs` (spawning a closure of a few plain words
//! without allocating its environment).

mod builtins;
mod closures;
mod decision_tree;
mod drops;
mod expr;
mod fibers;
mod heap;
mod matching;
mod places;
mod spawn_env;

use std::collections::HashMap;

use crate::hir::{self, LoopId};
use crate::ir::{
    BasicBlock, BlockId, Callee, Const, FuncId, Function, IntTy, Local, LocalDecl, Operand, Program, Rvalue, Stmt,
    Terminator, Ty,
};

/// Lowers a checked program.
pub fn lower_program(hir: &hir::Program) -> Program {
    let mut program = Program {
        functions: Vec::new(),
        strings: Vec::new(),
        main: hir.main.map(|f| FuncId(f.0)),
        adts: std::sync::Arc::new(ir_adts(&hir.adts)),
    };
    let mut lifted = closures::Lifted::new(hir.functions.len());
    for f in &hir.functions {
        let function = FnBuilder::new(&mut program, &mut lifted, hir, f).build(f);
        program.functions.push(function);
    }
    program.functions.extend(lifted.into_functions());
    program
}

/// The IR type of a HIR type: fieldless enums are their discriminant integers (also inside
/// tuples, arrays and references).
pub(crate) fn ir_ty(ty: &Ty) -> Ty {
    match ty {
        Ty::Enum(_) => Ty::Int(crate::types::ENUM_REPR),
        t => t.map_children(&mut ir_ty),
    }
}

/// The ADT table as the IR sees it: field types lowered with [`ir_ty`].
fn ir_adts(adts: &crate::types::AdtTable) -> crate::types::AdtTable {
    let mut out = adts.clone();
    for def in &mut out.defs {
        for v in &mut def.variants {
            for f in &mut v.fields {
                f.ty = ir_ty(&f.ty);
            }
        }
    }
    out
}

/// Where `break` and `continue` of one loop go.
struct LoopTargets {
    break_bb: BlockId,
    continue_bb: BlockId,
    /// Receives `break` values (`loop` with a non-zero-sized type).
    result: Option<Local>,
    /// The number of drop scopes open outside the loop: `break`/`continue` drop the others.
    depth: usize,
}

/// A block under construction: its terminator is set exactly once.
struct PendingBlock {
    stmts: Vec<Stmt>,
    terminator: Option<Terminator>,
}

pub(crate) struct FnBuilder<'p> {
    program: &'p mut Program,
    /// Functions made by the builder itself: lifted closures and thunks.
    lifted: &'p mut closures::Lifted,
    hir: &'p hir::Program,
    /// The HIR locals of the function being lowered (closures share their enclosing
    /// function's table).
    hir_locals: &'p [hir::LocalInfo],
    locals: Vec<LocalDecl>,
    /// HIR local → IR local.
    local_map: Vec<Local>,
    blocks: Vec<PendingBlock>,
    current: BlockId,
    loops: HashMap<LoopId, LoopTargets>,
    /// One shared panic block per message, per function.
    panic_blocks: HashMap<String, BlockId>,
    /// Drop scopes, innermost last (`drops.rs`).
    scopes: Vec<drops::DropScope>,
    needs_drop_cache: HashMap<Ty, bool>,
    /// Bindings of the pattern being tested, assigned once the whole pattern matched
    /// (`matching.rs`).
    pending_bindings: Vec<matching::PendingBinding>,
    /// Set while binding the pattern of `for x in v` over a consumed vector: the element is
    /// moved out, so bindings of values holding `fn`s take its references rather than count
    /// new ones.
    bindings_move: bool,
    /// The scrutinee locals of the `match`es being lowered, innermost last.
    match_roots: Vec<Local>,
}

impl<'p> FnBuilder<'p> {
    /// A builder with no locals mapped and no blocks, for a function whose HIR locals are
    /// `hir_locals` (a program function, or a closure being lifted out of one).
    pub(crate) fn empty(
        program: &'p mut Program,
        lifted: &'p mut closures::Lifted,
        hir: &'p hir::Program,
        hir_locals: &'p [hir::LocalInfo],
    ) -> FnBuilder<'p> {
        FnBuilder {
            program,
            lifted,
            hir,
            hir_locals,
            locals: Vec::new(),
            local_map: Vec::new(),
            blocks: Vec::new(),
            current: BlockId(0),
            loops: HashMap::new(),
            panic_blocks: HashMap::new(),
            scopes: Vec::new(),
            needs_drop_cache: HashMap::new(),
            pending_bindings: Vec::new(),
            bindings_move: false,
            match_roots: Vec::new(),
        }
    }

    fn new(
        program: &'p mut Program,
        lifted: &'p mut closures::Lifted,
        hir: &'p hir::Program,
        f: &'p hir::FnDef,
    ) -> FnBuilder<'p> {
        let mut b = FnBuilder::empty(program, lifted, hir, &f.locals);
        for info in &f.locals {
            // A closure's locals belong to its lifted function.
            let l = if info.in_closure {
                closures::UNMAPPED
            } else {
                b.new_local(info.ty.clone(), Some(info.name.clone()))
            };
            b.local_map.push(l);
        }
        b.current = b.new_block();
        b
    }

    fn build(mut self, f: &hir::FnDef) -> Function {
        let symbol = self.symbol_for(f);
        self.push_scope(drops::ScopeKind::Block);
        for p in 0..f.param_count {
            let l = self.map_local(hir::LocalId(p));
            self.register_binding(l);
        }
        let value = self.lower_expr(&f.body);
        self.lower_return(value);
        self.finish(f.name.clone(), symbol, f.param_count, ir_ty(&f.ret), f.no_preempt)
    }

    /// The function built so far (its blocks all terminated).
    fn finish(self, name: String, symbol: String, param_count: u32, ret: Ty, no_preempt: bool) -> Function {
        let blocks = self
            .blocks
            .into_iter()
            .map(|b| BasicBlock { stmts: b.stmts, terminator: b.terminator.unwrap_or(Terminator::Unreachable) })
            .collect();
        Function { name, symbol, param_count, ret, locals: self.locals, blocks, no_preempt }
    }

    /// `blood.<path>`: cannot clash with C symbols; two nested functions with the same path (in
    /// sibling blocks) get the function index appended.
    fn symbol_for(&self, f: &hir::FnDef) -> String {
        let base = format!("blood.{}", f.name);
        let clash = self.program.functions.iter().any(|g| g.symbol == base);
        if clash { format!("{base}.{}", self.program.functions.len()) } else { base }
    }

    pub(crate) fn new_local(&mut self, ty: Ty, name: Option<String>) -> Local {
        self.locals.push(LocalDecl { ty: ir_ty(&ty), name });
        Local(self.locals.len() as u32 - 1)
    }

    /// A temporary; one owning heap storage is dropped at the end of the innermost scope.
    pub(crate) fn temp(&mut self, ty: Ty) -> Local {
        let t = self.new_local(ty, None);
        self.register_temp(t);
        t
    }

    /// `return v`: the value leaves every scope, which drop their locals.
    pub(crate) fn lower_return(&mut self, v: Operand) -> Operand {
        let (v, _) = self.move_out_of_scope(v);
        self.drop_scopes_from(0);
        self.diverge(Terminator::Return(v))
    }

    pub(crate) fn local_ty(&self, l: Local) -> &Ty {
        &self.locals[l.0 as usize].ty
    }

    pub(crate) fn map_local(&self, l: hir::LocalId) -> Local {
        self.local_map[l.0 as usize]
    }

    pub(crate) fn new_block(&mut self) -> BlockId {
        self.blocks.push(PendingBlock { stmts: Vec::new(), terminator: None });
        BlockId(self.blocks.len() as u32 - 1)
    }

    pub(crate) fn switch_to(&mut self, b: BlockId) {
        self.current = b;
    }

    pub(crate) fn push(&mut self, stmt: Stmt) {
        let block = &mut self.blocks[self.current.0 as usize];
        if block.terminator.is_none() {
            block.stmts.push(stmt);
        }
    }

    /// `dest = rvalue`; assignments to zero-sized locals are dropped unless the rvalue is a call
    /// (which must still happen).
    pub(crate) fn assign(&mut self, dest: Local, rvalue: Rvalue) {
        if self.local_ty(dest).is_zero_sized() && !matches!(rvalue, Rvalue::Call(..)) {
            return;
        }
        self.push(Stmt::Assign(dest, rvalue));
    }

    /// Evaluates `rvalue` into a new temporary of type `ty` and returns it as an operand.
    pub(crate) fn emit(&mut self, ty: Ty, rvalue: Rvalue) -> Operand {
        let t = self.temp(ty.clone());
        self.assign(t, rvalue);
        if ty.is_zero_sized() { Operand::Const(Const::Unit) } else { Operand::Local(t) }
    }

    /// Sets the current block's terminator (if it has none yet).
    pub(crate) fn terminate(&mut self, t: Terminator) {
        let block = &mut self.blocks[self.current.0 as usize];
        if block.terminator.is_none() {
            block.terminator = Some(t);
        }
    }

    /// Ends the current block with `t` and continues in a fresh, unreachable block.
    pub(crate) fn diverge(&mut self, t: Terminator) -> Operand {
        self.terminate(t);
        let dead = self.new_block();
        self.switch_to(dead);
        Operand::Const(Const::Unit)
    }

    pub(crate) fn goto(&mut self, target: BlockId) {
        self.terminate(Terminator::Goto(target));
    }

    pub(crate) fn str_const(&mut self, s: &str) -> Operand {
        Operand::Const(Const::Str(self.program.intern_str(s)))
    }

    pub(crate) fn i32_const(v: i32) -> Operand {
        Operand::Const(Const::Int { bits: IntTy::I32.truncate(v as i128 as u128), ty: IntTy::I32 })
    }

    /// Calls a runtime entry point for its effect.
    pub(crate) fn call_runtime(&mut self, f: blood_abi::RuntimeFn, args: Vec<Operand>) {
        let ret = if f.noreturn { Ty::Never } else { Ty::Unit };
        let t = self.temp(ret);
        self.push(Stmt::Assign(t, Rvalue::Call(Callee::Runtime(f), args)));
        if f.noreturn {
            self.diverge(Terminator::Unreachable);
        }
    }

    /// A block that panics with `message`, shared by every check of the function.
    pub(crate) fn panic_block(&mut self, message: &str) -> BlockId {
        if let Some(b) = self.panic_blocks.get(message) {
            return *b;
        }
        let saved = self.current;
        let b = self.new_block();
        self.switch_to(b);
        let msg = self.str_const(message);
        self.call_runtime(blood_abi::PANIC, vec![msg]);
        self.switch_to(saved);
        self.panic_blocks.insert(message.to_string(), b);
        b
    }
}
