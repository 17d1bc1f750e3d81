//! Statements classified before: what each statement text that a previous
//! parse accepted was found to be, so that after a small edit of big desired
//! files only the statements whose text changed are parsed and classified
//! again (parsing is most of the time of a plan whose desired-catalog cache
//! misses, and the kept shadow makes the rest small).
//!
//! An entry is keyed by the sha256 of the exact text of one piece of a file
//! (one statement as the splitter cut it, comments included) and holds what
//! `classify` and `definitions` made of it: both depend on nothing but that
//! text, for one converge version (the caller keeps the set per version),
//! and where in it the statement's first token starts and its last ends (so
//! a file whose pieces are all known need not be scanned). Only pieces that
//! are exactly one accepted statement are kept.

use super::StatementInfo;
use super::cuts::Cuts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::ops::Range;

/// The classification of statement texts seen before, and where each file
/// was cut into statements.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KnownStatements {
    by_text: HashMap<[u8; 32], Known>,
    cuts: HashMap<String, Cuts>,
}

/// What one statement text was found to be.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Known {
    info: StatementInfo,
    /// From the statement's first token to the end of its last, in the text
    /// (comments around it left out).
    tokens: Range<usize>,
}

impl KnownStatements {
    fn key(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    /// What the statement `text` (a whole piece) was found to be, and where
    /// its tokens are in it, taken out of the set: a parse moves what it reuses
    /// into its statements instead of copying it (at 5,000 tables the set
    /// holds ~30,000 classifications), so a text seen twice in one parse is
    /// parsed again the second time.
    pub fn take(&mut self, text: &str) -> Option<(StatementInfo, Range<usize>)> {
        if self.by_text.is_empty() {
            return None;
        }
        self.by_text
            .remove(&Self::key(text))
            .map(|known| (known.info, known.tokens))
    }

    pub fn insert(&mut self, text: &str, info: StatementInfo, tokens: Range<usize>) {
        self.by_text.insert(Self::key(text), Known { info, tokens });
    }

    /// Where the file at `path` was cut when it was last parsed, taken out
    /// of the set.
    pub fn take_cuts(&mut self, path: &str) -> Option<Cuts> {
        self.cuts.remove(path)
    }

    pub fn len(&self) -> usize {
        self.by_text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_text.is_empty()
    }
}

/// What one parse learned for the next one: the entries of a
/// `KnownStatements` whose classification is a statement of the `Desired`
/// the parse made, by its position there (not a copy: at 5,000 tables the
/// copy was ~30,000 classifications held beside the statements while the
/// shadow was brought up to date), and where each file was cut.
/// `view(desired)` serializes exactly as the `KnownStatements` it stands
/// for.
#[derive(Debug, Default)]
pub struct Learned {
    by_text: HashMap<[u8; 32], (usize, Range<usize>)>,
    cuts: HashMap<String, Cuts>,
}

impl Learned {
    /// The piece `text` is the statement at `position` (in the order the
    /// parse found it; see `reorder`), its tokens at `tokens` in the piece.
    pub fn insert(&mut self, text: &str, position: usize, tokens: Range<usize>) {
        self.by_text.insert(KnownStatements::key(text), (position, tokens));
    }

    pub fn set_cuts(&mut self, path: &str, cuts: Cuts) {
        self.cuts.insert(path.to_string(), cuts);
    }

    /// The statements were put in load order: the statement found at
    /// position `order[i]` is now at `i`.
    pub fn reorder(&mut self, order: &[usize]) {
        let mut now_at = vec![usize::MAX; order.len()];
        for (new, &old) in order.iter().enumerate() {
            if let Some(slot) = now_at.get_mut(old) {
                *slot = new;
            }
        }
        self.by_text.retain(|_, (position, _)| match now_at.get(*position) {
            Some(&new) if new != usize::MAX => {
                *position = new;
                true
            }
            _ => false,
        });
    }

    pub fn len(&self) -> usize {
        self.by_text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_text.is_empty()
    }

    /// The `KnownStatements` this stands for, with `desired`'s statements.
    pub fn view<'a>(&'a self, desired: &'a super::Desired) -> LearnedView<'a> {
        LearnedView { learned: self, desired }
    }
}

/// A `Learned` with the statements it points into: serializes as the
/// `KnownStatements` it stands for.
pub struct LearnedView<'a> {
    learned: &'a Learned,
    desired: &'a super::Desired,
}

impl LearnedView<'_> {
    fn entries(&self) -> impl Iterator<Item = (&[u8; 32], KnownRef<'_>)> {
        self.learned.by_text.iter().filter_map(|(key, (position, tokens))| {
            let statement = self.desired.statements.get(*position)?;
            Some((
                key,
                KnownRef {
                    info: &statement.info,
                    tokens,
                },
            ))
        })
    }

    /// An owned copy (for tests, and for a caller that outlives the
    /// statements).
    pub fn to_known(&self) -> KnownStatements {
        KnownStatements {
            by_text: self
                .entries()
                .map(|(key, k)| {
                    (
                        *key,
                        Known {
                            info: k.info.clone(),
                            tokens: k.tokens.clone(),
                        },
                    )
                })
                .collect(),
            cuts: self.learned.cuts.clone(),
        }
    }
}

/// `Known`, borrowed: the same fields, so the same serialized form.
#[derive(Serialize)]
struct KnownRef<'a> {
    info: &'a StatementInfo,
    tokens: &'a Range<usize>,
}

impl Serialize for LearnedView<'_> {
    /// As `KnownStatements` derives it: a struct of the entries by text,
    /// then the cuts.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Entries<'v, 'a>(&'v LearnedView<'a>);
        impl Serialize for Entries<'_, '_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                // A length known before the entries (postcard needs it).
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(Some(self.0.entries().count()))?;
                for (key, known) in self.0.entries() {
                    map.serialize_entry(key, &known)?;
                }
                map.end()
            }
        }
        let mut known = serializer.serialize_struct("KnownStatements", 2)?;
        known.serialize_field("by_text", &Entries(self))?;
        known.serialize_field("cuts", &self.learned.cuts)?;
        known.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Desired, Sources};

    /// Files whose load order is not their file order (the view and the
    /// index come before what they use), with a comment in one piece and a
    /// statement written twice.
    fn sources() -> Sources {
        Sources::from_texts([
            (
                "a.sql".to_string(),
                "create view app.v as select id from app.t;\n-- the index\ncreate index t_id on app.t (id);\n\
                 grant usage on schema app to public;\n"
                    .to_string(),
            ),
            (
                "b.sql".to_string(),
                "create table app.t (id int);\ncreate schema app;\ngrant usage on schema app to public;\n".to_string(),
            ),
        ])
    }

    /// Where and what each statement is.
    fn summary(desired: &Desired) -> Vec<(usize, usize, usize, usize, usize, StatementInfo)> {
        desired
            .statements
            .iter()
            .map(|s| (s.file, s.start, s.end, s.line, s.column, s.info.clone()))
            .collect()
    }

    #[test]
    fn what_a_parse_learned_serializes_as_the_statements_it_knows() {
        let (desired, learned) = Desired::from_sources_known(sources(), KnownStatements::default()).unwrap();
        assert!(
            desired.sql(&desired.statements[0]).starts_with("create schema"),
            "loaded in dependency order, not in file order"
        );
        // The statement written twice is one text: 5 entries for 6 statements.
        assert_eq!((desired.statements.len(), learned.len()), (6, 5));
        let view = learned.view(&desired);
        let owned = view.to_known();
        let decoded: KnownStatements = postcard::from_bytes(&postcard::to_stdvec(&view).unwrap()).unwrap();
        assert_eq!(decoded.cuts, owned.cuts);
        assert_eq!(decoded.cuts.len(), 2, "both files were cut");
        assert_eq!(decoded.len(), 5);
        // Every statement of a second parse is taken from the set (its
        // classification and where its tokens are), so each entry must
        // point at its own statement, though the statements were reordered.
        // Each entry is marked, to tell a statement taken from the set from
        // one parsed again.
        let marker = crate::catalog::QualifiedName::new("known", "marker");
        let fresh = Desired::from_sources(sources()).unwrap();
        for mut known in [owned, decoded] {
            for entry in known.by_text.values_mut() {
                entry.info.privileges_on.push(marker.clone());
            }
            let (mut again, learned_again) = Desired::from_sources_known(sources(), known).unwrap();
            let mut parsed_again = Vec::new();
            for statement in &mut again.statements {
                if statement.info.privileges_on.last() == Some(&marker) {
                    statement.info.privileges_on.pop();
                } else {
                    parsed_again
                        .push(again.sources.files[statement.file].text[statement.start..statement.end].to_string());
                }
            }
            // The text written twice was taken the first time only.
            assert_eq!(parsed_again, ["grant usage on schema app to public"]);
            assert_eq!(summary(&again), summary(&fresh));
            assert_eq!(learned_again.len(), 5);
        }
    }

    #[test]
    fn a_known_answer_is_taken_once() {
        let (desired, learned) = Desired::from_sources_known(sources(), KnownStatements::default()).unwrap();
        let mut known = learned.view(&desired).to_known();
        let text = &desired.sources.files[1].text;
        let piece = pg_query::split_with_parser(text).unwrap()[0];
        let (info, tokens) = known.take(piece).expect("the first piece of b.sql is known");
        assert_eq!(&piece[tokens], "create table app.t (id int)".trim_end_matches(';'));
        assert!(info.creates.iter().any(|k| format!("{k:?}").contains("app")));
        assert!(known.take(piece).is_none(), "taken out of the set");
        assert!(known.take_cuts("a.sql").is_some());
        assert!(!known.cuts.contains_key("a.sql"));
    }
}
