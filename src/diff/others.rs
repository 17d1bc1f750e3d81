//! Schemas, extensions, sequences and indexes: kinds whose objects stand alone.

use super::{Change, comment, owner, paired, privileges};
use crate::catalog::{Catalog, ObjectId, QualifiedName};
use std::collections::BTreeSet;

pub fn schemas(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.schemas, &desired.schemas) {
        match pair {
            (Some(a), None) => out.push(Change::DropSchema(a.clone())),
            (None, Some(b)) => out.push(Change::CreateSchema(b.clone())),
            (Some(a), Some(b)) => {
                let id = ObjectId::Schema(a.name.clone());
                owner(id.clone(), "SCHEMA", &a.owner, &b.owner, out);
                privileges(id.clone(), "SCHEMA", &a.acl, &b.acl, out);
                comment(id, &a.comment, &b.comment, out);
            }
            (None, None) => {}
        }
    }
}

pub fn extensions(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.extensions, &desired.extensions) {
        match pair {
            (Some(a), None) => out.push(Change::DropExtension(a.clone())),
            (None, Some(b)) => out.push(Change::CreateExtension(b.clone())),
            (Some(a), Some(b)) => {
                if a.version != b.version || a.schema != b.schema {
                    out.push(Change::AlterExtension {
                        from: a.clone(),
                        to: b.clone(),
                    });
                }
                comment(ObjectId::Extension(a.name.clone()), &a.comment, &b.comment, out);
            }
            (None, None) => {}
        }
    }
}

/// Sequences; `recreated` holds the tables the plan drops and creates again,
/// whose owned sequences PostgreSQL drops with them.
pub fn sequences(current: &Catalog, desired: &Catalog, recreated: &BTreeSet<QualifiedName>, out: &mut Vec<Change>) {
    let goes_with_its_table =
        |s: &crate::catalog::Sequence| s.owned_by.as_ref().is_some_and(|c| recreated.contains(&c.table));
    for pair in paired(&current.sequences, &desired.sequences) {
        let pair = match pair {
            // Dropped with its table, and created again for the new one.
            (Some(a), Some(b)) if goes_with_its_table(a) => {
                sequence_dropped(a, out);
                (None, Some(b))
            }
            pair => pair,
        };
        match pair {
            (Some(a), None) => sequence_dropped(a, out),
            (None, Some(b)) => {
                out.push(Change::CreateSequence(b.clone()));
                if b.owned_by.is_some() {
                    out.push(Change::SetSequenceOwner {
                        sequence: b.name.clone(),
                        from: None,
                        to: b.owned_by.clone(),
                    });
                }
            }
            (Some(a), Some(b)) => {
                if a.options != b.options {
                    out.push(Change::AlterSequence {
                        from: a.clone(),
                        to: b.clone(),
                    });
                }
                if a.owned_by != b.owned_by {
                    out.push(Change::SetSequenceOwner {
                        sequence: a.name.clone(),
                        from: a.owned_by.clone(),
                        to: b.owned_by.clone(),
                    });
                }
                let id = ObjectId::Sequence(a.name.clone());
                // A sequence owned by a column has its table's owner.
                if a.owned_by.is_none() && b.owned_by.is_none() {
                    owner(id.clone(), "SEQUENCE", &a.owner, &b.owner, out);
                }
                privileges(id.clone(), "SEQUENCE", &a.acl, &b.acl, out);
                comment(id, &a.comment, &b.comment, out);
            }
            (None, None) => {}
        }
    }
}

fn sequence_dropped(a: &crate::catalog::Sequence, out: &mut Vec<Change>) {
    if a.owned_by.is_some() {
        out.push(Change::SetSequenceOwner {
            sequence: a.name.clone(),
            from: a.owned_by.clone(),
            to: None,
        });
    }
    out.push(Change::DropSequence(a.clone()));
}

pub fn indexes(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    let stays_partition = |table: &QualifiedName| super::attached::stays_partition(table, current, desired);
    for pair in paired(&current.indexes, &desired.indexes) {
        match pair {
            // A partition's parts of partitioned indexes come and go with
            // them, and with ATTACH and DETACH.
            (Some(a), None) if a.inherited => {}
            (None, Some(b)) if b.inherited => {}
            (Some(a), Some(b)) if a.inherited && b.inherited => {}
            // A partition's own index that a partitioned index adopts: the
            // partitioned index is (re)built, attaching the index created
            // again under its name; one that a partitioned index lets go is
            // dropped with it and created again alone.
            (Some(a), Some(b)) if stays_partition(&a.table) && !a.inherited && b.inherited => {
                out.push(Change::DropIndex(a.clone()))
            }
            (Some(a), Some(b)) if stays_partition(&a.table) && a.inherited && !b.inherited => {
                out.push(Change::CreateIndex(b.clone()))
            }
            (Some(a), Some(b)) if a.inherited || b.inherited => {}
            (Some(a), None) => out.push(Change::DropIndex(a.clone())),
            (None, Some(b)) => out.push(Change::CreateIndex(b.clone())),
            (Some(a), Some(b)) => {
                // An INVALID index (a failed concurrent build) is rebuilt, and
                // so is a partitioned index whose partitions' indexes change.
                if a.definition != b.definition
                    || a.valid != b.valid
                    || super::attached::differ(&a.partitions, &b.partitions, current, desired)
                {
                    out.push(Change::DropIndex(a.clone()));
                    out.push(Change::CreateIndex(b.clone()));
                } else {
                    comment(ObjectId::Index(a.name.clone()), &a.comment, &b.comment, out);
                }
            }
            (None, None) => {}
        }
    }
}
