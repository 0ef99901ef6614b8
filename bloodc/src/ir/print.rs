//! The stable text form of Blood IR (`--emit=ir`, snapshot tests).
//!
//! ```text
//! fn fib(_0: i64) -> i64 {            // symbol blood.fib
//!     let _1: bool
//! bb0:
//!     safepoint
//!     _1 = Lt(_0, const 2_i64)
//!     branch _1, bb1, bb2
//! …
//! }
//! ```
//! Locals are `_N` (with the source name in a comment), constants are `const <value>_<type>`.
//! The format is deterministic: it depends only on the IR.

use std::fmt::Write;

use super::{
    AggregateKind, Callee, Const, Function, HeapIntrinsic, Intrinsic, Operand, Place, Program, Proj, Rvalue, Stmt,
    Terminator,
};

pub fn print_program(program: &Program) -> String {
    let mut out = String::new();
    for (i, f) in program.functions.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        print_function(program, f, &mut out);
    }
    out
}

fn print_function(program: &Program, f: &Function, out: &mut String) {
    let params: Vec<String> = f.params().map(|p| format!("_{}: {}", p.0, f.local(p).ty)).collect();
    let _ = write!(out, "fn {}({}) -> {} {{", f.name, params.join(", "), f.ret);
    let _ = write!(out, "    // symbol {}", f.symbol);
    if f.no_preempt {
        out.push_str(", no preemption");
    }
    out.push('\n');
    for (i, decl) in f.locals.iter().enumerate().skip(f.param_count as usize) {
        let _ = write!(out, "    let _{i}: {}", decl.ty);
        if let Some(name) = &decl.name {
            let _ = write!(out, "    // {name}");
        }
        out.push('\n');
    }
    for (i, block) in f.blocks.iter().enumerate() {
        let _ = writeln!(out, "bb{i}:");
        for stmt in &block.stmts {
            match stmt {
                Stmt::Assign(l, rv) => {
                    let _ = writeln!(out, "    _{} = {}", l.0, rvalue(program, rv));
                }
                Stmt::Store(p, v) => {
                    let _ = writeln!(out, "    {} = {}", place(p), operand(program, v));
                }
                Stmt::Safepoint => out.push_str("    safepoint\n"),
                Stmt::Drop(p) => {
                    let _ = writeln!(out, "    drop {}", place(p));
                }
            }
        }
        let t = match &block.terminator {
            Terminator::Goto(b) => format!("goto bb{}", b.0),
            Terminator::Branch { cond, then_bb, else_bb } => {
                format!("branch {}, bb{}, bb{}", operand(program, cond), then_bb.0, else_bb.0)
            }
            Terminator::Return(v) => format!("return {}", operand(program, v)),
            Terminator::Unreachable => "unreachable".to_string(),
        };
        let _ = writeln!(out, "    {t}");
    }
    out.push_str("}\n");
}

fn rvalue(program: &Program, rv: &Rvalue) -> String {
    let ops = |args: &[Operand]| args.iter().map(|a| operand(program, a)).collect::<Vec<_>>().join(", ");
    match rv {
        Rvalue::Use(o) => operand(program, o),
        Rvalue::Binary(op, a, b) => format!("{op:?}({}, {})", operand(program, a), operand(program, b)),
        Rvalue::Unary(op, a) => format!("{op:?}({})", operand(program, a)),
        Rvalue::Cast(a, ty) => format!("{} as {ty}", operand(program, a)),
        Rvalue::Call(Callee::Fn(f), args) => format!("call {}({})", program.function(*f).name, ops(args)),
        Rvalue::Call(Callee::Runtime(f), args) => format!("call extern {}({})", f.name, ops(args)),
        Rvalue::Call(Callee::Indirect(callee), args) => format!("call *{}({})", operand(program, callee), ops(args)),
        Rvalue::FnValue { func, env, .. } if env.is_empty() => {
            format!("fn_value {}", program.function(*func).name)
        }
        Rvalue::FnValue { func, env, heap, env_drop } => {
            let alloc = if *heap { "heap" } else { "frame" };
            let drop = env_drop.map(|d| format!(" drop {}", program.function(d).name)).unwrap_or_default();
            format!("closure {}({alloc}: {}){drop}", program.function(*func).name, ops(env))
        }
        Rvalue::Intrinsic(i, args) => format!("{}({})", intrinsic_name(*i), ops(args)),
        Rvalue::Load(p) => format!("copy {}", place(p)),
        Rvalue::Ref(p, false) => format!("&{}", place(p)),
        Rvalue::Ref(p, true) => format!("&mut {}", place(p)),
        Rvalue::Aggregate(AggregateKind::Tuple, args) => format!("tuple({})", ops(args)),
        Rvalue::Aggregate(AggregateKind::Array, args) => format!("array[{}]", ops(args)),
        Rvalue::Aggregate(AggregateKind::Adt { variant }, args) => format!("variant{variant}{{{}}}", ops(args)),
        Rvalue::Repeat(o, n) => format!("[{}; {n}]", operand(program, o)),
        Rvalue::Discriminant(p) => format!("discriminant({})", place(p)),
        Rvalue::Len(p) => format!("len({})", place(p)),
        Rvalue::Unsize(o) => format!("unsize({})", operand(program, o)),
        Rvalue::FnAddr(func) => format!("fn_addr {}", program.function(*func).name),
    }
}

/// `(*_1.0)[_2]`-style text: derefs wrap what precedes them.
fn place(p: &Place) -> String {
    let mut s = format!("_{}", p.base.0);
    for proj in &p.proj {
        s = match proj {
            Proj::Deref => format!("(*{s})"),
            Proj::Field(i) => format!("{s}.{i}"),
            Proj::VariantField { variant, field } => format!("{s}@{variant}.{field}"),
            Proj::Index(i) => format!("{s}[_{}]", i.0),
        };
    }
    s
}

fn intrinsic_name(i: Intrinsic) -> &'static str {
    match i {
        Intrinsic::Sqrt => "sqrt",
        Intrinsic::Floor => "floor",
        Intrinsic::Ceil => "ceil",
        Intrinsic::FAbs => "fabs",
        Intrinsic::F64ToBits => "f64_to_bits",
        Intrinsic::StrAsBytes => "str_as_bytes",
        Intrinsic::ToWord => "to_word",
        Intrinsic::FromWord => "from_word",
        Intrinsic::Heap(h) => match h {
            HeapIntrinsic::VecNew => "vec_new",
            HeapIntrinsic::VecReserve => "vec_reserve",
            HeapIntrinsic::VecMoveElems => "vec_move_elems",
            HeapIntrinsic::VecFree => "vec_free",
            HeapIntrinsic::VecCloneBytes => "vec_clone_bytes",
            HeapIntrinsic::Clone => "clone",
            HeapIntrinsic::BoxAlloc => "box_alloc",
            HeapIntrinsic::BoxFree => "box_free",
            HeapIntrinsic::FnRetain => "fn_retain",
            HeapIntrinsic::FnRelease => "fn_release",
            HeapIntrinsic::StringAsStr => "string_as_str",
            HeapIntrinsic::StringPushStr => "string_push_str",
            HeapIntrinsic::StringPushChar => "string_push_char",
        },
    }
}

fn operand(program: &Program, o: &Operand) -> String {
    match o {
        Operand::Local(l) => format!("_{}", l.0),
        Operand::Const(c) => format!("const {}", constant(program, c)),
    }
}

fn constant(program: &Program, c: &Const) -> String {
    match c {
        Const::Int { bits, ty } => {
            if ty.is_signed() {
                let shift = 128 - ty.bits();
                let v = ((*bits << shift) as i128) >> shift;
                format!("{v}_{}", ty.name())
            } else {
                format!("{bits}_{}", ty.name())
            }
        }
        Const::Float { value, ty } => format!("{value:?}_{}", ty.name()),
        Const::Bool(b) => b.to_string(),
        Const::Char(ch) => format!("'{}'", ch.escape_debug()),
        Const::Unit => "()".to_string(),
        Const::Str(id) => format!("\"{}\"", program.string(*id).escape_debug()),
    }
}
