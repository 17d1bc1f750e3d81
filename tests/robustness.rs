//! No input makes the desired-state front end panic: every fixture file,
//! cut at many points and with stray characters spliced in, is parsed,
//! classified and ordered, and either accepted or rejected with diagnostics
//! that point inside the file.

use converge::diagnostic::{SourceText, render_text};
use converge::source::{Desired, Sources};
use std::path::{Path, PathBuf};

fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            sql_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "sql") {
            out.push(p);
        }
    }
}

fn check(text: String) {
    let sources = Sources::from_texts([("input.sql".to_string(), text.clone())]);
    if let Err(diagnostics) = Desired::from_sources(sources.clone()) {
        assert!(!diagnostics.is_empty());
        for d in &diagnostics {
            if let Some(label) = &d.primary {
                assert!(
                    label.span.start <= label.span.end && label.span.end <= text.len(),
                    "{d:?}"
                );
                assert!(sources.text(&label.span.path).is_some());
            }
            // Rendering must not panic either.
            let _ = render_text(d, &sources, false);
        }
    }
}

#[test]
fn mutated_fixtures_never_panic() {
    let mut files = Vec::new();
    sql_files(Path::new("fixtures"), &mut files);
    sql_files(Path::new("schema"), &mut files);
    files.sort();
    let splices = [
        "(", ")", "'", "\"", "$$", "\\", ";", "--", "/*", "\u{e9}", "\0", "E'\\", "$a$",
    ];
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let boundaries: Vec<usize> = (0..=text.len()).filter(|i| text.is_char_boundary(*i)).collect();
        for (n, &cut) in boundaries.iter().enumerate().step_by(23) {
            check(text[..cut].to_string());
            let splice = splices[n % splices.len()];
            check(format!("{}{}{}", &text[..cut], splice, &text[cut..]));
            checked += 2;
        }
    }
    assert!(checked > 1000, "only {checked} inputs");
}
