//! The `access-change` hazard: roles losing access they have now.
//!
//! Only what is taken away counts: a grant added, or row-level security
//! turned off, gives access and has no hazard. A grant whose only change is
//! its grant option is not a revocation of the privilege.

use super::{Hazard, HazardKind};
use crate::diff::Change;

/// Access that roles have now and lose: revoked privileges, row-level
/// security turned on or forced on a table.
pub(super) fn judge(change: &Change) -> Vec<Hazard> {
    match change {
        Change::SetPrivileges { object, from, to, .. } => {
            let kept =
                |g: &crate::catalog::Grant| to.iter().any(|t| t.grantee == g.grantee && t.privilege == g.privilege);
            let mut lost: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
            let owner = crate::catalog::REVOKED_FROM_OWNER;
            for g in from.iter().filter(|g| g.grantee != owner && !kept(g)) {
                lost.entry(g.grantee.as_str()).or_default().push(g.privilege.as_str());
            }
            // What the owner lacks is listed: it loses what `to` lists anew.
            let lacked =
                |g: &crate::catalog::Grant| from.iter().any(|f| f.grantee == owner && f.privilege == g.privilege);
            for g in to.iter().filter(|g| g.grantee == owner && !lacked(g)) {
                lost.entry("its owner").or_default().push(g.privilege.as_str());
            }
            lost.into_iter()
                .map(|(grantee, privileges)| {
                    Hazard::new(
                        HazardKind::AccessChange,
                        format!(
                            "revokes {} on {object} from {grantee}: its statements that need {} fail",
                            privileges.join(", "),
                            if privileges.len() == 1 { "it" } else { "them" }
                        ),
                    )
                })
                .collect()
        }
        Change::SetRowSecurity { table, from, to } => {
            let mut out = Vec::new();
            if to.0 && !from.0 {
                out.push(Hazard::new(
                    HazardKind::AccessChange,
                    format!(
                        "enables row-level security on {table}: roles other than its owner see and change only the rows its policies allow"
                    ),
                ));
            }
            if to.1 && !from.1 {
                out.push(Hazard::new(
                    HazardKind::AccessChange,
                    format!("forces row-level security on {table}: its owner too is held to its policies"),
                ));
            }
            out
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoking_and_enabling_row_security_are_access_changes() {
        let grant = |grantee: &str, privilege: &str| crate::catalog::Grant {
            grantee: grantee.into(),
            privilege: privilege.into(),
            grantable: false,
        };
        let table = crate::catalog::QualifiedName::new("public", "t");
        let change = Change::SetPrivileges {
            object: crate::catalog::ObjectId::Table(table.clone()),
            keyword: "TABLE".into(),
            from: [grant("app", "SELECT"), grant("app", "INSERT"), grant("bi", "SELECT")].into(),
            to: [grant("app", "SELECT"), grant("bi", "SELECT"), grant("ops", "DELETE")].into(),
        };
        let hazards = judge(&change);
        assert_eq!(hazards.len(), 1, "granting more is no hazard: {hazards:?}");
        assert_eq!(
            hazards[0].message,
            "revokes INSERT on table public.t from app: its statements that need it fail"
        );
        let rls = Change::SetRowSecurity {
            table,
            from: (false, false),
            to: (true, false),
        };
        assert_eq!(judge(&rls)[0].kind, HazardKind::AccessChange);
        assert!(judge(&rls.reverse()).is_empty(), "disabling it takes nothing away");
    }
}
