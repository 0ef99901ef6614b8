//! Operators and postfix forms: the Pratt loop with the precedence table of LANGUAGE.md §3.4
//! and the line-break rules of §1.5.
//!
//! Precedence (high to low): postfix, unary, `as`, `* / %`, `+ -`, `<< >>`, `&`, `^`, `|`,
//! comparisons and `in` (non-associative), `&&`, `||`, ranges (non-associative), `|>`,
//! assignments (right-associative). Decision: within the comparison level, `< > <= >=` bind
//! slightly tighter than `== != in` (as in C), so `a < b < c` and `a == b == c` are errors but
//! `1 + 1 < 3 == true` is `(1 + 1 < 3) == true` (a run-pass test relies on it).
//!
//! §1.5 rule 1 lives in [`Parser::line_break_ends_expr`]: an infix or postfix token that starts
//! a line continues the expression unless the previous line did not end with a continuation
//! token and the token can also start a statement (`-`, `*`, `&`, `(`, `[`, …). Rule 2 (a
//! block-like expression is never continued by `(` or `[`) is applied in
//! [`Parser::parse_postfix`].
//!
//! Paths: a dotted chain of plain names (`a.b.c`, `Shape.Circle`, `self.items.len`) stays one
//! [`ast::ExprKind::Path`], also when called (`Point.origin()` and `v.len()` are both
//! `Call { callee: Path }`); the type checker decides where values end and members begin.
//! Once something that is not a path is involved (`f().x`, `a[0].b`, `t.0.x`, `"s".len()`),
//! members become [`ast::ExprKind::Field`] / [`ast::ExprKind::MethodCall`].

use super::{PResult, Parser};
use crate::source::Span;
use crate::syntax::ast::{self, BinOp, ExprKind};
use crate::syntax::token::{Keyword, Punct, TokenKind, is_statement_start};

pub(super) const PREC_ASSIGN: u8 = 2;
const PREC_PIPE: u8 = 4;
pub(super) const PREC_RANGE: u8 = 6;
const PREC_OR: u8 = 8;
const PREC_AND: u8 = 10;
/// `==`, `!=`, `in`.
const PREC_EQ: u8 = 12;
/// `<`, `>`, `<=`, `>=`: one step above equality, so `a < b == c` is `(a < b) == c`.
const PREC_REL: u8 = 13;
const PREC_BITOR: u8 = 14;
const PREC_BITXOR: u8 = 16;
const PREC_BITAND: u8 = 18;
const PREC_SHIFT: u8 = 20;
const PREC_ADD: u8 = 22;
const PREC_MUL: u8 = 24;
const PREC_AS: u8 = 26;

/// What an infix token does.
#[derive(Copy, Clone)]
enum Infix {
    Binary(BinOp, u8),
    Assign(Option<BinOp>),
    Pipe,
    Range { inclusive: bool },
    In,
    As,
}

fn infix_of(kind: &TokenKind) -> Option<Infix> {
    let TokenKind::Punct(p) = kind else {
        return match kind {
            TokenKind::Keyword(Keyword::As) => Some(Infix::As),
            TokenKind::Keyword(Keyword::In) => Some(Infix::In),
            _ => None,
        };
    };
    let binary = |op, prec| Some(Infix::Binary(op, prec));
    match p {
        Punct::Star => binary(BinOp::Mul, PREC_MUL),
        Punct::Slash => binary(BinOp::Div, PREC_MUL),
        Punct::Percent => binary(BinOp::Rem, PREC_MUL),
        Punct::Plus => binary(BinOp::Add, PREC_ADD),
        Punct::Minus => binary(BinOp::Sub, PREC_ADD),
        Punct::Shl => binary(BinOp::Shl, PREC_SHIFT),
        Punct::Shr => binary(BinOp::Shr, PREC_SHIFT),
        Punct::Amp => binary(BinOp::BitAnd, PREC_BITAND),
        Punct::Caret => binary(BinOp::BitXor, PREC_BITXOR),
        Punct::Pipe => binary(BinOp::BitOr, PREC_BITOR),
        Punct::EqEq => binary(BinOp::Eq, PREC_EQ),
        Punct::Ne => binary(BinOp::Ne, PREC_EQ),
        Punct::Lt => binary(BinOp::Lt, PREC_REL),
        Punct::Le => binary(BinOp::Le, PREC_REL),
        Punct::Gt => binary(BinOp::Gt, PREC_REL),
        Punct::Ge => binary(BinOp::Ge, PREC_REL),
        Punct::AndAnd => binary(BinOp::And, PREC_AND),
        Punct::OrOr => binary(BinOp::Or, PREC_OR),
        Punct::DotDot => Some(Infix::Range { inclusive: false }),
        Punct::DotDotEq => Some(Infix::Range { inclusive: true }),
        Punct::PipeGt => Some(Infix::Pipe),
        Punct::Eq => Some(Infix::Assign(None)),
        Punct::PlusEq => Some(Infix::Assign(Some(BinOp::Add))),
        Punct::MinusEq => Some(Infix::Assign(Some(BinOp::Sub))),
        Punct::StarEq => Some(Infix::Assign(Some(BinOp::Mul))),
        Punct::SlashEq => Some(Infix::Assign(Some(BinOp::Div))),
        Punct::PercentEq => Some(Infix::Assign(Some(BinOp::Rem))),
        Punct::AmpEq => Some(Infix::Assign(Some(BinOp::BitAnd))),
        Punct::PipeEq => Some(Infix::Assign(Some(BinOp::BitOr))),
        Punct::CaretEq => Some(Infix::Assign(Some(BinOp::BitXor))),
        Punct::ShlEq => Some(Infix::Assign(Some(BinOp::Shl))),
        Punct::ShrEq => Some(Infix::Assign(Some(BinOp::Shr))),
        _ => None,
    }
}

fn prec_of(infix: Infix) -> u8 {
    match infix {
        Infix::Binary(_, prec) => prec,
        Infix::Assign(_) => PREC_ASSIGN,
        Infix::Pipe => PREC_PIPE,
        Infix::Range { .. } => PREC_RANGE,
        Infix::In => PREC_EQ,
        Infix::As => PREC_AS,
    }
}

pub(super) fn expr(kind: ExprKind, span: Span) -> ast::Expr {
    ast::Expr { kind, span }
}

/// Expressions that end with a block: never continued by `(`/`[` and, as statements, need no
/// `;` before the next statement on the same line.
pub(super) fn is_block_like(kind: &ExprKind) -> bool {
    match kind {
        ExprKind::Block(_)
        | ExprKind::If { .. }
        | ExprKind::IfLet { .. }
        | ExprKind::Match { .. }
        | ExprKind::Loop { .. }
        | ExprKind::While { .. }
        | ExprKind::WhileLet { .. }
        | ExprKind::For { .. }
        | ExprKind::Unchecked(_)
        | ExprKind::Unsafe(_) => true,
        ExprKind::Unsupported { feature } => super::macros::is_block_like_feature(feature),
        ExprKind::With { .. } | ExprKind::Select(_) => true,
        _ => false,
    }
}

impl<'src> Parser<'src> {
    /// A full expression (assignments included).
    pub(super) fn parse_expr(&mut self) -> PResult<ast::Expr> {
        self.parse_expr_bp(PREC_ASSIGN)
    }

    /// §1.5 rule 1: whether a line break before the current (infix/postfix) token ends the
    /// expression.
    pub(super) fn line_break_ends_expr(&self) -> bool {
        self.at_line_start() && !self.prev_is_continuation() && is_statement_start(self.peek())
    }

    /// Whether the current token can begin an expression (for optional operands of `return`,
    /// `break`, ranges).
    pub(super) fn can_start_expr(&self) -> bool {
        match self.peek() {
            TokenKind::Ident(_)
            | TokenKind::Lifetime(_)
            | TokenKind::Int(..)
            | TokenKind::Float(..)
            | TokenKind::Char(_)
            | TokenKind::Str(_)
            | TokenKind::ByteStr(_) => true,
            TokenKind::Keyword(kw) => matches!(
                kw,
                Keyword::If
                    | Keyword::Match
                    | Keyword::Loop
                    | Keyword::While
                    | Keyword::For
                    | Keyword::Return
                    | Keyword::Break
                    | Keyword::Continue
                    | Keyword::SelfValue
                    | Keyword::SelfType
                    | Keyword::Super
                    | Keyword::Crate
                    | Keyword::True
                    | Keyword::False
                    | Keyword::Move
                    | Keyword::Try
                    | Keyword::Region
            ),
            TokenKind::Punct(p) => match p {
                Punct::LBrace => !self.no_struct,
                _ => matches!(
                    p,
                    Punct::LParen
                        | Punct::LBracket
                        | Punct::Minus
                        | Punct::Bang
                        | Punct::Star
                        | Punct::Amp
                        | Punct::AndAnd
                        | Punct::Pipe
                        | Punct::OrOr
                        | Punct::DotDot
                        | Punct::DotDotEq
                        | Punct::At
                ),
            },
            _ => false,
        }
    }

    pub(super) fn parse_expr_bp(&mut self, min_prec: u8) -> PResult<ast::Expr> {
        self.nested(|p| p.parse_expr_bp_inner(min_prec))
    }

    fn parse_expr_bp_inner(&mut self, min_prec: u8) -> PResult<ast::Expr> {
        let mut lhs = if self.at(Punct::DotDot) || self.at(Punct::DotDotEq) {
            self.parse_prefix_range()?
        } else {
            self.parse_unary()?
        };
        loop {
            if self.line_break_ends_expr() {
                break;
            }
            let Some(infix) = infix_of(self.peek()) else {
                break;
            };
            let prec = prec_of(infix);
            if prec < min_prec {
                break;
            }
            self.bump();
            let lo = lhs.span;
            lhs = match infix {
                Infix::Assign(op) => {
                    let rhs = self.parse_expr_bp(PREC_ASSIGN)?;
                    let span = lo.to(rhs.span);
                    match op {
                        None => expr(ExprKind::Assign(Box::new(lhs), Box::new(rhs)), span),
                        Some(op) => expr(ExprKind::AssignOp(op, Box::new(lhs), Box::new(rhs)), span),
                    }
                }
                Infix::Pipe => {
                    let rhs = self.parse_expr_bp(PREC_PIPE + 1)?;
                    let span = lo.to(rhs.span);
                    expr(ExprKind::Pipe(Box::new(lhs), Box::new(rhs)), span)
                }
                Infix::Range { inclusive } => {
                    let hi = self.parse_range_end(inclusive)?;
                    let span = lo.to(self.prev_span());
                    let range = expr(ExprKind::Range { lo: Some(Box::new(lhs)), hi, inclusive }, span);
                    if self.at(Punct::DotDot) || self.at(Punct::DotDotEq) {
                        return Ok(range);
                    }
                    range
                }
                Infix::In => {
                    let range = self.parse_in_range()?;
                    let span = lo.to(range.span);
                    let result = expr(ExprKind::In { expr: Box::new(lhs), range: Box::new(range) }, span);
                    if self.at_comparison_of_level(PREC_EQ) {
                        return Err(self.error_at("comparison operators cannot be chained", self.span()));
                    }
                    result
                }
                Infix::As => {
                    let ty = self.parse_cast_type()?;
                    let span = lo.to(ty.span);
                    expr(ExprKind::Cast(Box::new(lhs), ty), span)
                }
                Infix::Binary(op, prec) => {
                    let rhs = self.parse_expr_bp(prec + 1)?;
                    let span = lo.to(rhs.span);
                    let result = expr(ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)), span);
                    if op.is_comparison() && self.at_comparison_of_level(prec) {
                        return Err(self.error_at("comparison operators cannot be chained", self.span()));
                    }
                    result
                }
            };
        }
        Ok(lhs)
    }

    /// The current token is a comparison operator of precedence `level` (chaining it is an
    /// error: comparisons are non-associative).
    fn at_comparison_of_level(&self, level: u8) -> bool {
        let same_level = match infix_of(self.peek()) {
            Some(Infix::Binary(op, prec)) => op.is_comparison() && prec == level,
            Some(Infix::In) => level == PREC_EQ,
            _ => false,
        };
        same_level && !self.line_break_ends_expr()
    }

    /// The upper bound of a range, if one follows.
    fn parse_range_end(&mut self, inclusive: bool) -> PResult<Option<Box<ast::Expr>>> {
        if self.can_start_expr() && !(self.at_line_start() && is_statement_start(self.peek())) {
            Ok(Some(Box::new(self.parse_expr_bp(PREC_OR)?)))
        } else if inclusive {
            Err(self.expected("expression"))
        } else {
            Ok(None)
        }
    }

    /// `..hi`, `..=hi`, `..`.
    fn parse_prefix_range(&mut self) -> PResult<ast::Expr> {
        let lo = self.span();
        let inclusive = self.bump().kind == TokenKind::Punct(Punct::DotDotEq);
        let hi = self.parse_range_end(inclusive)?;
        Ok(expr(ExprKind::Range { lo: None, hi, inclusive }, lo.to(self.prev_span())))
    }

    /// The right side of `x in …`: `lo..hi`, `lo..=hi` or a plain operand.
    fn parse_in_range(&mut self) -> PResult<ast::Expr> {
        let lo_expr = self.parse_expr_bp(PREC_BITOR)?;
        let inclusive = match self.peek() {
            TokenKind::Punct(Punct::DotDot) => false,
            TokenKind::Punct(Punct::DotDotEq) => true,
            _ => return Ok(lo_expr),
        };
        self.bump();
        let hi = self.parse_expr_bp(PREC_BITOR)?;
        let span = lo_expr.span.to(hi.span);
        Ok(expr(ExprKind::Range { lo: Some(Box::new(lo_expr)), hi: Some(Box::new(hi)), inclusive }, span))
    }

    /// Prefix operators, then a primary expression with its postfix forms.
    fn parse_unary(&mut self) -> PResult<ast::Expr> {
        let lo = self.span();
        let kind = match self.peek() {
            TokenKind::Punct(Punct::Minus) => Some(ast::UnOp::Neg),
            TokenKind::Punct(Punct::Bang) => Some(ast::UnOp::Not),
            TokenKind::Punct(Punct::Star) => Some(ast::UnOp::Deref),
            TokenKind::Punct(Punct::Amp | Punct::AndAnd) => None,
            _ => return self.parse_postfix_expr(),
        };
        let token = self.bump();
        if let Some(op) = kind {
            let operand = self.nested(|p| p.parse_unary())?;
            let span = lo.to(operand.span);
            return Ok(expr(ExprKind::Unary(op, Box::new(operand)), span));
        }
        let mutable = self.eat_kw(Keyword::Mut);
        let operand = self.nested(|p| p.parse_unary())?;
        let span = lo.to(operand.span);
        let inner = expr(ExprKind::Ref { mutable, expr: Box::new(operand) }, span);
        if token.kind == TokenKind::Punct(Punct::AndAnd) {
            return Ok(expr(ExprKind::Ref { mutable: false, expr: Box::new(inner) }, span));
        }
        Ok(inner)
    }

    fn parse_postfix_expr(&mut self) -> PResult<ast::Expr> {
        let (primary, block_like) = self.parse_primary()?;
        self.parse_postfix(primary, block_like)
    }

    /// Calls, indexing, `?`, fields and method calls after a primary expression.
    fn parse_postfix(&mut self, mut lhs: ast::Expr, mut block_like: bool) -> PResult<ast::Expr> {
        loop {
            if self.line_break_ends_expr() {
                return Ok(lhs);
            }
            let lo = lhs.span;
            match self.peek() {
                TokenKind::Punct(Punct::LParen) if !block_like => {
                    let args = self.parse_call_args()?;
                    lhs = expr(ExprKind::Call { callee: Box::new(lhs), args }, lo.to(self.prev_span()));
                }
                TokenKind::Punct(Punct::LBracket) if !block_like => {
                    self.bump();
                    let index = self.with_no_struct(false, |p| p.parse_expr())?;
                    self.expect(Punct::RBracket)?;
                    lhs = expr(ExprKind::Index(Box::new(lhs), Box::new(index)), lo.to(self.prev_span()));
                }
                TokenKind::Punct(Punct::Question) => {
                    self.bump();
                    lhs = expr(ExprKind::Try(Box::new(lhs)), lo.to(self.prev_span()));
                }
                TokenKind::Punct(Punct::Dot) => {
                    self.bump();
                    lhs = self.parse_member(lhs)?;
                }
                _ => return Ok(lhs),
            }
            block_like = false;
        }
    }

    /// After `.` following a non-path expression: `.0`, `.0.1`, `.name`, `.name::<T>(args)`.
    fn parse_member(&mut self, receiver: ast::Expr) -> PResult<ast::Expr> {
        let lo = receiver.span;
        match self.peek().clone() {
            TokenKind::Int(Some(index), None) => {
                let span = self.bump().span;
                let index = u32::try_from(index).unwrap_or(u32::MAX);
                Ok(expr(ExprKind::TupleField(Box::new(receiver), index, span), lo.to(span)))
            }
            TokenKind::Float(_, None) => {
                // `t.0.1` lexes `0.1` as one float: split it into two tuple fields.
                let span = self.bump().span;
                let text = self.text.get(span.lo as usize..span.hi as usize).unwrap_or("");
                let mut parts = text.split('.');
                let (Some(first), Some(second)) = (parts.next(), parts.next()) else {
                    return Err(self.error_at("invalid tuple field", span));
                };
                let (Ok(first), Ok(second)) = (first.parse::<u32>(), second.parse::<u32>()) else {
                    return Err(self.error_at("invalid tuple field", span));
                };
                let first_span = Span { hi: span.lo + text.find('.').unwrap_or(0) as u32, ..span };
                let second_span = Span { lo: first_span.hi + 1, ..span };
                let inner = expr(ExprKind::TupleField(Box::new(receiver), first, first_span), lo.to(first_span));
                Ok(expr(ExprKind::TupleField(Box::new(inner), second, second_span), lo.to(span)))
            }
            _ => {
                let name = self.parse_member_name()?;
                let mut method = ast::PathSegment { ident: name.clone(), generic_args: None };
                if self.at(Punct::ColonColon) && matches!(self.peek_at(1), TokenKind::Punct(Punct::Lt)) {
                    self.bump();
                    method.generic_args = Some(self.parse_generic_args()?);
                }
                if self.at(Punct::LParen) && !self.line_break_ends_expr() {
                    let args = self.parse_call_args()?;
                    let span = lo.to(self.prev_span());
                    return Ok(expr(ExprKind::MethodCall { receiver: Box::new(receiver), method, args }, span));
                }
                Ok(expr(ExprKind::Field(Box::new(receiver), name), lo.to(self.prev_span())))
            }
        }
    }

    /// A name after `.`: an identifier, or a reserved word (§7.2).
    pub(super) fn parse_member_name(&mut self) -> PResult<ast::Ident> {
        match self.peek().clone() {
            TokenKind::Ident(name) => Ok(ast::Ident { name, span: self.bump().span }),
            TokenKind::Keyword(kw) if kw.is_reserved() => {
                Ok(ast::Ident { name: kw.as_str().to_string(), span: self.bump().span })
            }
            _ => Err(self.expected("identifier")),
        }
    }

    /// `(a, name: b, …)` (the `(` is current).
    pub(super) fn parse_call_args(&mut self) -> PResult<Vec<ast::Arg>> {
        self.expect(Punct::LParen)?;
        self.with_no_struct(false, |p| {
            let mut args = Vec::new();
            while !p.eat(Punct::RParen) {
                let name = match (p.peek().clone(), p.peek_at(1)) {
                    (TokenKind::Ident(name), TokenKind::Punct(Punct::Colon)) => {
                        let span = p.bump().span;
                        p.bump();
                        Some(ast::Ident { name, span })
                    }
                    _ => None,
                };
                let value = p.parse_expr()?;
                args.push(ast::Arg { name, value });
                if !p.eat(Punct::Comma) {
                    p.expect(Punct::RParen)?;
                    break;
                }
            }
            Ok(args)
        })
    }
}
