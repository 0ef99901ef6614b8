//! Primary expressions: literals, paths, struct literals, tuples, arrays, blocks, closures and
//! control flow (`if`, `match`, loops with labels, `break`/`continue`/`return`), plus
//! `unchecked(…) { }` and `@heap`/`@stack` (LANGUAGE.md §3.7, §4, §5.3).
//!
//! [`Parser::parse_primary`] also says whether the expression is block-like (§1.5 rule 2).
//! Macros and the constructs of unimplemented levels are in `macros.rs`.

use super::expr::{expr, is_block_like};
use super::{PResult, Parser, is_type_like_name};
use crate::syntax::ast::{self, ExprKind, Lit};
use crate::syntax::token::{Keyword, Punct, TokenKind};

impl<'src> Parser<'src> {
    pub(super) fn parse_primary(&mut self) -> PResult<(ast::Expr, bool)> {
        let lo = self.span();
        let simple = |kind| Ok((expr(kind, lo), false));
        match self.peek().clone() {
            TokenKind::Int(value, suffix) => {
                self.bump();
                match value {
                    Some(value) => simple(ExprKind::Lit(Lit::Int { value, suffix })),
                    None => simple(ExprKind::Error),
                }
            }
            TokenKind::Float(value, suffix) => {
                self.bump();
                simple(ExprKind::Lit(Lit::Float { value, suffix }))
            }
            TokenKind::Char(c) => {
                self.bump();
                simple(ExprKind::Lit(Lit::Char(c)))
            }
            TokenKind::Str(s) => {
                self.bump();
                simple(ExprKind::Lit(Lit::Str(s)))
            }
            TokenKind::ByteStr(b) => {
                self.bump();
                simple(ExprKind::Lit(Lit::ByteStr(b)))
            }
            TokenKind::Keyword(Keyword::True) => {
                self.bump();
                simple(ExprKind::Lit(Lit::Bool(true)))
            }
            TokenKind::Keyword(Keyword::False) => {
                self.bump();
                simple(ExprKind::Lit(Lit::Bool(false)))
            }
            TokenKind::Ident(word) if self.at_special_word(&word) => self.parse_special_word(&word),
            TokenKind::Ident(_)
            | TokenKind::Keyword(Keyword::SelfValue | Keyword::SelfType | Keyword::Super | Keyword::Crate) => {
                self.parse_path_expr().map(|e| (e, false))
            }
            TokenKind::Punct(Punct::LParen) => self.parse_paren_or_tuple().map(|e| (e, false)),
            TokenKind::Punct(Punct::LBracket) => self.parse_array().map(|e| (e, false)),
            TokenKind::Punct(Punct::LBrace) => {
                let block = self.parse_block()?;
                let span = block.span;
                Ok((expr(ExprKind::Block(block), span), true))
            }
            TokenKind::Punct(Punct::Pipe | Punct::OrOr) | TokenKind::Keyword(Keyword::Move) => {
                self.parse_closure().map(|e| (e, false))
            }
            TokenKind::Punct(Punct::At) => self.parse_at_expr(),
            TokenKind::Keyword(Keyword::If) => self.parse_if().map(|e| (e, true)),
            TokenKind::Keyword(Keyword::Match) => self.parse_match().map(|e| (e, true)),
            TokenKind::Keyword(Keyword::Loop | Keyword::While | Keyword::For) => {
                self.parse_loop(None).map(|e| (e, true))
            }
            TokenKind::Lifetime(name) => {
                let label = ast::Ident { name, span: self.bump().span };
                self.expect(Punct::Colon)?;
                if !matches!(self.peek(), TokenKind::Keyword(Keyword::Loop | Keyword::While | Keyword::For)) {
                    return Err(self.expected("`loop`"));
                }
                self.parse_loop(Some(label)).map(|e| (e, true))
            }
            TokenKind::Keyword(Keyword::Break) => {
                self.bump();
                let label = self.parse_opt_label();
                let value = self.parse_opt_operand()?;
                Ok((expr(ExprKind::Break { label, value }, lo.to(self.prev_span())), false))
            }
            TokenKind::Keyword(Keyword::Continue) => {
                self.bump();
                let label = self.parse_opt_label();
                Ok((expr(ExprKind::Continue { label }, lo.to(self.prev_span())), false))
            }
            TokenKind::Keyword(Keyword::Return) => {
                self.bump();
                let value = self.parse_opt_operand()?;
                Ok((expr(ExprKind::Return(value), lo.to(self.prev_span())), false))
            }
            TokenKind::Keyword(Keyword::Try | Keyword::Region | Keyword::Select) => self.parse_keyword_unsupported(),
            TokenKind::Keyword(Keyword::Unsafe) => {
                let diag = crate::diagnostics::Diagnostic::error("expected expression, found `unsafe`", lo)
                    .with_help("use `@unsafe`");
                self.report(diag);
                Err(super::ParseError)
            }
            _ => Err(self.expected("expression")),
        }
    }

    fn parse_opt_label(&mut self) -> Option<ast::Ident> {
        match self.peek().clone() {
            TokenKind::Lifetime(name) if !self.at_line_start() => Some(ast::Ident { name, span: self.bump().span }),
            _ => None,
        }
    }

    /// The optional operand of `break`/`return`: present when an expression starts on the same
    /// line.
    fn parse_opt_operand(&mut self) -> PResult<Option<Box<ast::Expr>>> {
        if self.can_start_expr() && !self.at_line_start() { Ok(Some(Box::new(self.parse_expr()?))) } else { Ok(None) }
    }

    /// A path expression, possibly a macro call or struct literal.
    fn parse_path_expr(&mut self) -> PResult<ast::Expr> {
        let path = self.parse_expr_path()?;
        let lo = path.span;
        if path.segments.len() == 1
            && self.at(Punct::Bang)
            && !self.at_line_start()
            && matches!(self.peek_at(1), TokenKind::Punct(Punct::LParen | Punct::LBracket | Punct::LBrace))
        {
            let name = path.segments.into_iter().next().expect("one segment").ident;
            return self.parse_macro(name);
        }
        let last_is_type = path.segments.last().is_some_and(|s| is_type_like_name(&s.ident.name));
        if self.at(Punct::LBrace) && !self.no_struct && last_is_type && !self.line_break_ends_expr() {
            return self.parse_struct_lit(path);
        }
        Ok(expr(ExprKind::Path(path), lo))
    }

    /// `a.b::<T>.c` in expression position: segments joined by `.`/`::` while a name follows
    /// (reserved words included after `.`, §7.2); `::<T>` turbofish on any segment.
    pub(super) fn parse_expr_path(&mut self) -> PResult<ast::Path> {
        let lo = self.span();
        let mut segments = Vec::new();
        let mut ident = self.parse_path_segment_name()?;
        loop {
            let mut segment = ast::PathSegment { ident, generic_args: None };
            if self.at(Punct::ColonColon) && matches!(self.peek_at(1), TokenKind::Punct(Punct::Lt)) {
                self.bump();
                segment.generic_args = Some(self.parse_generic_args()?);
            }
            segments.push(segment);
            let separator = self.at(Punct::Dot) || self.at(Punct::ColonColon);
            let name_follows = match self.peek_at(1) {
                TokenKind::Ident(_) | TokenKind::Keyword(Keyword::SelfType) => true,
                TokenKind::Keyword(kw) => kw.is_reserved(),
                _ => false,
            };
            if !separator || !name_follows || self.line_break_ends_expr() {
                break;
            }
            self.bump();
            ident = match self.peek().clone() {
                TokenKind::Keyword(Keyword::SelfType) => ast::Ident { name: "Self".into(), span: self.bump().span },
                _ => self.parse_member_name()?,
            };
        }
        Ok(ast::Path { segments, span: lo.to(self.prev_span()) })
    }

    /// `Path { a: 1, b, ..base }` (the `{` is current).
    fn parse_struct_lit(&mut self, path: ast::Path) -> PResult<ast::Expr> {
        let lo = path.span;
        self.expect(Punct::LBrace)?;
        self.with_no_struct(false, |p| {
            let mut fields = Vec::new();
            let mut base = None;
            while !p.eat(Punct::RBrace) {
                if p.eat(Punct::DotDot) {
                    base = Some(Box::new(p.parse_expr()?));
                    p.eat(Punct::Comma);
                    p.expect(Punct::RBrace)?;
                    break;
                }
                let field_lo = p.span();
                let name = match p.peek().clone() {
                    TokenKind::Int(Some(index), None) => ast::Ident { name: index.to_string(), span: p.bump().span },
                    _ => p.expect_ident("identifier")?,
                };
                let value = if p.eat(Punct::Colon) { Some(p.parse_expr()?) } else { None };
                fields.push(ast::FieldInit { name, value, span: field_lo.to(p.prev_span()) });
                if !p.eat(Punct::Comma) && !p.at(Punct::RBrace) && !p.at_line_start() {
                    return Err(p.expected("`,`"));
                }
            }
            Ok(expr(ExprKind::StructLit { path, fields, base }, lo.to(p.prev_span())))
        })
    }

    /// `()`, `(e)`, `(e,)`, `(a, b)`.
    fn parse_paren_or_tuple(&mut self) -> PResult<ast::Expr> {
        let lo = self.span();
        self.expect(Punct::LParen)?;
        self.with_no_struct(false, |p| {
            let mut elems = Vec::new();
            let mut trailing_comma = false;
            while !p.eat(Punct::RParen) {
                elems.push(p.parse_expr()?);
                trailing_comma = p.eat(Punct::Comma);
                if !trailing_comma {
                    p.expect(Punct::RParen)?;
                    break;
                }
            }
            let span = lo.to(p.prev_span());
            if elems.len() == 1 && !trailing_comma {
                let mut inner = elems.pop().expect("one element");
                inner.span = span;
                return Ok(inner);
            }
            Ok(expr(ExprKind::Tuple(elems), span))
        })
    }

    /// `[a, b]`, `[x; n]`, `[]`.
    pub(super) fn parse_array(&mut self) -> PResult<ast::Expr> {
        let lo = self.span();
        self.expect(Punct::LBracket)?;
        self.with_no_struct(false, |p| p.parse_array_rest(lo, Punct::RBracket))
    }

    /// After the opening bracket of an array (or `vec!` argument list closed by `close`).
    pub(super) fn parse_array_rest(&mut self, lo: crate::source::Span, close: Punct) -> PResult<ast::Expr> {
        let mut elems = Vec::new();
        while !self.eat(close) {
            elems.push(self.parse_expr()?);
            if elems.len() == 1 && self.eat(Punct::Semi) {
                let count = self.parse_expr()?;
                self.expect(close)?;
                let value = elems.pop().expect("one element");
                return Ok(expr(ExprKind::ArrayRepeat(Box::new(value), Box::new(count)), lo.to(self.prev_span())));
            }
            if !self.eat(Punct::Comma) {
                self.expect(close)?;
                break;
            }
        }
        Ok(expr(ExprKind::Array(elems), lo.to(self.prev_span())))
    }

    /// `|a, b: T| -> R / row body`, `|| body`, `move |…| body`.
    fn parse_closure(&mut self) -> PResult<ast::Expr> {
        let lo = self.span();
        let is_move = self.eat_kw(Keyword::Move);
        let mut params = Vec::new();
        if !self.eat(Punct::OrOr) {
            self.expect(Punct::Pipe)?;
            while !self.eat(Punct::Pipe) {
                let pat = self.parse_pattern_no_alt()?;
                let ty = if self.eat(Punct::Colon) { Some(self.parse_type()?) } else { None };
                params.push(ast::ClosureParam { pat, ty });
                if !self.eat(Punct::Comma) {
                    self.expect(Punct::Pipe)?;
                    break;
                }
            }
        }
        let ret = if self.eat(Punct::Arrow) { Some(self.parse_type()?) } else { None };
        let effects = if self.at(Punct::Slash) {
            self.bump();
            Some(self.parse_effect_row()?)
        } else {
            None
        };
        let body = self.with_no_struct(false, |p| p.parse_expr())?;
        let span = lo.to(body.span);
        Ok(expr(ExprKind::Closure(ast::Closure { is_move, params, ret, effects, body: Box::new(body) }), span))
    }

    /// `if c { } else …` and `if let p = e { } else …`.
    fn parse_if(&mut self) -> PResult<ast::Expr> {
        let lo = self.span();
        self.expect_kw(Keyword::If)?;
        let kind = if self.eat_kw(Keyword::Let) {
            let pat = self.parse_pattern()?;
            self.expect(Punct::Eq)?;
            let scrutinee = self.with_no_struct(true, |p| p.parse_expr())?;
            let then = self.parse_block()?;
            let else_ = self.parse_else()?;
            ExprKind::IfLet { pat, scrutinee: Box::new(scrutinee), then, else_ }
        } else {
            let cond = self.with_no_struct(true, |p| p.parse_expr())?;
            let then = self.parse_block()?;
            let else_ = self.parse_else()?;
            ExprKind::If { cond: Box::new(cond), then, else_ }
        };
        Ok(expr(kind, lo.to(self.prev_span())))
    }

    fn parse_else(&mut self) -> PResult<Option<Box<ast::Expr>>> {
        if !self.eat_kw(Keyword::Else) {
            return Ok(None);
        }
        if self.at_kw(Keyword::If) {
            return Ok(Some(Box::new(self.nested(|p| p.parse_if())?)));
        }
        let block = self.parse_block()?;
        let span = block.span;
        Ok(Some(Box::new(expr(ExprKind::Block(block), span))))
    }

    /// `loop`, `while`, `while let`, `for` (after an optional label).
    fn parse_loop(&mut self, label: Option<ast::Ident>) -> PResult<ast::Expr> {
        let lo = label.as_ref().map_or(self.span(), |l| l.span);
        let kind = match self.bump().kind {
            TokenKind::Keyword(Keyword::Loop) => ExprKind::Loop { label, body: self.parse_block()? },
            TokenKind::Keyword(Keyword::While) if self.eat_kw(Keyword::Let) => {
                let pat = self.parse_pattern()?;
                self.expect(Punct::Eq)?;
                let scrutinee = self.with_no_struct(true, |p| p.parse_expr())?;
                let body = self.parse_block()?;
                ExprKind::WhileLet { label, pat, scrutinee: Box::new(scrutinee), body }
            }
            TokenKind::Keyword(Keyword::While) => {
                let cond = self.with_no_struct(true, |p| p.parse_expr())?;
                let body = self.parse_block()?;
                ExprKind::While { label, cond: Box::new(cond), body }
            }
            _ => {
                let pat = self.parse_pattern()?;
                self.expect_kw(Keyword::In)?;
                let iter = self.with_no_struct(true, |p| p.parse_expr())?;
                let body = self.parse_block()?;
                ExprKind::For { label, pat, iter: Box::new(iter), body }
            }
        };
        Ok(expr(kind, lo.to(self.prev_span())))
    }

    /// `match e { pat if guard => body, … }` with optional commas (§4.7, §1.5).
    fn parse_match(&mut self) -> PResult<ast::Expr> {
        let lo = self.span();
        self.expect_kw(Keyword::Match)?;
        let scrutinee = self.with_no_struct(true, |p| p.parse_expr())?;
        self.expect(Punct::LBrace)?;
        let arms = self.with_no_struct(false, |p| {
            let mut arms = Vec::new();
            while !p.eat(Punct::RBrace) {
                let arm_lo = p.span();
                let pat = p.parse_pattern()?;
                let guard = if p.eat_kw(Keyword::If) { Some(p.parse_expr()?) } else { None };
                p.expect(Punct::FatArrow)?;
                let body = p.parse_expr()?;
                let block_body = is_block_like(&body.kind);
                arms.push(ast::MatchArm { pat, guard, body, span: arm_lo.to(p.prev_span()) });
                if !p.eat(Punct::Comma) && !p.at(Punct::RBrace) && !block_body && !p.at_line_start() {
                    return Err(p.expected("`,`"));
                }
            }
            Ok(arms)
        })?;
        Ok(expr(ExprKind::Match { scrutinee: Box::new(scrutinee), arms }, lo.to(self.prev_span())))
    }
}
