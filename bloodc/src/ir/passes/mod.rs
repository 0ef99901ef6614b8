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
//!    accumulator), become loops.
//! 3. [`insert_safepoints`]: a `safepoint` at the entry of each function that may recurse
//!    ([`may_recurse`]: on a cycle of direct calls, or making indirect calls), at the end of
//!    each block with a loop back-edge (found by depth-first search), so a fiber running a loop
//!    with no calls can still be preempted, and before each effect operation (a call of a
//!    `__perform_*` function, which gets no entry check of its own, or of
//!    `blood_fiber_spawn_env`, which stands for one) (DESIGN.md §3). A function
//!    that neither loops nor recurses runs for a bounded time between checks, so it needs none;
//!    a back-edge leaving a block that calls a function polling at its entry needs none either.
//!    Skipped for `#[unchecked(preemption)]` functions and with `--no-preempt`. It runs after
//!    tail-recursion elimination, which changes both the loops and the call graph.
//! 4. [`unroll::unroll_small_loops`] (at `-O2`): small call-free innermost loops are unrolled
//!    four times, so their back-edge check runs once every four iterations (the same loops are
//!    unrolled without checks, so `--no-preempt` measures only what the checks cost).
//! 5. [`closure_env::place_environments`] (whole program): closure environments that provably
//!    do not outlive their frame move from the heap into the frame.

pub mod closure_env;
pub mod elaborate_drops;
pub mod glue;
pub mod simplify_cfg;
pub mod tail_recursion;
pub mod unroll;

use super::{BasicBlock, BlockId, Function, Program, Stmt, Terminator};

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
    let recursive = if name == "insert_safepoints" { may_recurse(program) } else { Vec::new() };
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
            }
            "unroll_small_loops" if options.optimize => {
                unroll::unroll_small_loops(f);
            }
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
                Stmt::Assign(_, super::Rvalue::Call(super::Callee::Fn(g), _)) => callees[i].push(g.0 as usize),
                Stmt::Assign(_, super::Rvalue::Call(super::Callee::Indirect(_), _)) => result[i] = true,
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

/// `effect_ops[g]`: a call of function `g` is an effect operation; `entry_checks[g]`: function
/// `g` polls at its entry; `entry`: this function may recurse ([`may_recurse`]), so its entry
/// gets a safepoint.
///
/// A loop back-edge needs no check of its own when the block it leaves already polls: it
/// contains a safepoint (before an effect operation) or a call of a function that polls at its
/// entry. Every path around the loop runs that whole block, so each iteration still polls; this
/// is what keeps a recursive function whose tail calls became a loop (`fib` after
/// `tail_recursion`) at one check per call.
pub fn insert_safepoints(f: &mut Function, effect_ops: &[bool], entry_checks: &[bool], entry: bool) {
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
    let calls_polling = |b: &BasicBlock| {
        b.stmts.iter().any(|s| match s {
            Stmt::Assign(_, super::Rvalue::Call(super::Callee::Fn(g), _)) => {
                entry_checks.get(g.0 as usize).copied().unwrap_or(false) || is_effect_op_call(s, effect_ops)
            }
            _ => is_effect_op_call(s, effect_ops),
        })
    };
    let back_edge_sources: Vec<usize> =
        back_edge_sources(f).into_iter().filter(|&b| !calls_polling(&f.blocks[b])).collect();
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
    // An effect operation's own entry check would repeat the one before its call.
    if entry && let Some(first) = f.blocks.first_mut() {
        first.stmts.insert(0, Stmt::Safepoint);
    }
    for b in back_edge_sources {
        f.blocks[b].stmts.push(Stmt::Safepoint);
    }
}

/// Whether `stmt` performs an effect operation: it calls a function `g` with `effect_ops[g]`,
/// or the runtime's `blood_fiber_spawn_env`, which the IR builder emits in place of the call of
/// `__perform_Fiber_spawn` (`ir/build/spawn_env.rs`).
fn is_effect_op_call(stmt: &Stmt, effect_ops: &[bool]) -> bool {
    match stmt {
        Stmt::Assign(_, super::Rvalue::Call(super::Callee::Fn(g), _)) => {
            effect_ops.get(g.0 as usize).copied().unwrap_or(false)
        }
        Stmt::Assign(_, super::Rvalue::Call(super::Callee::Runtime(rf), _)) => *rf == blood_abi::FIBER_SPAWN_ENV,
        _ => false,
    }
}

/// Blocks with a loop back-edge ([`unroll::back_edges`]), sorted.
fn back_edge_sources(f: &Function) -> Vec<usize> {
    let mut sources: Vec<usize> = unroll::back_edges(f).into_iter().map(|(source, _)| source).collect();
    sources.sort_unstable();
    sources.dedup();
    sources
}
