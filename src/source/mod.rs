//! The desired state as the user wrote it: files, statements, and where each
//! object is defined.
//!
//! `source` reads the files, parses each statement with PostgreSQL's grammar,
//! refuses what is not schema (with a diagnostic at the statement), and orders
//! the statements by the names they create and use, so files may be written in
//! any order. It never talks to a database.

mod classify;
mod cuts;
mod definitions;
mod files;
mod known;
mod order;
mod source_map;
mod split;

pub use classify::{Key, StatementInfo};
pub use files::{SourceFile, Sources};
pub use known::{KnownStatements, Learned, LearnedView};
pub use source_map::SourceMap;

use crate::catalog::{Fingerprint, ObjectId};
use crate::diagnostic::{Code, Diagnostic, SourceText, Span, line_column};
use classify::Refusal;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The schema converge keeps its history table in; desired files may not use it.
pub const RESERVED_SCHEMA: &str = "converge";

/// One accepted statement.
#[derive(Debug, Clone)]
pub struct Statement {
    /// Index into `Desired::sources.files`.
    pub file: usize,
    pub start: usize,
    pub end: usize,
    /// 1-based line and column (in characters) of `start`.
    pub line: usize,
    pub column: usize,
    pub info: StatementInfo,
}

/// A point in a desired file, for people: `schema/users.sql:12:5`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The object whose statement defines `id` when no statement names `id`
/// itself: a column or constraint is defined by its table's statement, a
/// sequence's owner by the sequence's, one overload of a routine by the
/// statement of a routine of that name.
pub(crate) fn defined_with(id: &ObjectId) -> Option<ObjectId> {
    match id {
        ObjectId::Column(t, _) | ObjectId::Constraint(t, _) => Some(ObjectId::Table(t.clone())),
        ObjectId::SequenceOwner(s) => Some(ObjectId::Sequence(s.clone())),
        ObjectId::Function(..) | ObjectId::Aggregate(..) => commented_with(id),
        _ => None,
    }
}

/// The object whose `COMMENT ON` comments `id` when none names `id`
/// itself: one overload of a routine takes the comment on its name.
pub(crate) fn commented_with(id: &ObjectId) -> Option<ObjectId> {
    match id {
        ObjectId::Function(q, args) if !args.is_empty() => Some(ObjectId::Function(q.clone(), String::new())),
        ObjectId::Aggregate(q, args) if !args.is_empty() => Some(ObjectId::Aggregate(q.clone(), String::new())),
        _ => None,
    }
}

/// The parsed, ordered desired state.
#[derive(Debug, Clone)]
pub struct Desired {
    pub sources: Sources,
    /// In load order.
    pub statements: Vec<Statement>,
}

impl Desired {
    pub fn load(paths: &[PathBuf]) -> Result<Desired, Vec<Diagnostic>> {
        let sources = Sources::read(paths).map_err(|d| vec![d])?;
        Desired::from_sources(sources)
    }

    pub fn from_sources(sources: Sources) -> Result<Desired, Vec<Diagnostic>> {
        Desired::parse(sources, KnownStatements::default(), false).map(|(desired, _)| desired)
    }

    /// `from_sources`, taking what `known` says of the statement texts it
    /// holds instead of parsing them again (moved out of it); also returns
    /// what is known of this desired state's statements, for next time
    /// (`Learned::view` with the `Desired` is the new `KnownStatements`).
    pub fn from_sources_known(sources: Sources, known: KnownStatements) -> Result<(Desired, Learned), Vec<Diagnostic>> {
        Desired::parse(sources, known, true)
    }

    fn parse(sources: Sources, known: KnownStatements, remember: bool) -> Result<(Desired, Learned), Vec<Diagnostic>> {
        let mut problems = Vec::new();
        let mut statements = Vec::new();
        let mut learned = Learned::default();
        let known = std::cell::RefCell::new(known);
        for (file_index, file) in sources.files.iter().enumerate() {
            // Statements are classified as they are parsed, then taken in
            // file order: lines are counted once, from one statement to the
            // next.
            let previous = known.borrow_mut().take_cuts(&file.path);
            let known = |text: &str| known.borrow_mut().take(text).map(|(info, tokens)| (Ok(info), tokens));
            let parsed = match split::parse_file_with(file, previous.as_ref(), known, |node| {
                classify::classify(node).map(|mut info| {
                    info.source_sql = definitions::source_definitions(node);
                    info
                })
            }) {
                Ok((parsed, cuts)) => {
                    if let (true, Some(cuts)) = (remember, cuts) {
                        learned.set_cuts(&file.path, cuts);
                    }
                    parsed
                }
                Err(mut p) => {
                    problems.append(&mut p);
                    continue;
                }
            };
            let mut lines = LineCounter::default();
            for stmt in parsed {
                let span = first_line_span(file, stmt.start, stmt.end);
                let (line, column) = lines.advance(&file.text, stmt.start);
                match stmt.node {
                    Ok(info) => {
                        if remember && stmt.alone {
                            let tokens = stmt.start - stmt.piece.start..stmt.end - stmt.piece.start;
                            learned.insert(&file.text[stmt.piece.clone()], statements.len(), tokens);
                        }
                        if let Some(d) = reserved(&info, span.clone()) {
                            problems.push(d);
                        }
                        statements.push(Statement {
                            file: file_index,
                            start: stmt.start,
                            end: stmt.end,
                            line,
                            column,
                            info,
                        });
                    }
                    Err(Refusal::NotSchema { what, help }) => problems.push(
                        Diagnostic::new(Code::NotSchema, format!("{what} is not a schema definition"))
                            .at(span, "not schema")
                            .help(help),
                    ),
                    Err(Refusal::Unsupported { what, help }) => problems.push(
                        Diagnostic::new(Code::Unsupported, format!("converge does not manage {what} yet"))
                            .at(span, "not supported yet")
                            .help(help),
                    ),
                }
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let nodes: Vec<order::Node<'_>> = statements
            .iter()
            .map(|s| order::Node {
                phase: s.info.phase,
                creates: &s.info.creates,
                references: &s.info.references,
            })
            .collect();
        let order = order::load_order(&nodes, &default_privilege_positions(&statements));
        learned.reorder(&order);
        let mut slots: Vec<Option<Statement>> = statements.into_iter().map(Some).collect();
        let statements: Vec<Statement> = order.into_iter().filter_map(|i| slots[i].take()).collect();
        let desired = Desired { sources, statements };
        Ok((desired, learned))
    }

    /// The text of a statement.
    pub fn sql(&self, stmt: &Statement) -> &str {
        &self.sources.files[stmt.file].text[stmt.start..stmt.end]
    }

    pub fn location(&self, stmt: &Statement) -> Location {
        Location {
            file: self.sources.files[stmt.file].path.clone(),
            line: stmt.line,
            column: stmt.column,
        }
    }

    /// The span of a statement's first line, for labels.
    pub fn span(&self, stmt: &Statement) -> Span {
        first_line_span(&self.sources.files[stmt.file], stmt.start, stmt.end)
    }

    /// The statement that defines each object: the first, in load order,
    /// to name it. (Not kept: a plan needs it only as the `SourceMap`, and
    /// at thousands of tables the map costs tens of MB for as long as the
    /// shadow database is loaded and read.)
    pub(crate) fn definitions(&self) -> BTreeMap<ObjectId, usize> {
        let mut definitions = BTreeMap::new();
        for (i, s) in self.statements.iter().enumerate() {
            for id in &s.info.defines {
                definitions.entry(id.clone()).or_insert(i);
            }
        }
        definitions
    }

    /// The `COMMENT ON` statement of each object: the last, in load order.
    pub(crate) fn comments(&self) -> BTreeMap<ObjectId, usize> {
        let mut comments = BTreeMap::new();
        for (i, s) in self.statements.iter().enumerate() {
            if let Some(id) = &s.info.comments_on {
                comments.insert(id.clone(), i);
            }
        }
        comments
    }

    /// The statement that defines an object (or, for objects inside a table
    /// that the statement does not name, the table's statement). A scan of
    /// the statements, for one look-up: plans look up many in a `SourceMap`.
    pub fn defining(&self, id: &ObjectId) -> Option<&Statement> {
        let first = |id: &ObjectId| self.statements.iter().find(|s| s.info.defines.contains(id));
        first(id).or_else(|| first(&defined_with(id)?))
    }

    /// The SQL that creates each check or exclusion constraint and index as
    /// the desired files wrote it (see `definitions`), for the `SourceMap`.
    pub(crate) fn source_sql(&self) -> BTreeMap<ObjectId, String> {
        let mut source_sql = BTreeMap::new();
        let mut ambiguous = Vec::new();
        for s in &self.statements {
            for (id, sql) in &s.info.source_sql {
                // Two statements claiming one name (an explicit name and a
                // predicted one): use neither.
                if source_sql.insert(id.clone(), sql.clone()).is_some() {
                    ambiguous.push(id.clone());
                }
            }
        }
        for id in ambiguous {
            source_sql.remove(&id);
        }
        source_sql
    }

    /// The `COMMENT ON` statement for an object (a scan, as `defining`).
    pub fn commenting(&self, id: &ObjectId) -> Option<&Statement> {
        let last = |id: &ObjectId| {
            self.statements
                .iter()
                .rev()
                .find(|s| s.info.comments_on.as_ref() == Some(id))
        };
        last(id).or_else(|| last(&commented_with(id)?))
    }

    pub fn fingerprint(&self) -> Fingerprint {
        self.sources.fingerprint()
    }

    /// Frees what each statement was found to be (`StatementInfo`: what it
    /// creates, references and defines), keeping its text and place: all
    /// that loading it into a shadow database needs. What needs the classifications (the
    /// source map, the kept shadow's record, the known statements written
    /// to the cache) must be taken first.
    pub fn forget_classifications(&mut self) {
        for statement in &mut self.statements {
            statement.info = StatementInfo::default();
        }
    }
}

impl SourceText for Desired {
    fn text(&self, path: &str) -> Option<&str> {
        self.sources.text(path)
    }
}

/// `ALTER DEFAULT PRIVILEGES` applies to objects created after it: keep each
/// one after the CREATE statements written before it and before those
/// written after it (except the schemas it names), where dependencies allow.
fn default_privilege_positions(statements: &[Statement]) -> Vec<(usize, usize)> {
    let mut soft = Vec::new();
    for (k, adp) in statements.iter().enumerate() {
        if !adp.info.is_default_privileges {
            continue;
        }
        for (j, s) in statements.iter().enumerate() {
            if j == k || s.info.creates.is_empty() || s.info.is_default_privileges {
                continue;
            }
            if j < k {
                soft.push((j, k));
            } else if !s.info.creates.iter().any(|c| adp.info.references.contains(c)) {
                soft.push((k, j));
            }
        }
    }
    soft
}

/// Line and column of increasing offsets in one text, counting each newline
/// once (`line_column` from the start of the file for every statement is
/// quadratic in the file's length).
#[derive(Default)]
struct LineCounter {
    /// Offset counted up to, its line (0-based) and the start of that line.
    at: usize,
    line: usize,
    line_start: usize,
}

impl LineCounter {
    fn advance(&mut self, text: &str, offset: usize) -> (usize, usize) {
        if offset < self.at {
            return line_column(text, offset);
        }
        let between = &text[self.at..offset];
        if let Some(last) = between.rfind('\n') {
            self.line += between.matches('\n').count();
            self.line_start = self.at + last + 1;
        }
        self.at = offset;
        (self.line + 1, text[self.line_start..offset].chars().count() + 1)
    }
}

fn first_line_span(file: &SourceFile, start: usize, end: usize) -> Span {
    let line_end = file.text[start..end].find('\n').map(|i| start + i).unwrap_or(end);
    Span {
        path: file.path.clone(),
        start,
        end: line_end.max(start + 1).min(file.text.len()),
    }
}

fn reserved(info: &StatementInfo, span: Span) -> Option<Diagnostic> {
    let uses_reserved = info.creates.iter().any(|k| match k {
        Key::Schema(s) => s == RESERVED_SCHEMA,
        Key::Relation(q) | Key::Type(q) => q.schema == RESERVED_SCHEMA,
        Key::Function(q) | Key::Collation(q) => q.schema == RESERVED_SCHEMA,
        Key::Extension(_) | Key::UniqueIndexOn(_) | Key::Details(_) => false,
    });
    uses_reserved.then(|| {
        Diagnostic::new(
            Code::Reserved,
            format!("the schema `{RESERVED_SCHEMA}` is reserved for converge's history table"),
        )
        .at(span, "uses the reserved schema")
        .help("put these objects in another schema")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(files: &[(&str, &str)]) -> Result<Desired, Vec<Diagnostic>> {
        Desired::from_sources(Sources::from_texts(
            files.iter().map(|(p, t)| (p.to_string(), t.to_string())),
        ))
    }

    fn summary(d: &Desired) -> Vec<(usize, usize, usize, usize, usize, StatementInfo)> {
        d.statements
            .iter()
            .map(|s| (s.file, s.start, s.end, s.line, s.column, s.info.clone()))
            .collect()
    }

    #[test]
    fn statements_known_before_give_what_a_fresh_parse_gives() {
        let sources = |text: &str| Sources::from_texts([("a.sql".to_string(), text.to_string())]);
        let before = "create schema app;\n-- the orders\ncreate table app.orders (id int primary key);\n\
            create view app.v as select id from app.orders;\ncomment on table app.orders is 'o';\n";
        let (first, learned) = Desired::from_sources_known(sources(before), KnownStatements::default()).unwrap();
        assert_eq!(learned.len(), 4);
        let known = learned.view(&first).to_known();
        assert_eq!(known.len(), 4);
        let after = before.replace("(id int primary key)", "(id int primary key, note text)");
        let (incremental, learned_after) = Desired::from_sources_known(sources(&after), known).unwrap();
        let fresh = Desired::from_sources(sources(&after)).unwrap();
        assert_eq!(summary(&incremental), summary(&fresh));
        assert_eq!(learned_after.len(), 4);
    }

    #[test]
    fn a_known_statement_text_is_not_parsed_again() {
        let sources = |text: &str| Sources::from_texts([("a.sql".to_string(), text.to_string())]);
        let (other, _) = Desired::from_sources_known(sources("create table b (id int);"), KnownStatements::default())
            .map(|(d, k)| (d.statements[0].info.clone(), k))
            .unwrap();
        let mut known = KnownStatements::default();
        let text = "-- a\ncreate table a (id int) ;";
        let piece = pg_query::split_with_parser(text).unwrap()[0];
        let tokens = piece.find("create").unwrap()..piece.find(')').unwrap() + 1;
        known.insert(piece, other.clone(), tokens.clone());
        let (desired, _) = Desired::from_sources_known(sources(text), known).unwrap();
        assert_eq!(desired.statements[0].info, other, "the known answer is taken as it is");
        assert_eq!(
            (desired.statements[0].start, desired.statements[0].end),
            (
                tokens.start + piece.as_ptr() as usize - text.as_ptr() as usize,
                tokens.end + piece.as_ptr() as usize - text.as_ptr() as usize
            ),
            "and so is where its tokens are"
        );
    }

    #[test]
    fn statements_across_files_load_in_dependency_order() {
        let d = desired(&[
            ("a.sql", "create table app.orders (id int, s app.status);"),
            ("b.sql", "create type app.status as enum ('a');\ncreate schema app;"),
        ])
        .unwrap();
        let order: Vec<&str> = d.statements.iter().map(|s| d.sql(s)).collect();
        assert_eq!(
            order,
            vec![
                "create schema app",
                "create type app.status as enum ('a')",
                "create table app.orders (id int, s app.status)"
            ]
        );
        let t = d.defining(&ObjectId::Column(
            crate::catalog::QualifiedName::new("app", "orders"),
            "s".into(),
        ));
        assert_eq!(d.location(t.unwrap()).to_string(), "a.sql:1:1");
    }

    #[test]
    fn statement_locations_are_line_and_column() {
        let d = desired(&[(
            "a.sql",
            "create schema s;\n\n  -- c\n  create table s.t (id int); create table s.u (x int);\n",
        )])
        .unwrap();
        let at: Vec<String> = d.statements.iter().map(|s| d.location(s).to_string()).collect();
        assert_eq!(at, vec!["a.sql:1:1", "a.sql:4:3", "a.sql:4:30"]);
        for s in &d.statements {
            assert_eq!((s.line, s.column), line_column(&d.sources.files[0].text, s.start));
        }
    }

    #[test]
    fn every_refused_statement_is_reported() {
        let problems =
            desired(&[("a.sql", "create table t (id int);\ninsert into t values (1);\nbegin;\n")]).unwrap_err();
        assert_eq!(problems.len(), 2);
        assert!(problems.iter().all(|p| p.code == Code::NotSchema));
    }

    #[test]
    fn the_history_schema_is_reserved() {
        let problems = desired(&[("a.sql", "create schema converge;")]).unwrap_err();
        assert_eq!(problems[0].code, Code::Reserved);
    }
}
