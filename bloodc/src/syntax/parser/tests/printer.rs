//! A compact S-expression rendering of AST nodes, so parser tests can state expected trees in
//! one line: `(+ a (* b c))`, `(call (path f) 1)`, `(field (call (path f)) x)`.

use crate::syntax::ast::*;

pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Lit(lit) => literal(lit),
        ExprKind::Path(p) => format!("(path {})", path(p)),
        ExprKind::Unary(op, x) => {
            let op = match op {
                UnOp::Neg => "neg",
                UnOp::Not => "not",
                UnOp::Deref => "deref",
            };
            format!("({op} {})", expr(x))
        }
        ExprKind::Ref { mutable, expr: x } => format!("({} {})", if *mutable { "&mut" } else { "&" }, expr(x)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), expr(a), expr(b)),
        ExprKind::Assign(a, b) => format!("(= {} {})", expr(a), expr(b)),
        ExprKind::AssignOp(op, a, b) => format!("({}= {} {})", op.symbol(), expr(a), expr(b)),
        ExprKind::Cast(x, t) => format!("(as {} {})", expr(x), ty(t)),
        ExprKind::Call { callee, args: a } => format!("(call {}{})", expr(callee), args(a)),
        ExprKind::MethodCall { receiver, method, args: a } => {
            format!(
                "(method {} {}{}{})",
                expr(receiver),
                method.ident.name,
                generic_args(&method.generic_args),
                args(a)
            )
        }
        ExprKind::Field(x, name) => format!("(field {} {})", expr(x), name.name),
        ExprKind::TupleField(x, i, _) => format!("(tfield {} {i})", expr(x)),
        ExprKind::Index(a, b) => format!("(index {} {})", expr(a), expr(b)),
        ExprKind::Try(x) => format!("(? {})", expr(x)),
        ExprKind::If { cond, then, else_ } => {
            format!(
                "(if {} {}{})",
                expr(cond),
                block(then),
                else_.as_ref().map_or(String::new(), |e| format!(" {}", expr(e)))
            )
        }
        ExprKind::IfLet { pat: p, scrutinee, then, else_ } => format!(
            "(iflet {} {} {}{})",
            pat(p),
            expr(scrutinee),
            block(then),
            else_.as_ref().map_or(String::new(), |e| format!(" {}", expr(e)))
        ),
        ExprKind::While { label, cond, body } => format!("(while{} {} {})", lbl(label), expr(cond), block(body)),
        ExprKind::WhileLet { label, pat: p, scrutinee, body } => {
            format!("(whilelet{} {} {} {})", lbl(label), pat(p), expr(scrutinee), block(body))
        }
        ExprKind::Loop { label, body } => format!("(loop{} {})", lbl(label), block(body)),
        ExprKind::For { label, pat: p, iter, body } => {
            format!("(for{} {} {} {})", lbl(label), pat(p), expr(iter), block(body))
        }
        ExprKind::Range { lo, hi, inclusive } => format!(
            "({} {} {})",
            if *inclusive { "..=" } else { ".." },
            lo.as_ref().map_or("_".to_string(), |e| expr(e)),
            hi.as_ref().map_or("_".to_string(), |e| expr(e))
        ),
        ExprKind::In { expr: x, range } => format!("(in {} {})", expr(x), expr(range)),
        ExprKind::Block(b) => block(b),
        ExprKind::Unchecked(b) => format!("(unchecked {})", block(b)),
        ExprKind::Break { label, value } => {
            format!("(break{}{})", lbl(label), value.as_ref().map_or(String::new(), |e| format!(" {}", expr(e))))
        }
        ExprKind::Continue { label } => format!("(continue{})", lbl(label)),
        ExprKind::Return(value) => {
            format!("(return{})", value.as_ref().map_or(String::new(), |e| format!(" {}", expr(e))))
        }
        ExprKind::Tuple(elems) => format!("(tuple{})", list(elems.iter().map(expr))),
        ExprKind::Array(elems) => format!("(array{})", list(elems.iter().map(expr))),
        ExprKind::ArrayRepeat(x, n) => format!("(repeat {} {})", expr(x), expr(n)),
        ExprKind::StructLit { path: p, fields, base } => {
            let fields = fields.iter().map(|f| match &f.value {
                Some(v) => format!("{}: {}", f.name.name, expr(v)),
                None => f.name.name.clone(),
            });
            format!(
                "(struct {}{}{})",
                path(p),
                list(fields),
                base.as_ref().map_or(String::new(), |b| format!(" ..{}", expr(b)))
            )
        }
        ExprKind::Match { scrutinee, arms } => {
            let arms = arms.iter().map(|a| {
                let guard = a.guard.as_ref().map_or(String::new(), |g| format!(" if {}", expr(g)));
                format!("[{}{guard} => {}]", pat(&a.pat), expr(&a.body))
            });
            format!("(match {}{})", expr(scrutinee), list(arms))
        }
        ExprKind::Closure(c) => {
            let params = c.params.iter().map(|p| match &p.ty {
                Some(t) => format!("{}: {}", pat(&p.pat), ty(t)),
                None => pat(&p.pat),
            });
            format!(
                "(closure{} [{}] {})",
                if c.is_move { " move" } else { "" },
                params.collect::<Vec<_>>().join(", "),
                expr(&c.body)
            )
        }
        ExprKind::Pipe(a, b) => format!("(|> {} {})", expr(a), expr(b)),
        ExprKind::Macro(m) => format!(
            "(macro {}{}{})",
            m.name.name,
            list(m.args.iter().map(expr)),
            m.pattern.as_ref().map_or(String::new(), |p| format!(" {}", pat(p)))
        ),
        ExprKind::Perform { effect, op, args: a } => format!("(perform {}.{}{})", path(effect), op.ident.name, args(a)),
        ExprKind::With { handler, fields, body } => {
            format!("(with {}{} {})", path(handler), list(fields.iter().map(|f| f.name.name.clone())), block(body))
        }
        ExprKind::Select(arms) => {
            let arms = arms.iter().map(|a| match &a.kind {
                SelectArmKind::Recv { binding, receiver } => {
                    format!("({} = {}.recv() => {})", binding.name, expr(receiver), expr(&a.body))
                }
                SelectArmKind::Timeout(ms) => format!("(timeout {} => {})", expr(ms), expr(&a.body)),
                SelectArmKind::Default => format!("(default => {})", expr(&a.body)),
            });
            format!("(select{})", list(arms))
        }
        ExprKind::Unsafe(b) => format!("(unsafe {})", block(b)),
        ExprKind::Unsupported { feature } => format!("(unsupported {feature})"),
        ExprKind::Error => "(error)".to_string(),
    }
}

fn lbl(label: &Option<Ident>) -> String {
    label.as_ref().map_or(String::new(), |l| format!(" '{}", l.name))
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.map(|s| format!(" {s}")).collect()
}

fn args(a: &[Arg]) -> String {
    list(a.iter().map(|a| match &a.name {
        Some(n) => format!("{}: {}", n.name, expr(&a.value)),
        None => expr(&a.value),
    }))
}

fn literal(lit: &Lit) -> String {
    match lit {
        Lit::Int { value, suffix } => {
            format!("{value}{}", suffix.map_or(String::new(), |s| format!("{s:?}").to_lowercase()))
        }
        Lit::Float { value, .. } => format!("{value:?}"),
        Lit::Bool(b) => b.to_string(),
        Lit::Char(c) => format!("{c:?}"),
        Lit::Str(s) => format!("{s:?}"),
        Lit::ByteStr(b) => format!("b{:?}", String::from_utf8_lossy(b)),
    }
}

pub fn block(b: &Block) -> String {
    let mut parts: Vec<String> = b.stmts.iter().map(stmt).collect();
    if let Some(tail) = &b.tail {
        parts.push(format!("tail {}", expr(tail)));
    }
    format!("{{{}}}", parts.join("; "))
}

pub fn stmt(s: &Stmt) -> String {
    match s {
        Stmt::Let(l) => format!(
            "let {}{}{}",
            pat(&l.pat),
            l.ty.as_ref().map_or(String::new(), |t| format!(": {}", ty(t))),
            l.init.as_ref().map_or(String::new(), |e| format!(" = {}", expr(e)))
        ),
        Stmt::Item(item) => format!("item {}", item_name(item)),
        Stmt::Expr { expr: e, has_semi } => format!("{}{}", expr(e), if *has_semi { ";" } else { "" }),
        Stmt::Empty(_) => ";".to_string(),
    }
}

pub fn item_name(item: &Item) -> String {
    match &item.kind {
        ItemKind::Fn(f) => format!("fn {}", f.name.name),
        ItemKind::Struct(s) => format!("struct {}", s.name.name),
        ItemKind::Enum(e) => format!("enum {}", e.name.name),
        ItemKind::TypeAlias(t) => format!("type {}", t.name.name),
        ItemKind::Const(c) => format!("const {}", c.name.name),
        ItemKind::Static(s) => format!("static {}", s.name.name),
        ItemKind::Impl(i) => format!("impl {}", ty(&i.self_ty)),
        ItemKind::Trait(t) => format!("trait {}", t.name.name),
        ItemKind::Mod(m) => format!("mod {}", m.name.name),
        ItemKind::Use(_) => "use".to_string(),
        ItemKind::Unsupported { feature } => format!("unsupported {feature}"),
        ItemKind::Error => "error".to_string(),
    }
}

pub fn path(p: &Path) -> String {
    p.segments
        .iter()
        .map(|s| format!("{}{}", s.ident.name, generic_args(&s.generic_args)))
        .collect::<Vec<_>>()
        .join(".")
}

fn generic_args(a: &Option<Vec<Type>>) -> String {
    match a {
        Some(args) => format!("<{}>", args.iter().map(ty).collect::<Vec<_>>().join(", ")),
        None => String::new(),
    }
}

pub fn ty(t: &Type) -> String {
    match &t.kind {
        TypeKind::Path(p) => path(p),
        TypeKind::Tuple(elems) => format!("({})", elems.iter().map(ty).collect::<Vec<_>>().join(", ")),
        TypeKind::Array(t, n) => format!("[{}; {}]", ty(t), expr(n)),
        TypeKind::Slice(t) => format!("[{}]", ty(t)),
        TypeKind::Ref { mutable, inner } => format!("&{}{}", if *mutable { "mut " } else { "" }, ty(inner)),
        TypeKind::Ptr { mutable, inner } => format!("*{} {}", if *mutable { "mut" } else { "const" }, ty(inner)),
        TypeKind::Fn { params, ret, effects } => format!(
            "fn({}){}{}",
            params.iter().map(ty).collect::<Vec<_>>().join(", "),
            ret.as_ref().map_or(String::new(), |r| format!(" -> {}", ty(r))),
            effects.as_ref().map_or(String::new(), row)
        ),
        TypeKind::Never => "!".to_string(),
        TypeKind::Infer => "_".to_string(),
        TypeKind::Unsupported { feature } => format!("(unsupported {feature})"),
        TypeKind::Error => "(error)".to_string(),
    }
}

pub fn row(r: &EffectRow) -> String {
    format!(" / {{{}}}", r.effects.iter().map(path).collect::<Vec<_>>().join(", "))
}

pub fn pat(p: &Pattern) -> String {
    match &p.kind {
        PatternKind::Wild => "_".to_string(),
        PatternKind::Ident { by_ref, mutable, name, sub } => format!(
            "{}{}{}{}",
            if *by_ref { "ref " } else { "" },
            if *mutable { "mut " } else { "" },
            name.name,
            sub.as_ref().map_or(String::new(), |s| format!(" @ {}", pat(s)))
        ),
        PatternKind::Lit(e) => expr(e),
        PatternKind::Range { lo, hi, inclusive } => {
            format!("{}{}{}", expr(lo), if *inclusive { "..=" } else { ".." }, expr(hi))
        }
        PatternKind::Tuple(elems) => format!("({})", elems.iter().map(pat).collect::<Vec<_>>().join(", ")),
        PatternKind::Path(p) => path(p),
        PatternKind::TupleStruct { path: p, elems } => {
            format!("{}({})", path(p), elems.iter().map(pat).collect::<Vec<_>>().join(", "))
        }
        PatternKind::Struct { path: p, fields, has_rest } => {
            let mut parts: Vec<String> = fields
                .iter()
                .map(|f| match &f.pat {
                    Some(sub) => format!("{}: {}", f.name.name, pat(sub)),
                    None => f.name.name.clone(),
                })
                .collect();
            if *has_rest {
                parts.push("..".to_string());
            }
            format!("{} {{ {} }}", path(p), parts.join(", "))
        }
        PatternKind::Slice(elems) => format!("[{}]", elems.iter().map(pat).collect::<Vec<_>>().join(", ")),
        PatternKind::Rest => "..".to_string(),
        PatternKind::Ref { mutable, inner } => format!("&{}{}", if *mutable { "mut " } else { "" }, pat(inner)),
        PatternKind::Or(alts) => alts.iter().map(pat).collect::<Vec<_>>().join(" | "),
        PatternKind::Error => "(error)".to_string(),
    }
}
