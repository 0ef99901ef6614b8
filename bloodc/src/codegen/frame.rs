//! Where each local of a function lives, decided by one scan of its IR.
//!
//! * Scalars and pairs live in Cranelift variables (SSA values, registers) unless their own
//!   storage is borrowed: `&l`, `&mut l`, or a borrow of a path into `l` that does not go through
//!   a dereference. A borrowed local needs an address, so it gets a stack slot and every read and
//!   write of it is a load or a store.
//! * Aggregates always live in memory: a stack slot of this function, or — for a parameter the
//!   function never writes nor borrows mutably — the caller's memory, read in place (the calling
//!   convention in [`super::abi`]).
//!
//! The scan also records which locals are borrowed mutably: a caller copies such an aggregate to
//! a temporary before passing it, so the callee's read-only view cannot change during the call.

use crate::ir::{self, Local, Place, Proj, Rvalue, Stmt};

/// Facts about the locals of one function, indexed by local.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    /// The local's own storage is borrowed (its address is taken).
    pub(crate) borrowed: Vec<bool>,
    /// The local's own storage is borrowed mutably.
    pub(crate) borrowed_mut: Vec<bool>,
    /// The local's own storage is written: assigned, or stored into through a projection.
    pub(crate) written: Vec<bool>,
    /// The local is an aggregate.
    aggregate: Vec<bool>,
    param_count: usize,
}

impl Frame {
    pub(crate) fn analyze(func: &ir::Function) -> Frame {
        let n = func.locals.len();
        let mut frame = Frame {
            borrowed: vec![false; n],
            borrowed_mut: vec![false; n],
            written: vec![false; n],
            aggregate: func.locals.iter().map(|d| d.ty.is_aggregate()).collect(),
            param_count: func.param_count as usize,
        };
        for stmt in func.blocks.iter().flat_map(|b| &b.stmts) {
            match stmt {
                Stmt::Assign(l, rv) => {
                    mark(&mut frame.written, *l);
                    if let Rvalue::Ref(place, mutable) = rv
                        && let Some(base) = own_storage(place)
                    {
                        mark(&mut frame.borrowed, base);
                        if *mutable {
                            mark(&mut frame.borrowed_mut, base);
                        }
                    }
                }
                Stmt::Store(place, _) => {
                    if let Some(base) = own_storage(place) {
                        mark(&mut frame.written, base);
                    }
                }
                Stmt::Safepoint | Stmt::Drop(_) => {}
            }
        }
        frame
    }

    /// The local lives in memory (a stack slot or, for [`Self::param_in_place`], the caller's).
    pub(crate) fn in_memory(&self, l: Local) -> bool {
        let i = l.0 as usize;
        self.aggregate.get(i).copied().unwrap_or(false) || self.borrowed.get(i).copied().unwrap_or(false)
    }

    /// An aggregate parameter read in place from the caller's memory (never copied).
    pub(crate) fn param_in_place(&self, l: Local) -> bool {
        let i = l.0 as usize;
        i < self.param_count && self.aggregate[i] && !self.written[i] && !self.borrowed_mut[i]
    }
}

fn mark(flags: &mut [bool], l: Local) {
    if let Some(x) = flags.get_mut(l.0 as usize) {
        *x = true;
    }
}

/// The local whose own storage a place designates, if the path to it does not dereference a
/// pointer (`l`, `l.0`, `l[i].x`, but not `(*l).x`).
pub(crate) fn own_storage(place: &Place) -> Option<Local> {
    (!place.proj.iter().any(|p| matches!(p, Proj::Deref))).then_some(place.base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BasicBlock, Const, Function, LocalDecl, Operand, Terminator};
    use crate::types::{IntTy, Ty};

    #[test]
    fn borrows_and_writes_through_places() {
        let i64t = Ty::Int(IntTy::I64);
        let pair = Ty::Tuple(vec![i64t.clone(), i64t.clone()].into());
        let r = Ty::reference(i64t.clone(), true);
        let locals = [pair.clone(), pair.clone(), i64t.clone(), r.clone(), r.clone(), Ty::reference(pair, false)];
        let stmts = vec![
            // _3 = &mut _2; _4 = &mut (*_3); _5 = &_1; (*_3) = 1; _0.0 = 2
            Stmt::Assign(Local(3), Rvalue::Ref(Place::local(Local(2)), true)),
            Stmt::Assign(Local(4), Rvalue::Ref(Place::local(Local(3)).project(Proj::Deref), true)),
            Stmt::Assign(Local(5), Rvalue::Ref(Place::local(Local(1)), false)),
            Stmt::Store(Place::local(Local(3)).project(Proj::Deref), Operand::Const(Const::Unit)),
            Stmt::Store(Place::local(Local(0)).project(Proj::Field(0)), Operand::Const(Const::Unit)),
        ];
        let f = Function {
            name: "f".into(),
            symbol: "f".into(),
            param_count: 2,
            ret: Ty::Unit,
            locals: locals.into_iter().map(|ty| LocalDecl { ty, name: None }).collect(),
            blocks: vec![BasicBlock { stmts, terminator: Terminator::Return(Operand::Const(Const::Unit)) }],
            no_preempt: false,
        };
        let frame = Frame::analyze(&f);
        assert!(frame.in_memory(Local(0)) && frame.in_memory(Local(1)) && frame.in_memory(Local(2)));
        assert!(!frame.in_memory(Local(3)), "a dereference borrows the pointee, not the pointer");
        assert!(!frame.param_in_place(Local(0)), "written through a field");
        assert!(frame.param_in_place(Local(1)), "only borrowed immutably");
        assert!(frame.borrowed_mut[2] && !frame.borrowed_mut[1] && frame.written[0] && !frame.written[1]);
    }
}
