//! Lowering the operations of `Vec`, `String` and `Box` (LANGUAGE.md §5.5).
//!
//! A vector is three words: data pointer, length ([`VEC_LEN_FIELD`]) and capacity
//! ([`VEC_CAP_FIELD`]); its elements are the slice place `(*v)` (a `Deref` projection), indexed
//! without checks by `Index`. Everything here is built from those places plus a few
//! [`HeapIntrinsic`]s that need the element layout (allocation, growth, `memmove`), which codegen
//! expands. Growth policy lives in the runtime (`blood_vec_reserve`: capacity doubles, at least
//! 4 elements), so generated code only tests `len == cap` before a push.
//!
//! The receiver operand of every method is a reference (`&v` or `&mut v`, made explicit by the
//! type checker), so the vector itself is reached as `(*r)`.

use crate::hir::HeapOp;
use crate::ir::{
    AggregateKind, BinOp, Const, HeapIntrinsic, IntTy, Intrinsic, Local, Operand, Place, Proj, Rvalue, Stmt,
    Terminator, Ty, VEC_CAP_FIELD, VEC_LEN_FIELD,
};

use super::FnBuilder;

/// Variant indices of the prelude's `Option` (`enum Option<T> { None, Some(T) }`).
const NONE: u32 = 0;
const SOME: u32 = 1;

fn usize_const(v: u64) -> Operand {
    Operand::Const(Const::Int { bits: u128::from(v), ty: IntTy::Usize })
}

impl FnBuilder<'_> {
    pub(crate) fn lower_heap(&mut self, op: HeapOp, values: Vec<Operand>, ty: &Ty) -> Operand {
        let usize_t = Ty::Int(IntTy::Usize);
        match op {
            HeapOp::New => self.emit(ty.clone(), heap_rv(HeapIntrinsic::VecNew, vec![])),
            HeapOp::WithCapacity | HeapOp::StringFrom => {
                let v = self.emit(ty.clone(), heap_rv(HeapIntrinsic::VecNew, vec![]));
                let Operand::Local(vl) = v else { return v };
                let r = self.emit(Ty::reference(ty.clone(), true), Rvalue::Ref(Place::local(vl), true));
                let what =
                    if op == HeapOp::StringFrom { HeapIntrinsic::StringPushStr } else { HeapIntrinsic::VecReserve };
                self.heap_effect(what, vec![r, values[0].clone()]);
                v
            }
            HeapOp::BoxNew => {
                let b = self.emit(ty.clone(), heap_rv(HeapIntrinsic::BoxAlloc, vec![]));
                let Operand::Local(bl) = b else { return b };
                self.write_place(Place::local(bl).project(Proj::Deref), values[0].clone());
                b
            }
            HeapOp::Push => {
                let r = self.ref_local(&values[0]);
                let len = self.load_word(r, VEC_LEN_FIELD);
                self.reserve_if_full(r, &len, &values[0]);
                let at = self.operand_to_local(len.clone(), &usize_t);
                self.write_place(elem(r, at), values[1].clone());
                self.store_len(r, BinOp::Add, len, 1);
                Operand::Const(Const::Unit)
            }
            HeapOp::Pop => self.lower_pop(&values[0], ty),
            HeapOp::Len | HeapOp::Capacity => {
                let r = self.ref_local(&values[0]);
                self.load_word(r, if op == HeapOp::Len { VEC_LEN_FIELD } else { VEC_CAP_FIELD })
            }
            HeapOp::Clear => {
                let r = self.ref_local(&values[0]);
                let len = self.load_word(r, VEC_LEN_FIELD);
                if self.elem_needs_drop(r) {
                    let i = self.new_local(usize_t, None);
                    self.push(Stmt::Assign(i, Rvalue::Use(usize_const(0))));
                    self.counted_loop(i, len, |b, i| b.push(Stmt::Drop(elem(r, i))));
                }
                self.push(Stmt::Store(word(r, VEC_LEN_FIELD), usize_const(0)));
                Operand::Const(Const::Unit)
            }
            HeapOp::Get | HeapOp::First | HeapOp::Last => {
                let r = self.ref_local(&values[0]);
                let len = self.load_word(r, VEC_LEN_FIELD);
                let index = match op {
                    HeapOp::Get => values[1].clone(),
                    HeapOp::First => usize_const(0),
                    // `len - 1` wraps for an empty vector, which the bound test then rejects.
                    _ => self.emit(usize_t.clone(), Rvalue::Binary(BinOp::Sub, len.clone(), usize_const(1))),
                };
                self.option_ref_at(r, index, len, ty)
            }
            HeapOp::Insert => {
                let r = self.ref_local(&values[0]);
                let len = self.load_word(r, VEC_LEN_FIELD);
                let i = self.operand_to_local(values[1].clone(), &usize_t);
                // `index <= len`, else the bounds panic of §3.10.
                let ok = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Le, Operand::Local(i), len.clone()));
                self.bounds_check(ok, Operand::Local(i), len.clone());
                self.reserve_if_full(r, &len, &values[0]);
                let count = self.emit(usize_t.clone(), Rvalue::Binary(BinOp::Sub, len.clone(), Operand::Local(i)));
                let to = self.emit(usize_t.clone(), Rvalue::Binary(BinOp::Add, Operand::Local(i), usize_const(1)));
                self.heap_effect(HeapIntrinsic::VecMoveElems, vec![values[0].clone(), Operand::Local(i), to, count]);
                self.write_place(elem(r, i), values[2].clone());
                self.store_len(r, BinOp::Add, len, 1);
                Operand::Const(Const::Unit)
            }
            HeapOp::Remove => {
                let r = self.ref_local(&values[0]);
                let len = self.load_word(r, VEC_LEN_FIELD);
                let i = self.operand_to_local(values[1].clone(), &usize_t);
                let ok = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Lt, Operand::Local(i), len.clone()));
                self.bounds_check(ok, Operand::Local(i), len.clone());
                let x = self.read_place(elem(r, i), ty);
                let from = self.emit(usize_t.clone(), Rvalue::Binary(BinOp::Add, Operand::Local(i), usize_const(1)));
                let count = self.emit(usize_t.clone(), Rvalue::Binary(BinOp::Sub, len.clone(), from.clone()));
                self.heap_effect(HeapIntrinsic::VecMoveElems, vec![values[0].clone(), from, Operand::Local(i), count]);
                self.store_len(r, BinOp::Sub, len, 1);
                x
            }
            HeapOp::Clone => self.emit(ty.clone(), heap_rv(HeapIntrinsic::Clone, values)),
            HeapOp::AsStr => self.emit(Ty::Str, heap_rv(HeapIntrinsic::StringAsStr, values)),
            HeapOp::StringPushChar => {
                self.heap_effect(HeapIntrinsic::StringPushChar, values);
                Operand::Const(Const::Unit)
            }
            HeapOp::StringPushStr => {
                self.heap_effect(HeapIntrinsic::StringPushStr, values);
                Operand::Const(Const::Unit)
            }
        }
    }

    /// An intrinsic evaluated for its effect.
    fn heap_effect(&mut self, what: HeapIntrinsic, args: Vec<Operand>) {
        let t = self.new_local(Ty::Unit, None);
        self.push(Stmt::Assign(t, heap_rv(what, args)));
    }

    /// The reference operand as a local (it always is one: the result of `&v`).
    fn ref_local(&self, r: &Operand) -> Local {
        match r {
            Operand::Local(l) => *l,
            Operand::Const(_) => unreachable!("a vector reference is always a local"),
        }
    }

    fn elem_needs_drop(&mut self, r: Local) -> bool {
        match self.local_ty(r).clone() {
            Ty::Ref(v, _) => match &*v {
                Ty::Owned(_, e) => self.needs_drop(e),
                _ => false,
            },
            _ => false,
        }
    }

    /// The length or capacity of `*r`.
    fn load_word(&mut self, r: Local, field: u32) -> Operand {
        self.emit(Ty::Int(IntTy::Usize), Rvalue::Load(word(r, field)))
    }

    /// `(*r).len = len op n`.
    fn store_len(&mut self, r: Local, op: BinOp, len: Operand, n: u64) {
        let new = self.emit(Ty::Int(IntTy::Usize), Rvalue::Binary(op, len, usize_const(n)));
        self.push(Stmt::Store(word(r, VEC_LEN_FIELD), new));
    }

    /// Grows the vector behind `r` (the reference operand `r_op`) if it is full.
    fn reserve_if_full(&mut self, r: Local, len: &Operand, r_op: &Operand) {
        let cap = self.load_word(r, VEC_CAP_FIELD);
        let full = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Eq, len.clone(), cap));
        let grow = self.new_block();
        let cont = self.new_block();
        self.terminate(Terminator::Branch { cond: full, then_bb: grow, else_bb: cont });
        self.switch_to(grow);
        self.heap_effect(HeapIntrinsic::VecReserve, vec![r_op.clone(), usize_const(1)]);
        self.goto(cont);
        self.switch_to(cont);
    }

    /// Continues if `ok`, else panics with "index out of bounds: index I but length is N".
    fn bounds_check(&mut self, ok: Operand, index: Operand, len: Operand) {
        let fail = self.new_block();
        let cont = self.new_block();
        self.terminate(Terminator::Branch { cond: ok, then_bb: cont, else_bb: fail });
        self.switch_to(fail);
        let i64t = Ty::Int(IntTy::I64);
        let ii = self.emit(i64t.clone(), Rvalue::Cast(index, i64t.clone()));
        let ll = self.emit(i64t.clone(), Rvalue::Cast(len, i64t));
        self.call_runtime(blood_abi::PANIC_BOUNDS, vec![ii, ll]);
        self.switch_to(cont);
    }

    /// `pop`: `None` for an empty vector, else `Some` of the last element moved out.
    fn lower_pop(&mut self, r_op: &Operand, ty: &Ty) -> Operand {
        let r = self.ref_local(r_op);
        let result = self.temp(ty.clone());
        let len = self.load_word(r, VEC_LEN_FIELD);
        let empty = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Eq, len.clone(), usize_const(0)));
        let none_bb = self.new_block();
        let some_bb = self.new_block();
        let join = self.new_block();
        self.terminate(Terminator::Branch { cond: empty, then_bb: none_bb, else_bb: some_bb });
        self.switch_to(none_bb);
        self.push(Stmt::Assign(result, Rvalue::Aggregate(AggregateKind::Adt { variant: NONE }, vec![])));
        self.goto(join);
        self.switch_to(some_bb);
        let usize_t = Ty::Int(IntTy::Usize);
        let last = self.emit(usize_t.clone(), Rvalue::Binary(BinOp::Sub, len, usize_const(1)));
        let at = self.operand_to_local(last.clone(), &usize_t);
        self.push(Stmt::Store(word(r, VEC_LEN_FIELD), last));
        let elem_ty = match ty {
            Ty::Adt(a, args) => self.program.adts.field_tys(a, args, SOME as usize)[0].clone(),
            _ => Ty::Unit,
        };
        let x = self.read_place(elem(r, at), &super::ir_ty(&elem_ty));
        self.push(Stmt::Assign(result, Rvalue::Aggregate(AggregateKind::Adt { variant: SOME }, vec![x])));
        self.goto(join);
        self.switch_to(join);
        Operand::Local(result)
    }

    /// `Some(&(*r)[index])` if `index < len`, else `None`.
    fn option_ref_at(&mut self, r: Local, index: Operand, len: Operand, ty: &Ty) -> Operand {
        let usize_t = Ty::Int(IntTy::Usize);
        let i = self.operand_to_local(index, &usize_t);
        let result = self.temp(ty.clone());
        let ok = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Lt, Operand::Local(i), len));
        let some_bb = self.new_block();
        let none_bb = self.new_block();
        let join = self.new_block();
        self.terminate(Terminator::Branch { cond: ok, then_bb: some_bb, else_bb: none_bb });
        self.switch_to(some_bb);
        let ref_ty = match ty {
            Ty::Adt(a, args) => super::ir_ty(&self.program.adts.field_tys(a, args, SOME as usize)[0]),
            _ => Ty::Unit,
        };
        let x = self.emit(ref_ty, Rvalue::Ref(elem(r, i), false));
        self.push(Stmt::Assign(result, Rvalue::Aggregate(AggregateKind::Adt { variant: SOME }, vec![x])));
        self.goto(join);
        self.switch_to(none_bb);
        self.push(Stmt::Assign(result, Rvalue::Aggregate(AggregateKind::Adt { variant: NONE }, vec![])));
        self.goto(join);
        self.switch_to(join);
        Operand::Local(result)
    }

    /// A `String` printed or formatted: its bytes as a `&str`, read in place (no move). Other
    /// values are lowered as usual.
    pub(crate) fn lower_printable(&mut self, e: &crate::hir::Expr) -> Operand {
        if !matches!(e.ty, Ty::Owned(crate::ir::OwnedKind::String, _)) {
            return self.lower_expr(e);
        }
        let p = self.lower_place(e);
        let r = self.emit(Ty::reference(e.ty.clone(), false), Rvalue::Ref(p, false));
        self.emit(Ty::Str, heap_rv(HeapIntrinsic::StringAsStr, vec![r]))
    }
}

fn heap_rv(what: HeapIntrinsic, args: Vec<Operand>) -> Rvalue {
    Rvalue::Intrinsic(Intrinsic::Heap(what), args)
}

/// `(*r).field`: a length or capacity word.
fn word(r: Local, field: u32) -> Place {
    Place::local(r).project(Proj::Deref).project(Proj::Field(field))
}

/// `(*r)[i]`: an element (unchecked).
fn elem(r: Local, i: Local) -> Place {
    Place::local(r).project(Proj::Deref).project(Proj::Deref).project(Proj::Index(i))
}
