//! Inlining of one level of a function's own recursion (at `-O2`, after tail-recursion
//! elimination, before safepoints are placed).
//!
//! After [`super::tail_recursion`], `fib(n - 1) + fib(n - 2)` is a loop around one call
//! `fib(n - 1)`. Copying the function's body in place of that call halves the calls that remain
//! (the copy runs the next level of the recursion in the caller's frame); more levels nest the
//! loop in itself, which measured slower than the calls (register pressure), so only one copy is
//! made, at the first self-call.
//!
//! This is done here and not by the CLIF inliner (`codegen/inline.rs`, which inlines other small
//! functions) so that [`super::insert_safepoints`] sees the copy: the copy's entry test is where
//! the recursion either stops (a leaf) or goes on into its loop, whose calls poll in the
//! callee's entry check. Placed after inlining, the loop around the copy needs a check only on
//! the path where the copy made no call; the callee's entry check, copied by the CLIF inliner,
//! ran once per iteration (fib(35) spent 4–5% of its time in that check).
//!
//! The copy gets its own locals (the caller's stay live across the call), its parameters are
//! assigned the call's arguments, and each of its returns assigns the call's destination and
//! jumps to the statements after the call.

use crate::ir::{BasicBlock, BlockId, Callee, FuncId, Function, Local, Operand, Place, Proj, Rvalue, Stmt, Terminator};

/// Functions with more statements than this are not copied into themselves (the CLIF inliner's
/// limit, 48 instructions, is about this many statements).
const MAX_STMTS: usize = 24;
/// Nor are functions with more blocks than this.
const MAX_BLOCKS: usize = 12;

/// Copies function `id`'s body in place of its first call of itself, if it is small enough.
pub fn inline_self_once(f: &mut Function, id: FuncId) {
    let stmts: usize = f.blocks.iter().map(|b| b.stmts.len()).sum();
    if stmts > MAX_STMTS || f.blocks.len() > MAX_BLOCKS {
        return;
    }
    let Some((block, index)) = first_self_call(f, id) else { return };
    let Stmt::Assign(dest, Rvalue::Call(_, args)) = f.blocks[block].stmts[index].clone() else { return };

    // The copy: locals shifted by `local_base`, blocks by `block_base`. The continuation (the
    // statements after the call) is the block after the copy's blocks.
    let local_base = f.locals.len() as u32;
    let block_base = f.blocks.len() as u32;
    let continuation = BlockId(block_base + f.blocks.len() as u32);
    let body: Vec<BasicBlock> = f.blocks.clone();
    f.locals.extend(f.locals.clone());
    for original in body {
        let mut copy = original;
        for stmt in &mut copy.stmts {
            rename_stmt(stmt, local_base);
        }
        copy.terminator = match copy.terminator {
            Terminator::Return(mut value) => {
                rename_operand(&mut value, local_base);
                copy.stmts.push(Stmt::Assign(dest, Rvalue::Use(value)));
                Terminator::Goto(continuation)
            }
            Terminator::Branch { mut cond, then_bb, else_bb } => {
                rename_operand(&mut cond, local_base);
                let shift = |b: BlockId| BlockId(b.0 + block_base);
                Terminator::Branch { cond, then_bb: shift(then_bb), else_bb: shift(else_bb) }
            }
            Terminator::Goto(b) => Terminator::Goto(BlockId(b.0 + block_base)),
            Terminator::Unreachable => Terminator::Unreachable,
        };
        f.blocks.push(copy);
    }

    // Split the calling block: the arguments go to the copy's parameters (all evaluated
    // before any is assigned: they are the caller's locals, untouched by the copy), then the
    // copy runs, then the rest of the block.
    let after: Vec<Stmt> = f.blocks[block].stmts.split_off(index + 1);
    f.blocks[block].stmts.pop();
    let terminator = std::mem::replace(&mut f.blocks[block].terminator, Terminator::Goto(BlockId(block_base)));
    for (param, arg) in args.into_iter().enumerate() {
        f.blocks[block].stmts.push(Stmt::Assign(Local(local_base + param as u32), Rvalue::Use(arg)));
    }
    f.blocks.push(BasicBlock { stmts: after, terminator });
    super::simplify_cfg::simplify_cfg(f);
}

/// The position (block, statement) of the first call of `id` in `f`, in block order.
fn first_self_call(f: &Function, id: FuncId) -> Option<(usize, usize)> {
    f.blocks.iter().enumerate().find_map(|(b, block)| {
        block
            .stmts
            .iter()
            .position(|s| matches!(s, Stmt::Assign(_, Rvalue::Call(Callee::Fn(g), _)) if *g == id))
            .map(|i| (b, i))
    })
}

fn rename_stmt(stmt: &mut Stmt, base: u32) {
    match stmt {
        Stmt::Assign(local, rvalue) => {
            local.0 += base;
            rename_rvalue(rvalue, base);
        }
        Stmt::Store(place, operand) => {
            rename_place(place, base);
            rename_operand(operand, base);
        }
        Stmt::Drop(place) => rename_place(place, base),
        Stmt::Safepoint => {}
    }
}

fn rename_rvalue(rvalue: &mut Rvalue, base: u32) {
    match rvalue {
        Rvalue::Use(o) | Rvalue::Unary(_, o) | Rvalue::Cast(o, _) | Rvalue::Repeat(o, _) | Rvalue::Unsize(o) => {
            rename_operand(o, base)
        }
        Rvalue::Binary(_, a, b) => {
            rename_operand(a, base);
            rename_operand(b, base);
        }
        Rvalue::Call(callee, args) => {
            if let Callee::Indirect(o) = callee {
                rename_operand(o, base);
            }
            args.iter_mut().for_each(|o| rename_operand(o, base));
        }
        Rvalue::Intrinsic(_, args) | Rvalue::Aggregate(_, args) | Rvalue::FnValue { env: args, .. } => {
            args.iter_mut().for_each(|o| rename_operand(o, base))
        }
        Rvalue::Load(p) | Rvalue::Ref(p, _) | Rvalue::Discriminant(p) | Rvalue::Len(p) => rename_place(p, base),
        Rvalue::FnAddr(_) => {}
    }
}

fn rename_place(place: &mut Place, base: u32) {
    place.base.0 += base;
    for proj in &mut place.proj {
        if let Proj::Index(i) = proj {
            i.0 += base;
        }
    }
}

fn rename_operand(operand: &mut Operand, base: u32) {
    if let Operand::Local(l) = operand {
        l.0 += base;
    }
}

#[cfg(test)]
mod tests {
    use super::super::tail_recursion::eliminate_tail_recursion;
    use super::super::test_ir::{fib, self_calls};
    use super::*;

    #[test]
    fn fib_runs_one_level_of_its_recursion_in_its_own_frame() {
        let mut f = fib();
        eliminate_tail_recursion(&mut f, FuncId(0));
        assert_eq!(self_calls(&f), 1, "tail-recursion elimination leaves one call");
        let returning =
            |f: &Function| f.blocks.iter().filter(|b| matches!(b.terminator, Terminator::Return(_))).count();
        let (locals, returns) = (f.locals.len(), returning(&f));
        inline_self_once(&mut f, FuncId(0));
        assert_eq!(self_calls(&f), 1, "the call moved into the copy");
        assert_eq!(f.locals.len(), 2 * locals, "the copy has its own locals");
        assert_eq!(returning(&f), returns, "the copy's returns jump back into the caller");
        // The remaining call is the copy's: it reads the copy's parameter, not the caller's.
        let call_args: Vec<&Operand> = f
            .blocks
            .iter()
            .flat_map(|b| &b.stmts)
            .filter_map(|s| match s {
                Stmt::Assign(_, Rvalue::Call(_, args)) => Some(&args[0]),
                _ => None,
            })
            .collect();
        assert!(matches!(call_args[..], [Operand::Local(l)] if l.0 >= locals as u32));
        let program = crate::ir::Program { functions: vec![f], ..Default::default() };
        crate::ir::validate::validate(&program).expect("valid IR");
    }

    #[test]
    fn large_functions_are_not_copied() {
        let mut f = fib();
        eliminate_tail_recursion(&mut f, FuncId(0));
        let filler = Stmt::Assign(Local(2), Rvalue::Use(Operand::Local(Local(2))));
        f.blocks[0].stmts.extend(std::iter::repeat_n(filler, MAX_STMTS));
        let before = f.blocks.len();
        inline_self_once(&mut f, FuncId(0));
        assert_eq!(f.blocks.len(), before);
    }
}
