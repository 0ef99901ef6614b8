//! Lexing and parsing: source text → [`ast::SourceFile`].
//!
//! The parser never fails: it returns a tree (with `Error` nodes where it recovered) plus
//! diagnostics, so one run reports several syntax errors (one per broken item at most, to avoid
//! cascades). Stages: [`lexer`] turns text into [`token`]s, [`parser`] builds the [`ast`].
//! Both are total on arbitrary input (no panic, bounded recursion, always progressing loops);
//! `bloodc/tests/frontend_fuzz.rs` checks that on mutated programs.
//!
//! Stack: the parser recurses at most [`parser::MAX_NESTING`] levels, but how much stack one
//! level takes depends on the build (unoptimised frames are several times larger). So that no
//! build and no caller thread can overflow, [`parse_file`] runs the parser on its own thread with
//! [`PARSER_STACK_BYTES`] of stack (reserved virtual memory; only touched pages are used).

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod token;

use crate::diagnostics::Diagnostic;
use crate::source::FileId;

/// Stack of the parsing thread: enough for [`parser::MAX_NESTING`] levels in any build profile.
pub const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Parses one file. Diagnostics are ordered by position.
pub fn parse_file(file: FileId, text: &str) -> (ast::SourceFile, Vec<Diagnostic>) {
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("blood-parser".to_string())
            .stack_size(PARSER_STACK_BYTES)
            .spawn_scoped(scope, || parse_on_this_thread(file, text));
        match spawned {
            Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread available (resource limits): parse here; the nesting limit still holds.
            Err(_) => parse_on_this_thread(file, text),
        }
    })
}

/// Parses on the calling thread (see the module docs about stack use).
pub fn parse_on_this_thread(file: FileId, text: &str) -> (ast::SourceFile, Vec<Diagnostic>) {
    let (tokens, mut diagnostics) = lexer::lex(file, text);
    let (source_file, parse_diagnostics) = parser::parse_tokens(file, text, tokens);
    diagnostics.extend(parse_diagnostics);
    diagnostics.sort_by_key(|d| d.span.lo);
    (source_file, diagnostics)
}
