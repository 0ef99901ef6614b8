//! Tail-recursion elimination, with an accumulator for `+` and `*`.
//!
//! A self-call whose result is returned directly (`return f(x)`) becomes a jump back to the
//! start of the function with the parameters reassigned. A self-call combined with an earlier
//! value by wrapping integer `+` or `*` (`return fib(n - 1) + fib(n - 2)`) is handled the same way
//! by carrying the pending operand in an accumulator: `acc = acc + fib(n - 1); n = n - 2; loop`,
//! and every other `return v` becomes `return acc + v`. Wrapping integer addition and
//! multiplication are associative and commutative, so the result is unchanged; floats are never
//! transformed. This is the transformation C compilers apply to such functions; without it a
//! doubly recursive function makes twice as many calls.
//!
//! The pass runs before safepoint insertion (`safepoints.rs`), which then sees the loops it
//! made: a plain tail-call loop gets a back-edge check; a loop whose body still calls the
//! function (the accumulator form) polls in that call's entry check, or, once `inline_self.rs`
//! has copied the function in place of that call, is checked only where the copy stops without
//! a call. For that the loop's test is also copied to its entry ([`rotate`]).

use crate::ir::{
    BasicBlock, BinOp, BlockId, Callee, Const, FuncId, Function, Local, LocalDecl, Operand, Rvalue, Stmt, Terminator,
    Ty,
};

/// The largest loop test [`rotate`] copies, in statements.
const MAX_ROTATED_STMTS: usize = 4;

/// A recursive return site: block index, the call's arguments, and the operand combined with
/// the call's result (`None` for a plain tail call).
struct Site {
    block: usize,
    /// Index of the call statement; it and everything after it are replaced.
    call_index: usize,
    args: Vec<Operand>,
    pending: Option<Operand>,
}

/// Applies the transformation to function `id` of a program if it has a suitable shape.
pub fn eliminate_tail_recursion(f: &mut Function, id: FuncId) {
    // A reference to a local could outlive the iteration that took it (in a real recursion it
    // points into the caller's frame, which reassigning the parameters would overwrite).
    let takes_addresses = f.blocks.iter().flat_map(|b| &b.stmts).any(|s| matches!(s, Stmt::Assign(_, Rvalue::Ref(..))));
    if takes_addresses {
        return;
    }
    duplicate_returns(f);
    let Some((sites, op)) = find_sites(f, id) else { return };
    let int = match &f.ret {
        Ty::Int(int) => Some(*int),
        _ => None,
    };
    let accumulate = sites.iter().any(|s| s.pending.is_some());
    if accumulate && int.is_none() {
        return;
    }
    let acc = accumulate.then(|| {
        f.locals.push(LocalDecl { ty: f.ret.clone(), name: Some("tail$acc".to_string()) });
        Local(f.locals.len() as u32 - 1)
    });

    // The old entry moves to the end and becomes the loop header; the new entry initialises the
    // accumulator and jumps there.
    let header = BlockId(f.blocks.len() as u32);
    let old_entry =
        std::mem::replace(&mut f.blocks[0], BasicBlock { stmts: Vec::new(), terminator: Terminator::Goto(header) });
    f.blocks.push(old_entry);
    if let (Some(acc), Some(int)) = (acc, int) {
        let identity = if op == BinOp::Mul { 1 } else { 0 };
        f.blocks[0].stmts.push(Stmt::Assign(acc, Rvalue::Use(Operand::Const(Const::Int { bits: identity, ty: int }))));
    }
    let relocate = |b: usize| if b == 0 { header.0 as usize } else { b };
    for block in f.blocks.iter_mut().skip(1) {
        retarget(&mut block.terminator, header);
    }

    for site in sites {
        let index = relocate(site.block);
        let param_tys: Vec<Ty> = f.params().map(|p| f.local(p).ty.clone()).collect();
        let mut stmts = std::mem::take(&mut f.blocks[index].stmts);
        stmts.truncate(site.call_index);
        if let (Some(acc), Some(pending)) = (acc, site.pending) {
            stmts.push(Stmt::Assign(acc, Rvalue::Binary(op, Operand::Local(acc), pending)));
        }
        // Evaluate every new argument before assigning any parameter.
        let mut temps = Vec::new();
        for (arg, ty) in site.args.into_iter().zip(param_tys) {
            f.locals.push(LocalDecl { ty, name: None });
            let t = Local(f.locals.len() as u32 - 1);
            stmts.push(Stmt::Assign(t, Rvalue::Use(arg)));
            temps.push(t);
        }
        for (p, t) in temps.into_iter().enumerate() {
            stmts.push(Stmt::Assign(Local(p as u32), Rvalue::Use(Operand::Local(t))));
        }
        f.blocks[index].stmts = stmts;
        f.blocks[index].terminator = Terminator::Goto(header);
    }

    // Every remaining return combines its value with the accumulator.
    if let Some(acc) = acc {
        for block in &mut f.blocks {
            if let Terminator::Return(v) = &block.terminator {
                let v = v.clone();
                f.locals.push(LocalDecl { ty: f.ret.clone(), name: None });
                let r = Local(f.locals.len() as u32 - 1);
                block.stmts.push(Stmt::Assign(r, Rvalue::Binary(op, Operand::Local(acc), v)));
                block.terminator = Terminator::Return(Operand::Local(r));
            }
        }
    }
    rotate(f, header);
}

/// The loop's entry runs its own copy of the header's test when that test is small (at most
/// [`MAX_ROTATED_STMTS`] plain statements and a branch), as compilers rotate `while` loops: the
/// call that stops at once (a recursion's base case) and the iterations of the loop then leave
/// it by different edges, so safepoint placement (`safepoints.rs`) can tell the calls that made
/// no call of their own from those that did.
fn rotate(f: &mut Function, header: BlockId) {
    let test = f.block(header);
    let small = test.stmts.len() <= MAX_ROTATED_STMTS && test.stmts.iter().all(super::unroll::is_plain);
    if !small || !matches!(test.terminator, Terminator::Branch { .. }) {
        return;
    }
    let (stmts, terminator) = (test.stmts.clone(), test.terminator.clone());
    f.blocks[0].stmts.extend(stmts);
    f.blocks[0].terminator = terminator;
}

/// `goto J` where `J` is just `return v` becomes `return v`, so the value of each `if` arm
/// returns from its own block (where a recursive call can be recognised).
fn duplicate_returns(f: &mut Function) {
    let returns: Vec<Option<Terminator>> = f
        .blocks
        .iter()
        .map(|b| (b.stmts.is_empty() && matches!(b.terminator, Terminator::Return(_))).then(|| b.terminator.clone()))
        .collect();
    let mut changed = false;
    for block in &mut f.blocks {
        if let Terminator::Goto(j) = block.terminator
            && let Some(ret) = &returns[j.0 as usize]
        {
            block.terminator = ret.clone();
            changed = true;
        }
    }
    if changed {
        super::remove_unreachable_blocks(f);
    }
}

/// Jumps to the old entry (block 0) now go to the header.
fn retarget(t: &mut Terminator, header: BlockId) {
    let fix = |b: &mut BlockId| {
        if b.0 == 0 {
            *b = header;
        }
    };
    match t {
        Terminator::Goto(b) => fix(b),
        Terminator::Branch { then_bb, else_bb, .. } => {
            fix(then_bb);
            fix(else_bb);
        }
        Terminator::Return(_) | Terminator::Unreachable => {}
    }
}

/// Finds the recursive return sites. All accumulating sites must use the same operator; returns
/// `None` if there is no site or a recursive call's result is used any other way.
fn find_sites(f: &Function, id: FuncId) -> Option<(Vec<Site>, BinOp)> {
    let mut sites = Vec::new();
    let mut op = None;
    for (index, block) in f.blocks.iter().enumerate() {
        let Terminator::Return(Operand::Local(ret)) = &block.terminator else { continue };
        // Look through trailing copies `r2 = r; return r2` (the value of an `if` arm).
        let mut ret = *ret;
        let mut end = block.stmts.len();
        while end > 0
            && let Stmt::Assign(dst, Rvalue::Use(Operand::Local(src))) = &block.stmts[end - 1]
            && *dst == ret
        {
            ret = *src;
            end -= 1;
        }
        // `t = call f(args); return t`
        if end >= 1
            && let Stmt::Assign(t, Rvalue::Call(Callee::Fn(callee), args)) = &block.stmts[end - 1]
            && *callee == id
            && *t == ret
        {
            sites.push(Site { block: index, call_index: end - 1, args: args.clone(), pending: None });
            continue;
        }
        // `t = call f(args); r = Add(x, t) | Add(t, x); return r`
        if end >= 2
            && let Stmt::Assign(t, Rvalue::Call(Callee::Fn(callee), args)) = &block.stmts[end - 2]
            && *callee == id
            && let Stmt::Assign(r, Rvalue::Binary(bop @ (BinOp::Add | BinOp::Mul), a, b)) = &block.stmts[end - 1]
            && *r == ret
            && matches!(f.ret, Ty::Int(_))
        {
            let pending = match (a, b) {
                (x, Operand::Local(l)) if l == t && !mentions(x, *t) => x.clone(),
                (Operand::Local(l), x) if l == t && !mentions(x, *t) => x.clone(),
                _ => continue,
            };
            if op.is_some_and(|o| o != *bop) {
                return None;
            }
            op = Some(*bop);
            sites.push(Site { block: index, call_index: end - 2, args: args.clone(), pending: Some(pending) });
        }
    }
    if sites.is_empty() {
        return None;
    }
    Some((sites, op.unwrap_or(BinOp::Add)))
}

fn mentions(o: &Operand, l: Local) -> bool {
    matches!(o, Operand::Local(x) if *x == l)
}
