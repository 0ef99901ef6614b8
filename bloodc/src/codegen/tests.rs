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
    CodegenOptions {
        triple: triple.parse().expect("valid triple"),
        opt_level,
        want_clif: true,
        want_asm: true,
        function_align: None,
    }
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

fn adts_for_layouts() -> (crate::types::AdtTable, Ty, Ty) {
    use crate::types::{AdtDef, AdtRef, AdtTable, CtorKind, FieldDef, VariantDef};
    let variant = |fields: Vec<Ty>| VariantDef {
        name: "V".into(),
        ctor: CtorKind::Tuple,
        fields: fields.into_iter().enumerate().map(|(i, ty)| FieldDef { name: i.to_string(), ty }).collect(),
    };
    let def = |name: &str, is_enum, variants| AdtDef {
        name: name.into(),
        generics: vec![],
        is_enum,
        variants,
        counted_handle: false,
    };
    let u8t = Ty::Int(IntTy::U8);
    let adts = AdtTable {
        defs: vec![
            // struct S(u8, i128, bool, ())
            def("S", false, vec![variant(vec![u8t.clone(), Ty::Int(IntTy::I128), Ty::Bool, Ty::Unit])]),
            // enum E { A, B(u8), C(i64, u8), D(u8, u16) }
            def(
                "E",
                true,
                vec![
                    variant(vec![]),
                    variant(vec![u8t.clone()]),
                    variant(vec![Ty::Int(IntTy::I64), u8t.clone()]),
                    variant(vec![u8t, Ty::Int(IntTy::U16)]),
                ],
            ),
        ],
    };
    let s = Ty::Adt(AdtRef { id: 0, name: "S".into() }, vec![].into());
    let e = Ty::Adt(AdtRef { id: 1, name: "E".into() }, vec![].into());
    (adts, s, e)
}

#[test]
fn layouts_follow_c_rules() {
    use layout_of::{TyLayout, field_offset, layout_of};
    let (adts, s, e) = adts_for_layouts();
    let l = |ty: &Ty| layout_of(&adts, ty).expect("layout");
    let tl = |size, align| TyLayout { size, align };
    let tuple = |tys: Vec<Ty>| Ty::Tuple(tys.into());
    assert_eq!(l(&Ty::Unit), tl(0, 1));
    assert_eq!(l(&Ty::Bool), tl(1, 1));
    assert_eq!(l(&Ty::Char), tl(4, 4));
    assert_eq!(l(&Ty::Int(IntTy::I128)), tl(16, 16));
    assert_eq!(l(&Ty::Str), tl(16, 8));
    assert_eq!(l(&Ty::reference(Ty::Int(IntTy::U8), false)), tl(8, 8));
    assert_eq!(l(&Ty::reference(Ty::Slice(Ty::Int(IntTy::U8).into()), true)), tl(16, 8));
    assert_eq!(l(&tuple(vec![Ty::Int(IntTy::I32), Ty::Int(IntTy::I32), Ty::Int(IntTy::I32)])), tl(12, 4));
    assert_eq!(l(&tuple(vec![Ty::Int(IntTy::I64), Ty::Bool])), tl(16, 8));
    assert_eq!(l(&Ty::Array(Ty::Int(IntTy::I16).into(), 5)), tl(10, 2));
    assert_eq!(l(&Ty::Array(Ty::Int(IntTy::I64).into(), 0)), tl(0, 8));
    // S: u8 at 0, i128 at 16, bool at 32, () at 33; size 48.
    assert_eq!(l(&s), tl(48, 16));
    let offsets: Vec<u64> = (0..4).map(|i| field_offset(&adts, &s, None, i).expect("offset")).collect();
    assert_eq!(offsets, [0, 16, 32, 33]);
    // E: tag at 0; B.0 at 4; C.0 at 8, C.1 at 16; D.0 at 4, D.1 at 6; size 24, align 8.
    assert_eq!(l(&e), tl(24, 8));
    assert_eq!(field_offset(&adts, &e, Some(1), 0).expect("B.0"), 4);
    assert_eq!(field_offset(&adts, &e, Some(2), 1).expect("C.1"), 16);
    assert_eq!(field_offset(&adts, &e, Some(3), 1).expect("D.1"), 6);
    assert!(field_offset(&adts, &e, None, 0).is_err(), "an enum has no struct fields");
    assert!(layout_of(&adts, &Ty::Array(Ty::Int(IntTy::I64).into(), 1 << 40)).is_err(), "too large");
    assert!(layout_of(&adts, &Ty::Slice(Ty::Bool.into())).is_err(), "unsized");
}

/// `fn big(v: [i64; 125]) -> [i64; 125] { v }` and `fn first(v: (i64, i64)) -> i64 { v.0 }`.
#[test]
fn aggregates_are_passed_by_pointer_and_returned_through_memory() {
    use crate::ir::{Place, Proj};
    let big_ty = Ty::Array(Ty::Int(IntTy::I64).into(), 125);
    let pair = Ty::Tuple(vec![Ty::Int(IntTy::I64), Ty::Int(IntTy::I64)].into());
    let big = Function {
        name: "big".into(),
        symbol: "_B3big".into(),
        param_count: 1,
        ret: big_ty.clone(),
        locals: vec![local(big_ty)],
        blocks: vec![BasicBlock { stmts: vec![], terminator: Terminator::Return(Operand::Local(Local(0))) }],
        no_preempt: false,
    };
    let first = Function {
        name: "first".into(),
        symbol: "_B5first".into(),
        param_count: 1,
        ret: Ty::Int(IntTy::I64),
        locals: vec![local(pair), local(Ty::Int(IntTy::I64))],
        blocks: vec![BasicBlock {
            stmts: vec![Stmt::Assign(Local(1), Rvalue::Load(Place::local(Local(0)).project(Proj::Field(0))))],
            terminator: Terminator::Return(Operand::Local(Local(1))),
        }],
        no_preempt: false,
    };
    let p = Program { functions: vec![big, first], strings: vec![], main: None, adts: Default::default() };
    crate::ir::validate::validate(&p).expect("valid IR");
    let clif = compile_program(&p, &host_o0()).expect("codegen").clif.expect("clif");
    let (big, first) = clif.split_once("; fn first").expect("two functions");
    // The result pointer comes first, then the argument's address; nothing is returned.
    assert!(big.contains("function %_B3big(i64, i64) system_v {"), "{big}");
    assert!(big.contains("call fn0(v0, v1, v2)"), "a 1000-byte copy calls memmove: {big}");
    // A parameter that is only read is read in place: no stack slot, no copy.
    assert!(first.contains("function %_B5first(i64) -> i64"), "{first}");
    assert!(!first.contains("stack_slot") && first.contains("load.i64 notrap aligned v0"), "{first}");
}

/// `fn big_frame() { let a: [i64; 2000]; a[0] = 1 }`: a frame larger than a page.
fn big_frame_program() -> Program {
    use crate::ir::{Place, Proj};
    let f = Function {
        name: "big_frame".into(),
        symbol: "_B9big_frame".into(),
        param_count: 0,
        ret: Ty::Unit,
        locals: vec![local(Ty::Array(Ty::Int(IntTy::I64).into(), 2000)), local(Ty::Int(IntTy::Usize))],
        blocks: vec![BasicBlock {
            stmts: vec![
                Stmt::Assign(Local(1), Rvalue::Use(Operand::Const(Const::Int { bits: 0, ty: IntTy::Usize }))),
                Stmt::Store(Place::local(Local(0)).project(Proj::Index(Local(1))), int(1)),
            ],
            terminator: Terminator::Return(Operand::Const(Const::Unit)),
        }],
        no_preempt: false,
    };
    Program { functions: vec![f], strings: vec![], main: None, adts: Default::default() }
}

/// Each page of a large frame is touched as the frame is allocated, so a fiber overflowing its
/// stack faults on the one guard page instead of writing beyond it.
#[test]
fn large_frames_are_probed() {
    let asm = compile_program(&big_frame_program(), &options("x86_64-unknown-linux-gnu", OptLevel::O2))
        .expect("codegen")
        .asm
        .expect("asm");
    assert_eq!(asm.matches("subq $0x1000, %rsp\n  movl $0x0, (%rsp)").count(), 3, "{asm}");
    // A small frame has no probe.
    let asm = compile_program(&add_program(), &options("x86_64-unknown-linux-gnu", OptLevel::O2))
        .expect("codegen")
        .asm
        .expect("asm");
    assert!(!asm.contains("subq $0x1000"), "{asm}");
}
