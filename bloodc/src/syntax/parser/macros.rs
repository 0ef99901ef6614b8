//! Builtin macro calls and the expression forms of levels not implemented yet.
//!
//! Macros (`name!(…)`, `name![…]`, `name!{…}`) keep their arguments as expressions
//! (LANGUAGE.md §3.9, §4.6): `vec![x; n]` gives one `ArrayRepeat` argument, `matches!(e, p)`
//! puts `p` in [`ast::MacroCall::pattern`], and `assert!`-like macros need at least one
//! argument (`assert!()` → "expected expression, found `)`"). An unknown macro whose arguments
//! do not parse as expressions is skipped whole (the type checker rejects unknown macros anyway).
//!
//! The L3/L5 expression forms not implemented (`resume(…)`, `try { } with { }`, `region { }`)
//! are consumed whole — balanced delimiters — into [`ast::ExprKind::Unsupported`], whose
//! `feature` names the construct. `perform`, `with … handle { }` and `select! { }` are parsed
//! into real nodes by `effects.rs`, `@unsafe { }` here; `unchecked(…) { }` and `@heap e` /
//! `@stack e` are L0 and produce real nodes too.

use super::expr::expr;
use super::{PResult, ParseError, Parser};
use crate::syntax::ast::{self, ExprKind};
use crate::syntax::token::{Keyword, Punct, TokenKind};

const FEATURE_TRY: &str = "try … with";
const FEATURE_REGION: &str = "region";
const FEATURE_RESUME: &str = "resume";

/// How far the parser looks ahead to classify `unchecked(…) {` and `with … handle`.
const LOOKAHEAD_LIMIT: usize = 4096;

/// Unsupported forms that end with a block (§1.5 rule 2).
pub(super) fn is_block_like_feature(feature: &str) -> bool {
    matches!(feature, FEATURE_TRY | FEATURE_REGION)
}

/// Macros that need at least one argument.
fn min_macro_args(name: &str) -> usize {
    match name {
        "assert" | "dbg" => 1,
        "assert_eq" | "assert_ne" => 2,
        _ => 0,
    }
}

fn is_known_macro(name: &str) -> bool {
    matches!(
        name,
        "println"
            | "print"
            | "eprintln"
            | "eprint"
            | "format"
            | "panic"
            | "assert"
            | "assert_eq"
            | "assert_ne"
            | "unreachable"
            | "todo"
            | "dbg"
            | "vec"
            | "matches"
    )
}

impl<'src> Parser<'src> {
    /// Contextual words that start special expressions when followed appropriately.
    pub(super) fn at_special_word(&self, word: &str) -> bool {
        let next = self.token_at(1);
        match word {
            "unchecked" => {
                matches!(next.kind, TokenKind::Punct(Punct::LParen))
                    && self.matching_close(self.pos + 1).is_some_and(|close| {
                        matches!(self.tokens.get(close + 1).map(|t| &t.kind), Some(TokenKind::Punct(Punct::LBrace)))
                    })
            }
            "perform" => matches!(next.kind, TokenKind::Ident(_)) && !next.line_start,
            "resume" => matches!(next.kind, TokenKind::Punct(Punct::LParen)),
            "with" => matches!(next.kind, TokenKind::Ident(_)) && !next.line_start && self.handle_follows(),
            _ => false,
        }
    }

    /// Index of the delimiter closing the one at token index `open`, looking at most
    /// [`LOOKAHEAD_LIMIT`] tokens ahead (keeps pathological inputs linear).
    fn matching_close(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        for (i, token) in self.tokens.iter().enumerate().skip(open).take(LOOKAHEAD_LIMIT) {
            match token.kind {
                TokenKind::Punct(Punct::LParen | Punct::LBracket | Punct::LBrace) => depth += 1,
                TokenKind::Punct(Punct::RParen | Punct::RBracket | Punct::RBrace) => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// After `with`: a `handle` keyword comes before the statement ends.
    fn handle_follows(&self) -> bool {
        let mut i = self.pos + 1;
        while let Some(token) = self.tokens.get(i).filter(|_| i < self.pos + LOOKAHEAD_LIMIT) {
            match &token.kind {
                TokenKind::Ident(word) if word == "handle" => return true,
                TokenKind::Punct(Punct::LBrace | Punct::LParen | Punct::LBracket) => match self.matching_close(i) {
                    Some(close) => i = close,
                    None => return false,
                },
                TokenKind::Punct(Punct::Semi | Punct::RBrace | Punct::RParen | Punct::RBracket) | TokenKind::Eof => {
                    return false;
                }
                _ => {}
            }
            i += 1;
        }
        false
    }

    pub(super) fn parse_special_word(&mut self, word: &str) -> PResult<(ast::Expr, bool)> {
        match word {
            "perform" => return self.parse_perform().map(|e| (e, false)),
            "with" => return self.parse_with().map(|e| (e, true)),
            _ => {}
        }
        let lo = self.bump().span;
        let feature = match word {
            "unchecked" => {
                self.skip_balanced()?;
                let block = self.parse_block()?;
                return Ok((expr(ExprKind::Unchecked(block), lo.to(self.prev_span())), true));
            }
            "resume" => {
                self.skip_balanced()?;
                FEATURE_RESUME
            }
            _ => return Err(self.expected("expression")),
        };
        let span = lo.to(self.prev_span());
        Ok((expr(ExprKind::Unsupported { feature: feature.to_string() }, span), is_block_like_feature(feature)))
    }

    fn expect_open_and_skip(&mut self) -> PResult<()> {
        if !self.at(Punct::LBrace) {
            return Err(self.expected("`{`"));
        }
        self.skip_balanced()?;
        Ok(())
    }

    /// `try { } with { }`, `region name? { }`, `select! { }`.
    pub(super) fn parse_keyword_unsupported(&mut self) -> PResult<(ast::Expr, bool)> {
        let lo = self.span();
        let feature = match self.peek() {
            TokenKind::Keyword(Keyword::Try) => {
                self.bump();
                self.expect_open_and_skip()?;
                if !self.at_word("with") {
                    return Err(self.expected("`with`"));
                }
                self.bump();
                self.expect_open_and_skip()?;
                FEATURE_TRY
            }
            TokenKind::Keyword(Keyword::Region) => {
                self.bump();
                if matches!(self.peek(), TokenKind::Ident(_) | TokenKind::Lifetime(_)) {
                    self.bump();
                }
                self.expect_open_and_skip()?;
                FEATURE_REGION
            }
            _ => {
                if !matches!(self.peek_at(1), TokenKind::Punct(Punct::Bang)) {
                    return Err(self.expected("expression"));
                }
                return self.parse_select().map(|e| (e, true));
            }
        };
        let span = lo.to(self.prev_span());
        Ok((expr(ExprKind::Unsupported { feature: feature.to_string() }, span), true))
    }

    /// `@heap e`, `@stack e` (just `e`) and `@unsafe { }`.
    pub(super) fn parse_at_expr(&mut self) -> PResult<(ast::Expr, bool)> {
        let lo = self.span();
        match self.peek_at(1).clone() {
            TokenKind::Keyword(Keyword::Unsafe) => {
                self.bump();
                self.bump();
                if !self.at(Punct::LBrace) {
                    return Err(self.expected("`{`"));
                }
                let block = self.parse_block()?;
                Ok((expr(ExprKind::Unsafe(block), lo.to(self.prev_span())), true))
            }
            TokenKind::Ident(word) if word == "heap" || word == "stack" => {
                self.bump();
                self.bump();
                let inner = self.parse_expr_bp(super::expr::PREC_RANGE + 1)?;
                Ok((inner, false))
            }
            _ => Err(self.expected("expression")),
        }
    }

    /// `name!…` (the `!` is current).
    pub(super) fn parse_macro(&mut self, name: ast::Ident) -> PResult<ast::Expr> {
        let lo = name.span;
        self.expect(Punct::Bang)?;
        let open_pos = self.pos;
        let close = match self.bump().kind {
            TokenKind::Punct(Punct::LParen) => Punct::RParen,
            TokenKind::Punct(Punct::LBracket) => Punct::RBracket,
            _ => Punct::RBrace,
        };
        let (args, pattern) = if is_known_macro(&name.name) {
            self.with_no_struct(false, |p| p.parse_macro_args(&name.name, close))?
        } else {
            let saved = (self.diags.len(), self.depth, self.split_log.len());
            match self.with_no_struct(false, |p| p.parse_macro_args(&name.name, close)) {
                Ok(result) => result,
                Err(ParseError) => {
                    self.diags.truncate(saved.0);
                    self.depth = saved.1;
                    self.undo_splits(saved.2);
                    self.pos = open_pos;
                    self.skip_balanced()?;
                    (Vec::new(), None)
                }
            }
        };
        let call = ast::MacroCall { name, args, pattern };
        Ok(expr(ExprKind::Macro(call), lo.to(self.prev_span())))
    }

    /// Arguments after the opening delimiter, up to and including `close`.
    fn parse_macro_args(&mut self, name: &str, close: Punct) -> PResult<(Vec<ast::Expr>, Option<Box<ast::Pattern>>)> {
        if name == "vec" {
            let lo = self.prev_span();
            let array = self.parse_array_rest(lo, close)?;
            return Ok(match array.kind {
                ExprKind::Array(elems) => (elems, None),
                _ => (vec![array], None),
            });
        }
        if name == "matches" {
            let value = self.parse_expr()?;
            self.expect(Punct::Comma)?;
            let pattern = self.parse_pattern()?;
            if self.eat_kw(Keyword::If) {
                self.parse_expr()?;
            }
            self.eat(Punct::Comma);
            self.expect(close)?;
            return Ok((vec![value], Some(Box::new(pattern))));
        }
        let min = min_macro_args(name);
        let mut args = Vec::new();
        loop {
            if args.len() >= min && self.eat(close) {
                break;
            }
            args.push(self.parse_expr()?);
            if !self.eat(Punct::Comma) {
                self.expect(close)?;
                break;
            }
        }
        Ok((args, None))
    }
}
