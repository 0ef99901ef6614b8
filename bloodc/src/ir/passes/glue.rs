//! Drop and clone glue: one IR function per type that owns heap storage, generated on demand.
//!
//! After `elaborate_drops`, every remaining `drop place` is unconditional; this pass replaces it
//! by `call drop<T>(&mut place)`, and every `clone(&v)` intrinsic by `call clone<T>(&v)`.
//! The glue functions are ordinary IR functions appended to the program (so they are validated,
//! optimised, printed by `--emit=ir` and compiled like the rest), built here from places and the
//! heap intrinsics:
//!
//! | type | `drop<T>(p: &mut T)` | `clone<T>(p: &T) -> T` |
//! |---|---|---|
//! | `Vec<E>`, `String` | drop each element (if `E` owns anything), then `vec_free(p)` | `vec_clone_bytes` if `E` owns nothing, else a new vector with each element cloned |
//! | `Box<E>` | drop `**p` (if needed), then `box_free(*p)` | `box_alloc`, then store a clone of `**p` |
//! | struct, tuple | drop each owning field | clone each owning field, copy the others |
//! | enum | test the tag, drop that variant's owning fields | the same variant with its fields cloned |
//! | array | drop each element | clone each element |
//! | channel handle (`ChannelRef`) | `blood_channel_release` | `blood_channel_retain`, then a copy |
//! | `fn` | `fn_release`, in place of the call (of the local itself when the place is one) | `fn_retain`, in place of the call |
//!
//! Glue functions may call each other and themselves (`drop<Tree>` → `drop<Box<Tree>>` →
//! `drop<Tree>`): each is created (with its id) before its body is built, so recursion through
//! boxes terminates.

use std::collections::HashMap;

use crate::ir::{
    AggregateKind, BasicBlock, BinOp, BlockId, Callee, Const, FuncId, Function, HeapIntrinsic, IntTy, Intrinsic, Local,
    LocalDecl, Operand, OwnedKind, Place, Program, Proj, Rvalue, Stmt, Terminator, Ty, VEC_LEN_FIELD,
};

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Drop,
    Clone,
}

struct GlueCx {
    made: HashMap<(Kind, Ty), FuncId>,
    queue: Vec<(Kind, Ty, FuncId)>,
}

/// Generates the glue every function needs and rewrites drops and clones into calls of it.
pub fn generate_glue(program: &mut Program) {
    let mut cx = GlueCx { made: HashMap::new(), queue: Vec::new() };
    for i in 0..program.functions.len() {
        rewrite_function(program, &mut cx, i);
    }
    while let Some((kind, ty, id)) = cx.queue.pop() {
        let symbol = program.functions[id.0 as usize].symbol.clone();
        let f = build_glue(program, kind, &ty, symbol);
        program.functions[id.0 as usize] = f;
        rewrite_function(program, &mut cx, id.0 as usize);
    }
}

/// The glue function of `kind` for `ty`, declared (with a placeholder body) on first use.
fn glue_fn(program: &mut Program, cx: &mut GlueCx, kind: Kind, ty: &Ty) -> FuncId {
    if let Some(&id) = cx.made.get(&(kind, ty.clone())) {
        return id;
    }
    let id = FuncId(program.functions.len() as u32);
    let name = match kind {
        Kind::Drop => format!("drop<{ty}>"),
        Kind::Clone => format!("clone<{ty}>"),
    };
    let (param, ret) = match kind {
        Kind::Drop => (Ty::reference(ty.clone(), true), Ty::Unit),
        Kind::Clone => (Ty::reference(ty.clone(), false), ty.clone()),
    };
    program.functions.push(Function {
        name,
        symbol: format!("blood.glue.{}", id.0),
        param_count: 1,
        ret,
        locals: vec![LocalDecl { ty: param, name: Some("p".to_string()) }],
        blocks: vec![BasicBlock { stmts: Vec::new(), terminator: Terminator::Unreachable }],
        no_preempt: false,
    });
    cx.made.insert((kind, ty.clone()), id);
    cx.queue.push((kind, ty.clone(), id));
    id
}

/// Replaces the drops and clones of function `index` by glue calls.
fn rewrite_function(program: &mut Program, cx: &mut GlueCx, index: usize) {
    let mut f = std::mem::take(&mut program.functions[index].blocks);
    let mut locals = std::mem::take(&mut program.functions[index].locals);
    for block in &mut f {
        let stmts = std::mem::take(&mut block.stmts);
        for stmt in stmts {
            match stmt {
                Stmt::Drop(place) => {
                    let ty = place_ty(program, &locals, &place);
                    if !ty.needs_drop(&program.adts) {
                        continue;
                    }
                    let release = matches!(ty, Ty::Fn(..));
                    if release && place.proj.is_empty() {
                        // By value: the local's address need not be taken.
                        let unit = push_local(&mut locals, Ty::Unit);
                        let rv = Rvalue::Intrinsic(
                            Intrinsic::Heap(HeapIntrinsic::FnRelease),
                            vec![Operand::Local(place.base)],
                        );
                        block.stmts.push(Stmt::Assign(unit, rv));
                        continue;
                    }
                    let r = push_local(&mut locals, Ty::reference(ty.clone(), true));
                    let unit = push_local(&mut locals, Ty::Unit);
                    block.stmts.push(Stmt::Assign(r, Rvalue::Ref(place, true)));
                    let rv = if release {
                        Rvalue::Intrinsic(Intrinsic::Heap(HeapIntrinsic::FnRelease), vec![Operand::Local(r)])
                    } else {
                        Rvalue::Call(Callee::Fn(glue_fn(program, cx, Kind::Drop, &ty)), vec![Operand::Local(r)])
                    };
                    block.stmts.push(Stmt::Assign(unit, rv));
                }
                Stmt::Assign(dest, Rvalue::Intrinsic(Intrinsic::Heap(HeapIntrinsic::Clone), args)) => {
                    let ty = locals[dest.0 as usize].ty.clone();
                    let rv = if matches!(ty, Ty::Fn(..)) {
                        Rvalue::Intrinsic(Intrinsic::Heap(HeapIntrinsic::FnRetain), args)
                    } else if ty.needs_drop(&program.adts) {
                        Rvalue::Call(Callee::Fn(glue_fn(program, cx, Kind::Clone, &ty)), args)
                    } else {
                        let Operand::Local(r) = args[0] else { unreachable!("clone takes a reference local") };
                        Rvalue::Load(Place::local(r).project(Proj::Deref))
                    };
                    block.stmts.push(Stmt::Assign(dest, rv));
                }
                other => block.stmts.push(other),
            }
        }
    }
    program.functions[index].blocks = f;
    program.functions[index].locals = locals;
}

fn push_local(locals: &mut Vec<LocalDecl>, ty: Ty) -> Local {
    locals.push(LocalDecl { ty, name: None });
    Local(locals.len() as u32 - 1)
}

fn place_ty(program: &Program, locals: &[LocalDecl], p: &Place) -> Ty {
    let mut ty = locals[p.base.0 as usize].ty.clone();
    for proj in &p.proj {
        ty = crate::ir::project_ty(&program.adts, &ty, proj);
    }
    ty
}

/// A minimal builder for glue bodies.
struct Body<'p> {
    program: &'p Program,
    locals: Vec<LocalDecl>,
    blocks: Vec<BasicBlock>,
    current: usize,
}

impl Body<'_> {
    fn local(&mut self, ty: Ty) -> Local {
        push_local(&mut self.locals, ty)
    }

    fn push(&mut self, s: Stmt) {
        self.blocks[self.current].stmts.push(s);
    }

    fn emit(&mut self, ty: Ty, rv: Rvalue) -> Operand {
        let l = self.local(ty);
        self.push(Stmt::Assign(l, rv));
        Operand::Local(l)
    }

    fn block(&mut self) -> usize {
        self.blocks.push(BasicBlock { stmts: Vec::new(), terminator: Terminator::Unreachable });
        self.blocks.len() - 1
    }

    fn terminate(&mut self, t: Terminator) {
        self.blocks[self.current].terminator = t;
    }

    fn needs_drop(&self, ty: &Ty) -> bool {
        ty.needs_drop(&self.program.adts)
    }

    /// `for i in 0..end { body(i) }`.
    fn each_index(&mut self, end: Operand, mut body: impl FnMut(&mut Self, Local)) {
        let usize_t = Ty::Int(IntTy::Usize);
        let i = self.local(usize_t);
        self.push(Stmt::Assign(i, Rvalue::Use(usize_const(0))));
        let (header, body_bb, exit) = (self.block(), self.block(), self.block());
        self.terminate(Terminator::Goto(BlockId(header as u32)));
        self.current = header;
        let more = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Lt, Operand::Local(i), end));
        self.terminate(Terminator::Branch {
            cond: more,
            then_bb: BlockId(body_bb as u32),
            else_bb: BlockId(exit as u32),
        });
        self.current = body_bb;
        body(self, i);
        self.push(Stmt::Assign(i, Rvalue::Binary(BinOp::Add, Operand::Local(i), usize_const(1))));
        self.terminate(Terminator::Goto(BlockId(header as u32)));
        self.current = exit;
    }

    /// Runs `per_variant(v)` only when the enum at `place` is variant `v`, for each variant.
    fn each_variant(&mut self, place: &Place, n: usize, mut per_variant: impl FnMut(&mut Self, u32)) {
        let tag_ty = Ty::Int(crate::types::TAG_REPR);
        let tag = self.emit(tag_ty, Rvalue::Discriminant(place.clone()));
        let done = self.block();
        for v in 0..n as u32 {
            let want = Operand::Const(Const::Int { bits: u128::from(v), ty: crate::types::TAG_REPR });
            let is_v = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Eq, tag.clone(), want));
            let (yes, no) = (self.block(), self.block());
            self.terminate(Terminator::Branch {
                cond: is_v,
                then_bb: BlockId(yes as u32),
                else_bb: BlockId(no as u32),
            });
            self.current = yes;
            per_variant(self, v);
            self.terminate(Terminator::Goto(BlockId(done as u32)));
            self.current = no;
        }
        self.terminate(Terminator::Goto(BlockId(done as u32)));
        self.current = done;
    }

    /// A copy of the value at `place` (cloned if it owns anything).
    fn clone_of(&mut self, place: Place, ty: &Ty) -> Operand {
        if ty.is_zero_sized() {
            return Operand::Const(Const::Unit);
        }
        if self.needs_drop(ty) {
            let r = self.emit(Ty::reference(ty.clone(), false), Rvalue::Ref(place, false));
            self.emit(ty.clone(), heap_rv(HeapIntrinsic::Clone, vec![r]))
        } else if place.proj.is_empty() {
            Operand::Local(place.base)
        } else {
            self.emit(ty.clone(), Rvalue::Load(place))
        }
    }
}

fn usize_const(v: u64) -> Operand {
    Operand::Const(Const::Int { bits: u128::from(v), ty: IntTy::Usize })
}

fn heap_rv(what: HeapIntrinsic, args: Vec<Operand>) -> Rvalue {
    Rvalue::Intrinsic(Intrinsic::Heap(what), args)
}

fn field_proj(is_enum: bool, variant: u32, field: u32) -> Proj {
    if is_enum { Proj::VariantField { variant, field } } else { Proj::Field(field) }
}

/// Builds the body of a glue function.
fn build_glue(program: &Program, kind: Kind, ty: &Ty, symbol: String) -> Function {
    let (param_ty, ret) = match kind {
        Kind::Drop => (Ty::reference(ty.clone(), true), Ty::Unit),
        Kind::Clone => (Ty::reference(ty.clone(), false), ty.clone()),
    };
    let mut b = Body {
        program,
        locals: vec![LocalDecl { ty: param_ty, name: Some("p".to_string()) }],
        blocks: vec![BasicBlock { stmts: Vec::new(), terminator: Terminator::Unreachable }],
        current: 0,
    };
    let target = Place::local(Local(0)).project(Proj::Deref);
    let result = match kind {
        Kind::Drop => {
            drop_body(&mut b, &target, ty);
            Operand::Const(Const::Unit)
        }
        Kind::Clone => clone_body(&mut b, &target, ty),
    };
    b.terminate(Terminator::Return(result));
    let name = match kind {
        Kind::Drop => format!("drop<{ty}>"),
        Kind::Clone => format!("clone<{ty}>"),
    };
    Function { name, symbol, param_count: 1, ret, locals: b.locals, blocks: b.blocks, no_preempt: false }
}

/// One step of the path from a value of type `T` to a `Box<T>` inside it: a struct or tuple
/// field, or a field of one enum variant (which needs that variant).
#[derive(Clone, Debug)]
enum LinkStep {
    Field(u32),
    Variant { variant: u32, field: u32 },
}

/// The path from a `T` to the `Box<T>` it holds directly (through struct, tuple and enum fields,
/// not through other boxes or vectors), when there is exactly one: the `next` of a linked list
/// node, the tail of a `Cons`. Types with several links (trees) keep the recursive glue, whose
/// depth is the tree's height; a loop would help only their degenerate shapes, and costs the
/// balanced ones a sixth of their drop time (binary-trees).
fn chain_link(adts: &crate::ir::AdtTable, inner: &Ty) -> Option<Vec<LinkStep>> {
    let mut path = Vec::new();
    if !self_link(adts, inner, inner, &mut path) {
        return None;
    }
    (count_links(adts, inner, inner, 0) == 1).then_some(path)
}

/// How many `Box<owner>` fields `ty` holds directly (as [`self_link`] walks), stopping at 2.
fn count_links(adts: &crate::ir::AdtTable, owner: &Ty, ty: &Ty, depth: usize) -> usize {
    let boxed_owner = Ty::Owned(OwnedKind::Box, std::sync::Arc::new(owner.clone()));
    if *ty == boxed_owner {
        return 1;
    }
    // Non-recursive ADTs only nest so deep; recursion without a box is rejected earlier.
    if depth > 16 {
        return 0;
    }
    let fields: Vec<Ty> = match ty {
        Ty::Tuple(elems) => elems.to_vec(),
        Ty::Adt(a, args) => (0..adts.def(a).variants.len()).flat_map(|v| adts.field_tys(a, args, v)).collect(),
        _ => return 0,
    };
    fields.iter().map(|f| count_links(adts, owner, f, depth + 1)).sum::<usize>().min(2)
}

/// Finds the path from a `T` to the last `Box<T>` it holds directly (see [`chain_link`]).
fn self_link(adts: &crate::ir::AdtTable, owner: &Ty, ty: &Ty, path: &mut Vec<LinkStep>) -> bool {
    let boxed_owner = Ty::Owned(OwnedKind::Box, std::sync::Arc::new(owner.clone()));
    let fields: Vec<(LinkStep, Ty)> = match ty {
        Ty::Tuple(elems) => elems.iter().enumerate().map(|(i, t)| (LinkStep::Field(i as u32), t.clone())).collect(),
        Ty::Adt(a, args) if !adts.def(a).is_enum => {
            adts.field_tys(a, args, 0).into_iter().enumerate().map(|(i, t)| (LinkStep::Field(i as u32), t)).collect()
        }
        Ty::Adt(a, args) => (0..adts.def(a).variants.len())
            .flat_map(|v| {
                adts.field_tys(a, args, v)
                    .into_iter()
                    .enumerate()
                    .map(move |(i, t)| (LinkStep::Variant { variant: v as u32, field: i as u32 }, t))
            })
            .collect(),
        _ => return false,
    };
    for (step, fty) in fields.into_iter().rev() {
        path.push(step);
        if fty == boxed_owner || self_link(adts, owner, &fty, path) {
            return true;
        }
        path.pop();
    }
    false
}

/// `drop<Box<T>>` for a `T` that holds a `Box<T>` (`link`): a loop over the chain instead of
/// a recursion as deep as the chain (a long list would overflow the stack). Each turn, in
/// place in the current box: if every enum on the path is in the variant holding the link, it
/// drops the content's other owning parts, reads the link, frees the box and continues with
/// the link; otherwise it drops the whole content (whose own boxes of `T`, like a tree's other
/// child, go through this glue again), frees the box and stops.
fn drop_box_chain(b: &mut Body<'_>, target: &Place, boxed: &Ty, inner: &Ty, link: &[LinkStep]) {
    let adts = b.program.adts.clone();
    let cur = b.local(boxed.clone());
    b.push(Stmt::Assign(cur, Rvalue::Load(target.clone())));
    let (header, last, done) = (b.block(), b.block(), b.block());
    b.terminate(Terminator::Goto(BlockId(header as u32)));
    b.current = header;
    let content = Place::local(cur).project(Proj::Deref);
    // Test each enum on the path.
    let mut place = content.clone();
    for step in link {
        let proj = match step {
            LinkStep::Field(f) => Proj::Field(*f),
            LinkStep::Variant { variant, field } => {
                let tag = b.emit(Ty::Int(crate::types::TAG_REPR), Rvalue::Discriminant(place.clone()));
                let want = Operand::Const(Const::Int { bits: u128::from(*variant), ty: crate::types::TAG_REPR });
                let is_link = b.emit(Ty::Bool, Rvalue::Binary(BinOp::Eq, tag, want));
                let next = b.block();
                b.terminate(Terminator::Branch {
                    cond: is_link,
                    then_bb: BlockId(next as u32),
                    else_bb: BlockId(last as u32),
                });
                b.current = next;
                Proj::VariantField { variant: *variant, field: *field }
            }
        };
        place = place.project(proj);
    }
    // The link is there: drop the siblings along the path, continue with the link.
    let mut place = content.clone();
    let mut ty = inner.clone();
    for step in link {
        let (fields, on_path): (Vec<(Proj, Ty)>, u32) = match (step, &ty) {
            (LinkStep::Field(f), Ty::Tuple(elems)) => {
                (elems.iter().enumerate().map(|(i, t)| (Proj::Field(i as u32), t.clone())).collect(), *f)
            }
            (LinkStep::Field(f), Ty::Adt(a, args)) => (
                adts.field_tys(a, args, 0).into_iter().enumerate().map(|(i, t)| (Proj::Field(i as u32), t)).collect(),
                *f,
            ),
            (LinkStep::Variant { variant, field }, Ty::Adt(a, args)) => (
                adts.field_tys(a, args, *variant as usize)
                    .into_iter()
                    .enumerate()
                    .map(|(i, t)| (Proj::VariantField { variant: *variant, field: i as u32 }, t))
                    .collect(),
                *field,
            ),
            _ => unreachable!("self_link only steps through tuples, structs and enums"),
        };
        for (i, (proj, fty)) in fields.iter().enumerate() {
            if i as u32 != on_path && b.needs_drop(fty) {
                b.push(Stmt::Drop(place.project(proj.clone())));
            }
        }
        let (proj, fty) = fields[on_path as usize].clone();
        place = place.project(proj);
        ty = fty;
    }
    let next = b.local(boxed.clone());
    b.push(Stmt::Assign(next, Rvalue::Load(place)));
    b.emit(Ty::Unit, heap_rv(HeapIntrinsic::BoxFree, vec![Operand::Local(cur)]));
    b.push(Stmt::Assign(cur, Rvalue::Use(Operand::Local(next))));
    b.terminate(Terminator::Goto(BlockId(header as u32)));
    b.current = last;
    b.push(Stmt::Drop(content));
    b.emit(Ty::Unit, heap_rv(HeapIntrinsic::BoxFree, vec![Operand::Local(cur)]));
    b.terminate(Terminator::Goto(BlockId(done as u32)));
    b.current = done;
}

fn drop_body(b: &mut Body<'_>, target: &Place, ty: &Ty) {
    let adts = &b.program.adts;
    match ty {
        Ty::Adt(a, _) if adts.def(a).counted_handle => {
            let raw = b.emit(Ty::Int(IntTy::U64), Rvalue::Load(target.project(Proj::Field(0))));
            b.emit(Ty::Unit, Rvalue::Call(Callee::Runtime(blood_abi::CHANNEL_RELEASE), vec![raw]));
        }
        Ty::Owned(OwnedKind::Box, inner) if let Some(link) = chain_link(adts, inner) => {
            drop_box_chain(b, target, ty, inner, &link);
        }
        Ty::Owned(OwnedKind::Box, inner) => {
            if b.needs_drop(inner) {
                b.push(Stmt::Drop(target.project(Proj::Deref)));
            }
            let ptr = b.emit(ty.clone(), Rvalue::Load(target.clone()));
            b.emit(Ty::Unit, heap_rv(HeapIntrinsic::BoxFree, vec![ptr]));
        }
        Ty::Owned(_, elem) => {
            if b.needs_drop(elem) {
                let len = b.emit(Ty::Int(IntTy::Usize), Rvalue::Load(target.project(Proj::Field(VEC_LEN_FIELD))));
                b.each_index(len, |b, i| b.push(Stmt::Drop(target.project(Proj::Deref).project(Proj::Index(i)))));
            }
            b.emit(Ty::Unit, heap_rv(HeapIntrinsic::VecFree, vec![Operand::Local(Local(0))]));
        }
        Ty::Tuple(elems) => {
            for (i, t) in elems.iter().enumerate() {
                if b.needs_drop(t) {
                    b.push(Stmt::Drop(target.project(Proj::Field(i as u32))));
                }
            }
        }
        Ty::Array(elem, n) if b.needs_drop(elem) => {
            b.each_index(usize_const(*n), |b, i| b.push(Stmt::Drop(target.project(Proj::Index(i)))));
        }
        Ty::Adt(a, args) => {
            let def = adts.def(a);
            let (is_enum, n) = (def.is_enum, def.variants.len());
            let drop_fields = |b: &mut Body<'_>, v: u32| {
                for (i, t) in b.program.adts.field_tys(a, args, v as usize).iter().enumerate() {
                    if b.needs_drop(t) {
                        b.push(Stmt::Drop(target.project(field_proj(is_enum, v, i as u32))));
                    }
                }
            };
            if is_enum {
                b.each_variant(target, n, drop_fields);
            } else {
                drop_fields(b, 0);
            }
        }
        _ => {}
    }
}

fn clone_body(b: &mut Body<'_>, target: &Place, ty: &Ty) -> Operand {
    let usize_t = Ty::Int(IntTy::Usize);
    match ty {
        Ty::Adt(a, _) if b.program.adts.def(a).counted_handle => {
            let raw = b.emit(Ty::Int(IntTy::U64), Rvalue::Load(target.project(Proj::Field(0))));
            b.emit(Ty::Unit, Rvalue::Call(Callee::Runtime(blood_abi::CHANNEL_RETAIN), vec![raw.clone()]));
            b.emit(ty.clone(), Rvalue::Aggregate(AggregateKind::Adt { variant: 0 }, vec![raw]))
        }
        Ty::Owned(OwnedKind::Box, inner) => {
            let new = b.emit(ty.clone(), heap_rv(HeapIntrinsic::BoxAlloc, vec![]));
            let v = b.clone_of(target.project(Proj::Deref), inner);
            let Operand::Local(nl) = new else { unreachable!("emit returns a local") };
            if !inner.is_zero_sized() {
                b.push(Stmt::Store(Place::local(nl).project(Proj::Deref), v));
            }
            new
        }
        Ty::Owned(_, elem) if !b.needs_drop(elem) => {
            b.emit(ty.clone(), heap_rv(HeapIntrinsic::VecCloneBytes, vec![Operand::Local(Local(0))]))
        }
        Ty::Owned(_, elem) => {
            let new = b.emit(ty.clone(), heap_rv(HeapIntrinsic::VecNew, vec![]));
            let Operand::Local(nl) = new else { unreachable!("emit returns a local") };
            let r = b.emit(Ty::reference(ty.clone(), true), Rvalue::Ref(Place::local(nl), true));
            let len = b.emit(usize_t.clone(), Rvalue::Load(target.project(Proj::Field(VEC_LEN_FIELD))));
            b.emit(Ty::Unit, heap_rv(HeapIntrinsic::VecReserve, vec![r, len.clone()]));
            b.each_index(len, |b, i| {
                let v = b.clone_of(target.project(Proj::Deref).project(Proj::Index(i)), elem);
                let dst = Place::local(nl).project(Proj::Deref).project(Proj::Index(i));
                b.push(Stmt::Store(dst, v));
                let n = b.emit(usize_t.clone(), Rvalue::Binary(BinOp::Add, Operand::Local(i), usize_const(1)));
                b.push(Stmt::Store(Place::local(nl).project(Proj::Field(VEC_LEN_FIELD)), n));
            });
            new
        }
        Ty::Tuple(elems) => {
            let ops: Vec<Operand> =
                elems.iter().enumerate().map(|(i, t)| b.clone_of(target.project(Proj::Field(i as u32)), t)).collect();
            b.emit(ty.clone(), Rvalue::Aggregate(AggregateKind::Tuple, ops))
        }
        Ty::Array(elem, n) => {
            let ops: Vec<Operand> = (0..*n)
                .map(|i| {
                    let idx = b.emit(usize_t.clone(), Rvalue::Use(usize_const(i)));
                    let Operand::Local(idx) = idx else { unreachable!("emit returns a local") };
                    b.clone_of(target.project(Proj::Index(idx)), elem)
                })
                .collect();
            b.emit(ty.clone(), Rvalue::Aggregate(AggregateKind::Array, ops))
        }
        Ty::Adt(a, args) => {
            let def = b.program.adts.def(a);
            let (is_enum, n) = (def.is_enum, def.variants.len());
            let result = b.local(ty.clone());
            let build = |b: &mut Body<'_>, v: u32| {
                let fields = b.program.adts.field_tys(a, args, v as usize);
                let ops: Vec<Operand> = fields
                    .iter()
                    .enumerate()
                    .map(|(i, t)| b.clone_of(target.project(field_proj(is_enum, v, i as u32)), t))
                    .collect();
                b.push(Stmt::Assign(result, Rvalue::Aggregate(AggregateKind::Adt { variant: v }, ops)));
            };
            if is_enum {
                b.each_variant(target, n, build);
            } else {
                build(b, 0);
            }
            Operand::Local(result)
        }
        _ => b.emit(ty.clone(), Rvalue::Load(target.clone())),
    }
}
