//! Lowering expressions: values, operators, calls, blocks and control flow.

use crate::hir::{self, ExprKind as H, Lit};
use crate::ir::{BinOp, Callee, Const, FloatTy, FuncId, Operand, Place, Rvalue, Terminator, Ty, UnOp};
use crate::syntax::ast;

use super::drops::ScopeKind;
use super::{FnBuilder, LoopTargets};

/// The message of the division-by-zero panic (LANGUAGE.md §3.10).
const DIV_BY_ZERO: &str = "division by zero";

impl FnBuilder<'_> {
    /// Lowers `e` and returns an operand holding its value (`Const::Unit` for `()` and `!`).
    pub(crate) fn lower_expr(&mut self, e: &hir::Expr) -> Operand {
        if let Some(v) = self.lower_data_expr(e) {
            return v;
        }
        if let Some(v) = self.lower_fn_value_expr(e) {
            return v;
        }
        match &e.kind {
            H::Lit(Lit::ByteStr(bytes)) => self.lower_byte_str(bytes, &e.ty),
            H::Lit(lit) => Operand::Const(lower_lit(lit, &e.ty, self)),
            H::Local(l) => {
                let l = self.map_local(*l);
                let ty = self.local_ty(l).clone();
                if ty.is_zero_sized() {
                    Operand::Const(Const::Unit)
                } else if self.is_counted_copy(&ty) {
                    self.copy_place(Place::local(l), &ty)
                } else {
                    Operand::Local(l)
                }
            }
            H::Unary(op, inner) => {
                let v = self.lower_expr(inner);
                let op = match op {
                    hir::UnOp::Neg => UnOp::Neg,
                    hir::UnOp::Not => UnOp::Not,
                };
                self.emit(e.ty.clone(), Rvalue::Unary(op, v))
            }
            H::Binary(ast::BinOp::And, a, b) => self.lower_short_circuit(true, a, b),
            H::Binary(ast::BinOp::Or, a, b) => self.lower_short_circuit(false, a, b),
            H::Binary(op @ (ast::BinOp::Eq | ast::BinOp::Ne), a, b)
                if super::ir_ty(&a.ty).is_move_type(&self.program.adts) =>
            {
                // Owned values are compared in place: `==` only reads its operands.
                let ty = super::ir_ty(&a.ty);
                let pa = self.lower_place(a);
                let pb = self.lower_place(b);
                self.lower_place_equality(lower_binop(*op), &pa, &pb, &ty)
            }
            H::Binary(op, a, b) => {
                let lhs = self.lower_operand_before(a, b);
                let rhs = self.lower_expr(b);
                let op = lower_binop(*op);
                if matches!(op, BinOp::Eq | BinOp::Ne) {
                    let ty = super::ir_ty(&a.ty);
                    return self.lower_equality(op, lhs, rhs, &ty);
                }
                self.check_divisor(op, &rhs, &b.ty);
                self.emit(e.ty.clone(), Rvalue::Binary(op, lhs, rhs))
            }
            H::Assign { place, value } => {
                let v = self.lower_expr(value);
                let p = self.lower_place(place);
                let ty = super::ir_ty(&place.ty);
                if self.needs_drop(&ty) {
                    // The old value is dropped first (conditionally for a bare local, which may
                    // be uninitialised: `passes::elaborate_drops` decides).
                    let (v, _) = self.move_out_of_scope(v);
                    self.push(crate::ir::Stmt::Drop(p.clone()));
                    self.write_place(p, v);
                } else {
                    self.write_place(p, v);
                }
                Operand::Const(Const::Unit)
            }
            H::AssignOp { op, place, value } => {
                let v = self.lower_expr(value);
                let p = self.lower_place(place);
                let op = lower_binop(*op);
                self.check_divisor(op, &v, &value.ty);
                let ty = super::ir_ty(&place.ty);
                let cur = self.read_place(p.clone(), &ty);
                let new = self.emit(ty, Rvalue::Binary(op, cur, v));
                self.write_place(p, new);
                Operand::Const(Const::Unit)
            }
            H::Cast(inner) => {
                if let H::FnRef { func, .. } = inner.kind {
                    // `f as u64`: the code address of `f` itself (called by the runtime).
                    let addr = self.emit(Ty::Int(crate::types::IntTy::U64), Rvalue::FnAddr(crate::ir::FuncId(func.0)));
                    return if e.ty == Ty::Int(crate::types::IntTy::U64) {
                        addr
                    } else {
                        self.emit(e.ty.clone(), Rvalue::Cast(addr, e.ty.clone()))
                    };
                }
                let v = self.lower_expr(inner);
                if inner.ty == e.ty || inner.ty == Ty::Never {
                    return v;
                }
                self.emit(e.ty.clone(), Rvalue::Cast(v, e.ty.clone()))
            }
            H::Call { func, args, .. } => self.lower_call(*func, args, &e.ty),
            H::Builtin { builtin, args } => self.lower_builtin(*builtin, args, &e.ty),
            H::Format { stream, pieces, newline } => {
                self.lower_format(*stream, pieces, *newline);
                Operand::Const(Const::Unit)
            }
            H::PanicFormat { pieces } => {
                self.lower_format(blood_abi::STDERR, pieces, true);
                let status = FnBuilder::i32_const(blood_abi::EXIT_PANIC);
                self.call_runtime(blood_abi::EXIT, vec![status]);
                Operand::Const(Const::Unit)
            }
            H::Dbg { text, expr } => self.lower_dbg(text, expr),
            H::Nursery(body) => self.lower_nursery(body),
            H::If { cond, then, else_ } => self.lower_if(cond, then, else_.as_deref(), &e.ty),
            H::Loop { id, body } => {
                let body_bb = self.new_block();
                let exit = self.new_block();
                let result = (!e.ty.is_zero_sized()).then(|| self.temp(e.ty.clone()));
                self.goto(body_bb);
                self.switch_to(body_bb);
                let depth = self.scopes.len();
                self.loops.insert(*id, LoopTargets { break_bb: exit, continue_bb: body_bb, result, depth });
                self.push_scope(ScopeKind::Block);
                self.lower_expr(body);
                self.pop_scope();
                self.goto(body_bb);
                self.switch_to(exit);
                result.map_or(Operand::Const(Const::Unit), Operand::Local)
            }
            H::While { id, cond, body } => {
                let header = self.new_block();
                let body_bb = self.new_block();
                let exit = self.new_block();
                self.goto(header);
                self.switch_to(header);
                self.push_scope(ScopeKind::Temps);
                let c = self.lower_expr(cond);
                self.pop_scope();
                self.terminate(Terminator::Branch { cond: c, then_bb: body_bb, else_bb: exit });
                self.switch_to(body_bb);
                let depth = self.scopes.len();
                self.loops.insert(*id, LoopTargets { break_bb: exit, continue_bb: header, result: None, depth });
                self.push_scope(ScopeKind::Block);
                self.lower_expr(body);
                self.pop_scope();
                self.goto(header);
                self.switch_to(exit);
                Operand::Const(Const::Unit)
            }
            H::ForRange { id, var, lo, hi, inclusive, body } => {
                self.lower_for_range(*id, *var, lo, hi, *inclusive, body);
                Operand::Const(Const::Unit)
            }
            H::Break { id, value } => {
                let targets = &self.loops[id];
                let (exit, result, depth) = (targets.break_bb, targets.result, targets.depth);
                if let Some(v) = value {
                    let v = self.lower_expr(v);
                    if let Some(r) = result {
                        self.assign(r, Rvalue::Use(v));
                    }
                }
                self.drop_scopes_from(depth);
                self.diverge(Terminator::Goto(exit))
            }
            H::Continue { id } => {
                let (target, depth) = (self.loops[id].continue_bb, self.loops[id].depth);
                self.drop_scopes_from(depth);
                self.diverge(Terminator::Goto(target))
            }
            H::Return(value) => {
                let v = match value {
                    Some(v) => self.lower_expr(v),
                    None => Operand::Const(Const::Unit),
                };
                self.lower_return(v)
            }
            H::Match { scrutinee, arms } => self.lower_match(scrutinee, arms, &e.ty),
            H::Block { stmts, tail } => {
                self.push_scope(ScopeKind::Block);
                for s in stmts {
                    self.push_scope(ScopeKind::Temps);
                    match s {
                        hir::Stmt::Let { local, init } => {
                            let v = self.lower_expr(init);
                            if let Some(l) = local {
                                let l = self.map_local(*l);
                                self.assign(l, Rvalue::Use(v));
                                self.register_binding(l);
                            }
                        }
                        hir::Stmt::LetPat { pat, init } => {
                            let p = self.lower_place(init);
                            let unreachable = self.new_block();
                            self.test_pattern(pat, &p, unreachable);
                            self.bind_pending(&p);
                            let cont = self.current;
                            self.switch_to(unreachable);
                            self.terminate(Terminator::Unreachable);
                            self.switch_to(cont);
                        }
                        hir::Stmt::Expr(e) => {
                            self.lower_expr(e);
                        }
                    }
                    self.pop_scope();
                }
                let v = match tail {
                    Some(t) => self.lower_expr(t),
                    None => Operand::Const(Const::Unit),
                };
                let (v, moved) = self.move_out_of_scope(v);
                self.pop_scope();
                if let Some(t) = moved {
                    self.register_temp(t);
                }
                v
            }
            _ => unreachable!("data expressions are lowered by `lower_data_expr`"),
        }
    }

    /// `b"…"`: valid UTF-8 shares the read-only string data; other bytes are built in a hidden
    /// local array of the function (so such a slice must not outlive the function — a known
    /// limitation).
    fn lower_byte_str(&mut self, bytes: &[u8], ty: &Ty) -> Operand {
        if let Ok(text) = std::str::from_utf8(bytes) {
            let s = self.str_const(text);
            return self.emit(ty.clone(), Rvalue::Intrinsic(crate::ir::Intrinsic::StrAsBytes, vec![s]));
        }
        let u8t = crate::ir::IntTy::U8;
        let elems = bytes.iter().map(|b| Operand::Const(Const::Int { bits: u128::from(*b), ty: u8t })).collect();
        let arr_ty = Ty::Array(Ty::Int(u8t).into(), bytes.len() as u64);
        let arr = self.emit(arr_ty.clone(), Rvalue::Aggregate(crate::ir::AggregateKind::Array, elems));
        let local = self.operand_to_local(arr, &arr_ty);
        let r = self.emit(Ty::reference(arr_ty, false), Rvalue::Ref(crate::ir::Place::local(local), false));
        self.emit(ty.clone(), Rvalue::Unsize(r))
    }

    /// Lowers `first` when `later` is evaluated after it: a variable read is copied to a
    /// temporary if `later` might assign variables, so the value is the one before `later` runs.
    pub(crate) fn lower_operand_before(&mut self, first: &hir::Expr, later: &hir::Expr) -> Operand {
        let v = self.lower_expr(first);
        match v {
            // Only named (user) locals can be assigned by `later`; temporaries are written once.
            Operand::Local(l) if self.locals[l.0 as usize].name.is_some() && !is_pure(later) => {
                let ty = self.local_ty(l).clone();
                self.emit(ty, Rvalue::Use(Operand::Local(l)))
            }
            v => v,
        }
    }

    /// Integer division and remainder panic on a zero divisor; constant non-zero divisors need
    /// no check.
    fn check_divisor(&mut self, op: BinOp, divisor: &Operand, ty: &Ty) {
        if !matches!(op, BinOp::Div | BinOp::Rem) {
            return;
        }
        let Ty::Int(int) = ty else { return };
        match divisor {
            Operand::Const(Const::Int { bits, .. }) if *bits != 0 => {}
            _ => {
                let zero = Operand::Const(Const::Int { bits: 0, ty: *int });
                let is_zero = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Eq, divisor.clone(), zero));
                let panic = self.panic_block(DIV_BY_ZERO);
                let ok = self.new_block();
                self.terminate(Terminator::Branch { cond: is_zero, then_bb: panic, else_bb: ok });
                self.switch_to(ok);
            }
        }
    }

    fn lower_short_circuit(&mut self, is_and: bool, a: &hir::Expr, b: &hir::Expr) -> Operand {
        let result = self.temp(Ty::Bool);
        let lhs = self.lower_expr(a);
        let rhs_bb = self.new_block();
        let short_bb = self.new_block();
        let join = self.new_block();
        let (then_bb, else_bb) = if is_and { (rhs_bb, short_bb) } else { (short_bb, rhs_bb) };
        self.terminate(Terminator::Branch { cond: lhs, then_bb, else_bb });
        self.switch_to(short_bb);
        self.assign(result, Rvalue::Use(Operand::Const(Const::Bool(!is_and))));
        self.goto(join);
        self.switch_to(rhs_bb);
        let rhs = self.lower_expr(b);
        self.assign(result, Rvalue::Use(rhs));
        self.goto(join);
        self.switch_to(join);
        Operand::Local(result)
    }

    fn lower_call(&mut self, func: hir::FnId, args: &[(usize, hir::Expr)], ret: &Ty) -> Operand {
        if let Some(handle) = self.try_lower_spawn_env(func, args, ret) {
            return handle;
        }
        let mut values: Vec<Option<Operand>> = vec![None; args.len()];
        for (i, (param, arg)) in args.iter().enumerate() {
            let v = match args.get(i + 1) {
                Some(_) if !args[i + 1..].iter().all(|(_, a)| is_pure(a)) => {
                    let v = self.lower_expr(arg);
                    match v {
                        Operand::Local(l) if self.locals[l.0 as usize].name.is_some() => {
                            let ty = self.local_ty(l).clone();
                            self.emit(ty, Rvalue::Use(Operand::Local(l)))
                        }
                        v => v,
                    }
                }
                _ => self.lower_expr(arg),
            };
            values[*param] = Some(v);
        }
        let values = values.into_iter().map(|v| v.expect("every parameter bound")).collect();
        let callee_ret = self.hir.functions[func.0 as usize].ret.clone();
        let dest = self.temp(callee_ret.clone());
        self.assign(dest, Rvalue::Call(Callee::Fn(FuncId(func.0)), values));
        if *ret == Ty::Never || callee_ret == Ty::Never {
            return self.diverge(Terminator::Unreachable);
        }
        if callee_ret.is_zero_sized() { Operand::Const(Const::Unit) } else { Operand::Local(dest) }
    }

    fn lower_if(&mut self, cond: &hir::Expr, then: &hir::Expr, else_: Option<&hir::Expr>, ty: &Ty) -> Operand {
        let c = self.lower_expr(cond);
        let then_bb = self.new_block();
        let else_bb = self.new_block();
        let join = if else_.is_some() { self.new_block() } else { else_bb };
        self.terminate(Terminator::Branch { cond: c, then_bb, else_bb });
        let result = (!ty.is_zero_sized() && else_.is_some()).then(|| self.temp(ty.clone()));
        self.switch_to(then_bb);
        let v = self.lower_expr(then);
        if let Some(r) = result {
            self.assign(r, Rvalue::Use(v));
        }
        self.goto(join);
        if let Some(e) = else_ {
            self.switch_to(else_bb);
            let v = self.lower_expr(e);
            if let Some(r) = result {
                self.assign(r, Rvalue::Use(v));
            }
            self.goto(join);
        }
        self.switch_to(join);
        result.map_or(Operand::Const(Const::Unit), Operand::Local)
    }

    /// `for var in lo..hi` / `lo..=hi`. A hidden counter drives the loop (the body cannot
    /// disturb it); the inclusive form tests for the last value *before* incrementing, so
    /// `0..=255u8` terminates without overflow.
    fn lower_for_range(
        &mut self,
        id: hir::LoopId,
        var: hir::LocalId,
        lo: &hir::Expr,
        hi: &hir::Expr,
        inclusive: bool,
        body: &hir::Expr,
    ) {
        let ty = lo.ty.clone();
        let Ty::Int(int) = ty else { return };
        let lo_v = self.lower_operand_before(lo, hi);
        let hi_v = self.lower_expr(hi);
        let counter = self.new_local(ty.clone(), Some("for$counter".to_string()));
        let end = self.temp(ty.clone());
        self.assign(counter, Rvalue::Use(lo_v));
        self.assign(end, Rvalue::Use(hi_v));
        let header = self.new_block();
        let body_bb = self.new_block();
        let latch = self.new_block();
        let exit = self.new_block();
        let one = Operand::Const(Const::Int { bits: 1, ty: int });
        let (c, e) = (Operand::Local(counter), Operand::Local(end));
        if inclusive {
            let empty = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Gt, c.clone(), e.clone()));
            self.terminate(Terminator::Branch { cond: empty, then_bb: exit, else_bb: header });
            self.switch_to(header);
            self.goto(body_bb);
        } else {
            self.goto(header);
            self.switch_to(header);
            let more = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Lt, c.clone(), e.clone()));
            self.terminate(Terminator::Branch { cond: more, then_bb: body_bb, else_bb: exit });
        }
        self.switch_to(body_bb);
        let v = self.map_local(var);
        self.assign(v, Rvalue::Use(c.clone()));
        let depth = self.scopes.len();
        self.loops.insert(id, LoopTargets { break_bb: exit, continue_bb: latch, result: None, depth });
        self.push_scope(ScopeKind::Block);
        self.lower_expr(body);
        self.pop_scope();
        self.goto(latch);
        self.switch_to(latch);
        if inclusive {
            let last = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Eq, c.clone(), e));
            let step = self.new_block();
            self.terminate(Terminator::Branch { cond: last, then_bb: exit, else_bb: step });
            self.switch_to(step);
            self.assign(counter, Rvalue::Binary(BinOp::Add, c, one));
            self.goto(body_bb);
        } else {
            self.assign(counter, Rvalue::Binary(BinOp::Add, c, one));
            self.goto(header);
        }
        self.switch_to(exit);
    }
}

/// Expressions whose evaluation cannot assign a variable (so earlier operands need no copy).
pub(super) fn is_pure(e: &hir::Expr) -> bool {
    match &e.kind {
        H::Lit(_) | H::Local(_) => true,
        H::Unary(_, a) | H::Cast(a) => is_pure(a),
        H::Binary(_, a, b) => is_pure(a) && is_pure(b),
        _ => false,
    }
}

pub(crate) fn lower_binop(op: ast::BinOp) -> BinOp {
    match op {
        ast::BinOp::Add => BinOp::Add,
        ast::BinOp::Sub => BinOp::Sub,
        ast::BinOp::Mul => BinOp::Mul,
        ast::BinOp::Div => BinOp::Div,
        ast::BinOp::Rem => BinOp::Rem,
        ast::BinOp::BitAnd => BinOp::BitAnd,
        ast::BinOp::BitOr => BinOp::BitOr,
        ast::BinOp::BitXor => BinOp::BitXor,
        ast::BinOp::Shl => BinOp::Shl,
        ast::BinOp::Shr => BinOp::Shr,
        ast::BinOp::Eq => BinOp::Eq,
        ast::BinOp::Ne => BinOp::Ne,
        ast::BinOp::Lt => BinOp::Lt,
        ast::BinOp::Le => BinOp::Le,
        ast::BinOp::Gt => BinOp::Gt,
        ast::BinOp::Ge => BinOp::Ge,
        ast::BinOp::And | ast::BinOp::Or => unreachable!("short-circuit operators are lowered to branches"),
    }
}

fn lower_lit(lit: &Lit, ty: &Ty, b: &mut FnBuilder<'_>) -> Const {
    match (lit, ty) {
        (Lit::Int { negative, magnitude }, Ty::Int(_) | Ty::Enum(_)) => {
            let Ty::Int(int) = super::ir_ty(ty) else { unreachable!("integer-like types lower to integers") };
            let bits = if *negative { magnitude.wrapping_neg() } else { *magnitude };
            Const::Int { bits: int.truncate(bits), ty: int }
        }
        (Lit::Float(v), Ty::Float(f)) => {
            let value = if *f == FloatTy::F32 { f64::from(*v as f32) } else { *v };
            Const::Float { value, ty: *f }
        }
        (Lit::Int { negative, magnitude }, Ty::Float(f)) => {
            let v = *magnitude as f64;
            Const::Float { value: if *negative { -v } else { v }, ty: *f }
        }
        (Lit::Bool(v), _) => Const::Bool(*v),
        (Lit::Char(c), _) => Const::Char(*c),
        (Lit::Str(s), _) => Const::Str(b.program.intern_str(s)),
        _ => Const::Unit,
    }
}
