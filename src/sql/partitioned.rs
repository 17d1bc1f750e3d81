//! Indexes of partitioned tables, written as pg_dump writes them.
//!
//! A partition's index attached to a partitioned index keeps its own name,
//! which PostgreSQL chooses itself only for the indexes a recursive `CREATE
//! INDEX` builds. So the partitioned index is created `ON ONLY` its table,
//! each partition's index is created under its name (an index that belongs
//! to the partition's own primary key or unique constraint is created by
//! that constraint, a step of its own) and attached with `ALTER INDEX ...
//! ATTACH PARTITION`. PostgreSQL cannot detach an index: dropping the
//! partitioned index drops every attached one, so the partitions'
//! constraints whose indexes were attached are added back right after.
//!
//! A primary key or unique constraint of a partitioned table is added the
//! same way: `ALTER TABLE ONLY`, then each partition's copy added under its
//! name and its index attached (which makes it the parent's copy).

use super::ident::{ident, qualified};
use crate::catalog::{AttachedKind, Constraint, Index, IndexPartition, QualifiedName};

/// Whether `i` is the index of a partitioned table (`pg_get_indexdef` prints
/// it `ON ONLY` its table).
pub fn is_partitioned(i: &Index) -> bool {
    i.definition.contains(" ON ONLY ")
}

/// `CREATE INDEX ... ON ONLY`, then every partition's index created (unless
/// its constraint creates it) and attached.
pub fn create(i: &Index) -> Vec<String> {
    let mut out = vec![i.definition.clone()];
    attach(&i.name, &i.partitions, &mut out);
    out
}

/// `ALTER TABLE ONLY ... ADD CONSTRAINT`, then every partition's copy added
/// and attached; the constraint's comments are the caller's.
pub fn add_key_constraint(table: &QualifiedName, c: &Constraint) -> Vec<String> {
    let mut out = vec![format!(
        "ALTER TABLE ONLY {} ADD CONSTRAINT {} {}",
        qualified(table),
        ident(&c.name),
        c.definition
    )];
    attach(
        &QualifiedName::new(table.schema.clone(), c.name.clone()),
        &c.partitions,
        &mut out,
    );
    out
}

/// Creates the partitions' indexes the parent's step owns and attaches
/// every one to `parent` (a partition that is partitioned itself gets its
/// index built recursively).
fn attach(parent: &QualifiedName, partitions: &[IndexPartition], out: &mut Vec<String>) {
    for p in partitions {
        match p.kind {
            // A partition detached from another partitioned table earlier
            // in the plan keeps its index, which only needs attaching.
            AttachedKind::Index => out.push(p.definition.replacen("INDEX ", "INDEX IF NOT EXISTS ", 1).replacen(
                " ON ONLY ",
                " ON ",
                1,
            )),
            AttachedKind::InheritedConstraint => out.push(format!(
                "ALTER TABLE ONLY {} ADD CONSTRAINT {} {}",
                qualified(&p.table),
                ident(&p.index.name),
                p.definition
            )),
            AttachedKind::LocalConstraint => {}
        }
        out.push(format!(
            "ALTER INDEX {} ATTACH PARTITION {}",
            qualified(parent),
            qualified(&p.index)
        ));
    }
}

/// `DROP INDEX`, with the attached indexes it takes along; the partitions'
/// constraints among them are added back (`CASCADE` is what lets PostgreSQL
/// drop a constraint's index with its partitioned index).
pub fn drop(i: &Index) -> Vec<String> {
    let constraints: Vec<_> = i
        .partitions
        .iter()
        .filter(|p| p.kind == AttachedKind::LocalConstraint)
        .collect();
    let cascade = if constraints.is_empty() { "" } else { " CASCADE" };
    let mut out = vec![format!("DROP INDEX {}{cascade}", qualified(&i.name))];
    for p in constraints {
        out.push(format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            qualified(&p.table),
            ident(&p.index.name),
            p.definition
        ));
    }
    out
}
