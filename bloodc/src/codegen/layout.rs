//! Block layout hints computed from the IR's control-flow graph.
//!
//! Cranelift lowers blocks in a reverse postorder of the CFG. For `brif c, first, second`, its
//! depth-first search explores `first` before `second`, so `second` ends up right after the
//! branch (the fall-through) and `first` — with everything only it reaches — later. For a loop
//! header `while c { body }` lowered as `brif c, body, exit`, that puts the code *after* the loop
//! between the header and the body: every iteration then takes two jumps instead of one.
//!
//! So for each two-way branch we find the successor that stays inside the innermost natural loop
//! containing the branch while the other leaves it, and emit the branch with that successor
//! second (negating the condition). Blocks ending in `Unreachable` (panic paths: the call before
//! them never returns) are marked cold and placed at the end of the function, and so are blocks
//! that only check for preemption and jump: `insert_safepoints` makes those on edges that skip
//! an inner loop (`ir/passes/safepoints.rs`), which it guesses are rare, and one in the middle
//! of the loop would split its hot code (fib ran 10% slower with it between its inner loop and
//! the exit).

use crate::ir::{self, Stmt, Terminator};

/// Per-block layout decisions for one function.
pub(crate) struct LayoutHints {
    /// The block ends a path that never returns (a panic): lay it out at the end.
    pub(crate) cold: Vec<bool>,
    /// The block's `Branch` should be emitted as `brif !cond, else, then` because `then` is the
    /// loop-continuing (hot) successor.
    pub(crate) swap_branch: Vec<bool>,
}

pub(crate) fn analyze(func: &ir::Function) -> LayoutHints {
    let n = func.blocks.len();
    let succs: Vec<Vec<usize>> = func
        .blocks
        .iter()
        .map(|b| b.terminator.successors().iter().map(|s| s.0 as usize).filter(|&s| s < n).collect())
        .collect();
    let mut preds = vec![Vec::new(); n];
    for (b, ss) in succs.iter().enumerate() {
        for &s in ss {
            preds[s].push(b);
        }
    }
    let loops = natural_loops(&succs, &preds);

    let cold = func
        .blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            // A loop's latch that only checks (its back-edge check) is as hot as the loop.
            let edge_check = match b.terminator {
                Terminator::Goto(to) => {
                    let to = to.0 as usize;
                    let latch = loops.iter().any(|l| l.header == to && l.members[i]);
                    i != 0 && matches!(b.stmts[..], [Stmt::Safepoint]) && !latch
                }
                _ => false,
            };
            edge_check || matches!(b.terminator, Terminator::Unreachable)
        })
        .collect();
    let mut swap_branch = vec![false; n];
    for (b, block) in func.blocks.iter().enumerate() {
        let Terminator::Branch { then_bb, else_bb, .. } = &block.terminator else { continue };
        let (t, e) = (then_bb.0 as usize, else_bb.0 as usize);
        if t >= n || e >= n || t == e {
            continue;
        }
        // The innermost loop containing `b` that `t` and `e` disagree on decides.
        let innermost = loops.iter().filter(|l| l.members[b] && l.members[t] != l.members[e]).min_by_key(|l| l.size);
        if let Some(l) = innermost {
            swap_branch[b] = l.members[t];
        }
    }
    LayoutHints { cold, swap_branch }
}

struct NaturalLoop {
    header: usize,
    members: Vec<bool>,
    size: usize,
}

/// The natural loop of every back edge (found by an iterative depth-first search from block 0).
fn natural_loops(succs: &[Vec<usize>], preds: &[Vec<usize>]) -> Vec<NaturalLoop> {
    let n = succs.len();
    if n == 0 {
        return Vec::new();
    }
    // 0 = unvisited, 1 = on the DFS stack, 2 = finished.
    let mut state = vec![0u8; n];
    let mut back_edges = Vec::new();
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    state[0] = 1;
    while let Some(&mut (b, ref mut next)) = stack.last_mut() {
        if let Some(&s) = succs[b].get(*next) {
            *next += 1;
            match state[s] {
                0 => {
                    state[s] = 1;
                    stack.push((s, 0));
                }
                1 => back_edges.push((b, s)),
                _ => {}
            }
        } else {
            state[b] = 2;
            stack.pop();
        }
    }
    back_edges
        .into_iter()
        .map(|(latch, header)| {
            let mut members = vec![false; n];
            members[header] = true;
            let mut size = 1;
            let mut work = vec![latch];
            while let Some(x) = work.pop() {
                if !members[x] {
                    members[x] = true;
                    size += 1;
                    work.extend(&preds[x]);
                }
            }
            NaturalLoop { header, members, size }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BasicBlock, BlockId, Const, Function, Operand};
    use crate::types::Ty;

    fn func(terms: Vec<Terminator>) -> Function {
        Function {
            name: "f".into(),
            symbol: "f".into(),
            param_count: 0,
            ret: Ty::Unit,
            locals: vec![],
            blocks: terms.into_iter().map(|terminator| BasicBlock { stmts: vec![], terminator }).collect(),
            no_preempt: false,
        }
    }

    fn branch(then_bb: u32, else_bb: u32) -> Terminator {
        Terminator::Branch {
            cond: Operand::Const(Const::Bool(true)),
            then_bb: BlockId(then_bb),
            else_bb: BlockId(else_bb),
        }
    }

    #[test]
    fn while_loop_header_keeps_the_body_next() {
        // bb0 → bb1 (header: body bb2, exit bb3); bb2 → bb1.
        let f = func(vec![
            Terminator::Goto(BlockId(1)),
            branch(2, 3),
            Terminator::Goto(BlockId(1)),
            Terminator::Return(Operand::Const(Const::Unit)),
        ]);
        let h = analyze(&f);
        assert_eq!(h.swap_branch, vec![false, true, false, false]);
        assert!(h.cold.iter().all(|c| !c));
    }

    #[test]
    fn exit_test_at_the_bottom_is_left_alone_and_panics_are_cold() {
        // bb0 → bb1 (body: continue to bb1 is `else`, exit bb2 is `then`); bb3 panics.
        let f = func(vec![
            branch(1, 3),
            branch(2, 1),
            Terminator::Return(Operand::Const(Const::Unit)),
            Terminator::Unreachable,
        ]);
        let h = analyze(&f);
        assert_eq!(h.swap_branch, vec![false, false, false, false]);
        assert_eq!(h.cold, vec![false, false, false, true]);
    }

    #[test]
    fn an_edge_check_is_cold_and_a_latch_that_only_checks_is_not() {
        // bb0 → bb1 (header: bb2 or the edge check bb4); bb2 → bb3 (the latch, a lone check)
        // → bb1; bb4 → bb3.
        let mut f = func(vec![
            Terminator::Goto(BlockId(1)),
            branch(2, 4),
            Terminator::Goto(BlockId(3)),
            Terminator::Goto(BlockId(1)),
            Terminator::Goto(BlockId(3)),
        ]);
        f.blocks[3].stmts.push(Stmt::Safepoint);
        f.blocks[4].stmts.push(Stmt::Safepoint);
        assert_eq!(analyze(&f).cold, vec![false, false, false, false, true]);
    }
}
