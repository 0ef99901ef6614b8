//! CFG simplification: jump threading through empty blocks and merging straight-line blocks.
//!
//! The builder creates a block for every join and arm and does not look back, so lowered code
//! is full of blocks that only `goto` elsewhere and of chains `A: …; goto B` where `B` has no
//! other predecessor. Both are removed here, before safepoints are placed (so back-edges are
//! counted on the final shape) — which also keeps `--emit=ir` readable and gives Cranelift fewer
//! blocks to build.

use crate::ir::{BlockId, Function, Terminator};

pub fn simplify_cfg(f: &mut Function) {
    thread_jumps(f);
    super::remove_unreachable_blocks(f);
    merge_straight_lines(f);
    super::remove_unreachable_blocks(f);
}

/// Where control ends up when entering `b` and following empty `goto`-only blocks.
fn final_target(f: &Function, mut b: BlockId) -> BlockId {
    // Bounded: a cycle of empty blocks (`loop {}`) must not hang the compiler.
    for _ in 0..f.blocks.len() {
        let block = f.block(b);
        match block.terminator {
            Terminator::Goto(next) if block.stmts.is_empty() && next != b => b = next,
            _ => break,
        }
    }
    b
}

/// Redirects every edge into an empty `goto`-only block to that block's final target.
fn thread_jumps(f: &mut Function) {
    let targets: Vec<BlockId> = (0..f.blocks.len()).map(|i| final_target(f, BlockId(i as u32))).collect();
    for block in &mut f.blocks {
        let fix = |b: &mut BlockId| *b = targets[b.0 as usize];
        match &mut block.terminator {
            Terminator::Goto(b) => fix(b),
            Terminator::Branch { then_bb, else_bb, .. } => {
                fix(then_bb);
                fix(else_bb);
            }
            Terminator::Return(_) | Terminator::Unreachable => {}
        }
    }
}

/// `A: …; goto B` with `B` reached only from `A` (and not the entry): `B` is appended to `A`.
fn merge_straight_lines(f: &mut Function) {
    let n = f.blocks.len();
    let mut preds = vec![0u32; n];
    for block in &f.blocks {
        for s in block.terminator.successors() {
            preds[s.0 as usize] += 1;
        }
    }
    for a in 0..n {
        while let Terminator::Goto(b) = f.blocks[a].terminator {
            let b = b.0 as usize;
            if b == a || b == 0 || preds[b] != 1 {
                break;
            }
            let moved = std::mem::take(&mut f.blocks[b].stmts);
            let terminator = std::mem::replace(&mut f.blocks[b].terminator, Terminator::Unreachable);
            f.blocks[a].stmts.extend(moved);
            f.blocks[a].terminator = terminator;
            // `b` is now unreachable; it keeps no successors.
            preds[b] = 0;
        }
    }
}
