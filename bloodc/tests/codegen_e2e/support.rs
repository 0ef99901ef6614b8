//! Helpers of `codegen_e2e.rs`: a small builder for IR functions and programs, and building,
//! linking and running a program at O0 and O2.

use std::path::Path;
use std::process::Command;

use blood_abi::RuntimeFn;
use bloodc::codegen::{CodegenOptions, compile_program};
use bloodc::driver::OptLevel;
use bloodc::driver::{link, runtime_archive};
use bloodc::ir::{
    AggregateKind, BasicBlock, BinOp, BlockId, Callee, Const, FuncId, Function, Local, LocalDecl, Operand, Place,
    Program, Proj, Rvalue, Stmt, Terminator,
};
use bloodc::types::{AdtDef, AdtRef, CtorKind, FieldDef, FloatTy, IntTy, Ty, VariantDef};

// ------------------------------------------------------------------------------------------------
// A small builder for IR functions.

pub struct Fb {
    pub f: Function,
}

impl Fb {
    pub fn new(name: &str, params: &[Ty], ret: Ty) -> Fb {
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

    pub fn param(&self, i: u32) -> Operand {
        Operand::Local(Local(i))
    }

    pub fn local(&mut self, ty: Ty) -> Local {
        self.f.locals.push(LocalDecl { ty, name: None });
        Local(self.f.locals.len() as u32 - 1)
    }

    pub fn block(&mut self) -> BlockId {
        self.f.blocks.push(BasicBlock { stmts: Vec::new(), terminator: Terminator::Unreachable });
        BlockId(self.f.blocks.len() as u32 - 1)
    }

    pub fn assign(&mut self, b: BlockId, dst: Local, rv: Rvalue) {
        self.f.blocks[b.0 as usize].stmts.push(Stmt::Assign(dst, rv));
    }

    pub fn safepoint(&mut self, b: BlockId) {
        self.f.blocks[b.0 as usize].stmts.push(Stmt::Safepoint);
    }

    /// A fresh local of type `ty` assigned `rv`, as an operand.
    pub fn tmp(&mut self, b: BlockId, ty: Ty, rv: Rvalue) -> Operand {
        let l = self.local(ty);
        self.assign(b, l, rv);
        Operand::Local(l)
    }

    pub fn call_rt(&mut self, b: BlockId, rf: RuntimeFn, args: Vec<Operand>) {
        let ret = if rf.noreturn { Ty::Never } else { Ty::Unit };
        self.tmp(b, ret, Rvalue::Call(Callee::Runtime(rf), args));
    }

    /// Prints `v` with `rf` (one of the `blood_print_*`) on stdout, then a newline.
    pub fn println(&mut self, b: BlockId, rf: RuntimeFn, v: Operand, nl: &Operand) {
        self.call_rt(b, rf, vec![stdout(), v]);
        self.call_rt(b, blood_abi::PRINT_STR, vec![stdout(), nl.clone()]);
    }

    /// Prints an integer of type `it` widened to 128 bits (by its own signedness).
    pub fn println_int(&mut self, b: BlockId, it: IntTy, v: Operand, nl: &Operand) {
        let (wide, rf) =
            if it.is_signed() { (IntTy::I128, blood_abi::PRINT_I128) } else { (IntTy::U128, blood_abi::PRINT_U128) };
        let w = self.tmp(b, Ty::Int(wide), Rvalue::Cast(v, Ty::Int(wide)));
        self.println(b, rf, w, nl);
    }

    /// A fresh local of type `ty` assigned `rv`.
    pub fn let_(&mut self, b: BlockId, ty: Ty, rv: Rvalue) -> Local {
        let l = self.local(ty);
        self.assign(b, l, rv);
        l
    }

    /// `place = v`.
    pub fn store(&mut self, b: BlockId, place: Place, v: Operand) {
        self.f.blocks[b.0 as usize].stmts.push(Stmt::Store(place, v));
    }

    /// A fresh local holding a copy of the `ty` at `place`.
    pub fn load(&mut self, b: BlockId, ty: Ty, place: Place) -> Operand {
        self.tmp(b, ty, Rvalue::Load(place))
    }

    /// `for i in 0..n { body }` starting in block `b`, with `i: usize`. `body` gets the block the
    /// body starts in and `i`, and returns the block the body ends in. Returns the exit block.
    pub fn for_range(
        &mut self,
        b: BlockId,
        n: Operand,
        body: impl FnOnce(&mut Fb, BlockId, Local) -> BlockId,
    ) -> BlockId {
        let usize_t = Ty::Int(IntTy::Usize);
        let i = self.let_(b, usize_t.clone(), Rvalue::Use(ci(IntTy::Usize, 0)));
        let (head, first, exit) = (self.block(), self.block(), self.block());
        self.term(b, Terminator::Goto(head));
        let more = self.tmp(head, Ty::Bool, Rvalue::Binary(BinOp::Lt, Operand::Local(i), n));
        self.term(head, Terminator::Branch { cond: more, then_bb: first, else_bb: exit });
        let last = body(self, first, i);
        self.assign(last, i, Rvalue::Binary(BinOp::Add, Operand::Local(i), ci(IntTy::Usize, 1)));
        self.safepoint(last);
        self.term(last, Terminator::Goto(head));
        exit
    }

    pub fn term(&mut self, b: BlockId, t: Terminator) {
        self.f.blocks[b.0 as usize].terminator = t;
    }

    pub fn ret_unit(&mut self, b: BlockId) {
        self.term(b, Terminator::Return(Operand::Const(Const::Unit)));
    }
}

pub struct Pb {
    pub p: Program,
}

impl Pb {
    pub fn new() -> Pb {
        Pb { p: Program::default() }
    }

    pub fn str(&mut self, s: &str) -> Operand {
        Operand::Const(Const::Str(self.p.intern_str(s)))
    }

    pub fn next_id(&self) -> FuncId {
        FuncId(self.p.functions.len() as u32)
    }

    pub fn add(&mut self, fb: Fb) -> FuncId {
        self.p.functions.push(fb.f);
        FuncId(self.p.functions.len() as u32 - 1)
    }

    pub fn add_main(&mut self, fb: Fb) {
        let id = self.add(fb);
        self.p.main = Some(id);
    }

    fn adt(&mut self, name: &str, is_enum: bool, variants: Vec<Vec<Ty>>) -> Ty {
        let adts = std::sync::Arc::make_mut(&mut self.p.adts);
        let variants = variants
            .into_iter()
            .enumerate()
            .map(|(v, fields)| VariantDef {
                name: format!("V{v}"),
                ctor: CtorKind::Tuple,
                fields: fields.into_iter().enumerate().map(|(i, ty)| FieldDef { name: i.to_string(), ty }).collect(),
            })
            .collect();
        adts.defs.push(AdtDef {
            name: name.to_string(),
            generics: Vec::new(),
            is_enum,
            variants,
            counted_handle: false,
        });
        Ty::Adt(AdtRef { id: adts.defs.len() as u32 - 1, name: name.into() }, Vec::new().into())
    }

    /// Declares a struct with fields of these types; returns its type.
    pub fn strukt(&mut self, name: &str, fields: Vec<Ty>) -> Ty {
        self.adt(name, false, vec![fields])
    }

    /// Declares a payload enum whose variants have fields of these types; returns its type.
    pub fn enumeration(&mut self, name: &str, variants: Vec<Vec<Ty>>) -> Ty {
        self.adt(name, true, variants)
    }
}

/// The place of a local.
pub fn pl(l: Local) -> Place {
    Place::local(l)
}

/// `place.i`
pub fn fld(place: &Place, i: u32) -> Place {
    place.project(Proj::Field(i))
}

/// `place[i]`
pub fn idx(place: &Place, i: Local) -> Place {
    place.project(Proj::Index(i))
}

/// `*place`
pub fn deref(place: &Place) -> Place {
    place.project(Proj::Deref)
}

/// Field `field` of variant `variant` of the enum at `place`.
pub fn vfld(place: &Place, variant: u32, field: u32) -> Place {
    place.project(Proj::VariantField { variant, field })
}

pub fn op(l: Local) -> Operand {
    Operand::Local(l)
}

pub fn tuple(tys: Vec<Ty>) -> Ty {
    Ty::Tuple(tys.into())
}

pub fn array(elem: Ty, n: u64) -> Ty {
    Ty::Array(elem.into(), n)
}

pub fn stdout() -> Operand {
    Operand::Const(Const::Int { bits: blood_abi::STDOUT as u128, ty: IntTy::I32 })
}

pub fn ci(ty: IntTy, v: i128) -> Operand {
    Operand::Const(Const::Int { bits: ty.truncate(v as u128), ty })
}

pub fn cf(ty: FloatTy, v: f64) -> Operand {
    Operand::Const(Const::Float { value: v, ty })
}

pub fn call(f: FuncId, args: Vec<Operand>) -> Rvalue {
    Rvalue::Call(Callee::Fn(f), args)
}

// ------------------------------------------------------------------------------------------------
// Shorthands for the memory tests.

pub fn i64t() -> Ty {
    Ty::Int(IntTy::I64)
}

pub fn usize_t() -> Ty {
    Ty::Int(IntTy::Usize)
}

/// A `usize` constant.
pub fn cu(v: u64) -> Operand {
    ci(IntTy::Usize, v.into())
}

/// An `i64` constant.
pub fn c64(v: i64) -> Operand {
    ci(IntTy::I64, v.into())
}

/// Variant `variant` of a struct (0) or enum.
pub fn adt(variant: u32) -> AggregateKind {
    AggregateKind::Adt { variant }
}

pub fn bin(o: BinOp, a: Operand, b: Operand) -> Rvalue {
    Rvalue::Binary(o, a, b)
}

/// Prints an `i64` operand and a newline.
pub fn print_i64(f: &mut Fb, b: BlockId, v: Operand, nl: &Operand) {
    f.println(b, blood_abi::PRINT_I64, v, nl);
}

// ------------------------------------------------------------------------------------------------
// Compiling, linking, running.

pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub status: Option<i32>,
}

pub fn build_and_run(program: &Program, opt_level: OptLevel, dir: &Path) -> Run {
    bloodc::ir::validate::validate(program).unwrap_or_else(|e| panic!("{e}"));
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
pub fn run(program: &Program) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let o0 = build_and_run(program, OptLevel::O0, dir.path());
    let o2 = build_and_run(program, OptLevel::O2, dir.path());
    assert_same_lines(&o0.stdout, &o2.stdout, "O0 vs O2 stdout");
    assert_eq!(o0.status, o2.status, "O0 vs O2 exit status");
    o2
}

pub fn assert_same_lines(actual: &str, expected: &str, what: &str) {
    for (i, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
        assert_eq!(a, e, "{what}: line {} differs", i + 1);
    }
    assert_eq!(actual.lines().count(), expected.lines().count(), "{what}: line count\n{actual}");
}

pub fn assert_output(program: &Program, expected: &str) {
    let r = run(program);
    assert_eq!(r.status, Some(0), "exit status; stderr:\n{}", r.stderr);
    assert_same_lines(&r.stdout, expected, "stdout");
}
