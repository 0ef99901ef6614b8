//! The IR validator: checks the invariants of `ir/mod.rs` between passes.
//!
//! Run after building and after every pass in debug builds and tests. A failure is a compiler
//! bug (reported as an internal error), never a user error.

use super::{
    AggregateKind, BinOp, Callee, Const, Function, Operand, Place, Program, Proj, Rvalue, Stmt, Terminator, Ty,
};

/// Returns the first violated invariant, naming the function and block.
pub fn validate(program: &Program) -> Result<(), String> {
    for f in &program.functions {
        validate_function(program, f).map_err(|e| format!("IR validation failed in `{}`: {e}", f.name))?;
    }
    if let Some(main) = program.main
        && main.0 as usize >= program.functions.len()
    {
        return Err("main function id out of range".to_string());
    }
    Ok(())
}

fn validate_function(program: &Program, f: &Function) -> Result<(), String> {
    if f.param_count as usize > f.locals.len() {
        return Err("more parameters than locals".to_string());
    }
    if f.blocks.is_empty() {
        return Err("no entry block".to_string());
    }
    let n_blocks = f.blocks.len() as u32;
    for (i, block) in f.blocks.iter().enumerate() {
        let at = |e: String| format!("bb{i}: {e}");
        for stmt in &block.stmts {
            match stmt {
                Stmt::Assign(l, rv) => {
                    let dest = f.locals.get(l.0 as usize).ok_or_else(|| at(format!("local _{} out of range", l.0)))?;
                    let ty = rvalue_ty(program, f, &dest.ty, rv).map_err(at)?;
                    if let Some(ty) = ty
                        && !compatible(&ty, &dest.ty)
                    {
                        return Err(at(format!("_{} has type {} but is assigned a {ty}", l.0, dest.ty)));
                    }
                }
                Stmt::Store(place, value) => {
                    if place.proj.is_empty() {
                        return Err(at("store to a bare local (use an assignment)".to_string()));
                    }
                    let pt = place_ty(program, f, place).map_err(at)?;
                    let vt = operand_ty(program, f, value).map_err(at)?;
                    if !compatible(&pt, &vt) {
                        return Err(at(format!("store of a {vt} into a place of type {pt}")));
                    }
                }
                Stmt::Safepoint => {}
                Stmt::Drop(place) => {
                    place_ty(program, f, place).map_err(at)?;
                }
            }
        }
        for succ in block.terminator.successors() {
            if succ.0 >= n_blocks {
                return Err(at(format!("jump to missing bb{}", succ.0)));
            }
        }
        match &block.terminator {
            Terminator::Branch { cond, .. } => {
                let ty = operand_ty(program, f, cond).map_err(at)?;
                if ty != Ty::Bool {
                    return Err(at(format!("branch on a {ty}")));
                }
            }
            Terminator::Return(v) => {
                let ty = operand_ty(program, f, v).map_err(at)?;
                if !compatible(&ty, &f.ret) {
                    return Err(at(format!("returns a {ty} from a function returning {}", f.ret)));
                }
            }
            Terminator::Goto(_) | Terminator::Unreachable => {}
        }
    }
    Ok(())
}

/// Zero-sized types are interchangeable (a `()` constant stands for any of them), and `&mut T`
/// may stand for `&T` (the same pointer; the type checker allowed the coercion).
fn compatible(a: &Ty, b: &Ty) -> bool {
    a == b
        || (a.is_zero_sized() && b.is_zero_sized())
        || matches!((a, b), (Ty::Ref(x, _), Ty::Ref(y, _)) if compatible(x, y))
}

fn operand_ty(program: &Program, f: &Function, o: &Operand) -> Result<Ty, String> {
    Ok(match o {
        Operand::Local(l) => {
            f.locals.get(l.0 as usize).ok_or_else(|| format!("local _{} out of range", l.0))?.ty.clone()
        }
        Operand::Const(c) => match c {
            Const::Int { ty, .. } => Ty::Int(*ty),
            Const::Float { ty, .. } => Ty::Float(*ty),
            Const::Bool(_) => Ty::Bool,
            Const::Char(_) => Ty::Char,
            Const::Unit => Ty::Unit,
            Const::Str(id) => {
                if id.0 as usize >= program.strings.len() {
                    return Err(format!("string constant {} out of range", id.0));
                }
                Ty::Str
            }
        },
    })
}

/// The type of a place, checking that every projection applies.
fn place_ty(program: &Program, f: &Function, place: &Place) -> Result<Ty, String> {
    let mut ty =
        f.locals.get(place.base.0 as usize).ok_or_else(|| format!("local _{} out of range", place.base.0))?.ty.clone();
    for p in &place.proj {
        if let Proj::Index(i) = p {
            let it = f.locals.get(i.0 as usize).ok_or_else(|| format!("local _{} out of range", i.0))?;
            if it.ty != Ty::Int(super::IntTy::Usize) {
                return Err(format!("index _{} is a {}, not usize", i.0, it.ty));
            }
        }
        ty = super::try_project_ty(&program.adts, &ty, p).ok_or_else(|| format!("projection {p:?} on a {ty}"))?;
    }
    Ok(ty)
}

/// The type an rvalue produces (`None` when it is not statically fixed, e.g. runtime calls).
/// `dest` is the type of the local it is assigned to (aggregates take their type from it).
fn rvalue_ty(program: &Program, f: &Function, dest: &Ty, rv: &Rvalue) -> Result<Option<Ty>, String> {
    Ok(match rv {
        Rvalue::Use(o) => Some(operand_ty(program, f, o)?),
        Rvalue::Binary(op, a, b) => {
            let (ta, tb) = (operand_ty(program, f, a)?, operand_ty(program, f, b)?);
            let shift = matches!(op, BinOp::Shl | BinOp::Shr);
            if shift && !(ta.is_integer() && tb.is_integer()) {
                return Err(format!("{op:?} on {ta} and {tb}"));
            }
            if !shift && ta != tb {
                return Err(format!("{op:?} on different types {ta} and {tb}"));
            }
            Some(if op.is_comparison() { Ty::Bool } else { ta })
        }
        Rvalue::Unary(_, a) => Some(operand_ty(program, f, a)?),
        Rvalue::Cast(a, ty) => {
            operand_ty(program, f, a)?;
            Some(ty.clone())
        }
        Rvalue::Call(Callee::Fn(id), args) => {
            let callee = program.functions.get(id.0 as usize).ok_or("call of a missing function")?;
            if callee.param_count as usize != args.len() {
                return Err(format!("call of `{}` with {} arguments", callee.name, args.len()));
            }
            for (i, a) in args.iter().enumerate() {
                let ta = operand_ty(program, f, a)?;
                let tp = &callee.locals[i].ty;
                if !compatible(&ta, tp) {
                    return Err(format!("argument {i} of `{}` is a {ta}, expected {tp}", callee.name));
                }
            }
            Some(callee.ret.clone())
        }
        Rvalue::Call(Callee::Indirect(callee), args) => {
            let Ty::Fn(params, ret, _) = operand_ty(program, f, callee)? else {
                return Err("indirect call of a value that is not a `fn`".to_string());
            };
            let tys = args.iter().map(|o| operand_ty(program, f, o)).collect::<Result<Vec<_>, _>>()?;
            if tys.len() != params.len() || params.iter().zip(&tys).any(|(p, t)| !compatible(t, p)) {
                return Err(format!(
                    "indirect call of a {} with ({tys:?})",
                    Ty::Fn(params.clone(), ret.clone(), Default::default())
                ));
            }
            Some((*ret).clone())
        }
        Rvalue::FnValue { func, env, heap: _, env_drop } => {
            if env_drop.is_some() == env.is_empty() {
                return Err("a closure environment needs a drop function, and only one".to_string());
            }
            let callee = program.functions.get(func.0 as usize).ok_or("`fn` value of a missing function")?;
            let Ty::Fn(params, ret, _) = dest else { return Err(format!("`fn` value assigned to a {dest}")) };
            let env_tys = env.iter().map(|o| operand_ty(program, f, o)).collect::<Result<Vec<_>, _>>()?;
            let callee_params: Vec<&Ty> =
                callee.locals.iter().take(callee.param_count as usize).map(|d| &d.ty).collect();
            let env_ok = matches!(callee_params.first(), Some(Ty::Ref(t, false)) if env.is_empty() || **t == super::closure_env_ty(env_tys.clone()));
            let params_ok = callee_params.len() == params.len() + 1
                && params.iter().zip(&callee_params[1..]).all(|(p, c)| compatible(p, c));
            if !env_ok || !params_ok || !compatible(&callee.ret, ret) {
                return Err(format!("`{}` cannot be a {dest} with environment ({env_tys:?})", callee.name));
            }
            Some(dest.clone())
        }
        Rvalue::FnAddr(func) => {
            program.functions.get(func.0 as usize).ok_or("address of a missing function")?;
            Some(Ty::Int(crate::types::IntTy::U64))
        }
        Rvalue::Call(Callee::Runtime(_), args) | Rvalue::Intrinsic(_, args) => {
            for a in args {
                operand_ty(program, f, a)?;
            }
            None
        }
        Rvalue::Load(place) => {
            if place.proj.is_empty() {
                return Err("load from a bare local (use Use)".to_string());
            }
            Some(place_ty(program, f, place)?)
        }
        Rvalue::Ref(place, mutable) => Some(Ty::reference(place_ty(program, f, place)?, *mutable)),
        Rvalue::Discriminant(place) => match place_ty(program, f, place)? {
            Ty::Adt(a, _) if program.adts.def(&a).is_enum => Some(Ty::Int(crate::types::TAG_REPR)),
            t => return Err(format!("discriminant of a {t}")),
        },
        Rvalue::Len(place) => match place_ty(program, f, place)? {
            Ty::Array(..) | Ty::Slice(_) => Some(Ty::Int(super::IntTy::Usize)),
            t => return Err(format!("length of a {t}")),
        },
        Rvalue::Unsize(o) => match operand_ty(program, f, o)? {
            Ty::Ref(inner, m) => match &*inner {
                Ty::Array(elem, _) => Some(Ty::reference(Ty::Slice(elem.clone()), m)),
                t => return Err(format!("unsize of a &{t}")),
            },
            t => return Err(format!("unsize of a {t}")),
        },
        Rvalue::Repeat(o, n) => Some(Ty::Array(operand_ty(program, f, o)?.into(), *n)),
        Rvalue::Aggregate(kind, ops) => {
            let tys = ops.iter().map(|o| operand_ty(program, f, o)).collect::<Result<Vec<_>, _>>()?;
            let expected: Vec<Ty> = match (kind, dest) {
                (AggregateKind::Tuple, Ty::Tuple(elems)) => elems.to_vec(),
                (AggregateKind::Array, Ty::Array(elem, n)) => vec![(**elem).clone(); *n as usize],
                (AggregateKind::Adt { variant }, Ty::Adt(a, args)) => {
                    if *variant as usize >= program.adts.def(a).variants.len() {
                        return Err(format!("variant {variant} of {dest} out of range"));
                    }
                    program.adts.field_tys(a, args, *variant as usize)
                }
                _ => return Err(format!("{kind:?} aggregate assigned to a {dest}")),
            };
            if expected.len() != tys.len() || expected.iter().zip(&tys).any(|(e, t)| !compatible(e, t)) {
                return Err(format!("{kind:?} aggregate of {dest} built from ({tys:?})"));
            }
            Some(dest.clone())
        }
    })
}
