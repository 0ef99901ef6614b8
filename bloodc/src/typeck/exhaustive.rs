//! Exhaustiveness and reachability of `match` arms over scalar types.
//!
//! Each scalar type is a finite, ordered domain: `bool` is {0, 1}, an integer type its full
//! range, `char` the Unicode scalar values (two intervals around the surrogates), `()` one value.
//! A pattern denotes a set of values, kept as sorted disjoint inclusive intervals
//! ([`IntervalSet`]). Signed integers are mapped to an unsigned order by flipping the sign bit,
//! so every domain lives in `u128`.
//!
//! An arm is unreachable when its set is contained in the union of the earlier *unguarded* arms
//! (a guard may fail, so a guarded arm covers nothing); the match is exhaustive when the union
//! of all unguarded arms is the whole domain. Types without a finite domain here (floats, `&str`)
//! need a catch-all arm (`_` or a binding). Structural patterns will extend this to the usual
//! pattern-matrix usefulness algorithm; for one scalar column it reduces to interval arithmetic.

use crate::hir::{Lit, Pat, PatKind};
use crate::types::{IntTy, Ty};

/// Sorted, disjoint, non-adjacent inclusive intervals.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct IntervalSet(Vec<(u128, u128)>);

impl IntervalSet {
    pub fn single(lo: u128, hi: u128) -> IntervalSet {
        if lo > hi { IntervalSet::default() } else { IntervalSet(vec![(lo, hi)]) }
    }

    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        let mut all: Vec<(u128, u128)> = self.0.iter().chain(other.0.iter()).copied().collect();
        all.sort_unstable();
        let mut out: Vec<(u128, u128)> = Vec::new();
        for (lo, hi) in all {
            match out.last_mut() {
                Some((_, last_hi)) if lo <= last_hi.saturating_add(1) => *last_hi = (*last_hi).max(hi),
                _ => out.push((lo, hi)),
            }
        }
        IntervalSet(out)
    }

    /// `self` minus `other`.
    pub fn subtract(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = Vec::new();
        for &(lo, hi) in &self.0 {
            let mut cur = lo;
            let mut done = false;
            for &(olo, ohi) in &other.0 {
                if ohi < cur || olo > hi {
                    continue;
                }
                if olo > cur {
                    out.push((cur, olo - 1));
                }
                if ohi >= hi {
                    done = true;
                    break;
                }
                cur = ohi + 1;
            }
            if !done {
                out.push((cur, hi));
            }
        }
        IntervalSet(out)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn first(&self) -> Option<(u128, u128)> {
        self.0.first().copied()
    }

    pub fn intervals(&self) -> impl Iterator<Item = (u128, u128)> + '_ {
        self.0.iter().copied()
    }
}

/// A range of a scalar domain in source syntax (an enum value by its variant name).
pub(crate) fn describe_range(ty: &Ty, lo: u128, hi: u128, variants: Option<&[(String, i128)]>) -> String {
    match variants {
        Some(vs) => vs.iter().find(|(_, v)| enum_ordinal(*v) == lo).map_or("_".to_string(), |(n, _)| n.clone()),
        None => {
            let d = describe(ty, lo, hi);
            d.trim_matches('`').to_string()
        }
    }
}

/// The finite domain of a scalar type, or `None` if only a catch-all covers it. `variants` are
/// the discriminants of an enum type.
pub(crate) fn domain(ty: &Ty, variants: Option<&[(String, i128)]>) -> Option<IntervalSet> {
    if let (Ty::Enum(_), Some(vs)) = (ty, variants) {
        let mut set = IntervalSet::default();
        for (_, d) in vs {
            let o = enum_ordinal(*d);
            set = set.union(&IntervalSet::single(o, o));
        }
        return Some(set);
    }
    match ty {
        Ty::Bool => Some(IntervalSet::single(0, 1)),
        Ty::Unit => Some(IntervalSet::single(0, 0)),
        Ty::Char => Some(IntervalSet(vec![(0, 0xD7FF), (0xE000, 0x10FFFF)])),
        Ty::Int(int) => {
            Some(IntervalSet::single(0, if int.bits() == 128 { u128::MAX } else { (1u128 << int.bits()) - 1 }))
        }
        _ => None,
    }
}

/// The position of a literal in its type's ordered domain.
pub(crate) fn ordinal(lit: &Lit, ty: &Ty) -> Option<u128> {
    match (lit, ty) {
        (Lit::Bool(b), _) => Some(u128::from(*b)),
        (Lit::Char(c), _) => Some(u128::from(*c as u32)),
        (Lit::Unit, _) => Some(0),
        (Lit::Int { negative, magnitude }, Ty::Enum(_)) => {
            Some(enum_ordinal(if *negative { -(*magnitude as i128) } else { *magnitude as i128 }))
        }
        (Lit::Int { negative, magnitude }, Ty::Int(int)) => {
            let bits = int.truncate(if *negative { magnitude.wrapping_neg() } else { *magnitude });
            Some(if int.is_signed() { bits ^ (1u128 << (int.bits() - 1)) } else { bits })
        }
        _ => None,
    }
}

fn enum_ordinal(discriminant: i128) -> u128 {
    let repr = crate::types::ENUM_REPR;
    repr.truncate(discriminant as u128) ^ (1u128 << (repr.bits() - 1))
}

/// The set of values a pattern matches, or `None` for "everything" (a catch-all).
pub(crate) fn pattern_set(pat: &Pat, ty: &Ty) -> Option<IntervalSet> {
    match &pat.kind {
        PatKind::Wild => None,
        PatKind::Binding { sub, .. } => sub.as_ref().and_then(|s| pattern_set(s, ty)),
        PatKind::Lit(l) => Some(ordinal(l, ty).map_or_else(IntervalSet::default, |v| IntervalSet::single(v, v))),
        PatKind::Range { lo, hi, inclusive } => {
            let (Some(lo), Some(hi)) = (ordinal(lo, ty), ordinal(hi, ty)) else { return Some(IntervalSet::default()) };
            if *inclusive {
                Some(IntervalSet::single(lo, hi))
            } else if hi == 0 {
                Some(IntervalSet::default())
            } else {
                Some(IntervalSet::single(lo, hi - 1))
            }
        }
        PatKind::Or(alts) => {
            let mut acc = IntervalSet::default();
            for a in alts {
                acc = acc.union(&pattern_set(a, ty)?);
            }
            Some(acc)
        }
        // Structured patterns never reach the scalar check (see `usefulness.rs`).
        PatKind::Tuple(_) | PatKind::Adt { .. } | PatKind::Deref(_) | PatKind::Slice { .. } => None,
    }
}

/// The verdict on one `match`.
pub(crate) struct MatchCheck {
    /// Indices of arms no value can reach.
    pub unreachable: Vec<usize>,
    /// A description of values no arm covers (`None` if exhaustive).
    pub missing: Option<String>,
}

/// Checks arms `(pattern, has_guard)` of a match on `ty`.
pub(crate) fn check_arms(ty: &Ty, arms: &[(Pat, bool)], variants: Option<&[(String, i128)]>) -> MatchCheck {
    let domain = domain(ty, variants);
    let mut covered = IntervalSet::default();
    let mut everything = false;
    let mut unreachable = Vec::new();
    for (i, (pat, guarded)) in arms.iter().enumerate() {
        let set = pattern_set(pat, ty);
        let redundant = everything
            || match (&set, &domain) {
                (Some(s), _) => s.subtract(&covered).is_empty(),
                (None, Some(d)) => d.subtract(&covered).is_empty(),
                (None, None) => false,
            };
        if redundant {
            unreachable.push(i);
        }
        if *guarded {
            continue;
        }
        match set {
            Some(s) => covered = covered.union(&s),
            None => everything = true,
        }
    }
    let missing = if everything {
        None
    } else {
        match &domain {
            Some(d) => d.subtract(&covered).first().map(|(lo, hi)| match variants {
                Some(vs) => {
                    let name = vs.iter().find(|(_, v)| enum_ordinal(*v) == lo).map_or("_", |(n, _)| n.as_str());
                    format!("`{name}`")
                }
                None => describe(ty, lo, hi),
            }),
            None => Some("`_`".to_string()),
        }
    };
    MatchCheck { unreachable, missing }
}

/// `` `5_i32` ``, `` `i32::MIN..=-1_i32` ``, `` `false` ``, `` `'a'..='z'` ``.
fn describe(ty: &Ty, lo: u128, hi: u128) -> String {
    let one = |v: u128| value_text(ty, v);
    if lo == hi { format!("`{}`", one(lo)) } else { format!("`{}..={}`", one(lo), one(hi)) }
}

fn value_text(ty: &Ty, v: u128) -> String {
    match ty {
        Ty::Bool => (v == 1).to_string(),
        Ty::Unit => "()".to_string(),
        Ty::Char => {
            char::from_u32(v as u32).map_or_else(|| format!("'\\u{{{v:x}}}'"), |c| format!("'{}'", c.escape_debug()))
        }
        Ty::Int(int) => int_text(*int, v),
        _ => "_".to_string(),
    }
}

fn int_text(int: IntTy, ordinal: u128) -> String {
    let bits = int.bits();
    let max = if bits == 128 { u128::MAX } else { (1u128 << bits) - 1 };
    if int.is_signed() {
        let raw = ordinal ^ (1u128 << (bits - 1));
        let value = ((raw << (128 - bits)) as i128) >> (128 - bits);
        if ordinal == 0 {
            return format!("{}::MIN", int.name());
        }
        if ordinal == max {
            return format!("{}::MAX", int.name());
        }
        format!("{value}_{}", int.name())
    } else if ordinal == max {
        format!("{}::MAX", int.name())
    } else {
        format!("{ordinal}_{}", int.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_arithmetic() {
        let a = IntervalSet::single(0, 10).union(&IntervalSet::single(11, 20));
        assert_eq!(a, IntervalSet::single(0, 20));
        let holes = IntervalSet::single(0, 20).subtract(&IntervalSet::single(5, 7));
        assert_eq!(holes, IntervalSet(vec![(0, 4), (8, 20)]));
        assert!(IntervalSet::single(3, 4).subtract(&holes.union(&IntervalSet::single(5, 7))).is_empty());
        let full = IntervalSet::single(0, u128::MAX);
        assert!(full.subtract(&IntervalSet::single(0, u128::MAX)).is_empty());
        assert_eq!(full.subtract(&IntervalSet::single(1, u128::MAX)), IntervalSet::single(0, 0));
    }

    #[test]
    fn signed_values_are_ordered_and_named() {
        let i8t = Ty::Int(IntTy::I8);
        let m = ordinal(&Lit::Int { negative: true, magnitude: 128 }, &i8t).unwrap();
        let z = ordinal(&Lit::Int { negative: false, magnitude: 0 }, &i8t).unwrap();
        let p = ordinal(&Lit::Int { negative: false, magnitude: 127 }, &i8t).unwrap();
        assert!(m < z && z < p);
        assert_eq!(describe(&i8t, m, z - 1), "`i8::MIN..=-1_i8`");
        assert_eq!(describe(&i8t, p, p), "`i8::MAX`");
    }
}
