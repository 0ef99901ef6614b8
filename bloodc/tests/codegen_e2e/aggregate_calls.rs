//! End-to-end tests of the calling convention for aggregates (`codegen/abi.rs`): parameters
//! passed by pointer and copied only by callees that modify them, results returned through the
//! caller's memory, recursion, tail recursion after the IR passes, and large frames.

use bloodc::ir::{AggregateKind, BinOp, BlockId, Program, Rvalue, Terminator};
use bloodc::types::{IntTy, Ty};

use super::support::{
    Fb, Pb, array, assert_output, bin, c64, call, ci, cu, deref, fld, i64t, idx, op, pl, print_i64, run, tuple, usize_t,
};

// ------------------------------------------------------------------------------------------------
// Passing and returning aggregates.

/// For `[E; n]` of sizes 1, 8, 12, 16, 24, 100 and 1000 bytes: a function building and returning
/// one (through the result pointer), one reading it in place, one writing its parameter (which
/// must not change the caller's value), and `a = twice(a)` (result memory = argument memory).
pub fn aggregate_calls_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let mut m = Fb::new("main", &[], Ty::Unit);
    let mut b = BlockId(0);
    let mut expected = String::new();
    let cases = [
        (IntTy::U8, 1u64),
        (IntTy::I32, 2),
        (IntTy::I32, 3),
        (IntTy::I64, 2),
        (IntTy::I64, 3),
        (IntTy::I32, 25),
        (IntTy::I64, 125),
    ];
    for (it, n) in cases {
        let (et, at) = (Ty::Int(it), array(Ty::Int(it), n));
        let name = format!("{}x{n}", it.name());
        let p0 = pl(bloodc::ir::Local(0));
        // fn make(seed: E) -> [E; n] { let r = [seed; n]; for i { r[i] = r[i] + i }; r }
        let mut make = Fb::new(&format!("make_{name}"), std::slice::from_ref(&et), at.clone());
        let r = make.let_(BlockId(0), at.clone(), Rvalue::Repeat(make.param(0), n));
        let exit = make.for_range(BlockId(0), cu(n), |f, body, i| {
            let x = f.load(body, et.clone(), idx(&pl(r), i));
            let ie = f.tmp(body, et.clone(), Rvalue::Cast(op(i), et.clone()));
            let y = f.tmp(body, et.clone(), bin(BinOp::Add, x, ie));
            f.store(body, idx(&pl(r), i), y);
            body
        });
        make.term(exit, Terminator::Return(op(r)));
        let make = pb.add(make);
        // fn sum(v: [E; n]) -> i64
        let mut sum = Fb::new(&format!("sum_{name}"), std::slice::from_ref(&at), i64t());
        let acc = sum.let_(BlockId(0), i64t(), Rvalue::Use(c64(0)));
        let exit = sum.for_range(BlockId(0), cu(n), |f, body, i| {
            let x = f.load(body, et.clone(), idx(&p0, i));
            let x = f.tmp(body, i64t(), Rvalue::Cast(x, i64t()));
            f.assign(body, acc, bin(BinOp::Add, op(acc), x));
            body
        });
        sum.term(exit, Terminator::Return(op(acc)));
        let sum = pb.add(sum);
        // fn scribble(v: [E; n]) -> i64 { v[0] = 99; v[n - 1] = 98; sum(v) }
        let mut scr = Fb::new(&format!("scribble_{name}"), std::slice::from_ref(&at), i64t());
        let first = scr.let_(BlockId(0), usize_t(), Rvalue::Use(cu(0)));
        let last = scr.let_(BlockId(0), usize_t(), Rvalue::Use(cu(n - 1)));
        scr.store(BlockId(0), idx(&p0, first), ci(it, 99));
        scr.store(BlockId(0), idx(&p0, last), ci(it, 98));
        let s = scr.tmp(BlockId(0), i64t(), call(sum, vec![scr.param(0)]));
        scr.term(BlockId(0), Terminator::Return(s));
        let scribble = pb.add(scr);
        // fn twice(v: [E; n]) -> [E; n] { let r = v; for i { r[i] = v[i] * 2 }; r }
        let mut tw = Fb::new(&format!("twice_{name}"), std::slice::from_ref(&at), at.clone());
        let r = tw.let_(BlockId(0), at.clone(), Rvalue::Use(tw.param(0)));
        let exit = tw.for_range(BlockId(0), cu(n), |f, body, i| {
            let x = f.load(body, et.clone(), idx(&p0, i));
            let y = f.tmp(body, et.clone(), bin(BinOp::Mul, x, ci(it, 2)));
            f.store(body, idx(&pl(r), i), y);
            body
        });
        tw.term(exit, Terminator::Return(op(r)));
        let twice = pb.add(tw);

        let a = m.let_(b, at.clone(), call(make, vec![ci(it, 5)]));
        let s = m.tmp(b, i64t(), call(sum, vec![op(a)]));
        print_i64(&mut m, b, s, &nl);
        let s = m.tmp(b, i64t(), call(scribble, vec![op(a)]));
        print_i64(&mut m, b, s, &nl);
        let s = m.tmp(b, i64t(), call(sum, vec![op(a)]));
        print_i64(&mut m, b, s, &nl);
        m.assign(b, a, call(twice, vec![op(a)]));
        let s = m.tmp(b, i64t(), call(sum, vec![op(a)]));
        print_i64(&mut m, b, s, &nl);
        m.safepoint(b);
        let next = m.block();
        m.term(b, Terminator::Goto(next));
        b = next;

        let wrap = |v: i128| -> i64 { bloodc_sext(it, it.truncate(v as u128)) };
        let made: Vec<i128> = (0..n as i128).map(|i| i128::from(wrap(5 + i))).collect();
        let sum = |v: &[i128]| -> i64 { v.iter().map(|&x| wrap(x)).sum() };
        let mut scribbled = made.clone();
        scribbled[0] = 99;
        scribbled[n as usize - 1] = 98;
        let doubled: Vec<i128> = made.iter().map(|&x| x * 2).collect();
        expected.push_str(&format!("{}\n{}\n{}\n{}\n", sum(&made), sum(&scribbled), sum(&made), sum(&doubled)));
    }
    m.ret_unit(b);
    pb.add_main(m);
    (pb.p, expected)
}

/// The value of the `bits` of an integer of type `it`, sign-extended by its signedness.
fn bloodc_sext(it: IntTy, bits: u128) -> i64 {
    let n = it.bits();
    if it.is_signed() { (((bits << (128 - n)) as i128) >> (128 - n)) as i64 } else { bits as i64 }
}

/// `fn rec(d: i64, acc: (i64, [i64; 4])) -> (i64, [i64; 4])`: a non-tail recursion 100 deep
/// passing and returning a 40-byte aggregate, returning its parameter at the bottom.
pub fn recursion_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let s_ty = tuple(vec![i64t(), array(i64t(), 4)]);
    let id = pb.next_id();
    let mut f = Fb::new("rec", &[i64t(), s_ty.clone()], s_ty.clone());
    let (b0, base, step) = (BlockId(0), f.block(), f.block());
    let done = f.tmp(b0, Ty::Bool, bin(BinOp::Eq, f.param(0), c64(0)));
    f.term(b0, Terminator::Branch { cond: done, then_bb: base, else_bb: step });
    f.term(base, Terminator::Return(f.param(1)));
    let na = f.let_(step, s_ty.clone(), Rvalue::Use(f.param(1)));
    let x = f.load(step, i64t(), fld(&pl(na), 0));
    let x = f.tmp(step, i64t(), bin(BinOp::Add, x, f.param(0)));
    f.store(step, fld(&pl(na), 0), x);
    let k = f.tmp(step, i64t(), bin(BinOp::Rem, f.param(0), c64(4)));
    let k = f.let_(step, usize_t(), Rvalue::Cast(k, usize_t()));
    let slot = idx(&fld(&pl(na), 1), k);
    let old = f.load(step, i64t(), slot.clone());
    let sq = f.tmp(step, i64t(), bin(BinOp::Mul, f.param(0), f.param(0)));
    let new = f.tmp(step, i64t(), bin(BinOp::Add, old, sq));
    f.store(step, slot, new);
    let d1 = f.tmp(step, i64t(), bin(BinOp::Sub, f.param(0), c64(1)));
    let r = f.let_(step, s_ty.clone(), call(id, vec![d1, op(na)]));
    let r0 = f.load(step, i64t(), fld(&pl(r), 0));
    let r0 = f.tmp(step, i64t(), bin(BinOp::Add, r0, c64(1)));
    f.store(step, fld(&pl(r), 0), r0);
    f.term(step, Terminator::Return(op(r)));
    pb.add(f);

    let mut m = Fb::new("main", &[], Ty::Unit);
    let b = BlockId(0);
    let zeros = m.tmp(b, array(i64t(), 4), Rvalue::Repeat(c64(0), 4));
    let acc = m.tmp(b, s_ty.clone(), Rvalue::Aggregate(AggregateKind::Tuple, vec![c64(0), zeros]));
    let res = m.let_(b, s_ty, call(id, vec![c64(100), acc]));
    let r0 = m.load(b, i64t(), fld(&pl(res), 0));
    print_i64(&mut m, b, r0, &nl);
    for k in 0..4 {
        let kl = m.let_(b, usize_t(), Rvalue::Use(cu(k)));
        let v = m.load(b, i64t(), idx(&fld(&pl(res), 1), kl));
        print_i64(&mut m, b, v, &nl);
    }
    m.ret_unit(b);
    pb.add_main(m);
    let mut arr = [0i64; 4];
    for d in 1..=100i64 {
        arr[(d % 4) as usize] += d * d;
    }
    let mut expected = format!("{}\n", 5050 + 100);
    for v in arr {
        expected.push_str(&format!("{v}\n"));
    }
    (pb.p, expected)
}

/// An aggregate passed by value while a mutable borrow of it is live: the callee writes through
/// the borrow, and its by-value parameter must still hold the value at the call.
pub fn borrowed_argument_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let at = array(i64t(), 4);
    let mut f = Fb::new("observe", &[at.clone(), Ty::reference(at.clone(), true)], i64t());
    let zero = f.let_(BlockId(0), usize_t(), Rvalue::Use(cu(0)));
    f.store(BlockId(0), idx(&deref(&pl(bloodc::ir::Local(1))), zero), c64(1000));
    let v = f.load(BlockId(0), i64t(), idx(&pl(bloodc::ir::Local(0)), zero));
    f.term(BlockId(0), Terminator::Return(v));
    let observe = pb.add(f);
    // fn via_ref(v: [i64; 4]) -> i64 { let r = &mut v; (*r)[1] = 50; v[1] + v[0] }
    let mut f = Fb::new("via_ref", std::slice::from_ref(&at), i64t());
    let b0 = BlockId(0);
    let r = f.let_(b0, Ty::reference(at.clone(), true), Rvalue::Ref(pl(bloodc::ir::Local(0)), true));
    let (zero, one) = (f.let_(b0, usize_t(), Rvalue::Use(cu(0))), f.let_(b0, usize_t(), Rvalue::Use(cu(1))));
    f.store(b0, idx(&deref(&pl(r)), one), c64(50));
    let v1 = f.load(b0, i64t(), idx(&pl(bloodc::ir::Local(0)), one));
    let v0 = f.load(b0, i64t(), idx(&pl(bloodc::ir::Local(0)), zero));
    let s = f.tmp(b0, i64t(), bin(BinOp::Add, v1, v0));
    f.term(b0, Terminator::Return(s));
    let via_ref = pb.add(f);
    let mut m = Fb::new("main", &[], Ty::Unit);
    let b = BlockId(0);
    let a = m.let_(b, at.clone(), Rvalue::Aggregate(AggregateKind::Array, vec![c64(1), c64(2), c64(3), c64(4)]));
    let r = m.tmp(b, Ty::reference(at, true), Rvalue::Ref(pl(a), true));
    let x = m.tmp(b, i64t(), call(observe, vec![op(a), r]));
    print_i64(&mut m, b, x, &nl);
    let zero = m.let_(b, usize_t(), Rvalue::Use(cu(0)));
    let a0 = m.load(b, i64t(), idx(&pl(a), zero));
    print_i64(&mut m, b, a0, &nl);
    let x = m.tmp(b, i64t(), call(via_ref, vec![op(a)]));
    print_i64(&mut m, b, x, &nl);
    let one = m.let_(b, usize_t(), Rvalue::Use(cu(1)));
    let a1 = m.load(b, i64t(), idx(&pl(a), one));
    print_i64(&mut m, b, a1, &nl);
    m.ret_unit(b);
    pb.add_main(m);
    (pb.p, "1\n1000\n1050\n2\n".to_string())
}

/// `fn walk(n: i64, acc: [i64; 8]) -> [i64; 8]`, tail-recursive 100,000 deep: only correct (and
/// within the stack) after the IR's tail-recursion pass turned it into a loop that reassigns the
/// aggregate parameter, so the program goes through the IR passes first.
pub fn tail_recursion_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let at = array(i64t(), 8);
    let id = pb.next_id();
    let mut f = Fb::new("walk", &[i64t(), at.clone()], at.clone());
    let (b0, base, step) = (BlockId(0), f.block(), f.block());
    let done = f.tmp(b0, Ty::Bool, bin(BinOp::Eq, f.param(0), c64(0)));
    f.term(b0, Terminator::Branch { cond: done, then_bb: base, else_bb: step });
    f.term(base, Terminator::Return(f.param(1)));
    let na = f.let_(step, at.clone(), Rvalue::Use(f.param(1)));
    let k = f.tmp(step, i64t(), bin(BinOp::Rem, f.param(0), c64(8)));
    let k = f.let_(step, usize_t(), Rvalue::Cast(k, usize_t()));
    let old = f.load(step, i64t(), idx(&pl(na), k));
    let new = f.tmp(step, i64t(), bin(BinOp::Add, old, f.param(0)));
    f.store(step, idx(&pl(na), k), new);
    let n1 = f.tmp(step, i64t(), bin(BinOp::Sub, f.param(0), c64(1)));
    let r = f.let_(step, at.clone(), call(id, vec![n1, op(na)]));
    f.term(step, Terminator::Return(op(r)));
    pb.add(f);
    let mut m = Fb::new("main", &[], Ty::Unit);
    let b = BlockId(0);
    let zeros = m.tmp(b, at.clone(), Rvalue::Repeat(c64(0), 8));
    let res = m.let_(b, at, call(id, vec![c64(100_000), zeros]));
    let b = m.for_range(b, cu(8), |m, body, i| {
        let v = m.load(body, i64t(), idx(&pl(res), i));
        print_i64(m, body, v, &nl);
        body
    });
    m.ret_unit(b);
    pb.add_main(m);
    let options = bloodc::ir::passes::PassOptions { no_preempt: false, optimize: true };
    bloodc::ir::passes::run_passes(&mut pb.p, options);
    let mut acc = [0i64; 8];
    for n in 1..=100_000i64 {
        acc[(n % 8) as usize] += n;
    }
    (pb.p, acc.iter().map(|v| format!("{v}\n")).collect())
}

/// Unbounded recursion of a function with a 16 KiB frame is reported as a stack overflow. (The
/// user's `main` runs on the main thread, whose guard gap is wide; on a fiber stack with its one
/// guard page, the stack probes of large frames are what make the fault land in the guard,
/// see `large_frames_are_probed` in the codegen unit tests.)
pub fn large_frame_overflow_program() -> Program {
    let mut pb = Pb::new();
    let id = pb.next_id();
    let mut f = Fb::new("deep", &[i64t()], i64t());
    let b = BlockId(0);
    // Only the lowest element is written: nothing else would touch the pages of the frame.
    let a = f.local(array(i64t(), 2000));
    let zero = f.let_(b, usize_t(), Rvalue::Use(cu(0)));
    let v = f.param(0);
    f.store(b, idx(&pl(a), zero), v);
    let n1 = f.tmp(b, i64t(), bin(BinOp::Add, f.param(0), c64(1)));
    let r = f.tmp(b, i64t(), call(id, vec![n1]));
    let x = f.load(b, i64t(), idx(&pl(a), zero));
    let s = f.tmp(b, i64t(), bin(BinOp::Add, r, x));
    f.term(b, Terminator::Return(s));
    pb.add(f);
    let mut m = Fb::new("main", &[], Ty::Unit);
    m.tmp(BlockId(0), i64t(), call(id, vec![c64(0)]));
    m.ret_unit(BlockId(0));
    pb.add_main(m);
    pb.p
}

/// Every program of this file, for the foreign-target compile test.
pub const PROGRAMS: [(&str, super::Case); 4] = [
    ("aggregate calls", aggregate_calls_program),
    ("recursion", recursion_program),
    ("borrowed argument", borrowed_argument_program),
    ("tail recursion", tail_recursion_program),
];

#[test]
fn aggregates_passed_and_returned_at_many_sizes() {
    let (p, e) = aggregate_calls_program();
    assert_output(&p, &e);
}

#[test]
fn recursion_with_aggregate_params() {
    let (p, e) = recursion_program();
    assert_output(&p, &e);
}

#[test]
fn argument_borrowed_mutably_is_passed_as_a_copy() {
    let (p, e) = borrowed_argument_program();
    assert_output(&p, &e);
}

#[test]
fn tail_recursion_with_an_aggregate_parameter() {
    let (p, e) = tail_recursion_program();
    assert_output(&p, &e);
}

#[test]
fn large_frames_overflow_into_the_guard_page() {
    let r = run(&large_frame_overflow_program());
    assert_eq!(r.status, Some(134), "stderr: {}", r.stderr);
    assert!(r.stderr.contains("stack overflow"), "stderr: {}", r.stderr);
}
