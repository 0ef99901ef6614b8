//! Declarations: functions, structs, enums, aliases, consts, statics, impls, traits, modules,
//! `use`, attributes and visibility (LANGUAGE.md §2, §3.2, §4.1–4.9, §5.2, §5.6).
//!
//! Items of levels not implemented yet (`effect`, handlers, `bridge`, user macros) are
//! recognised by their leading words and skipped whole (balanced delimiters) into
//! [`ast::ItemKind::Unsupported`], so the type checker can say "unsupported feature: …".
//! Each member of a list (file, `mod`, `impl`, `trait` body) is parsed with its own recovery, so
//! an error in one method does not hide errors in the next one.

use super::{PResult, Parser};
use crate::syntax::ast::{self, ItemKind, Visibility};
use crate::syntax::token::{Keyword, Punct, TokenKind};

/// Where a list of items stands: a whole file (ends at end of file) or a `{ … }` body of a
/// `mod`, `impl` or `trait` (ends before its `}`).
#[derive(Copy, Clone, PartialEq, Eq)]
pub(super) enum ItemList {
    File,
    Body,
}

impl<'src> Parser<'src> {
    /// The items of a file or of a body (up to, not including, its closing `}`).
    pub(super) fn parse_item_list(&mut self, list: ItemList) -> Vec<ast::Item> {
        let mut items = Vec::new();
        // `#![…]` attributes of the enclosing module go to the next item (the AST has no
        // module-level attribute list); they are dropped when no item follows.
        let mut inner_attrs = Vec::new();
        loop {
            if self.is_eof() || (list == ItemList::Body && self.at(Punct::RBrace)) {
                return items;
            }
            if self.eat(Punct::Semi) {
                continue;
            }
            let start = self.pos;
            let start_span = self.span();
            if self.at(Punct::Hash) && matches!(self.peek_at(1), TokenKind::Punct(Punct::Bang)) {
                match self.parse_one_attr() {
                    Ok(attr) => inner_attrs.push(attr),
                    Err(_) => self.recover_item(start, list == ItemList::File),
                }
                continue;
            }
            match self.parse_item() {
                Ok(mut item) => {
                    item.attrs.splice(0..0, inner_attrs.drain(..));
                    items.push(item);
                }
                Err(_) => {
                    self.recover_item(start, list == ItemList::File);
                    let span = start_span.to(self.prev_span());
                    items.push(ast::Item { attrs: Vec::new(), vis: Visibility::Private, kind: ItemKind::Error, span });
                }
            }
        }
    }

    /// Whether the current token begins a declaration (used by recovery and by blocks).
    pub(super) fn at_item_start(&self) -> bool {
        match self.peek() {
            TokenKind::Keyword(kw) => is_item_keyword(kw) || matches!(kw, Keyword::Extern),
            TokenKind::Punct(Punct::Hash) => true,
            TokenKind::Ident(_) => self.at_contextual_item_start(),
            _ => false,
        }
    }

    /// `handler H`, `deep handler`, `shallow handler`, `bridge "C"`, `macro_rules!`.
    pub(super) fn at_contextual_item_start(&self) -> bool {
        let next = self.peek_at(1);
        match self.peek() {
            TokenKind::Ident(word) => match word.as_str() {
                "handler" => matches!(next, TokenKind::Ident(_)),
                "deep" | "shallow" => matches!(next, TokenKind::Ident(w) if w == "handler"),
                "bridge" => matches!(next, TokenKind::Str(_)),
                "macro_rules" => matches!(next, TokenKind::Punct(Punct::Bang)),
                _ => false,
            },
            _ => false,
        }
    }

    pub(super) fn parse_item(&mut self) -> PResult<ast::Item> {
        let lo = self.span();
        let attrs = self.parse_attrs()?;
        let vis = self.parse_vis(true)?;
        let kind = match self.peek() {
            TokenKind::Keyword(Keyword::Fn | Keyword::Fiber) => ItemKind::Fn(self.parse_fn()?),
            TokenKind::Keyword(Keyword::Struct) => ItemKind::Struct(self.parse_struct()?),
            TokenKind::Keyword(Keyword::Enum) => ItemKind::Enum(self.parse_enum()?),
            TokenKind::Keyword(Keyword::Type) => self.parse_type_alias()?,
            TokenKind::Keyword(Keyword::Const) => self.parse_const()?,
            TokenKind::Keyword(Keyword::Static) => ItemKind::Static(self.parse_static()?),
            TokenKind::Keyword(Keyword::Impl) => ItemKind::Impl(self.parse_impl()?),
            TokenKind::Keyword(Keyword::Trait) => ItemKind::Trait(self.parse_trait()?),
            TokenKind::Keyword(Keyword::Mod) => ItemKind::Mod(self.parse_mod()?),
            TokenKind::Keyword(Keyword::Use) => ItemKind::Use(self.parse_use()?),
            TokenKind::Keyword(Keyword::Effect) => self.skip_unsupported_item("effect declaration")?,
            TokenKind::Keyword(Keyword::Macro) => self.skip_unsupported_item("user macro")?,
            TokenKind::Ident(word) if self.at_contextual_item_start() => {
                let feature = match word.as_str() {
                    "bridge" => "bridge block",
                    "macro_rules" => "user macro",
                    _ => "effect handler",
                };
                self.skip_unsupported_item(feature)?
            }
            _ => return Err(self.expected("declaration")),
        };
        Ok(ast::Item { attrs, vis, kind, span: lo.to(self.prev_span()) })
    }

    /// `#[…]` and `#![…]`, kept with their name and raw text.
    pub(super) fn parse_attrs(&mut self) -> PResult<Vec<ast::Attr>> {
        let mut attrs = Vec::new();
        while self.at(Punct::Hash) {
            attrs.push(self.parse_one_attr()?);
        }
        Ok(attrs)
    }

    /// One attribute (the `#` is current).
    fn parse_one_attr(&mut self) -> PResult<ast::Attr> {
        let lo = self.expect(Punct::Hash)?;
        let inner = self.eat(Punct::Bang);
        if !self.at(Punct::LBracket) {
            return Err(self.expected("`[`"));
        }
        let open = self.span();
        let mut name = String::new();
        let mut i = 1;
        loop {
            match self.peek_at(i) {
                TokenKind::Ident(word) => name.push_str(word),
                TokenKind::Keyword(kw) => name.push_str(kw.as_str()),
                _ => break,
            }
            if matches!(self.peek_at(i + 1), TokenKind::Punct(Punct::Dot | Punct::ColonColon)) {
                name.push('.');
                i += 2;
            } else {
                break;
            }
        }
        let whole = self.skip_balanced()?;
        let close_lo = self.prev_span().lo;
        let text = self.text.get(open.hi as usize..close_lo as usize).unwrap_or("").trim().to_string();
        Ok(ast::Attr { name, text, inner, span: lo.to(whole) })
    }

    /// `pub`, `pub(crate)`, `pub(super)`, `pub(self)` or nothing. With `item_position`, any `(`
    /// after `pub` is taken as a restriction (so `pub(other)` reports "expected `)`"); in tuple
    /// fields only a restriction keyword makes it one (`pub (i32, i32)` is a field type).
    pub(super) fn parse_vis(&mut self, item_position: bool) -> PResult<Visibility> {
        if !self.eat_kw(Keyword::Pub) {
            return Ok(Visibility::Private);
        }
        if !self.at(Punct::LParen) {
            return Ok(Visibility::Public);
        }
        let restriction = match self.peek_at(1) {
            TokenKind::Keyword(kw @ (Keyword::Crate | Keyword::Super | Keyword::SelfValue)) => Some(kw.as_str()),
            _ => None,
        };
        if restriction.is_none() && !item_position {
            return Ok(Visibility::Public);
        }
        self.bump();
        if restriction.is_some() {
            self.bump();
        }
        self.expect(Punct::RParen)?;
        Ok(Visibility::Restricted(restriction.unwrap_or_default().to_string()))
    }

    fn parse_fn(&mut self) -> PResult<ast::FnDecl> {
        let lo = self.span();
        let is_fiber = self.eat_kw(Keyword::Fiber);
        self.expect_kw(Keyword::Fn)?;
        let name = match self.peek().clone() {
            TokenKind::Ident(name) if name != "_" => ast::Ident { name, span: self.bump().span },
            _ => return Err(self.expected("identifier for function name")),
        };
        let mut generics = self.parse_generics()?;
        self.expect(Punct::LParen)?;
        let (self_param, params) = self.parse_fn_params()?;
        let ret = if self.eat(Punct::Arrow) { Some(self.parse_type()?) } else { None };
        let mut effects = None;
        loop {
            if self.at(Punct::Slash) {
                self.bump();
                effects = Some(self.parse_effect_row()?);
            } else if self.at_kw(Keyword::Where) {
                self.parse_where(&mut generics)?;
            } else if ["requires", "ensures", "invariant", "decreases"].iter().any(|w| self.at_word(w)) {
                self.bump();
                self.with_no_struct(true, |p| p.parse_expr())?;
            } else {
                break;
            }
        }
        let sig_span = lo.to(self.prev_span());
        let body = if self.at(Punct::LBrace) {
            Some(self.parse_block()?)
        } else if self.eat(Punct::Semi) || self.at_line_start() || self.at(Punct::RBrace) || self.is_eof() {
            None
        } else {
            return Err(self.expected("`{`"));
        };
        Ok(ast::FnDecl { name, is_fiber, generics, self_param, params, ret, effects, body, sig_span })
    }

    /// After `(`: parameters up to and including `)`.
    fn parse_fn_params(&mut self) -> PResult<(Option<ast::SelfParam>, Vec<ast::Param>)> {
        let mut self_param = None;
        let mut params = Vec::new();
        loop {
            if self.eat(Punct::RParen) {
                break;
            }
            if self_param.is_none() && params.is_empty() && self.at_self_param() {
                self_param = Some(self.parse_self_param()?);
            } else {
                let lo = self.span();
                let mutable = self.eat_kw(Keyword::Mut);
                let name = self.expect_ident("identifier")?;
                self.expect(Punct::Colon)?;
                let ty = self.parse_type()?;
                params.push(ast::Param { mutable, name, ty, span: lo.to(self.prev_span()) });
            }
            if !self.eat(Punct::Comma) {
                self.expect(Punct::RParen)?;
                break;
            }
        }
        Ok((self_param, params))
    }

    fn at_self_param(&self) -> bool {
        let is_self = |k: &TokenKind| matches!(k, TokenKind::Keyword(Keyword::SelfValue));
        let is_mut = |k: &TokenKind| matches!(k, TokenKind::Keyword(Keyword::Mut));
        let is_lifetime = |k: &TokenKind| matches!(k, TokenKind::Lifetime(_));
        match self.peek() {
            TokenKind::Keyword(Keyword::SelfValue) => true,
            TokenKind::Keyword(Keyword::Mut) => is_self(self.peek_at(1)),
            TokenKind::Punct(Punct::Amp) => {
                let mut i = 1;
                if is_lifetime(self.peek_at(i)) {
                    i += 1;
                }
                if is_mut(self.peek_at(i)) {
                    i += 1;
                }
                is_self(self.peek_at(i))
            }
            _ => false,
        }
    }

    fn parse_self_param(&mut self) -> PResult<ast::SelfParam> {
        let lo = self.span();
        if self.eat(Punct::Amp) {
            if matches!(self.peek(), TokenKind::Lifetime(_)) {
                self.bump();
            }
            let mutable = self.eat_kw(Keyword::Mut);
            self.expect_kw(Keyword::SelfValue)?;
            let kind = if mutable { ast::SelfKind::RefMut } else { ast::SelfKind::Ref };
            return Ok(ast::SelfParam { kind, mutable: false, span: lo.to(self.prev_span()) });
        }
        let mutable = self.eat_kw(Keyword::Mut);
        self.expect_kw(Keyword::SelfValue)?;
        let kind =
            if self.eat(Punct::Colon) { ast::SelfKind::Explicit(self.parse_type()?) } else { ast::SelfKind::Value };
        Ok(ast::SelfParam { kind, mutable, span: lo.to(self.prev_span()) })
    }

    /// A list separator inside `{…}`/`(…)` declarations: `,`, or a line break, or the closer.
    fn expect_list_separator(&mut self, close: Punct) -> PResult<()> {
        if self.eat(Punct::Comma) || self.at(close) || self.at_line_start() {
            Ok(())
        } else {
            Err(self.expected("`,`"))
        }
    }

    /// `{ name: Type, … }` (the `{` is current).
    fn parse_named_fields(&mut self) -> PResult<Vec<ast::FieldDecl>> {
        self.expect(Punct::LBrace)?;
        let mut fields = Vec::new();
        while !self.eat(Punct::RBrace) {
            let lo = self.span();
            self.parse_attrs()?;
            let vis = self.parse_vis(true)?;
            let name = self.expect_ident("identifier")?;
            self.expect(Punct::Colon)?;
            let ty = self.parse_type()?;
            fields.push(ast::FieldDecl { vis, name, ty, span: lo.to(self.prev_span()) });
            self.expect_list_separator(Punct::RBrace)?;
        }
        Ok(fields)
    }

    /// `(Type, …)` (the `(` is current).
    fn parse_tuple_fields(&mut self) -> PResult<Vec<ast::TupleFieldDecl>> {
        self.expect(Punct::LParen)?;
        let mut fields = Vec::new();
        while !self.eat(Punct::RParen) {
            let lo = self.span();
            self.parse_attrs()?;
            let vis = self.parse_vis(false)?;
            let ty = self.parse_type()?;
            fields.push(ast::TupleFieldDecl { vis, ty, span: lo.to(self.prev_span()) });
            if !self.eat(Punct::Comma) {
                self.expect(Punct::RParen)?;
                break;
            }
        }
        Ok(fields)
    }

    /// After a declaration that may end with `;`: eats it.
    fn eat_item_semi(&mut self) {
        self.eat(Punct::Semi);
    }

    fn parse_struct(&mut self) -> PResult<ast::StructDecl> {
        self.expect_kw(Keyword::Struct)?;
        let name = self.expect_ident("identifier")?;
        let mut generics = self.parse_generics()?;
        self.parse_where(&mut generics)?;
        let kind = if self.at(Punct::LBrace) {
            ast::StructKind::Named(self.parse_named_fields()?)
        } else if self.at(Punct::LParen) {
            let fields = self.parse_tuple_fields()?;
            self.parse_where(&mut generics)?;
            self.eat_item_semi();
            ast::StructKind::Tuple(fields)
        } else if self.eat(Punct::Semi) || self.at_line_start() || self.at(Punct::RBrace) || self.is_eof() {
            ast::StructKind::Unit
        } else {
            return Err(self.expected("`{`"));
        };
        Ok(ast::StructDecl { name, generics, kind })
    }

    fn parse_enum(&mut self) -> PResult<ast::EnumDecl> {
        self.expect_kw(Keyword::Enum)?;
        let name = self.expect_ident("identifier")?;
        let mut generics = self.parse_generics()?;
        self.parse_where(&mut generics)?;
        self.expect(Punct::LBrace)?;
        let mut variants = Vec::new();
        while !self.eat(Punct::RBrace) {
            let lo = self.span();
            self.parse_attrs()?;
            let name = self.expect_ident("identifier")?;
            let kind = if self.at(Punct::LParen) {
                ast::StructKind::Tuple(self.parse_tuple_fields()?)
            } else if self.at(Punct::LBrace) {
                ast::StructKind::Named(self.parse_named_fields()?)
            } else {
                ast::StructKind::Unit
            };
            let discriminant = if self.eat(Punct::Eq) { Some(self.parse_expr()?) } else { None };
            variants.push(ast::VariantDecl { name, kind, discriminant, span: lo.to(self.prev_span()) });
            self.expect_list_separator(Punct::RBrace)?;
        }
        Ok(ast::EnumDecl { name, generics, variants })
    }

    /// `type Name<T> = Type;`, or an associated type `type Item;` / `type Item: Bound;`
    /// (outside the subset).
    fn parse_type_alias(&mut self) -> PResult<ItemKind> {
        self.expect_kw(Keyword::Type)?;
        let name = self.expect_ident("identifier")?;
        let generics = self.parse_generics()?;
        if self.at(Punct::Semi) || self.at(Punct::Colon) {
            if self.eat(Punct::Colon) {
                self.parse_bounds()?;
            }
            self.eat_item_semi();
            return Ok(ItemKind::Unsupported { feature: "associated types".to_string() });
        }
        self.expect(Punct::Eq)?;
        let ty = self.parse_type()?;
        self.eat_item_semi();
        Ok(ItemKind::TypeAlias(ast::TypeAlias { name, generics, ty }))
    }

    /// `const NAME: Type = value;`, or an associated constant without value (outside the subset).
    fn parse_const(&mut self) -> PResult<ItemKind> {
        self.expect_kw(Keyword::Const)?;
        let name = self.expect_ident("identifier")?;
        self.expect(Punct::Colon)?;
        let ty = self.parse_type()?;
        if self.eat(Punct::Semi) {
            return Ok(ItemKind::Unsupported { feature: "associated constants".to_string() });
        }
        self.expect(Punct::Eq)?;
        let value = self.parse_expr()?;
        self.eat_item_semi();
        Ok(ItemKind::Const(ast::ConstDecl { name, ty, value }))
    }

    fn parse_static(&mut self) -> PResult<ast::StaticDecl> {
        self.expect_kw(Keyword::Static)?;
        let mutable = self.eat_kw(Keyword::Mut);
        let name = self.expect_ident("identifier")?;
        self.expect(Punct::Colon)?;
        let ty = self.parse_type()?;
        self.expect(Punct::Eq)?;
        let value = self.parse_expr()?;
        self.eat_item_semi();
        Ok(ast::StaticDecl { name, mutable, ty, value })
    }

    /// `{ items }` of an impl, trait or inline module.
    fn parse_item_body(&mut self) -> PResult<Vec<ast::Item>> {
        self.expect(Punct::LBrace)?;
        let items = self.parse_item_list(ItemList::Body);
        self.expect(Punct::RBrace)?;
        Ok(items)
    }

    fn parse_impl(&mut self) -> PResult<ast::ImplBlock> {
        self.expect_kw(Keyword::Impl)?;
        let mut generics = self.parse_generics()?;
        let first = self.parse_type()?;
        let (trait_, self_ty) = if self.eat_kw(Keyword::For) {
            let ast::TypeKind::Path(path) = first.kind else {
                return Err(self.error_at("expected a trait name before `for`", first.span));
            };
            (Some(path), self.parse_type()?)
        } else {
            (None, first)
        };
        self.parse_where(&mut generics)?;
        let items = self.parse_item_body()?;
        Ok(ast::ImplBlock { generics, trait_, self_ty, items })
    }

    fn parse_trait(&mut self) -> PResult<ast::TraitDecl> {
        self.expect_kw(Keyword::Trait)?;
        let name = self.expect_ident("identifier")?;
        let mut generics = self.parse_generics()?;
        let supertraits = if self.eat(Punct::Colon) { self.parse_bounds()? } else { Vec::new() };
        self.parse_where(&mut generics)?;
        let items = self.parse_item_body()?;
        Ok(ast::TraitDecl { name, generics, supertraits, items })
    }

    fn parse_mod(&mut self) -> PResult<ast::ModDecl> {
        self.expect_kw(Keyword::Mod)?;
        let name = self.expect_ident("identifier")?;
        let items = if self.at(Punct::LBrace) {
            Some(self.parse_item_body()?)
        } else if self.eat(Punct::Semi) || self.at_line_start() || self.is_eof() || self.at(Punct::RBrace) {
            None
        } else {
            return Err(self.expected("`;`"));
        };
        Ok(ast::ModDecl { name, items })
    }

    fn parse_use(&mut self) -> PResult<ast::UseDecl> {
        self.expect_kw(Keyword::Use)?;
        let lo = self.span();
        let mut segments = vec![self.parse_use_segment()?];
        let tree = loop {
            let prefix =
                |segments: &Vec<ast::PathSegment>, hi| ast::Path { segments: segments.clone(), span: lo.to(hi) };
            if self.at(Punct::Dot) || self.at(Punct::ColonColon) {
                match self.peek_at(1) {
                    TokenKind::Punct(Punct::Star) => {
                        self.bump();
                        self.bump();
                        break ast::UseTree::Glob { prefix: prefix(&segments, self.prev_span()) };
                    }
                    TokenKind::Punct(Punct::LBrace) => {
                        let path = prefix(&segments, self.prev_span());
                        self.bump();
                        break ast::UseTree::Group { prefix: path, items: self.parse_use_group()? };
                    }
                    _ => {
                        self.bump();
                        segments.push(self.parse_use_segment()?);
                    }
                }
            } else {
                let path = prefix(&segments, self.prev_span());
                let alias = if self.eat_kw(Keyword::As) { Some(self.expect_ident("identifier")?) } else { None };
                break ast::UseTree::Single { path, alias };
            }
        };
        self.eat_item_semi();
        Ok(ast::UseDecl { tree })
    }

    fn parse_use_segment(&mut self) -> PResult<ast::PathSegment> {
        let ident = match self.peek().clone() {
            TokenKind::Ident(name) => ast::Ident { name, span: self.bump().span },
            TokenKind::Keyword(kw @ (Keyword::SelfValue | Keyword::SelfType | Keyword::Super | Keyword::Crate)) => {
                ast::Ident { name: kw.as_str().to_string(), span: self.bump().span }
            }
            _ => return Err(self.expected("identifier")),
        };
        Ok(ast::PathSegment { ident, generic_args: None })
    }

    /// `{ a, b as c, self }` (the `{` is current).
    fn parse_use_group(&mut self) -> PResult<Vec<(ast::Ident, Option<ast::Ident>)>> {
        self.expect(Punct::LBrace)?;
        let mut items = Vec::new();
        while !self.eat(Punct::RBrace) {
            let name = self.parse_use_segment()?.ident;
            let alias = if self.eat_kw(Keyword::As) { Some(self.expect_ident("identifier")?) } else { None };
            items.push((name, alias));
            self.expect_list_separator(Punct::RBrace)?;
        }
        Ok(items)
    }

    /// Skips an item of a level not implemented yet: up to and including its first balanced
    /// `{…}` (or `(…)`/`[…]`) group, treating a `{…}` right after `/` as an effect row.
    fn skip_unsupported_item(&mut self, feature: &str) -> PResult<ItemKind> {
        loop {
            match self.peek() {
                TokenKind::Punct(Punct::LBrace | Punct::LParen | Punct::LBracket) => {
                    let was_paren = self.at(Punct::LParen);
                    self.skip_balanced()?;
                    // `macro name(params) { body }`
                    if was_paren && self.at(Punct::LBrace) && !self.at_line_start() {
                        self.skip_balanced()?;
                    }
                    break;
                }
                TokenKind::Punct(Punct::Slash) => {
                    self.bump();
                    if self.at(Punct::LBrace) {
                        self.skip_balanced()?;
                    }
                }
                TokenKind::Punct(Punct::Semi) => break,
                TokenKind::Eof | TokenKind::Punct(Punct::RBrace) => return Err(self.expected("`{`")),
                _ => {
                    self.bump();
                }
            }
        }
        self.eat_item_semi();
        Ok(ItemKind::Unsupported { feature: feature.to_string() })
    }
}

/// Keywords that start an item (`extern` is rejected as an item but still ends recovery).
pub(super) fn is_item_keyword(kw: &Keyword) -> bool {
    matches!(
        kw,
        Keyword::Fn
            | Keyword::Fiber
            | Keyword::Struct
            | Keyword::Enum
            | Keyword::Type
            | Keyword::Const
            | Keyword::Static
            | Keyword::Impl
            | Keyword::Trait
            | Keyword::Mod
            | Keyword::Use
            | Keyword::Pub
            | Keyword::Effect
            | Keyword::Macro
    )
}
