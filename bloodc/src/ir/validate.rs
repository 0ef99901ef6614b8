//! The IR validator: checks the invariants of `ir/mod.rs` between passes.
//!
//! Run after building and after every pass in debug builds and tests. A failure is a compiler
//! bug (reported as an internal error), never a user error.

use super::{BinOp, Callee, Const, Function, Operand, Program, Rvalue, Stmt, Terminator, Ty};

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
            if let Stmt::Assign(l, rv) = stmt {
                let dest = f.locals.get(l.0 as usize).ok_or_else(|| at(format!("local _{} out of range", l.0)))?;
                let ty = rvalue_ty(program, f, rv).map_err(at)?;
                if let Some(ty) = ty
                    && !compatible(&ty, &dest.ty)
                {
                    return Err(at(format!("_{} has type {} but is assigned a {ty}", l.0, dest.ty)));
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

/// Zero-sized types are interchangeable (a `()` constant stands for any of them).
fn compatible(a: &Ty, b: &Ty) -> bool {
    a == b || (a.is_zero_sized() && b.is_zero_sized())
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

/// The type an rvalue produces (`None` when it is not statically fixed, e.g. runtime calls).
fn rvalue_ty(program: &Program, f: &Function, rv: &Rvalue) -> Result<Option<Ty>, String> {
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
        Rvalue::Call(Callee::Runtime(_), args) | Rvalue::Intrinsic(_, args) => {
            for a in args {
                operand_ty(program, f, a)?;
            }
            None
        }
    })
}
