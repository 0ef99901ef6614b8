//! `const` items and type aliases (LANGUAGE.md §4.9).
//!
//! Both are order-independent and may refer to each other, so they are resolved on demand, with
//! a three-state marker per item to detect cycles. A constant is type-checked like an expression
//! (in a scope with no locals), then evaluated at compile time by [`eval`]; every use of it becomes
//! the literal it evaluated to. Constant evaluation follows run-time semantics exactly (wrapping
//! arithmetic, §3.6 casts) except that division by zero is a compile-time error.

use crate::diagnostics::Diagnostic;
use crate::hir::{self, ExprKind as H, Lit};
use crate::resolve::{ConstLike, ScopeId};
use crate::syntax::ast;
use crate::types::{FloatTy, IntTy, Ty};

use super::infer::InferTable;
use super::{FnCx, GlobalCx};

pub(crate) enum ItemState<T> {
    Pending,
    InProgress,
    Done(T),
}

/// A `const` item (or an immutable `static`, which behaves the same in a language without
/// addresses of globals) and the scopes visible from its definition.
pub(crate) struct ConstDef<'a> {
    pub decl: ConstLike<'a>,
    pub scopes: Vec<ScopeId>,
    /// The type and value (`None` after an error, already reported).
    pub state: ItemState<Option<(Ty, Lit)>>,
    /// For a constant of aggregate type (struct, enum, tuple, array): its value as an
    /// expression of constructors over literals, copied into each use.
    pub aggregate: Option<hir::Expr>,
}

/// A type alias and the scopes visible from its definition.
pub(crate) struct AliasDef<'a> {
    pub decl: &'a ast::TypeAlias,
    pub scopes: Vec<ScopeId>,
    pub state: ItemState<Ty>,
}

impl<'a> GlobalCx<'a> {
    /// The type an alias stands for.
    pub fn resolve_alias(&mut self, id: u32, use_span: crate::source::Span) -> Ty {
        let def = &mut self.aliases[id as usize];
        match &def.state {
            ItemState::Done(t) => return t.clone(),
            ItemState::InProgress => {
                let name = def.decl.name.name.clone();
                self.error(Diagnostic::error(format!("cycle in type alias `{name}`"), use_span));
                return Ty::Error;
            }
            ItemState::Pending => def.state = ItemState::InProgress,
        }
        let (decl, scopes) = (def.decl, def.scopes.clone());
        let ty = if decl.generics.params.is_empty() {
            self.lower_type(&decl.ty, &scopes)
        } else {
            self.error(super::unsupported(decl.generics.span, "generic type aliases (language level L2)"));
            Ty::Error
        };
        self.aliases[id as usize].state = ItemState::Done(ty.clone());
        ty
    }

    /// The type and value of a constant, evaluating it on first use.
    pub fn resolve_const(&mut self, id: u32, use_span: crate::source::Span) -> Option<(Ty, Lit)> {
        let def = &mut self.consts[id as usize];
        match &def.state {
            ItemState::Done(v) => return v.clone(),
            ItemState::InProgress => {
                let name = def.decl.name.name.clone();
                self.error(Diagnostic::error(format!("cycle in the definition of constant `{name}`"), use_span));
                return None;
            }
            ItemState::Pending => def.state = ItemState::InProgress,
        }
        let (decl, scopes) = (def.decl, def.scopes.clone());
        let ty = self.lower_type(decl.ty, &scopes);
        let mut cx = FnCx {
            gcx: self,
            fn_name: decl.name.name.clone(),
            locals: Vec::new(),
            scopes: vec![Vec::new()],
            item_scopes: scopes,
            loops: Vec::new(),
            next_loop: 0,
            ret: ty.clone(),
            infer: InferTable::default(),
            deferred: Vec::new(),
            reported_infer: false,
            closures: Default::default(),
            effects: vec![super::effects::EffectFrame { allowed: Some(Default::default()), used: Default::default() }],
            unsafe_depth: 0,
        };
        let errors_before = cx.gcx.diagnostics.len();
        let mut value = cx.check_expr_expect(decl.value, &ty);
        cx.finish_expr(&mut value);
        let ok = cx.gcx.diagnostics[errors_before..].iter().all(|d| !d.is_error());
        let result = if !ok {
            None
        } else if value.ty.is_aggregate() {
            match fold_aggregate(&value) {
                Ok(folded) => {
                    self.consts[id as usize].aggregate = Some(folded);
                    Some((ty.clone(), Lit::Unit))
                }
                Err(msg) => {
                    self.error(
                        Diagnostic::error(format!("error evaluating constant: {msg}"), value.span).with_code("E0216"),
                    );
                    None
                }
            }
        } else if let H::Lit(Lit::Str(text)) = &value.kind {
            Some((ty.clone(), Lit::Str(text.clone())))
        } else {
            match eval(&value) {
                Ok(v) => Some((ty.clone(), v.into_lit(&ty))),
                Err(msg) => {
                    self.error(
                        Diagnostic::error(format!("error evaluating constant: {msg}"), value.span).with_code("E0216"),
                    );
                    None
                }
            }
        };
        self.consts[id as usize].state = ItemState::Done(result.clone());
        result
    }

    /// Evaluates the given constants, so errors in unused constants are reported too.
    pub fn check_consts(&mut self, ids: &[u32]) {
        for &id in ids {
            let span = self.consts[id as usize].decl.name.span;
            self.resolve_const(id, span);
        }
    }
}

/// Folds an aggregate constant: constructors are kept, every scalar inside is evaluated to a
/// literal.
fn fold_aggregate(e: &hir::Expr) -> Result<hir::Expr, String> {
    let kind = match &e.kind {
        H::Tuple(xs) => H::Tuple(xs.iter().map(fold_aggregate).collect::<Result<_, _>>()?),
        H::Array(xs) => H::Array(xs.iter().map(fold_aggregate).collect::<Result<_, _>>()?),
        H::Repeat(x, n) => H::Repeat(Box::new(fold_aggregate(x)?), *n),
        H::Adt { variant, fields, base: None } => H::Adt {
            variant: *variant,
            fields: fields.iter().map(|(i, x)| Ok((*i, fold_aggregate(x)?))).collect::<Result<_, String>>()?,
            base: None,
        },
        H::Lit(Lit::Str(_)) => e.kind.clone(),
        _ if e.ty.is_aggregate() => return Err("this expression is not allowed in a constant".to_string()),
        _ => H::Lit(eval(e)?.into_lit(&e.ty)),
    };
    Ok(hir::Expr::new(kind, e.ty.clone(), e.span))
}

/// A compile-time value.
#[derive(Clone, Copy, Debug)]
enum Value {
    /// Two's-complement bits, truncated to the type's width.
    Int(u128, IntTy),
    Float(f64),
    Bool(bool),
    Char(char),
}

impl Value {
    fn into_lit(self, ty: &Ty) -> Lit {
        match (self, ty) {
            (Value::Int(bits, int), _) => {
                let negative = int.is_signed() && bits >> (int.bits() - 1) & 1 == 1;
                let magnitude = if negative { int.truncate(bits.wrapping_neg()) } else { bits };
                Lit::Int { negative, magnitude }
            }
            (Value::Float(v), Ty::Float(FloatTy::F32)) => Lit::Float(f64::from(v as f32)),
            (Value::Float(v), _) => Lit::Float(v),
            (Value::Bool(b), _) => Lit::Bool(b),
            (Value::Char(c), _) => Lit::Char(c),
        }
    }
}

/// Signed value of `bits` in `int`.
fn signed(bits: u128, int: IntTy) -> i128 {
    let shift = 128 - int.bits();
    ((bits << shift) as i128) >> shift
}

/// Evaluates a checked constant expression. `&str` constants are literals and evaluate to
/// themselves (handled by the caller through `Lit::Str`).
fn eval(e: &hir::Expr) -> Result<Value, String> {
    match &e.kind {
        H::Lit(Lit::Int { negative, magnitude }) => {
            let Ty::Int(int) = e.ty else { return Ok(Value::Float(*magnitude as f64)) };
            Ok(Value::Int(int.truncate(if *negative { magnitude.wrapping_neg() } else { *magnitude }), int))
        }
        H::Lit(Lit::Float(v)) => Ok(Value::Float(*v)),
        H::Lit(Lit::Bool(b)) => Ok(Value::Bool(*b)),
        H::Lit(Lit::Char(c)) => Ok(Value::Char(*c)),
        H::Lit(Lit::Str(_)) => Err("string constants must be a single literal".to_string()),
        H::Lit(Lit::Unit) => Ok(Value::Bool(false)),
        H::Unary(op, a) => {
            let v = eval(a)?;
            Ok(match (op, v) {
                (hir::UnOp::Neg, Value::Int(b, t)) => Value::Int(t.truncate(b.wrapping_neg()), t),
                (hir::UnOp::Neg, Value::Float(f)) => Value::Float(-f),
                (hir::UnOp::Not, Value::Int(b, t)) => Value::Int(t.truncate(!b), t),
                (hir::UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
                _ => return Err("invalid operand".to_string()),
            })
        }
        H::Binary(op, a, b) => binary(*op, eval(a)?, eval(b)?),
        H::Cast(a) => cast(eval(a)?, &e.ty),
        H::Block { stmts, tail: Some(t) } if stmts.is_empty() => eval(t),
        _ => Err("this expression is not allowed in a constant".to_string()),
    }
}

fn binary(op: hir::BinOp, a: Value, b: Value) -> Result<Value, String> {
    use crate::syntax::ast::BinOp as B;
    Ok(match (a, b) {
        (Value::Int(x, t), Value::Int(y, ty)) => {
            let (sx, sy) = (signed(x, t), signed(y, ty));
            let cmp = |o: std::cmp::Ordering| Value::Bool(o == std::cmp::Ordering::Equal);
            let ord = if t.is_signed() { sx.cmp(&sy) } else { x.cmp(&y) };
            let int = |v: u128| Value::Int(t.truncate(v), t);
            match op {
                B::Add => int(x.wrapping_add(y)),
                B::Sub => int(x.wrapping_sub(y)),
                B::Mul => int(x.wrapping_mul(y)),
                B::Div | B::Rem if y == 0 => {
                    return Err(if op == B::Div { "division by zero" } else { "remainder by zero" }.to_string());
                }
                B::Div if t.is_signed() => int(sx.wrapping_div(sy) as u128),
                B::Rem if t.is_signed() => int(sx.wrapping_rem(sy) as u128),
                B::Div => int(x / y),
                B::Rem => int(x % y),
                B::BitAnd => int(x & y),
                B::BitOr => int(x | y),
                B::BitXor => int(x ^ y),
                B::Shl => int(x << (y % u128::from(t.bits()))),
                B::Shr if t.is_signed() => int((sx >> (y % u128::from(t.bits()))) as u128),
                B::Shr => int(x >> (y % u128::from(t.bits()))),
                B::Eq => cmp(ord),
                B::Ne => Value::Bool(ord != std::cmp::Ordering::Equal),
                B::Lt => Value::Bool(ord.is_lt()),
                B::Le => Value::Bool(ord.is_le()),
                B::Gt => Value::Bool(ord.is_gt()),
                B::Ge => Value::Bool(ord.is_ge()),
                B::And | B::Or => return Err("invalid operands".to_string()),
            }
        }
        (Value::Float(x), Value::Float(y)) => match op {
            B::Add => Value::Float(x + y),
            B::Sub => Value::Float(x - y),
            B::Mul => Value::Float(x * y),
            B::Div => Value::Float(x / y),
            B::Rem => Value::Float(x % y),
            B::Eq => Value::Bool(x == y),
            B::Ne => Value::Bool(x != y),
            B::Lt => Value::Bool(x < y),
            B::Le => Value::Bool(x <= y),
            B::Gt => Value::Bool(x > y),
            B::Ge => Value::Bool(x >= y),
            _ => return Err("invalid operands".to_string()),
        },
        (Value::Bool(x), Value::Bool(y)) => Value::Bool(match op {
            B::And | B::BitAnd => x && y,
            B::Or | B::BitOr => x || y,
            B::BitXor | B::Ne => x != y,
            B::Eq => x == y,
            _ => return Err("invalid operands".to_string()),
        }),
        (Value::Char(x), Value::Char(y)) => Value::Bool(match op {
            B::Eq => x == y,
            B::Ne => x != y,
            B::Lt => x < y,
            B::Le => x <= y,
            B::Gt => x > y,
            B::Ge => x >= y,
            _ => return Err("invalid operands".to_string()),
        }),
        _ => return Err("invalid operands".to_string()),
    })
}

/// Casts with the semantics of LANGUAGE.md §3.6.
fn cast(v: Value, to: &Ty) -> Result<Value, String> {
    Ok(match (v, to) {
        (Value::Int(bits, from), Ty::Int(t)) => {
            let wide = if from.is_signed() { signed(bits, from) as u128 } else { bits };
            Value::Int(t.truncate(wide), *t)
        }
        (Value::Int(bits, from), Ty::Float(_)) => {
            Value::Float(if from.is_signed() { signed(bits, from) as f64 } else { bits as f64 })
        }
        (Value::Int(bits, _), Ty::Bool) => Value::Bool(bits != 0),
        (Value::Int(bits, _), Ty::Char) => Value::Char(char::from_u32(bits as u32).unwrap_or('\0')),
        (Value::Float(f), Ty::Int(t)) => Value::Int(t.truncate(saturate(f, *t)), *t),
        (Value::Float(f), Ty::Float(FloatTy::F32)) => Value::Float(f64::from(f as f32)),
        (Value::Float(f), Ty::Float(FloatTy::F64)) => Value::Float(f),
        (Value::Bool(b), Ty::Int(t)) => Value::Int(u128::from(b), *t),
        (Value::Char(c), Ty::Int(t)) => Value::Int(t.truncate(u128::from(c as u32)), *t),
        (v, _) => v,
    })
}

/// Float → integer: truncate toward zero, saturate at the range, NaN → 0.
fn saturate(f: f64, t: IntTy) -> u128 {
    if f.is_nan() {
        return 0;
    }
    let bits = t.bits();
    if t.is_signed() {
        let max = ((1u128 << (bits - 1)) - 1) as i128;
        let min = -max - 1;
        let v = if f >= max as f64 {
            max
        } else if f <= min as f64 {
            min
        } else {
            f as i128
        };
        v as u128
    } else if f <= 0.0 {
        0
    } else {
        let max = if bits == 128 { u128::MAX } else { (1u128 << bits) - 1 };
        if f >= max as f64 { max } else { f as u128 }
    }
}
