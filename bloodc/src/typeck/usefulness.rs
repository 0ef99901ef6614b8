//! Exhaustiveness and reachability for structured patterns: the usefulness algorithm of
//! Maranget ("Warnings for pattern matching", 2007), as rustc uses it.
//!
//! A pattern vector `v` is *useful* with respect to a matrix of earlier rows when some value
//! matches `v` and no row. An arm is unreachable when its pattern is not useful with respect to
//! the earlier unguarded arms; a match is exhaustive when the wildcard is not useful with respect
//! to all unguarded arms (and the value that makes it useful is the reported witness).
//!
//! Constructors per type: one per variant of an enum; a single one for tuples, structs,
//! references and arrays; one per length for slices (lengths beyond the longest pattern are
//! grouped into "that many or more"); for scalars, intervals of the value domain
//! (`exhaustive.rs`), split at every bound that appears in the column so that each piece is
//! either wholly inside or wholly outside every pattern. Floats and strings have no finite
//! signature: only a wildcard covers them.

use super::exhaustive::{self, IntervalSet};
use crate::hir::{Pat, PatKind};
use crate::types::{AdtTable, Ty};

/// What the algorithm needs to know about types.
pub(crate) struct TyCx<'a> {
    pub adts: &'a AdtTable,
    /// Discriminants of the fieldless enums, by enum id.
    pub enums: &'a [Vec<(String, i128)>],
}

#[derive(Clone, Debug, PartialEq)]
enum Ctor {
    /// The only constructor of a tuple, struct, reference or array (with its arity).
    Single,
    Variant(u32),
    /// Scalar values with ordinals in `lo..=hi`.
    Range(u128, u128),
    /// A slice of exactly this length.
    SliceLen(usize),
    /// A slice of at least this length (arity: the length).
    SliceAtLeast(usize),
}

/// A pattern reduced to constructor applications.
#[derive(Clone, Debug)]
enum DPat {
    Wild,
    Ctor(Ctor, Vec<DPat>),
    /// Scalar patterns: the set of ordinals they match.
    Set(IntervalSet),
    /// A slice pattern: prefix, optional rest, suffix.
    Slice(Vec<DPat>, bool, Vec<DPat>),
    Or(Vec<DPat>),
}

/// The verdict on one `match`.
pub(crate) struct MatchCheck {
    pub unreachable: Vec<usize>,
    pub missing: Option<String>,
}

pub(crate) fn check_arms(cx: &TyCx<'_>, ty: &Ty, arms: &[(Pat, bool)]) -> MatchCheck {
    let mut rows: Vec<Vec<DPat>> = Vec::new();
    let mut unreachable = Vec::new();
    for (i, (pat, guarded)) in arms.iter().enumerate() {
        let d = lower(cx, pat);
        if is_useful(cx, &rows, std::slice::from_ref(&d), std::slice::from_ref(ty)).is_none() {
            unreachable.push(i);
        }
        if !guarded {
            rows.push(vec![d]);
        }
    }
    let missing =
        is_useful(cx, &rows, &[DPat::Wild], std::slice::from_ref(ty)).map(|w| format!("`{}`", show(cx, &w[0], ty)));
    MatchCheck { unreachable, missing }
}

fn lower(cx: &TyCx<'_>, pat: &Pat) -> DPat {
    let d = lower_unchecked(cx, pat);
    // A pattern whose shape does not fit its type was already reported; it covers nothing
    // specific, so treat it as a wildcard rather than confuse the algorithm.
    match &d {
        DPat::Ctor(c, subs) if field_tys(cx, &pat.ty, c).len() != subs.len() => DPat::Wild,
        _ => d,
    }
}

fn lower_unchecked(cx: &TyCx<'_>, pat: &Pat) -> DPat {
    match &pat.kind {
        PatKind::Wild => DPat::Wild,
        PatKind::Binding { sub: None, .. } => DPat::Wild,
        PatKind::Binding { sub: Some(s), .. } => lower(cx, s),
        PatKind::Lit(l) => match exhaustive::ordinal(l, &pat.ty) {
            Some(v) => DPat::Set(IntervalSet::single(v, v)),
            None => DPat::Set(IntervalSet::default()),
        },
        PatKind::Range { lo, hi, inclusive } => {
            match (exhaustive::ordinal(lo, &pat.ty), exhaustive::ordinal(hi, &pat.ty)) {
                (Some(l), Some(h)) if *inclusive => DPat::Set(IntervalSet::single(l, h)),
                (Some(l), Some(h)) if h > 0 => DPat::Set(IntervalSet::single(l, h - 1)),
                _ => DPat::Set(IntervalSet::default()),
            }
        }
        PatKind::Or(alts) => DPat::Or(alts.iter().map(|a| lower(cx, a)).collect()),
        PatKind::Tuple(elems) => DPat::Ctor(Ctor::Single, elems.iter().map(|p| lower(cx, p)).collect()),
        PatKind::Deref(inner) => DPat::Ctor(Ctor::Single, vec![lower(cx, inner)]),
        PatKind::Adt { variant, fields } => {
            let arity = field_tys(cx, &pat.ty, &ctor_of_adt(cx, &pat.ty, *variant)).len();
            let mut subs = vec![DPat::Wild; arity];
            for (i, p) in fields {
                if (*i as usize) < arity {
                    subs[*i as usize] = lower(cx, p);
                }
            }
            DPat::Ctor(ctor_of_adt(cx, &pat.ty, *variant), subs)
        }
        PatKind::Slice { prefix, rest, suffix } => {
            let pre: Vec<DPat> = prefix.iter().map(|p| lower(cx, p)).collect();
            let suf: Vec<DPat> = suffix.iter().map(|p| lower(cx, p)).collect();
            match &pat.ty {
                // On an array, a slice pattern is the single constructor with N fields.
                Ty::Array(_, n) => {
                    let n = *n as usize;
                    let mut subs = pre;
                    while subs.len() + suf.len() < n {
                        subs.push(DPat::Wild);
                    }
                    subs.extend(suf);
                    DPat::Ctor(Ctor::Single, subs)
                }
                _ => DPat::Slice(pre, *rest, suf),
            }
        }
    }
}

fn ctor_of_adt(cx: &TyCx<'_>, ty: &Ty, variant: u32) -> Ctor {
    match ty {
        Ty::Adt(a, _) if cx.adts.def(a).is_enum => Ctor::Variant(variant),
        _ => Ctor::Single,
    }
}

/// The types of the fields of `ctor` applied at type `ty`.
fn field_tys(cx: &TyCx<'_>, ty: &Ty, ctor: &Ctor) -> Vec<Ty> {
    match (ty, ctor) {
        (Ty::Tuple(elems), Ctor::Single) => elems.to_vec(),
        (Ty::Ref(inner, _), Ctor::Single) => vec![(**inner).clone()],
        (Ty::Array(elem, n), Ctor::Single) => vec![(**elem).clone(); *n as usize],
        (Ty::Adt(a, args), Ctor::Single) => cx.adts.field_tys(a, args, 0),
        (Ty::Adt(a, args), Ctor::Variant(v)) => cx.adts.field_tys(a, args, *v as usize),
        (Ty::Slice(elem), Ctor::SliceLen(n) | Ctor::SliceAtLeast(n)) => vec![(**elem).clone(); *n],
        _ => Vec::new(),
    }
}

/// The scalar domain of `ty`, if it is a scalar type with a finite one.
fn scalar_domain(cx: &TyCx<'_>, ty: &Ty) -> Option<IntervalSet> {
    match ty {
        Ty::Enum(e) => exhaustive::domain(ty, Some(&cx.enums[e.id as usize])),
        Ty::Bool | Ty::Unit | Ty::Char | Ty::Int(_) => exhaustive::domain(ty, None),
        _ => None,
    }
}

/// Specialises a row by `ctor` (of arity `arity`): the row's sub-patterns if its head matches
/// every value built by `ctor`, `None` if it matches none. Or-patterns are expanded by the caller.
fn specialize(head: &DPat, ctor: &Ctor, arity: usize) -> Option<Vec<DPat>> {
    match head {
        DPat::Wild => Some(vec![DPat::Wild; arity]),
        DPat::Ctor(c, subs) => (c == ctor).then(|| subs.clone()),
        DPat::Set(set) => match ctor {
            Ctor::Range(lo, hi) => IntervalSet::single(*lo, *hi).subtract(set).is_empty().then(Vec::new),
            _ => None,
        },
        DPat::Slice(pre, rest, suf) => {
            let len = match ctor {
                Ctor::SliceLen(n) => *n,
                Ctor::SliceAtLeast(n) if *rest => *n,
                _ => return None,
            };
            let fixed = pre.len() + suf.len();
            if (!*rest && fixed != len) || fixed > len {
                return None;
            }
            let mut out = pre.clone();
            out.extend(std::iter::repeat_n(DPat::Wild, len - fixed));
            out.extend(suf.iter().cloned());
            Some(out)
        }
        DPat::Or(_) => unreachable!("or-patterns are expanded before specialising"),
    }
}

/// Expands or-patterns at the head of each row.
fn expand_rows(rows: &[Vec<DPat>]) -> Vec<Vec<DPat>> {
    let mut out = Vec::new();
    for row in rows {
        match &row[0] {
            DPat::Or(alts) => {
                let expanded: Vec<Vec<DPat>> = alts
                    .iter()
                    .map(|a| {
                        let mut r = vec![a.clone()];
                        r.extend(row[1..].iter().cloned());
                        r
                    })
                    .collect();
                out.extend(expand_rows(&expanded));
            }
            _ => out.push(row.clone()),
        }
    }
    out
}

/// The constructors to try for the head column when `v`'s head is a wildcard: the type's whole
/// signature (split against the column), and whether the column's constructors cover it.
fn split_signature(cx: &TyCx<'_>, ty: &Ty, heads: &[&DPat]) -> (Vec<Ctor>, bool) {
    if let Some(domain) = scalar_domain(cx, ty) {
        let pieces = split_ranges(&domain, heads);
        let covered = pieces.iter().all(|c| heads.iter().any(|h| specialize(h, c, 0).is_some() && !is_wild(h)));
        return (pieces, covered);
    }
    match ty {
        Ty::Adt(a, _) if cx.adts.def(a).is_enum => {
            let all: Vec<Ctor> = (0..cx.adts.def(a).variants.len() as u32).map(Ctor::Variant).collect();
            let covered = all.iter().all(|c| heads.iter().any(|h| matches!(h, DPat::Ctor(hc, _) if hc == c)));
            (all, covered)
        }
        Ty::Adt(..) | Ty::Tuple(_) | Ty::Ref(..) | Ty::Array(..) => {
            (vec![Ctor::Single], heads.iter().any(|h| matches!(h, DPat::Ctor(..))))
        }
        Ty::Slice(_) => {
            let max = heads
                .iter()
                .map(|h| match h {
                    DPat::Slice(p, _, s) => p.len() + s.len(),
                    _ => 0,
                })
                .max()
                .unwrap_or(0);
            let mut all: Vec<Ctor> = (0..=max).map(Ctor::SliceLen).collect();
            all.push(Ctor::SliceAtLeast(max + 1));
            let covered = all.iter().all(|c| heads.iter().any(|h| !is_wild(h) && specialize(h, c, 0).is_some()));
            (all, covered)
        }
        _ => (Vec::new(), false),
    }
}

fn is_wild(p: &DPat) -> bool {
    matches!(p, DPat::Wild)
}

/// Splits `domain` at every bound of the column's scalar sets.
fn split_ranges(domain: &IntervalSet, heads: &[&DPat]) -> Vec<Ctor> {
    let mut cuts: Vec<u128> = Vec::new();
    for h in heads {
        if let DPat::Set(s) = h {
            for (lo, hi) in s.intervals() {
                cuts.push(lo);
                if hi < u128::MAX {
                    cuts.push(hi + 1);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (lo, hi) in domain.intervals() {
        let mut start = lo;
        let mut inner: Vec<u128> = cuts.iter().copied().filter(|&c| c > lo && c <= hi).collect();
        inner.sort_unstable();
        inner.dedup();
        for c in inner {
            out.push(Ctor::Range(start, c - 1));
            start = c;
        }
        out.push(Ctor::Range(start, hi));
    }
    out
}

/// Whether `v` is useful with respect to `rows`; returns a witness vector when it is.
fn is_useful(cx: &TyCx<'_>, rows: &[Vec<DPat>], v: &[DPat], tys: &[Ty]) -> Option<Vec<DPat>> {
    if v.is_empty() {
        return rows.is_empty().then(Vec::new);
    }
    if tys.len() < v.len() {
        // A pattern whose shape does not fit its type (already reported as a type error):
        // nothing to check.
        return None;
    }
    if let DPat::Or(alts) = &v[0] {
        for a in alts {
            let mut nv = vec![a.clone()];
            nv.extend(v[1..].iter().cloned());
            if let Some(w) = is_useful(cx, rows, &nv, tys) {
                return Some(w);
            }
        }
        return None;
    }
    let rows = expand_rows(rows);
    let heads: Vec<&DPat> = rows.iter().map(|r| &r[0]).collect();
    let ty = &tys[0];
    let ctors: Vec<Ctor> = match &v[0] {
        DPat::Wild => {
            let (sig, covered) = split_signature(cx, ty, &heads);
            if !covered {
                // Only rows with a wildcard head can match values of the missing constructors.
                let default: Vec<Vec<DPat>> = rows.iter().filter(|r| is_wild(&r[0])).map(|r| r[1..].to_vec()).collect();
                let w = is_useful(cx, &default, &v[1..], &tys[1..])?;
                let missing = sig.into_iter().find(|c| !heads.iter().any(|h| !is_wild(h) && covers(h, c)));
                let head = match missing {
                    Some(c) => {
                        let arity = field_tys(cx, ty, &c).len();
                        witness_of(c, arity)
                    }
                    None => DPat::Wild,
                };
                let mut out = vec![head];
                out.extend(w);
                return Some(out);
            }
            sig
        }
        DPat::Ctor(c, _) => vec![c.clone()],
        DPat::Set(set) => {
            let mine = DPat::Set(set.clone());
            let mut all = heads.clone();
            all.push(&mine);
            let domain = set.clone();
            split_ranges(&domain, &all).into_iter().filter(|c| specialize(&mine, c, 0).is_some()).collect()
        }
        DPat::Slice(..) => {
            let (sig, _) = split_signature(cx, ty, &[heads.as_slice(), &[&v[0]]].concat());
            sig.into_iter().filter(|c| specialize(&v[0], c, field_tys(cx, ty, c).len()).is_some()).collect()
        }
        DPat::Or(_) => unreachable!("handled above"),
    };
    for c in ctors {
        let sub_tys = field_tys(cx, ty, &c);
        let arity = sub_tys.len();
        let specialized: Vec<Vec<DPat>> = rows
            .iter()
            .filter_map(|r| {
                specialize(&r[0], &c, arity).map(|mut s| {
                    s.extend(r[1..].iter().cloned());
                    s
                })
            })
            .collect();
        let Some(mut nv) = specialize(&v[0], &c, arity) else { continue };
        nv.extend(v[1..].iter().cloned());
        let mut ntys = sub_tys;
        ntys.extend(tys[1..].iter().cloned());
        if let Some(w) = is_useful(cx, &specialized, &nv, &ntys) {
            let (fields, rest) = w.split_at(arity);
            let mut out = vec![DPat::Ctor(c, fields.to_vec())];
            out.extend(rest.iter().cloned());
            return Some(out);
        }
    }
    None
}

/// Whether a (non-wildcard) head pattern matches some value built by `c`.
fn covers(h: &DPat, c: &Ctor) -> bool {
    match h {
        DPat::Or(alts) => alts.iter().any(|a| covers(a, c)),
        DPat::Set(s) => {
            matches!(c, Ctor::Range(lo, hi) if !IntervalSet::single(*lo, *hi).subtract(s).eq(&IntervalSet::single(*lo, *hi)))
        }
        _ => specialize(h, c, 0).is_some() || matches!((h, c), (DPat::Ctor(a, _), b) if a == b),
    }
}

fn witness_of(c: Ctor, arity: usize) -> DPat {
    DPat::Ctor(c, vec![DPat::Wild; arity])
}

/// Renders a witness in source syntax: `Circle(_)`, `(true, _)`, `&_`, `[_, ..]`, `5_i32`.
fn show(cx: &TyCx<'_>, p: &DPat, ty: &Ty) -> String {
    match p {
        DPat::Wild | DPat::Or(_) | DPat::Set(_) | DPat::Slice(..) => "_".to_string(),
        DPat::Ctor(c, subs) => {
            let tys = field_tys(cx, ty, c);
            let parts: Vec<String> = subs.iter().zip(tys.iter()).map(|(s, t)| show(cx, s, t)).collect();
            match (ty, c) {
                (_, Ctor::Range(lo, hi)) => {
                    let enum_variants = match ty {
                        Ty::Enum(e) => Some(cx.enums[e.id as usize].as_slice()),
                        _ => None,
                    };
                    exhaustive::describe_range(ty, *lo, *hi, enum_variants)
                }
                (Ty::Tuple(_), _) => {
                    if parts.len() == 1 {
                        format!("({},)", parts[0])
                    } else {
                        format!("({})", parts.join(", "))
                    }
                }
                (Ty::Ref(..), _) => format!("&{}", parts[0]),
                (Ty::Array(..), _) => format!("[{}]", parts.join(", ")),
                (Ty::Slice(_), Ctor::SliceLen(_)) => format!("[{}]", parts.join(", ")),
                (Ty::Slice(_), _) => {
                    let mut p = parts;
                    p.push("..".to_string());
                    format!("[{}]", p.join(", "))
                }
                (Ty::Adt(a, _), _) => {
                    let def = cx.adts.def(a);
                    let v = match c {
                        Ctor::Variant(i) => &def.variants[*i as usize],
                        _ => &def.variants[0],
                    };
                    let name = if def.is_enum { format!("{}.{}", def.name, v.name) } else { v.name.clone() };
                    match v.ctor {
                        crate::types::CtorKind::Unit => name,
                        crate::types::CtorKind::Tuple => format!("{name}({})", parts.join(", ")),
                        crate::types::CtorKind::Named => {
                            let fs: Vec<String> =
                                v.fields.iter().zip(&parts).map(|(f, p)| format!("{}: {p}", f.name)).collect();
                            format!("{name} {{ {} }}", fs.join(", "))
                        }
                    }
                }
                _ => "_".to_string(),
            }
        }
    }
}
