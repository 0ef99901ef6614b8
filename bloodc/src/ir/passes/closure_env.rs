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
//! considered. Copies of a `fn` value are counted (`r = &f; g = fn_retain(r)`, a copy into `g`)
//! and released (`r = &f; fn_release(r)`, no use); a frame environment's count never reaches
//! zero, so it is never freed, and it is only chosen when every captured value is plain data
//! (nothing for the environment to drop).

use std::collections::HashSet;

use crate::ir::{
    AdtTable, Callee, FuncId, Function, HeapIntrinsic, Intrinsic, Local, LocalDecl, Operand, Place, Program, Proj,
    Rvalue, Stmt, Terminator, Ty,
};

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
    /// `ref_of[r] = Some(l)`: `r` is a reference to the whole `fn` local `l`, as the drop and
    /// clone glue take (`r = &l; fn_release(r)` / `d = fn_retain(r)`).
    ref_of: Vec<Option<Local>>,
}

impl Uses {
    fn of(f: &Function) -> Uses {
        let n = f.locals.len();
        let mut ref_of = vec![None; n];
        for stmt in f.blocks.iter().flat_map(|b| &b.stmts) {
            if let Stmt::Assign(r, Rvalue::Ref(p, _)) = stmt
                && p.proj.is_empty()
                && matches!(f.local(p.base).ty, Ty::Fn(..))
            {
                ref_of[r.0 as usize] = Some(p.base);
            }
        }
        let mut u = Uses { uses: vec![Vec::new(); n], defs: vec![0; n], ref_of };
        for p in f.params() {
            u.defs[p.0 as usize] += 1;
        }
        for block in &f.blocks {
            for stmt in &block.stmts {
                match stmt {
                    Stmt::Assign(dest, rv) => {
                        u.defs[dest.0 as usize] += 1;
                        u.rvalue(f, *dest, rv);
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
            // Any other use of a reference to a `fn` local may let the value escape.
            if let Some(target) = self.ref_of[l.0 as usize] {
                self.uses[target.0 as usize].push(Use::Other);
            }
        }
    }

    /// A use of `op` (a `fn` local or a reference to one) by the counting intrinsics: releasing
    /// it uses nothing, retaining it is a copy into `dest`.
    fn counted(&mut self, f: &Function, h: HeapIntrinsic, dest: Local, op: &Operand) {
        let Operand::Local(r) = op else { return };
        let target = match self.ref_of[r.0 as usize] {
            Some(target) => Some(target),
            None if matches!(f.local(*r).ty, Ty::Fn(..)) => Some(*r),
            None => None,
        };
        if let Some(target) = target {
            if h == HeapIntrinsic::FnRetain {
                self.uses[target.0 as usize].push(Use::CopyTo(dest));
            }
            return;
        }
        self.operand(op, Use::Other);
    }

    fn place(&mut self, p: &Place) {
        self.uses[p.base.0 as usize].push(Use::Other);
        for proj in &p.proj {
            if let Proj::Index(i) = proj {
                self.uses[i.0 as usize].push(Use::Other);
            }
        }
    }

    fn rvalue(&mut self, f: &Function, dest: Local, rv: &Rvalue) {
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
            Rvalue::Intrinsic(Intrinsic::Heap(h @ (HeapIntrinsic::FnRetain | HeapIntrinsic::FnRelease)), ops) => {
                ops.iter().for_each(|a| self.counted(f, *h, dest, a))
            }
            Rvalue::Ref(p, _) if self.ref_of[dest.0 as usize].is_some() && p.proj.is_empty() => {}
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
    let adts = program.adts.clone();
    for (f, u) in program.functions.iter_mut().zip(&uses) {
        for block in &mut f.blocks {
            for stmt in &mut block.stmts {
                if let Stmt::Assign(dest, Rvalue::FnValue { env, heap, .. }) = stmt
                    && *heap
                    && !env.is_empty()
                    && env.iter().all(|o| !holds_references(&f.locals, &adts, o))
                    && u.defs[dest.0 as usize] == 1
                    && !u.escapes(*dest, &params, &mut HashSet::new())
                {
                    *heap = false;
                }
            }
        }
    }
}

/// Whether a captured value needs dropping: a frame environment is never released (its count
/// starts at `FRAME_ENV_COUNT`), so it may only hold plain data.
fn holds_references(locals: &[LocalDecl], adts: &AdtTable, op: &Operand) -> bool {
    matches!(op, Operand::Local(l) if locals[l.0 as usize].ty.needs_drop(adts))
}
