//! Where closure environments live: in the frame when the closure provably does not outlive it,
//! on the heap otherwise.
//!
//! The IR builder allocates every environment on the heap (`FnValue { heap: true }`), which is
//! always correct. This whole-program pass moves an environment into the creating frame when the
//! `fn` value built by the `FnValue` is only ever
//! * called (`call *f(..)`),
//! * passed to a parameter of a program function that itself never lets that parameter escape,
//! * or copied into a local that is defined exactly once and whose own uses are of these kinds.
//!
//! Anything else (returned, stored into memory or an aggregate, captured by another closure,
//! passed to an unknown callee through a `fn` value, copied into a variable assigned more than
//! once) may let the value outlive the frame, so its environment stays on the heap. The "defined
//! once" rule matters for loops: a `FnValue` inside a loop reuses one stack slot, so a copy that
//! survives into the next iteration (a reassigned variable, a parameter reassigned in the body)
//! would see the next iteration's captures.
//!
//! Parameters are analysed together, as a greatest fixpoint: every `fn` parameter starts as
//! non-escaping and is marked escaping when one of its uses is not of the kinds above (recursion
//! through a non-escaping parameter is fine). Only values and parameters of type `fn` are
//! considered; environments hold only copies of plain data at this level, so the frame needs no
//! cleanup.

use std::collections::HashSet;

use crate::ir::{Callee, FuncId, Function, Local, Operand, Place, Program, Proj, Rvalue, Stmt, Terminator, Ty};

/// How one statement or terminator uses a local.
#[derive(Copy, Clone, Debug)]
enum Use {
    /// The callee of an indirect call.
    Callee,
    /// Argument `index` of a call of program function `func`.
    Arg(FuncId, usize),
    /// Copied (`Use`) into another local.
    CopyTo(Local),
    /// Anything else: assume the value escapes.
    Other,
}

/// Uses and definition counts of every local of one function.
struct Uses {
    uses: Vec<Vec<Use>>,
    /// Statements assigning the local, plus one for parameters (defined on entry).
    defs: Vec<u32>,
}

impl Uses {
    fn of(f: &Function) -> Uses {
        let n = f.locals.len();
        let mut u = Uses { uses: vec![Vec::new(); n], defs: vec![0; n] };
        for p in f.params() {
            u.defs[p.0 as usize] += 1;
        }
        for block in &f.blocks {
            for stmt in &block.stmts {
                match stmt {
                    Stmt::Assign(dest, rv) => {
                        u.defs[dest.0 as usize] += 1;
                        u.rvalue(*dest, rv);
                    }
                    Stmt::Store(place, op) => {
                        u.place(place);
                        u.operand(op, Use::Other);
                    }
                    Stmt::Drop(place) => u.place(place),
                    Stmt::Safepoint => {}
                }
            }
            match &block.terminator {
                Terminator::Branch { cond, .. } => u.operand(cond, Use::Other),
                Terminator::Return(op) => u.operand(op, Use::Other),
                Terminator::Goto(_) | Terminator::Unreachable => {}
            }
        }
        u
    }

    fn operand(&mut self, op: &Operand, how: Use) {
        if let Operand::Local(l) = op {
            self.uses[l.0 as usize].push(how);
        }
    }

    fn place(&mut self, p: &Place) {
        self.uses[p.base.0 as usize].push(Use::Other);
        for proj in &p.proj {
            if let Proj::Index(i) = proj {
                self.uses[i.0 as usize].push(Use::Other);
            }
        }
    }

    fn rvalue(&mut self, dest: Local, rv: &Rvalue) {
        match rv {
            Rvalue::Use(op) => self.operand(op, Use::CopyTo(dest)),
            Rvalue::Call(Callee::Indirect(callee), args) => {
                self.operand(callee, Use::Callee);
                args.iter().for_each(|a| self.operand(a, Use::Other));
            }
            Rvalue::Call(Callee::Fn(func), args) => {
                for (i, a) in args.iter().enumerate() {
                    self.operand(a, Use::Arg(*func, i));
                }
            }
            Rvalue::Binary(_, a, b) => {
                self.operand(a, Use::Other);
                self.operand(b, Use::Other);
            }
            Rvalue::Unary(_, a) | Rvalue::Cast(a, _) | Rvalue::Repeat(a, _) | Rvalue::Unsize(a) => {
                self.operand(a, Use::Other)
            }
            Rvalue::Call(Callee::Runtime(_), ops)
            | Rvalue::Intrinsic(_, ops)
            | Rvalue::Aggregate(_, ops)
            | Rvalue::FnValue { env: ops, .. } => ops.iter().for_each(|a| self.operand(a, Use::Other)),
            Rvalue::Load(p) | Rvalue::Ref(p, _) | Rvalue::Discriminant(p) | Rvalue::Len(p) => self.place(p),
            Rvalue::FnAddr(_) => {}
        }
    }

    /// Whether the `fn` value in `l` may outlive the frame.
    fn escapes(&self, l: Local, params: &[Vec<bool>], seen: &mut HashSet<Local>) -> bool {
        if !seen.insert(l) {
            return false;
        }
        self.uses[l.0 as usize].iter().any(|u| match *u {
            Use::Callee => false,
            Use::Arg(func, i) => params.get(func.0 as usize).and_then(|p| p.get(i)).copied().unwrap_or(true),
            Use::CopyTo(m) => self.defs[m.0 as usize] != 1 || self.escapes(m, params, seen),
            Use::Other => true,
        })
    }
}

/// Moves environments that cannot outlive their frame from the heap into the frame.
pub fn place_environments(program: &mut Program) {
    let uses: Vec<Uses> = program.functions.iter().map(Uses::of).collect();
    // params[f][i]: parameter `i` of function `f` may escape (only `fn` parameters can be
    // non-escaping).
    let mut params: Vec<Vec<bool>> =
        program.functions.iter().map(|f| f.params().map(|p| !matches!(f.local(p).ty, Ty::Fn(..))).collect()).collect();
    loop {
        let mut changed = false;
        for (fi, f) in program.functions.iter().enumerate() {
            for p in f.params() {
                let i = p.0 as usize;
                if !params[fi][i] && uses[fi].escapes(p, &params, &mut HashSet::new()) {
                    params[fi][i] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    for (f, u) in program.functions.iter_mut().zip(&uses) {
        for block in &mut f.blocks {
            for stmt in &mut block.stmts {
                if let Stmt::Assign(dest, Rvalue::FnValue { env, heap, .. }) = stmt
                    && *heap
                    && !env.is_empty()
                    && u.defs[dest.0 as usize] == 1
                    && !u.escapes(*dest, &params, &mut HashSet::new())
                {
                    *heap = false;
                }
            }
        }
    }
}
