//! Types, type paths, generic parameters and arguments, `where` clauses and effect rows
//! (LANGUAGE.md §2, §5.1, §5.3, §6.2).
//!
//! Lifetimes are accepted wherever upstream writes them and dropped. `>>` (and `>=`, `>>=`)
//! closing nested generic argument lists is split in place by [`Parser::eat_closing_angle`].
//! `&&T` is `& &T`. `dyn Trait`/`impl Trait` become [`ast::TypeKind::Unsupported`].

use super::{PResult, Parser};
use crate::source::Span;
use crate::syntax::ast::{self, TypeKind};
use crate::syntax::token::{Keyword, Punct, TokenKind};

/// Scalar type names: never followed by generic arguments, so `x as i32 < y` compares.
fn is_scalar_type_name(name: &str) -> bool {
    matches!(
        name,
        "i8" | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
            | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "f32"
            | "f64"
            | "bool"
            | "char"
            | "str"
    )
}

impl<'src> Parser<'src> {
    pub(super) fn parse_type(&mut self) -> PResult<ast::Type> {
        self.nested(|p| p.parse_type_inner(true))
    }

    /// The target type of `as`: like [`Parser::parse_type`] but a `<` after a path is the
    /// less-than operator.
    pub(super) fn parse_cast_type(&mut self) -> PResult<ast::Type> {
        self.nested(|p| p.parse_type_inner(false))
    }

    fn parse_type_inner(&mut self, generic_args: bool) -> PResult<ast::Type> {
        let lo = self.span();
        let kind = match self.peek().clone() {
            TokenKind::Punct(Punct::LParen) => {
                self.bump();
                let mut elems = Vec::new();
                let mut trailing_comma = false;
                while !self.eat(Punct::RParen) {
                    elems.push(self.parse_type()?);
                    trailing_comma = self.eat(Punct::Comma);
                    if !trailing_comma {
                        self.expect(Punct::RParen)?;
                        break;
                    }
                }
                if elems.len() == 1 && !trailing_comma {
                    let inner = elems.pop().expect("one element");
                    return Ok(ast::Type { kind: inner.kind, span: lo.to(self.prev_span()) });
                }
                TypeKind::Tuple(elems)
            }
            TokenKind::Punct(Punct::LBracket) => {
                self.bump();
                let elem = self.parse_type()?;
                if self.eat(Punct::Semi) {
                    let len = self.with_no_struct(false, |p| p.parse_expr())?;
                    self.expect(Punct::RBracket)?;
                    TypeKind::Array(Box::new(elem), Box::new(len))
                } else {
                    self.expect(Punct::RBracket)?;
                    TypeKind::Slice(Box::new(elem))
                }
            }
            TokenKind::Punct(Punct::Amp) => {
                self.bump();
                self.parse_ref_type_rest()?
            }
            TokenKind::Punct(Punct::AndAnd) => {
                self.bump();
                let inner_lo = Span { lo: lo.lo + 1, ..lo };
                let inner = self.parse_ref_type_rest()?;
                let inner = ast::Type { kind: inner, span: inner_lo.to(self.prev_span()) };
                TypeKind::Ref { mutable: false, inner: Box::new(inner) }
            }
            TokenKind::Punct(Punct::Star) => {
                self.bump();
                let mutable = if self.eat_kw(Keyword::Mut) {
                    true
                } else if self.eat_kw(Keyword::Const) {
                    false
                } else {
                    return Err(self.expected("`const` or `mut`"));
                };
                TypeKind::Ptr { mutable, inner: Box::new(self.parse_type()?) }
            }
            TokenKind::Keyword(Keyword::Fn) => {
                self.bump();
                self.expect(Punct::LParen)?;
                let mut params = Vec::new();
                while !self.eat(Punct::RParen) {
                    params.push(self.parse_type()?);
                    if !self.eat(Punct::Comma) {
                        self.expect(Punct::RParen)?;
                        break;
                    }
                }
                let ret = if self.eat(Punct::Arrow) { Some(Box::new(self.parse_type()?)) } else { None };
                let effects = if self.at(Punct::Slash) && self.fn_type_row_follows() {
                    self.bump();
                    Some(self.parse_effect_row()?)
                } else {
                    None
                };
                TypeKind::Fn { params, ret, effects }
            }
            TokenKind::Punct(Punct::Bang) => {
                self.bump();
                TypeKind::Never
            }
            TokenKind::Ident(name) if name == "_" => {
                self.bump();
                TypeKind::Infer
            }
            TokenKind::Keyword(Keyword::Linear) => {
                self.bump();
                self.parse_type()?;
                TypeKind::Unsupported { feature: "linear types".to_string() }
            }
            TokenKind::Ident(word) if word == "affine" && self.type_follows_word() => {
                self.bump();
                self.parse_type()?;
                TypeKind::Unsupported { feature: "affine types".to_string() }
            }
            TokenKind::Punct(Punct::LBrace)
                if matches!(
                    (self.peek_at(1), self.peek_at(2)),
                    (TokenKind::Ident(_), TokenKind::Punct(Punct::Colon)) | (TokenKind::Punct(Punct::RBrace), _)
                ) =>
            {
                self.skip_balanced()?;
                TypeKind::Unsupported { feature: "anonymous record types".to_string() }
            }
            TokenKind::Keyword(Keyword::Forall) => {
                self.bump();
                if self.at(Punct::Lt) {
                    self.parse_generic_args()?;
                }
                self.eat(Punct::Dot);
                self.parse_type()?;
                TypeKind::Unsupported { feature: "forall types".to_string() }
            }
            TokenKind::Keyword(kw @ (Keyword::Dyn | Keyword::Impl)) => {
                self.bump();
                self.parse_bounds()?;
                let feature = if kw == Keyword::Dyn { "dyn Trait" } else { "impl Trait" };
                TypeKind::Unsupported { feature: feature.to_string() }
            }
            TokenKind::Ident(_)
            | TokenKind::Keyword(Keyword::SelfType | Keyword::SelfValue | Keyword::Super | Keyword::Crate) => {
                TypeKind::Path(self.parse_type_path(generic_args)?)
            }
            _ => return Err(self.expected("type")),
        };
        Ok(ast::Type { kind, span: lo.to(self.prev_span()) })
    }

    /// After a contextual type qualifier (`affine T`): a type follows on the same line.
    fn type_follows_word(&self) -> bool {
        let next = self.token_at(1);
        !next.line_start
            && matches!(
                next.kind,
                TokenKind::Ident(_)
                    | TokenKind::Keyword(Keyword::SelfType | Keyword::Fn)
                    | TokenKind::Punct(Punct::Amp | Punct::LParen | Punct::LBracket | Punct::Star)
            )
    }

    /// After `&`: `'a`? `mut`? Type.
    fn parse_ref_type_rest(&mut self) -> PResult<TypeKind> {
        if matches!(self.peek(), TokenKind::Lifetime(_)) {
            self.bump();
        }
        let mutable = self.eat_kw(Keyword::Mut);
        Ok(TypeKind::Ref { mutable, inner: Box::new(self.parse_type()?) })
    }

    /// In a `fn(…) -> T` type, a `/` begins an effect row only when a row follows (`pure`, `{`,
    /// or a type name), so `x as fn() / 2` stays a division in odd code.
    fn fn_type_row_follows(&self) -> bool {
        matches!(
            self.peek_at(1),
            TokenKind::Keyword(Keyword::Pure) | TokenKind::Punct(Punct::LBrace) | TokenKind::Ident(_)
        )
    }

    /// A path in type position: `a.b.C<T>`, `Vec::<T>`, `Self`.
    pub(super) fn parse_type_path(&mut self, generic_args: bool) -> PResult<ast::Path> {
        let lo = self.span();
        let mut segments = Vec::new();
        loop {
            let ident = self.parse_path_segment_name()?;
            let mut segment = ast::PathSegment { ident, generic_args: None };
            if self.at(Punct::ColonColon) && matches!(self.peek_at(1), TokenKind::Punct(Punct::Lt)) {
                self.bump();
                segment.generic_args = Some(self.parse_generic_args()?);
            } else if generic_args && self.at(Punct::Lt) && !is_scalar_type_name(&segment.ident.name) {
                segment.generic_args = Some(self.parse_generic_args()?);
            }
            segments.push(segment);
            let continues = (self.at(Punct::Dot) || self.at(Punct::ColonColon))
                && matches!(
                    self.peek_at(1),
                    TokenKind::Ident(_) | TokenKind::Keyword(Keyword::SelfType | Keyword::SelfValue | Keyword::Super)
                );
            if !continues {
                break;
            }
            self.bump();
        }
        Ok(ast::Path { segments, span: lo.to(self.prev_span()) })
    }

    /// One path segment name: an identifier, `self`, `Self`, `super` or `crate`.
    pub(super) fn parse_path_segment_name(&mut self) -> PResult<ast::Ident> {
        match self.peek().clone() {
            TokenKind::Ident(name) => Ok(ast::Ident { name, span: self.bump().span }),
            TokenKind::Keyword(kw @ (Keyword::SelfType | Keyword::SelfValue | Keyword::Super | Keyword::Crate)) => {
                Ok(ast::Ident { name: kw.as_str().to_string(), span: self.bump().span })
            }
            _ => Err(self.expected("identifier")),
        }
    }

    /// `<T, U>` (the `<` is current); lifetimes are skipped.
    pub(super) fn parse_generic_args(&mut self) -> PResult<Vec<ast::Type>> {
        self.expect(Punct::Lt)?;
        let mut args = Vec::new();
        loop {
            if self.eat_closing_angle() {
                break;
            }
            if matches!(self.peek(), TokenKind::Lifetime(_)) {
                self.bump();
            } else {
                args.push(self.parse_type()?);
            }
            if !self.eat(Punct::Comma) {
                if !self.eat_closing_angle() {
                    return Err(self.expected("`>`"));
                }
                break;
            }
        }
        Ok(args)
    }

    /// Consumes one `>`, splitting `>>`, `>=` and `>>=` so nested generic lists close.
    pub(super) fn eat_closing_angle(&mut self) -> bool {
        let rest = match self.peek() {
            TokenKind::Punct(Punct::Gt) => {
                self.bump();
                return true;
            }
            TokenKind::Punct(Punct::Shr) => Punct::Gt,
            TokenKind::Punct(Punct::Ge) => Punct::Eq,
            TokenKind::Punct(Punct::ShrEq) => Punct::Ge,
            _ => return false,
        };
        self.split_log.push((self.pos, self.tokens[self.pos].clone()));
        let token = &mut self.tokens[self.pos];
        token.kind = TokenKind::Punct(rest);
        token.span.lo += 1;
        token.line_start = false;
        true
    }

    /// `<'a, T: Bound + Other, U = Default>` or nothing.
    pub(super) fn parse_generics(&mut self) -> PResult<ast::Generics> {
        let lo = self.span();
        let mut generics = ast::Generics { span: lo, ..ast::Generics::default() };
        if !self.eat(Punct::Lt) {
            return Ok(generics);
        }
        loop {
            if self.eat_closing_angle() {
                break;
            }
            if matches!(self.peek(), TokenKind::Lifetime(_)) {
                self.bump();
                if self.eat(Punct::Colon) {
                    while matches!(self.peek(), TokenKind::Lifetime(_)) {
                        self.bump();
                        if !self.eat(Punct::Plus) {
                            break;
                        }
                    }
                }
            } else if self.at_kw(Keyword::Const) {
                let span = self.bump().span;
                self.report(crate::diagnostics::Diagnostic::error("unsupported feature: const generics", span));
                self.expect_ident("identifier")?;
                self.expect(Punct::Colon)?;
                self.parse_type()?;
            } else {
                let name = self.expect_ident("identifier")?;
                let bounds = if self.eat(Punct::Colon) { self.parse_bounds()? } else { Vec::new() };
                if self.eat(Punct::Eq) {
                    self.parse_type()?;
                }
                generics.params.push(ast::GenericParam { name, bounds });
            }
            if !self.eat(Punct::Comma) {
                if !self.eat_closing_angle() {
                    return Err(self.expected("`>`"));
                }
                break;
            }
        }
        generics.span = lo.to(self.prev_span());
        Ok(generics)
    }

    /// `Path + Path + 'a + ?Sized`; lifetimes and `?` markers are dropped.
    pub(super) fn parse_bounds(&mut self) -> PResult<Vec<ast::Path>> {
        let mut bounds = Vec::new();
        loop {
            if matches!(self.peek(), TokenKind::Lifetime(_)) {
                self.bump();
            } else {
                self.eat(Punct::Question);
                if !matches!(self.peek(), TokenKind::Ident(_) | TokenKind::Keyword(Keyword::SelfType)) {
                    return Err(self.expected("identifier"));
                }
                bounds.push(self.parse_type_path(true)?);
            }
            if !self.eat(Punct::Plus) {
                return Ok(bounds);
            }
        }
    }

    /// `where T: A + B, U: C` (adds to `generics`); nothing if no `where`.
    pub(super) fn parse_where(&mut self, generics: &mut ast::Generics) -> PResult<()> {
        if !self.eat_kw(Keyword::Where) {
            return Ok(());
        }
        loop {
            if self.at(Punct::LBrace) || self.at(Punct::Semi) || self.is_eof() {
                return Ok(());
            }
            if matches!(self.peek(), TokenKind::Lifetime(_)) {
                self.bump();
                self.expect(Punct::Colon)?;
                while matches!(self.peek(), TokenKind::Lifetime(_) | TokenKind::Punct(Punct::Plus)) {
                    self.bump();
                }
            } else {
                let ty = self.parse_type()?;
                self.expect(Punct::Colon)?;
                let bounds = self.parse_bounds()?;
                generics.where_clauses.push(ast::WherePredicate { ty, bounds });
            }
            if !self.eat(Punct::Comma) {
                return Ok(());
            }
        }
    }

    /// After `/`: `pure`, `{}`, `{A, B<T>}` or a single `Path<T>` (§6.2).
    pub(super) fn parse_effect_row(&mut self) -> PResult<ast::EffectRow> {
        let lo = self.prev_span();
        let mut effects = Vec::new();
        if self.eat_kw(Keyword::Pure) {
        } else if self.eat(Punct::LBrace) {
            while !self.eat(Punct::RBrace) {
                effects.push(self.parse_effect_path()?);
                if self.at(Punct::Pipe) {
                    let span = self.span();
                    self.diags
                        .push(crate::diagnostics::Diagnostic::error("unsupported feature: effect row variables", span));
                    while !self.at(Punct::RBrace) && !self.is_eof() {
                        self.bump();
                    }
                    return Err(super::ParseError);
                }
                if !self.eat(Punct::Comma) {
                    self.expect(Punct::RBrace)?;
                    break;
                }
            }
        } else {
            effects.push(self.parse_effect_path()?);
        }
        Ok(ast::EffectRow { effects, span: lo.to(self.prev_span()) })
    }

    fn parse_effect_path(&mut self) -> PResult<ast::Path> {
        match self.peek() {
            TokenKind::Ident(_) | TokenKind::Keyword(Keyword::SelfType | Keyword::SelfValue | Keyword::Super) => {
                self.parse_type_path(true)
            }
            _ => Err(self.expected("type")),
        }
    }
}
