//! The parser: tokens → AST (recursive descent, Pratt precedence for expressions).
//!
//! Split by concern: [`items`] (declarations), [`types`] (paths, generics, types, effect rows),
//! [`expr`] (operators and postfix forms), [`primary`] (atoms and control flow), [`macros`]
//! (builtin macros and the skipped constructs of unimplemented levels), [`patterns`], [`stmts`]
//! (blocks and statements).
//!
//! Error handling: every parse function returns [`PResult`]. The first error inside an item is
//! reported as a diagnostic ("expected WHAT, found TOKEN", §1.6) and propagates as
//! `Err(ParseError)` up to the nearest item boundary (top level, or a member of an `impl`,
//! `trait` or `mod` body), which skips to the end of the item with [`Parser::recover_item`] and
//! continues. So one broken item yields one error and several broken items yield several.
//!
//! Invariants that make the parser total:
//! * the token list always ends with `Eof`, and [`Parser::bump`] never moves past it;
//! * every loop either consumes a token or exits (recovery consumes at least one token);
//! * recursion goes through [`Parser::nested`], which fails with a diagnostic beyond
//!   [`MAX_NESTING`] levels instead of overflowing the stack.

mod effects;
mod expr;
mod items;
mod macros;
mod patterns;
mod primary;
mod stmts;
#[cfg(test)]
mod tests;
mod types;

use crate::diagnostics::Diagnostic;
use crate::source::{FileId, Span};
use crate::syntax::ast;
use crate::syntax::token::{Keyword, Punct, Token, TokenKind, describe, is_continuation};

/// Deepest nesting of expressions, types, patterns and blocks the parser accepts.
pub const MAX_NESTING: u32 = 256;

/// Syntax errors reported per file before the parser goes quiet.
pub const MAX_ERRORS: usize = 200;

/// Marker for "an error was reported; unwind to the item boundary".
#[derive(Debug)]
pub struct ParseError;

pub type PResult<T> = Result<T, ParseError>;

pub struct Parser<'src> {
    file: FileId,
    text: &'src str,
    tokens: Vec<Token>,
    pos: usize,
    diags: Vec<Diagnostic>,
    depth: u32,
    /// In `if`/`while`/`match`/`for` headers a `{` starts the block, never a struct literal.
    no_struct: bool,
    /// Tokens replaced by [`Parser::eat_closing_angle`] (index, original), so a speculative
    /// parse can be undone.
    split_log: Vec<(usize, Token)>,
}

/// Parses a whole file from its tokens.
pub fn parse_tokens(file: FileId, text: &str, tokens: Vec<Token>) -> (ast::SourceFile, Vec<Diagnostic>) {
    let mut parser =
        Parser { file, text, tokens, pos: 0, diags: Vec::new(), depth: 0, no_struct: false, split_log: Vec::new() };
    let items = parser.parse_item_list(items::ItemList::File);
    let span = Span::new(file, 0, text.len() as u32);
    (ast::SourceFile { items, span }, parser.diags)
}

impl<'src> Parser<'src> {
    // ----- token access -------------------------------------------------------------------

    fn tok(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek(&self) -> &TokenKind {
        &self.tok().kind
    }

    fn peek_at(&self, n: usize) -> &TokenKind {
        let i = (self.pos + n).min(self.tokens.len() - 1);
        &self.tokens[i].kind
    }

    fn token_at(&self, n: usize) -> &Token {
        let i = (self.pos + n).min(self.tokens.len() - 1);
        &self.tokens[i]
    }

    fn span(&self) -> Span {
        self.tok().span
    }

    /// The span of the last consumed token.
    fn prev_span(&self) -> Span {
        if self.pos == 0 { Span::new(self.file, 0, 0) } else { self.tokens[self.pos - 1].span }
    }

    fn is_eof(&self) -> bool {
        matches!(self.peek(), TokenKind::Eof)
    }

    /// Consumes the current token (never moves past `Eof`).
    fn bump(&mut self) -> Token {
        let token = self.tok().clone();
        if !matches!(token.kind, TokenKind::Eof) {
            self.pos += 1;
        }
        token
    }

    fn at(&self, p: Punct) -> bool {
        matches!(self.peek(), TokenKind::Punct(q) if *q == p)
    }

    fn at_kw(&self, kw: Keyword) -> bool {
        matches!(self.peek(), TokenKind::Keyword(k) if *k == kw)
    }

    /// The current token is the contextual keyword `word` (an identifier spelled so).
    fn at_word(&self, word: &str) -> bool {
        matches!(self.peek(), TokenKind::Ident(name) if name == word)
    }

    fn eat(&mut self, p: Punct) -> bool {
        if self.at(p) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: Keyword) -> bool {
        if self.at_kw(kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// Whether the current token starts a new line.
    fn at_line_start(&self) -> bool {
        self.tok().line_start
    }

    /// The previous token is a §1.5 continuation token.
    fn prev_is_continuation(&self) -> bool {
        self.pos > 0 && is_continuation(&self.tokens[self.pos - 1].kind)
    }

    // ----- errors --------------------------------------------------------------------------

    /// Reports "expected WHAT, found TOKEN" at the current token.
    fn expected(&mut self, what: &str) -> ParseError {
        let tok = self.tok().clone();
        let mut diag = Diagnostic::error(format!("expected {what}, found {}", describe(&tok.kind)), tok.span);
        if let TokenKind::Error(Some(note)) = tok.kind {
            diag = diag.with_note(note);
        }
        self.report(diag);
        ParseError
    }

    fn error_at(&mut self, message: impl Into<String>, span: Span) -> ParseError {
        self.report(Diagnostic::error(message, span));
        ParseError
    }

    /// Records a diagnostic; past [`MAX_ERRORS`] further ones are dropped (one note says so).
    fn report(&mut self, diagnostic: Diagnostic) {
        if self.diags.len() < MAX_ERRORS {
            self.diags.push(diagnostic);
        } else if self.diags.len() == MAX_ERRORS {
            let note = Diagnostic::error("too many syntax errors; stopping here", diagnostic.span);
            self.diags.push(note);
        }
    }

    fn expect(&mut self, p: Punct) -> PResult<Span> {
        if self.at(p) { Ok(self.bump().span) } else { Err(self.expected(&format!("`{}`", p.as_str()))) }
    }

    fn expect_kw(&mut self, kw: Keyword) -> PResult<Span> {
        if self.at_kw(kw) { Ok(self.bump().span) } else { Err(self.expected(&format!("`{}`", kw.as_str()))) }
    }

    /// An identifier (raw identifiers included); reports "expected {what}, found …".
    fn expect_ident(&mut self, what: &str) -> PResult<ast::Ident> {
        match self.peek().clone() {
            TokenKind::Ident(name) => Ok(ast::Ident { name, span: self.bump().span }),
            _ => Err(self.expected(what)),
        }
    }

    /// Runs `f` one nesting level deeper; fails with a diagnostic past [`MAX_NESTING`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_NESTING {
            return Err(self.error_at("expression nested too deeply", self.span()));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// Runs `f` with the struct-literal restriction set to `no_struct`, restoring it afterwards.
    fn with_no_struct<T>(&mut self, no_struct: bool, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        let saved = std::mem::replace(&mut self.no_struct, no_struct);
        let result = f(self);
        self.no_struct = saved;
        result
    }

    /// Skips a balanced `(…)`, `[…]` or `{…}` group starting at the current open delimiter.
    fn skip_balanced(&mut self) -> PResult<Span> {
        let start = self.span();
        let mut depth = 0usize;
        loop {
            match self.peek() {
                TokenKind::Punct(Punct::LParen | Punct::LBracket | Punct::LBrace) => depth += 1,
                TokenKind::Punct(Punct::RParen | Punct::RBracket | Punct::RBrace) => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Ok(start.to(self.bump().span));
                    }
                }
                TokenKind::Eof => return Err(self.expected("`}`")),
                _ => {}
            }
            self.bump();
        }
    }

    /// Restores tokens split after the log had `len` entries.
    fn undo_splits(&mut self, len: usize) {
        while self.split_log.len() > len {
            if let Some((index, token)) = self.split_log.pop() {
                self.tokens[index] = token;
            }
        }
    }

    // ----- recovery ------------------------------------------------------------------------

    /// After an error inside the item that started at token `start`: skips to the end of that
    /// item (the `}` that closes its body) or to the next item keyword at brace depth 0.
    /// At the top level (`top_level`), stray `}` are skipped too, so that a run of them gives one
    /// error. Always consumes at least one token unless at end of file.
    fn recover_item(&mut self, start: usize, top_level: bool) {
        let mut depth: i64 = 0;
        for token in &self.tokens[start..self.pos] {
            match token.kind {
                TokenKind::Punct(Punct::LBrace) => depth += 1,
                TokenKind::Punct(Punct::RBrace) => depth -= 1,
                _ => {}
            }
        }
        if self.pos == start {
            if matches!(self.peek(), TokenKind::Punct(Punct::LBrace)) {
                depth += 1;
            }
            self.bump();
        }
        loop {
            match self.peek() {
                TokenKind::Eof => return,
                TokenKind::Punct(Punct::LBrace) => depth += 1,
                TokenKind::Punct(Punct::RBrace) => {
                    if depth <= 0 {
                        if top_level {
                            self.bump();
                            continue;
                        }
                        return;
                    }
                    depth -= 1;
                    self.bump();
                    if depth == 0 {
                        return;
                    }
                    continue;
                }
                _ if depth <= 0 && self.at_item_start() => return,
                _ => {}
            }
            self.bump();
        }
    }
}

/// Whether a path segment names a type (upper-case initial) or is `Self`: `Path {` is then a
/// struct literal (§4.1) and a lone path in a pattern is a constant (§4.7).
pub(crate) fn is_type_like_name(name: &str) -> bool {
    name == "Self" || name.starts_with(|c: char| c.is_ascii_uppercase())
}
