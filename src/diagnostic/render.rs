//! Rendering diagnostics: rustc-style text with the source snippet, or JSON.

use super::{Diagnostic, SourceText, line_column};
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// Renders one diagnostic for a person; `color` adds ANSI styles.
pub fn render_text(diagnostic: &Diagnostic, sources: &dyn SourceText, color: bool) -> String {
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };
    let title = Level::ERROR
        .primary_title(diagnostic.message.as_str())
        .id(diagnostic.code.as_str());
    let mut group = Group::with_title(title);
    let mut location_only = None;
    if let Some(label) = &diagnostic.primary {
        match sources.text(&label.span.path) {
            Some(text) => {
                let start = label.span.start.min(text.len());
                let end = label.span.end.clamp(start, text.len());
                group = group.element(
                    Snippet::source(text)
                        .line_start(1)
                        .path(label.span.path.as_str())
                        .fold(true)
                        .annotation(AnnotationKind::Primary.span(start..end).label(label.message.as_str())),
                );
            }
            None => location_only = Some(format!("{}: {}", label.span.path, label.message)),
        }
    }
    let mut report = vec![group];
    for note in location_only.iter().chain(diagnostic.notes.iter()) {
        report.push(Group::with_title(Level::NOTE.secondary_title(note.as_str())));
    }
    if let Some(help) = &diagnostic.help {
        report.push(Group::with_title(Level::HELP.secondary_title(help.as_str())));
    }
    renderer.render(&report).to_string()
}

/// Renders diagnostics as a JSON array with 1-based line and column numbers.
pub fn render_json(diagnostics: &[Diagnostic], sources: &dyn SourceText) -> serde_json::Value {
    let items = diagnostics
        .iter()
        .map(|d| {
            let location = d.primary.as_ref().map(|l| {
                let (line, column) = sources
                    .text(&l.span.path)
                    .map(|t| line_column(t, l.span.start))
                    .unwrap_or((0, 0));
                serde_json::json!({
                    "path": l.span.path,
                    "line": line,
                    "column": column,
                    "start": l.span.start,
                    "end": l.span.end,
                    "label": l.message,
                })
            });
            serde_json::json!({
                "code": d.code,
                "message": d.message,
                "location": location,
                "notes": d.notes,
                "help": d.help,
            })
        })
        .collect();
    serde_json::Value::Array(items)
}
