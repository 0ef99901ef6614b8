//! IR passes, run in order by [`run_passes`]; each is small and keeps the IR valid.
//!
//! 1. [`remove_unreachable_blocks`]: the builder leaves blocks nothing jumps to (after
//!    `return`, `break`, panics); they are dropped and the rest renumbered in order.
//! 2. [`insert_safepoints`]: a `safepoint` at each function entry and on each loop back-edge
//!    (an edge to a block at or before its source: the builder lays out loop headers before
//!    their bodies, and pass 1 keeps the order), so a fiber running a loop with no calls can
//!    still be preempted (DESIGN.md §3). Skipped for `#[unchecked(preemption)]` functions and
//!    with `--no-preempt`.
//! 3. [`tail_recursion::eliminate_tail_recursion`] (at `-O2`): self tail calls, and self calls
//!    combined by integer `+`/`*` (via an accumulator), become loops.

pub mod tail_recursion;

use super::{BlockId, Function, Program, Stmt, Terminator};

/// Options that change which passes run.
#[derive(Copy, Clone, Debug, Default)]
pub struct PassOptions {
    /// Do not insert safepoints (`--no-preempt`).
    pub no_preempt: bool,
    /// Run the optimisation passes (`-O2`).
    pub optimize: bool,
}

pub fn run_passes(program: &mut Program, options: PassOptions) {
    for (index, f) in program.functions.iter_mut().enumerate() {
        remove_unreachable_blocks(f);
        if !options.no_preempt && !f.no_preempt {
            insert_safepoints(f);
        }
        if options.optimize {
            tail_recursion::eliminate_tail_recursion(f, super::FuncId(index as u32));
        }
    }
}

pub fn remove_unreachable_blocks(f: &mut Function) {
    let n = f.blocks.len();
    let mut reachable = vec![false; n];
    let mut stack = vec![0usize];
    while let Some(b) = stack.pop() {
        if std::mem::replace(&mut reachable[b], true) {
            continue;
        }
        stack.extend(f.blocks[b].terminator.successors().into_iter().map(|s| s.0 as usize));
    }
    let mut new_index = vec![u32::MAX; n];
    let mut next = 0;
    for (i, r) in reachable.iter().enumerate() {
        if *r {
            new_index[i] = next;
            next += 1;
        }
    }
    let blocks = std::mem::take(&mut f.blocks);
    f.blocks = blocks.into_iter().zip(reachable).filter(|(_, r)| *r).map(|(b, _)| b).collect();
    let remap = |b: &mut BlockId| b.0 = new_index[b.0 as usize];
    for block in &mut f.blocks {
        match &mut block.terminator {
            Terminator::Goto(b) => remap(b),
            Terminator::Branch { then_bb, else_bb, .. } => {
                remap(then_bb);
                remap(else_bb);
            }
            Terminator::Return(_) | Terminator::Unreachable => {}
        }
    }
}

pub fn insert_safepoints(f: &mut Function) {
    if let Some(entry) = f.blocks.first_mut() {
        entry.stmts.insert(0, Stmt::Safepoint);
    }
    for (i, block) in f.blocks.iter_mut().enumerate() {
        let back_edge = block.terminator.successors().iter().any(|s| s.0 as usize <= i);
        if back_edge {
            block.stmts.push(Stmt::Safepoint);
        }
    }
}
