//! Self-recursion → loop, with an accumulator (at `O2`).
//!
//! A call of a function to itself in return position becomes a jump back to its start:
//!
//! ```text
//! _c = call f(args); return _c                 →  params = args; goto start
//! _c = call f(args); _s = Add(x, _c); return _s →  acc = acc + x; params = args; goto start
//! ```
//!
//! and every other `return v` returns `acc + v`. `Add` and `Mul` on integers qualify: they wrap,
//! so they are associative and commutative, and `f(n) = x + f(m)` can be computed as a running
//! sum (LLVM's "accumulator recursion elimination"). For `fib`, one of the two recursive calls
//! becomes a loop iteration, which is what makes `gcc -O2`'s `fib` fast.
//!
//! This is an IR-to-IR rewrite of a private copy of the function, done in codegen because it is
//! an optimisation of the generated code only (`--emit=ir` is unaffected); it could move to
//! `ir/passes` unchanged. The loop header is the original entry block, which starts with the
//! function's entry safepoint, so the new loop keeps a safepoint per iteration.

use crate::ir::{
    BasicBlock, BinOp, BlockId, Callee, Const, FuncId, Function, Local, LocalDecl, Operand, Rvalue, Stmt, Terminator,
};
use crate::types::Ty;

/// A return site `return f(args) [op x]` found in a block.
struct Site {
    block: usize,
    /// Index of the call statement; it and everything after it in the block are replaced.
    call_stmt: usize,
    args: Vec<Operand>,
    /// `Some((op, x))` for `x op f(args)`.
    accumulate: Option<(BinOp, Operand)>,
}

/// Returns the rewritten function if `func` (whose id is `self_id`) has self-calls in return
/// position, `None` otherwise.
pub(crate) fn eliminate_tail_recursion(func: &Function, self_id: FuncId) -> Option<Function> {
    let reads = read_counts(func);
    let sites: Vec<Site> = (0..func.blocks.len()).filter_map(|b| find_site(func, self_id, b, &reads)).collect();
    let first_op = sites.iter().find_map(|s| s.accumulate.as_ref().map(|(op, _)| *op));
    if sites.is_empty() || sites.iter().any(|s| s.accumulate.as_ref().is_some_and(|(op, _)| Some(*op) != first_op)) {
        return None;
    }
    let accumulator = match (first_op, &func.ret) {
        (None, _) => None,
        (Some(op), Ty::Int(it)) => Some((op, *it)),
        _ => return None,
    };

    let mut f = func.clone();
    let new_local = |f: &mut Function, ty: Ty| {
        f.locals.push(LocalDecl { ty, name: None });
        Local(f.locals.len() as u32 - 1)
    };
    // The old entry block moves to the end and becomes the loop header.
    let header = BlockId(f.blocks.len() as u32);
    let old_entry =
        std::mem::replace(&mut f.blocks[0], BasicBlock { stmts: Vec::new(), terminator: Terminator::Goto(header) });
    f.blocks.push(old_entry);
    for block in &mut f.blocks[1..] {
        redirect(&mut block.terminator, BlockId(0), header);
    }
    let site_block = |b: usize| if b == 0 { header.0 as usize } else { b };

    let acc = accumulator.map(|(op, it)| {
        let acc = new_local(&mut f, Ty::Int(it));
        let identity = if op == BinOp::Mul { 1 } else { 0 };
        f.blocks[0].stmts.push(Stmt::Assign(acc, Rvalue::Use(Operand::Const(Const::Int { bits: identity, ty: it }))));
        (op, acc, it)
    });

    // Other returns give `acc op v`.
    if let Some((op, acc, it)) = acc {
        let site_blocks: Vec<usize> = sites.iter().map(|s| site_block(s.block)).collect();
        for b in 1..f.blocks.len() {
            if site_blocks.contains(&b) {
                continue;
            }
            if let Terminator::Return(v) = f.blocks[b].terminator.clone() {
                let r = new_local(&mut f, Ty::Int(it));
                f.blocks[b].stmts.push(Stmt::Assign(r, Rvalue::Binary(op, Operand::Local(acc), v)));
                f.blocks[b].terminator = Terminator::Return(Operand::Local(r));
            }
        }
    }

    for site in sites {
        let b = site_block(site.block);
        f.blocks[b].stmts.truncate(site.call_stmt);
        if let (Some((op, acc, _)), Some((_, x))) = (acc, site.accumulate) {
            f.blocks[b].stmts.push(Stmt::Assign(acc, Rvalue::Binary(op, Operand::Local(acc), x)));
        }
        // Parallel assignment of the parameters through temporaries (arguments may read them).
        let temps: Vec<Local> = site
            .args
            .into_iter()
            .enumerate()
            .map(|(i, arg)| {
                let t = new_local(&mut f, func.locals[i].ty.clone());
                f.blocks[b].stmts.push(Stmt::Assign(t, Rvalue::Use(arg)));
                t
            })
            .collect();
        for (i, t) in temps.into_iter().enumerate() {
            f.blocks[b].stmts.push(Stmt::Assign(Local(i as u32), Rvalue::Use(Operand::Local(t))));
        }
        f.blocks[b].terminator = Terminator::Goto(header);
    }
    Some(f)
}

/// Recognises `_c = call self(args); [_s = op(x, _c);] return _s|_c` at the end of `block`.
fn find_site(func: &Function, self_id: FuncId, block: usize, reads: &[usize]) -> Option<Site> {
    let b = &func.blocks[block];
    let Terminator::Return(Operand::Local(ret)) = b.terminator else { return None };
    let n = b.stmts.len();
    let is_self_call = |stmt: &Stmt| match stmt {
        Stmt::Assign(c, Rvalue::Call(Callee::Fn(id), args)) if *id == self_id => Some((*c, args.clone())),
        _ => None,
    };
    // `_c = call self(args); return _c`
    if let Some((c, args)) = b.stmts.last().and_then(is_self_call)
        && c == ret
        && reads[c.0 as usize] == 1
    {
        return Some(Site { block, call_stmt: n - 1, args, accumulate: None });
    }
    // `_c = call self(args); _s = op(x, _c); return _s`
    if n < 2 || !matches!(func.ret, Ty::Int(_)) {
        return None;
    }
    let (c, args) = is_self_call(&b.stmts[n - 2])?;
    let Stmt::Assign(s, Rvalue::Binary(op @ (BinOp::Add | BinOp::Mul), lhs, rhs)) = &b.stmts[n - 1] else {
        return None;
    };
    let x = match (lhs, rhs) {
        (Operand::Local(l), x) | (x, Operand::Local(l)) if *l == c && *x != Operand::Local(c) => x.clone(),
        _ => return None,
    };
    (*s == ret && reads[c.0 as usize] == 1 && reads[s.0 as usize] == 1).then(|| Site {
        block,
        call_stmt: n - 2,
        args,
        accumulate: Some((*op, x)),
    })
}

/// How many times each local is read (in operands) in the whole function.
fn read_counts(func: &Function) -> Vec<usize> {
    let mut counts = vec![0usize; func.locals.len()];
    let mut count = |op: &Operand| {
        if let Operand::Local(l) = op
            && let Some(c) = counts.get_mut(l.0 as usize)
        {
            *c += 1;
        }
    };
    for block in &func.blocks {
        for stmt in &block.stmts {
            let Stmt::Assign(_, rv) = stmt else { continue };
            match rv {
                Rvalue::Use(a) | Rvalue::Unary(_, a) | Rvalue::Cast(a, _) => count(a),
                Rvalue::Binary(_, a, b) => {
                    count(a);
                    count(b);
                }
                Rvalue::Call(_, args) | Rvalue::Intrinsic(_, args) => args.iter().for_each(&mut count),
            }
        }
        match &block.terminator {
            Terminator::Branch { cond, .. } => count(cond),
            Terminator::Return(v) => count(v),
            Terminator::Goto(_) | Terminator::Unreachable => {}
        }
    }
    counts
}

fn redirect(term: &mut Terminator, from: BlockId, to: BlockId) {
    let fix = |b: &mut BlockId| {
        if *b == from {
            *b = to;
        }
    };
    match term {
        Terminator::Goto(b) => fix(b),
        Terminator::Branch { then_bb, else_bb, .. } => {
            fix(then_bb);
            fix(else_bb);
        }
        Terminator::Return(_) | Terminator::Unreachable => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::IntTy;

    fn int(v: u128) -> Operand {
        Operand::Const(Const::Int { bits: v, ty: IntTy::I64 })
    }

    /// `fib` as the IR builder emits it.
    fn fib() -> Function {
        let l = |i: u32| Operand::Local(Local(i));
        let i64t = Ty::Int(IntTy::I64);
        let mut locals: Vec<LocalDecl> = (0..7).map(|_| LocalDecl { ty: i64t.clone(), name: None }).collect();
        locals[1].ty = Ty::Bool;
        Function {
            name: "fib".into(),
            symbol: "fib".into(),
            param_count: 1,
            ret: i64t,
            locals,
            blocks: vec![
                BasicBlock {
                    stmts: vec![Stmt::Safepoint, Stmt::Assign(Local(1), Rvalue::Binary(BinOp::Lt, l(0), int(2)))],
                    terminator: Terminator::Branch { cond: l(1), then_bb: BlockId(1), else_bb: BlockId(2) },
                },
                BasicBlock { stmts: vec![], terminator: Terminator::Return(l(0)) },
                BasicBlock {
                    stmts: vec![
                        Stmt::Assign(Local(2), Rvalue::Binary(BinOp::Sub, l(0), int(1))),
                        Stmt::Assign(Local(3), Rvalue::Call(Callee::Fn(FuncId(0)), vec![l(2)])),
                        Stmt::Assign(Local(4), Rvalue::Binary(BinOp::Sub, l(0), int(2))),
                        Stmt::Assign(Local(5), Rvalue::Call(Callee::Fn(FuncId(0)), vec![l(4)])),
                        Stmt::Assign(Local(6), Rvalue::Binary(BinOp::Add, l(3), l(5))),
                    ],
                    terminator: Terminator::Return(l(6)),
                },
            ],
            no_preempt: false,
        }
    }

    #[test]
    fn fib_keeps_one_call_and_loops_on_the_other() {
        let f = eliminate_tail_recursion(&fib(), FuncId(0)).expect("rewritten");
        assert_eq!(f.blocks.len(), 4, "a new entry block");
        assert!(matches!(f.blocks[0].terminator, Terminator::Goto(BlockId(3))));
        assert!(matches!(f.blocks[2].terminator, Terminator::Goto(BlockId(3))), "the tail site loops");
        let calls = f.blocks[2].stmts.iter().filter(|s| matches!(s, Stmt::Assign(_, Rvalue::Call(..)))).count();
        assert_eq!(calls, 1);
        assert!(matches!(f.blocks[3].terminator, Terminator::Branch { then_bb: BlockId(1), else_bb: BlockId(2), .. }));
        // The base case returns `acc + n`.
        assert!(matches!(f.blocks[1].stmts.last(), Some(Stmt::Assign(_, Rvalue::Binary(BinOp::Add, _, _)))));
    }

    #[test]
    fn results_used_elsewhere_or_other_callees_are_left_alone() {
        let mut f = fib();
        // `_5` is read again: not a pure accumulation.
        f.blocks[1].terminator = Terminator::Return(Operand::Local(Local(5)));
        assert!(eliminate_tail_recursion(&f, FuncId(0)).is_none());
        // Calls to another function are not self-recursion.
        assert!(eliminate_tail_recursion(&fib(), FuncId(1)).is_none());
    }
}
