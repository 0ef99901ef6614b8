//! Tokens: what the lexer produces and the parser consumes.
//!
//! Design: a token is a small tagged value plus its [`Span`] and one bit of layout, `line_start`
//! (a line break separates it from the previous token). That bit is all the parser needs for the
//! optional-semicolon rules of LANGUAGE.md §1.5, so whitespace and comments never reach the
//! parser. Literal values are decoded by the lexer (escapes processed, integers as `u128`), so
//! the parser never re-reads source text except to split `t.0.1` (a float token after `.`).
//!
//! Keywords are split into the strict and reserved classes of §1.2; contextual keywords
//! (`handler`, `perform`, `requires`, …) are plain [`TokenKind::Ident`]s that the parser checks
//! by spelling where they matter.
//!
//! [`describe`] names a token the way §1.6 error messages do ("`;`", "identifier",
//! "type identifier", "integer literal", "end of file", …).

use crate::source::Span;
use crate::syntax::ast::{FloatSuffix, IntSuffix};

macro_rules! keywords {
    ($($variant:ident = $text:literal,)*) => {
        /// Strict and reserved keywords (LANGUAGE.md §1.2); never identifiers.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub enum Keyword { $($variant,)* }

        impl Keyword {
            pub fn as_str(self) -> &'static str {
                match self { $(Keyword::$variant => $text,)* }
            }

            /// The keyword spelled `word`, if it is a strict or reserved keyword.
            pub fn from_word(word: &str) -> Option<Keyword> {
                match word { $($text => Some(Keyword::$variant),)* _ => None }
            }
        }
    };
}

keywords! {
    // strict
    As = "as", Break = "break", Const = "const", Continue = "continue", Crate = "crate",
    Dyn = "dyn", Effect = "effect", Else = "else", Enum = "enum", Extern = "extern",
    False = "false", Fiber = "fiber", Fn = "fn", For = "for", Forall = "forall", If = "if",
    Impl = "impl", In = "in", Let = "let", Linear = "linear", Loop = "loop", Macro = "macro",
    Match = "match", Mod = "mod", Module = "module", Move = "move", Mut = "mut", Pub = "pub",
    Pure = "pure", Ref = "ref", Region = "region", Return = "return", SelfValue = "self",
    SelfType = "Self", Static = "static", Struct = "struct", Super = "super",
    Suspend = "suspend", Trait = "trait", True = "true", Type = "type", Use = "use",
    Where = "where", While = "while",
    // reserved
    Abstract = "abstract", Become = "become", Box = "box", Catch = "catch", Defer = "defer",
    Do = "do", Final = "final", Gen = "gen", Override = "override", Priv = "priv", Raw = "raw",
    Select = "select", Spawn = "spawn", Throw = "throw", Try = "try", Typeof = "typeof",
    Unsafe = "unsafe", Unsized = "unsized", Virtual = "virtual", Yield = "yield",
}

impl Keyword {
    /// Reserved words: rejected as names everywhere except after `.` (§7.2).
    pub fn is_reserved(self) -> bool {
        matches!(
            self,
            Keyword::Abstract
                | Keyword::Become
                | Keyword::Box
                | Keyword::Catch
                | Keyword::Defer
                | Keyword::Do
                | Keyword::Final
                | Keyword::Gen
                | Keyword::Override
                | Keyword::Priv
                | Keyword::Raw
                | Keyword::Select
                | Keyword::Spawn
                | Keyword::Throw
                | Keyword::Try
                | Keyword::Typeof
                | Keyword::Unsafe
                | Keyword::Unsized
                | Keyword::Virtual
                | Keyword::Yield
        )
    }
}

macro_rules! puncts {
    ($($variant:ident = $text:literal,)*) => {
        /// Operators and punctuation (LANGUAGE.md §1.4).
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub enum Punct { $($variant,)* }

        impl Punct {
            pub fn as_str(self) -> &'static str {
                match self { $(Punct::$variant => $text,)* }
            }
        }
    };
}

puncts! {
    Plus = "+", Minus = "-", Star = "*", Slash = "/", Percent = "%", Bang = "!", Amp = "&",
    Pipe = "|", Caret = "^", Shl = "<<", Shr = ">>", AndAnd = "&&", OrOr = "||", EqEq = "==",
    Ne = "!=", Lt = "<", Gt = ">", Le = "<=", Ge = ">=", Eq = "=", PlusEq = "+=",
    MinusEq = "-=", StarEq = "*=", SlashEq = "/=", PercentEq = "%=", AmpEq = "&=",
    PipeEq = "|=", CaretEq = "^=", ShlEq = "<<=", ShrEq = ">>=", PipeGt = "|>", DotDot = "..",
    DotDotEq = "..=", Arrow = "->", FatArrow = "=>", Dot = ".", Comma = ",", Semi = ";",
    Colon = ":", ColonColon = "::", LParen = "(", RParen = ")", LBracket = "[",
    RBracket = "]", LBrace = "{", RBrace = "}", At = "@", Hash = "#", Question = "?",
}

/// Punctuation spellings, longest first, so the lexer can take the longest match.
pub const PUNCTS_LONGEST_FIRST: &[Punct] = &[
    Punct::ShlEq,
    Punct::ShrEq,
    Punct::DotDotEq,
    Punct::Shl,
    Punct::Shr,
    Punct::AndAnd,
    Punct::OrOr,
    Punct::EqEq,
    Punct::Ne,
    Punct::Le,
    Punct::Ge,
    Punct::PlusEq,
    Punct::MinusEq,
    Punct::StarEq,
    Punct::SlashEq,
    Punct::PercentEq,
    Punct::AmpEq,
    Punct::PipeEq,
    Punct::CaretEq,
    Punct::PipeGt,
    Punct::DotDot,
    Punct::Arrow,
    Punct::FatArrow,
    Punct::ColonColon,
    Punct::Plus,
    Punct::Minus,
    Punct::Star,
    Punct::Slash,
    Punct::Percent,
    Punct::Bang,
    Punct::Amp,
    Punct::Pipe,
    Punct::Caret,
    Punct::Lt,
    Punct::Gt,
    Punct::Eq,
    Punct::Dot,
    Punct::Comma,
    Punct::Semi,
    Punct::Colon,
    Punct::LParen,
    Punct::RParen,
    Punct::LBracket,
    Punct::RBracket,
    Punct::LBrace,
    Punct::RBrace,
    Punct::At,
    Punct::Hash,
    Punct::Question,
];

#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    /// An identifier or contextual keyword; raw identifiers arrive without their `r#`.
    Ident(String),
    Keyword(Keyword),
    /// `'name` (labels and lifetimes), stored without the quote.
    Lifetime(String),
    /// Integer literal; `None` when it does not fit in `u128` (already reported).
    Int(Option<u128>, Option<IntSuffix>),
    Float(f64, Option<FloatSuffix>),
    Char(char),
    Str(String),
    ByteStr(Vec<u8>),
    Punct(Punct),
    /// A character or comment the lexer rejected; the optional note explains why.
    Error(Option<&'static str>),
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
    /// A line break separates this token from the previous one (LANGUAGE.md §1.5).
    pub line_start: bool,
}

/// Names a token as §1.6 error messages do.
pub fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Ident(name) if name == "_" => "`_`".to_string(),
        TokenKind::Ident(name) if name.starts_with(|c: char| c.is_ascii_uppercase()) => "type identifier".to_string(),
        TokenKind::Ident(_) => "identifier".to_string(),
        TokenKind::Keyword(kw) => format!("`{}`", kw.as_str()),
        TokenKind::Lifetime(_) => "lifetime".to_string(),
        TokenKind::Int(..) => "integer literal".to_string(),
        TokenKind::Float(..) => "float literal".to_string(),
        TokenKind::Char(_) => "character literal".to_string(),
        TokenKind::Str(_) | TokenKind::ByteStr(_) => "string literal".to_string(),
        TokenKind::Punct(p) => format!("`{}`", p.as_str()),
        TokenKind::Error(_) => "error".to_string(),
        TokenKind::Eof => "end of file".to_string(),
    }
}

/// Tokens after which a line break never ends an expression (§1.5 "continuation tokens").
pub fn is_continuation(kind: &TokenKind) -> bool {
    match kind {
        TokenKind::Keyword(kw) => matches!(kw, Keyword::As | Keyword::In),
        TokenKind::Punct(p) => matches!(
            p,
            Punct::Plus
                | Punct::Minus
                | Punct::Star
                | Punct::Slash
                | Punct::Percent
                | Punct::AndAnd
                | Punct::OrOr
                | Punct::Dot
                | Punct::Comma
                | Punct::LParen
                | Punct::LBracket
                | Punct::LBrace
                | Punct::Amp
                | Punct::Pipe
                | Punct::Caret
                | Punct::Shl
                | Punct::Shr
                | Punct::EqEq
                | Punct::Ne
                | Punct::Lt
                | Punct::Gt
                | Punct::Le
                | Punct::Ge
                | Punct::Eq
                | Punct::PlusEq
                | Punct::MinusEq
                | Punct::StarEq
                | Punct::SlashEq
                | Punct::PercentEq
                | Punct::AmpEq
                | Punct::PipeEq
                | Punct::CaretEq
                | Punct::ShlEq
                | Punct::ShrEq
                | Punct::DotDot
                | Punct::DotDotEq
        ),
        _ => false,
    }
}

/// Tokens that may begin a statement (§1.5 "statement-start tokens"). Only the punctuation part
/// matters to the parser: an infix/postfix token at a line start ends the expression when it is
/// also one of these.
pub fn is_statement_start(kind: &TokenKind) -> bool {
    match kind {
        TokenKind::Punct(p) => matches!(
            p,
            Punct::LParen
                | Punct::LBracket
                | Punct::LBrace
                | Punct::Amp
                | Punct::Star
                | Punct::Bang
                | Punct::Minus
                | Punct::Hash
        ),
        TokenKind::Ident(_)
        | TokenKind::Int(..)
        | TokenKind::Float(..)
        | TokenKind::Char(_)
        | TokenKind::Str(_)
        | TokenKind::ByteStr(_) => true,
        TokenKind::Keyword(kw) => matches!(
            kw,
            Keyword::Let
                | Keyword::If
                | Keyword::Match
                | Keyword::While
                | Keyword::For
                | Keyword::Loop
                | Keyword::Return
                | Keyword::Break
                | Keyword::Continue
                | Keyword::Fn
                | Keyword::Struct
                | Keyword::Enum
                | Keyword::Trait
                | Keyword::Impl
                | Keyword::Use
                | Keyword::Mod
                | Keyword::Pub
                | Keyword::Type
                | Keyword::Const
                | Keyword::Static
                | Keyword::Extern
                | Keyword::Region
                | Keyword::Linear
                | Keyword::Effect
                | Keyword::SelfValue
                | Keyword::SelfType
                | Keyword::True
                | Keyword::False
        ),
        _ => false,
    }
}

/// The integer suffix spelled `word`.
pub fn int_suffix(word: &str) -> Option<IntSuffix> {
    Some(match word {
        "i8" => IntSuffix::I8,
        "i16" => IntSuffix::I16,
        "i32" => IntSuffix::I32,
        "i64" => IntSuffix::I64,
        "i128" => IntSuffix::I128,
        "isize" => IntSuffix::Isize,
        "u8" => IntSuffix::U8,
        "u16" => IntSuffix::U16,
        "u32" => IntSuffix::U32,
        "u64" => IntSuffix::U64,
        "u128" => IntSuffix::U128,
        "usize" => IntSuffix::Usize,
        _ => return None,
    })
}

/// The float suffix spelled `word`.
pub fn float_suffix(word: &str) -> Option<FloatSuffix> {
    match word {
        "f32" => Some(FloatSuffix::F32),
        "f64" => Some(FloatSuffix::F64),
        _ => None,
    }
}
