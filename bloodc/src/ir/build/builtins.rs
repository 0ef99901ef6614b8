//! Lowering builtins: printing, assertions, panics, math.
//!
//! Printing picks the runtime entry point from the argument's type (narrow integers are widened
//! to the 64-bit entry points); `println!` pieces are merged so a literal line is one call.

use blood_abi::{RuntimeFn, STDERR, STDOUT};

use crate::hir::{self, Builtin, FormatPiece, MathFn, StrOp};
use crate::ir::{BinOp, Callee, Const, FloatTy, IntTy, Intrinsic, Operand, Rvalue, Terminator, Ty};

use super::FnBuilder;

impl FnBuilder<'_> {
    pub(crate) fn lower_builtin(&mut self, builtin: Builtin, args: &[hir::Expr], ty: &Ty) -> Operand {
        if builtin == Builtin::SliceContains {
            return self.lower_slice_contains(&args[0], &args[1]);
        }
        if builtin == Builtin::ToString {
            // A `String` argument is read in place (formatting does not move it).
            let v = self.lower_printable(&args[0]);
            let t = if matches!(args[0].ty, Ty::Owned(..)) { Ty::Str } else { args[0].ty.clone() };
            return self.lower_to_string(v, &t);
        }
        let mut values = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            let v = match args.get(i + 1) {
                Some(next) => self.lower_operand_before(a, next),
                None => self.lower_expr(a),
            };
            values.push(v);
        }
        let unit = Operand::Const(Const::Unit);
        match builtin {
            Builtin::SliceContains | Builtin::ToString => unreachable!("lowered above"),
            Builtin::Heap(op) => self.lower_heap(op, values, ty),
            Builtin::StrAsBytes => self.emit(ty.clone(), Rvalue::Intrinsic(crate::ir::Intrinsic::StrAsBytes, values)),
            Builtin::Print { stream, newline } => {
                self.print_value(stream, values[0].clone(), &args[0].ty);
                if newline {
                    self.print_str(stream, "\n");
                }
                unit
            }
            Builtin::PrintPrec { newline } => {
                let f = if args[0].ty == Ty::Float(FloatTy::F32) {
                    blood_abi::PRINT_F32_PREC
                } else {
                    blood_abi::PRINT_F64_PREC
                };
                self.call_runtime(f, vec![FnBuilder::i32_const(STDOUT), values[0].clone(), values[1].clone()]);
                if newline {
                    self.print_str(STDOUT, "\n");
                }
                unit
            }
            Builtin::PrintNewline => {
                self.print_str(STDOUT, "\n");
                unit
            }
            Builtin::Panic => {
                self.call_runtime(blood_abi::PANIC, vec![values[0].clone()]);
                unit
            }
            Builtin::Assert => {
                let fail = self.panic_block("assertion failed");
                self.branch_unless(values[0].clone(), fail);
                unit
            }
            Builtin::AssertMsg => {
                let ok = self.new_block();
                let fail = self.new_block();
                self.terminate(Terminator::Branch { cond: values[0].clone(), then_bb: ok, else_bb: fail });
                self.switch_to(fail);
                self.call_runtime(blood_abi::PANIC, vec![values[1].clone()]);
                self.switch_to(ok);
                unit
            }
            Builtin::AssertEq | Builtin::AssertNe => {
                let eq = builtin == Builtin::AssertEq;
                let op = if eq { BinOp::Eq } else { BinOp::Ne };
                let holds = self.emit_equality(op, values[0].clone(), values[1].clone(), &args[0].ty);
                let ok = self.new_block();
                let fail = self.new_block();
                self.terminate(Terminator::Branch { cond: holds, then_bb: ok, else_bb: fail });
                self.switch_to(fail);
                let sym = if eq { "==" } else { "!=" };
                self.print_str(STDERR, &format!("panic: assertion failed: `(left {sym} right)`\n  left: "));
                self.print_value(STDERR, values[0].clone(), &args[0].ty);
                self.print_str(STDERR, "\n right: ");
                self.print_value(STDERR, values[1].clone(), &args[1].ty);
                self.print_str(STDERR, "\n");
                self.call_runtime(blood_abi::EXIT, vec![FnBuilder::i32_const(blood_abi::EXIT_PANIC)]);
                self.switch_to(ok);
                unit
            }
            Builtin::Unreachable | Builtin::Todo => {
                let msg = if builtin == Builtin::Todo {
                    "not yet implemented"
                } else {
                    "internal error: entered unreachable code"
                };
                let msg = self.str_const(msg);
                self.call_runtime(blood_abi::PANIC, vec![msg]);
                unit
            }
            Builtin::Math(m) => {
                let intrinsic = match m {
                    MathFn::Sqrt => Some(Intrinsic::Sqrt),
                    MathFn::Floor => Some(Intrinsic::Floor),
                    MathFn::Ceil => Some(Intrinsic::Ceil),
                    MathFn::Abs => Some(Intrinsic::FAbs),
                    _ => None,
                };
                if let Some(i) = intrinsic {
                    return self.emit(ty.clone(), Rvalue::Intrinsic(i, values));
                }
                let f = match m {
                    MathFn::Sin => blood_abi::LIBM_SIN,
                    MathFn::Cos => blood_abi::LIBM_COS,
                    MathFn::Exp => blood_abi::LIBM_EXP,
                    MathFn::Log => blood_abi::LIBM_LOG,
                    _ => blood_abi::LIBM_POW,
                };
                self.emit(ty.clone(), Rvalue::Call(Callee::Runtime(f), values))
            }
            Builtin::F64ToBits => self.emit(ty.clone(), Rvalue::Intrinsic(Intrinsic::F64ToBits, values)),
            Builtin::SizeOf(n) => Operand::Const(Const::Int { bits: u128::from(n), ty: IntTy::I64 }),
            Builtin::Str(op) => self.lower_str_op(op, values, ty),
            Builtin::Direct(f) if f.noreturn => {
                self.call_runtime(f, values);
                unit
            }
            Builtin::Direct(f) => self.emit(ty.clone(), Rvalue::Call(Callee::Runtime(f), values)),
            Builtin::ToWord => self.emit(ty.clone(), Rvalue::Intrinsic(Intrinsic::ToWord, values)),
            Builtin::FromWord => self.emit(ty.clone(), Rvalue::Intrinsic(Intrinsic::FromWord, values)),
            Builtin::SpawnFiber => self.lower_spawn_fiber(values[0].clone(), &super::ir_ty(&args[0].ty)),
        }
    }

    /// The string form of a printable value (a `&str` is itself).
    pub(crate) fn lower_to_string(&mut self, v: Operand, ty: &Ty) -> Operand {
        let (f, arg): (RuntimeFn, Operand) = match ty {
            Ty::Str => return v,
            Ty::Bool => (blood_abi::BOOL_TO_STRING, v),
            Ty::Char => (blood_abi::CHAR_TO_STRING, v),
            Ty::Float(FloatTy::F64) => (blood_abi::F64_TO_STRING, v),
            Ty::Float(FloatTy::F32) => (blood_abi::F32_TO_STRING, v),
            Ty::Int(IntTy::I128) => (blood_abi::I128_TO_STRING, v),
            Ty::Int(IntTy::U128) => (blood_abi::U128_TO_STRING, v),
            Ty::Int(IntTy::I64 | IntTy::Isize) => (blood_abi::I64_TO_STRING, v),
            Ty::Int(IntTy::U64 | IntTy::Usize) => (blood_abi::U64_TO_STRING, v),
            Ty::Int(i) if i.is_signed() => {
                (blood_abi::I64_TO_STRING, self.emit(Ty::Int(IntTy::I64), Rvalue::Cast(v, Ty::Int(IntTy::I64))))
            }
            Ty::Int(_) => {
                (blood_abi::U64_TO_STRING, self.emit(Ty::Int(IntTy::U64), Rvalue::Cast(v, Ty::Int(IntTy::U64))))
            }
            _ => return self.str_const(""),
        };
        self.emit(Ty::Str, Rvalue::Call(Callee::Runtime(f), vec![arg]))
    }

    /// `&str` operations: runtime calls on the (ptr, len) pairs.
    fn lower_str_op(&mut self, op: StrOp, values: Vec<Operand>, ty: &Ty) -> Operand {
        let (a, b) = (values[0].clone(), values.get(1).cloned());
        let byte_len = |this: &mut Self, s: Operand| {
            this.emit(Ty::Int(IntTy::I64), Rvalue::Call(Callee::Runtime(blood_abi::STR_LEN), vec![s]))
        };
        let test = |this: &mut Self, f: RuntimeFn| {
            this.emit(Ty::Bool, Rvalue::Call(Callee::Runtime(f), vec![a.clone(), b.clone().expect("two operands")]))
        };
        match op {
            StrOp::Len => {
                let n = byte_len(self, a.clone());
                if *ty == Ty::Int(IntTy::I64) { n } else { self.emit(ty.clone(), Rvalue::Cast(n, ty.clone())) }
            }
            StrOp::IsEmpty => {
                let n = byte_len(self, a.clone());
                let zero = Operand::Const(Const::Int { bits: 0, ty: IntTy::I64 });
                self.emit(Ty::Bool, Rvalue::Binary(BinOp::Eq, n, zero))
            }
            StrOp::Eq => test(self, blood_abi::STR_EQ),
            StrOp::StartsWith => test(self, blood_abi::STR_STARTS_WITH),
            StrOp::EndsWith => test(self, blood_abi::STR_ENDS_WITH),
            StrOp::Contains => test(self, blood_abi::STR_CONTAINS),
            StrOp::AssertEq => {
                let holds = test(self, blood_abi::STR_EQ);
                let ok = self.new_block();
                let fail = self.new_block();
                self.terminate(Terminator::Branch { cond: holds, then_bb: ok, else_bb: fail });
                self.switch_to(fail);
                self.print_str(STDERR, "panic: assertion failed: `(left == right)`\n  left: ");
                self.print_value(STDERR, a.clone(), &Ty::Str);
                self.print_str(STDERR, "\n right: ");
                self.print_value(STDERR, b.clone().expect("two operands"), &Ty::Str);
                self.print_str(STDERR, "\n");
                self.call_runtime(blood_abi::EXIT, vec![FnBuilder::i32_const(blood_abi::EXIT_PANIC)]);
                self.switch_to(ok);
                Operand::Const(Const::Unit)
            }
        }
    }

    /// `a == b` / `a != b` for any comparable type (`&str` compares bytes through the runtime).
    pub(crate) fn emit_equality(&mut self, op: BinOp, a: Operand, b: Operand, ty: &Ty) -> Operand {
        if *ty != Ty::Str {
            return self.emit(Ty::Bool, Rvalue::Binary(op, a, b));
        }
        let eq = self.emit(Ty::Bool, Rvalue::Call(Callee::Runtime(blood_abi::STR_EQ), vec![a, b]));
        if op == BinOp::Eq { eq } else { self.emit(Ty::Bool, Rvalue::Unary(crate::ir::UnOp::Not, eq)) }
    }

    /// Continues in a new block when `cond` holds, jumps to `fail` otherwise.
    fn branch_unless(&mut self, cond: Operand, fail: crate::ir::BlockId) {
        let ok = self.new_block();
        self.terminate(Terminator::Branch { cond, then_bb: ok, else_bb: fail });
        self.switch_to(ok);
    }

    pub(crate) fn print_str(&mut self, stream: i32, s: &str) {
        let s = self.str_const(s);
        self.call_runtime(blood_abi::PRINT_STR, vec![FnBuilder::i32_const(stream), s]);
    }

    /// Prints a value of any printable type with the runtime entry point for that type.
    pub(crate) fn print_value(&mut self, stream: i32, v: Operand, ty: &Ty) {
        let (f, arg): (RuntimeFn, Operand) = match ty {
            Ty::Str => (blood_abi::PRINT_STR, v),
            Ty::Bool => (blood_abi::PRINT_BOOL, v),
            Ty::Char => (blood_abi::PRINT_CHAR, v),
            Ty::Float(FloatTy::F64) => (blood_abi::PRINT_F64, v),
            Ty::Float(FloatTy::F32) => (blood_abi::PRINT_F32, v),
            Ty::Int(IntTy::I128) => (blood_abi::PRINT_I128, v),
            Ty::Int(IntTy::U128) => (blood_abi::PRINT_U128, v),
            Ty::Int(IntTy::I64 | IntTy::Isize) => (blood_abi::PRINT_I64, v),
            Ty::Int(IntTy::U64 | IntTy::Usize) => (blood_abi::PRINT_U64, v),
            Ty::Int(i) if i.is_signed() => {
                (blood_abi::PRINT_I64, self.emit(Ty::Int(IntTy::I64), Rvalue::Cast(v, Ty::Int(IntTy::I64))))
            }
            Ty::Int(_) => (blood_abi::PRINT_U64, self.emit(Ty::Int(IntTy::U64), Rvalue::Cast(v, Ty::Int(IntTy::U64)))),
            _ => return,
        };
        self.call_runtime(f, vec![FnBuilder::i32_const(stream), arg]);
    }

    /// `print!`-family output. Adjacent literal text (including the final newline) is merged.
    /// Every argument is evaluated (in order) before anything is written, as in Rust: an
    /// argument that prints, blocks or yields does not split the line.
    pub(crate) fn lower_format(&mut self, stream: i32, pieces: &[FormatPiece], newline: bool) {
        let args: Vec<&hir::Expr> =
            pieces.iter().filter_map(|p| if let FormatPiece::Arg(e) = p { Some(e) } else { None }).collect();
        let mut values = Vec::with_capacity(args.len());
        for (i, e) in args.iter().enumerate() {
            let v = self.lower_printable(e);
            let later_writes = args[i + 1..].iter().any(|a| !super::expr::is_pure(a));
            let v = match v {
                // A later argument may assign the variable read here: copy it first.
                Operand::Local(l) if later_writes && self.locals[l.0 as usize].name.is_some() => {
                    let ty = self.local_ty(l).clone();
                    self.emit(ty, Rvalue::Use(Operand::Local(l)))
                }
                v => v,
            };
            values.push(v);
        }
        let mut values = values.into_iter();
        let mut text = String::new();
        for piece in pieces {
            match piece {
                FormatPiece::Str(s) => text.push_str(s),
                FormatPiece::Arg(e) => {
                    if !text.is_empty() {
                        self.print_str(stream, &std::mem::take(&mut text));
                    }
                    let v = values.next().expect("one value per argument");
                    let t = if matches!(e.ty, Ty::Owned(..)) { Ty::Str } else { e.ty.clone() };
                    self.print_value(stream, v, &t);
                }
            }
        }
        if newline {
            text.push('\n');
        }
        if !text.is_empty() {
            self.print_str(stream, &text);
        }
    }

    /// `dbg!(e)`: `text = value` on stderr; the value passes through.
    pub(crate) fn lower_dbg(&mut self, text: &str, expr: &hir::Expr) -> Operand {
        let v = self.lower_expr(expr);
        let v = match v {
            Operand::Local(l) => self.emit(expr.ty.clone(), Rvalue::Use(Operand::Local(l))),
            v => v,
        };
        self.print_str(STDERR, &format!("{text} = "));
        self.print_value(STDERR, v.clone(), &expr.ty);
        self.print_str(STDERR, "\n");
        v
    }
}
