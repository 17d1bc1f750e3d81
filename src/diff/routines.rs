//! Functions, procedures and triggers.

use super::{Change, comment, owner, paired, privileges};
use crate::catalog::{Catalog, Function, ObjectId};

pub fn functions(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.functions, &desired.functions) {
        match pair {
            (Some(a), None) => out.push(Change::DropFunction(a.clone())),
            (None, Some(b)) => out.push(Change::CreateFunction(b.clone())),
            (Some(a), Some(b)) => {
                if a.definition != b.definition {
                    if replaceable(a, b) {
                        out.push(Change::ReplaceFunction {
                            from: a.clone(),
                            to: b.clone(),
                        });
                    } else {
                        out.push(Change::DropFunction(a.clone()));
                        out.push(Change::CreateFunction(b.clone()));
                        continue;
                    }
                }
                let id = ObjectId::Function(b.name.clone(), b.identity_arguments.clone());
                owner(id.clone(), "ROUTINE", &a.owner, &b.owner, out);
                privileges(id.clone(), "ROUTINE", &a.acl, &b.acl, out);
                comment(id, &a.comment, &b.comment, out);
            }
            (None, None) => {}
        }
    }
}

/// `CREATE OR REPLACE` cannot change a routine's kind, its result type, or
/// its arguments' names, modes and defaults.
fn replaceable(a: &Function, b: &Function) -> bool {
    a.kind == b.kind && a.result == b.result && a.arguments == b.arguments
}

pub fn triggers(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.triggers, &desired.triggers) {
        match pair {
            (Some(a), None) => out.push(Change::DropTrigger(a.clone())),
            (None, Some(b)) => out.push(Change::CreateTrigger(b.clone())),
            (Some(a), Some(b)) => {
                if a.definition != b.definition {
                    out.push(Change::DropTrigger(a.clone()));
                    out.push(Change::CreateTrigger(b.clone()));
                    continue;
                }
                if a.enabled != b.enabled {
                    out.push(Change::SetTriggerEnabled {
                        trigger: b.clone(),
                        from: a.enabled.clone(),
                        to: b.enabled.clone(),
                    });
                }
                comment(
                    ObjectId::Trigger(b.table.clone(), b.name.clone()),
                    &a.comment,
                    &b.comment,
                    out,
                );
            }
            (None, None) => {}
        }
    }
}
