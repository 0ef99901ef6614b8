//! End-to-end tests of codegen: Blood IR programs built by hand are compiled (at O0 and O2),
//! linked with the real runtime archive, run, and their output compared with what Rust computes
//! for the same operations (Rust's `as` and wrapping arithmetic have the semantics LANGUAGE.md
//! §3.5–§3.6 asks for, and the runtime prints floats like Rust's `{}`).
//!
//! Operations are applied to function *parameters*, so Cranelift cannot fold them away and the
//! lowering itself is exercised; constant operands are tested separately.

#[path = "codegen_e2e/support.rs"]
mod support;

#[path = "codegen_e2e/aggregates.rs"]
mod aggregates;

#[path = "codegen_e2e/aggregate_calls.rs"]
mod aggregate_calls;

use bloodc::codegen::{CodegenOptions, compile_program};
use bloodc::driver::OptLevel;
use bloodc::ir::{BinOp, BlockId, Const, Intrinsic, Operand, Program, Rvalue, Terminator, UnOp};
use bloodc::types::{FloatTy, IntTy, Ty};
use support::{Fb, Pb, assert_output, call, cf, ci, run, stdout};

// ------------------------------------------------------------------------------------------------
// Control flow and calls.

/// `fn fib(n: i64) -> i64 { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }`, and a loop
/// printing `fib(i)` for `i in 0..N`.
fn fib_program(n: i64) -> Program {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let i64t = Ty::Int(IntTy::I64);
    let fib_id = pb.next_id();
    let mut fib = Fb::new("fib", std::slice::from_ref(&i64t), i64t.clone());
    let (entry, base, rec) = (BlockId(0), fib.block(), fib.block());
    let small = fib.tmp(entry, Ty::Bool, Rvalue::Binary(BinOp::Lt, fib.param(0), ci(IntTy::I64, 2)));
    fib.term(entry, Terminator::Branch { cond: small, then_bb: base, else_bb: rec });
    fib.term(base, Terminator::Return(fib.param(0)));
    let n1 = fib.tmp(rec, i64t.clone(), Rvalue::Binary(BinOp::Sub, fib.param(0), ci(IntTy::I64, 1)));
    let n2 = fib.tmp(rec, i64t.clone(), Rvalue::Binary(BinOp::Sub, fib.param(0), ci(IntTy::I64, 2)));
    let f1 = fib.tmp(rec, i64t.clone(), call(fib_id, vec![n1]));
    let f2 = fib.tmp(rec, i64t.clone(), call(fib_id, vec![n2]));
    let sum = fib.tmp(rec, i64t.clone(), Rvalue::Binary(BinOp::Add, f1, f2));
    fib.term(rec, Terminator::Return(sum));
    pb.add(fib);

    // main: let mut i = 0; while i < n { println_i64(fib(i)); i = i + 1 }
    let mut m = Fb::new("main", &[], Ty::Unit);
    let i = m.local(i64t.clone());
    let (head, body, exit) = (m.block(), m.block(), m.block());
    m.assign(BlockId(0), i, Rvalue::Use(ci(IntTy::I64, 0)));
    m.term(BlockId(0), Terminator::Goto(head));
    let more = m.tmp(head, Ty::Bool, Rvalue::Binary(BinOp::Lt, Operand::Local(i), ci(IntTy::I64, n.into())));
    m.term(head, Terminator::Branch { cond: more, then_bb: body, else_bb: exit });
    let f = m.tmp(body, i64t.clone(), call(fib_id, vec![Operand::Local(i)]));
    m.println(body, blood_abi::PRINT_I64, f, &nl);
    m.assign(body, i, Rvalue::Binary(BinOp::Add, Operand::Local(i), ci(IntTy::I64, 1)));
    m.safepoint(body);
    m.term(body, Terminator::Goto(head));
    m.ret_unit(exit);
    pb.add_main(m);
    pb.p
}

fn fib_and_a_loop_program() -> (Program, String) {
    let mut expected = String::new();
    let (mut a, mut b) = (0i64, 1i64);
    for _ in 0..25 {
        expected.push_str(&format!("{a}\n"));
        (a, b) = (b, a + b);
    }
    (fib_program(25), expected)
}

#[test]
fn fib_and_a_loop() {
    let (p, expected) = fib_and_a_loop_program();
    assert_output(&p, &expected);
}

#[test]
fn main_returning_i32_sets_the_exit_status() {
    let mut pb = Pb::new();
    let mut m = Fb::new("main", &[], Ty::Int(IntTy::I32));
    m.term(BlockId(0), Terminator::Return(ci(IntTy::I32, 7)));
    pb.add_main(m);
    assert_eq!(run(&pb.p).status, Some(7));
}

#[test]
fn panic_exits_101_after_flushing_stdout() {
    let mut pb = Pb::new();
    let before = pb.str("before\n");
    let msg = pb.str("boom");
    // `fn die(msg: &str) -> ! { panic(msg) }`: a `&str` parameter and a `!` return.
    let mut die = Fb::new("die", &[Ty::Str], Ty::Never);
    let p0 = die.param(0);
    die.call_rt(BlockId(0), blood_abi::PANIC, vec![p0]);
    die.term(BlockId(0), Terminator::Unreachable);
    let die_id = pb.add(die);
    let mut m = Fb::new("main", &[], Ty::Unit);
    m.call_rt(BlockId(0), blood_abi::PRINT_STR, vec![stdout(), before]);
    m.tmp(BlockId(0), Ty::Never, call(die_id, vec![msg]));
    m.term(BlockId(0), Terminator::Unreachable);
    pb.add_main(m);
    let r = run(&pb.p);
    assert_eq!(r.status, Some(blood_abi::EXIT_PANIC));
    assert_eq!(r.stdout, "before\n");
    assert!(r.stderr.contains("panic: boom"), "stderr: {}", r.stderr);
}

#[test]
fn strings_pass_through_functions() {
    let mut pb = Pb::new();
    let hello = pb.str("héllo, wörld\n");
    let empty = pb.str("");
    let end = pb.str("|end\n");
    // `fn id(s: &str) -> &str { s }`
    let mut id = Fb::new("id", &[Ty::Str], Ty::Str);
    id.term(BlockId(0), Terminator::Return(id.param(0)));
    let id_id = pb.add(id);
    let mut m = Fb::new("main", &[], Ty::Unit);
    for s in [hello, empty, end] {
        let v = m.tmp(BlockId(0), Ty::Str, call(id_id, vec![s]));
        m.call_rt(BlockId(0), blood_abi::PRINT_STR, vec![stdout(), v]);
    }
    m.ret_unit(BlockId(0));
    pb.add_main(m);
    assert_output(&pb.p, "héllo, wörld\n|end\n");
}

// ------------------------------------------------------------------------------------------------
// Integer arithmetic, checked against an emulation on two's-complement bit patterns.

#[rustfmt::skip]
const INT_BINOPS: [BinOp; 10] = [
    BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Rem,
    BinOp::BitAnd, BinOp::BitOr, BinOp::BitXor, BinOp::Shl, BinOp::Shr,
];
const COMPARISONS: [BinOp; 6] = [BinOp::Eq, BinOp::Ne, BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge];

fn sext(bits: u128, n: u32) -> i128 {
    ((bits << (128 - n)) as i128) >> (128 - n)
}

fn min_of(it: IntTy) -> i128 {
    if it.is_signed() { sext(1u128 << (it.bits() - 1), it.bits()) } else { 0 }
}

fn max_of(it: IntTy) -> i128 {
    if it.is_signed() { i128::MAX >> (128 - it.bits()) } else { it.truncate(u128::MAX) as i128 }
}

/// How the program prints a value of type `it` (widened to 128 bits by its own signedness).
fn show(it: IntTy, bits: u128) -> String {
    if it.is_signed() { sext(bits, it.bits()).to_string() } else { bits.to_string() }
}

/// The language's result of `a op b` on values of type `it` (LANGUAGE.md §3.5).
fn emulate(op: BinOp, it: IntTy, a: u128, b: u128) -> String {
    let (n, signed) = (it.bits(), it.is_signed());
    let (sa, sb) = (sext(a, n), sext(b, n));
    let t = |v: u128| it.truncate(v);
    let shift = (b as u32) & (n - 1);
    let bits = match op {
        BinOp::Add => t(a.wrapping_add(b)),
        BinOp::Sub => t(a.wrapping_sub(b)),
        BinOp::Mul => t(a.wrapping_mul(b)),
        BinOp::Div if signed => t(if sb == -1 { sa.wrapping_neg() } else { sa / sb } as u128),
        BinOp::Rem if signed => t(if sb == -1 { 0 } else { sa % sb } as u128),
        BinOp::Div => a / b,
        BinOp::Rem => a % b,
        BinOp::BitAnd => a & b,
        BinOp::BitOr => a | b,
        BinOp::BitXor => a ^ b,
        BinOp::Shl => t(a << shift),
        BinOp::Shr if signed => t((sa >> shift) as u128),
        BinOp::Shr => a >> shift,
        cmp => {
            let ord = if signed { sa.cmp(&sb) } else { a.cmp(&b) };
            let r = match cmp {
                BinOp::Eq => ord.is_eq(),
                BinOp::Ne => ord.is_ne(),
                BinOp::Lt => ord.is_lt(),
                BinOp::Le => ord.is_le(),
                BinOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            };
            return r.to_string();
        }
    };
    show(it, bits)
}

/// `fn ops_T(a: T, b: T)` printing every binary operator's result, then `-a` and `!a`.
fn int_ops_fn(it: IntTy, nl: &Operand) -> Fb {
    let t = Ty::Int(it);
    let mut f = Fb::new(&format!("ops_{}", it.name()), &[t.clone(), t.clone()], Ty::Unit);
    let b0 = BlockId(0);
    for op in INT_BINOPS {
        let r = f.tmp(b0, t.clone(), Rvalue::Binary(op, f.param(0), f.param(1)));
        f.println_int(b0, it, r, nl);
    }
    for op in COMPARISONS {
        let r = f.tmp(b0, Ty::Bool, Rvalue::Binary(op, f.param(0), f.param(1)));
        f.println(b0, blood_abi::PRINT_BOOL, r, nl);
    }
    let neg = f.tmp(b0, t.clone(), Rvalue::Unary(UnOp::Neg, f.param(0)));
    f.println_int(b0, it, neg, nl);
    let not = f.tmp(b0, t.clone(), Rvalue::Unary(UnOp::Not, f.param(0)));
    f.println_int(b0, it, not, nl);
    f.ret_unit(b0);
    f
}

fn int_pairs(it: IntTy) -> Vec<(u128, u128)> {
    let n = i128::from(it.bits());
    let (min, max) = (min_of(it), max_of(it));
    #[rustfmt::skip]
    let raw: [(i128, i128); 16] = [
        (7, 3), (-7, 3), (7, -3), (-7, -3),
        (min, -1), (max, 2), (min, 1), (-1, -1),
        (5, 67), (max, max), (0x5a5a, 0x33), (1, n - 1),
        (1, n), (-1, n + 3), (123_456_789_012_345_678_901_234_567_890, 1000), (min, max),
    ];
    raw.iter().map(|&(a, b)| (it.truncate(a as u128), it.truncate(b as u128))).filter(|&(_, b)| b != 0).collect()
}

fn integer_operators_on_every_type_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let mut m = Fb::new("main", &[], Ty::Unit);
    let mut expected = String::new();
    for it in IntTy::ALL {
        let f = pb.add(int_ops_fn(it, &nl));
        for (a, b) in int_pairs(it) {
            m.tmp(BlockId(0), Ty::Unit, call(f, vec![ci(it, a as i128), ci(it, b as i128)]));
            for op in INT_BINOPS.iter().chain(&COMPARISONS) {
                expected.push_str(&emulate(*op, it, a, b));
                expected.push('\n');
            }
            expected.push_str(&format!("{}\n", show(it, it.truncate(a.wrapping_neg()))));
            expected.push_str(&format!("{}\n", show(it, it.truncate(!a))));
        }
    }
    m.ret_unit(BlockId(0));
    pb.add_main(m);
    (pb.p, expected)
}

#[test]
fn integer_operators_on_every_type() {
    let (p, expected) = integer_operators_on_every_type_program();
    assert_output(&p, &expected);
}

/// Division and remainder by constants (the unguarded path), including `-1`.
fn division_by_constants_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let mut m = Fb::new("main", &[], Ty::Unit);
    let mut expected = String::new();
    for it in [IntTy::I8, IntTy::I32, IntTy::I64, IntTy::I128, IntTy::U16, IntTy::U64, IntTy::U128] {
        let t = Ty::Int(it);
        let mut f = Fb::new(&format!("divc_{}", it.name()), std::slice::from_ref(&t), Ty::Unit);
        let divisors: &[i128] = if it.is_signed() { &[-1, 7, -7, 1, 2, 16] } else { &[7, 1, 2, 16, 255] };
        for &d in divisors {
            for op in [BinOp::Div, BinOp::Rem] {
                let r = f.tmp(BlockId(0), t.clone(), Rvalue::Binary(op, f.param(0), ci(it, d)));
                f.println_int(BlockId(0), it, r, &nl);
            }
        }
        f.ret_unit(BlockId(0));
        let id = pb.add(f);
        for a in [min_of(it), max_of(it), -13, 13, 0] {
            let a = it.truncate(a as u128);
            m.tmp(BlockId(0), Ty::Unit, call(id, vec![ci(it, a as i128)]));
            for &d in divisors {
                for op in [BinOp::Div, BinOp::Rem] {
                    expected.push_str(&format!("{}\n", emulate(op, it, a, it.truncate(d as u128))));
                }
            }
        }
    }
    m.ret_unit(BlockId(0));
    pb.add_main(m);
    (pb.p, expected)
}

#[test]
fn division_by_constants() {
    let (p, expected) = division_by_constants_program();
    assert_output(&p, &expected);
}

/// The IR guards `/ 0` with a branch to a panic, but codegen itself must never trap: an
/// unguarded division by a zero parameter returns (an unspecified value) instead of `SIGFPE`.
#[test]
fn division_by_zero_never_traps() {
    let mut pb = Pb::new();
    let mut m = Fb::new("main", &[], Ty::Int(IntTy::I32));
    for it in [IntTy::I8, IntTy::I32, IntTy::I64, IntTy::I128, IntTy::U64] {
        let t = Ty::Int(it);
        let mut f = Fb::new(&format!("div0_{}", it.name()), &[t.clone(), t.clone()], Ty::Unit);
        for op in [BinOp::Div, BinOp::Rem] {
            f.tmp(BlockId(0), t.clone(), Rvalue::Binary(op, f.param(0), f.param(1)));
        }
        f.ret_unit(BlockId(0));
        let id = pb.add(f);
        for a in [min_of(it), 5] {
            m.tmp(BlockId(0), Ty::Unit, call(id, vec![ci(it, a), ci(it, 0)]));
        }
    }
    m.term(BlockId(0), Terminator::Return(ci(IntTy::I32, 3)));
    pb.add_main(m);
    assert_eq!(run(&pb.p).status, Some(3));
}

/// Shift amounts of another integer type than the shifted value, and amounts ≥ the width.
fn shifts_with_mixed_types_and_large_amounts_program() -> (Program, String) {
    let combos = [
        (IntTy::I32, IntTy::U8),
        (IntTy::I8, IntTy::I128),
        (IntTy::U128, IntTy::U32),
        (IntTy::I64, IntTy::I16),
        (IntTy::U16, IntTy::U64),
        (IntTy::I128, IntTy::I8),
    ];
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let mut m = Fb::new("main", &[], Ty::Unit);
    let mut expected = String::new();
    for (vt, st) in combos {
        let mut f = Fb::new(&format!("sh_{}_{}", vt.name(), st.name()), &[Ty::Int(vt), Ty::Int(st)], Ty::Unit);
        for op in [BinOp::Shl, BinOp::Shr] {
            let r = f.tmp(BlockId(0), Ty::Int(vt), Rvalue::Binary(op, f.param(0), f.param(1)));
            f.println_int(BlockId(0), vt, r, &nl);
        }
        f.ret_unit(BlockId(0));
        let id = pb.add(f);
        for a in [-100i128, 0x1234_5678, max_of(vt)] {
            for s in [3i128, 33, 130, -1, 255, 64, 127] {
                let (a, s) = (vt.truncate(a as u128), st.truncate(s as u128));
                m.tmp(BlockId(0), Ty::Unit, call(id, vec![ci(vt, a as i128), ci(st, s as i128)]));
                for op in [BinOp::Shl, BinOp::Shr] {
                    expected.push_str(&format!("{}\n", emulate(op, vt, a, s)));
                }
            }
        }
    }
    m.ret_unit(BlockId(0));
    pb.add_main(m);
    (pb.p, expected)
}

#[test]
fn shifts_with_mixed_types_and_large_amounts() {
    let (p, expected) = shifts_with_mixed_types_and_large_amounts_program();
    assert_output(&p, &expected);
}

// ------------------------------------------------------------------------------------------------
// Casts (LANGUAGE.md §3.6), checked against Rust's `as`, which has the same rules.

/// `x as it`, printed as the program prints it.
fn rust_float_as(it: IntTy, x: f64) -> String {
    match it {
        IntTy::I8 => (x as i8).to_string(),
        IntTy::I16 => (x as i16).to_string(),
        IntTy::I32 => (x as i32).to_string(),
        IntTy::I64 | IntTy::Isize => (x as i64).to_string(),
        IntTy::I128 => (x as i128).to_string(),
        IntTy::U8 => (x as u8).to_string(),
        IntTy::U16 => (x as u16).to_string(),
        IntTy::U32 => (x as u32).to_string(),
        IntTy::U64 | IntTy::Usize => (x as u64).to_string(),
        IntTy::U128 => (x as u128).to_string(),
    }
}

fn cast_int(bits: u128, from: IntTy, to: IntTy) -> u128 {
    to.truncate(if from.is_signed() { sext(bits, from.bits()) as u128 } else { bits })
}

fn int_value(it: IntTy, bits: u128) -> (i128, u128) {
    (sext(bits, it.bits()), bits)
}

/// `fn cast_T(x: T)`: `x` cast to every integer type, `bool`, `f64` and `f32`.
fn int_cast_fn(it: IntTy, nl: &Operand) -> Fb {
    let mut f = Fb::new(&format!("cast_{}", it.name()), &[Ty::Int(it)], Ty::Unit);
    let b0 = BlockId(0);
    for to in IntTy::ALL {
        let r = f.tmp(b0, Ty::Int(to), Rvalue::Cast(f.param(0), Ty::Int(to)));
        f.println_int(b0, to, r, nl);
    }
    let r = f.tmp(b0, Ty::Bool, Rvalue::Cast(f.param(0), Ty::Bool));
    f.println(b0, blood_abi::PRINT_BOOL, r, nl);
    let r = f.tmp(b0, Ty::Float(FloatTy::F64), Rvalue::Cast(f.param(0), Ty::Float(FloatTy::F64)));
    f.println(b0, blood_abi::PRINT_F64, r, nl);
    let r = f.tmp(b0, Ty::Float(FloatTy::F32), Rvalue::Cast(f.param(0), Ty::Float(FloatTy::F32)));
    f.println(b0, blood_abi::PRINT_F32, r, nl);
    f.ret_unit(b0);
    f
}

fn casts_from_integers_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let mut m = Fb::new("main", &[], Ty::Unit);
    let mut expected = String::new();
    for it in IntTy::ALL {
        let id = pb.add(int_cast_fn(it, &nl));
        #[rustfmt::skip]
        let values = [
            0, 1, -1, min_of(it), max_of(it),
            300, -129, 0x1234_5678_9abc_def0_1122, (1 << 53) + 1, (1 << 24) + 1,
            i128::from(u64::MAX), 1 << 100, -(1 << 70),
        ];
        for v in values {
            let bits = it.truncate(v as u128);
            m.tmp(BlockId(0), Ty::Unit, call(id, vec![ci(it, bits as i128)]));
            for to in IntTy::ALL {
                expected.push_str(&format!("{}\n", show(to, cast_int(bits, it, to))));
            }
            let (s, u) = int_value(it, bits);
            let (f64v, f32v) = if it.is_signed() { (s as f64, s as f32) } else { (u as f64, u as f32) };
            expected.push_str(&format!("{}\n{f64v}\n{f32v}\n", bits != 0));
        }
    }
    m.ret_unit(BlockId(0));
    pb.add_main(m);
    (pb.p, expected)
}

#[test]
fn casts_from_integers() {
    let (p, expected) = casts_from_integers_program();
    assert_output(&p, &expected);
}

#[rustfmt::skip]
const FLOAT_CAST_INPUTS: [f64; 35] = [
    0.0, -0.0, 1.5, -1.5, 3.9, -3.9,
    255.5, 256.0, -128.9, -129.0, 65535.9, 1e10,
    -1e10, 1e19, 18446744073709551615.0, 9.3e18, -9.3e18, 1e30,
    -1e30, 1.7e38, 3.5e38, 1e40, -1e40, f64::MAX,
    f64::MIN_POSITIVE, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN, 170141183460469231731687303715884105728.0,
    -170141183460469231731687303715884105728.0, 340282366920938463463374607431768211456.0, 0.999999, -0.5, 4611686018427387904.5,
];

fn casts_from_floats_saturate_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let mut m = Fb::new("main", &[], Ty::Unit);
    let mut expected = String::new();
    for ft in [FloatTy::F64, FloatTy::F32] {
        let (other, print_other) = match ft {
            FloatTy::F64 => (FloatTy::F32, blood_abi::PRINT_F32),
            FloatTy::F32 => (FloatTy::F64, blood_abi::PRINT_F64),
        };
        let mut f = Fb::new(&format!("fcast_{}", ft.name()), &[Ty::Float(ft)], Ty::Unit);
        for to in IntTy::ALL {
            let r = f.tmp(BlockId(0), Ty::Int(to), Rvalue::Cast(f.param(0), Ty::Int(to)));
            f.println_int(BlockId(0), to, r, &nl);
        }
        let r = f.tmp(BlockId(0), Ty::Float(other), Rvalue::Cast(f.param(0), Ty::Float(other)));
        f.println(BlockId(0), print_other, r, &nl);
        f.ret_unit(BlockId(0));
        let id = pb.add(f);
        for x in FLOAT_CAST_INPUTS {
            // An f32 constant holds its exact value widened to f64.
            let x = if ft == FloatTy::F32 { f64::from(x as f32) } else { x };
            m.tmp(BlockId(0), Ty::Unit, call(id, vec![cf(ft, x)]));
            for to in IntTy::ALL {
                expected.push_str(&format!("{}\n", rust_float_as(to, x)));
            }
            match ft {
                FloatTy::F64 => expected.push_str(&format!("{}\n", x as f32)),
                FloatTy::F32 => expected.push_str(&format!("{x}\n")),
            }
        }
    }
    m.ret_unit(BlockId(0));
    pb.add_main(m);
    (pb.p, expected)
}

#[test]
fn casts_from_floats_saturate() {
    let (p, expected) = casts_from_floats_saturate_program();
    assert_output(&p, &expected);
}

fn casts_of_bool_and_char_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let mut f = Fb::new("misc", &[Ty::Bool, Ty::Char, Ty::Int(IntTy::U8), Ty::Int(IntTy::U32)], Ty::Unit);
    let b0 = BlockId(0);
    for to in [IntTy::I32, IntTy::U128, IntTy::I8] {
        let r = f.tmp(b0, Ty::Int(to), Rvalue::Cast(f.param(0), Ty::Int(to)));
        f.println_int(b0, to, r, &nl);
    }
    for to in [IntTy::U8, IntTy::U32, IntTy::I64, IntTy::I128, IntTy::I16] {
        let r = f.tmp(b0, Ty::Int(to), Rvalue::Cast(f.param(1), Ty::Int(to)));
        f.println_int(b0, to, r, &nl);
    }
    for p in [2, 3] {
        // `u8 as char`, and `u32 as char` (what `char_from_u32` lowers to).
        let r = f.tmp(b0, Ty::Char, Rvalue::Cast(f.param(p), Ty::Char));
        f.println(b0, blood_abi::PRINT_CHAR, r, &nl);
    }
    f.ret_unit(b0);
    let id = pb.add(f);
    let mut m = Fb::new("main", &[], Ty::Unit);
    let mut expected = String::new();
    let cases =
        [(true, 'a', 65u8, 'z'), (false, 'é', 233, '☺'), (true, '😀', 0x7e, '😀'), (false, '\u{10FFFF}', 255, 'A')];
    for (b, c, u, w) in cases {
        let wide = ci(IntTy::U32, u32::from(w).into());
        let args = vec![Operand::Const(Const::Bool(b)), Operand::Const(Const::Char(c)), ci(IntTy::U8, u.into()), wide];
        m.tmp(BlockId(0), Ty::Unit, call(id, args));
        expected.push_str(&format!("{}\n{}\n{}\n", b as i32, b as u128, b as i8));
        expected.push_str(&format!("{}\n{}\n{}\n{}\n{}\n", c as u8, c as u32, c as i64, c as i128, c as i16));
        expected.push_str(&format!("{}\n{w}\n", u as char));
    }
    m.ret_unit(BlockId(0));
    pb.add_main(m);
    (pb.p, expected)
}

#[test]
fn casts_of_bool_and_char() {
    let (p, expected) = casts_of_bool_and_char_program();
    assert_output(&p, &expected);
}

// ------------------------------------------------------------------------------------------------
// Floats, bools, chars, unit.

#[rustfmt::skip]
const FLOAT_PAIRS: [(f64, f64); 11] = [
    (1.5, 2.25), (-7.5, 2.0), (0.1, 0.2), (f64::NAN, 1.0),
    (1.0, f64::NAN), (f64::INFINITY, f64::NEG_INFINITY), (-0.0, 0.0), (1e300, 1e-300),
    (5.0, 0.0), (2.0, 3.0), (-2.5, -2.5),
];

fn float_ops_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let mut m = Fb::new("main", &[], Ty::Unit);
    let mut expected = String::new();
    for ft in [FloatTy::F64, FloatTy::F32] {
        let t = Ty::Float(ft);
        let print = if ft == FloatTy::F64 { blood_abi::PRINT_F64 } else { blood_abi::PRINT_F32 };
        let mut f = Fb::new(&format!("fops_{}", ft.name()), &[t.clone(), t.clone()], Ty::Unit);
        let b0 = BlockId(0);
        for op in [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Rem] {
            let r = f.tmp(b0, t.clone(), Rvalue::Binary(op, f.param(0), f.param(1)));
            f.println(b0, print, r, &nl);
        }
        for op in COMPARISONS {
            let r = f.tmp(b0, Ty::Bool, Rvalue::Binary(op, f.param(0), f.param(1)));
            f.println(b0, blood_abi::PRINT_BOOL, r, &nl);
        }
        let r = f.tmp(b0, t.clone(), Rvalue::Unary(UnOp::Neg, f.param(0)));
        f.println(b0, print, r, &nl);
        for i in [Intrinsic::Sqrt, Intrinsic::Floor, Intrinsic::Ceil, Intrinsic::FAbs] {
            let r = f.tmp(b0, t.clone(), Rvalue::Intrinsic(i, vec![f.param(0)]));
            f.println(b0, print, r, &nl);
        }
        if ft == FloatTy::F64 {
            let r = f.tmp(b0, Ty::Int(IntTy::U64), Rvalue::Intrinsic(Intrinsic::F64ToBits, vec![f.param(0)]));
            f.println(b0, blood_abi::PRINT_U64, r, &nl);
        }
        f.ret_unit(b0);
        let id = pb.add(f);
        for (a, b) in FLOAT_PAIRS {
            m.tmp(BlockId(0), Ty::Unit, call(id, vec![cf(ft, a), cf(ft, b)]));
            let lines: Vec<String> = if ft == FloatTy::F64 {
                let mut v = float_lines(a, b, a % b, a.sqrt(), a.floor(), a.ceil(), a.abs());
                v.push(a.to_bits().to_string());
                v
            } else {
                let (a, b) = (a as f32, b as f32);
                float_lines(a, b, a % b, a.sqrt(), a.floor(), a.ceil(), a.abs())
            };
            for l in lines {
                expected.push_str(&l);
                expected.push('\n');
            }
        }
    }
    m.ret_unit(BlockId(0));
    pb.add_main(m);
    (pb.p, expected)
}

#[allow(clippy::too_many_arguments)]
fn float_lines<F>(a: F, b: F, rem: F, sqrt: F, floor: F, ceil: F, abs: F) -> Vec<String>
where
    F: Copy + std::fmt::Display + PartialOrd + std::ops::Add<Output = F> + std::ops::Sub<Output = F>,
    F: std::ops::Mul<Output = F> + std::ops::Div<Output = F> + std::ops::Neg<Output = F>,
{
    vec![
        format!("{}", a + b),
        format!("{}", a - b),
        format!("{}", a * b),
        format!("{}", a / b),
        format!("{rem}"),
        (a == b).to_string(),
        (a != b).to_string(),
        (a < b).to_string(),
        (a <= b).to_string(),
        (a > b).to_string(),
        (a >= b).to_string(),
        format!("{}", -a),
        format!("{sqrt}"),
        format!("{floor}"),
        format!("{ceil}"),
        format!("{abs}"),
    ]
}

#[test]
fn float_operators_and_intrinsics() {
    let (p, expected) = float_ops_program();
    assert_output(&p, &expected);
}

fn bool_char_unit_program() -> (Program, String) {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let b0 = BlockId(0);
    let mut bools = Fb::new("bools", &[Ty::Bool, Ty::Bool], Ty::Unit);
    let r = bools.tmp(b0, Ty::Bool, Rvalue::Unary(UnOp::Not, bools.param(0)));
    bools.println(b0, blood_abi::PRINT_BOOL, r, &nl);
    for op in [BinOp::BitAnd, BinOp::BitOr, BinOp::BitXor, BinOp::Eq, BinOp::Ne, BinOp::Lt] {
        let r = bools.tmp(b0, Ty::Bool, Rvalue::Binary(op, bools.param(0), bools.param(1)));
        bools.println(b0, blood_abi::PRINT_BOOL, r, &nl);
    }
    bools.ret_unit(b0);
    let bools = pb.add(bools);
    let mut chars = Fb::new("chars", &[Ty::Char, Ty::Char], Ty::Unit);
    for op in [BinOp::Lt, BinOp::Eq, BinOp::Ge] {
        let r = chars.tmp(b0, Ty::Bool, Rvalue::Binary(op, chars.param(0), chars.param(1)));
        chars.println(b0, blood_abi::PRINT_BOOL, r, &nl);
    }
    let c = chars.param(0);
    chars.println(b0, blood_abi::PRINT_CHAR, c, &nl);
    chars.ret_unit(b0);
    let chars = pb.add(chars);

    let mut m = Fb::new("main", &[], Ty::Unit);
    let mut expected = String::new();
    for (a, b) in [(false, false), (false, true), (true, false), (true, true)] {
        m.tmp(b0, Ty::Unit, call(bools, vec![Operand::Const(Const::Bool(a)), Operand::Const(Const::Bool(b))]));
        for v in [!a, a & b, a | b, a ^ b, a == b, a != b, !a & b] {
            expected.push_str(&format!("{v}\n"));
        }
    }
    for (a, b) in [('a', 'b'), ('é', 'a'), ('😀', 'z'), ('x', 'x')] {
        m.tmp(b0, Ty::Unit, call(chars, vec![Operand::Const(Const::Char(a)), Operand::Const(Const::Char(b))]));
        expected.push_str(&format!("{}\n{}\n{}\n{a}\n", a < b, a == b, a >= b));
    }
    // `()` compares equal to itself, through a local and a constant.
    let unit = m.local(Ty::Unit);
    m.assign(b0, unit, Rvalue::Use(Operand::Const(Const::Unit)));
    for op in [BinOp::Eq, BinOp::Ne, BinOp::Lt, BinOp::Ge] {
        let r = m.tmp(b0, Ty::Bool, Rvalue::Binary(op, Operand::Local(unit), Operand::Const(Const::Unit)));
        m.println(b0, blood_abi::PRINT_BOOL, r, &nl);
    }
    expected.push_str("true\nfalse\nfalse\ntrue\n");
    m.ret_unit(b0);
    pb.add_main(m);
    (pb.p, expected)
}

#[test]
fn bool_char_and_unit_operators() {
    let (p, expected) = bool_char_unit_program();
    assert_output(&p, &expected);
}

// ------------------------------------------------------------------------------------------------
// Foreign targets: every program above must at least compile (i128 division, float → i128,
// safepoints, string constants) for the other supported architectures.

/// Builds a test program and its expected output.
type Case = fn() -> (Program, String);

#[test]
fn every_program_compiles_for_foreign_targets() {
    let programs: [(&str, Case); 9] = [
        ("fib", fib_and_a_loop_program),
        ("int ops", integer_operators_on_every_type_program),
        ("div const", division_by_constants_program),
        ("shifts", shifts_with_mixed_types_and_large_amounts_program),
        ("int casts", casts_from_integers_program),
        ("float casts", casts_from_floats_saturate_program),
        ("bool/char casts", casts_of_bool_and_char_program),
        ("float ops", float_ops_program),
        ("bool/char/unit ops", bool_char_unit_program),
    ];
    for triple in ["aarch64-unknown-linux-gnu", "riscv64gc-unknown-linux-gnu", "x86_64-unknown-linux-gnu"] {
        for opt_level in [OptLevel::O0, OptLevel::O2] {
            for (name, make) in programs.into_iter().chain(aggregates::PROGRAMS).chain(aggregate_calls::PROGRAMS) {
                let options = CodegenOptions {
                    triple: triple.parse().expect("triple"),
                    opt_level,
                    want_clif: false,
                    want_asm: false,
                    function_align: None,
                };
                let out = compile_program(&make().0, &options)
                    .unwrap_or_else(|e| panic!("{name} for {triple} at {opt_level:?}: {e}"));
                assert!(out.object.starts_with(b"\x7fELF"), "{name} for {triple}");
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Recursion in return position (plain and accumulating; the IR passes turn these into loops, the
// hand-built IR here reaches codegen as real recursion, inlined once into itself at O2).

#[test]
fn recursion_in_return_position() {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let (u64t, i64t) = (Ty::Int(IntTy::U64), Ty::Int(IntTy::I64));
    let b0 = BlockId(0);

    // `fn fact(n: u64) -> u64 { if n < 2 { 1 } else { n * fact(n - 1) } }` (wrapping).
    let fact_id = pb.next_id();
    let mut fact = Fb::new("fact", std::slice::from_ref(&u64t), u64t.clone());
    let (base, rec) = (fact.block(), fact.block());
    let small = fact.tmp(b0, Ty::Bool, Rvalue::Binary(BinOp::Lt, fact.param(0), ci(IntTy::U64, 2)));
    fact.term(b0, Terminator::Branch { cond: small, then_bb: base, else_bb: rec });
    fact.term(base, Terminator::Return(ci(IntTy::U64, 1)));
    let n1 = fact.tmp(rec, u64t.clone(), Rvalue::Binary(BinOp::Sub, fact.param(0), ci(IntTy::U64, 1)));
    let r = fact.tmp(rec, u64t.clone(), call(fact_id, vec![n1]));
    let p = fact.tmp(rec, u64t.clone(), Rvalue::Binary(BinOp::Mul, fact.param(0), r));
    fact.term(rec, Terminator::Return(p));
    pb.add(fact);

    // `fn fibi(a: i64, b: i64, n: i64) -> i64 { if n == 0 { a } else { fibi(b, a + b, n - 1) } }`:
    // a plain tail call whose arguments read the parameters they replace.
    let fibi_id = pb.next_id();
    let mut fibi = Fb::new("fibi", &[i64t.clone(), i64t.clone(), i64t.clone()], i64t.clone());
    let (base, rec) = (fibi.block(), fibi.block());
    let done = fibi.tmp(b0, Ty::Bool, Rvalue::Binary(BinOp::Eq, fibi.param(2), ci(IntTy::I64, 0)));
    fibi.term(b0, Terminator::Branch { cond: done, then_bb: base, else_bb: rec });
    fibi.term(base, Terminator::Return(fibi.param(0)));
    let sum = fibi.tmp(rec, i64t.clone(), Rvalue::Binary(BinOp::Add, fibi.param(0), fibi.param(1)));
    let n1 = fibi.tmp(rec, i64t.clone(), Rvalue::Binary(BinOp::Sub, fibi.param(2), ci(IntTy::I64, 1)));
    let r = fibi.tmp(rec, i64t.clone(), call(fibi_id, vec![fibi.param(1), sum, n1]));
    fibi.term(rec, Terminator::Return(r));
    pb.add(fibi);

    let mut m = Fb::new("main", &[], Ty::Unit);
    let mut expected = String::new();
    let mut f = 1u64;
    for n in 0..25u64 {
        f = f.wrapping_mul(n.max(1));
        let v = m.tmp(b0, u64t.clone(), call(fact_id, vec![ci(IntTy::U64, n.into())]));
        m.println(b0, blood_abi::PRINT_U64, v, &nl);
        expected.push_str(&format!("{f}\n"));
    }
    for n in [0i64, 1, 2, 10, 90, 5000] {
        let (mut a, mut b) = (0i64, 1i64);
        for _ in 0..n {
            (a, b) = (b, a.wrapping_add(b));
        }
        let args = vec![ci(IntTy::I64, 0), ci(IntTy::I64, 1), ci(IntTy::I64, n.into())];
        let v = m.tmp(b0, i64t.clone(), call(fibi_id, args));
        m.println(b0, blood_abi::PRINT_I64, v, &nl);
        expected.push_str(&format!("{a}\n"));
    }
    m.ret_unit(b0);
    pb.add_main(m);
    assert_output(&pb.p, &expected);
}

// ------------------------------------------------------------------------------------------------
// If-conversion (O2 lowers short conditional updates as selects; O0 keeps the branches).

#[test]
fn conditional_updates() {
    let mut pb = Pb::new();
    let nl = pb.str("\n");
    let u64t = Ty::Int(IntTy::U64);
    let u = |v: u64| ci(IntTy::U64, v.into());
    let mut f = Fb::new("hits", std::slice::from_ref(&u64t), u64t.clone());
    let (x, hits, misses, i, c) =
        (f.local(u64t.clone()), f.local(u64t.clone()), f.local(u64t.clone()), f.local(u64t.clone()), f.local(Ty::Bool));
    let [head, body, side1, join1, side2, join2, exit] = [(); 7].map(|_| f.block());
    let l = Operand::Local;
    let b0 = BlockId(0);
    for (dst, v) in [(x, 1), (hits, 0), (misses, 0), (i, 0)] {
        f.assign(b0, dst, Rvalue::Use(u(v)));
    }
    f.term(b0, Terminator::Goto(head));
    f.assign(head, c, Rvalue::Binary(BinOp::Lt, l(i), f.param(0)));
    f.term(head, Terminator::Branch { cond: l(c), then_bb: body, else_bb: exit });
    // x = x * K + i; if x >> 61 == 3 { hits += 1 }
    let xk = f.tmp(body, u64t.clone(), Rvalue::Binary(BinOp::Mul, l(x), u(6364136223846793005)));
    f.assign(body, x, Rvalue::Binary(BinOp::Add, xk, l(i)));
    let top = f.tmp(body, u64t.clone(), Rvalue::Binary(BinOp::Shr, l(x), ci(IntTy::I32, 61)));
    f.assign(body, c, Rvalue::Binary(BinOp::Eq, top, u(3)));
    f.term(body, Terminator::Branch { cond: l(c), then_bb: side1, else_bb: join1 });
    f.assign(side1, hits, Rvalue::Binary(BinOp::Add, l(hits), u(1)));
    f.term(side1, Terminator::Goto(join1));
    // if x & 1 == 0 {} else { misses += 3; c = !c } — the side is the `else`, and it assigns the
    // condition's own local.
    let low = f.tmp(join1, u64t.clone(), Rvalue::Binary(BinOp::BitAnd, l(x), u(1)));
    f.assign(join1, c, Rvalue::Binary(BinOp::Eq, low, u(0)));
    f.term(join1, Terminator::Branch { cond: l(c), then_bb: join2, else_bb: side2 });
    f.assign(side2, misses, Rvalue::Binary(BinOp::Add, l(misses), u(3)));
    f.assign(side2, c, Rvalue::Unary(UnOp::Not, l(c)));
    f.term(side2, Terminator::Goto(join2));
    f.assign(join2, i, Rvalue::Binary(BinOp::Add, l(i), u(1)));
    f.safepoint(join2);
    f.term(join2, Terminator::Goto(head));
    let scaled = f.tmp(exit, u64t.clone(), Rvalue::Binary(BinOp::Mul, l(hits), u(1_000_000)));
    let r = f.tmp(exit, u64t.clone(), Rvalue::Binary(BinOp::Add, scaled, l(misses)));
    f.term(exit, Terminator::Return(r));
    let id = pb.add(f);

    let mut m = Fb::new("main", &[], Ty::Unit);
    let mut expected = String::new();
    for n in [0u64, 1, 10, 1000, 100_000] {
        let (mut x, mut hits, mut misses) = (1u64, 0u64, 0u64);
        for i in 0..n {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
            hits += u64::from(x >> 61 == 3);
            misses += if x & 1 == 0 { 0 } else { 3 };
        }
        expected.push_str(&format!("{}\n", hits * 1_000_000 + misses));
        let v = m.tmp(b0, u64t.clone(), call(id, vec![u(n)]));
        m.println(b0, blood_abi::PRINT_U64, v, &nl);
    }
    m.ret_unit(b0);
    pb.add_main(m);
    let options = CodegenOptions { want_clif: true, ..CodegenOptions::host(OptLevel::O2) };
    let clif = compile_program(&pb.p, &options).expect("codegen").clif.expect("clif");
    let hits_clif = clif.split("; fn main").next().unwrap_or_default();
    assert_eq!(hits_clif.matches(" = select").count(), 3, "both triangles become selects:\n{hits_clif}");
    assert_output(&pb.p, &expected);
}
