//! Blocks and statements with optional semicolons (LANGUAGE.md §1.5, §2, §3.3).
//!
//! A statement ends at `;`, at the `}` closing the block, at a line break (the expression
//! parser already stopped there, §1.5 rules 1–3), or — for block-like expressions (`if`,
//! `match`, loops, blocks) — right after their closing brace. Anything else on the same line is
//! an error ("expected `;`, found …"). The block's value is its last expression statement when
//! that statement has no `;`.

use super::expr::is_block_like;
use super::{PResult, Parser};
use crate::syntax::ast::{self, Stmt};
use crate::syntax::token::{Keyword, Punct, TokenKind};

impl<'src> Parser<'src> {
    /// `{ stmts }` (the `{` is current).
    pub(super) fn parse_block(&mut self) -> PResult<ast::Block> {
        self.nested(|p| {
            let lo = p.span();
            p.expect(Punct::LBrace)?;
            let mut stmts = p.with_no_struct(false, |p| {
                let mut stmts = Vec::new();
                while !p.at(Punct::RBrace) {
                    if p.is_eof() {
                        return Err(p.expected("`}`"));
                    }
                    stmts.push(p.parse_stmt()?);
                }
                Ok(stmts)
            })?;
            p.expect(Punct::RBrace)?;
            let tail = match stmts.last() {
                Some(Stmt::Expr { has_semi: false, .. }) => match stmts.pop() {
                    Some(Stmt::Expr { expr, .. }) => Some(Box::new(expr)),
                    _ => None,
                },
                _ => None,
            };
            Ok(ast::Block { stmts, tail, span: lo.to(p.prev_span()) })
        })
    }

    /// Whether the current token begins an item inside a block.
    fn at_block_item_start(&self) -> bool {
        match self.peek() {
            TokenKind::Keyword(Keyword::Extern) => false,
            TokenKind::Ident(_) => self.at_contextual_item_start(),
            _ => self.at_item_start(),
        }
    }

    fn parse_stmt(&mut self) -> PResult<Stmt> {
        if self.at(Punct::Semi) {
            return Ok(Stmt::Empty(self.bump().span));
        }
        if self.at_kw(Keyword::Let) {
            return self.parse_let().map(Stmt::Let);
        }
        if self.at_block_item_start() {
            let attrs_end = self.skip_attrs_lookahead();
            if attrs_end.is_none_or(|i| self.is_item_keyword_at(i)) {
                return self.parse_item().map(|item| Stmt::Item(Box::new(item)));
            }
            // Attributes on a statement (`#[allow(x)] let …`) are dropped.
            self.parse_attrs()?;
            return self.parse_stmt();
        }
        let expr = self.parse_expr()?;
        let has_semi = self.eat(Punct::Semi);
        if !has_semi {
            self.expect_statement_end(is_block_like(&expr.kind))?;
        }
        Ok(Stmt::Expr { expr, has_semi })
    }

    /// If the current token is `#`, the token index after the attribute group(s).
    fn skip_attrs_lookahead(&self) -> Option<usize> {
        let mut i = self.pos;
        while matches!(self.tokens.get(i).map(|t| &t.kind), Some(TokenKind::Punct(Punct::Hash))) {
            i += 1;
            if matches!(self.tokens.get(i).map(|t| &t.kind), Some(TokenKind::Punct(Punct::Bang))) {
                i += 1;
            }
            let mut depth = 0usize;
            while let Some(token) = self.tokens.get(i) {
                i += 1;
                match token.kind {
                    TokenKind::Punct(Punct::LBracket) => depth += 1,
                    TokenKind::Punct(Punct::RBracket) => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            break;
                        }
                    }
                    TokenKind::Eof => return Some(i - 1),
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
            }
        }
        if i == self.pos { None } else { Some(i) }
    }

    /// Whether the token at index `i` begins an item (after attributes).
    fn is_item_keyword_at(&self, i: usize) -> bool {
        match self.tokens.get(i).map(|t| &t.kind) {
            Some(TokenKind::Keyword(kw)) => super::items::is_item_keyword(kw),
            Some(TokenKind::Ident(word)) => matches!(word.as_str(), "handler" | "deep" | "shallow" | "bridge"),
            _ => false,
        }
    }

    /// After an expression statement without `;`: the statement must end here.
    fn expect_statement_end(&mut self, block_like: bool) -> PResult<()> {
        if self.at(Punct::RBrace) || self.is_eof() || block_like || self.at_line_start() {
            Ok(())
        } else {
            Err(self.expected("`;`"))
        }
    }

    /// `let pat (: T)? = init ;?`
    fn parse_let(&mut self) -> PResult<ast::LetStmt> {
        let lo = self.span();
        self.expect_kw(Keyword::Let)?;
        let pat = self.parse_pattern()?;
        let ty = if self.eat(Punct::Colon) { Some(self.parse_type()?) } else { None };
        self.expect(Punct::Eq)?;
        let init = self.parse_expr()?;
        if !self.eat(Punct::Semi) {
            self.expect_statement_end(false)?;
        }
        Ok(ast::LetStmt { pat, ty, init: Some(init), span: lo.to(self.prev_span()) })
    }
}
