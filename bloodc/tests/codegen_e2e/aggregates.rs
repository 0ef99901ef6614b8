//! End-to-end tests of memory constructs (language level L1): structs, payload enums, tuples,
//! arrays, slices and references, built by hand as IR, compiled at O0 and O2, linked and run.
//! Expected outputs are computed by the same operations in Rust. Passing aggregates to and from
//! functions is tested in `aggregate_calls.rs`.

use bloodc::ir::{AggregateKind, BinOp, BlockId, Const, Intrinsic, Operand, Program, Rvalue, Terminator};
use bloodc::types::{IntTy, Ty};

use super::support::{
    Fb, Pb, adt, array, assert_output, bin, c64, call, ci, cu, deref, fld, i64t, idx, op, pl, print_i64, tuple,
    usize_t, vfld,
};

// ------------------------------------------------------------------------------------------------
// Structs and tuples.

/// `struct P(i64, i32, bool, char, i128, (i8, u16))`: build, read every field (also nested),
/// write fields in place, copy the whole value and check the copy is independent.
pub fn structs_and_tuples_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let inner = tuple(vec![Ty::Int(IntTy::I8), Ty::Int(IntTy::U16)]);
    let fields = vec![i64t(), Ty::Int(IntTy::I32), Ty::Bool, Ty::Char, Ty::Int(IntTy::I128), inner.clone()];
    let p_ty = pb.strukt("P", fields);
    let mut m = Fb::new("main", &[], Ty::Unit);
    let b = BlockId(0);
    let t = m.let_(
        b,
        inner.clone(),
        Rvalue::Aggregate(AggregateKind::Tuple, vec![ci(IntTy::I8, -3), ci(IntTy::U16, 65535)]),
    );
    let big = -(1i128 << 100) + 12345;
    let ops = vec![
        c64(1),
        ci(IntTy::I32, -2),
        Operand::Const(Const::Bool(true)),
        Operand::Const(Const::Char('é')),
        ci(IntTy::I128, big),
        op(t),
    ];
    let p = m.let_(b, p_ty.clone(), Rvalue::Aggregate(adt(0), ops));
    let print_all = |m: &mut Fb, p| {
        let x = m.load(b, i64t(), fld(&pl(p), 0));
        print_i64(m, b, x, &nl);
        let y = m.load(b, Ty::Int(IntTy::I32), fld(&pl(p), 1));
        m.println_int(b, IntTy::I32, y, &nl);
        let flag = m.load(b, Ty::Bool, fld(&pl(p), 2));
        m.println(b, blood_abi::PRINT_BOOL, flag, &nl);
        let c = m.load(b, Ty::Char, fld(&pl(p), 3));
        m.println(b, blood_abi::PRINT_CHAR, c, &nl);
        let w = m.load(b, Ty::Int(IntTy::I128), fld(&pl(p), 4));
        m.println(b, blood_abi::PRINT_I128, w, &nl);
        let t0 = m.load(b, Ty::Int(IntTy::I8), fld(&fld(&pl(p), 5), 0));
        m.println_int(b, IntTy::I8, t0, &nl);
        let t1 = m.load(b, Ty::Int(IntTy::U16), fld(&fld(&pl(p), 5), 1));
        m.println_int(b, IntTy::U16, t1, &nl);
    };
    print_all(&mut m, p);
    m.store(b, fld(&pl(p), 0), c64(40));
    m.store(b, fld(&pl(p), 2), Operand::Const(Const::Bool(false)));
    m.store(b, fld(&fld(&pl(p), 5), 1), ci(IntTy::U16, 7));
    m.store(b, fld(&pl(p), 4), ci(IntTy::I128, 12_345_678_901_234_567_890_123));
    let q = m.let_(b, p_ty, Rvalue::Use(op(p)));
    m.store(b, fld(&pl(q), 0), c64(0));
    m.store(b, fld(&pl(q), 3), Operand::Const(Const::Char('z')));
    print_all(&mut m, p);
    print_all(&mut m, q);
    m.ret_unit(b);
    pb.add_main(m);
    let first = format!("1\n-2\ntrue\né\n{big}\n-3\n65535\n");
    let p_after = "40\n-2\nfalse\né\n12345678901234567890123\n-3\n7\n";
    let q_after = "0\n-2\nfalse\nz\n12345678901234567890123\n-3\n7\n";
    (pb.p, format!("{first}{p_after}{q_after}"))
}

/// `Inner(i16, u64)`, `Outer((i32, Inner), [Inner; 3])`: nested construction, stores through
/// `o.1[i].1` in a loop, loads of nested fields and of a whole inner struct.
pub fn nested_aggregates_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let (i16t, u64t) = (Ty::Int(IntTy::I16), Ty::Int(IntTy::U64));
    let inner = pb.strukt("Inner", vec![i16t.clone(), u64t.clone()]);
    let pair = tuple(vec![Ty::Int(IntTy::I32), inner.clone()]);
    let arr = array(inner.clone(), 3);
    let outer = pb.strukt("Outer", vec![pair.clone(), arr.clone()]);
    let mut m = Fb::new("main", &[], Ty::Unit);
    let b = BlockId(0);
    let ins: Vec<Operand> = (1..=3)
        .map(|k| {
            op(m.let_(b, inner.clone(), Rvalue::Aggregate(adt(0), vec![ci(IntTy::I16, k), ci(IntTy::U64, k * 10)])))
        })
        .collect();
    let a = m.let_(b, arr, Rvalue::Aggregate(AggregateKind::Array, ins.clone()));
    let t = m.let_(b, pair, Rvalue::Aggregate(AggregateKind::Tuple, vec![ci(IntTy::I32, 7), ins[1].clone()]));
    let o = m.let_(b, outer, Rvalue::Aggregate(adt(0), vec![op(t), op(a)]));
    let exit = m.for_range(b, cu(3), |m, body, i| {
        let q_place = fld(&idx(&fld(&pl(o), 1), i), 1);
        let q = m.load(body, u64t.clone(), q_place.clone());
        let q3 = m.tmp(body, u64t.clone(), bin(BinOp::Mul, q, ci(IntTy::U64, 3)));
        let iu = m.tmp(body, u64t.clone(), Rvalue::Cast(op(i), u64t.clone()));
        let v = m.tmp(body, u64t.clone(), bin(BinOp::Add, q3, iu));
        m.store(body, q_place, v);
        body
    });
    let p = m.load(exit, i16t.clone(), fld(&fld(&fld(&pl(o), 0), 1), 0));
    m.println_int(exit, IntTy::I16, p, &nl);
    let q = m.load(exit, u64t.clone(), fld(&fld(&fld(&pl(o), 0), 1), 1));
    m.println_int(exit, IntTy::U64, q, &nl);
    for k in 0..3 {
        let kl = m.let_(exit, usize_t(), Rvalue::Use(cu(k)));
        let q = m.load(exit, u64t.clone(), fld(&idx(&fld(&pl(o), 1), kl), 1));
        m.println_int(exit, IntTy::U64, q, &nl);
    }
    let one = m.let_(exit, usize_t(), Rvalue::Use(cu(1)));
    let whole = m.let_(exit, inner, Rvalue::Load(idx(&fld(&pl(o), 1), one)));
    let wq = m.load(exit, u64t, fld(&pl(whole), 1));
    m.println_int(exit, IntTy::U64, wq, &nl);
    m.ret_unit(exit);
    pb.add_main(m);
    (pb.p, "2\n20\n30\n61\n92\n61\n".to_string())
}

// ------------------------------------------------------------------------------------------------
// Arrays.

/// Index loads and stores in loops, `[x; n]` filled by a loop (10,000 `i64`), by `memset` (zero),
/// inline (short), and with an aggregate element.
pub fn arrays_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let n = 10_000u64;
    let mut m = Fb::new("main", &[], Ty::Unit);
    let b = BlockId(0);
    let a = m.let_(b, array(i64t(), n), Rvalue::Repeat(c64(7), n));
    let z = m.let_(b, array(Ty::Int(IntTy::I32), n), Rvalue::Repeat(ci(IntTy::I32, 0), n));
    let b = m.for_range(b, cu(n), |m, body, i| {
        let ii = m.tmp(body, i64t(), Rvalue::Cast(op(i), i64t()));
        let sq = m.tmp(body, i64t(), bin(BinOp::Mul, ii.clone(), ii));
        let old = m.load(body, i64t(), idx(&pl(a), i));
        let new = m.tmp(body, i64t(), bin(BinOp::Add, old, sq));
        m.store(body, idx(&pl(a), i), new);
        let r = m.tmp(body, usize_t(), bin(BinOp::Rem, op(i), cu(7)));
        let r32 = m.tmp(body, Ty::Int(IntTy::I32), Rvalue::Cast(r, Ty::Int(IntTy::I32)));
        m.store(body, idx(&pl(z), i), r32);
        body
    });
    let sum = m.let_(b, i64t(), Rvalue::Use(c64(0)));
    let b = m.for_range(b, cu(n), |m, body, i| {
        let x = m.load(body, i64t(), idx(&pl(a), i));
        m.assign(body, sum, bin(BinOp::Add, op(sum), x));
        let y = m.load(body, Ty::Int(IntTy::I32), idx(&pl(z), i));
        let y64 = m.tmp(body, i64t(), Rvalue::Cast(y, i64t()));
        m.assign(body, sum, bin(BinOp::Add, op(sum), y64));
        body
    });
    print_i64(&mut m, b, op(sum), &nl);
    // [(3, 4); 1000] of (i32, i8), and a short [9u8; 5].
    let elem = tuple(vec![Ty::Int(IntTy::I32), Ty::Int(IntTy::I8)]);
    let e = m.let_(b, elem.clone(), Rvalue::Aggregate(AggregateKind::Tuple, vec![ci(IntTy::I32, 3), ci(IntTy::I8, 4)]));
    let t = m.let_(b, array(elem, 1000), Rvalue::Repeat(op(e), 1000));
    let small = m.let_(b, array(Ty::Int(IntTy::U8), 5), Rvalue::Repeat(ci(IntTy::U8, 9), 5));
    let acc = m.let_(b, i64t(), Rvalue::Use(c64(0)));
    let b = m.for_range(b, cu(1000), |m, body, i| {
        let x = m.load(body, Ty::Int(IntTy::I32), fld(&idx(&pl(t), i), 0));
        let y = m.load(body, Ty::Int(IntTy::I8), fld(&idx(&pl(t), i), 1));
        let x64 = m.tmp(body, i64t(), Rvalue::Cast(x, i64t()));
        let y64 = m.tmp(body, i64t(), Rvalue::Cast(y, i64t()));
        let xy = m.tmp(body, i64t(), bin(BinOp::Mul, x64, y64));
        m.assign(body, acc, bin(BinOp::Add, op(acc), xy));
        body
    });
    let len = m.tmp(b, usize_t(), Rvalue::Len(pl(small)));
    let b = m.for_range(b, len, |m, body, i| {
        let x = m.load(body, Ty::Int(IntTy::U8), idx(&pl(small), i));
        let x64 = m.tmp(body, i64t(), Rvalue::Cast(x, i64t()));
        m.assign(body, acc, bin(BinOp::Add, op(acc), x64));
        body
    });
    print_i64(&mut m, b, op(acc), &nl);
    m.ret_unit(b);
    pb.add_main(m);
    let expected_sum: i64 = (0..n as i64).map(|i| 7 + i * i + i % 7).sum();
    (pb.p, format!("{expected_sum}\n{}\n", 1000 * 12 + 45))
}

// ------------------------------------------------------------------------------------------------
// References.

/// References to scalar, pair and aggregate locals, stores through them (also in callees), a
/// reference to a reference, and a scalar parameter whose address is taken.
pub fn references_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let pair = tuple(vec![i64t(), i64t()]);
    let ref_i64 = Ty::reference(i64t(), true);
    // fn set(r: &mut i64, v: i64) { *r = v }
    let mut set = Fb::new("set", &[ref_i64.clone(), i64t()], Ty::Unit);
    let v = set.param(1);
    set.store(BlockId(0), deref(&pl(bloodc::ir::Local(0))), v);
    set.ret_unit(BlockId(0));
    let set = pb.add(set);
    // fn bump(r: &mut (i64, i64)) { (*r).1 = (*r).1 + 1 }
    let mut bump = Fb::new("bump", &[Ty::reference(pair.clone(), true)], Ty::Unit);
    let place = fld(&deref(&pl(bloodc::ir::Local(0))), 1);
    let old = bump.load(BlockId(0), i64t(), place.clone());
    let new = bump.tmp(BlockId(0), i64t(), bin(BinOp::Add, old, c64(1)));
    bump.store(BlockId(0), place, new);
    bump.ret_unit(BlockId(0));
    let bump = pb.add(bump);
    // fn first(r: &(i64, i64)) -> i64 { (*r).0 }
    let mut first = Fb::new("first", &[Ty::reference(pair.clone(), false)], i64t());
    let x = first.load(BlockId(0), i64t(), fld(&deref(&pl(bloodc::ir::Local(0))), 0));
    first.term(BlockId(0), Terminator::Return(x));
    let first = pb.add(first);
    // fn inc(x: i64) -> i64 { let r = &mut x; *r = *r + 1; x }
    let mut inc = Fb::new("inc", &[i64t()], i64t());
    let r = inc.let_(BlockId(0), ref_i64.clone(), Rvalue::Ref(pl(bloodc::ir::Local(0)), true));
    let old = inc.load(BlockId(0), i64t(), deref(&pl(r)));
    let new = inc.tmp(BlockId(0), i64t(), bin(BinOp::Add, old, c64(1)));
    inc.store(BlockId(0), deref(&pl(r)), new);
    inc.term(BlockId(0), Terminator::Return(inc.param(0)));
    let inc = pb.add(inc);

    let mut m = Fb::new("main", &[], Ty::Unit);
    let b = BlockId(0);
    let x = m.let_(b, i64t(), Rvalue::Use(c64(5)));
    let r = m.let_(b, ref_i64.clone(), Rvalue::Ref(pl(x), true));
    m.store(b, deref(&pl(r)), c64(42));
    print_i64(&mut m, b, op(x), &nl);
    let r2 = m.tmp(b, ref_i64.clone(), Rvalue::Ref(pl(x), true));
    m.tmp(b, Ty::Unit, call(set, vec![r2, c64(7)]));
    print_i64(&mut m, b, op(x), &nl);
    let rr = m.let_(b, Ty::reference(ref_i64.clone(), false), Rvalue::Ref(pl(r), false));
    m.store(b, deref(&deref(&pl(rr))), c64(100));
    print_i64(&mut m, b, op(x), &nl);
    let s = m.let_(b, pair.clone(), Rvalue::Aggregate(AggregateKind::Tuple, vec![c64(1), c64(2)]));
    let rf = m.let_(b, ref_i64, Rvalue::Ref(fld(&pl(s), 1), true));
    m.store(b, deref(&pl(rf)), c64(9));
    let s1 = m.load(b, i64t(), fld(&pl(s), 1));
    print_i64(&mut m, b, s1, &nl);
    let rs = m.tmp(b, Ty::reference(pair.clone(), true), Rvalue::Ref(pl(s), true));
    m.tmp(b, Ty::Unit, call(bump, vec![rs]));
    let s1 = m.load(b, i64t(), fld(&pl(s), 1));
    print_i64(&mut m, b, s1, &nl);
    let rs = m.tmp(b, Ty::reference(pair, false), Rvalue::Ref(pl(s), false));
    let f = m.tmp(b, i64t(), call(first, vec![rs]));
    print_i64(&mut m, b, f, &nl);
    let i = m.tmp(b, i64t(), call(inc, vec![op(x)]));
    print_i64(&mut m, b, i, &nl);
    print_i64(&mut m, b, op(x), &nl);
    // A borrowed `&str` (a pair in memory), replaced through the reference.
    let hi = pb.str("hi\n");
    let bye = pb.str("bye\n");
    let s = m.let_(b, Ty::Str, Rvalue::Use(hi));
    let rs = m.let_(b, Ty::reference(Ty::Str, true), Rvalue::Ref(pl(s), true));
    let v = m.load(b, Ty::Str, deref(&pl(rs)));
    m.call_rt(b, blood_abi::PRINT_STR, vec![super::support::stdout(), v]);
    m.store(b, deref(&pl(rs)), bye);
    m.call_rt(b, blood_abi::PRINT_STR, vec![super::support::stdout(), op(s)]);
    m.ret_unit(b);
    pb.add_main(m);
    (pb.p, "42\n7\n100\n9\n10\n1\n101\n100\nhi\nbye\n".to_string())
}

// ------------------------------------------------------------------------------------------------
// Slices.

/// `&[u32]` from `&[u32; 6]` by `Unsize`, `Len` and `Index` through `Deref` in callees (reading
/// and writing), a slice returned from a function, a reference to an element, and
/// `str_as_bytes`.
pub fn slices_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let hello = pb.str("héllo");
    let u32t = Ty::Int(IntTy::U32);
    let u64t = Ty::Int(IntTy::U64);
    let slice = Ty::reference(Ty::Slice(u32t.clone().into()), false);
    let slice_mut = Ty::reference(Ty::Slice(u32t.clone().into()), true);
    let arr_t = array(u32t.clone(), 6);
    let s0 = pl(bloodc::ir::Local(0));
    // fn sum(s: &[u32]) -> u64
    let mut sum = Fb::new("sum", std::slice::from_ref(&slice), u64t.clone());
    let acc = sum.let_(BlockId(0), u64t.clone(), Rvalue::Use(ci(IntTy::U64, 0)));
    let n = sum.tmp(BlockId(0), usize_t(), Rvalue::Len(deref(&s0)));
    let exit = sum.for_range(BlockId(0), n, |f, body, i| {
        let x = f.load(body, u32t.clone(), idx(&deref(&s0), i));
        let x = f.tmp(body, u64t.clone(), Rvalue::Cast(x, u64t.clone()));
        f.assign(body, acc, bin(BinOp::Add, op(acc), x));
        body
    });
    sum.term(exit, Terminator::Return(op(acc)));
    let sum = pb.add(sum);
    // fn fill(s: &mut [u32]) { for i in 0..len { (*s)[i] = i * 3 } }
    let mut fill = Fb::new("fill", std::slice::from_ref(&slice_mut), Ty::Unit);
    let n = fill.tmp(BlockId(0), usize_t(), Rvalue::Len(deref(&s0)));
    let exit = fill.for_range(BlockId(0), n, |f, body, i| {
        let v = f.tmp(body, usize_t(), bin(BinOp::Mul, op(i), cu(3)));
        let v = f.tmp(body, u32t.clone(), Rvalue::Cast(v, u32t.clone()));
        f.store(body, idx(&deref(&s0), i), v);
        body
    });
    fill.ret_unit(exit);
    let fill = pb.add(fill);
    // fn id(s: &[u32]) -> &[u32] { s }
    let mut id = Fb::new("id", std::slice::from_ref(&slice), slice.clone());
    id.term(BlockId(0), Terminator::Return(id.param(0)));
    let id = pb.add(id);

    let mut m = Fb::new("main", &[], Ty::Unit);
    let b = BlockId(0);
    let elems = (1..=6).map(|k| ci(IntTy::U32, k)).collect();
    let arr = m.let_(b, arr_t.clone(), Rvalue::Aggregate(AggregateKind::Array, elems));
    let r = m.tmp(b, Ty::reference(arr_t.clone(), false), Rvalue::Ref(pl(arr), false));
    let s = m.let_(b, slice.clone(), Rvalue::Unsize(r));
    let total = m.tmp(b, u64t.clone(), call(sum, vec![op(s)]));
    m.println_int(b, IntTy::U64, total, &nl);
    let len = m.tmp(b, usize_t(), Rvalue::Len(deref(&pl(s))));
    m.println_int(b, IntTy::Usize, len, &nl);
    let two = m.let_(b, usize_t(), Rvalue::Use(cu(2)));
    let e = m.let_(b, Ty::reference(u32t.clone(), false), Rvalue::Ref(idx(&deref(&pl(s)), two), false));
    let ev = m.load(b, u32t.clone(), deref(&pl(e)));
    m.println_int(b, IntTy::U32, ev, &nl);
    let rm = m.tmp(b, Ty::reference(arr_t.clone(), true), Rvalue::Ref(pl(arr), true));
    let sm = m.tmp(b, slice_mut, Rvalue::Unsize(rm));
    m.tmp(b, Ty::Unit, call(fill, vec![sm]));
    let r = m.tmp(b, Ty::reference(arr_t, false), Rvalue::Ref(pl(arr), false));
    let s2 = m.tmp(b, slice.clone(), Rvalue::Unsize(r));
    let s3 = m.tmp(b, slice.clone(), call(id, vec![s2]));
    let total = m.tmp(b, u64t.clone(), call(sum, vec![s3]));
    m.println_int(b, IntTy::U64, total, &nl);
    let five = m.let_(b, usize_t(), Rvalue::Use(cu(5)));
    let last = m.load(b, u32t, idx(&pl(arr), five));
    m.println_int(b, IntTy::U32, last, &nl);
    // Whole-slice reference re-borrowed from a place: &*s has the same length.
    let again = m.let_(b, slice, Rvalue::Ref(deref(&pl(s)), false));
    let len = m.tmp(b, usize_t(), Rvalue::Len(deref(&pl(again))));
    m.println_int(b, IntTy::Usize, len, &nl);
    let u8t = Ty::Int(IntTy::U8);
    let bytes_t = Ty::reference(Ty::Slice(u8t.clone().into()), false);
    let bytes = m.let_(b, bytes_t, Rvalue::Intrinsic(Intrinsic::StrAsBytes, vec![hello]));
    let n = m.tmp(b, usize_t(), Rvalue::Len(deref(&pl(bytes))));
    m.println_int(b, IntTy::Usize, n.clone(), &nl);
    let acc = m.let_(b, u64t.clone(), Rvalue::Use(ci(IntTy::U64, 0)));
    let b = m.for_range(b, n, |m, body, i| {
        let x = m.load(body, u8t.clone(), idx(&deref(&pl(bytes)), i));
        let x = m.tmp(body, u64t.clone(), Rvalue::Cast(x, u64t.clone()));
        m.assign(body, acc, bin(BinOp::Add, op(acc), x));
        body
    });
    m.println_int(b, IntTy::U64, op(acc), &nl);
    m.ret_unit(b);
    pb.add_main(m);
    let byte_sum: u64 = "héllo".bytes().map(u64::from).sum();
    (pb.p, format!("21\n6\n3\n45\n15\n6\n6\n{byte_sum}\n"))
}

// ------------------------------------------------------------------------------------------------
// Enums with payloads.

/// `enum E { A, B(i64), C(i32, (u8, i128)) }`: variants built into an array, tags read in place
/// and through a by-value parameter, payload fields read, a variant overwritten by a store.
pub fn enums_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let i128t = Ty::Int(IntTy::I128);
    let inner = tuple(vec![Ty::Int(IntTy::U8), i128t.clone()]);
    let e_ty = pb.enumeration("E", vec![vec![], vec![i64t()], vec![Ty::Int(IntTy::I32), inner.clone()]]);
    // fn describe(e: E) -> i128 { match e { A => -1, B(x) => x, C(x, (_, y)) => x + y } }
    let mut d = Fb::new("describe", std::slice::from_ref(&e_ty), i128t.clone());
    let e = pl(bloodc::ir::Local(0));
    let (b0, ba, bnot_a, bb, bc) = (BlockId(0), d.block(), d.block(), d.block(), d.block());
    let tag = d.tmp(b0, Ty::Int(IntTy::U32), Rvalue::Discriminant(e.clone()));
    let is_a = d.tmp(b0, Ty::Bool, bin(BinOp::Eq, tag.clone(), ci(IntTy::U32, 0)));
    d.term(b0, Terminator::Branch { cond: is_a, then_bb: ba, else_bb: bnot_a });
    d.term(ba, Terminator::Return(ci(IntTy::I128, -1)));
    let is_b = d.tmp(bnot_a, Ty::Bool, bin(BinOp::Eq, tag, ci(IntTy::U32, 1)));
    d.term(bnot_a, Terminator::Branch { cond: is_b, then_bb: bb, else_bb: bc });
    let x = d.load(bb, i64t(), vfld(&e, 1, 0));
    let x = d.tmp(bb, i128t.clone(), Rvalue::Cast(x, i128t.clone()));
    d.term(bb, Terminator::Return(x));
    let x = d.load(bc, Ty::Int(IntTy::I32), vfld(&e, 2, 0));
    let x = d.tmp(bc, i128t.clone(), Rvalue::Cast(x, i128t.clone()));
    let y = d.load(bc, i128t.clone(), fld(&vfld(&e, 2, 1), 1));
    let s = d.tmp(bc, i128t.clone(), bin(BinOp::Add, x, y));
    d.term(bc, Terminator::Return(s));
    let describe = pb.add(d);

    let mut m = Fb::new("main", &[], Ty::Unit);
    let b = BlockId(0);
    let a = m.let_(b, e_ty.clone(), Rvalue::Aggregate(adt(0), vec![]));
    let bv = m.let_(b, e_ty.clone(), Rvalue::Aggregate(adt(1), vec![c64(41)]));
    let t = m.let_(b, inner, Rvalue::Aggregate(AggregateKind::Tuple, vec![ci(IntTy::U8, 7), ci(IntTy::I128, 1 << 90)]));
    let cv = m.let_(b, e_ty.clone(), Rvalue::Aggregate(adt(2), vec![ci(IntTy::I32, 2), op(t)]));
    let arr = m.let_(b, array(e_ty.clone(), 3), Rvalue::Aggregate(AggregateKind::Array, vec![op(a), op(bv), op(cv)]));
    let show_all = |m: &mut Fb, b: BlockId| {
        m.for_range(b, cu(3), |m, body, i| {
            let tag = m.tmp(body, Ty::Int(IntTy::U32), Rvalue::Discriminant(idx(&pl(arr), i)));
            m.println_int(body, IntTy::U32, tag, &nl);
            let e = m.load(body, e_ty.clone(), idx(&pl(arr), i));
            let r = m.tmp(body, i128t.clone(), call(describe, vec![e]));
            m.println(body, blood_abi::PRINT_I128, r, &nl);
            body
        })
    };
    let b = show_all(&mut m, b);
    let one = m.let_(b, usize_t(), Rvalue::Use(cu(1)));
    m.store(b, idx(&pl(arr), one), op(cv));
    m.store(b, vfld(&idx(&pl(arr), one), 2, 0), ci(IntTy::I32, -5));
    let b = show_all(&mut m, b);
    m.ret_unit(b);
    pb.add_main(m);
    let c = 2 + (1i128 << 90);
    (pb.p, format!("0\n-1\n1\n41\n2\n{c}\n0\n-1\n2\n{}\n2\n{c}\n", c - 7))
}

/// `struct Z(bool, Empty, i128, (), char, [i64; 0], u8)` with `struct Empty`: zero-sized fields
/// between others, `i128` alignment, passed through a function and read back.
pub fn zero_sized_fields_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let empty = pb.strukt("Empty", vec![]);
    let fields =
        vec![Ty::Bool, empty.clone(), Ty::Int(IntTy::I128), Ty::Unit, Ty::Char, array(i64t(), 0), Ty::Int(IntTy::U8)];
    let z_ty = pb.strukt("Z", fields);
    let mut id = Fb::new("pass", std::slice::from_ref(&z_ty), z_ty.clone());
    id.term(BlockId(0), Terminator::Return(id.param(0)));
    let pass = pb.add(id);
    let mut e = Fb::new("pass_empty", std::slice::from_ref(&empty), empty.clone());
    e.term(BlockId(0), Terminator::Return(e.param(0)));
    let pass_empty = pb.add(e);
    let mut m = Fb::new("main", &[], Ty::Unit);
    let b = BlockId(0);
    let em = m.tmp(b, empty.clone(), Rvalue::Aggregate(adt(0), vec![]));
    let em = m.tmp(b, empty, call(pass_empty, vec![em]));
    let none = m.tmp(b, array(i64t(), 0), Rvalue::Aggregate(AggregateKind::Array, vec![]));
    let big = -(5i128 << 100);
    let ops = vec![
        Operand::Const(Const::Bool(true)),
        em,
        ci(IntTy::I128, big),
        Operand::Const(Const::Unit),
        Operand::Const(Const::Char('字')),
        none,
        ci(IntTy::U8, 200),
    ];
    let z = m.tmp(b, z_ty.clone(), Rvalue::Aggregate(adt(0), ops));
    let z2 = m.let_(b, z_ty, call(pass, vec![z]));
    let a = m.load(b, Ty::Bool, fld(&pl(z2), 0));
    m.println(b, blood_abi::PRINT_BOOL, a, &nl);
    let w = m.load(b, Ty::Int(IntTy::I128), fld(&pl(z2), 2));
    m.println(b, blood_abi::PRINT_I128, w, &nl);
    let c = m.load(b, Ty::Char, fld(&pl(z2), 4));
    m.println(b, blood_abi::PRINT_CHAR, c, &nl);
    let d = m.load(b, Ty::Int(IntTy::U8), fld(&pl(z2), 6));
    m.println_int(b, IntTy::U8, d, &nl);
    let len = m.tmp(b, usize_t(), Rvalue::Len(fld(&pl(z2), 5)));
    m.println_int(b, IntTy::Usize, len, &nl);
    m.ret_unit(b);
    pb.add_main(m);
    (pb.p, format!("true\n{big}\n字\n200\n0\n"))
}

/// Every program of this file, for the foreign-target compile test.
pub const PROGRAMS: [(&str, super::Case); 7] = [
    ("structs", structs_and_tuples_program),
    ("nested", nested_aggregates_program),
    ("arrays", arrays_program),
    ("references", references_program),
    ("slices", slices_program),
    ("enums", enums_program),
    ("zero-sized fields", zero_sized_fields_program),
];

#[test]
fn structs_and_tuples() {
    let (p, e) = structs_and_tuples_program();
    assert_output(&p, &e);
}

#[test]
fn nested_aggregates() {
    let (p, e) = nested_aggregates_program();
    assert_output(&p, &e);
}

#[test]
fn arrays_index_and_repeat() {
    let (p, e) = arrays_program();
    assert_output(&p, &e);
}

#[test]
fn references_to_locals_and_stores_through_them() {
    let (p, e) = references_program();
    assert_output(&p, &e);
}

#[test]
fn slices_len_index_and_str_as_bytes() {
    let (p, e) = slices_program();
    assert_output(&p, &e);
}

#[test]
fn enums_with_payloads() {
    let (p, e) = enums_program();
    assert_output(&p, &e);
}

#[test]
fn zero_sized_fields_and_alignment() {
    let (p, e) = zero_sized_fields_program();
    assert_output(&p, &e);
}
