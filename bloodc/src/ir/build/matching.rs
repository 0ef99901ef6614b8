//! Lowering `match`: arms are tested in order, each pattern as a chain of branches.
//!
//! The scrutinee is evaluated once into a temporary. For each arm, the pattern test branches to
//! the next arm's test on failure and falls through on success, after binding its variables;
//! then the guard, then the body, which jumps to the join block. The type checker proved the arms
//! exhaustive, so the block after the last arm is unreachable. Or-patterns try each alternative
//! in turn and meet in one success block. For a single scalar column this chain *is* the
//! decision tree (each value reaches the first arm it matches with one test per arm); structural
//! patterns will need column-wise splitting.

use crate::hir::{self, Lit, Pat, PatKind};
use crate::ir::{BinOp, BlockId, Const, Operand, Rvalue, Terminator, Ty};

use super::FnBuilder;

impl FnBuilder<'_> {
    pub(crate) fn lower_match(&mut self, scrutinee: &hir::Expr, arms: &[hir::MatchArm], ty: &Ty) -> Operand {
        let value = self.lower_expr(scrutinee);
        // A named variable could be assigned by a guard or body: test a copy.
        let value = match value {
            Operand::Local(l) if self.locals[l.0 as usize].name.is_some() => {
                self.emit(scrutinee.ty.clone(), Rvalue::Use(Operand::Local(l)))
            }
            v => v,
        };
        let result = (!ty.is_zero_sized()).then(|| self.temp(ty.clone()));
        let join = self.new_block();
        for arm in arms {
            let next = self.new_block();
            self.test_pattern(&arm.pat, &value, next);
            if let Some(guard) = &arm.guard {
                let g = self.lower_expr(guard);
                let body = self.new_block();
                self.terminate(Terminator::Branch { cond: g, then_bb: body, else_bb: next });
                self.switch_to(body);
            }
            let v = self.lower_expr(&arm.body);
            if let Some(r) = result {
                self.assign(r, Rvalue::Use(v));
            }
            self.goto(join);
            self.switch_to(next);
        }
        self.terminate(Terminator::Unreachable);
        self.switch_to(join);
        result.map_or(Operand::Const(Const::Unit), Operand::Local)
    }

    /// Emits the test of `pat` against `value`: continues in the current block if it matches
    /// (with bindings assigned), jumps to `fail` otherwise.
    fn test_pattern(&mut self, pat: &Pat, value: &Operand, fail: BlockId) {
        match &pat.kind {
            PatKind::Wild => {}
            PatKind::Binding { local, sub } => {
                let l = self.map_local(*local);
                self.assign(l, Rvalue::Use(value.clone()));
                if let Some(sub) = sub {
                    self.test_pattern(sub, value, fail);
                }
            }
            PatKind::Lit(lit) => {
                if pat.ty.is_zero_sized() {
                    return;
                }
                let c = self.pattern_const(lit, &pat.ty);
                self.test(BinOp::Eq, value, c, fail);
            }
            PatKind::Range { lo, hi, inclusive } => {
                let lo = self.pattern_const(lo, &pat.ty);
                let hi = self.pattern_const(hi, &pat.ty);
                self.test(BinOp::Ge, value, lo, fail);
                self.test(if *inclusive { BinOp::Le } else { BinOp::Lt }, value, hi, fail);
            }
            PatKind::Or(alts) => {
                let success = self.new_block();
                for (i, alt) in alts.iter().enumerate() {
                    let alt_fail = if i + 1 == alts.len() { fail } else { self.new_block() };
                    self.test_pattern(alt, value, alt_fail);
                    self.goto(success);
                    if alt_fail != fail {
                        self.switch_to(alt_fail);
                    }
                }
                self.switch_to(success);
            }
        }
    }

    /// Continues if `value op constant` holds, jumps to `fail` otherwise.
    fn test(&mut self, op: BinOp, value: &Operand, constant: Operand, fail: BlockId) {
        let cond = self.emit(Ty::Bool, Rvalue::Binary(op, value.clone(), constant));
        let ok = self.new_block();
        self.terminate(Terminator::Branch { cond, then_bb: ok, else_bb: fail });
        self.switch_to(ok);
    }

    fn pattern_const(&mut self, lit: &Lit, ty: &Ty) -> Operand {
        match (lit, ty) {
            (Lit::Int { negative, magnitude }, Ty::Int(_) | Ty::Enum(_)) => {
                let Ty::Int(int) = super::ir_ty(ty) else { unreachable!("integer-like types lower to integers") };
                let bits = if *negative { magnitude.wrapping_neg() } else { *magnitude };
                Operand::Const(Const::Int { bits: int.truncate(bits), ty: int })
            }
            (Lit::Bool(b), _) => Operand::Const(Const::Bool(*b)),
            (Lit::Char(c), _) => Operand::Const(Const::Char(*c)),
            _ => Operand::Const(Const::Unit),
        }
    }
}
