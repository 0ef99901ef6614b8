//! Lexing and parsing: source text → [`ast::SourceFile`].
//!
//! The parser never fails: it returns a tree (with `Error` nodes where it recovered) plus
//! diagnostics, so one run reports several syntax errors (one per broken item at most, to avoid
//! cascades). Stages: [`lexer`] turns text into [`token`]s, [`parser`] builds the [`ast`].
//! Both are total on arbitrary input (no panic, bounded recursion, always progressing loops);
//! `bloodc/tests/frontend_fuzz.rs` checks that on mutated programs.

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod token;

use crate::diagnostics::Diagnostic;
use crate::source::FileId;

/// Parses one file. Diagnostics are ordered by position.
pub fn parse_file(file: FileId, text: &str) -> (ast::SourceFile, Vec<Diagnostic>) {
    let (tokens, mut diagnostics) = lexer::lex(file, text);
    let (source_file, parse_diagnostics) = parser::parse_tokens(file, text, tokens);
    diagnostics.extend(parse_diagnostics);
    diagnostics.sort_by_key(|d| d.span.lo);
    (source_file, diagnostics)
}
