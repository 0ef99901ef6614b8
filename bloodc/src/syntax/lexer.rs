//! The lexer: source text → [`Token`]s plus diagnostics (LANGUAGE.md §1.1–§1.4).
//!
//! Invariants:
//! * it never fails and always ends with exactly one [`TokenKind::Eof`];
//! * every loop iteration consumes at least one byte, and every span lies on `char`
//!   boundaries (multi-byte characters are consumed whole);
//! * problems the parser cannot describe better (a too-large integer, a bad escape, `''`,
//!   an incomplete exponent) are reported here and the token still gets a usable value, so the
//!   parser does not add a second error; characters the language does not know become
//!   [`TokenKind::Error`] tokens and the parser reports "expected …, found error".
//!
//! Whitespace and comments are dropped; the only layout kept is whether a line break precedes a
//! token ([`Token::line_start`]), which drives optional semicolons (§1.5).

use crate::diagnostics::Diagnostic;
use crate::source::{FileId, Span};
use crate::syntax::ast::IntSuffix;
use crate::syntax::token::{Keyword, PUNCTS_LONGEST_FIRST, Token, TokenKind, float_suffix, int_suffix};

/// Splits `text` into tokens. The result always ends with an `Eof` token.
pub fn lex(file: FileId, text: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let mut lexer = Lexer { file, text, bytes: text.as_bytes(), pos: 0, tokens: Vec::new(), diags: Vec::new() };
    lexer.run();
    (lexer.tokens, lexer.diags)
}

struct Lexer<'src> {
    file: FileId,
    text: &'src str,
    bytes: &'src [u8],
    pos: usize,
    tokens: Vec<Token>,
    diags: Vec<Diagnostic>,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'src> Lexer<'src> {
    fn span(&self, lo: usize, hi: usize) -> Span {
        Span::new(self.file, lo as u32, hi as u32)
    }

    fn byte_at(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    fn char_at(&self, i: usize) -> Option<char> {
        self.text.get(i..).and_then(|s| s.chars().next())
    }

    fn error(&mut self, message: impl Into<String>, lo: usize, hi: usize) {
        self.diags.push(Diagnostic::error(message, self.span(lo, hi)));
    }

    fn run(&mut self) {
        // A byte-order mark and a `#!` interpreter line at the very start are not code.
        if self.text.starts_with('\u{feff}') {
            self.pos = '\u{feff}'.len_utf8();
        }
        if self.text[self.pos..].starts_with("#!") && !self.text[self.pos..].starts_with("#![") {
            while self.byte_at(self.pos).is_some_and(|b| b != b'\n') {
                self.pos += 1;
            }
        }
        let mut line_start = true;
        loop {
            if self.skip_trivia(&mut line_start) {
                line_start = true;
            }
            let start = self.pos;
            let Some(b) = self.byte_at(start) else {
                self.tokens.push(Token { kind: TokenKind::Eof, span: self.span(start, start), line_start });
                return;
            };
            let kind = self.lex_token(b);
            debug_assert!(self.pos > start);
            self.tokens.push(Token { kind, span: self.span(start, self.pos), line_start });
            line_start = false;
        }
    }

    /// Skips whitespace and comments; returns whether a line break was seen. An unclosed block
    /// comment is pushed as an error token.
    fn skip_trivia(&mut self, line_start: &mut bool) -> bool {
        let mut newline = false;
        loop {
            match self.byte_at(self.pos) {
                Some(b'\n') => {
                    newline = true;
                    self.pos += 1;
                }
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'/') if self.byte_at(self.pos + 1) == Some(b'/') => {
                    while let Some(b) = self.byte_at(self.pos) {
                        if b == b'\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                Some(b'/') if self.byte_at(self.pos + 1) == Some(b'*') => {
                    let start = self.pos;
                    self.pos += 2;
                    let mut depth = 1usize;
                    while depth > 0 {
                        match self.byte_at(self.pos) {
                            None => break,
                            Some(b'/') if self.byte_at(self.pos + 1) == Some(b'*') => {
                                depth += 1;
                                self.pos += 2;
                            }
                            Some(b'*') if self.byte_at(self.pos + 1) == Some(b'/') => {
                                depth -= 1;
                                self.pos += 2;
                            }
                            Some(b) => {
                                if b == b'\n' {
                                    newline = true;
                                }
                                self.pos += 1;
                            }
                        }
                    }
                    if depth > 0 {
                        let kind = TokenKind::Error(Some("unclosed block comment"));
                        let line = *line_start || newline;
                        self.tokens.push(Token { kind, span: self.span(start, start + 2), line_start: line });
                        *line_start = false;
                        newline = false;
                    }
                }
                _ => return newline,
            }
        }
    }

    fn lex_token(&mut self, b: u8) -> TokenKind {
        let start = self.pos;
        match b {
            b'r' if self.byte_at(start + 1) == Some(b'#') && self.byte_at(start + 2).is_some_and(is_ident_start) => {
                self.pos += 2;
                let word_start = self.pos;
                self.eat_while(is_ident_continue);
                TokenKind::Ident(self.text[word_start..self.pos].to_string())
            }
            b'r' if matches!(self.byte_at(start + 1), Some(b'"' | b'#')) && self.raw_string_ahead(start + 1) => {
                self.pos += 1;
                self.lex_raw_string()
            }
            b'b' if self.byte_at(start + 1) == Some(b'"') => {
                self.pos += 2;
                let (_, bytes) = self.lex_quoted(true);
                TokenKind::ByteStr(bytes)
            }
            b'b' if self.byte_at(start + 1) == Some(b'\'') => {
                self.pos += 1;
                match self.lex_char_or_lifetime() {
                    TokenKind::Char(c) if (c as u32) < 256 => TokenKind::Int(Some(c as u128), Some(IntSuffix::U8)),
                    TokenKind::Char(_) => {
                        self.error("non-ASCII character in byte literal", start, self.pos);
                        TokenKind::Int(Some(0), Some(IntSuffix::U8))
                    }
                    other => other,
                }
            }
            _ if is_ident_start(b) => {
                self.eat_while(is_ident_continue);
                let word = &self.text[start..self.pos];
                match Keyword::from_word(word) {
                    Some(kw) => TokenKind::Keyword(kw),
                    None => TokenKind::Ident(word.to_string()),
                }
            }
            b'0'..=b'9' => self.lex_number(),
            b'\'' => self.lex_char_or_lifetime(),
            b'"' => {
                self.pos += 1;
                let (text, _) = self.lex_quoted(false);
                TokenKind::Str(text)
            }
            _ => {
                for p in PUNCTS_LONGEST_FIRST {
                    if self.text[start..].starts_with(p.as_str()) {
                        self.pos += p.as_str().len();
                        return TokenKind::Punct(*p);
                    }
                }
                let len = self.char_at(start).map_or(1, char::len_utf8);
                self.pos += len;
                TokenKind::Error(None)
            }
        }
    }

    fn eat_while(&mut self, pred: impl Fn(u8) -> bool) {
        while self.byte_at(self.pos).is_some_and(&pred) {
            self.pos += 1;
        }
    }

    /// After `r` at `i`: `#`* followed by `"`.
    fn raw_string_ahead(&self, mut i: usize) -> bool {
        while self.byte_at(i) == Some(b'#') {
            i += 1;
        }
        self.byte_at(i) == Some(b'"')
    }

    /// At the `#`s or `"` of a raw string; extends to the end of the file when unterminated.
    fn lex_raw_string(&mut self) -> TokenKind {
        let mut hashes = 0;
        while self.byte_at(self.pos) == Some(b'#') {
            hashes += 1;
            self.pos += 1;
        }
        self.pos += 1; // the opening quote
        let content_start = self.pos;
        let closing: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
        match self.text[content_start..].find(&closing) {
            Some(offset) => {
                self.pos = content_start + offset + closing.len();
                TokenKind::Str(self.text[content_start..content_start + offset].to_string())
            }
            None => {
                self.pos = self.text.len();
                TokenKind::Str(self.text[content_start..].to_string())
            }
        }
    }

    /// After the opening `"`: a string with escapes, up to the closing quote or the end of file.
    /// Returns the text and (for byte strings) the bytes.
    fn lex_quoted(&mut self, bytes_mode: bool) -> (String, Vec<u8>) {
        let mut text = String::new();
        let mut bytes = Vec::new();
        while let Some(c) = self.char_at(self.pos) {
            match c {
                '"' => {
                    self.pos += 1;
                    break;
                }
                '\\' => {
                    if let Some(escaped) = self.lex_escape(bytes_mode) {
                        text.push(escaped);
                        if bytes_mode && (escaped as u32) < 256 {
                            bytes.push(escaped as u32 as u8);
                        } else {
                            let mut buf = [0; 4];
                            bytes.extend_from_slice(escaped.encode_utf8(&mut buf).as_bytes());
                        }
                    }
                }
                _ => {
                    self.pos += c.len_utf8();
                    text.push(c);
                    let mut buf = [0; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        (text, bytes)
    }

    /// At a backslash: decodes one escape (§1.3). Returns `None` for a line continuation or an
    /// invalid escape (which is reported).
    fn lex_escape(&mut self, bytes_mode: bool) -> Option<char> {
        let start = self.pos;
        self.pos += 1;
        let c = self.char_at(self.pos)?;
        self.pos += c.len_utf8();
        match c {
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            '0' => Some('\0'),
            '\n' => {
                self.eat_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
                None
            }
            'x' => {
                let digits: String = (0..2)
                    .filter_map(|i| self.byte_at(self.pos + i))
                    .take_while(u8::is_ascii_hexdigit)
                    .map(char::from)
                    .collect();
                if digits.len() != 2 {
                    self.error("invalid escape sequence: \\x (expected two hex digits)", start, self.pos);
                    return None;
                }
                self.pos += 2;
                let value = u32::from_str_radix(&digits, 16).unwrap_or(0);
                if value > 0x7f && !bytes_mode {
                    self.error("invalid escape sequence: \\x must be at most \\x7F", start, self.pos);
                }
                char::from_u32(value)
            }
            'u' => {
                if self.byte_at(self.pos) != Some(b'{') {
                    self.error("invalid escape sequence: \\u (expected `{`)", start, self.pos);
                    return None;
                }
                let digits_start = self.pos + 1;
                let mut end = digits_start;
                while self.byte_at(end).is_some_and(|b| b.is_ascii_hexdigit() || b == b'_') {
                    end += 1;
                }
                if self.byte_at(end) != Some(b'}') || end == digits_start {
                    self.pos = end;
                    self.error("invalid unicode escape", start, self.pos);
                    return None;
                }
                self.pos = end + 1;
                let digits: String = self.text[digits_start..end].chars().filter(|c| *c != '_').collect();
                let value = u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32);
                if value.is_none() {
                    self.error("invalid unicode escape", start, self.pos);
                }
                value
            }
            other => {
                self.error(format!("invalid escape sequence: \\{other}"), start, self.pos);
                None
            }
        }
    }

    /// At a `'`: a character literal or a lifetime/label (§1.3).
    fn lex_char_or_lifetime(&mut self) -> TokenKind {
        let start = self.pos;
        self.pos += 1;
        let Some(first) = self.char_at(self.pos) else {
            return TokenKind::Error(Some("unterminated character literal"));
        };
        if first == '\'' {
            self.pos += 1;
            self.error("empty character literal", start, self.pos);
            return TokenKind::Char('\0');
        }
        if first.is_ascii_alphabetic() || first == '_' {
            if self.byte_at(self.pos + 1) == Some(b'\'') {
                self.pos += 2;
                return TokenKind::Char(first);
            }
            let name_start = self.pos;
            self.eat_while(is_ident_continue);
            return TokenKind::Lifetime(self.text[name_start..self.pos].to_string());
        }
        let value = if first == '\\' {
            self.lex_escape(false)
        } else if first == '\n' {
            return TokenKind::Error(Some("unterminated character literal"));
        } else {
            self.pos += first.len_utf8();
            Some(first)
        };
        if self.byte_at(self.pos) != Some(b'\'') {
            return TokenKind::Error(Some("unterminated character literal"));
        }
        self.pos += 1;
        TokenKind::Char(value.unwrap_or('\0'))
    }

    /// At a digit: an integer or float literal (§1.3).
    fn lex_number(&mut self) -> TokenKind {
        let start = self.pos;
        let radix = match (self.byte_at(start), self.byte_at(start + 1)) {
            (Some(b'0'), Some(b'x')) => 16,
            (Some(b'0'), Some(b'o')) => 8,
            (Some(b'0'), Some(b'b')) => 2,
            _ => 10,
        };
        if radix != 10 {
            self.pos += 2;
            let digits_start = self.pos;
            if radix == 16 {
                self.eat_while(|b| b.is_ascii_hexdigit() || b == b'_');
            } else {
                self.eat_while(|b| b.is_ascii_digit() || b == b'_');
            }
            let digits = &self.text[digits_start..self.pos];
            let suffix = self.lex_int_suffix();
            if !digits.bytes().any(|b| b != b'_') {
                self.error("missing digits after the integer base prefix", start, self.pos);
                return TokenKind::Int(Some(0), suffix);
            }
            if let Some(bad) = digits.chars().find(|c| *c != '_' && c.to_digit(radix).is_none()) {
                self.error(format!("invalid digit `{bad}` for a base {radix} literal"), start, self.pos);
                return TokenKind::Int(Some(0), suffix);
            }
            return self.finish_int(digits.to_string(), radix, suffix, start);
        }
        self.eat_while(|b| b.is_ascii_digit() || b == b'_');
        let int_end = self.pos;
        if self.byte_at(self.pos) == Some(b'.') && self.byte_at(self.pos + 1).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
            self.eat_while(|b| b.is_ascii_digit() || b == b'_');
            return self.finish_float(start);
        }
        let digits = self.text[start..int_end].to_string();
        // `1f64` is a float written without a fraction.
        let word_end = self.word_end(self.pos);
        if let Some(suffix) = float_suffix(&self.text[self.pos..word_end]) {
            self.pos = word_end;
            let value = digits.replace('_', "").parse::<f64>().unwrap_or(0.0);
            return TokenKind::Float(value, Some(suffix));
        }
        let suffix = self.lex_int_suffix();
        self.finish_int(digits, 10, suffix, start)
    }

    fn word_end(&self, mut i: usize) -> usize {
        while self.byte_at(i).is_some_and(is_ident_continue) {
            i += 1;
        }
        i
    }

    /// A valid integer suffix directly after the digits; anything else is left for the next token.
    fn lex_int_suffix(&mut self) -> Option<IntSuffix> {
        let word_end = self.word_end(self.pos);
        let suffix = int_suffix(&self.text[self.pos..word_end]);
        if suffix.is_some() {
            self.pos = word_end;
        }
        suffix
    }

    fn finish_int(&mut self, digits: String, radix: u32, suffix: Option<IntSuffix>, start: usize) -> TokenKind {
        let mut value: u128 = 0;
        for c in digits.chars().filter(|c| *c != '_') {
            let digit = c.to_digit(radix).unwrap_or(0) as u128;
            match value.checked_mul(radix as u128).and_then(|v| v.checked_add(digit)) {
                Some(v) => value = v,
                None => {
                    self.error("integer literal is too large", start, self.pos);
                    return TokenKind::Int(None, suffix);
                }
            }
        }
        TokenKind::Int(Some(value), suffix)
    }

    /// After `digits.digits`: exponent and suffix.
    fn finish_float(&mut self, start: usize) -> TokenKind {
        let mut incomplete = false;
        if matches!(self.byte_at(self.pos), Some(b'e' | b'E')) {
            let mut i = self.pos + 1;
            if matches!(self.byte_at(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if self.byte_at(i).is_some_and(|b| b.is_ascii_digit()) {
                self.pos = i;
                self.eat_while(|b| b.is_ascii_digit() || b == b'_');
            } else {
                incomplete = true;
                self.pos = i;
            }
        }
        let number_end = self.pos;
        let word_end = self.word_end(self.pos);
        let suffix = float_suffix(&self.text[self.pos..word_end]);
        if suffix.is_some() {
            self.pos = word_end;
        }
        if incomplete {
            self.error("invalid floating-point literal: incomplete exponent", start, self.pos);
            let mantissa: String =
                self.text[start..number_end].chars().take_while(|c| *c != 'e' && *c != 'E').collect();
            return TokenKind::Float(mantissa.replace('_', "").parse().unwrap_or(0.0), suffix);
        }
        let value = self.text[start..number_end].replace('_', "").parse::<f64>().unwrap_or(0.0);
        TokenKind::Float(value, suffix)
    }
}

#[cfg(test)]
mod tests {
    use super::lex;
    use crate::source::FileId;
    use crate::syntax::ast::{FloatSuffix, IntSuffix};
    use crate::syntax::token::{Keyword, Punct, TokenKind};

    fn kinds(src: &str) -> Vec<TokenKind> {
        let (tokens, diags) = lex(FileId(0), src);
        assert!(diags.is_empty(), "unexpected diagnostics for {src:?}: {diags:?}");
        tokens.into_iter().map(|t| t.kind).filter(|k| *k != TokenKind::Eof).collect()
    }

    fn one(src: &str) -> TokenKind {
        let mut all = kinds(src);
        assert_eq!(all.len(), 1, "{src:?} gave {all:?}");
        all.pop().expect("one token")
    }

    fn messages(src: &str) -> Vec<String> {
        lex(FileId(0), src).1.into_iter().map(|d| d.message).collect()
    }

    fn ident(name: &str) -> TokenKind {
        TokenKind::Ident(name.to_string())
    }

    #[test]
    fn keyword_classes_follow_section_1_2() {
        let strict = "as break const continue crate dyn effect else enum extern false fiber fn for forall if impl \
                      in let linear loop macro match mod module move mut pub pure ref region return self Self \
                      static struct super suspend trait true type use where while";
        let reserved = "abstract become box catch defer do final gen override priv raw select spawn throw try \
                        typeof unsafe unsized virtual yield";
        for word in strict.split_whitespace() {
            assert!(matches!(one(word), TokenKind::Keyword(kw) if !kw.is_reserved() && kw.as_str() == word), "{word}");
        }
        for word in reserved.split_whitespace() {
            assert!(matches!(one(word), TokenKind::Keyword(kw) if kw.is_reserved() && kw.as_str() == word), "{word}");
        }
        let contextual = "handler perform resume shallow deep handle with default finally op extends bridge affine \
                          union unchecked requires ensures invariant decreases";
        for word in contextual.split_whitespace() {
            assert_eq!(one(word), ident(word));
        }
        assert_eq!(one("r#type"), ident("type"));
        assert_eq!(one("r#match"), ident("match"));
        assert_eq!(one("_x9"), ident("_x9"));
        assert_eq!(one("_"), ident("_"));
    }

    #[test]
    fn comments_nest_and_lines_are_tracked() {
        assert_eq!(kinds("/* a /* b */ c */ x // y\n/// doc\nz"), vec![ident("x"), ident("z")]);
        let (tokens, _) = lex(FileId(0), "a b\nc /* \n */ d");
        let starts: Vec<bool> = tokens.iter().map(|t| t.line_start).collect();
        assert_eq!(starts, vec![true, false, true, true, false]);
        let (tokens, diags) = lex(FileId(0), "x /* never /* closed */");
        assert!(diags.is_empty());
        assert_eq!(tokens[1].kind, TokenKind::Error(Some("unclosed block comment")));
    }

    #[test]
    fn integer_literals() {
        assert_eq!(one("1_000"), TokenKind::Int(Some(1000), None));
        assert_eq!(one("0xFF_u8"), TokenKind::Int(Some(255), Some(IntSuffix::U8)));
        assert_eq!(one("0o17"), TokenKind::Int(Some(15), None));
        assert_eq!(one("0b1010i64"), TokenKind::Int(Some(10), Some(IntSuffix::I64)));
        assert_eq!(one("7usize"), TokenKind::Int(Some(7), Some(IntSuffix::Usize)));
        assert_eq!(one("340282366920938463463374607431768211455"), TokenKind::Int(Some(u128::MAX), None));
        assert_eq!(messages("340282366920938463463374607431768211456"), ["integer literal is too large"]);
        assert_eq!(kinds("1e5"), vec![TokenKind::Int(Some(1), None), ident("e5")]);
        assert_eq!(
            kinds("1..2"),
            vec![TokenKind::Int(Some(1), None), TokenKind::Punct(Punct::DotDot), TokenKind::Int(Some(2), None)]
        );
        assert_eq!(kinds("1.max"), vec![TokenKind::Int(Some(1), None), TokenKind::Punct(Punct::Dot), ident("max")]);
        assert_eq!(one("b'a'"), TokenKind::Int(Some(97), Some(IntSuffix::U8)));
    }

    #[test]
    fn float_literals() {
        assert_eq!(one("2.5"), TokenKind::Float(2.5, None));
        assert_eq!(one("1_0.2_5e-1f32"), TokenKind::Float(1.025, Some(FloatSuffix::F32)));
        assert_eq!(one("3.0E2"), TokenKind::Float(300.0, None));
        assert_eq!(one("1f64"), TokenKind::Float(1.0, Some(FloatSuffix::F64)));
        assert_eq!(kinds("2."), vec![TokenKind::Int(Some(2), None), TokenKind::Punct(Punct::Dot)]);
        assert_eq!(messages("1.0e"), ["invalid floating-point literal: incomplete exponent"]);
        assert_eq!(messages("x = 1.0e+;"), ["invalid floating-point literal: incomplete exponent"]);
    }

    #[test]
    fn chars_lifetimes_and_strings() {
        assert_eq!(one("'a'"), TokenKind::Char('a'));
        assert_eq!(one("'\\n'"), TokenKind::Char('\n'));
        assert_eq!(one("'\\u{1F980}'"), TokenKind::Char('🦀'));
        assert_eq!(one("'é'"), TokenKind::Char('é'));
        assert_eq!(one("'\\''"), TokenKind::Char('\''));
        assert_eq!(one("'outer"), TokenKind::Lifetime("outer".into()));
        assert_eq!(kinds("'a;"), vec![TokenKind::Lifetime("a".into()), TokenKind::Punct(Punct::Semi)]);
        assert_eq!(messages("''"), ["empty character literal"]);
        assert_eq!(one("\"a\\tb\\\\\\\"\\x41\\0\""), TokenKind::Str("a\tb\\\"A\0".into()));
        assert_eq!(messages("\"bad \\q\""), ["invalid escape sequence: \\q"]);
        assert_eq!(one("r\"no \\n escape\""), TokenKind::Str("no \\n escape".into()));
        assert_eq!(one("r#\"has \"quotes\"\"#"), TokenKind::Str("has \"quotes\"".into()));
        assert_eq!(one("b\"\\x00hi\""), TokenKind::ByteStr(vec![0, b'h', b'i']));
        assert_eq!(one("\"never closed\n}"), TokenKind::Str("never closed\n}".into()));
        assert_eq!(one("\"日本\""), TokenKind::Str("日本".into()));
    }

    #[test]
    fn operators_take_the_longest_match() {
        let src = "+ - * / % ! & | ^ << >> && || == != < > <= >= = += -= *= /= %= &= |= ^= <<= >>= |> .. ..= -> => . , ; : :: ( ) [ ] { } @ # ?";
        let spelled: Vec<String> = kinds(src)
            .into_iter()
            .map(|k| match k {
                TokenKind::Punct(p) => p.as_str().to_string(),
                other => panic!("not punctuation: {other:?}"),
            })
            .collect();
        assert_eq!(spelled.join(" "), src);
        assert_eq!(kinds("a|>b"), vec![ident("a"), TokenKind::Punct(Punct::PipeGt), ident("b")]);
        assert_eq!(kinds("~"), vec![TokenKind::Error(None)]);
        assert_eq!(kinds("$é"), vec![TokenKind::Error(None), TokenKind::Error(None)]);
        assert_eq!(kinds("@unsafe"), vec![TokenKind::Punct(Punct::At), TokenKind::Keyword(Keyword::Unsafe)]);
    }

    #[test]
    fn byte_order_mark_and_interpreter_line_are_skipped() {
        assert_eq!(kinds("\u{feff}fn"), vec![TokenKind::Keyword(Keyword::Fn)]);
        assert_eq!(kinds("#!/usr/bin/env blood\nfn"), vec![TokenKind::Keyword(Keyword::Fn)]);
        assert_eq!(kinds("#![x]").len(), 5);
        assert_eq!(kinds("a\r\n\tb").len(), 2);
        let (tokens, _) = lex(FileId(0), "a\r\nb");
        assert!(tokens[1].line_start);
    }

    #[test]
    fn spans_are_byte_offsets_on_char_boundaries() {
        let src = "é 'ü' \"日\" 🦀 x";
        let (tokens, _) = lex(FileId(0), src);
        for token in &tokens {
            assert!(src.is_char_boundary(token.span.lo as usize) && src.is_char_boundary(token.span.hi as usize));
        }
        assert_eq!(tokens.last().map(|t| t.span.lo as usize), Some(src.len()));
    }
}
