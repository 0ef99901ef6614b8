//! Drop elaboration: decides, for each `drop l` of a bare local the builder scheduled, whether
//! `l` still holds a value there (ARCHITECTURE.md "Memory").
//!
//! A forward data-flow analysis computes, at every point, which owned locals (types for which
//! [`Ty::needs_drop`]) are *maybe initialised* and which are *maybe uninitialised*:
//! * an assignment `l = …` initialises `l` (after its operands were read);
//! * reading `l` as an operand moves it (owned values are never copied; the builder copies a
//!   value holding `fn`s with an explicit `clone`), and so does loading a value that owns heap
//!   storage from a place reached from `l` through fields and boxes (a partial move moves the
//!   whole local; the builder dropped the rest);
//! * `drop l` leaves `l` uninitialised;
//! * at entry, parameters are initialised and every other local is not.
//!
//! Then each `drop l` is removed (`l` is definitely uninitialised), kept (definitely
//! initialised), or guarded by a *drop flag*: a `bool` local set to true where `l` is
//! initialised and to false where it is moved or dropped, tested before the drop. Drops of
//! places with projections are unconditional and left alone.

use std::collections::HashMap;

use crate::ir::{
    AdtTable, BasicBlock, BlockId, Const, Function, HeapIntrinsic, Intrinsic, Local, LocalDecl, Operand, OwnedKind,
    Place, Proj, Rvalue, Stmt, Terminator, Ty, project_ty,
};

/// Which owned locals may be initialised / uninitialised at a point.
#[derive(Clone, Debug, PartialEq, Eq)]
struct State {
    init: Vec<bool>,
    uninit: Vec<bool>,
}

impl State {
    fn bottom(n: usize) -> State {
        State { init: vec![false; n], uninit: vec![false; n] }
    }

    fn join(&mut self, other: &State) -> bool {
        let mut changed = false;
        for (a, b) in self.init.iter_mut().zip(&other.init).chain(self.uninit.iter_mut().zip(&other.uninit)) {
            if *b && !*a {
                *a = true;
                changed = true;
            }
        }
        changed
    }

    fn set(&mut self, i: usize, initialised: bool) {
        self.init[i] = initialised;
        self.uninit[i] = !initialised;
    }
}

/// What a statement does to the owned locals: locals moved out of, then locals initialised.
struct Effect {
    moved: Vec<Local>,
    init: Option<Local>,
}

pub fn elaborate_drops(adts: &AdtTable, f: &mut Function) {
    let owned: Vec<bool> = f.locals.iter().map(|d| d.ty.needs_drop(adts)).collect();
    if !owned.iter().any(|&o| o) {
        return;
    }
    let n = f.locals.len();
    let states = analyze(adts, f, &owned);
    // Classify every drop of a bare local; find the locals that need a flag.
    let mut needs_flag = vec![false; n];
    let mut decisions: HashMap<(usize, usize), Decision> = HashMap::new();
    for (b, block) in f.blocks.iter().enumerate() {
        let Some(mut state) = states[b].clone() else { continue };
        for (s, stmt) in block.stmts.iter().enumerate() {
            if let Stmt::Drop(p) = stmt
                && p.proj.is_empty()
            {
                let i = p.base.0 as usize;
                let d = match (state.init[i], state.uninit[i]) {
                    (false, _) => Decision::Remove,
                    (true, false) => Decision::Keep,
                    (true, true) => {
                        needs_flag[i] = true;
                        Decision::Flag
                    }
                };
                decisions.insert((b, s), d);
            }
            apply(adts, f, &owned, stmt, &mut state);
        }
    }
    // Unreachable blocks (no state): their drops go.
    let flags: Vec<Option<Local>> = (0..n)
        .map(|i| {
            needs_flag[i].then(|| {
                f.locals.push(LocalDecl { ty: Ty::Bool, name: Some(format!("drop$flag{i}")) });
                Local(f.locals.len() as u32 - 1)
            })
        })
        .collect();
    rewrite(adts, f, &owned, &decisions, &flags);
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Decision {
    Remove,
    Keep,
    Flag,
}

/// The state at the entry of every block (`None`: unreachable).
fn analyze(adts: &AdtTable, f: &Function, owned: &[bool]) -> Vec<Option<State>> {
    let n = f.locals.len();
    let mut entry = State::bottom(n);
    for (i, _) in owned.iter().enumerate().filter(|(_, o)| **o) {
        entry.set(i, i < f.param_count as usize);
    }
    let mut states: Vec<Option<State>> = vec![None; f.blocks.len()];
    states[0] = Some(entry);
    let mut work = vec![0usize];
    while let Some(b) = work.pop() {
        let Some(mut state) = states[b].clone() else { continue };
        for stmt in &f.blocks[b].stmts {
            apply(adts, f, owned, stmt, &mut state);
        }
        for succ in f.blocks[b].terminator.successors() {
            let s = succ.0 as usize;
            let changed = match &mut states[s] {
                Some(existing) => existing.join(&state),
                slot @ None => {
                    *slot = Some(state.clone());
                    true
                }
            };
            if changed && !work.contains(&s) {
                work.push(s);
            }
        }
    }
    states
}

fn apply(adts: &AdtTable, f: &Function, owned: &[bool], stmt: &Stmt, state: &mut State) {
    let e = effect(adts, f, owned, stmt);
    for m in e.moved {
        state.set(m.0 as usize, false);
    }
    if let Some(l) = e.init {
        state.set(l.0 as usize, true);
    }
}

fn effect(adts: &AdtTable, f: &Function, owned: &[bool], stmt: &Stmt) -> Effect {
    let is_owned = |l: Local| owned.get(l.0 as usize).copied().unwrap_or(false);
    let mut moved = Vec::new();
    let operand = |o: &Operand, moved: &mut Vec<Local>| {
        if let Operand::Local(l) = o
            && is_owned(*l)
        {
            moved.push(*l);
        }
    };
    match stmt {
        Stmt::Assign(l, rv) => {
            match rv {
                Rvalue::Use(o)
                | Rvalue::Unary(_, o)
                | Rvalue::Cast(o, _)
                | Rvalue::Repeat(o, _)
                | Rvalue::Unsize(o) => operand(o, &mut moved),
                Rvalue::Binary(_, a, b) => {
                    operand(a, &mut moved);
                    operand(b, &mut moved);
                }
                // A counted copy reads its operand without moving it.
                Rvalue::Intrinsic(Intrinsic::Heap(HeapIntrinsic::FnRetain), _) => {}
                Rvalue::Call(_, args)
                | Rvalue::Intrinsic(_, args)
                | Rvalue::Aggregate(_, args)
                | Rvalue::FnValue { env: args, .. } => args.iter().for_each(|a| operand(a, &mut moved)),
                Rvalue::Load(p) => {
                    if is_owned(p.base) && is_partial_move(adts, f, p) {
                        moved.push(p.base);
                    }
                }
                Rvalue::Ref(..) | Rvalue::Discriminant(_) | Rvalue::Len(_) | Rvalue::FnAddr(_) => {}
            }
            Effect { moved, init: is_owned(*l).then_some(*l) }
        }
        Stmt::Store(_, v) => {
            operand(v, &mut moved);
            Effect { moved, init: None }
        }
        Stmt::Drop(p) if p.proj.is_empty() => Effect { moved: vec![p.base], init: None },
        Stmt::Drop(_) | Stmt::Safepoint => Effect { moved, init: None },
    }
}

/// A load that moves an owned value out of a place reached from its local through fields and
/// boxes only.
fn is_partial_move(adts: &AdtTable, f: &Function, p: &Place) -> bool {
    let mut ty = f.local(p.base).ty.clone();
    for proj in &p.proj {
        let ok = match proj {
            Proj::Field(_) | Proj::VariantField { .. } => true,
            Proj::Deref => matches!(ty, Ty::Owned(OwnedKind::Box, _)),
            Proj::Index(_) => false,
        };
        if !ok {
            return false;
        }
        ty = project_ty(adts, &ty, proj);
    }
    // Values holding `fn`s are only ever loaded as counted copies (`clone`) or borrowed.
    ty.is_move_type(adts)
}

/// Applies the decisions: removes and keeps drops, maintains the flags, and splits blocks at
/// flagged drops (`branch flag, drop, continue`).
fn rewrite(
    adts: &AdtTable,
    f: &mut Function,
    owned: &[bool],
    decisions: &HashMap<(usize, usize), Decision>,
    flags: &[Option<Local>],
) {
    let set_flag = |l: Local, v: bool| -> Option<Stmt> {
        flags[l.0 as usize].map(|fl| Stmt::Assign(fl, Rvalue::Use(Operand::Const(Const::Bool(v)))))
    };
    let original = f.blocks.len();
    for b in 0..original {
        let stmts = std::mem::take(&mut f.blocks[b].stmts);
        let terminator = std::mem::replace(&mut f.blocks[b].terminator, Terminator::Unreachable);
        let mut current = b;
        let mut out: Vec<Stmt> = Vec::new();
        if b == 0 {
            for (i, fl) in flags.iter().enumerate() {
                if let Some(fl) = fl {
                    let v = i < f.param_count as usize;
                    out.push(Stmt::Assign(*fl, Rvalue::Use(Operand::Const(Const::Bool(v)))));
                }
            }
        }
        for (s, stmt) in stmts.into_iter().enumerate() {
            let decision = decisions.get(&(b, s)).copied();
            match decision {
                Some(Decision::Remove) => continue,
                Some(Decision::Keep) => {
                    let Stmt::Drop(p) = &stmt else { unreachable!("decisions are only for drops") };
                    let clear = set_flag(p.base, false);
                    out.push(stmt);
                    out.extend(clear);
                }
                Some(Decision::Flag) => {
                    let Stmt::Drop(p) = &stmt else { unreachable!("decisions are only for drops") };
                    let flag = flags[p.base.0 as usize].expect("a flagged local has a flag");
                    let drop_bb = BlockId(f.blocks.len() as u32);
                    let cont_bb = BlockId(f.blocks.len() as u32 + 1);
                    let clear = set_flag(p.base, false).expect("flag");
                    f.blocks.push(BasicBlock { stmts: vec![stmt, clear], terminator: Terminator::Goto(cont_bb) });
                    f.blocks.push(BasicBlock { stmts: Vec::new(), terminator: Terminator::Unreachable });
                    f.blocks[current].stmts = std::mem::take(&mut out);
                    f.blocks[current].terminator =
                        Terminator::Branch { cond: Operand::Local(flag), then_bb: drop_bb, else_bb: cont_bb };
                    current = cont_bb.0 as usize;
                }
                None => {
                    let e = effect(adts, f, owned, &stmt);
                    out.push(stmt);
                    out.extend(e.moved.iter().filter_map(|m| set_flag(*m, false)));
                    out.extend(e.init.and_then(|l| set_flag(l, true)));
                }
            }
        }
        f.blocks[current].stmts = out;
        f.blocks[current].terminator = terminator;
    }
}
