//! Unrolling of small call-free innermost loops (at `-O2`, after `insert_safepoints`), so that
//! their preemption check runs once every [`UNROLL`] iterations instead of every iteration.
//!
//! A loop whose body makes no call must poll at its back-edge (DESIGN.md §3), and when that
//! body is a store or a load (a sieve's marking loop, a fill, a sum), the check (load the flag,
//! test, branch) is as much work as the body: the sieve ran 12–18% slower than with
//! `--no-preempt`. HotSpot strip-mines counted loops for the same reason. Here the loop's blocks
//! are copied `UNROLL - 1` times and chained, copy `k`'s back-edge entering copy `k + 1`, and
//! only the last copy's back-edge keeps the check. Each copy keeps every test of the original
//! (the loop may leave from any copy), so every execution runs the same statements in the same
//! order as before; only the checks are fewer. Preemption latency stays bounded: at most
//! `UNROLL` iterations of a body with no calls and no inner loop run between two checks.
//!
//! The same loops are unrolled with `--no-preempt` and in `#[unchecked(preemption)]` functions
//! (where they have no check): unrolling alone made the sieve about 15% faster (fewer taken
//! branches), and `--no-preempt` must measure what the checks cost, not what unrolling gains.
//!
//! Only innermost loops with one back-edge are unrolled, and only when small ([`MAX_BLOCKS`],
//! [`MAX_STMTS`]), a single path around (every block has at most one successor inside the loop:
//! tests, bounds checks and `break`s leave it, but no `if` branches within it), and made of
//! plain statements: no calls, no closures (the `closure_env` pass places environments per
//! construction site), no heap operations, no drops. Branches inside the body multiply in the
//! copies, and the one such loop measured unrolled, mandelbrot's `while i < 50 && tr + ti <=
//! 4.0`, ran 19% slower (Cranelift's e-graph recomputed each copy's arithmetic for the next
//! copy's test). The copies are appended after the function's other blocks.

use super::super::{BasicBlock, BlockId, Function, Intrinsic, Rvalue, Stmt, Terminator};

/// Copies of the loop body per check.
pub const UNROLL: usize = 4;
/// Largest loop unrolled, in blocks and in statements (before unrolling).
const MAX_BLOCKS: usize = 8;
const MAX_STMTS: usize = 32;

/// Unrolls every eligible loop of `f` (see the module header).
pub fn unroll_small_loops(f: &mut Function) {
    let edges = back_edges(f);
    for &(latch, header) in &edges {
        if edges.iter().filter(|&&(_, h)| h == header).count() != 1 {
            continue;
        }
        let polled = matches!(f.blocks[latch].stmts.last(), Some(Stmt::Safepoint));
        let body = natural_loop(f, header, latch);
        // Innermost: no other loop's back-edge starts or ends inside this one.
        let nested = edges.iter().any(|&(s, h)| (s, h) != (latch, header) && (body.contains(&s) || body.contains(&h)));
        let stmts: usize = body.iter().map(|&b| f.blocks[b].stmts.len()).sum();
        if nested || body.len() > MAX_BLOCKS || stmts > MAX_STMTS {
            continue;
        }
        // One path around the loop: every block has at most one successor inside it (the
        // others leave the loop: its test, bounds checks, `break`s). See the module header.
        let single_path = body.iter().all(|&b| {
            f.blocks[b].terminator.successors().iter().filter(|s| body.contains(&(s.0 as usize))).count() <= 1
        });
        if !single_path {
            continue;
        }
        let plain = body.iter().all(|&b| {
            let stmts = &f.blocks[b].stmts;
            // The latch's own check, if any, is its last statement.
            let checked = if b == latch && polled { stmts.len() - 1 } else { stmts.len() };
            stmts[..checked].iter().all(is_plain)
        });
        if plain {
            unroll(f, &body, header, latch, polled);
        }
    }
}

/// Statements that may be duplicated freely: everything but calls, closures, heap operations,
/// drops and checks (see the module header).
pub(super) fn is_plain(s: &Stmt) -> bool {
    match s {
        Stmt::Safepoint | Stmt::Drop(_) => false,
        Stmt::Store(..) => true,
        Stmt::Assign(_, rv) => !matches!(
            rv,
            Rvalue::Call(..)
                | Rvalue::FnValue { .. }
                | Rvalue::Intrinsic(Intrinsic::Heap(_) | Intrinsic::ToWord | Intrinsic::FromWord, _)
        ),
    }
}

/// Appends `UNROLL - 1` copies of the loop `body` (header `header`, single back-edge from
/// `latch`), chains the copies' back-edges, and, if the loop is `polled` (its latch ends with a
/// safepoint), keeps the safepoint in the last copy only.
fn unroll(f: &mut Function, body: &[usize], header: usize, latch: usize, polled: bool) {
    let base = f.blocks.len();
    // Copy k (1-based) of body[i] is block base + (k - 1) * body.len() + i; copy 0 is the loop.
    let id_in_copy = |k: usize, b: usize| -> BlockId {
        if k == 0 {
            return BlockId(b as u32);
        }
        let i = body.iter().position(|&x| x == b).expect("a block of the loop");
        BlockId((base + (k - 1) * body.len() + i) as u32)
    };
    let originals: Vec<BasicBlock> = body.iter().map(|&b| f.blocks[b].clone()).collect();
    for k in 0..UNROLL {
        for (i, &b) in body.iter().enumerate() {
            let mut block = originals[i].clone();
            if polled && b == latch && k + 1 < UNROLL {
                block.stmts.pop(); // the safepoint
            }
            retarget_in_copy(&mut block.terminator, |t| {
                let t = t.0 as usize;
                if b == latch && t == header {
                    id_in_copy((k + 1) % UNROLL, header)
                } else if body.contains(&t) {
                    id_in_copy(k, t)
                } else {
                    BlockId(t as u32)
                }
            });
            if k == 0 {
                f.blocks[b] = block;
            } else {
                debug_assert_eq!(f.blocks.len(), id_in_copy(k, b).0 as usize);
                f.blocks.push(block);
            }
        }
    }
}

fn retarget_in_copy(t: &mut Terminator, map: impl Fn(BlockId) -> BlockId) {
    match t {
        Terminator::Goto(b) => *b = map(*b),
        Terminator::Branch { then_bb, else_bb, .. } => {
            *then_bb = map(*then_bb);
            *else_bb = map(*else_bb);
        }
        Terminator::Return(_) | Terminator::Unreachable => {}
    }
}

/// The blocks of the natural loop of the back-edge `latch → header`: the header, and every
/// block that reaches `latch` without passing through the header. Sorted.
fn natural_loop(f: &Function, header: usize, latch: usize) -> Vec<usize> {
    let body = loop_body(&predecessors(f), header, latch);
    (0..f.blocks.len()).filter(|&b| body[b]).collect()
}

/// The predecessors of each block.
pub(super) fn predecessors(f: &Function) -> Vec<Vec<usize>> {
    let mut preds = vec![Vec::new(); f.blocks.len()];
    for (b, block) in f.blocks.iter().enumerate() {
        for s in block.terminator.successors() {
            preds[s.0 as usize].push(b);
        }
    }
    preds
}

/// [`natural_loop`] as a membership map, from the predecessors of each block.
pub(super) fn loop_body(preds: &[Vec<usize>], header: usize, latch: usize) -> Vec<bool> {
    let mut body = vec![false; preds.len()];
    body[header] = true;
    let mut work = vec![latch];
    while let Some(b) = work.pop() {
        if !std::mem::replace(&mut body[b], true) {
            work.extend(preds[b].iter().copied());
        }
    }
    body
}

/// Loop back-edges `(source, header)`: edges to a block on the depth-first search stack (all
/// back-edges of the reducible CFGs the builder produces).
pub(super) fn back_edges(f: &Function) -> Vec<(usize, usize)> {
    let mut on_stack = vec![false; f.blocks.len()];
    let mut visited = vec![false; f.blocks.len()];
    let mut edges = Vec::new();
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    visited[0] = true;
    on_stack[0] = true;
    while let Some(&mut (block, ref mut next)) = stack.last_mut() {
        let succs = f.blocks[block].terminator.successors();
        if let Some(s) = succs.get(*next) {
            *next += 1;
            let s = s.0 as usize;
            if on_stack[s] {
                if !edges.contains(&(block, s)) {
                    edges.push((block, s));
                }
            } else if !visited[s] {
                visited[s] = true;
                on_stack[s] = true;
                stack.push((s, 0));
            }
        } else {
            on_stack[block] = false;
            stack.pop();
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{BinOp, Callee, Const, IntTy, Local, LocalDecl, Operand, Ty};

    fn int(v: u128) -> Operand {
        Operand::Const(Const::Int { bits: v, ty: IntTy::I64 })
    }

    /// `i = 0; while i < n { i = i + 1 }` (the check inserted by `insert_safepoints`), with
    /// `extra` appended to the body.
    fn counting_loop(extra: Vec<Stmt>) -> Function {
        let i = Local(1);
        let c = Local(2);
        let mut body = vec![Stmt::Assign(i, Rvalue::Binary(BinOp::Add, Operand::Local(i), int(1)))];
        body.extend(extra);
        body.push(Stmt::Safepoint);
        let block = |stmts, terminator| BasicBlock { stmts, terminator };
        Function {
            name: "f".into(),
            symbol: "blood.f".into(),
            param_count: 1,
            ret: Ty::Int(IntTy::I64),
            locals: vec![
                LocalDecl { ty: Ty::Int(IntTy::I64), name: None },
                LocalDecl { ty: Ty::Int(IntTy::I64), name: None },
                LocalDecl { ty: Ty::Bool, name: None },
            ],
            blocks: vec![
                block(vec![Stmt::Assign(i, Rvalue::Use(int(0)))], Terminator::Goto(BlockId(1))),
                block(
                    vec![Stmt::Assign(c, Rvalue::Binary(BinOp::Lt, Operand::Local(i), Operand::Local(Local(0))))],
                    Terminator::Branch { cond: Operand::Local(c), then_bb: BlockId(2), else_bb: BlockId(3) },
                ),
                block(body, Terminator::Goto(BlockId(1))),
                block(vec![], Terminator::Return(Operand::Local(i))),
            ],
            no_preempt: false,
        }
    }

    fn safepoints(f: &Function) -> Vec<usize> {
        (0..f.blocks.len()).filter(|&b| f.blocks[b].stmts.iter().any(|s| matches!(s, Stmt::Safepoint))).collect()
    }

    #[test]
    fn a_small_loop_is_chained_four_times_and_checked_once() {
        let mut f = counting_loop(vec![]);
        unroll_small_loops(&mut f);
        assert_eq!(f.blocks.len(), 4 + 2 * (UNROLL - 1));
        // Walk the loop from its header: header, body, next copy's header, …, back to block 1.
        let mut at = 1;
        let mut bodies = Vec::new();
        for _ in 0..UNROLL {
            let Terminator::Branch { then_bb, else_bb, .. } = &f.blocks[at].terminator else { panic!("header") };
            assert_eq!(*else_bb, BlockId(3), "every copy leaves to the same exit");
            let body = then_bb.0 as usize;
            bodies.push(body);
            let Terminator::Goto(next) = f.blocks[body].terminator else { panic!("latch") };
            at = next.0 as usize;
        }
        assert_eq!(at, 1, "the last copy jumps back to the loop");
        assert_eq!(safepoints(&f), vec![*bodies.last().unwrap()], "one check, in the last copy");
    }

    #[test]
    fn loops_with_calls_are_left_alone() {
        let call = Stmt::Assign(Local(2), Rvalue::Call(Callee::Fn(crate::ir::FuncId(0)), vec![]));
        let mut f = counting_loop(vec![call]);
        unroll_small_loops(&mut f);
        assert_eq!(f.blocks.len(), 4);
        assert_eq!(safepoints(&f), vec![2]);
    }

    #[test]
    fn loops_with_an_if_inside_are_left_alone() {
        // Block 2 branches to 4 or 5, which join in 6, the latch.
        let mut f = counting_loop(vec![]);
        let check = f.blocks[2].stmts.pop();
        let cond = Operand::Local(Local(2));
        f.blocks[2].terminator = Terminator::Branch { cond, then_bb: BlockId(4), else_bb: BlockId(5) };
        let goto = |b| BasicBlock { stmts: vec![], terminator: Terminator::Goto(BlockId(b)) };
        f.blocks.extend([goto(6), goto(6), BasicBlock { stmts: check.into_iter().collect(), ..goto(1) }]);
        unroll_small_loops(&mut f);
        assert_eq!(f.blocks.len(), 7);
        assert_eq!(safepoints(&f), vec![6]);
    }

    #[test]
    fn large_loops_are_left_alone() {
        let filler = Stmt::Assign(Local(1), Rvalue::Use(Operand::Local(Local(1))));
        let mut f = counting_loop(vec![filler; MAX_STMTS]);
        unroll_small_loops(&mut f);
        assert_eq!(f.blocks.len(), 4);
    }
}
