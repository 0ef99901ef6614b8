//! Lowering memory: place expressions, aggregates, references, bounds checks, structural
//! equality and `for` over arrays and slices.
//!
//! A HIR place expression (local, field, index, deref) becomes an IR [`Place`]; any other
//! expression used where a place is needed (`&f()`, `f().x`) is evaluated into a fresh local
//! first — that is how `&temporary` is "materialised in a hidden local" (LANGUAGE.md §4.5).
//! Every index is bounds-checked here, before the `Index` projection that assumes it.

use crate::hir::{self, ExprKind as H};
use crate::ir::{
    AggregateKind, BinOp, BlockId, Const, IntTy, Local, Operand, Place, Proj, Rvalue, Stmt, Terminator, Ty,
};

use super::{FnBuilder, LoopTargets};

impl FnBuilder<'_> {
    /// The place an expression denotes (evaluating non-place expressions into a temporary).
    pub(crate) fn lower_place(&mut self, e: &hir::Expr) -> Place {
        match &e.kind {
            H::Local(l) => Place::local(self.map_local(*l)),
            H::Field { base, index } => self.lower_place(base).project(Proj::Field(*index)),
            H::Deref(r) => {
                let p = self.lower_place(r);
                // A box or vector is dereferenced where it lives (loading it would be a move);
                // a reference is loaded into a local first.
                if matches!(self.place_ty(&p), Ty::Owned(..)) {
                    p.project(Proj::Deref)
                } else {
                    self.place_to_local(p).project(Proj::Deref)
                }
            }
            H::Index { base, index } => {
                let p = self.lower_place(base);
                let i = self.lower_expr(index);
                let i = self.checked_index(&p, i, &index.ty);
                p.project(Proj::Index(i))
            }
            _ => {
                let v = self.lower_expr(e);
                Place::local(self.operand_to_local(v, &e.ty))
            }
        }
    }

    /// A place whose base local holds the value (for projections that need a pointer in a
    /// local, such as `Deref`): a place with projections is loaded into a temporary.
    fn place_to_local(&mut self, p: Place) -> Place {
        if p.proj.is_empty() {
            return p;
        }
        let ty = self.place_ty(&p);
        let t = self.temp(ty);
        self.push(Stmt::Assign(t, Rvalue::Load(p)));
        Place::local(t)
    }

    pub(crate) fn place_ty(&self, p: &Place) -> Ty {
        let mut ty = self.local_ty(p.base).clone();
        for proj in &p.proj {
            ty = crate::ir::project_ty(&self.program.adts, &ty, proj);
        }
        ty
    }

    /// An operand as a local (constants are stored in a temporary).
    pub(crate) fn operand_to_local(&mut self, v: Operand, ty: &Ty) -> Local {
        match v {
            Operand::Local(l) => l,
            c => {
                let t = self.temp(ty.clone());
                self.push(Stmt::Assign(t, Rvalue::Use(c)));
                t
            }
        }
    }

    /// Reads a place: `Use` of a bare local, `Load` otherwise.
    pub(crate) fn read_place(&mut self, p: Place, ty: &Ty) -> Operand {
        if ty.is_zero_sized() {
            return Operand::Const(Const::Unit);
        }
        if p.proj.is_empty() {
            return Operand::Local(p.base);
        }
        self.emit(ty.clone(), Rvalue::Load(p))
    }

    /// Writes a place: `Assign` to a bare local, `Store` otherwise.
    pub(crate) fn write_place(&mut self, p: Place, v: Operand) {
        if p.proj.is_empty() {
            self.assign(p.base, Rvalue::Use(v));
        } else if !self.place_ty(&p).is_zero_sized() {
            self.push(Stmt::Store(p, v));
        }
    }

    /// Converts an index to `usize` and checks it against the length of `seq`; returns the
    /// `usize` local to index with.
    fn checked_index(&mut self, seq: &Place, index: Operand, index_ty: &Ty) -> Local {
        let usize_t = Ty::Int(IntTy::Usize);
        let i =
            if *index_ty == usize_t { index } else { self.emit(usize_t.clone(), Rvalue::Cast(index, usize_t.clone())) };
        let i = self.operand_to_local(i, &usize_t);
        // A copy, so later writes to the index variable cannot move the access.
        let idx = self.temp(usize_t.clone());
        self.push(Stmt::Assign(idx, Rvalue::Use(Operand::Local(i))));
        let len = self.emit(usize_t.clone(), Rvalue::Len(seq.clone()));
        let ok = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Lt, Operand::Local(idx), len.clone()));
        let fail = self.new_block();
        let cont = self.new_block();
        self.terminate(Terminator::Branch { cond: ok, then_bb: cont, else_bb: fail });
        self.switch_to(fail);
        let i64t = Ty::Int(IntTy::I64);
        let ii = self.emit(i64t.clone(), Rvalue::Cast(Operand::Local(idx), i64t.clone()));
        let ll = self.emit(i64t.clone(), Rvalue::Cast(len, i64t));
        self.call_runtime(blood_abi::PANIC_BOUNDS, vec![ii, ll]);
        self.switch_to(cont);
        idx
    }

    /// Lowers the L1 data expressions; `None` for other kinds.
    pub(crate) fn lower_data_expr(&mut self, e: &hir::Expr) -> Option<Operand> {
        Some(match &e.kind {
            H::Field { .. } | H::Index { .. } | H::Deref(_) => {
                let p = self.lower_place(e);
                let ty = super::ir_ty(&e.ty);
                if ty.is_move_type(&self.program.adts) { self.move_out(p, &ty) } else { self.copy_place(p, &ty) }
            }
            H::AddrOf { mutable, place } => {
                let p = self.lower_place(place);
                self.emit(e.ty.clone(), Rvalue::Ref(p, *mutable))
            }
            H::Tuple(elems) => {
                let ops = self.lower_operands(elems);
                self.emit(e.ty.clone(), Rvalue::Aggregate(AggregateKind::Tuple, ops))
            }
            H::Array(elems) => {
                let ops = self.lower_operands(elems);
                self.emit(e.ty.clone(), Rvalue::Aggregate(AggregateKind::Array, ops))
            }
            H::Repeat(value, n) => {
                let v = self.lower_expr(value);
                self.emit(e.ty.clone(), Rvalue::Repeat(v, *n))
            }
            H::Adt { variant, fields, base } => self.lower_adt(&e.ty, *variant, fields, base.as_deref()),
            H::Unsize(inner) => {
                let v = self.lower_expr(inner);
                self.emit(e.ty.clone(), Rvalue::Unsize(v))
            }
            H::Len(seq) => {
                let p = self.lower_place(seq);
                self.emit(e.ty.clone(), Rvalue::Len(p))
            }
            H::ForEach { id, pat, seq, by_ref, body } => {
                self.lower_for_each(*id, pat, seq, *by_ref, body);
                Operand::Const(Const::Unit)
            }
            _ => return None,
        })
    }

    /// Evaluates expressions left to right; variables read by an earlier operand are copied
    /// when a later one may assign them.
    fn lower_operands(&mut self, elems: &[hir::Expr]) -> Vec<Operand> {
        let mut out = Vec::with_capacity(elems.len());
        for (i, el) in elems.iter().enumerate() {
            let v = match elems.get(i + 1) {
                Some(next) => self.lower_operand_before(el, next),
                None => self.lower_expr(el),
            };
            out.push(v);
        }
        out
    }

    fn lower_adt(&mut self, ty: &Ty, variant: u32, fields: &[(u32, hir::Expr)], base: Option<&hir::Expr>) -> Operand {
        let Ty::Adt(a, args) = ty else { return Operand::Const(Const::Unit) };
        let field_tys = self.program.adts.field_tys(a, args, variant as usize);
        let exprs: Vec<hir::Expr> = fields.iter().map(|(_, e)| e.clone()).collect();
        let values = self.lower_operands(&exprs);
        let mut ops: Vec<Option<Operand>> = vec![None; field_tys.len()];
        for ((i, _), v) in fields.iter().zip(values) {
            ops[*i as usize] = Some(v);
        }
        if let Some(b) = base {
            let bp = self.lower_place(b);
            let mut moved = Vec::new();
            for (i, slot) in ops.iter_mut().enumerate() {
                if slot.is_none() {
                    let fty = super::ir_ty(&field_tys[i]);
                    let fp = bp.project(Proj::Field(i as u32));
                    if fty.is_move_type(&self.program.adts) {
                        moved.push(fp.proj.clone());
                        *slot = Some(self.read_place(fp, &fty));
                    } else {
                        *slot = Some(self.copy_place(fp, &fty));
                    }
                }
            }
            // `..base` moves the owned fields it supplies; the rest of `base` is dropped.
            if !moved.is_empty() && self.is_owned_path(&bp) {
                self.drop_rest(bp.base, &moved);
            }
        }
        // Every field is given by the literal or its base (the type checker made sure).
        let ops: Vec<Operand> = ops.into_iter().map(|o| o.unwrap_or(Operand::Const(Const::Unit))).collect();
        self.emit(ty.clone(), Rvalue::Aggregate(AggregateKind::Adt { variant }, ops))
    }

    /// `for pat in seq` over an array or slice place: an index loop (the length is read once).
    fn lower_for_each(&mut self, id: hir::LoopId, pat: &hir::Pat, seq: &hir::Expr, by_ref: bool, body: &hir::Expr) {
        let usize_t = Ty::Int(IntTy::Usize);
        self.push_scope(super::drops::ScopeKind::Block);
        let seq_p = self.lower_place(seq);
        // `for x in v` over a vector consumes it: the loop owns it in a hidden local, moves the
        // elements out one by one, and on every exit drops the ones not reached, then the buffer.
        let mut into_iter_next = None;
        let seq_p = match (&seq.kind, by_ref) {
            (H::Deref(v), false) if matches!(v.ty, Ty::Owned(..)) => {
                let vec_place = Place { base: seq_p.base, proj: seq_p.proj[..seq_p.proj.len() - 1].to_vec() };
                let vty = super::ir_ty(&v.ty);
                let value = self.move_out(vec_place, &vty);
                let it = self.new_local(vty, Some("for$vec".to_string()));
                self.push(Stmt::Assign(it, Rvalue::Use(value)));
                let next = self.new_local(usize_t.clone(), Some("for$next".to_string()));
                self.push(Stmt::Assign(next, Rvalue::Use(Operand::Const(Const::Int { bits: 0, ty: IntTy::Usize }))));
                self.register_into_iter(it, next);
                into_iter_next = Some(next);
                Place::local(it).project(Proj::Deref)
            }
            _ => seq_p,
        };
        let len = self.emit(usize_t.clone(), Rvalue::Len(seq_p.clone()));
        let counter = self.new_local(usize_t.clone(), Some("for$index".to_string()));
        self.assign(counter, Rvalue::Use(Operand::Const(Const::Int { bits: 0, ty: IntTy::Usize })));
        let header = self.new_block();
        let body_bb = self.new_block();
        let latch = self.new_block();
        let exit = self.new_block();
        self.goto(header);
        self.switch_to(header);
        let more = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Lt, Operand::Local(counter), len));
        self.terminate(Terminator::Branch { cond: more, then_bb: body_bb, else_bb: exit });
        self.switch_to(body_bb);
        let idx = self.temp(usize_t.clone());
        self.push(Stmt::Assign(idx, Rvalue::Use(Operand::Local(counter))));
        let depth = self.scopes.len();
        self.push_scope(super::drops::ScopeKind::Block);
        let elem = seq_p.project(Proj::Index(idx));
        let target = if by_ref {
            let r = self.temp(pat.ty.clone());
            self.push(Stmt::Assign(r, Rvalue::Ref(elem, matches!(pat.ty, Ty::Ref(_, true)))));
            Place::local(r)
        } else {
            elem
        };
        let unreachable = self.new_block();
        self.test_pattern(pat, &target, unreachable);
        self.bindings_move = into_iter_next.is_some();
        self.bind_pending(&target);
        self.bindings_move = false;
        if let Some(next) = into_iter_next {
            let one = Operand::Const(Const::Int { bits: 1, ty: IntTy::Usize });
            self.push(Stmt::Assign(next, Rvalue::Binary(BinOp::Add, Operand::Local(idx), one)));
        }
        self.loops.insert(id, LoopTargets { break_bb: exit, continue_bb: latch, result: None, depth });
        self.lower_expr(body);
        self.pop_scope();
        self.goto(latch);
        self.switch_to(latch);
        let one = Operand::Const(Const::Int { bits: 1, ty: IntTy::Usize });
        self.assign(counter, Rvalue::Binary(BinOp::Add, Operand::Local(counter), one));
        self.goto(header);
        self.switch_to(unreachable);
        self.terminate(Terminator::Unreachable);
        self.switch_to(exit);
        self.pop_scope();
    }

    /// `a == b` / `a != b` for any comparable type (LANGUAGE.md §4.11).
    pub(crate) fn lower_equality(&mut self, op: BinOp, a: Operand, b: Operand, ty: &Ty) -> Operand {
        if !needs_structural_eq(ty) {
            return self.emit_equality(op, a, b, ty);
        }
        let pa = Place::local(self.operand_to_local(a, ty));
        let pb = Place::local(self.operand_to_local(b, ty));
        self.lower_place_equality(op, &pa, &pb, ty)
    }

    /// `a == b` / `a != b` comparing the values at two places (nothing is moved).
    pub(crate) fn lower_place_equality(&mut self, op: BinOp, pa: &Place, pb: &Place, ty: &Ty) -> Operand {
        let (pa, pb) = (pa.clone(), pb.clone());
        let result = self.temp(Ty::Bool);
        let differ = self.new_block();
        let join = self.new_block();
        self.eq_places(&pa, &pb, ty, differ);
        self.assign(result, Rvalue::Use(Operand::Const(Const::Bool(op == BinOp::Eq))));
        self.goto(join);
        self.switch_to(differ);
        self.assign(result, Rvalue::Use(Operand::Const(Const::Bool(op != BinOp::Eq))));
        self.goto(join);
        self.switch_to(join);
        Operand::Local(result)
    }

    /// Continues if the values at `a` and `b` (of type `ty`) are equal, jumps to `differ`
    /// otherwise.
    pub(crate) fn eq_places(&mut self, a: &Place, b: &Place, ty: &Ty, differ: BlockId) {
        match ty {
            Ty::Tuple(elems) => {
                for (i, t) in elems.iter().enumerate() {
                    let t = super::ir_ty(t);
                    self.eq_places(&a.project(Proj::Field(i as u32)), &b.project(Proj::Field(i as u32)), &t, differ);
                }
            }
            Ty::Ref(inner, _) => {
                let pa = self.place_to_local(a.clone()).project(Proj::Deref);
                let pb = self.place_to_local(b.clone()).project(Proj::Deref);
                self.eq_places(&pa, &pb, inner, differ);
            }
            Ty::Array(elem, _) | Ty::Slice(elem) => {
                let usize_t = Ty::Int(IntTy::Usize);
                let la = self.emit(usize_t.clone(), Rvalue::Len(a.clone()));
                if matches!(ty, Ty::Slice(_)) {
                    let lb = self.emit(usize_t.clone(), Rvalue::Len(b.clone()));
                    let same = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Eq, la.clone(), lb));
                    self.branch_or(same, differ);
                }
                let i = self.temp(usize_t.clone());
                self.assign(i, Rvalue::Use(Operand::Const(Const::Int { bits: 0, ty: IntTy::Usize })));
                let header = self.new_block();
                let body = self.new_block();
                let done = self.new_block();
                self.goto(header);
                self.switch_to(header);
                let more = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Lt, Operand::Local(i), la));
                self.terminate(Terminator::Branch { cond: more, then_bb: body, else_bb: done });
                self.switch_to(body);
                let elem_ty = super::ir_ty(elem);
                self.eq_places(&a.project(Proj::Index(i)), &b.project(Proj::Index(i)), &elem_ty, differ);
                let one = Operand::Const(Const::Int { bits: 1, ty: IntTy::Usize });
                self.assign(i, Rvalue::Binary(BinOp::Add, Operand::Local(i), one));
                self.goto(header);
                self.switch_to(done);
            }
            Ty::Owned(_, inner) => {
                // Vectors and strings compare their elements, boxes their contents.
                let inner = match ty {
                    Ty::Owned(crate::ir::OwnedKind::Box, _) => (**inner).clone(),
                    _ => Ty::Slice(inner.clone()),
                };
                self.eq_places(&a.project(Proj::Deref), &b.project(Proj::Deref), &inner, differ);
            }
            Ty::Adt(adt, args) if !self.program.adts.def(adt).is_enum => {
                // Structs (only through `Vec.contains`, which is structural): field by field.
                for (i, fty) in self.program.adts.field_tys(adt, args, 0).iter().enumerate() {
                    let f = Proj::Field(i as u32);
                    let fty = super::ir_ty(fty);
                    self.eq_places(&a.project(f.clone()), &b.project(f), &fty, differ);
                }
            }
            Ty::Adt(adt, args) => {
                // Enums: `Option`/`Result` (the type checker rejects `==` on user ADTs) and any
                // enum element of `Vec.contains`: equal tags, then the fields of that variant.
                let tag_ty = Ty::Int(crate::types::TAG_REPR);
                let ta = self.emit(tag_ty.clone(), Rvalue::Discriminant(a.clone()));
                let tb = self.emit(tag_ty, Rvalue::Discriminant(b.clone()));
                let same = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Eq, ta.clone(), tb));
                self.branch_or(same, differ);
                let done = self.new_block();
                let n = self.program.adts.def(adt).variants.len();
                for v in 0..n {
                    let fields = self.program.adts.field_tys(adt, args, v);
                    if fields.iter().all(Ty::is_zero_sized) {
                        continue;
                    }
                    let want = Operand::Const(Const::Int { bits: v as u128, ty: crate::types::TAG_REPR });
                    let is_v = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Eq, ta.clone(), want));
                    let cmp = self.new_block();
                    let next = self.new_block();
                    self.terminate(Terminator::Branch { cond: is_v, then_bb: cmp, else_bb: next });
                    self.switch_to(cmp);
                    for (i, fty) in fields.iter().enumerate() {
                        let proj = Proj::VariantField { variant: v as u32, field: i as u32 };
                        self.eq_places(&a.project(proj.clone()), &b.project(proj), fty, differ);
                    }
                    self.goto(done);
                    self.switch_to(next);
                }
                self.goto(done);
                self.switch_to(done);
            }
            t if t.is_zero_sized() => {}
            t => {
                let va = self.read_place(a.clone(), t);
                let vb = self.read_place(b.clone(), t);
                let eq = self.emit_equality(BinOp::Eq, va, vb, t);
                self.branch_or(eq, differ);
            }
        }
    }

    /// Continues in a new block if `cond`, else jumps to `fail`.
    pub(crate) fn branch_or(&mut self, cond: Operand, fail: BlockId) {
        let ok = self.new_block();
        self.terminate(Terminator::Branch { cond, then_bb: ok, else_bb: fail });
        self.switch_to(ok);
    }

    /// `seq.contains(&x)`: a loop comparing each element with the needle.
    pub(crate) fn lower_slice_contains(&mut self, seq: &hir::Expr, needle: &hir::Expr) -> Operand {
        let elem_ty = match &seq.ty {
            Ty::Array(t, _) | Ty::Slice(t) => super::ir_ty(t),
            _ => return Operand::Const(Const::Bool(false)),
        };
        let sp = self.lower_place(seq);
        let n = self.lower_expr(needle);
        let needle_ty = Ty::reference(elem_ty.clone(), false);
        let np = Place::local(self.operand_to_local(n, &needle_ty)).project(Proj::Deref);
        let usize_t = Ty::Int(IntTy::Usize);
        let len = self.emit(usize_t.clone(), Rvalue::Len(sp.clone()));
        let result = self.temp(Ty::Bool);
        self.assign(result, Rvalue::Use(Operand::Const(Const::Bool(false))));
        let i = self.temp(usize_t.clone());
        self.assign(i, Rvalue::Use(Operand::Const(Const::Int { bits: 0, ty: IntTy::Usize })));
        let header = self.new_block();
        let body = self.new_block();
        let next = self.new_block();
        let found = self.new_block();
        let done = self.new_block();
        self.goto(header);
        self.switch_to(header);
        let more = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Lt, Operand::Local(i), len));
        self.terminate(Terminator::Branch { cond: more, then_bb: body, else_bb: done });
        self.switch_to(body);
        self.eq_places(&sp.project(Proj::Index(i)), &np, &elem_ty, next);
        self.goto(found);
        self.switch_to(next);
        let one = Operand::Const(Const::Int { bits: 1, ty: IntTy::Usize });
        self.assign(i, Rvalue::Binary(BinOp::Add, Operand::Local(i), one));
        self.goto(header);
        self.switch_to(found);
        self.assign(result, Rvalue::Use(Operand::Const(Const::Bool(true))));
        self.goto(done);
        self.switch_to(done);
        Operand::Local(result)
    }
}

fn needs_structural_eq(ty: &Ty) -> bool {
    matches!(ty, Ty::Tuple(_) | Ty::Array(..) | Ty::Slice(_) | Ty::Ref(..) | Ty::Adt(..) | Ty::Owned(..))
}
