//! One diagnostic model for every stage, rendered for terminals or as JSON.
//!
//! Stages never print: they return values plus a `Vec<Diagnostic>`. The driver renders them at
//! the edge with [`render`] (codespan-reporting, rustc-like layout:
//! `error[E0201]: type mismatch`, then `--> file:line:col`, the source line and a caret) or
//! [`render_json`] (`--error-format=json`, one object per line).
//!
//! Message texts and codes follow LANGUAGE.md (§1.6, §10.1): tests match them as substrings.

use crate::source::{SourceMap, Span};
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, LabelStyle, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A message about the user's program.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Upstream error code (`"E0201"`), printed as `error[E0201]: …`.
    pub code: Option<&'static str>,
    pub message: String,
    /// Where the problem is; the caret goes here.
    pub span: Span,
    /// Text printed beside the caret.
    pub label: Option<String>,
    /// Secondary locations with their own text.
    pub secondary: Vec<(Span, String)>,
    /// `= note: …` lines.
    pub notes: Vec<String>,
    /// `= help: …` line.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code: None,
            message: message.into(),
            span,
            label: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn warning(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(message, span) }
    }

    pub fn with_code(mut self, code: &'static str) -> Diagnostic {
        self.code = Some(code);
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_secondary(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.secondary.push((span, text.into()));
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Renders diagnostics as text, rustc style, with source snippets and carets.
pub fn render(sources: &SourceMap, diagnostics: &[Diagnostic], color: bool) -> String {
    let mut files = SimpleFiles::new();
    let ids: Vec<usize> = sources.files().map(|(_, f)| files.add(f.name.clone(), f.text.clone())).collect();
    let config = Config { chars: term::Chars::ascii(), ..Config::default() };
    let mut out = Vec::new();
    for d in diagnostics {
        let cs = to_codespan(d, &ids);
        if color {
            let mut w = term::termcolor::Ansi::new(&mut out);
            let _ = term::emit_to_write_style(&mut w, &config, &files, &cs);
        } else {
            let mut w = term::termcolor::NoColor::new(&mut out);
            let _ = term::emit_to_write_style(&mut w, &config, &files, &cs);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn to_codespan(d: &Diagnostic, ids: &[usize]) -> CsDiagnostic<usize> {
    let severity = match d.severity {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
    };
    let file = |s: Span| ids.get(s.file.0 as usize).copied().unwrap_or(0);
    let mut labels = vec![
        Label::new(LabelStyle::Primary, file(d.span), d.span.lo as usize..d.span.hi as usize)
            .with_message(d.label.clone().unwrap_or_default()),
    ];
    for (span, text) in &d.secondary {
        labels.push(
            Label::new(LabelStyle::Secondary, file(*span), span.lo as usize..span.hi as usize)
                .with_message(text.clone()),
        );
    }
    let mut notes: Vec<String> = d.notes.iter().map(|n| format!("note: {n}")).collect();
    if let Some(h) = &d.help {
        notes.push(format!("help: {h}"));
    }
    let mut cs = CsDiagnostic::new(severity).with_message(d.message.clone()).with_labels(labels).with_notes(notes);
    if let Some(code) = d.code {
        cs = cs.with_code(code);
    }
    cs
}

/// Renders diagnostics as JSON lines:
/// `{"severity":"error","code":"E0201","message":"…","file":"a.blood","line":3,"column":5,"notes":[…]}`.
pub fn render_json(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let (line, col) = sources.line_col(d.span.file, d.span.lo);
        let file = &sources.file(d.span.file).name;
        let severity = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let notes: Vec<String> = d.notes.iter().chain(d.help.iter()).map(|n| json_string(n)).collect();
        out.push_str(&format!(
            "{{\"severity\":\"{severity}\",\"code\":{},\"message\":{},\"file\":{},\"line\":{line},\"column\":{col},\"label\":{},\"notes\":[{}]}}\n",
            d.code.map_or("null".to_string(), json_string),
            json_string(&d.message),
            json_string(file),
            d.label.as_deref().map_or("null".to_string(), json_string),
            notes.join(","),
        ));
    }
    out
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
