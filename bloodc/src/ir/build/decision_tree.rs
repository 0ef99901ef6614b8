//! Compiling `match` to a decision tree (after Maranget, "Compiling pattern matching to good
//! decision trees", 2008), over places.
//!
//! The arms form a matrix: one row per arm (or per alternative of an or-pattern), each row a set
//! of *columns* — (place, pattern) pairs still to test — plus the bindings collected so far. A
//! node of the tree:
//! * simplifies every row: wildcards disappear, bindings are recorded, tuples, structs, `&p`
//!   and array patterns become columns for their parts (no test needed), or-patterns split the
//!   row;
//! * if the first row has no column left, it matches: its bindings are assigned and its guard
//!   evaluated; the arm's body block follows, or, when the guard fails, the tree of the
//!   remaining rows;
//! * otherwise it tests the first row's first column: an enum's tag (read once, one branch per
//!   variant that appears, then the default rows), a scalar against one literal or range, or a
//!   slice's length. Each branch continues with the rows that can still match, specialised.
//!
//! Every test is made once on each path, and values are read only after the tests that make
//! them meaningful (a variant's fields after its tag). Arm bodies are lowered once, in their own
//! blocks; leaves jump there after assigning the bindings. Loads a column needs (the pointer of
//! a `&p`, the constant index of an array element) are made in the node that introduces the
//! column and shared through a cache, so equal places stay equal across rows.

use std::collections::HashMap;

use crate::hir::{self, LocalId, Pat, PatKind};
use crate::ir::{BinOp, BlockId, Const, IntTy, Operand, Place, Proj, Rvalue, Stmt, Terminator, Ty};

use super::FnBuilder;

#[derive(Clone)]
struct Row<'p> {
    cols: Vec<(Place, &'p Pat)>,
    binds: Vec<(LocalId, Place, bool)>,
    arm: usize,
}

/// Places already derived in this subtree (deref'd pointers, constant indices).
type Cache = HashMap<(Place, u64), Place>;

impl FnBuilder<'_> {
    /// Emits the decision tree for `arms` over `scrutinee`; arm `i` continues in `arm_blocks[i]`
    /// (with its bindings assigned and its guard passed).
    pub(crate) fn lower_decision_tree(&mut self, scrutinee: &Place, arms: &[hir::MatchArm], arm_blocks: &[BlockId]) {
        let rows: Vec<Row<'_>> = arms
            .iter()
            .enumerate()
            .map(|(i, a)| Row { cols: vec![(scrutinee.clone(), &a.pat)], binds: Vec::new(), arm: i })
            .collect();
        self.match_roots.push(scrutinee.base);
        self.tree(rows, arms, arm_blocks, &mut Cache::new());
        self.match_roots.pop();
    }

    fn tree<'p>(&mut self, rows: Vec<Row<'p>>, arms: &'p [hir::MatchArm], arm_blocks: &[BlockId], cache: &mut Cache) {
        let rows = self.simplify(rows, cache);
        let Some(first) = rows.first() else {
            self.terminate(Terminator::Unreachable);
            return;
        };
        if first.cols.is_empty() {
            let first = first.clone();
            let mut pending = Vec::new();
            for (local, place, by_ref) in &first.binds {
                let l = self.map_local(*local);
                let ty = self.local_ty(l).clone();
                pending.push(super::matching::PendingBinding { local: l, place: place.clone(), by_ref: *by_ref, ty });
            }
            // Owned parts bound by value move out of the scrutinee; its rest is dropped here
            // (the arm registers its bindings in its own drop scope).
            let root = Place::local(self.match_roots.last().copied().expect("inside a match"));
            self.bind_and_drop_rest(&root, pending, false);
            match &arms[first.arm].guard {
                None => self.goto(arm_blocks[first.arm]),
                Some(guard) => {
                    self.push_scope(super::drops::ScopeKind::Temps);
                    let g = self.lower_expr(guard);
                    self.pop_scope();
                    let rest = self.new_block();
                    self.terminate(Terminator::Branch { cond: g, then_bb: arm_blocks[first.arm], else_bb: rest });
                    self.switch_to(rest);
                    self.tree(rows[1..].to_vec(), arms, arm_blocks, cache);
                }
            }
            return;
        }
        let (place, pat) = first.cols[0].clone();
        match &pat.kind {
            PatKind::Adt { .. } => self.test_variant(&rows, &place, arms, arm_blocks, cache),
            PatKind::Slice { .. } => self.test_length(&rows, &place, pat, arms, arm_blocks, cache),
            _ => self.test_scalar(&rows, &place, pat, arms, arm_blocks, cache),
        }
    }

    /// Removes wildcards, records bindings, expands single-constructor patterns into columns and
    /// splits or-patterns into rows, until every column needs a test.
    fn simplify<'p>(&mut self, rows: Vec<Row<'p>>, cache: &mut Cache) -> Vec<Row<'p>> {
        let mut out = Vec::new();
        let mut work: Vec<Row<'p>> = rows.into_iter().rev().collect();
        'rows: while let Some(mut row) = work.pop() {
            let mut i = 0;
            while i < row.cols.len() {
                let (place, pat) = row.cols[i].clone();
                let ty = super::ir_ty(&pat.ty);
                let expanded: Option<Vec<(Place, &'p Pat)>> = match &pat.kind {
                    PatKind::Wild => Some(Vec::new()),
                    PatKind::Binding { local, sub, by_ref } => {
                        row.binds.push((*local, place.clone(), *by_ref));
                        Some(sub.as_deref().map(|s| vec![(place.clone(), s)]).unwrap_or_default())
                    }
                    PatKind::Lit(_) if ty.is_zero_sized() => Some(Vec::new()),
                    PatKind::Tuple(elems) => {
                        Some(elems.iter().enumerate().map(|(j, p)| (place.project(Proj::Field(j as u32)), p)).collect())
                    }
                    PatKind::Adt { variant, fields } if !self.is_enum(&ty) => {
                        let _ = variant;
                        Some(fields.iter().map(|(j, p)| (place.project(Proj::Field(*j)), p)).collect())
                    }
                    PatKind::Deref(inner) => {
                        let target = self.deref_place(&place, &ty, cache);
                        Some(vec![(target, &**inner)])
                    }
                    PatKind::Slice { prefix, suffix, .. } if matches!(ty, Ty::Array(..)) => {
                        let Ty::Array(_, n) = ty else { unreachable!("matched above") };
                        let mut cols = Vec::new();
                        for (j, p) in prefix.iter().enumerate() {
                            cols.push((self.const_index(&place, j as u64, cache), p));
                        }
                        for (j, p) in suffix.iter().enumerate() {
                            let at = n - (suffix.len() - j) as u64;
                            cols.push((self.const_index(&place, at, cache), p));
                        }
                        Some(cols)
                    }
                    PatKind::Or(alts) => {
                        // One row per alternative, in order; they share the arm.
                        for alt in alts.iter().rev() {
                            let mut r = row.clone();
                            r.cols[i] = (place.clone(), alt);
                            work.push(r);
                        }
                        continue 'rows;
                    }
                    _ => None,
                };
                match expanded {
                    Some(cols) => {
                        row.cols.splice(i..=i, cols);
                    }
                    None => i += 1,
                }
            }
            out.push(row);
        }
        out
    }

    fn is_enum(&self, ty: &Ty) -> bool {
        matches!(ty, Ty::Adt(a, _) if self.program.adts.def(a).is_enum)
    }

    /// `*place` for a reference-typed place, loading the pointer once per subtree.
    fn deref_place(&mut self, place: &Place, ty: &Ty, cache: &mut Cache) -> Place {
        let key = (place.clone(), u64::MAX);
        if let Some(p) = cache.get(&key) {
            return p.clone();
        }
        let ptr = self.read_place(place.clone(), ty);
        let local = self.operand_to_local(ptr, ty);
        let target = Place::local(local).project(Proj::Deref);
        cache.insert(key, target.clone());
        target
    }

    /// `place[k]` for a constant `k`, with the index local shared per subtree.
    fn const_index(&mut self, place: &Place, k: u64, cache: &mut Cache) -> Place {
        let key = (place.clone(), k);
        if let Some(p) = cache.get(&key) {
            return p.clone();
        }
        let idx = self.temp(Ty::Int(IntTy::Usize));
        self.push(Stmt::Assign(idx, Rvalue::Use(Operand::Const(Const::Int { bits: u128::from(k), ty: IntTy::Usize }))));
        let p = place.project(Proj::Index(idx));
        cache.insert(key, p.clone());
        p
    }

    /// Branches on an enum's tag: one branch per variant some row tests, then the rows that
    /// accept any variant.
    fn test_variant<'p>(
        &mut self,
        rows: &[Row<'p>],
        place: &Place,
        arms: &'p [hir::MatchArm],
        arm_blocks: &[BlockId],
        cache: &mut Cache,
    ) {
        let tag_ty = Ty::Int(crate::types::TAG_REPR);
        let tag = self.emit(tag_ty, Rvalue::Discriminant(place.clone()));
        let mut variants: Vec<u32> = Vec::new();
        for row in rows {
            if let Some((_, p)) = row.cols.iter().find(|(pl, _)| pl == place)
                && let PatKind::Adt { variant, .. } = p.kind
                && !variants.contains(&variant)
            {
                variants.push(variant);
            }
        }
        let default: Vec<Row<'p>> =
            rows.iter().filter(|r| !r.cols.iter().any(|(pl, _)| pl == place)).cloned().collect();
        let count = variants.len();
        for (n, v) in variants.into_iter().enumerate() {
            let specialized: Vec<Row<'p>> = rows
                .iter()
                .filter_map(|row| match row.cols.iter().position(|(pl, _)| pl == place) {
                    None => Some(row.clone()),
                    Some(k) => match &row.cols[k].1.kind {
                        PatKind::Adt { variant, fields } if *variant == v => {
                            let mut r = row.clone();
                            let cols = fields
                                .iter()
                                .map(|(j, p)| (place.project(Proj::VariantField { variant: v, field: *j }), p))
                                .collect::<Vec<_>>();
                            r.cols.splice(k..=k, cols);
                            Some(r)
                        }
                        _ => None,
                    },
                })
                .collect();
            if n + 1 == count && default.is_empty() {
                // The match is exhaustive and no row accepts other variants: the last one needs
                // no test.
                self.tree(specialized, arms, arm_blocks, cache);
                return;
            }
            let want = Operand::Const(Const::Int { bits: u128::from(v), ty: crate::types::TAG_REPR });
            let is_v = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Eq, tag.clone(), want));
            self.branch_into(is_v, specialized, arms, arm_blocks, cache);
        }
        self.tree(default, arms, arm_blocks, cache);
    }

    /// Tests a scalar place against the first row's literal or range.
    fn test_scalar<'p>(
        &mut self,
        rows: &[Row<'p>],
        place: &Place,
        pat: &Pat,
        arms: &'p [hir::MatchArm],
        arm_blocks: &[BlockId],
        cache: &mut Cache,
    ) {
        let ty = super::ir_ty(&pat.ty);
        let tested = crate::typeck::pattern_ordinals(pat);
        let value = self.read_place(place.clone(), &ty);
        let cond = match &pat.kind {
            PatKind::Lit(lit) => {
                let c = self.pattern_const(lit, &pat.ty);
                self.emit(Ty::Bool, Rvalue::Binary(BinOp::Eq, value, c))
            }
            PatKind::Range { lo, hi, inclusive } => {
                let lo = self.pattern_const(lo, &pat.ty);
                let hi = self.pattern_const(hi, &pat.ty);
                let ge = self.emit(Ty::Bool, Rvalue::Binary(BinOp::Ge, value.clone(), lo));
                let upper = if *inclusive { BinOp::Le } else { BinOp::Lt };
                let le = self.emit(Ty::Bool, Rvalue::Binary(upper, value, hi));
                self.emit(Ty::Bool, Rvalue::Binary(BinOp::BitAnd, ge, le))
            }
            _ => Operand::Const(Const::Bool(true)),
        };
        let (mut yes, mut no) = (Vec::new(), Vec::new());
        for row in rows {
            let Some(k) = row.cols.iter().position(|(pl, _)| pl == place) else {
                yes.push(row.clone());
                no.push(row.clone());
                continue;
            };
            let set = crate::typeck::pattern_ordinals(row.cols[k].1);
            // Matched values are in `tested`: a row whose set contains them all matches for
            // sure; a disjoint one cannot; others still need their own test.
            if tested.subtract(&set).is_empty() {
                let mut r = row.clone();
                r.cols.remove(k);
                yes.push(r);
            } else if !set.subtract(&tested).eq(&set) {
                yes.push(row.clone());
            }
            // Unmatched values are outside `tested`: a row inside it cannot match them.
            if !set.subtract(&tested).is_empty() {
                no.push(row.clone());
            }
        }
        self.branch_on(cond, yes, no, arms, arm_blocks, cache);
    }

    /// Continues with `yes` where `cond` holds and `no` elsewhere; with no rows left for the
    /// other case (the match is exhaustive), the test is skipped.
    fn branch_on<'p>(
        &mut self,
        cond: Operand,
        yes: Vec<Row<'p>>,
        no: Vec<Row<'p>>,
        arms: &'p [hir::MatchArm],
        arm_blocks: &[BlockId],
        cache: &mut Cache,
    ) {
        if no.is_empty() {
            self.tree(yes, arms, arm_blocks, cache);
            return;
        }
        self.branch_into(cond, yes, arms, arm_blocks, cache);
        self.tree(no, arms, arm_blocks, cache);
    }

    /// Emits the subtree of `rows` where `cond` holds and continues in the block where it does
    /// not. The subtree gets its own copy of the cache: what it loads does not dominate the
    /// other side.
    fn branch_into<'p>(
        &mut self,
        cond: Operand,
        rows: Vec<Row<'p>>,
        arms: &'p [hir::MatchArm],
        arm_blocks: &[BlockId],
        cache: &Cache,
    ) {
        let (then_bb, else_bb) = (self.new_block(), self.new_block());
        self.terminate(Terminator::Branch { cond, then_bb, else_bb });
        self.switch_to(then_bb);
        self.tree(rows, arms, arm_blocks, &mut cache.clone());
        self.switch_to(else_bb);
    }

    /// Tests a slice's length against the first row's slice pattern.
    fn test_length<'p>(
        &mut self,
        rows: &[Row<'p>],
        place: &Place,
        pat: &Pat,
        arms: &'p [hir::MatchArm],
        arm_blocks: &[BlockId],
        cache: &mut Cache,
    ) {
        let PatKind::Slice { prefix, rest, suffix } = &pat.kind else { return };
        let (n, at_least) = ((prefix.len() + suffix.len()) as u64, *rest);
        let usize_t = Ty::Int(IntTy::Usize);
        let len = self.emit(usize_t.clone(), Rvalue::Len(place.clone()));
        let want = Operand::Const(Const::Int { bits: u128::from(n), ty: IntTy::Usize });
        let op = if at_least { BinOp::Ge } else { BinOp::Eq };
        let cond = self.emit(Ty::Bool, Rvalue::Binary(op, len.clone(), want));
        let (mut yes, mut no) = (Vec::new(), Vec::new());
        for row in rows {
            let Some(k) = row.cols.iter().position(|(pl, _)| pl == place) else {
                yes.push(row.clone());
                no.push(row.clone());
                continue;
            };
            let PatKind::Slice { prefix: p2, rest: r2, suffix: s2 } = &row.cols[k].1.kind else { continue };
            let m = (p2.len() + s2.len()) as u64;
            // What the row's length condition says in each branch of the test (`implied`: it
            // holds whenever the test passes, so its elements can be read there).
            let implied = match (at_least, *r2) {
                (false, false) => m == n,
                (false, true) | (true, true) => m <= n,
                (true, false) => false,
            };
            let possible_if_yes = match (at_least, *r2) {
                (false, false) => m == n,
                (false, true) => m <= n,
                (true, false) => m >= n,
                (true, true) => true,
            };
            let possible_if_no = match (at_least, *r2) {
                (false, false) => m != n,
                (false, true) => true,
                (true, _) => m < n,
            };
            if implied {
                let mut r = row.clone();
                let mut cols = Vec::new();
                for (j, p) in p2.iter().enumerate() {
                    cols.push((self.const_index(place, j as u64, &mut cache.clone()), p));
                }
                for (j, p) in s2.iter().enumerate() {
                    let back = Operand::Const(Const::Int { bits: (s2.len() - j) as u128, ty: IntTy::Usize });
                    let idx_v = self.emit(usize_t.clone(), Rvalue::Binary(BinOp::Sub, len.clone(), back));
                    let idx = self.operand_to_local(idx_v, &usize_t);
                    cols.push((place.project(Proj::Index(idx)), p));
                }
                r.cols.splice(k..=k, cols);
                yes.push(r);
            } else if possible_if_yes {
                yes.push(row.clone());
            }
            if possible_if_no {
                no.push(row.clone());
            }
        }
        self.branch_on(cond, yes, no, arms, arm_blocks, cache);
    }
}
