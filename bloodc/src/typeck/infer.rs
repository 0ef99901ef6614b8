//! Inference variables and unification.
//!
//! Inference is local to one function body (LANGUAGE.md §3.3): integer and float literals start
//! as `{integer}`/`{float}` variables that unify only with integer/float types and default to
//! `i32`/`f64` when nothing constrains them. The table is a plain union-find over variable ids
//! with an optional binding per root.

use crate::types::{FloatTy, InferKind, InferVar, IntTy, Ty};

#[derive(Default)]
pub struct InferTable {
    /// `parent[v]`: union-find parent of variable `v`.
    parent: Vec<u32>,
    /// Kind of each variable (meaningful at roots).
    kind: Vec<InferKind>,
    /// Binding of each root, if any.
    binding: Vec<Option<Ty>>,
}

impl InferTable {
    pub fn fresh(&mut self, kind: InferKind) -> Ty {
        let id = self.parent.len() as u32;
        self.parent.push(id);
        self.kind.push(kind);
        self.binding.push(None);
        Ty::Infer(InferVar { id, kind })
    }

    fn root(&mut self, v: u32) -> u32 {
        let mut r = v;
        while self.parent[r as usize] != r {
            r = self.parent[r as usize];
        }
        // Path compression.
        let mut c = v;
        while self.parent[c as usize] != r {
            let next = self.parent[c as usize];
            self.parent[c as usize] = r;
            c = next;
        }
        r
    }

    /// Follows bindings until a concrete type or an unbound root variable.
    pub fn shallow_resolve(&mut self, ty: &Ty) -> Ty {
        match ty {
            Ty::Infer(v) => {
                let r = self.root(v.id);
                match &self.binding[r as usize] {
                    Some(t) => t.clone(),
                    None => Ty::Infer(InferVar { id: r, kind: self.kind[r as usize] }),
                }
            }
            t => t.clone(),
        }
    }

    /// Unifies two types; returns false (and changes nothing) if they cannot be equal.
    pub fn unify(&mut self, a: &Ty, b: &Ty) -> bool {
        let a = self.shallow_resolve(a);
        let b = self.shallow_resolve(b);
        match (&a, &b) {
            (Ty::Error, _) | (_, Ty::Error) => true,
            (Ty::Infer(x), Ty::Infer(y)) => {
                if x.id == y.id {
                    return true;
                }
                let kind = match (x.kind, y.kind) {
                    (InferKind::General, k) | (k, InferKind::General) => k,
                    (k1, k2) if k1 == k2 => k1,
                    _ => return false,
                };
                self.parent[x.id as usize] = y.id;
                self.kind[y.id as usize] = kind;
                true
            }
            (Ty::Infer(v), t) | (t, Ty::Infer(v)) => {
                let ok = match v.kind {
                    InferKind::General => !self.occurs(v.id, t),
                    InferKind::Int => matches!(t, Ty::Int(_)),
                    InferKind::Float => matches!(t, Ty::Float(_)),
                };
                if ok {
                    self.binding[v.id as usize] = Some(t.clone());
                }
                ok
            }
            (Ty::Tuple(xs), Ty::Tuple(ys)) => {
                xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(x, y)| self.unify(x, y))
            }
            (Ty::Array(x, n), Ty::Array(y, m)) => n == m && self.unify(x, y),
            (Ty::Slice(x), Ty::Slice(y)) => self.unify(x, y),
            (Ty::Ref(x, mx), Ty::Ref(y, my)) => mx == my && self.unify(x, y),
            // Rows are checked by `coerce`, not unified (see `types::Effects`).
            (Ty::Fn(xs, xr, _), Ty::Fn(ys, yr, _)) => {
                xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(x, y)| self.unify(x, y)) && self.unify(xr, yr)
            }
            (Ty::Owned(kx, x), Ty::Owned(ky, y)) => kx == ky && self.unify(x, y),
            (Ty::Adt(a, xs), Ty::Adt(b, ys)) => {
                a.id == b.id && xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(x, y)| self.unify(x, y))
            }
            (x, y) => x == y,
        }
    }

    /// Whether variable `v` occurs in `ty` (binding it there would make an infinite type).
    fn occurs(&mut self, v: u32, ty: &Ty) -> bool {
        match self.shallow_resolve(ty) {
            Ty::Infer(w) => self.root(w.id) == self.root(v),
            t => t.any_child(&mut |x| self.occurs(v, x)),
        }
    }

    /// Resolves a type and everything inside it, applying literal defaults; unconstrained
    /// general variables stay `Infer`.
    pub fn resolve_deep(&mut self, ty: &Ty) -> Ty {
        self.resolve_with_defaults(ty).map_children(&mut |x| self.resolve_deep(x))
    }

    /// Resolves a type and everything inside it as far as current bindings go, without applying
    /// literal defaults (safe in the middle of inference).
    pub fn resolve_bound(&mut self, ty: &Ty) -> Ty {
        self.shallow_resolve(ty).map_children(&mut |x| self.resolve_bound(x))
    }

    /// Whether a fully resolved type still contains an inference variable.
    pub fn has_infer(ty: &Ty) -> bool {
        matches!(ty, Ty::Infer(_)) || ty.any_child(&mut InferTable::has_infer)
    }

    /// Resolves a type completely, applying the literal defaults (`i32`, `f64`). Unconstrained
    /// general variables stay `Infer` (the caller reports "cannot infer type").
    pub fn resolve_with_defaults(&mut self, ty: &Ty) -> Ty {
        match self.shallow_resolve(ty) {
            Ty::Infer(v) => match v.kind {
                InferKind::Int => {
                    self.binding[v.id as usize] = Some(Ty::Int(IntTy::I32));
                    Ty::Int(IntTy::I32)
                }
                InferKind::Float => {
                    self.binding[v.id as usize] = Some(Ty::Float(FloatTy::F64));
                    Ty::Float(FloatTy::F64)
                }
                InferKind::General => Ty::Infer(v),
            },
            t => t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_var_unifies_with_int_types_only() {
        let mut t = InferTable::default();
        let v = t.fresh(InferKind::Int);
        assert!(!t.unify(&v, &Ty::Bool));
        assert!(t.unify(&v, &Ty::Int(IntTy::U8)));
        assert_eq!(t.shallow_resolve(&v), Ty::Int(IntTy::U8));
        assert!(!t.unify(&v, &Ty::Int(IntTy::I64)));
    }

    #[test]
    fn literal_defaults_apply_through_unions() {
        let mut t = InferTable::default();
        let a = t.fresh(InferKind::Int);
        let b = t.fresh(InferKind::General);
        assert!(t.unify(&b, &a));
        assert_eq!(t.resolve_with_defaults(&b), Ty::Int(IntTy::I32));
        let f = t.fresh(InferKind::Float);
        assert!(!t.unify(&f, &a));
        assert_eq!(t.resolve_with_defaults(&f), Ty::Float(FloatTy::F64));
    }
}
