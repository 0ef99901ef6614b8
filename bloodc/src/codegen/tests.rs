//! Unit tests of codegen: hand-built IR programs compiled for the host and for foreign targets,
//! checking the CLIF text and that objects are produced. Running the generated code is tested in
//! `tests/codegen_e2e.rs`.

use super::*;
use crate::ir::{
    BasicBlock, BinOp, BlockId, Callee, Const, Function, Local, LocalDecl, Operand, Program, Rvalue, Stmt, Terminator,
};
use crate::types::{IntTy, Ty};

fn local(ty: Ty) -> LocalDecl {
    LocalDecl { ty, name: None }
}

fn int(v: i64) -> Operand {
    Operand::Const(Const::Int { bits: IntTy::I64.truncate(v as i128 as u128), ty: IntTy::I64 })
}

/// `fn add(a: i64, b: i64) -> i64 { a + b }` and a `main` printing `add(40, 2)`.
fn add_program() -> Program {
    let add = Function {
        name: "add".into(),
        symbol: "_B3add".into(),
        param_count: 2,
        ret: Ty::Int(IntTy::I64),
        locals: vec![local(Ty::Int(IntTy::I64)), local(Ty::Int(IntTy::I64)), local(Ty::Int(IntTy::I64))],
        blocks: vec![BasicBlock {
            stmts: vec![
                Stmt::Safepoint,
                Stmt::Assign(Local(2), Rvalue::Binary(BinOp::Add, Operand::Local(Local(0)), Operand::Local(Local(1)))),
            ],
            terminator: Terminator::Return(Operand::Local(Local(2))),
        }],
        no_preempt: false,
    };
    let main = Function {
        name: "main".into(),
        symbol: "_B4main".into(),
        param_count: 0,
        ret: Ty::Unit,
        locals: vec![local(Ty::Int(IntTy::I64)), local(Ty::Unit)],
        blocks: vec![BasicBlock {
            stmts: vec![
                Stmt::Assign(Local(0), Rvalue::Call(Callee::Fn(crate::ir::FuncId(0)), vec![int(40), int(2)])),
                Stmt::Assign(
                    Local(1),
                    Rvalue::Call(
                        Callee::Runtime(blood_abi::PRINT_I64),
                        vec![Operand::Const(Const::Int { bits: 1, ty: IntTy::I32 }), Operand::Local(Local(0))],
                    ),
                ),
            ],
            terminator: Terminator::Return(Operand::Const(Const::Unit)),
        }],
        no_preempt: false,
    };
    Program { functions: vec![add, main], strings: vec![], main: Some(crate::ir::FuncId(1)), adts: Default::default() }
}

fn options(triple: &str, opt_level: OptLevel) -> CodegenOptions {
    CodegenOptions { triple: triple.parse().expect("valid triple"), opt_level, want_clif: true, want_asm: true }
}

#[test]
fn compiles_for_the_host() {
    let out = compile_program(&add_program(), &CodegenOptions::host(OptLevel::O2)).expect("codegen");
    assert!(out.object.starts_with(b"\x7fELF"));
    assert!(out.clif.is_none() && out.asm.is_none());
}

#[test]
fn clif_text_is_deterministic_and_labelled() {
    let opts = CodegenOptions { want_clif: true, want_asm: true, ..CodegenOptions::host(OptLevel::O0) };
    let a = compile_program(&add_program(), &opts).expect("codegen");
    let b = compile_program(&add_program(), &opts).expect("codegen");
    let clif = a.clif.expect("clif");
    assert_eq!(Some(&clif), b.clif.as_ref());
    assert_eq!(a.asm, b.asm);
    assert!(clif.starts_with("; fn add\nfunction %_B3add(i64, i64) -> i64"), "{clif}");
    assert!(clif.contains("; fn main\n"));
    assert!(clif.contains("atomic_load.i32"), "safepoint fast path: {clif}");
    assert!(a.asm.expect("asm").contains("; fn add\n"));
}

#[test]
fn compiles_for_foreign_targets() {
    for triple in ["aarch64-unknown-linux-gnu", "riscv64gc-unknown-linux-gnu", "x86_64-unknown-linux-gnu"] {
        for opt in [OptLevel::O0, OptLevel::O2] {
            let out = compile_program(&add_program(), &options(triple, opt))
                .unwrap_or_else(|e| panic!("{triple} {opt:?}: {e}"));
            assert!(out.object.starts_with(b"\x7fELF"), "{triple}");
        }
    }
}

#[test]
fn unsupported_target_is_an_error() {
    let err = compile_program(&add_program(), &options("wasm32-unknown-unknown", OptLevel::O0)).unwrap_err();
    assert!(matches!(err, CodegenError::UnsupportedTarget(_)), "{err}");
}

#[test]
fn blocks_out_of_range_are_reported() {
    let mut p = add_program();
    p.functions[0].blocks[0].terminator = Terminator::Goto(BlockId(7));
    let err = compile_program(&p, &CodegenOptions::host(OptLevel::O0)).unwrap_err();
    assert!(matches!(err, CodegenError::InvalidIr(_)), "{err}");
}

fn host_o0() -> CodegenOptions {
    CodegenOptions { want_clif: true, ..CodegenOptions::host(OptLevel::O0) }
}

#[test]
fn main_must_return_unit_or_i32() {
    let mut p = add_program();
    p.functions[1].ret = Ty::Int(IntTy::I64);
    p.functions[1].blocks[0].terminator = Terminator::Return(Operand::Local(Local(0)));
    let err = compile_program(&p, &host_o0()).unwrap_err();
    assert!(matches!(err, CodegenError::Unsupported(_)), "{err}");
}

#[test]
fn runtime_calls_are_checked_against_their_descriptor() {
    let mut p = add_program();
    // `blood_print_i64(stream, v)` called without the stream argument.
    p.functions[1].blocks[0].stmts[1] =
        Stmt::Assign(Local(1), Rvalue::Call(Callee::Runtime(blood_abi::PRINT_I64), vec![Operand::Local(Local(0))]));
    let err = compile_program(&p, &host_o0()).unwrap_err();
    assert!(err.to_string().contains("blood_print_i64"), "{err}");
}

#[test]
fn a_program_without_main_has_no_entry_point() {
    let mut p = add_program();
    p.main = None;
    let clif = compile_program(&p, &host_o0()).expect("codegen").clif.expect("clif");
    assert!(!clif.contains("<C entry point>"), "{clif}");
    assert!(clif.contains("<safepoint trampoline>"), "{clif}");
}

/// `fn count(n: i64) { let mut i = 0; while i < n { if i == 99 { panic } ; i += 1 } }`.
fn loop_program() -> Program {
    let i64t = Ty::Int(IntTy::I64);
    let f = Function {
        name: "count".into(),
        symbol: "_B5count".into(),
        param_count: 1,
        ret: Ty::Unit,
        locals: vec![local(i64t.clone()), local(i64t.clone()), local(Ty::Bool), local(Ty::Never)],
        blocks: vec![
            BasicBlock {
                stmts: vec![Stmt::Assign(Local(1), Rvalue::Use(int(0)))],
                terminator: Terminator::Goto(BlockId(1)),
            },
            BasicBlock {
                stmts: vec![Stmt::Assign(
                    Local(2),
                    Rvalue::Binary(BinOp::Lt, Operand::Local(Local(1)), Operand::Local(Local(0))),
                )],
                terminator: Terminator::Branch {
                    cond: Operand::Local(Local(2)),
                    then_bb: BlockId(2),
                    else_bb: BlockId(3),
                },
            },
            BasicBlock {
                stmts: vec![Stmt::Assign(Local(2), Rvalue::Binary(BinOp::Eq, Operand::Local(Local(1)), int(99)))],
                terminator: Terminator::Branch {
                    cond: Operand::Local(Local(2)),
                    then_bb: BlockId(4),
                    else_bb: BlockId(5),
                },
            },
            BasicBlock { stmts: vec![], terminator: Terminator::Return(Operand::Const(Const::Unit)) },
            BasicBlock {
                stmts: vec![Stmt::Assign(
                    Local(3),
                    Rvalue::Call(Callee::Runtime(blood_abi::PANIC_BOUNDS), vec![int(99), int(99)]),
                )],
                terminator: Terminator::Unreachable,
            },
            BasicBlock {
                stmts: vec![
                    Stmt::Assign(Local(1), Rvalue::Binary(BinOp::Add, Operand::Local(Local(1)), int(1))),
                    Stmt::Safepoint,
                ],
                terminator: Terminator::Goto(BlockId(1)),
            },
        ],
        no_preempt: false,
    };
    Program { functions: vec![f], strings: vec![], main: None, adts: Default::default() }
}

#[test]
fn loop_headers_branch_to_the_exit_first_and_panic_paths_are_cold() {
    let clif = compile_program(&loop_program(), &host_o0()).expect("codegen").clif.expect("clif");
    // bb1 (header) is Cranelift block2; its `then` (the body, block3) must be the second target.
    assert!(clif.contains("brif v") && clif.contains(", block4, block3"), "{clif}");
    // bb4 (the panic) is Cranelift block5.
    assert!(clif.contains("block5 cold:"), "{clif}");
    for triple in ["aarch64-unknown-linux-gnu", "riscv64gc-unknown-linux-gnu"] {
        compile_program(&loop_program(), &options(triple, OptLevel::O2)).expect(triple);
    }
}
