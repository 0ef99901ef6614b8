//! Small IR functions built by hand for the passes' unit tests.

use crate::ir::{
    BasicBlock, BinOp, BlockId, Callee, Const, FuncId, Function, IntTy, Local, LocalDecl, Operand, Rvalue, Stmt,
    Terminator, Ty,
};

pub(super) fn int(v: u128) -> Operand {
    Operand::Const(Const::Int { bits: v, ty: IntTy::I64 })
}

pub(super) fn local(l: u32) -> Operand {
    Operand::Local(Local(l))
}

pub(super) fn assign(l: u32, rvalue: Rvalue) -> Stmt {
    Stmt::Assign(Local(l), rvalue)
}

pub(super) fn block(stmts: Vec<Stmt>, terminator: Terminator) -> BasicBlock {
    BasicBlock { stmts, terminator }
}

pub(super) fn branch(cond: u32, then_bb: u32, else_bb: u32) -> Terminator {
    Terminator::Branch { cond: local(cond), then_bb: BlockId(then_bb), else_bb: BlockId(else_bb) }
}

/// A function `f` of one `i64` parameter returning `i64`, with `bools` (locals 1..) of type
/// `bool` and the rest of its `count` locals `i64`.
pub(super) fn function(count: u32, bools: &[u32], blocks: Vec<BasicBlock>) -> Function {
    let locals = (0..count)
        .map(|l| LocalDecl { ty: if bools.contains(&l) { Ty::Bool } else { Ty::Int(IntTy::I64) }, name: None })
        .collect();
    Function {
        name: "f".into(),
        symbol: "blood.f".into(),
        param_count: 1,
        ret: Ty::Int(IntTy::I64),
        locals,
        blocks,
        no_preempt: false,
    }
}

/// `fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }` as the builder lowers it,
/// as function 0 of its program.
pub(super) fn fib() -> Function {
    let call = |arg: u32| Rvalue::Call(Callee::Fn(FuncId(0)), vec![local(arg)]);
    function(
        8,
        &[1],
        vec![
            block(vec![assign(1, Rvalue::Binary(BinOp::Lt, local(0), int(2)))], branch(1, 1, 2)),
            block(vec![assign(2, Rvalue::Use(local(0)))], Terminator::Return(local(2))),
            block(
                vec![
                    assign(3, Rvalue::Binary(BinOp::Sub, local(0), int(1))),
                    assign(4, call(3)),
                    assign(5, Rvalue::Binary(BinOp::Sub, local(0), int(2))),
                    assign(6, call(5)),
                    assign(7, Rvalue::Binary(BinOp::Add, local(4), local(6))),
                ],
                Terminator::Return(local(7)),
            ),
        ],
    )
}

/// Calls of function 0 in `f`.
pub(super) fn self_calls(f: &Function) -> usize {
    f.blocks
        .iter()
        .flat_map(|b| &b.stmts)
        .filter(|s| matches!(s, Stmt::Assign(_, Rvalue::Call(Callee::Fn(FuncId(0)), _))))
        .count()
}

/// The blocks holding a safepoint.
pub(super) fn checked_blocks(f: &Function) -> Vec<usize> {
    (0..f.blocks.len()).filter(|&b| f.blocks[b].stmts.iter().any(|s| matches!(s, Stmt::Safepoint))).collect()
}
