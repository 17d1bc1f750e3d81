//! Row-level security policies and default privileges.

use super::{Change, comment, paired};
use crate::catalog::{Catalog, DefaultPrivileges, ObjectId};

pub fn policies(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.policies, &desired.policies) {
        match pair {
            (Some(a), None) => out.push(Change::DropPolicy(a.clone())),
            (None, Some(b)) => out.push(Change::CreatePolicy(b.clone())),
            (Some(a), Some(b)) => {
                if a.command != b.command || a.permissive != b.permissive {
                    out.push(Change::DropPolicy(a.clone()));
                    out.push(Change::CreatePolicy(b.clone()));
                    continue;
                }
                if (&a.roles, &a.using, &a.with_check) != (&b.roles, &b.using, &b.with_check) {
                    out.push(Change::AlterPolicy {
                        from: a.clone(),
                        to: b.clone(),
                    });
                }
                comment(
                    ObjectId::Policy(b.table.clone(), b.name.clone()),
                    &a.comment,
                    &b.comment,
                    out,
                );
            }
            (None, None) => {}
        }
    }
}

/// Without an entry, objects get the built-in privileges: `PUBLIC` may
/// execute functions and use types (database-wide entries replace that;
/// entries for one schema only add to it).
fn builtin(d: &DefaultPrivileges) -> DefaultPrivileges {
    let public = |privilege: &str| crate::catalog::Grant {
        grantee: "PUBLIC".into(),
        privilege: privilege.into(),
        grantable: false,
    };
    let grants = match (d.schema.is_empty(), d.object_type.as_str()) {
        (true, "FUNCTIONS") => [public("EXECUTE")].into(),
        (true, "TYPES") => [public("USAGE")].into(),
        _ => Default::default(),
    };
    DefaultPrivileges { grants, ..d.clone() }
}

pub fn default_privileges(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.default_privileges, &desired.default_privileges) {
        let empty = builtin;
        let (from, to) = match pair {
            (Some(a), None) => (a.clone(), empty(a)),
            (None, Some(b)) => (empty(b), b.clone()),
            (Some(a), Some(b)) => (a.clone(), b.clone()),
            (None, None) => continue,
        };
        if from.grants != to.grants {
            out.push(Change::SetDefaultPrivileges { from, to });
        }
    }
}
