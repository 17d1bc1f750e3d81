//! Diagnostics as data: what went wrong, where in which desired file, and what
//! to do about it.
//!
//! Modules that find a problem in the user's input build a [`Diagnostic`]; only
//! the edge (the CLI) renders it, rustc-style for people (`render`) or as JSON
//! for tools. Positions are byte ranges into a named source text, never
//! pre-formatted strings.

mod render;

pub use render::{render_json, render_text};

use serde::Serialize;

/// A byte range in one source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    /// The file as the user named it (relative to the working directory when
    /// possible).
    pub path: String,
    pub start: usize,
    pub end: usize,
}

/// A span with a short message printed under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// What kind of problem a diagnostic reports; stable, for tools and docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// A desired file cannot be read.
    Io,
    /// PostgreSQL's grammar rejects the text.
    Syntax,
    /// A psql meta-command (`\i`, `\connect`, ...) in a desired file.
    MetaCommand,
    /// A statement that does not define schema (INSERT, BEGIN, SET, ...).
    NotSchema,
    /// A schema statement of a kind converge does not manage yet.
    Unsupported,
    /// PostgreSQL refused the statement while loading the desired state.
    ShadowLoad,
    /// The desired state uses a name converge reserves for itself.
    Reserved,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Io => "io",
            Code::Syntax => "syntax",
            Code::MetaCommand => "meta-command",
            Code::NotSchema => "not-schema",
            Code::Unsupported => "unsupported",
            Code::ShadowLoad => "shadow-load",
            Code::Reserved => "reserved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: Code,
    /// One sentence: what is wrong.
    pub message: String,
    /// Where it is; `None` when the problem has no place in a file.
    pub primary: Option<Label>,
    /// Further context ("the statement that created it", ...).
    pub notes: Vec<String>,
    /// One imperative sentence: what to do.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            primary: None,
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn at(mut self, span: Span, label: impl Into<String>) -> Self {
        self.primary = Some(Label {
            span,
            message: label.into(),
        });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Where the text of a file named in a span can be found.
pub trait SourceText {
    fn text(&self, path: &str) -> Option<&str>;
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

/// The byte offset of the `chars`-th character (0-based) of `text`.
pub fn char_to_byte(text: &str, chars: usize) -> usize {
    text.char_indices().nth(chars).map(|(i, _)| i).unwrap_or(text.len())
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "ab\ncdé f\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        // 'f' follows a two-byte character
        let f = text.find('f').unwrap();
        assert_eq!(line_column(text, f), (2, 5));
        assert_eq!(char_to_byte(text, 6), text.find('é').unwrap() + 2);
    }
}
