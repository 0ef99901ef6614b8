//! The effect and concurrency expression forms: `perform`, `with … handle`, `select!`
//! (LANGUAGE.md §6.3, §7.2).
//!
//! These produce real nodes; which effects and handlers exist is the type checker's business
//! (today the built-in `Fiber`/`Cancel` effects and the `Nursery` handler). Operation names after
//! `.` may be reserved words (`perform Fiber.yield()`, §7.2 keyword rule).

use super::expr::expr;
use super::{PResult, Parser};
use crate::syntax::ast::{self, ExprKind};
use crate::syntax::token::{Punct, TokenKind};

impl<'src> Parser<'src> {
    /// `perform Path.op(args)` (the `perform` word is current).
    pub(super) fn parse_perform(&mut self) -> PResult<ast::Expr> {
        let lo = self.bump().span;
        let mut path = self.with_no_struct(true, |p| p.parse_expr_path())?;
        if path.segments.len() < 2 {
            return Err(self.error_at("expected `Effect.operation(…)` after `perform`", path.span));
        }
        let op = path.segments.pop().expect("two segments");
        path.span =
            path.segments.first().expect("one segment").ident.span.to(path.segments.last().expect("one").ident.span);
        if !self.at(Punct::LParen) {
            return Err(self.expected("`(`"));
        }
        let args = self.parse_call_args()?;
        Ok(expr(ExprKind::Perform { effect: path, op, args }, lo.to(self.prev_span())))
    }

    /// `with Path { field: e, … } handle { … }` (the `with` word is current).
    pub(super) fn parse_with(&mut self) -> PResult<ast::Expr> {
        let lo = self.bump().span;
        let handler = self.with_no_struct(true, |p| p.parse_expr_path())?;
        let mut fields = Vec::new();
        if self.eat(Punct::LBrace) {
            self.with_no_struct(false, |p| {
                while !p.eat(Punct::RBrace) {
                    let field_lo = p.span();
                    let name = p.expect_ident("identifier")?;
                    let value = if p.eat(Punct::Colon) { Some(p.parse_expr()?) } else { None };
                    fields.push(ast::FieldInit { name, value, span: field_lo.to(p.prev_span()) });
                    if !p.eat(Punct::Comma) && !p.at(Punct::RBrace) && !p.at_line_start() {
                        return Err(p.expected("`,`"));
                    }
                }
                Ok(())
            })?;
        }
        if !self.at_word("handle") {
            return Err(self.expected("`handle`"));
        }
        self.bump();
        let body = self.parse_block()?;
        Ok(expr(ExprKind::With { handler, fields, body }, lo.to(self.prev_span())))
    }

    /// `select! { arm, … }` (the `select` keyword is current).
    pub(super) fn parse_select(&mut self) -> PResult<ast::Expr> {
        let lo = self.bump().span;
        self.expect(Punct::Bang)?;
        self.expect(Punct::LBrace)?;
        let arms = self.with_no_struct(false, |p| {
            let mut arms = Vec::new();
            while !p.eat(Punct::RBrace) {
                arms.push(p.parse_select_arm()?);
                if !p.eat(Punct::Comma) && !p.at(Punct::RBrace) && !p.at_line_start() {
                    return Err(p.expected("`,`"));
                }
            }
            Ok(arms)
        })?;
        Ok(expr(ExprKind::Select(arms), lo.to(self.prev_span())))
    }

    fn parse_select_arm(&mut self) -> PResult<ast::SelectArm> {
        let lo = self.span();
        let kind = match self.peek().clone() {
            TokenKind::Ident(word) if word == "default" => {
                self.bump();
                ast::SelectArmKind::Default
            }
            TokenKind::Ident(word)
                if word == "timeout" && matches!(self.peek_at(1), TokenKind::Punct(Punct::LParen)) =>
            {
                self.bump();
                self.expect(Punct::LParen)?;
                let ms = self.parse_expr()?;
                self.expect(Punct::RParen)?;
                ast::SelectArmKind::Timeout(ms)
            }
            TokenKind::Ident(_) => {
                let binding = self.expect_ident("identifier")?;
                self.expect(Punct::Eq)?;
                let call = self.parse_expr()?;
                match call.kind {
                    ExprKind::MethodCall { receiver, method, args }
                        if method.ident.name == "recv" && args.is_empty() =>
                    {
                        ast::SelectArmKind::Recv { binding, receiver: *receiver }
                    }
                    // `rx.recv()` parses as a call of the path `rx.recv`.
                    ExprKind::Call { callee, args }
                        if args.is_empty()
                            && matches!(&callee.kind, ExprKind::Path(p)
                                if p.segments.len() >= 2 && p.segments.last().is_some_and(|s| s.ident.name == "recv")) =>
                    {
                        let ExprKind::Path(mut path) = callee.kind else { unreachable!("matched above") };
                        path.segments.pop();
                        let last = path.segments.last().expect("two segments").ident.span;
                        path.span = crate::source::Span::new(path.span.file, path.span.lo, last.hi);
                        let span = path.span;
                        ast::SelectArmKind::Recv { binding, receiver: expr(ExprKind::Path(path), span) }
                    }
                    _ => return Err(self.error_at("expected `receiver.recv()` in a `select!` arm", call.span)),
                }
            }
            _ => return Err(self.expected("`select!` arm (`x = rx.recv()`, `timeout(ms)` or `default`)")),
        };
        self.expect(Punct::FatArrow)?;
        let body = self.parse_expr()?;
        Ok(ast::SelectArm { kind, body, span: lo.to(self.prev_span()) })
    }
}
