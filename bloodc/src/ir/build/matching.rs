//! Lowering `match`, and the pattern tests of irrefutable `let` and `for` patterns.
//!
//! The scrutinee is a place: the place it denotes when it is a place expression (so `ref`
//! bindings point into it), otherwise a temporary holding its value. `match` is compiled to a
//! decision tree (`decision_tree.rs`) whose leaves jump to one block per arm; each arm's body is
//! lowered once and jumps to the join block. The type checker proved the arms exhaustive, so the
//! tree's dead ends are unreachable.
//!
//! [`FnBuilder::test_pattern`] is the simple form used for a single pattern (`let (a, b) = …`,
//! `for` patterns): sub-patterns tested left to right, reading each field, element or tag
//! through a projection of the place, branching to `fail` on a mismatch.

use crate::hir::{self, Lit, Pat, PatKind};
use crate::ir::{BinOp, BlockId, Const, IntTy, Local, Operand, Place, Proj, Rvalue, Terminator, Ty};

use super::FnBuilder;
use super::drops::ScopeKind;

/// A variable of a pattern being tested, bound only once the whole pattern matched (so a
/// failing test never moves anything out of the scrutinee).
#[derive(Clone, Debug)]
pub(crate) struct PendingBinding {
    pub(crate) local: Local,
    pub(crate) place: Place,
    pub(crate) by_ref: bool,
    pub(crate) ty: Ty,
}

impl FnBuilder<'_> {
    pub(crate) fn lower_match(&mut self, scrutinee: &hir::Expr, arms: &[hir::MatchArm], ty: &Ty) -> Operand {
        let place = if crate::hir::is_place(scrutinee) {
            self.lower_place(scrutinee)
        } else {
            let value = self.lower_expr(scrutinee);
            let sty = super::ir_ty(&scrutinee.ty);
            Place::local(self.operand_to_local(value, &sty))
        };
        // A named variable could be assigned by a guard or body: test a copy of scalars.
        let copyable = !self.needs_drop(&self.local_ty(place.base).clone());
        let place = match place.proj.is_empty() && self.locals[place.base.0 as usize].name.is_some() {
            true if !self.local_ty(place.base).is_aggregate() && !has_ref_binding(arms) && copyable => {
                let ty = self.local_ty(place.base).clone();
                let v = self.emit(ty.clone(), Rvalue::Use(Operand::Local(place.base)));
                Place::local(self.operand_to_local(v, &ty))
            }
            _ => place,
        };
        let result = (!ty.is_zero_sized()).then(|| self.temp(ty.clone()));
        let join = self.new_block();
        let arm_blocks: Vec<BlockId> = arms.iter().map(|_| self.new_block()).collect();
        self.lower_decision_tree(&place, arms, &arm_blocks);
        for (arm, block) in arms.iter().zip(arm_blocks) {
            self.switch_to(block);
            // The arm's bindings (assigned by the tree's leaves) are dropped when the arm ends.
            self.push_scope(ScopeKind::Block);
            let mut bound = Vec::new();
            pattern_locals(&arm.pat, &mut bound);
            for l in bound {
                let l = self.map_local(l);
                self.register_binding(l);
            }
            let v = self.lower_expr(&arm.body);
            if let Some(r) = result {
                let (v, _) = self.move_out_of_scope(v);
                self.assign(r, Rvalue::Use(v));
            }
            self.pop_scope();
            self.goto(join);
        }
        self.switch_to(join);
        result.map_or(Operand::Const(Const::Unit), Operand::Local)
    }

    /// Emits the test of `pat` against the value at `place`: continues in the current block if
    /// it matches (with bindings assigned), jumps to `fail` otherwise.
    pub(crate) fn test_pattern(&mut self, pat: &Pat, place: &Place, fail: BlockId) {
        let ty = super::ir_ty(&pat.ty);
        match &pat.kind {
            PatKind::Wild => {}
            PatKind::Binding { local, sub, by_ref } => {
                if let Some(sub) = sub {
                    self.test_pattern(sub, place, fail);
                }
                let l = self.map_local(*local);
                self.pending_bindings.push(PendingBinding { local: l, place: place.clone(), by_ref: *by_ref, ty });
            }
            PatKind::Lit(lit) => {
                if ty.is_zero_sized() {
                    return;
                }
                let v = self.read_place(place.clone(), &ty);
                let c = self.pattern_const(lit, &pat.ty);
                self.test(BinOp::Eq, &v, c, fail);
            }
            PatKind::Range { lo, hi, inclusive } => {
                let v = self.read_place(place.clone(), &ty);
                let lo = self.pattern_const(lo, &pat.ty);
                let hi = self.pattern_const(hi, &pat.ty);
                self.test(BinOp::Ge, &v, lo, fail);
                self.test(if *inclusive { BinOp::Le } else { BinOp::Lt }, &v, hi, fail);
            }
            PatKind::Or(alts) => {
                let success = self.new_block();
                let outer = self.pending_bindings.len();
                for (i, alt) in alts.iter().enumerate() {
                    let alt_fail = if i + 1 == alts.len() { fail } else { self.new_block() };
                    self.test_pattern(alt, place, alt_fail);
                    // Each alternative binds its own variables before the paths meet.
                    let mine = self.pending_bindings.split_off(outer);
                    self.emit_bindings(mine, true);
                    self.goto(success);
                    if alt_fail != fail {
                        self.switch_to(alt_fail);
                    }
                }
                self.switch_to(success);
            }
            PatKind::Tuple(elems) => {
                for (i, p) in elems.iter().enumerate() {
                    self.test_pattern(p, &place.project(Proj::Field(i as u32)), fail);
                }
            }
            PatKind::Adt { variant, fields } => {
                let is_enum = match &ty {
                    Ty::Adt(a, _) => self.program.adts.def(a).is_enum,
                    _ => false,
                };
                if is_enum {
                    let tag = self.emit(Ty::Int(crate::types::TAG_REPR), Rvalue::Discriminant(place.clone()));
                    let want = Operand::Const(Const::Int { bits: u128::from(*variant), ty: crate::types::TAG_REPR });
                    self.test(BinOp::Eq, &tag, want, fail);
                }
                for (i, p) in fields {
                    let proj =
                        if is_enum { Proj::VariantField { variant: *variant, field: *i } } else { Proj::Field(*i) };
                    self.test_pattern(p, &place.project(proj), fail);
                }
            }
            PatKind::Deref(inner) => {
                let ptr = self.read_place(place.clone(), &ty);
                let l = self.operand_to_local(ptr, &ty);
                self.test_pattern(inner, &Place::local(l).project(Proj::Deref), fail);
            }
            PatKind::Slice { prefix, rest, suffix } => {
                let usize_t = Ty::Int(IntTy::Usize);
                let len = self.emit(usize_t.clone(), Rvalue::Len(place.clone()));
                let fixed = (prefix.len() + suffix.len()) as u128;
                if matches!(ty, Ty::Slice(_)) {
                    let want = Operand::Const(Const::Int { bits: fixed, ty: IntTy::Usize });
                    self.test(if *rest { BinOp::Ge } else { BinOp::Eq }, &len, want, fail);
                }
                for (i, p) in prefix.iter().enumerate() {
                    let idx = self.temp(usize_t.clone());
                    self.assign(idx, Rvalue::Use(Operand::Const(Const::Int { bits: i as u128, ty: IntTy::Usize })));
                    self.test_pattern(p, &place.project(Proj::Index(idx)), fail);
                }
                for (j, p) in suffix.iter().enumerate() {
                    let back = Operand::Const(Const::Int { bits: (suffix.len() - j) as u128, ty: IntTy::Usize });
                    let idx_v = self.emit(usize_t.clone(), Rvalue::Binary(BinOp::Sub, len.clone(), back));
                    let idx = self.operand_to_local(idx_v, &usize_t);
                    self.test_pattern(p, &place.project(Proj::Index(idx)), fail);
                }
            }
        }
    }

    /// Assigns the bindings of the pattern just tested against `scrutinee` (registering them in
    /// the innermost scope). If some moved an owned value out of a part of the scrutinee, the
    /// rest of the scrutinee's local is dropped (ARCHITECTURE.md "Memory": a partial move moves
    /// the whole local).
    pub(crate) fn bind_pending(&mut self, scrutinee: &Place) {
        let pending = std::mem::take(&mut self.pending_bindings);
        self.bind_and_drop_rest(scrutinee, pending, true);
    }

    /// Assigns `pending` and drops what the moves among them left of the scrutinee's local.
    pub(crate) fn bind_and_drop_rest(&mut self, scrutinee: &Place, pending: Vec<PendingBinding>, register: bool) {
        let mut moved: Vec<Vec<Proj>> = Vec::new();
        for b in &pending {
            if !b.by_ref
                && b.ty.is_move_type(&self.program.adts)
                && b.place.base == scrutinee.base
                && self.is_owned_path(&b.place)
            {
                moved.push(b.place.proj.clone());
            }
        }
        self.emit_bindings(pending, register);
        if !moved.is_empty() && moved.iter().all(|m| !m.is_empty()) {
            self.drop_rest(scrutinee.base, &moved);
        }
    }

    /// Assigns bindings; `register` puts the owned ones in the innermost block scope (a `match`
    /// arm registers its bindings itself).
    pub(crate) fn emit_bindings(&mut self, bindings: Vec<PendingBinding>, register: bool) {
        for b in bindings {
            if b.by_ref {
                let mutable = matches!(self.local_ty(b.local), Ty::Ref(_, true));
                self.assign(b.local, Rvalue::Ref(b.place, mutable));
            } else if self.bindings_move || b.ty.is_move_type(&self.program.adts) {
                let v = self.read_place(b.place, &b.ty);
                self.assign(b.local, Rvalue::Use(v));
            } else {
                let v = self.copy_place(b.place, &b.ty);
                self.assign(b.local, Rvalue::Use(v));
            }
            if register {
                self.register_binding(b.local);
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

    pub(crate) fn pattern_const(&mut self, lit: &Lit, ty: &Ty) -> Operand {
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

/// The locals a pattern binds (each once).
fn pattern_locals(p: &Pat, out: &mut Vec<hir::LocalId>) {
    match &p.kind {
        PatKind::Binding { local, sub, .. } => {
            if !out.contains(local) {
                out.push(*local);
            }
            if let Some(s) = sub {
                pattern_locals(s, out);
            }
        }
        PatKind::Or(xs) | PatKind::Tuple(xs) => xs.iter().for_each(|x| pattern_locals(x, out)),
        PatKind::Adt { fields, .. } => fields.iter().for_each(|(_, x)| pattern_locals(x, out)),
        PatKind::Deref(x) => pattern_locals(x, out),
        PatKind::Slice { prefix, suffix, .. } => prefix.iter().chain(suffix).for_each(|x| pattern_locals(x, out)),
        _ => {}
    }
}

/// Whether some arm binds by reference (the scrutinee must then stay the original place).
fn has_ref_binding(arms: &[hir::MatchArm]) -> bool {
    fn walk(p: &Pat) -> bool {
        match &p.kind {
            PatKind::Binding { by_ref, sub, .. } => *by_ref || sub.as_deref().is_some_and(walk),
            PatKind::Or(xs) | PatKind::Tuple(xs) => xs.iter().any(walk),
            PatKind::Adt { fields, .. } => fields.iter().any(|(_, p)| walk(p)),
            PatKind::Deref(p) => walk(p),
            PatKind::Slice { prefix, suffix, .. } => prefix.iter().chain(suffix).any(walk),
            _ => false,
        }
    }
    arms.iter().any(|a| walk(&a.pat))
}
