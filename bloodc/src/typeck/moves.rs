//! The move checker: "use of moved value `v`" (LANGUAGE.md §5.5, ARCHITECTURE.md "Memory").
//!
//! Runs on each finished HIR function. Values whose type owns heap storage
//! ([`Ty::needs_drop`]) move when they are consumed (bound, assigned, passed, returned, stored in
//! an aggregate); every other value is copied. A forward, flow-sensitive walk in evaluation order
//! keeps the set of locals that are *maybe moved* (joined at `if`/`match`/loops, iterated to a
//! fixed point around loops) and reports:
//! * a use of a maybe-moved local — reading it, borrowing it, reading a field of it, calling a
//!   method on it — as "use of moved value `x`" (assigning the whole local re-initialises it);
//! * a move out of a place that does not own its value: through a reference ("cannot move out of
//!   a reference") or out of an element ("cannot move out of an indexed place");
//! * a pattern that moves an owned part by value and also binds by reference, or that moves
//!   inside an arm with a guard (the IR builder binds before the guard runs).
//!
//! Moving out of a field of a local (`let n = u.name`, `let S { a, .. } = s`, `*b` for a box
//! `b`) moves the whole local: the IR builder drops the rest of it at that point.
//!
//! Reads that do not move (§5.5): operands of comparisons, `&e`, receivers of builtin and
//! `&self` methods (made `&e` by the type checker), `{}` arguments that are `String`s, the
//! scrutinee of a `match` whose arms only bind copies or references, indexing, and field reads
//! of copyable fields.

use std::collections::HashSet;

use crate::diagnostics::Diagnostic;
use crate::hir::{self, Builtin, ExprKind as H, FormatPiece, LocalId, LoopId, Pat, PatKind};
use crate::source::Span;
use crate::types::{AdtTable, OwnedKind, Ty};

/// Maybe-moved locals (with where they were moved), or `None` where control cannot reach.
type State = Option<Vec<Option<Span>>>;

struct LoopStates {
    id: LoopId,
    breaks: State,
    continues: State,
}

struct MoveCx<'a> {
    adts: &'a AdtTable,
    f: &'a hir::FnDef,
    state: State,
    loops: Vec<LoopStates>,
    errors: Vec<Diagnostic>,
    reported: HashSet<(u32, u32)>,
    /// Owned variables captured by the closures whose bodies are being checked (not called
    /// once): the closure may run many times, so its body must not move them.
    captured: HashSet<LocalId>,
}

/// Checks the moves of every function; returns the diagnostics.
pub(super) fn check_program(program: &hir::Program) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for f in &program.functions {
        let mut cx = MoveCx {
            adts: &program.adts,
            f,
            state: Some(vec![None; f.locals.len()]),
            loops: Vec::new(),
            errors: Vec::new(),
            reported: HashSet::new(),
            captured: HashSet::new(),
        };
        cx.consume(&f.body);
        out.extend(cx.errors);
    }
    out
}

fn join(a: &State, b: &State) -> State {
    match (a, b) {
        (None, x) | (x, None) => x.clone(),
        (Some(x), Some(y)) => Some(x.iter().zip(y).map(|(p, q)| p.or(*q)).collect()),
    }
}

impl MoveCx<'_> {
    fn owned(&self, ty: &Ty) -> bool {
        ty.is_move_type(self.adts)
    }

    fn error(&mut self, d: Diagnostic) {
        if self.reported.insert((d.span.lo, d.span.hi)) {
            self.errors.push(d);
        }
    }

    fn local_name(&self, l: LocalId) -> String {
        self.f.locals[l.0 as usize].name.clone()
    }

    /// Reports a use of `l` at `span` if it may have been moved.
    fn use_local(&mut self, l: LocalId, span: Span) {
        let moved_at = self.state.as_ref().and_then(|s| s[l.0 as usize]);
        if let Some(at) = moved_at {
            let name = self.local_name(l);
            self.error(
                Diagnostic::error(format!("use of moved value `{name}`"), span)
                    .with_label(format!("`{name}` used here after a move"))
                    .with_secondary(at, "value moved here")
                    .with_help("borrow it with `&`, or move a `.clone()` instead"),
            );
        }
    }

    fn set_moved(&mut self, l: LocalId, span: Option<Span>) {
        if let Some(s) = &mut self.state {
            s[l.0 as usize] = span;
        }
    }

    /// Evaluates `e` whose value is consumed: a place of an owned type is moved out of.
    fn consume(&mut self, e: &hir::Expr) {
        if hir::is_place(e) && self.owned(&e.ty) {
            self.move_place(e);
        } else if hir::is_place(e) {
            self.read_place(e);
        } else {
            self.eval(e);
        }
    }

    /// Evaluates `e` for reading in place: a place is not moved; anything else is a temporary.
    fn read(&mut self, e: &hir::Expr) {
        if hir::is_place(e) { self.read_place(e) } else { self.eval(e) }
    }

    /// A place used without moving it: its local must hold a value.
    fn read_place(&mut self, e: &hir::Expr) {
        match &e.kind {
            H::Local(l) => self.use_local(*l, e.span),
            H::Field { base, .. } | H::Deref(base) => self.read(base),
            H::Index { base, index } => {
                self.read(base);
                self.consume(index);
            }
            _ => self.eval(e),
        }
    }

    /// Moves the value out of a place expression of an owned type.
    fn move_place(&mut self, e: &hir::Expr) {
        self.read_place(e);
        match self.move_root(e) {
            Ok(Some(l)) if self.captured.contains(&l) => {
                let name = self.f.locals[l.0 as usize].name.clone();
                self.error(
                    Diagnostic::error(format!("cannot move out of captured variable `{name}`"), e.span)
                        .with_note("a closure may be called many times; its captured values stay in it")
                        .with_help("borrow it with `&`, or `.clone()` it"),
                );
            }
            Ok(Some(l)) => self.set_moved(l, Some(e.span)),
            Ok(None) => {}
            Err(why) => self.error(Diagnostic::error(why, e.span).with_help("borrow it with `&`, or `.clone()` it")),
        }
    }

    /// The local a move out of place `e` moves (the whole local, for a part of it), `None` for
    /// a temporary, or why the place cannot be moved out of.
    fn move_root(&self, e: &hir::Expr) -> Result<Option<LocalId>, String> {
        match &e.kind {
            H::Local(l) => Ok(Some(*l)),
            H::Field { base, .. } => {
                if hir::is_place(base) {
                    self.move_root(base)
                } else {
                    Ok(None)
                }
            }
            H::Deref(inner) => match &inner.ty {
                Ty::Owned(OwnedKind::Box, _) if hir::is_place(inner) => self.move_root(inner),
                Ty::Owned(OwnedKind::Box, _) => Ok(None),
                Ty::Owned(..) => Err("cannot move out of an indexed place".to_string()),
                _ => Err("cannot move out of a reference".to_string()),
            },
            H::Index { .. } => Err("cannot move out of an indexed place".to_string()),
            _ => Ok(None),
        }
    }

    /// Evaluates a non-place expression.
    fn eval(&mut self, e: &hir::Expr) {
        match &e.kind {
            H::Lit(_) => {}
            H::Local(_) | H::Field { .. } | H::Index { .. } | H::Deref(_) => self.consume(e),
            H::Unary(_, a) | H::Cast(a) | H::Dbg { expr: a, .. } | H::Repeat(a, _) | H::Nursery(a) => self.consume(a),
            H::Unsize(a) | H::Len(a) => self.read(a),
            H::Binary(op, a, b) => {
                use crate::syntax::ast::BinOp;
                match op {
                    BinOp::And | BinOp::Or => {
                        self.consume(a);
                        let before = self.state.clone();
                        self.consume(b);
                        self.state = join(&before, &self.state);
                    }
                    op if op.is_comparison() => {
                        self.read(a);
                        self.read(b);
                    }
                    _ => {
                        self.consume(a);
                        self.consume(b);
                    }
                }
            }
            H::Assign { place, value } => {
                self.consume(value);
                match &place.kind {
                    H::Local(l) => self.set_moved(*l, None),
                    _ => self.read_place(place),
                }
            }
            H::AssignOp { place, value, .. } => {
                self.consume(value);
                self.read_place(place);
            }
            H::AddrOf { place, .. } => self.read(place),
            H::Tuple(xs) | H::Array(xs) => xs.iter().for_each(|x| self.consume(x)),
            H::Adt { fields, base, .. } => {
                fields.iter().for_each(|(_, x)| self.consume(x));
                if let Some(b) = base {
                    // `..base` moves the owned fields it supplies (the rest is dropped).
                    if self.owned(&b.ty) { self.consume(b) } else { self.read(b) }
                }
            }
            H::ForEach { id, pat, seq, by_ref, body } => {
                if *by_ref {
                    self.read(seq);
                } else if let H::Deref(v) = &seq.kind
                    && matches!(v.ty, Ty::Owned(..))
                {
                    self.consume(v);
                } else if self.owned(&seq.ty) {
                    self.consume(seq);
                } else {
                    self.read(seq);
                }
                self.bind_pattern(pat);
                self.loop_body(*id, None, body, true);
            }
            H::ForRange { id, var, lo, hi, body, .. } => {
                self.consume(lo);
                self.consume(hi);
                self.set_moved(*var, None);
                self.loop_body(*id, None, body, true);
            }
            H::While { id, cond, body } => self.loop_body(*id, Some(cond), body, true),
            H::Loop { id, body } => self.loop_body(*id, None, body, false),
            H::Call { args, .. } => args.iter().for_each(|(_, a)| self.consume(a)),
            H::FnRef { .. } => {}
            H::CallIndirect { callee, args } => {
                self.consume(callee);
                args.iter().for_each(|a| self.consume(a));
            }
            // Captures are moved (owned values) or copied into the environment at creation; the
            // body runs later, as a function of its own, so it is checked from a fresh state,
            // and unless the closure is called once it may not move what it captured.
            H::Closure(c) => {
                let mut added = Vec::new();
                for &l in &c.captures {
                    let ty = self.f.locals[l.0 as usize].ty.clone();
                    let capture = hir::Expr::new(H::Local(l), ty.clone(), e.span);
                    self.consume(&capture);
                    if !c.once && self.owned(&ty) && self.captured.insert(l) {
                        added.push(l);
                    }
                }
                let outer = self.state.replace(vec![None; self.f.locals.len()]);
                let loops = std::mem::take(&mut self.loops);
                self.consume(&c.body);
                self.state = outer;
                self.loops = loops;
                for l in added {
                    self.captured.remove(&l);
                }
            }
            H::Builtin { builtin, args } => match builtin {
                Builtin::ToString => self.read(&args[0]),
                Builtin::SliceContains => {
                    self.read(&args[0]);
                    self.consume(&args[1]);
                }
                _ => args.iter().for_each(|a| self.consume(a)),
            },
            H::Format { pieces, .. } | H::PanicFormat { pieces } => {
                for p in pieces {
                    if let FormatPiece::Arg(a) = p {
                        if matches!(a.ty, Ty::Owned(..)) { self.read(a) } else { self.consume(a) }
                    }
                }
            }
            H::If { cond, then, else_ } => {
                self.consume(cond);
                let before = self.state.clone();
                self.consume(then);
                let after_then = std::mem::replace(&mut self.state, before);
                if let Some(e) = else_ {
                    self.consume(e);
                }
                self.state = join(&after_then, &self.state);
            }
            H::Break { id, value } => {
                if let Some(v) = value {
                    self.consume(v);
                }
                let s = self.state.take();
                if let Some(l) = self.loops.iter_mut().rev().find(|l| l.id == *id) {
                    l.breaks = join(&l.breaks, &s);
                }
            }
            H::Continue { id } => {
                let s = self.state.take();
                if let Some(l) = self.loops.iter_mut().rev().find(|l| l.id == *id) {
                    l.continues = join(&l.continues, &s);
                }
            }
            H::Return(v) => {
                if let Some(v) = v {
                    self.consume(v);
                }
                self.state = None;
            }
            H::Block { stmts, tail } => {
                for s in stmts {
                    match s {
                        hir::Stmt::Let { local, init } => {
                            self.consume(init);
                            if let Some(l) = local {
                                self.set_moved(*l, None);
                            }
                        }
                        hir::Stmt::LetPat { pat, init } => {
                            self.scrutinee(init, std::slice::from_ref(pat), false);
                            self.bind_pattern(pat);
                        }
                        hir::Stmt::Expr(e) => self.consume(e),
                    }
                }
                if let Some(t) = tail {
                    self.consume(t);
                }
            }
            H::Match { scrutinee, arms } => {
                if !hir::is_place(scrutinee) {
                    self.eval(scrutinee);
                } else {
                    self.read_place(scrutinee);
                }
                let entry = self.state.clone();
                let mut out: State = None;
                for arm in arms {
                    self.state = entry.clone();
                    self.scrutinee(scrutinee, std::slice::from_ref(&arm.pat), arm.guard.is_some());
                    self.bind_pattern(&arm.pat);
                    if let Some(g) = &arm.guard {
                        self.consume(g);
                    }
                    self.consume(&arm.body);
                    out = join(&out, &self.state);
                }
                self.state = out;
            }
        }
    }

    /// A scrutinee matched by `pats`: moved out of (as a whole local, for a part of it) if some
    /// pattern binds an owned part by value.
    fn scrutinee(&mut self, scrutinee: &hir::Expr, pats: &[Pat], guarded: bool) {
        let moves = pats.iter().any(|p| self.binds_owned_by_value(p));
        if !moves {
            return;
        }
        if guarded {
            self.error(
                Diagnostic::error("cannot bind by-move into a pattern guard", pats[0].span)
                    .with_help("bind by reference (`ref x`) in a guarded arm, or move the test into the arm's body"),
            );
        }
        if pats.iter().any(has_ref_binding) {
            self.error(
                Diagnostic::error("cannot bind by-move and by-ref in the same pattern", pats[0].span)
                    .with_help("bind every part by reference (`ref x`), or every owned part by value"),
            );
        }
        if hir::is_place(scrutinee) {
            match self.move_root(scrutinee) {
                Ok(Some(l)) => self.set_moved(l, Some(scrutinee.span)),
                Ok(None) => {}
                Err(why) => {
                    self.error(Diagnostic::error(why, scrutinee.span).with_help("bind with `ref` instead"));
                }
            }
        }
    }

    fn binds_owned_by_value(&self, p: &Pat) -> bool {
        match &p.kind {
            PatKind::Binding { by_ref, sub, .. } => {
                (!*by_ref && self.owned(&p.ty)) || sub.as_deref().is_some_and(|s| self.binds_owned_by_value(s))
            }
            PatKind::Tuple(xs) | PatKind::Or(xs) => xs.iter().any(|x| self.binds_owned_by_value(x)),
            PatKind::Adt { fields, .. } => fields.iter().any(|(_, x)| self.binds_owned_by_value(x)),
            // Through `&p` everything is behind a reference (moving is rejected elsewhere).
            PatKind::Deref(inner) => self.binds_owned_by_value(inner),
            PatKind::Slice { prefix, suffix, .. } => prefix.iter().chain(suffix).any(|x| self.binds_owned_by_value(x)),
            _ => false,
        }
    }

    /// The locals a pattern binds hold values.
    fn bind_pattern(&mut self, p: &Pat) {
        match &p.kind {
            PatKind::Binding { local, sub, .. } => {
                self.set_moved(*local, None);
                if let Some(s) = sub {
                    self.bind_pattern(s);
                }
            }
            PatKind::Tuple(xs) | PatKind::Or(xs) => xs.iter().for_each(|x| self.bind_pattern(x)),
            PatKind::Adt { fields, .. } => fields.iter().for_each(|(_, x)| self.bind_pattern(x)),
            PatKind::Deref(inner) => {
                if self.binds_owned_by_value(inner) {
                    self.error(
                        Diagnostic::error("cannot move out of a reference", inner.span)
                            .with_help("bind with `ref` instead"),
                    );
                }
                self.bind_pattern(inner)
            }
            PatKind::Slice { prefix, suffix, .. } => prefix.iter().chain(suffix).for_each(|x| self.bind_pattern(x)),
            _ => {}
        }
    }

    /// A loop: the body (after `cond`, if any) runs until the state at its head stops changing.
    fn loop_body(&mut self, id: LoopId, cond: Option<&hir::Expr>, body: &hir::Expr, exits_at_head: bool) {
        let mut head = self.state.clone();
        let mut exit: State;
        loop {
            self.state = head.clone();
            self.loops.push(LoopStates { id, breaks: None, continues: None });
            if let Some(c) = cond {
                self.consume(c);
            }
            let at_test = self.state.clone();
            self.consume(body);
            let l = self.loops.pop().expect("pushed above");
            let back = join(&self.state, &l.continues);
            exit = if exits_at_head { join(&at_test, &l.breaks) } else { l.breaks };
            let next = join(&head, &back);
            if next == head {
                break;
            }
            head = next;
        }
        self.state = exit;
    }
}

fn has_ref_binding(p: &Pat) -> bool {
    match &p.kind {
        PatKind::Binding { by_ref, sub, .. } => *by_ref || sub.as_deref().is_some_and(has_ref_binding),
        PatKind::Tuple(xs) | PatKind::Or(xs) => xs.iter().any(has_ref_binding),
        PatKind::Adt { fields, .. } => fields.iter().any(|(_, x)| has_ref_binding(x)),
        PatKind::Deref(inner) => has_ref_binding(inner),
        PatKind::Slice { prefix, suffix, .. } => prefix.iter().chain(suffix).any(has_ref_binding),
        _ => false,
    }
}
