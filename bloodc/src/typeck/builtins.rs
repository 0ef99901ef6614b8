//! The builtin functions and macros of the prelude (LANGUAGE.md §3.9).
//!
//! Builtins are looked up after locals and user items, so a user function of the same name
//! shadows them. Some builtins are plain conversions and become HIR casts
//! (`i32_to_i64`, `char_from_u32`); the print macros are parsed here into
//! [`hir::ExprKind::Format`] pieces whose argument types are checked once inference is done.

use blood_abi::{STDERR, STDOUT};

use crate::diagnostics::Diagnostic;
use crate::hir::{self, Builtin, ExprKind as H, FormatPiece, Lit, MathFn, StrOp};
use crate::source::Span;
use crate::syntax::ast::{self, ExprKind as A};
use crate::types::{Effects, FloatTy, IntTy, Ty};

use super::FnCx;
use super::finish::{Deferred, OperandClass};

/// What a builtin name stands for.
#[derive(Clone, Debug)]
pub(super) enum BuiltinKind {
    Call(Builtin),
    /// A conversion written as a function: the argument cast to the return type.
    Cast,
}

#[derive(Clone, Debug)]
pub(super) struct BuiltinCallee {
    pub kind: BuiltinKind,
    pub params: Vec<Ty>,
    pub ret: Ty,
}

const I32: Ty = Ty::Int(IntTy::I32);
const I64: Ty = Ty::Int(IntTy::I64);
const U32: Ty = Ty::Int(IntTy::U32);
const U64: Ty = Ty::Int(IntTy::U64);
const USIZE: Ty = Ty::Int(IntTy::Usize);
const F32: Ty = Ty::Float(FloatTy::F32);
const F64: Ty = Ty::Float(FloatTy::F64);

/// Every builtin function name (for lookups and "did you mean").
pub(super) const BUILTIN_NAMES: &[&str] = &[
    "print",
    "print_str",
    "println",
    "println_str",
    "eprint",
    "eprint_str",
    "eprintln",
    "eprintln_str",
    "print_int",
    "println_int",
    "print_i64",
    "println_i64",
    "print_u64",
    "println_u64",
    "print_bool",
    "println_bool",
    "print_char",
    "println_char",
    "print_f64",
    "println_f64",
    "print_f32",
    "println_f32",
    "print_f64_prec",
    "println_f64_prec",
    "print_f32_prec",
    "println_f32_prec",
    "print_newline",
    "panic",
    "assert",
    "assert_eq_int",
    "assert_ne_int",
    "assert_eq_bool",
    "assert_eq_i64",
    "assert_eq_u32",
    "assert_eq_u64",
    "assert_eq_usize",
    "unreachable",
    "todo",
    "sqrt",
    "sqrt_f32",
    "abs",
    "abs_f32",
    "floor",
    "ceil",
    "sin",
    "cos",
    "exp",
    "log",
    "pow",
    "i32_to_i64",
    "i64_to_i32",
    "size_of_i32",
    "size_of_i64",
    "size_of_bool",
    "char_from_u32",
    "blood_float64_to_bits",
    "__builtin_scheduler_init",
    "__builtin_scheduler_shutdown",
    "__builtin_fiber_spawn",
    "__builtin_fiber_spawn_with",
    "__builtin_fiber_join",
    "__builtin_fiber_current",
    "__builtin_fiber_yield",
    "__builtin_fiber_sleep",
    "__builtin_fiber_is_finished",
    "__builtin_fiber_cancel",
    "__builtin_fiber_park",
    "__builtin_fiber_unpark",
    "__builtin_safepoint_check",
    "__builtin_safepoint_request",
    "__builtin_safepoint_clear",
    "thread_spawn",
    "thread_join",
];

pub(super) fn is_builtin(name: &str) -> bool {
    BUILTIN_NAMES.contains(&name)
}

pub(super) fn lookup(name: &str) -> Option<BuiltinCallee> {
    use Builtin as B;
    let call =
        |b: Builtin, params: &[Ty], ret: Ty| BuiltinCallee { kind: BuiltinKind::Call(b), params: params.to_vec(), ret };
    let print = |stream: i32, newline: bool, param: Ty| call(B::Print { stream, newline }, &[param], Ty::Unit);
    let math = |m: MathFn, ty: Ty| call(B::Math(m), std::slice::from_ref(&ty), ty.clone());
    let cast = |from: Ty, to: Ty| BuiltinCallee { kind: BuiltinKind::Cast, params: vec![from], ret: to };
    Some(match name {
        "print" | "print_str" => print(STDOUT, false, Ty::Str),
        "println" | "println_str" => print(STDOUT, true, Ty::Str),
        "eprint" | "eprint_str" => print(STDERR, false, Ty::Str),
        "eprintln" | "eprintln_str" => print(STDERR, true, Ty::Str),
        "print_int" => print(STDOUT, false, I32),
        "println_int" => print(STDOUT, true, I32),
        "print_i64" => print(STDOUT, false, I64),
        "println_i64" => print(STDOUT, true, I64),
        "print_u64" => print(STDOUT, false, U64),
        "println_u64" => print(STDOUT, true, U64),
        "print_bool" => print(STDOUT, false, Ty::Bool),
        "println_bool" => print(STDOUT, true, Ty::Bool),
        "print_char" => print(STDOUT, false, Ty::Char),
        "println_char" => print(STDOUT, true, Ty::Char),
        "print_f64" => print(STDOUT, false, F64),
        "println_f64" => print(STDOUT, true, F64),
        "print_f32" => print(STDOUT, false, F32),
        "println_f32" => print(STDOUT, true, F32),
        "print_f64_prec" => call(B::PrintPrec { newline: false }, &[F64, I32], Ty::Unit),
        "println_f64_prec" => call(B::PrintPrec { newline: true }, &[F64, I32], Ty::Unit),
        "print_f32_prec" => call(B::PrintPrec { newline: false }, &[F32, I32], Ty::Unit),
        "println_f32_prec" => call(B::PrintPrec { newline: true }, &[F32, I32], Ty::Unit),
        "print_newline" => call(B::PrintNewline, &[], Ty::Unit),
        "panic" => call(B::Panic, &[Ty::Str], Ty::Never),
        "assert" => call(B::Assert, &[Ty::Bool], Ty::Unit),
        "assert_eq_int" => call(B::AssertEq, &[I32, I32], Ty::Unit),
        "assert_ne_int" => call(B::AssertNe, &[I32, I32], Ty::Unit),
        "assert_eq_bool" => call(B::AssertEq, &[Ty::Bool, Ty::Bool], Ty::Unit),
        "assert_eq_i64" => call(B::AssertEq, &[I64, I64], Ty::Unit),
        "assert_eq_u32" => call(B::AssertEq, &[U32, U32], Ty::Unit),
        "assert_eq_u64" => call(B::AssertEq, &[U64, U64], Ty::Unit),
        "assert_eq_usize" => call(B::AssertEq, &[USIZE, USIZE], Ty::Unit),
        "unreachable" => call(B::Unreachable, &[], Ty::Never),
        "todo" => call(B::Todo, &[], Ty::Never),
        "sqrt" => math(MathFn::Sqrt, F64),
        "sqrt_f32" => math(MathFn::Sqrt, F32),
        "abs" => math(MathFn::Abs, F64),
        "abs_f32" => math(MathFn::Abs, F32),
        "floor" => math(MathFn::Floor, F64),
        "ceil" => math(MathFn::Ceil, F64),
        "sin" => math(MathFn::Sin, F64),
        "cos" => math(MathFn::Cos, F64),
        "exp" => math(MathFn::Exp, F64),
        "log" => math(MathFn::Log, F64),
        "pow" => call(B::Math(MathFn::Pow), &[F64, F64], F64),
        "i32_to_i64" => cast(I32, I64),
        "i64_to_i32" => cast(I64, I32),
        "char_from_u32" => cast(U32, Ty::Char),
        "size_of_i32" => call(B::SizeOf(4), &[], I64),
        "size_of_i64" => call(B::SizeOf(8), &[], I64),
        "size_of_bool" => call(B::SizeOf(1), &[], I64),
        "blood_float64_to_bits" => call(B::F64ToBits, &[F64], U64),
        "str_len" => call(B::Str(StrOp::Len), &[Ty::Str], I64),
        "str_eq" => call(B::Str(StrOp::Eq), &[Ty::Str, Ty::Str], Ty::Bool),
        "assert_eq_str" => call(B::Str(StrOp::AssertEq), &[Ty::Str, Ty::Str], Ty::Unit),
        "str_concat" => call(B::Direct(blood_abi::STR_CONCAT), &[Ty::Str, Ty::Str], Ty::Str),
        "int_to_string" => call(B::ToString, &[I32], Ty::Str),
        "i8_to_string" => call(B::ToString, &[Ty::Int(IntTy::I8)], Ty::Str),
        "i16_to_string" => call(B::ToString, &[Ty::Int(IntTy::I16)], Ty::Str),
        "i64_to_string" => call(B::ToString, &[I64], Ty::Str),
        "i128_to_string" => call(B::ToString, &[Ty::Int(IntTy::I128)], Ty::Str),
        "u8_to_string" => call(B::ToString, &[Ty::Int(IntTy::U8)], Ty::Str),
        "u16_to_string" => call(B::ToString, &[Ty::Int(IntTy::U16)], Ty::Str),
        "u32_to_string" => call(B::ToString, &[U32], Ty::Str),
        "u64_to_string" => call(B::ToString, &[U64], Ty::Str),
        "u128_to_string" => call(B::ToString, &[Ty::Int(IntTy::U128)], Ty::Str),
        "bool_to_string" => call(B::ToString, &[Ty::Bool], Ty::Str),
        "char_to_string" => call(B::ToString, &[Ty::Char], Ty::Str),
        "f32_to_string" => call(B::ToString, &[F32], Ty::Str),
        "f64_to_string" => call(B::ToString, &[F64], Ty::Str),
        "parse_f64" => call(B::Direct(blood_abi::PARSE_F64), &[Ty::Str], F64),
        "parse_i64_radix" => call(B::Direct(blood_abi::PARSE_I64_RADIX), &[Ty::Str, U32], I64),
        "args_count" => call(B::Direct(blood_abi::ARGS_COUNT), &[], I32),
        "blood_clock_millis" => call(B::Direct(blood_abi::CLOCK_MILLIS), &[], U64),
        "blood_clock_nanos" => call(B::Direct(blood_abi::CLOCK_NANOS), &[], U64),
        "args_get" => call(B::Direct(blood_abi::ARGS_GET), &[I32], Ty::Str),
        "args_join" => call(B::Direct(blood_abi::ARGS_JOIN), &[], Ty::Str),
        // LANGUAGE.md §7.1: the upstream fiber builtins, straight to the runtime.
        "__builtin_scheduler_init" => call(B::Direct(blood_abi::SCHEDULER_INIT), &[U64], Ty::Unit),
        "__builtin_scheduler_shutdown" => call(B::Direct(blood_abi::SCHEDULER_SHUTDOWN), &[], Ty::Unit),
        "__builtin_fiber_spawn" => call(B::Direct(blood_abi::FIBER_SPAWN), &[U64], U64),
        "__builtin_fiber_spawn_with" => call(B::Direct(blood_abi::FIBER_SPAWN_WITH), &[U64, U64], U64),
        "__builtin_fiber_join" => call(B::Direct(blood_abi::FIBER_JOIN), &[U64], U64),
        "__builtin_fiber_current" => call(B::Direct(blood_abi::FIBER_CURRENT), &[], U64),
        "__builtin_fiber_yield" => call(B::Direct(blood_abi::FIBER_YIELD), &[], Ty::Unit),
        "__builtin_fiber_sleep" => call(B::Direct(blood_abi::FIBER_SLEEP), &[U64], Ty::Unit),
        "__builtin_fiber_is_finished" => call(B::Direct(blood_abi::FIBER_IS_FINISHED), &[U64], Ty::Bool),
        "__builtin_fiber_cancel" => call(B::Direct(blood_abi::FIBER_CANCEL), &[U64], Ty::Unit),
        "__builtin_fiber_park" => call(B::Direct(blood_abi::FIBER_PARK), &[], Ty::Unit),
        "__builtin_fiber_unpark" => call(B::Direct(blood_abi::FIBER_UNPARK), &[U64], Ty::Unit),
        "__builtin_safepoint_check" => call(B::Direct(blood_abi::SAFEPOINT_SLOW), &[], Ty::Unit),
        "__builtin_safepoint_request" => call(B::Direct(blood_abi::SAFEPOINT_REQUEST), &[], Ty::Unit),
        "__builtin_safepoint_clear" => call(B::Direct(blood_abi::SAFEPOINT_CLEAR), &[], Ty::Unit),
        "thread_spawn" => call(B::Direct(blood_abi::THREAD_SPAWN), &[U64, U64], U64),
        "thread_join" => call(B::Direct(blood_abi::THREAD_JOIN), &[U64], U64),
        // The runtime half of `blood-std/lib/concurrency.blood` (statuses as in `blood_abi`).
        "__blood_channel_create" => call(B::Direct(blood_abi::CHANNEL_CREATE), &[I64], U64),
        "__blood_channel_send" => call(B::Direct(blood_abi::CHANNEL_SEND), &[U64, U64], I32),
        "__blood_channel_recv" => call(B::Direct(blood_abi::CHANNEL_RECV), &[U64, mut_ref(U64)], I32),
        "__blood_channel_try_send" => call(B::Direct(blood_abi::CHANNEL_TRY_SEND), &[U64, U64], I32),
        "__blood_channel_try_recv" => call(B::Direct(blood_abi::CHANNEL_TRY_RECV), &[U64, mut_ref(U64)], I32),
        "__blood_channel_close" => call(B::Direct(blood_abi::CHANNEL_CLOSE), &[U64], Ty::Unit),
        "__blood_channel_select" => call(
            B::Direct(blood_abi::CHANNEL_SELECT),
            &[Ty::reference(Ty::Slice(U64.into()), false), I64, mut_ref(U64), mut_ref(I32)],
            I64,
        ),
        "__blood_fiber_try_join" => call(B::Direct(blood_abi::FIBER_TRY_JOIN), &[U64, mut_ref(U64)], I32),
        "__blood_fiber_sleep" => call(B::Direct(blood_abi::FIBER_SLEEP), &[U64], I32),
        "__blood_fiber_check_cancelled" => call(B::Direct(blood_abi::FIBER_CHECK_CANCELLED), &[], I32),
        "__blood_fiber_cancel" => call(B::Direct(blood_abi::FIBER_CANCEL), &[U64], Ty::Unit),
        "__blood_fiber_current" => call(B::Direct(blood_abi::FIBER_CURRENT), &[], U64),
        "__blood_fiber_yield" => call(B::Direct(blood_abi::FIBER_YIELD), &[], Ty::Unit),
        "__blood_fiber_exit_cancelled" => call(B::Direct(blood_abi::FIBER_EXIT_CANCELLED), &[], Ty::Never),
        // Generic over `T` (`Ty::Param(0)`, replaced by an inference variable at each call).
        "__blood_to_word" => call(B::ToWord, &[param_t()], U64),
        "__blood_from_word" => call(B::FromWord, &[U64], param_t()),
        "__blood_spawn" => call(
            B::SpawnFiber,
            &[Ty::Fn(Vec::new().into(), param_t().into(), Effects::FIBER.union(Effects::CANCEL))],
            U64,
        ),
        _ => return None,
    })
}

fn mut_ref(t: Ty) -> Ty {
    Ty::reference(t, true)
}

/// The type parameter of a generic builtin.
fn param_t() -> Ty {
    Ty::Param(0, "T".into())
}

/// The builtin methods of `&str` (LANGUAGE.md §4.6); the receiver is the first parameter.
pub(super) fn str_method(name: &str) -> Option<BuiltinCallee> {
    let call = |op: StrOp, params: &[Ty], ret: Ty| BuiltinCallee {
        kind: BuiltinKind::Call(Builtin::Str(op)),
        params: params.to_vec(),
        ret,
    };
    Some(match name {
        "len" => call(StrOp::Len, &[Ty::Str], USIZE),
        "is_empty" => call(StrOp::IsEmpty, &[Ty::Str], Ty::Bool),
        "starts_with" => call(StrOp::StartsWith, &[Ty::Str, Ty::Str], Ty::Bool),
        "ends_with" => call(StrOp::EndsWith, &[Ty::Str, Ty::Str], Ty::Bool),
        "contains" => call(StrOp::Contains, &[Ty::Str, Ty::Str], Ty::Bool),
        "as_bytes" => BuiltinCallee {
            kind: BuiltinKind::Call(Builtin::StrAsBytes),
            params: vec![Ty::Str],
            ret: Ty::reference(Ty::Slice(Ty::Int(IntTy::U8).into()), false),
        },
        _ => return None,
    })
}

/// Builds the HIR of a checked builtin call (`args` in parameter order).
pub(super) fn builtin_call_expr(
    _cx: &mut FnCx<'_, '_>,
    b: BuiltinCallee,
    mut args: Vec<hir::Expr>,
    span: Span,
) -> hir::Expr {
    match b.kind {
        BuiltinKind::Cast => {
            let arg = args.pop().expect("conversions take one argument");
            hir::Expr::new(H::Cast(Box::new(arg)), b.ret, span)
        }
        BuiltinKind::Call(builtin) => hir::Expr::new(H::Builtin { builtin, args }, b.ret, span),
    }
}

impl<'a> FnCx<'_, 'a> {
    /// Checks a builtin macro call (`println!`, `assert!`, `panic!`, `dbg!`, …).
    pub(super) fn check_macro(&mut self, mac: &'a ast::MacroCall, span: Span) -> hir::Expr {
        let name = mac.name.name.as_str();
        let call = |builtin, args, ty| hir::Expr::new(H::Builtin { builtin, args }, ty, span);
        match name {
            "println" | "print" | "eprintln" | "eprint" => {
                let stream = if name.starts_with('e') { STDERR } else { STDOUT };
                let newline = name.ends_with("ln");
                if mac.args.is_empty() && newline {
                    return hir::Expr::new(H::Format { stream, pieces: Vec::new(), newline }, Ty::Unit, span);
                }
                match self.check_format(mac, span) {
                    Some(pieces) => hir::Expr::new(H::Format { stream, pieces, newline }, Ty::Unit, span),
                    None => Self::error_expr(span),
                }
            }
            "panic" => match mac.args.as_slice() {
                [] => call(Builtin::Panic, vec![str_lit("explicit panic", span)], Ty::Never),
                [msg] if is_str_lit(msg) => {
                    let msg = self.check_expr(msg);
                    call(Builtin::Panic, vec![msg], Ty::Never)
                }
                _ => {
                    // `panic!("fmt {}", x)`: the message is formatted straight to stderr.
                    let Some(mut pieces) = self.check_format(mac, span) else { return Self::error_expr(span) };
                    pieces.insert(0, FormatPiece::Str("panic: ".into()));
                    hir::Expr::new(H::PanicFormat { pieces }, Ty::Never, span)
                }
            },
            "assert" => match mac.args.as_slice() {
                [cond] => {
                    let cond = self.check_expr_expect(cond, &Ty::Bool);
                    call(Builtin::Assert, vec![cond], Ty::Unit)
                }
                [cond, msg] => {
                    let cond = self.check_expr_expect(cond, &Ty::Bool);
                    let msg = self.check_expr_expect(msg, &Ty::Str);
                    call(Builtin::AssertMsg, vec![cond, msg], Ty::Unit)
                }
                _ => {
                    self.error(
                        Diagnostic::error("wrong number of arguments", span)
                            .with_code("E0211")
                            .with_note(format!("expected 1 or 2 argument(s), found {}", mac.args.len())),
                    );
                    Self::error_expr(span)
                }
            },
            "unreachable" | "todo" => {
                for a in &mac.args {
                    self.check_expr(a);
                }
                let b = if name == "todo" { Builtin::Todo } else { Builtin::Unreachable };
                call(b, vec![], Ty::Never)
            }
            "dbg" => {
                let [arg] = mac.args.as_slice() else {
                    self.error(
                        Diagnostic::error("wrong number of arguments", span)
                            .with_code("E0211")
                            .with_note(format!("expected 1 argument(s), found {}", mac.args.len())),
                    );
                    return Self::error_expr(span);
                };
                let text = self.gcx.sources.snippet(arg.span).to_string();
                let value = self.check_expr(arg);
                self.deferred.push(Deferred::Operand {
                    span: arg.span,
                    ty: value.ty.clone(),
                    class: OperandClass::Printable,
                    op: "dbg!",
                });
                let ty = value.ty.clone();
                hir::Expr::new(H::Dbg { text, expr: Box::new(value) }, ty, span)
            }
            "matches" => match (mac.args.as_slice(), &mac.pattern) {
                ([e], Some(pat)) => self.check_matches(e, pat, span),
                _ => {
                    for a in &mac.args {
                        self.check_expr(a);
                    }
                    self.error(Diagnostic::error("`matches!` takes an expression and a pattern", span));
                    Self::error_expr(span)
                }
            },
            "format" => {
                // `format!` yields a new `&str` (LANGUAGE.md §4.6): each piece as a string,
                // concatenated left to right.
                let Some(pieces) = self.check_format(mac, span) else { return Self::error_expr(span) };
                let mut acc: Option<hir::Expr> = None;
                for piece in pieces {
                    let part = match piece {
                        FormatPiece::Str(s) => str_lit(&s, span),
                        FormatPiece::Arg(e) => {
                            let s = e.span;
                            hir::Expr::new(H::Builtin { builtin: Builtin::ToString, args: vec![e] }, Ty::Str, s)
                        }
                    };
                    acc = Some(match acc {
                        None => part,
                        Some(prev) => hir::Expr::new(
                            H::Builtin { builtin: Builtin::Direct(blood_abi::STR_CONCAT), args: vec![prev, part] },
                            Ty::Str,
                            span,
                        ),
                    });
                }
                acc.unwrap_or_else(|| str_lit("", span))
            }
            // `vec![a, b]` / `vec![x; n]` are array literals (LANGUAGE.md §4.6).
            "vec" => match mac.args.as_slice() {
                [ast::Expr { kind: ast::ExprKind::ArrayRepeat(value, count), .. }] => {
                    self.check_repeat(value, count, span)
                }
                args => self.check_array(args, span),
            },
            _ => {
                for a in &mac.args {
                    self.check_expr(a);
                }
                self.unsupported_expr(mac.name.span, &format!("macro `{name}!`"))
            }
        }
    }

    /// Splits a format string into pieces and checks the arguments (LANGUAGE.md §3.9).
    fn check_format(&mut self, mac: &'a ast::MacroCall, span: Span) -> Option<Vec<FormatPiece>> {
        let Some((fmt, rest)) = mac.args.split_first() else {
            self.error(Diagnostic::error(format!("`{}!` needs a format string", mac.name.name), span));
            return None;
        };
        let A::Lit(ast::Lit::Str(text)) = &fmt.kind else {
            self.check_expr(fmt);
            self.error(Diagnostic::error("format argument must be a string literal", fmt.span));
            return None;
        };
        let args: Vec<hir::Expr> = rest.iter().map(|a| self.check_expr(a)).collect();
        let segments = match split_format(text) {
            Ok(s) => s,
            Err(msg) => {
                self.error(Diagnostic::error(format!("invalid format string: {msg}"), fmt.span));
                return None;
            }
        };
        let placeholders = segments.iter().filter(|s| s.is_none()).count();
        if placeholders != args.len() {
            self.error(Diagnostic::error("wrong number of arguments", span).with_code("E0211").with_note(format!(
                "the format string has {placeholders} placeholder(s) but {} argument(s) were given",
                args.len()
            )));
            return None;
        }
        let mut args = args.into_iter();
        let mut pieces = Vec::new();
        for seg in segments {
            match seg {
                Some(s) => pieces.push(FormatPiece::Str(s)),
                None => {
                    let arg = args.next().expect("counted above");
                    self.deferred.push(Deferred::Operand {
                        span: arg.span,
                        ty: arg.ty.clone(),
                        class: OperandClass::Printable,
                        op: "{}",
                    });
                    pieces.push(FormatPiece::Arg(arg));
                }
            }
        }
        Some(pieces)
    }
}

fn is_str_lit(e: &ast::Expr) -> bool {
    matches!(e.kind, A::Lit(ast::Lit::Str(_)))
}

fn str_lit(s: &str, span: Span) -> hir::Expr {
    hir::Expr::new(H::Lit(Lit::Str(s.to_string())), Ty::Str, span)
}

/// Splits `"a {} b {{c}}"` into `[Some("a "), None, Some(" b {c}")]` (`None` = placeholder).
fn split_format(text: &str) -> Result<Vec<Option<String>>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                cur.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                cur.push('}');
            }
            '{' => {
                let mut spec = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => spec.push(c),
                        None => return Err("unclosed `{`".to_string()),
                    }
                }
                if !spec.is_empty() {
                    return Err(format!("unsupported placeholder `{{{spec}}}` (only `{{}}` is supported)"));
                }
                if !cur.is_empty() {
                    out.push(Some(std::mem::take(&mut cur)));
                }
                out.push(None);
            }
            '}' => return Err("unmatched `}` (write `}}` for a literal brace)".to_string()),
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(Some(cur));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::split_format;

    #[test]
    fn format_strings_split_into_pieces() {
        assert_eq!(
            split_format("a {} b {{c}}").unwrap(),
            vec![Some("a ".to_string()), None, Some(" b {c}".to_string())]
        );
        assert!(split_format("{x}").is_err());
        assert!(split_format("}").is_err());
        assert!(split_format("{").is_err());
    }
}
