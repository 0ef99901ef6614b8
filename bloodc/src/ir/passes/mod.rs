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
//! 2. [`tail_recursion::eliminate_tail_recursion`] (at `-O2`): jumps to a block that only
//!    returns are replaced by the return itself (so each `if`/`match` arm returns from its own
//!    block), then self tail calls, and self calls combined by integer `+`/`*` (via an
//!    accumulator), become loops, whose entry gets its own copy of a small loop test. Then
//!    [`inline_self::inline_self_once`] (at `-O2`) copies a small function's body in place of
//!    its first remaining call of itself.
//! 3. [`insert_safepoints`] ([`safepoints`]): a `safepoint` at the entry of each function that
//!    may recurse ([`may_recurse`]: on a cycle of direct calls, or making indirect calls), before
//!    each effect operation (a call of a `__perform_*` function, which gets no entry check of its
//!    own, or of `blood_fiber_spawn_env`, which stands for one) (DESIGN.md §3), and on each loop
//!    that could otherwise go round without polling: at the end of its back-edge's source, or on
//!    the one edge that skips an inner loop of polling calls. A function that neither loops nor
//!    recurses runs for a bounded time between checks, so it needs none. Skipped for
//!    `#[unchecked(preemption)]` functions and with `--no-preempt`. It runs after the two passes
//!    above, which change the loops and the call graph.
//! 4. [`unroll::unroll_small_loops`] (at `-O2`): small call-free innermost loops are unrolled
//!    four times, so their back-edge check runs once every four iterations (the same loops are
//!    unrolled without checks, so `--no-preempt` measures only what the checks cost).
//! 5. [`closure_env::place_environments`] (whole program): closure environments that provably
//!    do not outlive their frame move from the heap into the frame.

pub mod closure_env;
pub mod elaborate_drops;
pub mod glue;
pub mod inline_self;
pub mod safepoints;
pub mod simplify_cfg;
pub mod tail_recursion;
#[cfg(test)]
mod test_ir;
pub mod unroll;

pub use safepoints::{insert_safepoints, may_recurse};

use super::{BlockId, Function, Program, Terminator};

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
    "tail_recursion",
    "inline_self",
    "insert_safepoints",
    "unroll_small_loops",
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
    // Debug builds check the checks again after unrolling, which moves them.
    let checks_placed = name == "insert_safepoints" || (cfg!(debug_assertions) && name == "unroll_small_loops");
    let recursive = if checks_placed { may_recurse(program) } else { Vec::new() };
    // A call of one of these functions polls for preemption at the callee's entry.
    let entry_checks: Vec<bool> = recursive
        .iter()
        .zip(&program.functions)
        .zip(&effect_ops)
        .map(|((&r, f), &op)| r && !op && !f.no_preempt && !options.no_preempt)
        .collect();
    for (index, f) in program.functions.iter_mut().enumerate() {
        match name {
            "remove_unreachable_blocks" => remove_unreachable_blocks(f),
            "elaborate_drops" => elaborate_drops::elaborate_drops(&adts, f),
            "simplify_cfg" => simplify_cfg::simplify_cfg(f),
            "insert_safepoints" if !options.no_preempt && !f.no_preempt => {
                insert_safepoints(f, &effect_ops, &entry_checks, recursive[index]);
                debug_assert_eq!(safepoints::verify_coverage(f, &entry_checks, recursive[index]), Ok(()));
            }
            "unroll_small_loops" if options.optimize => {
                unroll::unroll_small_loops(f);
                if !options.no_preempt && !f.no_preempt {
                    debug_assert_eq!(safepoints::verify_coverage(f, &entry_checks, recursive[index]), Ok(()));
                }
            }
            "tail_recursion" if options.optimize => {
                tail_recursion::eliminate_tail_recursion(f, super::FuncId(index as u32));
            }
            "inline_self" if options.optimize => {
                inline_self::inline_self_once(f, super::FuncId(index as u32));
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
