//! If-conversion of small "triangles" into selects (at `O2`).
//!
//! ```text
//! B: ... branch c, T, J        B: ... old = x; <T's statements>; x = select(c, x, old); goto J
//! T: x = x + 1; goto J    →
//! ```
//!
//! A branch on data that does not follow a pattern (`if x >> 61 == 3 { hits += 1 }` in a hash or
//! random-number loop) mispredicts often and costs ~15 cycles each time; C compilers turn such
//! short conditional updates into `cmov`/`setcc`, and so do we: when the side block `T` has `B`
//! as its only predecessor, falls through to the join `J`, and does at most
//! [`MAX_SIDE_STMTS`] cheap, non-trapping integer/bool operations, `B` computes them
//! unconditionally and selects the results. Cranelift does not if-convert by itself.
//!
//! Memory is never touched speculatively: the side block may not store through a place, load,
//! or read or assign a local that lives in memory (an aggregate or a borrowed scalar).

use super::frame::Frame;
use crate::ir::{self, BinOp, Local, Operand, Rvalue, Stmt, Terminator};
use crate::types::Ty;

/// Side blocks with more statements stay branches.
const MAX_SIDE_STMTS: usize = 3;

/// A branch that can be lowered as selects.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Triangle {
    /// The side block whose statements are executed unconditionally.
    pub(crate) side: usize,
    /// The side block is the branch's `then` (else its `else`).
    pub(crate) side_is_then: bool,
    /// Where both paths continue.
    pub(crate) join: usize,
}

/// For each block, the triangle its branch forms, if it can be if-converted.
pub(crate) fn find_triangles(func: &ir::Function, frame: &Frame) -> Vec<Option<Triangle>> {
    let n = func.blocks.len();
    let mut pred_count = vec![0usize; n];
    for b in &func.blocks {
        for s in b.terminator.successors() {
            if let Some(c) = pred_count.get_mut(s.0 as usize) {
                *c += 1;
            }
        }
    }
    func.blocks
        .iter()
        .enumerate()
        .map(|(b, block)| {
            let Terminator::Branch { then_bb, else_bb, .. } = &block.terminator else { return None };
            let (t, e) = (then_bb.0 as usize, else_bb.0 as usize);
            [(t, e, true), (e, t, false)].into_iter().find_map(|(side, join, side_is_then)| {
                let ok = side < n
                    && side != b
                    && side != join
                    && pred_count[side] == 1
                    && matches!(func.blocks[side].terminator, Terminator::Goto(j) if j.0 as usize == join)
                    && is_cheap(func, frame, &func.blocks[side].stmts);
                ok.then_some(Triangle { side, side_is_then, join })
            })
        })
        .collect()
}

/// Statements that may run speculatively: a few pure, non-trapping operations on integers and
/// bools held in registers, assigning integer or bool locals held in registers.
fn is_cheap(func: &ir::Function, frame: &Frame, stmts: &[Stmt]) -> bool {
    let scalar = |ty: &Ty| matches!(ty, Ty::Int(_) | Ty::Bool);
    let register = |l: &Local| !frame.in_memory(*l) && func.locals.get(l.0 as usize).is_some_and(|d| scalar(&d.ty));
    let operand_ok = |op: &Operand| match op {
        Operand::Local(l) => register(l),
        Operand::Const(c) => matches!(c, ir::Const::Int { .. } | ir::Const::Bool(_)),
    };
    !stmts.is_empty()
        && stmts.len() <= MAX_SIDE_STMTS
        && stmts.iter().all(|s| match s {
            Stmt::Assign(dst, rv) => {
                register(dst)
                    && match rv {
                        Rvalue::Use(a) | Rvalue::Unary(_, a) => operand_ok(a),
                        Rvalue::Cast(a, to) => operand_ok(a) && scalar(to),
                        Rvalue::Binary(op, a, b) => {
                            !matches!(op, BinOp::Div | BinOp::Rem) && operand_ok(a) && operand_ok(b)
                        }
                        _ => false,
                    }
            }
            Stmt::Store(..) | Stmt::Safepoint | Stmt::Drop(_) => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BasicBlock, BlockId, Const, Local, LocalDecl};
    use crate::types::IntTy;

    fn func(blocks: Vec<BasicBlock>) -> ir::Function {
        ir::Function {
            name: "f".into(),
            symbol: "f".into(),
            param_count: 1,
            ret: Ty::Unit,
            locals: vec![LocalDecl { ty: Ty::Int(IntTy::U64), name: None }, LocalDecl { ty: Ty::Bool, name: None }],
            blocks,
            no_preempt: false,
        }
    }

    fn incr() -> Stmt {
        let one = Operand::Const(Const::Int { bits: 1, ty: IntTy::U64 });
        Stmt::Assign(Local(0), Rvalue::Binary(BinOp::Add, Operand::Local(Local(0)), one))
    }

    fn branch(t: u32, e: u32) -> Terminator {
        Terminator::Branch { cond: Operand::Local(Local(1)), then_bb: BlockId(t), else_bb: BlockId(e) }
    }

    #[test]
    fn a_conditional_increment_is_a_triangle() {
        let f = func(vec![
            BasicBlock { stmts: vec![], terminator: branch(1, 2) },
            BasicBlock { stmts: vec![incr()], terminator: Terminator::Goto(BlockId(2)) },
            BasicBlock { stmts: vec![], terminator: Terminator::Return(Operand::Const(Const::Unit)) },
        ]);
        let t = find_triangles(&f, &Frame::analyze(&f));
        assert_eq!(t[0], Some(Triangle { side: 1, side_is_then: true, join: 2 }));
        assert_eq!(t[1..], [None, None]);
    }

    #[test]
    fn divisions_safepoints_and_shared_blocks_stay_branches() {
        let div = Stmt::Assign(
            Local(0),
            Rvalue::Binary(
                BinOp::Div,
                Operand::Local(Local(0)),
                Operand::Const(Const::Int { bits: 3, ty: IntTy::U64 }),
            ),
        );
        for side in [vec![div], vec![incr(), Stmt::Safepoint], vec![incr(); 4]] {
            let f = func(vec![
                BasicBlock { stmts: vec![], terminator: branch(1, 2) },
                BasicBlock { stmts: side, terminator: Terminator::Goto(BlockId(2)) },
                BasicBlock { stmts: vec![], terminator: Terminator::Return(Operand::Const(Const::Unit)) },
            ]);
            assert_eq!(find_triangles(&f, &Frame::analyze(&f))[0], None);
        }
        // The side block has a second predecessor.
        let f = func(vec![
            BasicBlock { stmts: vec![], terminator: branch(1, 2) },
            BasicBlock { stmts: vec![incr()], terminator: Terminator::Goto(BlockId(2)) },
            BasicBlock { stmts: vec![], terminator: branch(1, 3) },
            BasicBlock { stmts: vec![], terminator: Terminator::Return(Operand::Const(Const::Unit)) },
        ]);
        assert_eq!(find_triangles(&f, &Frame::analyze(&f))[0], None);
    }

    #[test]
    fn locals_in_memory_stay_branches() {
        // The counter is borrowed elsewhere, so it lives in a stack slot.
        let mut f = func(vec![
            BasicBlock { stmts: vec![], terminator: branch(1, 2) },
            BasicBlock { stmts: vec![incr()], terminator: Terminator::Goto(BlockId(2)) },
            BasicBlock { stmts: vec![], terminator: Terminator::Return(Operand::Const(Const::Unit)) },
        ]);
        assert!(find_triangles(&f, &Frame::analyze(&f))[0].is_some());
        f.locals.push(LocalDecl { ty: Ty::reference(Ty::Int(IntTy::U64), false), name: None });
        let borrow = Stmt::Assign(Local(2), Rvalue::Ref(ir::Place::local(Local(0)), false));
        f.blocks[2].stmts.push(borrow);
        assert_eq!(find_triangles(&f, &Frame::analyze(&f))[0], None);
    }
}
