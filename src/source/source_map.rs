//! What a plan needs from the desired files once they have been parsed:
//! where each object is defined and commented (for the steps' source
//! locations), the creating SQL of checks, exclusions and indexes as the
//! files wrote it, and the files' fingerprint.
//!
//! It exists apart from `Desired` so that it can be kept in the
//! desired-catalog cache: a plan from the cache then needs neither the parse
//! trees nor parsing at all. It is plain data built from a `Desired` and
//! never from anything else, so a cached one is exactly what parsing the same
//! files would give.

use super::{Desired, Location};
use crate::catalog::{Fingerprint, ObjectId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Source locations and source SQL of the desired objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "SourceMapEntries", into = "SourceMapEntries")]
pub struct SourceMap {
    files: Fingerprint,
    definitions: BTreeMap<ObjectId, Location>,
    comments: BTreeMap<ObjectId, Location>,
    source_sql: BTreeMap<ObjectId, String>,
}

impl SourceMap {
    /// The map of parsed desired files.
    pub fn of(desired: &Desired) -> SourceMap {
        let location = |index: &usize| desired.location(&desired.statements[*index]);
        SourceMap {
            files: desired.fingerprint(),
            definitions: desired
                .definitions
                .iter()
                .map(|(id, i)| (id.clone(), location(i)))
                .collect(),
            comments: desired
                .comments
                .iter()
                .map(|(id, i)| (id.clone(), location(i)))
                .collect(),
            source_sql: desired.source_sql.clone(),
        }
    }

    /// sha256 of the files it was made from (`Sources::fingerprint`).
    pub fn fingerprint(&self) -> Fingerprint {
        self.files.clone()
    }

    /// Where an object is defined (for objects inside a table that the
    /// statement does not name, the table's statement).
    pub fn defining(&self, id: &ObjectId) -> Option<&Location> {
        self.definitions.get(id).or_else(|| match id {
            ObjectId::Column(t, _) | ObjectId::Constraint(t, _) => self.definitions.get(&ObjectId::Table(t.clone())),
            ObjectId::SequenceOwner(s) => self.definitions.get(&ObjectId::Sequence(s.clone())),
            ObjectId::Function(q, args) if !args.is_empty() => {
                self.definitions.get(&ObjectId::Function(q.clone(), String::new()))
            }
            ObjectId::Aggregate(q, args) if !args.is_empty() => {
                self.definitions.get(&ObjectId::Aggregate(q.clone(), String::new()))
            }
            _ => None,
        })
    }

    /// Where the `COMMENT ON` statement for an object is.
    pub fn commenting(&self, id: &ObjectId) -> Option<&Location> {
        self.comments.get(id).or_else(|| match id {
            ObjectId::Function(q, args) if !args.is_empty() => {
                self.comments.get(&ObjectId::Function(q.clone(), String::new()))
            }
            ObjectId::Aggregate(q, args) if !args.is_empty() => {
                self.comments.get(&ObjectId::Aggregate(q.clone(), String::new()))
            }
            _ => None,
        })
    }

    /// The SQL that creates a check or exclusion constraint or an index as
    /// the desired files wrote it (see `source::definitions`).
    pub fn source_sql(&self, id: &ObjectId) -> Option<&str> {
        self.source_sql.get(id).map(String::as_str)
    }
}

/// The serialized form: JSON maps need string keys, and an `ObjectId` is not
/// one, so each map is a list of pairs.
#[derive(Serialize, Deserialize)]
struct SourceMapEntries {
    files: Fingerprint,
    definitions: Vec<(ObjectId, Location)>,
    comments: Vec<(ObjectId, Location)>,
    source_sql: Vec<(ObjectId, String)>,
}

impl From<SourceMap> for SourceMapEntries {
    fn from(map: SourceMap) -> SourceMapEntries {
        SourceMapEntries {
            files: map.files,
            definitions: map.definitions.into_iter().collect(),
            comments: map.comments.into_iter().collect(),
            source_sql: map.source_sql.into_iter().collect(),
        }
    }
}

impl From<SourceMapEntries> for SourceMap {
    fn from(entries: SourceMapEntries) -> SourceMap {
        SourceMap {
            files: entries.files,
            definitions: entries.definitions.into_iter().collect(),
            comments: entries.comments.into_iter().collect(),
            source_sql: entries.source_sql.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;
    use crate::source::Sources;

    fn desired() -> Desired {
        Desired::from_sources(Sources::from_texts([(
            "a.sql".to_string(),
            "create schema app;\ncreate table app.t (id int, n int check (n > 0));\n\
             create index t_n on app.t (n);\ncomment on table app.t is 'x';\n"
                .to_string(),
        )]))
        .unwrap()
    }

    #[test]
    fn it_locates_what_the_parsed_files_locate() {
        let d = desired();
        let map = SourceMap::of(&d);
        let t = QualifiedName::new("app", "t");
        let ids = [
            ObjectId::Schema("app".into()),
            ObjectId::Table(t.clone()),
            ObjectId::Column(t.clone(), "n".into()),
            ObjectId::Index(QualifiedName::new("app", "t_n")),
        ];
        for id in &ids {
            let expected = d.defining(id).map(|s| d.location(s));
            assert!(expected.is_some(), "{id:?} must be found in the files");
            assert_eq!(map.defining(id), expected.as_ref(), "{id:?}");
        }
        let table = ObjectId::Table(t);
        assert_eq!(
            map.commenting(&table).map(ToString::to_string),
            d.commenting(&table).map(|s| d.location(s).to_string())
        );
        assert_eq!(map.commenting(&table).map(|l| l.line), Some(4));
        assert_eq!(map.fingerprint(), d.fingerprint());
    }

    #[test]
    fn it_reads_back_what_it_wrote() {
        let map = SourceMap::of(&desired());
        let text = serde_json::to_string(&map).unwrap();
        let back: SourceMap = serde_json::from_str(&text).unwrap();
        assert_eq!(back, map);
    }
}
