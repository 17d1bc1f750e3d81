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

use super::{Desired, Location, commented_with, defined_with};
use crate::catalog::{Fingerprint, ObjectId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Source locations and source SQL of the desired objects.
///
/// It is read back from the cache by every warm plan and consulted only for
/// the objects a plan changes, so it is kept small: a location is a file
/// number and a position (the paths are kept once), and an object located
/// where the object it falls back to is (a column in its table's `CREATE
/// TABLE`) is not kept at all, the look-up finding it through that object.
/// At 5,000 tables that leaves a third of the entries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "SourceMapEntries")]
pub struct SourceMap {
    files: Fingerprint,
    paths: Vec<String>,
    definitions: BTreeMap<ObjectId, Point>,
    comments: BTreeMap<ObjectId, Point>,
    source_sql: BTreeMap<ObjectId, String>,
}

/// A `Location` whose file is an index into `SourceMap::paths`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Point {
    file: usize,
    line: usize,
    column: usize,
}

impl SourceMap {
    /// The map of parsed desired files.
    pub fn of(desired: &Desired) -> SourceMap {
        let point = |index: usize| {
            let s = &desired.statements[index];
            Point {
                file: s.file,
                line: s.line,
                column: s.column,
            }
        };
        // Only what the fallback would not find: an entry whose object falls
        // back to one defined by the same statement is implied.
        let kept = |map: &BTreeMap<ObjectId, usize>, fallback: fn(&ObjectId) -> Option<ObjectId>| {
            map.iter()
                .filter(|(id, index)| fallback(id).and_then(|f| map.get(&f)) != Some(*index))
                .map(|(id, index)| (id.clone(), point(*index)))
                .collect()
        };
        SourceMap {
            files: desired.fingerprint(),
            paths: desired.sources.files.iter().map(|f| f.path.clone()).collect(),
            definitions: kept(&desired.definitions(), defined_with),
            comments: kept(&desired.comments(), commented_with),
            source_sql: desired.source_sql(),
        }
    }

    /// sha256 of the files it was made from (`Sources::fingerprint`).
    pub fn fingerprint(&self) -> Fingerprint {
        self.files.clone()
    }

    /// Where an object is defined (for objects inside a table that the
    /// statement does not name, the table's statement).
    pub fn defining(&self, id: &ObjectId) -> Option<Location> {
        self.locate(&self.definitions, id, defined_with)
    }

    /// Where the `COMMENT ON` statement for an object is.
    pub fn commenting(&self, id: &ObjectId) -> Option<Location> {
        self.locate(&self.comments, id, commented_with)
    }

    /// Where `map` puts `id`, or else the object it falls back to.
    fn locate(
        &self,
        map: &BTreeMap<ObjectId, Point>,
        id: &ObjectId,
        fallback: fn(&ObjectId) -> Option<ObjectId>,
    ) -> Option<Location> {
        let point = map.get(id).or_else(|| map.get(&fallback(id)?))?;
        Some(Location {
            file: self.paths.get(point.file)?.clone(),
            line: point.line,
            column: point.column,
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
#[derive(Deserialize)]
struct SourceMapEntries {
    files: Fingerprint,
    paths: Vec<String>,
    definitions: Vec<(ObjectId, Point)>,
    comments: Vec<(ObjectId, Point)>,
    source_sql: Vec<(ObjectId, String)>,
}

impl Serialize for SourceMap {
    /// As `SourceMapEntries`, written from the maps where they are.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Entries<'a> {
            files: &'a Fingerprint,
            paths: &'a [String],
            definitions: Vec<(&'a ObjectId, &'a Point)>,
            comments: Vec<(&'a ObjectId, &'a Point)>,
            source_sql: Vec<(&'a ObjectId, &'a String)>,
        }
        Entries {
            files: &self.files,
            paths: &self.paths,
            definitions: self.definitions.iter().collect(),
            comments: self.comments.iter().collect(),
            source_sql: self.source_sql.iter().collect(),
        }
        .serialize(serializer)
    }
}

impl From<SourceMapEntries> for SourceMap {
    fn from(entries: SourceMapEntries) -> SourceMap {
        SourceMap {
            files: entries.files,
            paths: entries.paths,
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
        Desired::from_sources(Sources::from_texts([
            (
                "a.sql".to_string(),
                "create schema app;\ncreate table app.t (id int, n int check (n > 0));\n\
                 create index t_n on app.t (n);\ncomment on table app.t is 'x';\n\
                 alter table app.t add column m int;\n"
                    .to_string(),
            ),
            (
                "b.sql".to_string(),
                "create table app.u (x int, constraint u_x check (x > 1));\n\
                 create function app.f(int) returns int language sql return 1;\n\
                 comment on function app.f(int) is 'f';\n"
                    .to_string(),
            ),
        ]))
        .unwrap()
    }

    #[test]
    fn it_locates_what_the_parsed_files_locate() {
        let d = desired();
        let map = SourceMap::of(&d);
        let t = QualifiedName::new("app", "t");
        let u = QualifiedName::new("app", "u");
        let named = [
            ObjectId::Schema("app".into()),
            ObjectId::Table(t.clone()),
            ObjectId::Column(t.clone(), "n".into()),
            ObjectId::Column(t.clone(), "m".into()),
            ObjectId::Index(QualifiedName::new("app", "t_n")),
            ObjectId::Column(u.clone(), "x".into()),
            ObjectId::Constraint(u.clone(), "u_x".into()),
        ];
        // Objects no statement names, found through the one they fall back to.
        let unnamed = [
            ObjectId::Constraint(t.clone(), "t_n_check".into()),
            ObjectId::Function(QualifiedName::new("app", "f"), "integer".into()),
        ];
        for id in named.iter().chain(&unnamed) {
            let expected = d.defining(id).map(|s| d.location(s));
            assert!(expected.is_some(), "{id:?} must be found in the files");
            assert_eq!(map.defining(id), expected, "{id:?}");
        }
        assert_eq!(
            map.defining(&ObjectId::Column(u.clone(), "x".into())).unwrap().file,
            "b.sql"
        );
        // What the fallback finds is not kept; what it would get wrong is.
        assert!(!map.definitions.contains_key(&ObjectId::Column(t.clone(), "n".into())));
        assert!(map.definitions.contains_key(&ObjectId::Column(t.clone(), "m".into())));
        assert_eq!(map.defining(&ObjectId::Column(t.clone(), "m".into())).unwrap().line, 5);
        for id in [
            ObjectId::Table(t),
            ObjectId::Function(QualifiedName::new("app", "f"), "integer".into()),
        ] {
            let expected = d.commenting(&id).map(|s| d.location(s));
            assert!(expected.is_some(), "{id:?} must have its comment found");
            assert_eq!(map.commenting(&id), expected, "{id:?}");
        }
        assert_eq!(map.fingerprint(), d.fingerprint());
    }

    #[test]
    fn it_reads_back_what_it_wrote() {
        let map = SourceMap::of(&desired());
        let text = serde_json::to_string(&map).unwrap();
        let back: SourceMap = serde_json::from_str(&text).unwrap();
        assert_eq!(back, map);
        let bytes = postcard::to_stdvec(&map).unwrap();
        let back: SourceMap = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, map);
    }
}
