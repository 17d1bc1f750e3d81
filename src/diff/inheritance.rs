//! Classic table inheritance (`INHERITS`, not partitions): the parents a
//! table gains and loses, the table as a NO INHERIT leaves it, the columns
//! and checks its parents' changes carry, and what CREATE TABLE ...
//! INHERITS gives a new child.
//!
//! PostgreSQL keeps per column whether the child declares it (`attislocal`)
//! and from how many parents it has it (`attinhcount`), and the same for
//! checks. A parent's ADD, DROP and ALTER COLUMN (and its checks, NOT NULL
//! and defaults) recurse to its children; NO INHERIT turns what the child
//! had only from that parent into its own; INHERIT needs the child to have
//! the parent's columns and checks already, and leaves them its own too.
//! Nothing turns a column the child declares back into one it only
//! inherits: such a table is dropped and created again (`unreachable`).
//! This module must not order steps: `plan::graph` does that from the
//! catalogs' table-to-parent dependencies.

use super::Change;
use crate::catalog::{Catalog, Column, ConstraintKind, QualifiedName, Table};

/// Whether `a` (current) and `b` (desired) are the same table under classic
/// inheritance on either side.
pub fn involved(a: &Table, b: &Table) -> bool {
    a.partition_of.is_none() && b.partition_of.is_none() && (!a.inherits.is_empty() || !b.inherits.is_empty())
}

/// The parents that stay, in order: those of `a` that `b` lists in the same
/// order from its start (INHERIT appends a parent at the end, so a parent
/// that moves is removed and added again).
pub fn kept(a: &[QualifiedName], b: &[QualifiedName]) -> Vec<QualifiedName> {
    a.iter()
        .filter(|p| b.contains(p))
        .zip(b)
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.clone())
        .collect()
}

/// The `NoInherit` and then `Inherit` changes that take table `a`'s parents
/// to `b`'s.
pub fn parent_changes(a: &Table, b: &Table, out: &mut Vec<Change>) {
    let kept = kept(&a.inherits, &b.inherits);
    for parent in a.inherits.iter().filter(|p| !kept.contains(p)) {
        out.push(Change::NoInherit {
            table: a.name.clone(),
            parent: parent.clone(),
        });
    }
    for parent in &b.inherits[kept.len()..] {
        out.push(Change::Inherit {
            table: a.name.clone(),
            parent: parent.clone(),
        });
    }
}

/// The kept parents of a table that stays, as (current, desired) tables.
pub fn kept_parents<'a>(
    a: &Table,
    b: &Table,
    current: &'a Catalog,
    desired: &'a Catalog,
) -> Vec<(&'a Table, &'a Table)> {
    kept(&a.inherits, &b.inherits)
        .iter()
        .filter_map(|p| current.tables.get(p).zip(desired.tables.get(p)))
        .collect()
}

/// `current` with every table that loses a parent as the NO INHERIT leaves
/// it: a column or check it had only from the parents it loses becomes its
/// own. `None` when no table loses a parent.
pub fn with_left_parents(current: &Catalog, desired: &Catalog) -> Option<Catalog> {
    let mut changed: Vec<Table> = Vec::new();
    for a in current.tables.values().filter(|a| !a.inherits.is_empty()) {
        let Some(b) = desired.tables.get(&a.name) else {
            continue;
        };
        let kept = kept(&a.inherits, &b.inherits);
        if kept.len() == a.inherits.len() {
            continue;
        }
        let parents: Vec<&Table> = kept.iter().filter_map(|p| current.tables.get(p)).collect();
        let mut t = a.clone();
        for c in t.columns.iter_mut().filter(|c| c.inherited) {
            if !parents.iter().any(|p| p.column(&c.name).is_some()) {
                c.inherited = false;
            }
        }
        for k in t.constraints.values_mut().filter(|k| k.inherited) {
            if !parents.iter().any(|p| p.constraints.contains_key(&k.name)) {
                k.inherited = false;
            }
        }
        changed.push(t);
    }
    if changed.is_empty() {
        return None;
    }
    let mut c = current.clone();
    for t in changed {
        c.tables.insert(t.name.clone(), t);
    }
    Some(c)
}

/// Whether column `name` of a table that stays is carried by a parent it
/// keeps (the parent has it on both sides): the parent's changes to its
/// type, default and NOT NULL recurse to the table.
pub fn carried(name: &str, parents: &[(&Table, &Table)]) -> bool {
    parents
        .iter()
        .any(|(pa, pb)| pa.column(name).is_some() && pb.column(name).is_some())
}

/// Column `x` of a table as its kept parents' own changes leave it: SET and
/// DROP NOT NULL, SET and DROP DEFAULT (and the default dropped and set
/// again around a type change) on a parent recurse to its children.
pub fn after_parents(x: &Column, parents: &[(&Table, &Table)]) -> Column {
    let mut c = x.clone();
    for (pa, pb) in parents {
        let (Some(before), Some(after)) = (pa.column(&x.name), pb.column(&x.name)) else {
            continue;
        };
        if before.not_null != after.not_null {
            c.not_null = after.not_null;
        }
        let retyped = before.data_type != after.data_type && before.default.is_some();
        if before.default != after.default || retyped {
            c.default = after.default.clone();
        }
    }
    c
}

/// Whether PostgreSQL has no statement that takes table `a` (current, as
/// the NO INHERITs leave it) to `b` under classic inheritance: a column or
/// check that `b` has only from its parents while `a` declares it (or while
/// only a parent it gains could bring it, which INHERIT needs it to have
/// already), or that `b` declares while a parent still gives it to `a`
/// alone. Such a table is dropped and created again.
pub fn unreachable(a: &Table, b: &Table, current: &Catalog, desired: &Catalog) -> bool {
    if !involved(a, b) {
        return false;
    }
    let kept = kept_parents(a, b, current, desired);
    let desired_parents: Vec<&Table> = b.inherits.iter().filter_map(|p| desired.tables.get(p)).collect();
    let kept_gains_column = |name: &str| kept.iter().any(|(_, pb)| pb.column(name).is_some());
    let columns = b.columns.iter().any(|y| match (a.column(&y.name), y.inherited) {
        (Some(x), true) => !x.inherited,
        (None, true) => !kept_gains_column(&y.name),
        (Some(x), false) => x.inherited && desired_parents.iter().any(|p| p.column(&y.name).is_some()),
        (None, false) => false,
    });
    let kept_gains_check = |name: &str| kept.iter().any(|(_, pb)| pb.constraints.contains_key(name));
    let checks = b
        .constraints
        .values()
        .filter(|y| y.kind == ConstraintKind::Check)
        .any(|y| match (a.constraints.get(&y.name), y.inherited) {
            (Some(x), true) => !x.inherited,
            (None, true) => !kept_gains_check(&y.name),
            (Some(x), false) => x.inherited && desired_parents.iter().any(|p| p.constraints.contains_key(&y.name)),
            (None, false) => false,
        });
    columns || checks
}

/// The column changes that take a new inheritance child, as CREATE TABLE
/// ... INHERITS makes it, to `t`: the child gets its first parent's default
/// and every parent's NOT NULL for a column it does not declare, and for one
/// it declares without a default.
pub fn after_create(t: &Table, catalog: &Catalog) -> Vec<Change> {
    if t.inherits.is_empty() {
        return Vec::new();
    }
    let parents: Vec<&Table> = t.inherits.iter().filter_map(|p| catalog.tables.get(p)).collect();
    let mut out = Vec::new();
    for c in &t.columns {
        let from_parents: Vec<&Column> = parents.iter().filter_map(|p| p.column(&c.name)).collect();
        let Some(first) = from_parents.first() else {
            continue;
        };
        let parent_default = first.default.clone();
        let parent_not_null = from_parents.iter().any(|p| p.not_null);
        let created = Column {
            default: if c.inherited {
                parent_default
            } else {
                c.default.clone().or(parent_default)
            },
            not_null: parent_not_null || (!c.inherited && c.not_null),
            ..c.clone()
        };
        if created != *c {
            out.push(Change::AlterColumn {
                table: t.name.clone(),
                from: created,
                to: c.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(name: &str) -> QualifiedName {
        QualifiedName::new("public", name)
    }

    fn col(name: &str, inherited: bool) -> Column {
        Column {
            name: name.into(),
            data_type: "integer".into(),
            inherited,
            ..Default::default()
        }
    }

    fn table(name: &str, parents: &[&str], columns: Vec<Column>) -> Table {
        Table {
            name: q(name),
            inherits: parents.iter().map(|p| q(p)).collect(),
            columns,
            ..Default::default()
        }
    }

    fn catalog(tables: Vec<Table>) -> Catalog {
        let mut c = Catalog::default();
        for t in tables {
            c.tables.insert(t.name.clone(), t);
        }
        c
    }

    #[test]
    fn a_moved_parent_is_removed_and_added_again() {
        assert_eq!(kept(&[q("a"), q("b")], &[q("a"), q("b"), q("c")]), vec![q("a"), q("b")]);
        assert_eq!(kept(&[q("a"), q("b")], &[q("b"), q("a")]), Vec::<QualifiedName>::new());
        assert_eq!(kept(&[q("a"), q("b"), q("c")], &[q("a"), q("c")]), vec![q("a"), q("c")]);
        let mut out = Vec::new();
        parent_changes(
            &table("t", &["a", "b"], vec![]),
            &table("t", &["b", "a"], vec![]),
            &mut out,
        );
        assert_eq!(
            out,
            vec![
                Change::NoInherit {
                    table: q("t"),
                    parent: q("a")
                },
                Change::NoInherit {
                    table: q("t"),
                    parent: q("b")
                },
                Change::Inherit {
                    table: q("t"),
                    parent: q("b")
                },
                Change::Inherit {
                    table: q("t"),
                    parent: q("a")
                },
            ]
        );
    }

    #[test]
    fn a_lost_parent_leaves_its_columns_to_the_child() {
        let parent = table("p", &[], vec![col("a", false)]);
        let current = catalog(vec![
            parent.clone(),
            table("c", &["p"], vec![col("a", true), col("b", false)]),
        ]);
        let desired = catalog(vec![parent, table("c", &[], vec![col("a", false), col("b", false)])]);
        let left = with_left_parents(&current, &desired).expect("the child loses its parent");
        assert!(left.tables[&q("c")].columns.iter().all(|c| !c.inherited));
        assert!(!unreachable(
            &left.tables[&q("c")],
            &desired.tables[&q("c")],
            &left,
            &desired
        ));
    }

    #[test]
    fn a_declared_column_cannot_become_only_inherited() {
        let parent = table("p", &[], vec![col("a", false)]);
        let current = catalog(vec![parent.clone(), table("c", &[], vec![col("a", false)])]);
        let undeclared = catalog(vec![parent.clone(), table("c", &["p"], vec![col("a", true)])]);
        let declared = catalog(vec![parent, table("c", &["p"], vec![col("a", false)])]);
        let a = &current.tables[&q("c")];
        assert!(unreachable(a, &undeclared.tables[&q("c")], &current, &undeclared));
        assert!(!unreachable(a, &declared.tables[&q("c")], &current, &declared));
    }

    #[test]
    fn a_new_child_gets_its_parents_defaults_and_not_null() {
        let parent = table(
            "p",
            &[],
            vec![Column {
                default: Some("4".into()),
                not_null: true,
                ..col("wheels", false)
            }],
        );
        let child = table(
            "c",
            &["p"],
            vec![Column {
                default: Some("2".into()),
                not_null: true,
                ..col("wheels", true)
            }],
        );
        let desired = catalog(vec![parent, child.clone()]);
        let changes = after_create(&child, &desired);
        let [Change::AlterColumn { from, to, .. }] = changes.as_slice() else {
            panic!("one column change expected, got {changes:?}");
        };
        assert_eq!(from.default.as_deref(), Some("4"));
        assert_eq!(to.default.as_deref(), Some("2"));
    }
}
