//! Patterns (LANGUAGE.md §4.7): wildcards, literals (also negative), ranges, bindings with
//! `ref`/`mut`/`@`, paths, tuple-struct and struct patterns, tuples, slices with `..`,
//! references and or-patterns.
//!
//! A lone lower-case name is a binding; a lone upper-case name (`None`, `Tag`) or any
//! multi-segment path (`Color.Red`) is a constant pattern ([`ast::PatternKind::Path`]).
//! Closure parameters use [`Parser::parse_pattern_no_alt`] so `|` ends the parameter list.

use super::expr::expr;
use super::{PResult, Parser, is_type_like_name};
use crate::syntax::ast::{self, ExprKind, Lit, PatternKind};
use crate::syntax::token::{Keyword, Punct, TokenKind};

fn pattern(kind: PatternKind, span: crate::source::Span) -> ast::Pattern {
    ast::Pattern { kind, span }
}

impl<'src> Parser<'src> {
    /// A pattern with alternatives: `A | B | C` (a leading `|` is allowed).
    pub(super) fn parse_pattern(&mut self) -> PResult<ast::Pattern> {
        self.nested(|p| {
            let lo = p.span();
            p.eat(Punct::Pipe);
            let first = p.parse_pattern_no_alt()?;
            if !p.at(Punct::Pipe) {
                return Ok(first);
            }
            let mut alternatives = vec![first];
            while p.eat(Punct::Pipe) {
                alternatives.push(p.parse_pattern_no_alt()?);
            }
            Ok(pattern(PatternKind::Or(alternatives), lo.to(p.prev_span())))
        })
    }

    /// One alternative (no top-level `|`).
    pub(super) fn parse_pattern_no_alt(&mut self) -> PResult<ast::Pattern> {
        self.nested(|p| p.parse_pattern_inner())
    }

    fn parse_pattern_inner(&mut self) -> PResult<ast::Pattern> {
        let lo = self.span();
        match self.peek().clone() {
            TokenKind::Ident(name) if name == "_" => {
                self.bump();
                Ok(pattern(PatternKind::Wild, lo))
            }
            TokenKind::Punct(Punct::DotDot) => {
                self.bump();
                Ok(pattern(PatternKind::Rest, lo))
            }
            TokenKind::Punct(Punct::Minus)
            | TokenKind::Int(..)
            | TokenKind::Float(..)
            | TokenKind::Char(_)
            | TokenKind::Str(_)
            | TokenKind::ByteStr(_)
            | TokenKind::Keyword(Keyword::True | Keyword::False) => {
                let literal = self.parse_literal_bound()?;
                self.parse_maybe_range(literal, PatternKind::Lit)
            }
            TokenKind::Keyword(Keyword::Ref | Keyword::Mut) => self.parse_binding(),
            TokenKind::Ident(_)
            | TokenKind::Keyword(Keyword::SelfType | Keyword::SelfValue | Keyword::Super | Keyword::Crate) => {
                self.parse_path_pattern()
            }
            TokenKind::Punct(Punct::LParen) => {
                self.bump();
                let (elems, trailing_comma) = self.parse_pattern_list(Punct::RParen)?;
                let span = lo.to(self.prev_span());
                if elems.len() == 1 && !trailing_comma && !matches!(elems[0].kind, PatternKind::Rest) {
                    let inner = elems.into_iter().next().expect("one element");
                    return Ok(pattern(inner.kind, span));
                }
                Ok(pattern(PatternKind::Tuple(elems), span))
            }
            TokenKind::Punct(Punct::LBracket) => {
                self.bump();
                let (elems, _) = self.parse_pattern_list(Punct::RBracket)?;
                Ok(pattern(PatternKind::Slice(elems), lo.to(self.prev_span())))
            }
            TokenKind::Punct(Punct::Amp | Punct::AndAnd) => {
                let double = self.bump().kind == TokenKind::Punct(Punct::AndAnd);
                let mutable = self.eat_kw(Keyword::Mut);
                let inner = self.parse_pattern_no_alt()?;
                let span = lo.to(inner.span);
                let reference = pattern(PatternKind::Ref { mutable, inner: Box::new(inner) }, span);
                if double {
                    return Ok(pattern(PatternKind::Ref { mutable: false, inner: Box::new(reference) }, span));
                }
                Ok(reference)
            }
            _ => Err(self.expected("pattern")),
        }
    }

    /// Patterns separated by commas up to and including `close`; returns whether a trailing
    /// comma was written.
    fn parse_pattern_list(&mut self, close: Punct) -> PResult<(Vec<ast::Pattern>, bool)> {
        let mut elems = Vec::new();
        let mut trailing_comma = false;
        while !self.eat(close) {
            elems.push(self.parse_pattern()?);
            trailing_comma = self.eat(Punct::Comma);
            if !trailing_comma {
                self.expect(close)?;
                break;
            }
        }
        Ok((elems, trailing_comma))
    }

    /// A literal usable in a pattern or range bound: `-`? literal, `true`, `false`.
    fn parse_literal_bound(&mut self) -> PResult<ast::Expr> {
        let lo = self.span();
        let negative = self.eat(Punct::Minus);
        let lit = match self.peek().clone() {
            TokenKind::Int(Some(value), suffix) => ExprKind::Lit(Lit::Int { value, suffix }),
            TokenKind::Int(None, _) => ExprKind::Error,
            TokenKind::Float(value, suffix) => ExprKind::Lit(Lit::Float { value, suffix }),
            TokenKind::Char(c) if !negative => ExprKind::Lit(Lit::Char(c)),
            TokenKind::Str(s) if !negative => ExprKind::Lit(Lit::Str(s)),
            TokenKind::ByteStr(b) if !negative => ExprKind::Lit(Lit::ByteStr(b)),
            TokenKind::Keyword(Keyword::True) if !negative => ExprKind::Lit(Lit::Bool(true)),
            TokenKind::Keyword(Keyword::False) if !negative => ExprKind::Lit(Lit::Bool(false)),
            _ => return Err(self.expected("pattern")),
        };
        let lit_span = self.bump().span;
        let lit = expr(lit, lit_span);
        if negative {
            return Ok(expr(ExprKind::Unary(ast::UnOp::Neg, Box::new(lit)), lo.to(lit_span)));
        }
        Ok(lit)
    }

    /// After a range's lower bound: `..=hi` / `..hi` makes a range pattern; otherwise `single`.
    fn parse_maybe_range(
        &mut self,
        lo_expr: ast::Expr,
        single: impl FnOnce(Box<ast::Expr>) -> PatternKind,
    ) -> PResult<ast::Pattern> {
        let inclusive = match self.peek() {
            TokenKind::Punct(Punct::DotDotEq) => true,
            TokenKind::Punct(Punct::DotDot) => false,
            _ => {
                let span = lo_expr.span;
                return Ok(pattern(single(Box::new(lo_expr)), span));
            }
        };
        let bound_follows = matches!(
            self.peek_at(1),
            TokenKind::Punct(Punct::Minus)
                | TokenKind::Int(..)
                | TokenKind::Float(..)
                | TokenKind::Char(_)
                | TokenKind::Ident(_)
                | TokenKind::Keyword(Keyword::SelfType)
        );
        if !bound_follows {
            let span = lo_expr.span;
            return Ok(pattern(single(Box::new(lo_expr)), span));
        }
        self.bump();
        let hi = if matches!(self.peek(), TokenKind::Ident(_) | TokenKind::Keyword(Keyword::SelfType)) {
            let path = self.parse_type_path(false)?;
            let span = path.span;
            expr(ExprKind::Path(path), span)
        } else {
            self.parse_literal_bound()?
        };
        let span = lo_expr.span.to(hi.span);
        Ok(pattern(PatternKind::Range { lo: Box::new(lo_expr), hi: Box::new(hi), inclusive }, span))
    }

    /// `ref? mut? name (@ pattern)?`
    fn parse_binding(&mut self) -> PResult<ast::Pattern> {
        let lo = self.span();
        let by_ref = self.eat_kw(Keyword::Ref);
        let mutable = self.eat_kw(Keyword::Mut);
        let name = match self.peek().clone() {
            TokenKind::Ident(name) if name != "_" => ast::Ident { name, span: self.bump().span },
            _ => return Err(self.expected("identifier")),
        };
        let sub = if self.eat(Punct::At) { Some(Box::new(self.parse_pattern_no_alt()?)) } else { None };
        Ok(pattern(PatternKind::Ident { by_ref, mutable, name, sub }, lo.to(self.prev_span())))
    }

    /// A binding, constant path, tuple-struct, struct or range pattern starting with a name.
    fn parse_path_pattern(&mut self) -> PResult<ast::Pattern> {
        let lo = self.span();
        let is_binding = matches!(self.peek(), TokenKind::Ident(name) if !is_type_like_name(name))
            && !matches!(
                self.peek_at(1),
                TokenKind::Punct(
                    Punct::LParen | Punct::LBrace | Punct::Dot | Punct::ColonColon | Punct::DotDot | Punct::DotDotEq
                )
            );
        if is_binding {
            return self.parse_binding();
        }
        let path = self.parse_type_path(false)?;
        if self.eat(Punct::LParen) {
            let (elems, _) = self.parse_pattern_list(Punct::RParen)?;
            return Ok(pattern(PatternKind::TupleStruct { path, elems }, lo.to(self.prev_span())));
        }
        if self.at(Punct::LBrace) {
            return self.parse_struct_pattern(path);
        }
        let span = path.span;
        let path_expr = expr(ExprKind::Path(path), span);
        self.parse_maybe_range(path_expr, |e| match e.kind {
            ExprKind::Path(path) => PatternKind::Path(path),
            _ => PatternKind::Error,
        })
    }

    /// `Path { x, y: p, ref z, .. }` (the `{` is current).
    fn parse_struct_pattern(&mut self, path: ast::Path) -> PResult<ast::Pattern> {
        let lo = path.span;
        self.expect(Punct::LBrace)?;
        let mut fields = Vec::new();
        let mut has_rest = false;
        while !self.eat(Punct::RBrace) {
            if self.eat(Punct::DotDot) {
                has_rest = true;
                self.eat(Punct::Comma);
                self.expect(Punct::RBrace)?;
                break;
            }
            let field_lo = self.span();
            let field = if self.at_kw(Keyword::Ref) || self.at_kw(Keyword::Mut) {
                let binding = self.parse_binding()?;
                let PatternKind::Ident { name, .. } = &binding.kind else {
                    return Err(self.expected("identifier"));
                };
                ast::FieldPattern { name: name.clone(), pat: Some(binding), span: field_lo.to(self.prev_span()) }
            } else {
                let name = match self.peek().clone() {
                    TokenKind::Int(Some(index), None) => ast::Ident { name: index.to_string(), span: self.bump().span },
                    _ => self.expect_ident("identifier")?,
                };
                let pat = if self.eat(Punct::Colon) { Some(self.parse_pattern()?) } else { None };
                ast::FieldPattern { name, pat, span: field_lo.to(self.prev_span()) }
            };
            fields.push(field);
            if !self.eat(Punct::Comma) && !self.at(Punct::RBrace) && !self.at_line_start() {
                return Err(self.expected("`,`"));
            }
        }
        Ok(pattern(PatternKind::Struct { path, fields, has_rest }, lo.to(self.prev_span())))
    }
}
