//! What to undo and re-run in a kept shadow database so that it holds what a
//! full load of the new desired statements would give: the pure part of the
//! incremental shadow (`shadow::reuse` talks to the database).
//!
//! Each statement is remembered by the sha256 of its text and the names it
//! creates and touches (`source::classify`'s keys). Statements that are gone
//! or new are *affected*; so is every statement that touches a name an
//! affected statement creates or alters, and every statement that touches an
//! object PostgreSQL drops along with one (`pg_depend`, asked by the caller).
//! An affected statement's objects are dropped and re-created from scratch:
//! an affected statement that only alters an object (`ALTER TABLE`, `COMMENT`,
//! `CREATE TRIGGER`, ...) makes the object it alters be re-created, since the
//! only sure way to undo an alteration, or to redo it in its place (column
//! order), is to build the object again. Then the affected new statements run
//! in load order. This errs on the side of re-creating more than needed,
//! never less; anything it cannot reason about is a full load instead.
//!
//! The one exception is a table named only as the target of a foreign key:
//! re-creating the target drops the foreign key (`CASCADE`) but nothing
//! else of the referencing table, so that table stays and `shadow::reuse`
//! adds the foreign key back from its definition in the kept database.
//! Without it, a changed table would re-create every table that reaches it
//! through foreign keys, which in a real schema is most of them.

use crate::catalog::{ObjectId, QualifiedName};
use crate::source::{Desired, Key, Statement};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A name as the record keeps it (`source::Key`, serializable).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Name {
    Schema {
        name: String,
    },
    Extension {
        name: String,
    },
    Relation {
        schema: String,
        name: String,
    },
    Type {
        schema: String,
        name: String,
    },
    Function {
        schema: String,
        name: String,
    },
    Collation {
        schema: String,
        name: String,
    },
    /// The unique indexes of a table (what foreign keys to it use).
    UniqueIndexOn {
        schema: String,
        name: String,
    },
    /// What statements add to a table after creating it (what LIKE copies).
    Details {
        schema: String,
        name: String,
    },
}

impl Name {
    fn qualified(q: &QualifiedName, make: fn(String, String) -> Name) -> Name {
        make(q.schema.clone(), q.name.clone())
    }

    /// Whether the name is an object in the database (not an ordering key).
    pub fn is_object(&self) -> bool {
        !matches!(self, Name::UniqueIndexOn { .. } | Name::Details { .. })
    }
}

fn relation(schema: String, name: String) -> Name {
    Name::Relation { schema, name }
}
fn type_name(schema: String, name: String) -> Name {
    Name::Type { schema, name }
}
fn function(schema: String, name: String) -> Name {
    Name::Function { schema, name }
}
fn collation(schema: String, name: String) -> Name {
    Name::Collation { schema, name }
}

impl From<&Key> for Name {
    fn from(key: &Key) -> Name {
        match key {
            Key::Schema(s) => Name::Schema { name: s.clone() },
            Key::Extension(e) => Name::Extension { name: e.clone() },
            Key::Relation(q) => Name::qualified(q, relation),
            Key::Type(q) => Name::qualified(q, type_name),
            Key::Function(q) => Name::qualified(q, function),
            Key::Collation(q) => Name::qualified(q, collation),
            Key::UniqueIndexOn(q) => Name::qualified(q, |schema, name| Name::UniqueIndexOn { schema, name }),
            Key::Details(q) => Name::qualified(q, |schema, name| Name::Details { schema, name }),
        }
    }
}

/// The object whose re-creation undoes a statement about `id`.
fn anchor(id: &ObjectId) -> Option<Name> {
    Some(match id {
        ObjectId::Schema(s) => Name::Schema { name: s.clone() },
        ObjectId::Extension(e) => Name::Extension { name: e.clone() },
        ObjectId::Type(q) => Name::qualified(q, type_name),
        ObjectId::Sequence(q)
        | ObjectId::SequenceOwner(q)
        | ObjectId::Table(q)
        | ObjectId::Column(q, _)
        | ObjectId::Constraint(q, _)
        | ObjectId::Index(q)
        | ObjectId::View(q)
        | ObjectId::MaterializedView(q)
        | ObjectId::Trigger(q, _)
        | ObjectId::Policy(q, _) => Name::qualified(q, relation),
        ObjectId::Function(q, _) | ObjectId::Aggregate(q, _) => Name::qualified(q, function),
        ObjectId::Collation(q) => Name::qualified(q, collation),
        ObjectId::DefaultPrivileges(..) => return None,
    })
}

/// One loaded statement as the record of a kept shadow database holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// sha256 of the statement's text.
    pub text: String,
    /// Names it creates (objects and ordering keys).
    pub creates: Vec<Name>,
    /// Objects it alters or is about (empty for a statement that creates).
    pub anchors: Vec<Name>,
    /// Every name it uses, but tables it names only as a foreign key's target.
    pub references: Vec<Name>,
    /// `ALTER DEFAULT PRIVILEGES`: it changes what is created after it.
    pub default_privileges: bool,
}

impl Recorded {
    pub fn of(desired: &Desired, stmt: &Statement) -> Recorded {
        let info = &stmt.info;
        let creates: Vec<Name> = info.creates.iter().map(Name::from).collect();
        let creates_object = creates.iter().any(Name::is_object);
        let mut anchors: Vec<Name> = if creates_object {
            Vec::new()
        } else {
            info.defines
                .iter()
                .chain(&info.comments_on)
                .filter_map(anchor)
                .chain(info.privileges_on.iter().map(|q| Name::qualified(q, relation)))
                .collect()
        };
        anchors.sort();
        anchors.dedup();
        Recorded {
            text: crate::catalog::Fingerprint::of_bytes(desired.sql(stmt).as_bytes()).to_string(),
            creates,
            anchors,
            references: info
                .references
                .iter()
                .filter(|key| match key {
                    Key::Relation(q) | Key::UniqueIndexOn(q) => !info.foreign_key_targets.contains(q),
                    _ => true,
                })
                .map(Name::from)
                .collect(),
            default_privileges: info.is_default_privileges,
        }
    }

    /// Every name the statement is affected by: the objects it creates (two
    /// statements may create overloads of one function name), alters or
    /// uses. Ordering keys count only where they are used: statements that
    /// add an index and a comment to one table both create its `Details`,
    /// and neither depends on the other.
    fn touches(&self) -> impl Iterator<Item = &Name> {
        self.creates
            .iter()
            .filter(|n| n.is_object())
            .chain(&self.anchors)
            .chain(&self.references)
    }

    /// What re-creating undoes this statement: its objects, or the objects it
    /// alters.
    fn undo_by(&self) -> impl Iterator<Item = &Name> {
        self.creates.iter().filter(|n| n.is_object()).chain(&self.anchors)
    }
}

/// The record of every statement of a desired state, in load order.
pub fn record(desired: &Desired) -> Vec<Recorded> {
    desired.statements.iter().map(|s| Recorded::of(desired, s)).collect()
}

/// The state of an incremental update being worked out: affected statements
/// on both sides and the objects to re-create.
pub struct Delta<'a> {
    old: &'a [Recorded],
    new: &'a [Recorded],
    old_affected: Vec<bool>,
    new_affected: Vec<bool>,
    /// Objects to drop and build again.
    pub recreate: BTreeSet<Name>,
    /// Names whose meaning changes (re-created objects, and every name an
    /// affected statement creates): whoever touches one is affected.
    changed: BTreeSet<Name>,
}

impl<'a> Delta<'a> {
    /// Marks the statements that differ, and everything they reach through
    /// the names statements create and touch. `Err` holds why only a full load
    /// is safe.
    pub fn new(old: &'a [Recorded], new: &'a [Recorded]) -> Result<Delta<'a>, String> {
        if old.iter().chain(new).any(|r| r.default_privileges) && !same_texts(old, new) {
            return Err("the desired files use ALTER DEFAULT PRIVILEGES, which depends on load order".into());
        }
        // Pair statements with equal text, as many times as each text occurs.
        let mut unmatched_old: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, r) in old.iter().enumerate() {
            unmatched_old.entry(r.text.as_str()).or_default().push(i);
        }
        let mut new_affected = vec![false; new.len()];
        for (j, r) in new.iter().enumerate() {
            match unmatched_old.get_mut(r.text.as_str()).and_then(|v| v.pop()) {
                Some(_) => {}
                None => new_affected[j] = true,
            }
        }
        let mut old_affected = vec![false; old.len()];
        for i in unmatched_old.into_values().flatten() {
            old_affected[i] = true;
        }
        let mut delta = Delta {
            old,
            new,
            old_affected,
            new_affected,
            recreate: BTreeSet::new(),
            changed: BTreeSet::new(),
        };
        delta.spread()?;
        Ok(delta)
    }

    /// Adds objects PostgreSQL would drop along with `recreate` (found in the
    /// database): every statement touching them is affected. Returns whether
    /// anything new was added.
    pub fn add_dependents(&mut self, dependents: impl IntoIterator<Item = Name>) -> Result<bool, String> {
        let before = self.changed.len();
        for name in dependents {
            if name.is_object() {
                self.recreate.insert(name.clone());
            }
            self.changed.insert(name);
        }
        if self.changed.len() == before {
            return Ok(false);
        }
        self.spread()?;
        Ok(true)
    }

    /// Spreads "affected" to a fixed point.
    fn spread(&mut self) -> Result<(), String> {
        loop {
            let before = (self.changed.len(), self.recreate.len());
            for (affected, records) in [(&mut self.old_affected, self.old), (&mut self.new_affected, self.new)] {
                for (i, r) in records.iter().enumerate() {
                    if !affected[i] && r.touches().any(|n| self.changed.contains(n)) {
                        affected[i] = true;
                    }
                    if affected[i] {
                        for n in r.undo_by() {
                            self.recreate.insert(n.clone());
                        }
                        for n in r.creates.iter().chain(r.undo_by()) {
                            self.changed.insert(n.clone());
                        }
                    }
                }
            }
            for n in &self.recreate {
                self.changed.insert(n.clone());
            }
            if (self.changed.len(), self.recreate.len()) == before {
                break;
            }
        }
        // A statement that names nothing converge follows (`GRANT ... ON
        // SCHEMA`, `ALTER FUNCTION ... OWNER TO`) cannot be undone, and may be
        // about any object re-created: gone, only a full load is sure; kept,
        // it runs again (such statements set a state, so running them again
        // changes nothing else).
        let untracked = |r: &Recorded| r.touches().next().is_none();
        if self
            .old
            .iter()
            .enumerate()
            .any(|(i, r)| self.old_affected[i] && untracked(r))
        {
            return Err("a statement that names no object converge follows was removed or changed".into());
        }
        if !self.recreate.is_empty() {
            for (j, r) in self.new.iter().enumerate() {
                if untracked(r) {
                    self.new_affected[j] = true;
                }
            }
        }
        Ok(())
    }

    /// The objects to drop (those the database does not have are skipped
    /// when they are looked up).
    pub fn to_drop(&self) -> &BTreeSet<Name> {
        &self.recreate
    }

    /// The new statements to run, in load order.
    pub fn to_run(&self) -> Vec<usize> {
        (0..self.new.len()).filter(|&j| self.new_affected[j]).collect()
    }
}

fn same_texts(old: &[Recorded], new: &[Recorded]) -> bool {
    fn texts(rs: &[Recorded]) -> Vec<&str> {
        let mut t: Vec<&str> = rs.iter().map(|r| r.text.as_str()).collect();
        t.sort_unstable();
        t
    }
    texts(old) == texts(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;

    fn desired(text: &str) -> Desired {
        Desired::from_sources(Sources::from_texts([("a.sql".to_string(), text.to_string())])).unwrap()
    }

    fn run_texts(new: &Desired, delta: &Delta<'_>) -> Vec<String> {
        delta
            .to_run()
            .into_iter()
            .map(|j| new.sql(&new.statements[j]).to_string())
            .collect()
    }

    const BASE: &str = "create table a (id int primary key);\n\
        create table b (id int primary key, a_id int references a);\n\
        create table c (id int primary key);\n\
        create view va as select * from a;\n\
        create index c_id on c (id);\n\
        comment on table c is 'c';\n";

    #[test]
    fn unchanged_statements_need_nothing() {
        let (old, new) = (desired(BASE), desired(BASE));
        let (ro, rn) = (record(&old), record(&new));
        let delta = Delta::new(&ro, &rn).unwrap();
        assert!(delta.to_drop().is_empty());
        assert!(delta.to_run().is_empty());
    }

    #[test]
    fn a_changed_table_re_creates_what_uses_it_and_nothing_else() {
        let old = desired(BASE);
        let new = desired(&BASE.replace(
            "create table a (id int primary key)",
            "create table a (id int primary key, x int)",
        ));
        let (ro, rn) = (record(&old), record(&new));
        let delta = Delta::new(&ro, &rn).unwrap();
        let run = run_texts(&new, &delta);
        assert!(run.contains(&"create table a (id int primary key, x int)".to_string()));
        assert!(
            run.contains(&"create view va as select * from a".to_string()),
            "the view's * must see x: {run:?}"
        );
        assert!(
            !run.iter().any(|s| s.starts_with("create table b")),
            "b's foreign key to a is added back, b stays: {run:?}"
        );
        assert!(
            !run.iter().any(|s| s.contains(" c")),
            "nothing about c changes: {run:?}"
        );
        assert!(delta.to_drop().contains(&Name::Relation {
            schema: "public".into(),
            name: "a".into()
        }));
    }

    #[test]
    fn a_table_named_beyond_a_foreign_key_is_re_created() {
        let base = "create table a (id int primary key);\n\
            create table b (id int primary key, a_id int references a, check (a_id > 0));\n\
            create table c (like a, a_id int references a);\n";
        let old = desired(base);
        let new = desired(&base.replace("(id int primary key)", "(id int primary key, x int)"));
        let (ro, rn) = (record(&old), record(&new));
        let delta = Delta::new(&ro, &rn).unwrap();
        let run = run_texts(&new, &delta);
        assert!(!run.iter().any(|s| s.starts_with("create table b")), "{run:?}");
        assert!(
            run.iter().any(|s| s.starts_with("create table c")),
            "c copies a's columns: {run:?}"
        );
    }

    #[test]
    fn a_removed_grant_re_creates_the_table_it_was_on() {
        let with = format!("{BASE}grant select on table c to public;\n");
        let (old, new) = (desired(&with), desired(BASE));
        let (ro, rn) = (record(&old), record(&new));
        let delta = Delta::new(&ro, &rn).unwrap();
        assert!(delta.to_drop().contains(&Name::Relation {
            schema: "public".into(),
            name: "c".into()
        }));
        assert!(run_texts(&new, &delta).contains(&"create table c (id int primary key)".to_string()));
    }

    #[test]
    fn a_removed_comment_re_creates_the_object_it_was_on() {
        let old = desired(BASE);
        let new = desired(&BASE.replace("comment on table c is 'c';\n", ""));
        let (ro, rn) = (record(&old), record(&new));
        let delta = Delta::new(&ro, &rn).unwrap();
        assert_eq!(
            run_texts(&new, &delta),
            vec!["create table c (id int primary key)", "create index c_id on c (id)"]
        );
    }

    #[test]
    fn objects_postgres_drops_along_make_their_statements_run_again() {
        let old = desired(BASE);
        let new = desired(&BASE.replace("create index c_id on c (id)", "create index c_id on c (id desc)"));
        let (ro, rn) = (record(&old), record(&new));
        let mut delta = Delta::new(&ro, &rn).unwrap();
        assert_eq!(run_texts(&new, &delta), vec!["create index c_id on c (id desc)"]);
        let grew = delta
            .add_dependents([Name::Relation {
                schema: "public".into(),
                name: "a".into(),
            }])
            .unwrap();
        assert!(grew);
        assert!(run_texts(&new, &delta).contains(&"create view va as select * from a".to_string()));
        let again = delta
            .add_dependents([Name::Relation {
                schema: "public".into(),
                name: "a".into(),
            }])
            .unwrap();
        assert!(!again, "the same dependents add nothing");
    }

    #[test]
    fn default_privileges_make_any_change_a_full_load() {
        let with = format!("{BASE}alter default privileges grant select on tables to public;\n");
        let old = desired(&with);
        let new = desired(&with.replace("comment on table c is 'c'", "comment on table c is 'd'"));
        let (ro, rn) = (record(&old), record(&new));
        assert!(Delta::new(&ro, &rn).is_err());
        let same = desired(&with);
        let rs = record(&same);
        assert!(Delta::new(&ro, &rs).is_ok());
    }
}
