//! IR passes, run in order by [`run_passes`]; each is small and keeps the IR valid.
//!
//! 1. [`remove_unreachable_blocks`]: the builder leaves blocks nothing jumps to (after
//!    `return`, `break`, panics); they are dropped and the rest renumbered in order. Then
//!    [`simplify_cfg::simplify_cfg`] threads jumps through empty blocks and merges straight-line
//!    chains.
//!
//!    Before simplification, [`elaborate_drops::elaborate_drops`] removes, keeps or guards with
//!    a drop flag each scheduled `drop` of a local, by data flow over initialisation
//!    (ARCHITECTURE.md "Memory"); then [`glue::generate_glue`] turns every drop and clone into a
//!    call of per-type glue functions it generates.
//!
//! 2. [`insert_safepoints`]: a `safepoint` at each function entry, at the end of each block
//!    with a loop back-edge (found by depth-first search), so a fiber running a loop with no
//!    calls can still be preempted, and before each effect operation (a call of a
//!    `__perform_*` function; those get no entry check of their own) (DESIGN.md §3). Skipped for `#[unchecked(preemption)]` functions and
//!    with `--no-preempt`.
//! 3. [`tail_recursion::eliminate_tail_recursion`] (at `-O2`): jumps to a block that only
//!    returns are replaced by the return itself (so each `if`/`match` arm returns from its own
//!    block), then self tail calls, and self calls combined by integer `+`/`*` (via an
//!    accumulator), become loops.
//! 4. [`closure_env::place_environments`] (whole program): closure environments that provably
//!    do not outlive their frame move from the heap into the frame.

pub mod closure_env;
pub mod elaborate_drops;
pub mod glue;
pub mod simplify_cfg;
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

/// The passes in the order they run; `run_pass` runs one over the whole program. The driver
/// runs them one by one so each gets its own timing span.
pub const PASSES: &[&str] = &[
    "remove_unreachable_blocks",
    "elaborate_drops",
    "drop_glue",
    "simplify_cfg",
    "insert_safepoints",
    "tail_recursion",
    "closure_envs",
];

pub fn run_passes(program: &mut Program, options: PassOptions) {
    for name in PASSES {
        run_pass(name, program, options);
    }
}

/// Runs the pass called `name` (one of [`PASSES`]) on every function; unknown names do nothing.
pub fn run_pass(name: &str, program: &mut Program, options: PassOptions) {
    if name == "closure_envs" {
        closure_env::place_environments(program);
        return;
    }
    if name == "drop_glue" {
        glue::generate_glue(program);
        return;
    }
    let adts = program.adts.clone();
    let effect_ops: Vec<bool> = program.functions.iter().map(Function::is_effect_op).collect();
    for (index, f) in program.functions.iter_mut().enumerate() {
        match name {
            "remove_unreachable_blocks" => remove_unreachable_blocks(f),
            "elaborate_drops" => elaborate_drops::elaborate_drops(&adts, f),
            "simplify_cfg" => simplify_cfg::simplify_cfg(f),
            "insert_safepoints" if !options.no_preempt && !f.no_preempt => insert_safepoints(f, &effect_ops),
            "tail_recursion" if options.optimize => {
                tail_recursion::eliminate_tail_recursion(f, super::FuncId(index as u32));
            }
            _ => {}
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

/// `effect_ops[g]`: a call of function `g` is an effect operation.
pub fn insert_safepoints(f: &mut Function, effect_ops: &[bool]) {
    let back_edge_sources = back_edge_sources(f);
    for block in &mut f.blocks {
        let mut i = 0;
        while i < block.stmts.len() {
            if let Stmt::Assign(_, super::Rvalue::Call(super::Callee::Fn(g), _)) = &block.stmts[i]
                && effect_ops.get(g.0 as usize).copied().unwrap_or(false)
            {
                block.stmts.insert(i, Stmt::Safepoint);
                i += 1;
            }
            i += 1;
        }
    }
    // An effect operation's own entry check would repeat the one before its call.
    if !f.is_effect_op()
        && let Some(entry) = f.blocks.first_mut()
    {
        entry.stmts.insert(0, Stmt::Safepoint);
    }
    for b in back_edge_sources {
        f.blocks[b].stmts.push(Stmt::Safepoint);
    }
}

/// Blocks with an edge to a block that is on the depth-first search stack when the edge is
/// followed: the loop back-edges of a reducible CFG (which is all the builder produces).
fn back_edge_sources(f: &Function) -> Vec<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unvisited,
        OnStack,
        Done,
    }
    let mut mark = vec![Mark::Unvisited; f.blocks.len()];
    let mut sources = Vec::new();
    // Iterative DFS: (block, index of the next successor to visit).
    let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
    mark[0] = Mark::OnStack;
    while let Some(&mut (block, ref mut next)) = stack.last_mut() {
        let succs = f.blocks[block].terminator.successors();
        if let Some(s) = succs.get(*next) {
            *next += 1;
            let s = s.0 as usize;
            match mark[s] {
                Mark::OnStack => {
                    if !sources.contains(&block) {
                        sources.push(block);
                    }
                }
                Mark::Unvisited => {
                    mark[s] = Mark::OnStack;
                    stack.push((s, 0));
                }
                Mark::Done => {}
            }
        } else {
            mark[block] = Mark::Done;
            stack.pop();
        }
    }
    sources.sort_unstable();
    sources
}
