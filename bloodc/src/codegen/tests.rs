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
    Program { functions: vec![add, main], strings: vec![], main: Some(crate::ir::FuncId(1)) }
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
