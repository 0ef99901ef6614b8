//! Drop scopes and moves out of places: where the builder schedules drops of owned values
//! (ARCHITECTURE.md "Memory").
//!
//! The builder keeps a stack of scopes. Every local whose type owns heap storage
//! ([`Ty::needs_drop`]) is registered in one when it comes into existence: `let` and pattern
//! bindings and parameters in the innermost *block* scope, temporaries in the innermost scope of
//! any kind (each statement, loop iteration and guard has a *temporaries* scope). Leaving a scope
//! — normally, or by `break`, `continue` or `return` — emits `drop l` for each of its locals, in
//! reverse order. The builder does not know whether a local still holds its value there (it may
//! have been moved, maybe on one path only): `passes::elaborate_drops` answers that by data flow
//! and removes the drop, keeps it, or guards it with a drop flag.
//!
//! Invariants:
//! * a registered local is assigned at most once per execution of its scope (loop bodies are
//!   scopes of their own), so no value is overwritten without a drop;
//! * a value that leaves a scope as its result is first moved into a fresh *unregistered* local
//!   (`move_out_of_scope`), registered in the enclosing scope after the pop;
//! * moving a value out of a field of an owned place moves the whole root local: the rest of it
//!   is dropped right there ([`FnBuilder::drop_rest`]), and the root is then uninitialised.

use crate::ir::{Const, HeapIntrinsic, IntTy, Intrinsic, Local, Operand, Place, Proj, Rvalue, Stmt, Ty};

use super::FnBuilder;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum ScopeKind {
    /// A function body, block, loop iteration or match arm: holds bindings.
    Block,
    /// A statement or condition: holds temporaries only.
    Temps,
}

#[derive(Clone, Debug)]
pub(crate) enum ScopeEntry {
    /// Drop the local.
    Local(Local),
    /// The vector consumed by `for x in v`: the elements from index `next` on are still owned by
    /// it, the ones before were moved out.
    IntoIter { vec: Local, next: Local },
    /// An open nursery (`fibers.rs`): joined when the scope ends normally, cancelled then
    /// joined when it is left early (`return`).
    Nursery(Local),
}

#[derive(Clone, Debug)]
pub(crate) struct DropScope {
    kind: ScopeKind,
    entries: Vec<ScopeEntry>,
}

impl FnBuilder<'_> {
    pub(crate) fn needs_drop(&mut self, ty: &Ty) -> bool {
        if let Some(&b) = self.needs_drop_cache.get(ty) {
            return b;
        }
        let b = ty.needs_drop(&self.program.adts);
        self.needs_drop_cache.insert(ty.clone(), b);
        b
    }

    /// Whether reading a value of `ty` copies it by counting references (it holds `fn` values
    /// and owns nothing else; [`Ty::is_counted_copy`]).
    pub(crate) fn is_counted_copy(&mut self, ty: &Ty) -> bool {
        self.needs_drop(ty) && !ty.is_move_type(&self.program.adts)
    }

    /// Reads a copy of the value in `p` that leaves `p` valid: the value itself for plain
    /// data, a counted copy (`clone`; for a `fn` value, one more reference to its environment)
    /// for types holding `fn` values. Values that own heap storage are moved instead
    /// ([`FnBuilder::move_out`]).
    pub(crate) fn copy_place(&mut self, p: Place, ty: &Ty) -> Operand {
        if !self.is_counted_copy(ty) {
            return self.read_place(p, ty);
        }
        if matches!(ty, Ty::Fn(..)) && p.proj.is_empty() {
            // `fn_retain` reads a local without moving it, and its address need not be taken.
            return self.emit(
                ty.clone(),
                Rvalue::Intrinsic(Intrinsic::Heap(HeapIntrinsic::FnRetain), vec![Operand::Local(p.base)]),
            );
        }
        let r = self.emit(Ty::reference(ty.clone(), false), Rvalue::Ref(p, false));
        self.emit(ty.clone(), Rvalue::Intrinsic(Intrinsic::Heap(HeapIntrinsic::Clone), vec![r]))
    }

    pub(crate) fn push_scope(&mut self, kind: ScopeKind) {
        self.scopes.push(DropScope { kind, entries: Vec::new() });
    }

    /// Leaves the innermost scope, dropping its locals.
    pub(crate) fn pop_scope(&mut self) {
        let scope = self.scopes.pop().expect("a scope is open");
        self.emit_scope_drops(&scope, false);
    }

    pub(crate) fn push_scope_entry(&mut self, entry: ScopeEntry) {
        self.scopes.last_mut().expect("a scope is open").entries.push(entry);
    }

    /// Drops the locals of every scope from `depth` on (innermost first) without leaving them:
    /// the exits `break`, `continue` and `return`.
    pub(crate) fn drop_scopes_from(&mut self, depth: usize) {
        let scopes: Vec<DropScope> = self.scopes[depth..].iter().rev().cloned().collect();
        for s in &scopes {
            self.emit_scope_drops(s, true);
        }
    }

    /// The exit actions of `scope`; `early` for `break`/`continue`/`return`.
    fn emit_scope_drops(&mut self, scope: &DropScope, early: bool) {
        for entry in scope.entries.iter().rev() {
            match entry {
                ScopeEntry::Local(l) => self.push(Stmt::Drop(Place::local(*l))),
                ScopeEntry::IntoIter { vec, next } => self.drop_into_iter(*vec, *next),
                ScopeEntry::Nursery(n) => {
                    let exit = if early { blood_abi::NURSERY_ABORT } else { blood_abi::NURSERY_END };
                    self.call_runtime(exit, vec![Operand::Local(*n)]);
                }
            }
        }
    }

    /// Registers a binding (parameter, `let`, pattern variable) in the innermost block scope.
    pub(crate) fn register_binding(&mut self, l: Local) {
        let ty = self.local_ty(l).clone();
        if !self.needs_drop(&ty) {
            return;
        }
        if let Some(s) = self.scopes.iter_mut().rev().find(|s| s.kind == ScopeKind::Block) {
            s.entries.push(ScopeEntry::Local(l));
        }
    }

    /// Registers a temporary in the innermost scope.
    pub(crate) fn register_temp(&mut self, l: Local) {
        let ty = self.local_ty(l).clone();
        if self.needs_drop(&ty)
            && let Some(s) = self.scopes.last_mut()
        {
            s.entries.push(ScopeEntry::Local(l));
        }
    }

    pub(crate) fn register_into_iter(&mut self, vec: Local, next: Local) {
        if let Some(s) = self.scopes.iter_mut().rev().find(|s| s.kind == ScopeKind::Block) {
            s.entries.push(ScopeEntry::IntoIter { vec, next });
        }
    }

    /// Moves an owned value into a fresh local that no scope drops (the caller registers it or
    /// consumes it), so the value survives the drops of the scopes being left.
    pub(crate) fn move_out_of_scope(&mut self, v: Operand) -> (Operand, Option<Local>) {
        let Operand::Local(l) = v else { return (v, None) };
        let ty = self.local_ty(l).clone();
        if !self.needs_drop(&ty) {
            return (v, None);
        }
        let t = self.new_local(ty, None);
        self.push(Stmt::Assign(t, Rvalue::Use(Operand::Local(l))));
        (Operand::Local(t), Some(t))
    }

    /// Reads an owned value out of a place (a move). Moving out of a part of a local moves the
    /// whole local: the parts not moved are dropped here.
    pub(crate) fn move_out(&mut self, p: Place, ty: &Ty) -> Operand {
        let v = self.read_place(p.clone(), ty);
        if !p.proj.is_empty() && self.is_owned_path(&p) {
            self.drop_rest(p.base, std::slice::from_ref(&p.proj));
        }
        v
    }

    /// Whether a place is reached from its local through fields and boxes only (so the local
    /// owns the value there, and moving it out is a partial move of the local).
    pub(crate) fn is_owned_path(&mut self, p: &Place) -> bool {
        let mut ty = self.local_ty(p.base).clone();
        for proj in &p.proj {
            let ok = match proj {
                Proj::Field(_) | Proj::VariantField { .. } => true,
                Proj::Deref => matches!(ty, Ty::Owned(crate::ir::OwnedKind::Box, _)),
                Proj::Index(_) => false,
            };
            if !ok {
                return false;
            }
            ty = crate::ir::project_ty(&self.program.adts, &ty, proj);
        }
        true
    }

    /// After the values at the full projection paths `moved` were moved out of `root`, drops
    /// everything else `root` owns (and frees the boxes the moves went through).
    pub(crate) fn drop_rest(&mut self, root: Local, moved: &[Vec<Proj>]) {
        let ty = self.local_ty(root).clone();
        let paths: Vec<&[Proj]> = moved.iter().map(Vec::as_slice).collect();
        self.drop_rest_at(&Place::local(root), &ty, &paths);
    }

    fn drop_rest_at(&mut self, place: &Place, ty: &Ty, moved: &[&[Proj]]) {
        if moved.iter().any(|m| m.is_empty()) {
            return;
        }
        if moved.is_empty() {
            if self.needs_drop(ty) {
                self.push(Stmt::Drop(place.clone()));
            }
            return;
        }
        let inside = |first: &Proj| -> Vec<&[Proj]> {
            moved.iter().filter(|m| m.first() == Some(first)).map(|m| &m[1..]).collect()
        };
        match ty {
            Ty::Owned(crate::ir::OwnedKind::Box, inner) => {
                let sub = inside(&Proj::Deref);
                self.drop_rest_at(&place.project(Proj::Deref), inner, &sub);
                let b = self.read_place(place.clone(), ty);
                let t = self.new_local(Ty::Unit, None);
                self.push(Stmt::Assign(t, Rvalue::Intrinsic(Intrinsic::Heap(HeapIntrinsic::BoxFree), vec![b])));
            }
            Ty::Tuple(elems) => {
                for (i, t) in elems.iter().enumerate() {
                    let f = Proj::Field(i as u32);
                    let sub = inside(&f);
                    self.drop_rest_at(&place.project(f), t, &sub);
                }
            }
            Ty::Adt(a, args) => {
                let variant = match moved[0].first() {
                    Some(Proj::VariantField { variant, .. }) => Some(*variant),
                    _ => None,
                };
                let fields = self.program.adts.field_tys(a, args, variant.unwrap_or(0) as usize);
                for (i, t) in fields.iter().enumerate() {
                    let f = match variant {
                        Some(v) => Proj::VariantField { variant: v, field: i as u32 },
                        None => Proj::Field(i as u32),
                    };
                    let sub = inside(&f);
                    let t = super::ir_ty(t);
                    self.drop_rest_at(&place.project(f), &t, &sub);
                }
            }
            // Moves never reach inside other types (the move checker rejects them).
            _ => {}
        }
    }

    /// Leaving the scope of a vector consumed by `for`: drops the elements not yet moved out,
    /// then the (now empty) vector.
    fn drop_into_iter(&mut self, vec: Local, next: Local) {
        let elem = match self.local_ty(vec) {
            Ty::Owned(_, e) => (**e).clone(),
            _ => return,
        };
        let usize_t = Ty::Int(IntTy::Usize);
        let len_place = Place::local(vec).project(Proj::Field(crate::ir::VEC_LEN_FIELD));
        if self.needs_drop(&elem) {
            let i = self.new_local(usize_t.clone(), None);
            self.push(Stmt::Assign(i, Rvalue::Use(Operand::Local(next))));
            let len = self.emit(usize_t.clone(), Rvalue::Load(len_place.clone()));
            self.counted_loop(i, len, |b, i| {
                b.push(Stmt::Drop(Place::local(vec).project(Proj::Deref).project(Proj::Index(i))));
            });
        }
        self.push(Stmt::Store(len_place, Operand::Const(Const::Int { bits: 0, ty: IntTy::Usize })));
        self.push(Stmt::Drop(Place::local(vec)));
    }

    /// `while i < end { body(i); i += 1 }` with `i` already initialised.
    pub(crate) fn counted_loop(&mut self, i: Local, end: Operand, mut body: impl FnMut(&mut Self, Local)) {
        use crate::ir::{BinOp, Terminator};
        let header = self.new_block();
        let body_bb = self.new_block();
        let exit = self.new_block();
        self.goto(header);
        self.switch_to(header);
        let more = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Lt, Operand::Local(i), end));
        self.terminate(Terminator::Branch { cond: more, then_bb: body_bb, else_bb: exit });
        self.switch_to(body_bb);
        body(self, i);
        let one = Operand::Const(Const::Int { bits: 1, ty: IntTy::Usize });
        self.push(Stmt::Assign(i, Rvalue::Binary(BinOp::Add, Operand::Local(i), one)));
        self.goto(header);
        self.switch_to(exit);
    }
}
