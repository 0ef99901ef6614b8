//! Placement of preemption checks (`safepoint` statements), DESIGN.md §3 "Preemption".
//!
//! The invariant: a fiber runs a bounded amount of code between two checks. Code runs without
//! bound only around a cycle, of the control-flow graph (a loop) or of the call graph (a
//! recursion), so every such cycle must pass a check:
//! * **Recursion.** Each function that may recurse ([`may_recurse`]: on a cycle of direct calls,
//!   or making an indirect call) checks at its entry. A function that neither loops nor recurses
//!   runs for a bounded time before it returns to a checked caller, so it gets no check, as Go
//!   drops the stack-check prologue (its preemption point) of small leaf functions; helpers
//!   called from hot loops then cost nothing. A call of a function that checks at its entry
//!   *polls*; so does an effect operation, which gets a check before it.
//! * **Loops.** Remove from the graph every block that polls (holds a check or a polling
//!   call): what is left must have no cycle. Every cycle passes a depth-first back-edge
//!   `s → h`, so it is enough that, for each back-edge, no path from `h` to `s` avoids the
//!   polling blocks. Where one does, the check goes on the back-edge's source `s` — unless one
//!   conditional edge lies on every such path and skips an inner loop that polls (its branch's
//!   other arm enters that loop at a polling block, and the loop goes on around the outer one):
//!   then the check goes on that edge alone (a new block), so that it runs only on the
//!   iterations that skipped the inner loop. That edge is on no cycle inside the outer loop, so
//!   it runs at most once per iteration, never more often than a check on `s` would; codegen
//!   lays such a block out with the cold code (`codegen/layout.rs`), guessing that a loop's
//!   iterations usually run the inner loop they contain. A branch around a single polling block
//!   (`if i % 1000 == 0 { yield }`) is not such an edge: its other arm is the common one.
//!
//! The edge rule is what keeps `fib` cheap. After tail-recursion elimination and one inlined
//! level of its recursion (`inline_self.rs`), `fib` is a loop around the copy of itself, and the
//! copy either stops at its entry test (`n - 1 < 2`) or runs its own loop of calls, each
//! polling at the callee's entry. The check goes on the edge where the copy stops, which fib(35)
//! takes in a few per cent of the loop's iterations, instead of every iteration.
//!
//! `--no-preempt` and `#[unchecked(preemption)]` skip the pass.

use super::super::{BasicBlock, BlockId, Callee, Function, Program, Rvalue, Stmt, Terminator};
use super::unroll;

/// Which functions may take part in a recursion: those on a cycle of direct calls, and those
/// making an indirect call (which may reach anything). Only these need a safepoint at entry: a
/// run that lasts without bound needs a loop (checked at its back-edge) or a recursion (checked
/// at the entry of every function on the cycle, or of the indirect caller closing it).
pub fn may_recurse(program: &Program) -> Vec<bool> {
    let n = program.functions.len();
    let mut callees: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut result = vec![false; n];
    for (i, f) in program.functions.iter().enumerate() {
        for stmt in f.blocks.iter().flat_map(|b| &b.stmts) {
            match stmt {
                Stmt::Assign(_, Rvalue::Call(Callee::Fn(g), _)) => callees[i].push(g.0 as usize),
                Stmt::Assign(_, Rvalue::Call(Callee::Indirect(_), _)) => result[i] = true,
                _ => {}
            }
        }
    }
    // Tarjan's strongly connected components, iteratively.
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if let Some(&w) = callees[v].get(*i) {
                *i += 1;
                if w >= n {
                    continue;
                }
                if w == v {
                    result[v] = true;
                }
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.iter().for_each(|&w| result[w] = true);
                }
            }
        }
    }
    result
}

/// Inserts the checks of `f` (see the module header). `effect_ops[g]`: a call of function `g`
/// is an effect operation; `entry_checks[g]`: function `g` checks at its entry; `entry`: `f`
/// may recurse, so it checks at its entry.
pub fn insert_safepoints(f: &mut Function, effect_ops: &[bool], entry_checks: &[bool], entry: bool) {
    // An effect operation's own entry check would repeat the one before its call.
    let entry = entry && !f.is_effect_op();
    // The entry check must run once per call, not once per iteration of a loop whose header
    // is the entry block: such a function gets a new entry block.
    if entry && f.blocks.iter().any(|b| b.terminator.successors().contains(&BlockId(0))) {
        let header = BlockId(f.blocks.len() as u32);
        let old_entry =
            std::mem::replace(&mut f.blocks[0], BasicBlock { stmts: Vec::new(), terminator: Terminator::Goto(header) });
        f.blocks.push(old_entry);
        for block in &mut f.blocks[1..] {
            block.terminator.retarget(BlockId(0), header);
        }
    }
    for block in &mut f.blocks {
        let mut i = 0;
        while i < block.stmts.len() {
            if is_effect_op_call(&block.stmts[i], effect_ops) {
                block.stmts.insert(i, Stmt::Safepoint);
                i += 1;
            }
            i += 1;
        }
    }
    if entry && let Some(first) = f.blocks.first_mut() {
        first.stmts.insert(0, Stmt::Safepoint);
    }
    let back_edges = unroll::back_edges(f);
    let mut polling: Vec<bool> = f.blocks.iter().map(|b| polls(b, entry_checks)).collect();
    let mut preds = unroll::predecessors(f);
    for &(source, header) in &back_edges {
        // Every path from `header` to `source` that does not pass `header` again stays in the
        // loop's body, so each search below looks at the body only: the pass stays linear in
        // the size of each loop, not of the function.
        let body = unroll::loop_body(&preds, header, source);
        let graph = LoopGraph { f, polling: &polling, body: &body, header };
        if !graph.unpolled_path(header, source, None) {
            continue;
        }
        match graph.skip_edge(&back_edges, source) {
            Some((from, to)) => {
                let check = f.blocks.len();
                f.blocks.push(BasicBlock { stmts: vec![Stmt::Safepoint], terminator: Terminator::Goto(to) });
                f.blocks[from].terminator.retarget(to, BlockId(check as u32));
                polling.push(true);
                preds.push(vec![from]);
                for p in &mut preds[to.0 as usize] {
                    if *p == from {
                        *p = check;
                    }
                }
            }
            None => {
                f.blocks[source].stmts.push(Stmt::Safepoint);
                polling[source] = true;
            }
        }
    }
}

/// Whether block `b` polls: it holds a check (before an effect operation, or placed by this
/// pass) or calls a function that checks at its entry (`entry_checks`).
fn polls(b: &BasicBlock, entry_checks: &[bool]) -> bool {
    b.stmts.iter().any(|s| match s {
        Stmt::Safepoint => true,
        Stmt::Assign(_, Rvalue::Call(Callee::Fn(g), _)) => entry_checks.get(g.0 as usize).copied().unwrap_or(false),
        _ => false,
    })
}

/// One loop's blocks, for the searches of [`insert_safepoints`].
struct LoopGraph<'a> {
    f: &'a Function,
    polling: &'a [bool],
    body: &'a [bool],
    header: usize,
}

impl LoopGraph<'_> {
    /// Whether some path from `from` to `to` (both included) in the loop passes no polling
    /// block, optionally without taking the edge `cut`.
    fn unpolled_path(&self, from: usize, to: usize, cut: Option<(usize, BlockId)>) -> bool {
        self.search(from, to, |b| self.polling[b], cut)
    }

    /// Whether `to` is reachable from `from` in the loop without passing through the header.
    fn reaches_avoiding_header(&self, from: usize, to: usize) -> bool {
        self.search(from, to, |b| b == self.header, None)
    }

    /// Depth-first search from `from` for `to` over the loop's blocks, not entering blocks
    /// `blocked` rejects nor taking the edge `cut`.
    fn search(&self, from: usize, to: usize, blocked: impl Fn(usize) -> bool, cut: Option<(usize, BlockId)>) -> bool {
        let mut seen = vec![false; self.f.blocks.len()];
        let mut work = vec![from];
        while let Some(b) = work.pop() {
            if !self.body[b] || blocked(b) || std::mem::replace(&mut seen[b], true) {
                continue;
            }
            if b == to {
                return true;
            }
            for s in self.f.blocks[b].terminator.successors() {
                if cut != Some((b, s)) {
                    work.push(s.0 as usize);
                }
            }
        }
        false
    }

    /// A conditional edge `(from, to)` on every unpolled path from the header to `source` whose
    /// branch, outside an inner loop, either enters it at a polling block that goes on around
    /// this loop or skips it (so the loop's iterations either run the inner loop, polling, or
    /// skip it), and that lies on no cycle avoiding the header (so it runs at most once per
    /// iteration); the first in block order. The edge that leaves an inner loop does not
    /// qualify: every iteration that ran the loop takes it too.
    fn skip_edge(&self, back_edges: &[(usize, usize)], source: usize) -> Option<(usize, BlockId)> {
        let header = self.header;
        (0..self.f.blocks.len()).filter(|&b| self.body[b]).find_map(|from| {
            let Terminator::Branch { then_bb, else_bb, .. } = self.f.blocks[from].terminator else { return None };
            [(then_bb, else_bb), (else_bb, then_bb)].into_iter().find_map(|(to, other)| {
                let edge = (from, to);
                let other = other.0 as usize;
                let qualifies = to.0 as usize != other
                    && self.polling[other]
                    && self.body[other]
                    && !back_edges.contains(&(from, to.0 as usize))
                    && self.reaches_avoiding_header(other, source)
                    && self.f.blocks[other]
                        .terminator
                        .successors()
                        .iter()
                        .any(|s| self.reaches_avoiding_header(s.0 as usize, other))
                    && !self.reaches_avoiding_header(other, from)
                    && self.unpolled_path(header, from, None)
                    && self.unpolled_path(to.0 as usize, source, None)
                    && !self.unpolled_path(header, source, Some(edge))
                    && !self.reaches_avoiding_header(to.0 as usize, from);
                qualifies.then_some(edge)
            })
        })
    }
}

/// Whether `stmt` performs an effect operation: it calls a function `g` with `effect_ops[g]`,
/// or the runtime's `blood_fiber_spawn_env`, which the IR builder emits in place of the call of
/// `__perform_Fiber_spawn` (`ir/build/spawn_env.rs`).
fn is_effect_op_call(stmt: &Stmt, effect_ops: &[bool]) -> bool {
    match stmt {
        Stmt::Assign(_, Rvalue::Call(Callee::Fn(g), _)) => effect_ops.get(g.0 as usize).copied().unwrap_or(false),
        Stmt::Assign(_, Rvalue::Call(Callee::Runtime(rf), _)) => *rf == blood_abi::FIBER_SPAWN_ENV,
        _ => false,
    }
}

/// Checks the invariant of the module header on `f` after the pass (and after unrolling, which
/// moves checks): with `entry`, the entry block starts with a check, and the blocks that do not
/// poll form no cycle. The error names the blocks of such a cycle. `run_pass` runs it in debug
/// builds, so every program the test suites compile is checked.
pub fn verify_coverage(f: &Function, entry_checks: &[bool], entry: bool) -> Result<(), String> {
    if entry && !f.is_effect_op() && !matches!(f.blocks.first().and_then(|b| b.stmts.first()), Some(Stmt::Safepoint)) {
        return Err(format!("`{}` may recurse but does not check at its entry", f.name));
    }
    // Kahn's algorithm on the blocks that do not poll: what cannot be removed is on a cycle.
    let n = f.blocks.len();
    let live: Vec<bool> = f.blocks.iter().map(|b| !polls(b, entry_checks)).collect();
    let mut indegree = vec![0usize; n];
    for (_, block) in f.blocks.iter().enumerate().filter(|(b, _)| live[*b]) {
        for s in block.terminator.successors() {
            indegree[s.0 as usize] += usize::from(live[s.0 as usize]);
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&b| live[b] && indegree[b] == 0).collect();
    let mut removed = vec![false; n];
    while let Some(b) = ready.pop() {
        removed[b] = true;
        for s in f.blocks[b].terminator.successors() {
            let s = s.0 as usize;
            if live[s] {
                indegree[s] -= 1;
                if indegree[s] == 0 {
                    ready.push(s);
                }
            }
        }
    }
    let cycle: Vec<usize> = (0..n).filter(|&b| live[b] && !removed[b]).collect();
    if cycle.is_empty() { Ok(()) } else { Err(format!("`{}` loops without a check through blocks {cycle:?}", f.name)) }
}

#[cfg(test)]
mod tests {
    use super::super::test_ir::{assign, block, branch, checked_blocks, fib, function, int, local};
    use super::super::{inline_self::inline_self_once, tail_recursion::eliminate_tail_recursion};
    use super::*;
    use crate::ir::{BinOp, FuncId};

    /// `i = 0; while i < n { if i % 1000 == 0 { <arm> } ; i = i + 1 }; return i`, where
    /// `arm` calls function 1.
    fn loop_with_rare_call() -> Function {
        let call = Rvalue::Call(Callee::Fn(FuncId(1)), vec![]);
        function(
            6,
            &[2, 4],
            vec![
                block(vec![assign(1, Rvalue::Use(int(0)))], Terminator::Goto(BlockId(1))),
                block(vec![assign(2, Rvalue::Binary(BinOp::Lt, local(1), local(0)))], branch(2, 2, 3)),
                block(
                    vec![
                        assign(3, Rvalue::Binary(BinOp::Rem, local(1), int(1000))),
                        assign(4, Rvalue::Binary(BinOp::Eq, local(3), int(0))),
                    ],
                    branch(4, 4, 5),
                ),
                block(vec![], Terminator::Return(local(1))),
                block(vec![assign(5, call)], Terminator::Goto(BlockId(5))),
                block(vec![assign(1, Rvalue::Binary(BinOp::Add, local(1), int(1)))], Terminator::Goto(BlockId(1))),
            ],
        )
    }

    #[test]
    fn fib_checks_at_entry_and_where_its_inlined_copy_stops_without_a_call() {
        let mut f = fib();
        eliminate_tail_recursion(&mut f, FuncId(0));
        inline_self_once(&mut f, FuncId(0));
        insert_safepoints(&mut f, &[false], &[true], true);
        assert_eq!(verify_coverage(&f, &[true], true), Ok(()));
        let checks = checked_blocks(&f);
        assert_eq!(checks.len(), 2, "{checks:?}");
        assert_eq!(checks[0], 0, "the entry check");
        // The other is an edge of its own, from the copy's first test, not on the loop's path.
        let edge = &f.blocks[checks[1]];
        assert!(matches!(edge.stmts[..], [Stmt::Safepoint]) && matches!(edge.terminator, Terminator::Goto(_)));
        let from: Vec<usize> = (0..f.blocks.len())
            .filter(|&b| f.blocks[b].terminator.successors().contains(&BlockId(checks[1] as u32)))
            .collect();
        assert_eq!(from.len(), 1);
        let Terminator::Branch { then_bb, else_bb, .. } = &f.blocks[from[0]].terminator else { panic!("a branch") };
        let other = if then_bb.0 as usize == checks[1] { else_bb } else { then_bb };
        assert!(f.blocks[other.0 as usize].stmts.iter().any(|s| matches!(s, Stmt::Assign(_, Rvalue::Call(..)))));
    }

    #[test]
    fn a_branch_around_a_rare_polling_call_keeps_the_check_at_the_back_edge() {
        let mut f = loop_with_rare_call();
        insert_safepoints(&mut f, &[false, false], &[false, true], false);
        assert_eq!(checked_blocks(&f), vec![5]);
        assert!(matches!(f.blocks[5].stmts.last(), Some(Stmt::Safepoint)));
        assert_eq!(verify_coverage(&f, &[false, true], false), Ok(()));
    }

    #[test]
    fn a_loop_that_polls_on_every_path_gets_no_check() {
        let mut f = loop_with_rare_call();
        // Both arms call the polling function 1.
        let call = f.blocks[4].stmts[0].clone();
        f.blocks[5].stmts.push(call);
        insert_safepoints(&mut f, &[false, false], &[false, true], false);
        assert_eq!(checked_blocks(&f), Vec::<usize>::new());
        assert_eq!(verify_coverage(&f, &[false, true], false), Ok(()));
    }

    #[test]
    fn an_effect_operation_is_checked_before_and_its_loop_needs_no_other_check() {
        let mut f = loop_with_rare_call();
        let op = f.blocks[4].stmts[0].clone();
        f.blocks[5].stmts.insert(0, op);
        insert_safepoints(&mut f, &[false, true], &[false, false], false);
        assert!(matches!(f.blocks[5].stmts[..], [Stmt::Safepoint, Stmt::Assign(..), Stmt::Assign(..)]));
        assert_eq!(checked_blocks(&f), vec![4, 5]);
        assert_eq!(verify_coverage(&f, &[false, false], false), Ok(()));
    }

    #[test]
    fn verification_finds_a_loop_without_a_check_and_a_recursion_without_an_entry_check() {
        let f = loop_with_rare_call();
        let err = verify_coverage(&f, &[false, false], false).unwrap_err();
        assert!(err.contains("loops without a check"), "{err}");
        assert!(verify_coverage(&fib(), &[true], true).unwrap_err().contains("does not check at its entry"));
    }
}
