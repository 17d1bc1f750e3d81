//! What each change does to which objects: the facts the dependency graph is
//! built from.

use crate::catalog::{ObjectId, QualifiedName};
use crate::diff::Change;

/// The objects a step creates, drops, or changes in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    pub creates: Vec<ObjectId>,
    pub drops: Vec<ObjectId>,
    /// Changed in place, including what the object needs.
    pub alters: Vec<ObjectId>,
    /// Changed in place without touching what the object needs (identity):
    /// ordered only among the other changes of the same object.
    pub touches: Vec<ObjectId>,
}

pub fn effects(change: &Change) -> Effects {
    use Change::*;
    let mut e = Effects::default();
    let id = change.object();
    match change {
        CreateTable(t) => {
            e.creates.push(id);
            e.creates.extend(
                t.columns
                    .iter()
                    .map(|c| ObjectId::Column(t.name.clone(), c.name.clone())),
            );
            e.creates.extend(
                t.constraints
                    .keys()
                    .map(|n| ObjectId::Constraint(t.name.clone(), n.clone())),
            );
        }
        DropTable(t) => {
            e.drops.push(id);
            e.drops.extend(
                t.columns
                    .iter()
                    .map(|c| ObjectId::Column(t.name.clone(), c.name.clone())),
            );
            e.drops.extend(
                t.constraints
                    .keys()
                    .map(|n| ObjectId::Constraint(t.name.clone(), n.clone())),
            );
        }
        SetSequenceOwner { from, to, .. } => match (from, to) {
            (None, Some(_)) => e.creates.push(id),
            (Some(_), None) => e.drops.push(id),
            _ => e.alters.push(id),
        },
        // Comments, owners and privileges change nothing another step could
        // depend on; they only run after the object exists.
        SetComment { .. } | SetOwner { .. } | SetPrivileges { .. } | AddIdentity { .. } | DropIdentity { .. } => {
            e.touches.push(id)
        }
        SetDefaultPrivileges { .. } => {}
        // The index named by USING INDEX (a plain index, or a key
        // constraint's) must exist first.
        SetReplicaIdentity { table, to_index, .. } => {
            e.alters.push(id);
            if let Some(index) = to_index {
                e.alters
                    .push(ObjectId::Index(QualifiedName::new(table.schema.clone(), index.clone())));
                e.alters.push(ObjectId::Constraint(table.clone(), index.clone()));
            }
        }
        _ => match change.verb() {
            crate::diff::Verb::Create => e.creates.push(id),
            crate::diff::Verb::Drop => e.drops.push(id),
            crate::diff::Verb::Alter => e.alters.push(id),
        },
    }
    e
}
