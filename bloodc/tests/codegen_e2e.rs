//! End-to-end tests of codegen: Blood IR programs built by hand are compiled (at O0 and O2),
//! linked with the real runtime archive, run, and their output compared with what Rust computes
//! for the same operations (Rust's `as` and wrapping arithmetic have the semantics LANGUAGE.md
//! §3.5–§3.6 asks for, and the runtime prints floats like Rust's `{}`).
//!
//! Operations are applied to function *parameters*, so Cranelift cannot fold them away and the
//! lowering itself is exercised; constant operands are tested separately.

use std::path::Path;
use std::process::Command;

use blood_abi::RuntimeFn;
use bloodc::codegen::{CodegenOptions, compile_program};
use bloodc::driver::OptLevel;
use bloodc::driver::{link, runtime_archive};
use bloodc::ir::{
    BasicBlock, BinOp, BlockId, Callee, Const, FuncId, Function, Intrinsic, Local, LocalDecl, Operand, Program, Rvalue,
    Stmt, Terminator, UnOp,
};
use bloodc::types::{FloatTy, IntTy, Ty};

// ------------------------------------------------------------------------------------------------
// A small builder for IR functions.

struct Fb {
    f: Function,
}

impl Fb {
    fn new(name: &str, params: &[Ty], ret: Ty) -> Fb {
        let locals = params.iter().map(|t| LocalDecl { ty: t.clone(), name: None }).collect();
        let f = Function {
            name: name.to_string(),
            symbol: format!("_Btest_{name}"),
            param_count: params.len() as u32,
            ret,
            locals,
            blocks: Vec::new(),
            no_preempt: false,
        };
        let mut fb = Fb { f };
        let entry = fb.block();
        fb.f.blocks[entry.0 as usize].stmts.push(Stmt::Safepoint);
        fb
    }

    fn param(&self, i: u32) -> Operand {
        Operand::Local(Local(i))
    }

    fn local(&mut self, ty: Ty) -> Local {
        self.f.locals.push(LocalDecl { ty, name: None });
        Local(self.f.locals.len() as u32 - 1)
    }

    fn block(&mut self) -> BlockId {
        self.f.blocks.push(BasicBlock { stmts: Vec::new(), terminator: Terminator::Unreachable });
        BlockId(self.f.blocks.len() as u32 - 1)
    }

    fn assign(&mut self, b: BlockId, dst: Local, rv: Rvalue) {
        self.f.blocks[b.0 as usize].stmts.push(Stmt::Assign(dst, rv));
    }

    fn safepoint(&mut self, b: BlockId) {
        self.f.blocks[b.0 as usize].stmts.push(Stmt::Safepoint);
    }

    /// A fresh local of type `ty` assigned `rv`, as an operand.
    fn tmp(&mut self, b: BlockId, ty: Ty, rv: Rvalue) -> Operand {
        let l = self.local(ty);
        self.assign(b, l, rv);
        Operand::Local(l)
    }

    fn call_rt(&mut self, b: BlockId, rf: RuntimeFn, args: Vec<Operand>) {
        let ret = if rf.noreturn { Ty::Never } else { Ty::Unit };
        self.tmp(b, ret, Rvalue::Call(Callee::Runtime(rf), args));
    }

    /// Prints `v` with `rf` (one of the `blood_print_*`) on stdout, then a newline.
    fn println(&mut self, b: BlockId, rf: RuntimeFn, v: Operand, nl: &Operand) {
        self.call_rt(b, rf, vec![stdout(), v]);
        self.call_rt(b, blood_abi::PRINT_STR, vec![stdout(), nl.clone()]);
    }

    /// Prints an integer of type `it` widened to 128 bits (by its own signedness).
    fn println_int(&mut self, b: BlockId, it: IntTy, v: Operand, nl: &Operand) {
        let (wide, rf) = if it.is_signed() {
            (IntTy::I128, blood_abi::PRINT_I128)
        } else {
            (IntTy::U128, blood_abi::PRINT_U128)
        };
        let w = self.tmp(b, Ty::Int(wide), Rvalue::Cast(v, Ty::Int(wide)));
        self.println(b, rf, w, nl);
    }

    fn term(&mut self, b: BlockId, t: Terminator) {
        self.f.blocks[b.0 as usize].terminator = t;
    }

    fn ret_unit(&mut self, b: BlockId) {
        self.term(b, Terminator::Return(Operand::Const(Const::Unit)));
    }
}

struct Pb {
    p: Program,
}

impl Pb {
    fn new() -> Pb {
        Pb { p: Program::default() }
    }

    fn str(&mut self, s: &str) -> Operand {
        Operand::Const(Const::Str(self.p.intern_str(s)))
    }

    fn next_id(&self) -> FuncId {
        FuncId(self.p.functions.len() as u32)
    }

    fn add(&mut self, fb: Fb) -> FuncId {
        self.p.functions.push(fb.f);
        FuncId(self.p.functions.len() as u32 - 1)
    }

    fn add_main(&mut self, fb: Fb) {
        let id = self.add(fb);
        self.p.main = Some(id);
    }
}

fn stdout() -> Operand {
    Operand::Const(Const::Int { bits: blood_abi::STDOUT as u128, ty: IntTy::I32 })
}

fn ci(ty: IntTy, v: i128) -> Operand {
    Operand::Const(Const::Int { bits: ty.truncate(v as u128), ty })
}

fn cf(ty: FloatTy, v: f64) -> Operand {
    Operand::Const(Const::Float { value: v, ty })
}

fn call(f: FuncId, args: Vec<Operand>) -> Rvalue {
    Rvalue::Call(Callee::Fn(f), args)
}

// ------------------------------------------------------------------------------------------------
// Compiling, linking, running.

struct Run {
    stdout: String,
    stderr: String,
    status: Option<i32>,
}

fn build_and_run(program: &Program, opt_level: OptLevel, dir: &Path) -> Run {
    let out = compile_program(program, &CodegenOptions::host(opt_level)).unwrap_or_else(|e| panic!("codegen: {e}"));
    let tag = format!("{opt_level:?}");
    let obj = dir.join(format!("prog-{tag}.o"));
    let exe = dir.join(format!("prog-{tag}"));
    std::fs::write(&obj, &out.object).expect("write object");
    let runtime = runtime_archive::runtime_archive_dir().expect("runtime archive");
    link::link_executable(&obj, &exe, &runtime, None).unwrap_or_else(|e| panic!("link: {e}"));
    let o = Command::new(&exe).output().expect("run program");
    Run {
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        status: o.status.code(),
    }
}

/// Runs the program built at O0 and at O2; both must behave identically. Returns the O2 run.
fn run(program: &Program) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let o0 = build_and_run(program, OptLevel::O0, dir.path());
    let o2 = build_and_run(program, OptLevel::O2, dir.path());
    assert_same_lines(&o0.stdout, &o2.stdout, "O0 vs O2 stdout");
    assert_eq!(o0.status, o2.status, "O0 vs O2 exit status");
    o2
}

fn assert_same_lines(actual: &str, expected: &str, what: &str) {
    for (i, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
        assert_eq!(a, e, "{what}: line {} differs", i + 1);
    }
    assert_eq!(actual.lines().count(), expected.lines().count(), "{what}: line count\n{actual}");
}

fn assert_output(program: &Program, expected: &str) {
    let r = run(program);
    assert_eq!(r.status, Some(0), "exit status; stderr:\n{}", r.stderr);
    assert_same_lines(&r.stdout, expected, "stdout");
}

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

#[test]
fn fib_and_a_loop() {
    let mut expected = String::new();
    let (mut a, mut b) = (0i64, 1i64);
    for _ in 0..25 {
        expected.push_str(&format!("{a}\n"));
        (a, b) = (b, a + b);
    }
    assert_output(&fib_program(25), &expected);
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
