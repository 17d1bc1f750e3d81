//! SQL for privileges and owners: GRANT, REVOKE, ALTER DEFAULT PRIVILEGES,
//! ALTER ... OWNER TO.

use super::ident::{ident, literal, qualified};
use crate::catalog::{Acl, CURRENT_ROLE, DefaultPrivileges, Grant, ObjectId, REVOKED_FROM_OWNER};
use std::collections::BTreeMap;

/// The ACL an object of this GRANT keyword has when it is created (before
/// any default privileges), owner's own rights left out as in the catalog.
pub fn default_acl(keyword: &str) -> Acl {
    let public = |privilege: &str| Grant {
        grantee: "PUBLIC".into(),
        privilege: privilege.into(),
        grantable: false,
    };
    match keyword {
        "ROUTINE" | "FUNCTION" | "PROCEDURE" => [public("EXECUTE")].into(),
        "TYPE" | "DOMAIN" => [public("USAGE")].into(),
        _ => Acl::new(),
    }
}

/// The target of GRANT / REVOKE: `TABLE public.t`, `SELECT (col)` style
/// column lists are added by the caller.
fn target(object: &ObjectId, keyword: &str) -> (String, Option<String>) {
    match object {
        ObjectId::Column(table, column) => (format!("TABLE {}", qualified(table)), Some(ident(column))),
        ObjectId::Schema(s) => (format!("SCHEMA {}", ident(s)), None),
        ObjectId::Function(q, args) => (format!("ROUTINE {}({args})", qualified(q)), None),
        ObjectId::Aggregate(q, args) => (
            format!(
                "FUNCTION {}({})",
                qualified(q),
                super::aggregates::function_arguments(args)
            ),
            None,
        ),
        other => {
            let name = match other {
                ObjectId::Type(q)
                | ObjectId::Sequence(q)
                | ObjectId::Table(q)
                | ObjectId::View(q)
                | ObjectId::MaterializedView(q) => qualified(q),
                _ => other.name(),
            };
            (format!("{keyword} {name}"), None)
        }
    }
}

fn grantee(name: &str) -> String {
    if name == "PUBLIC" {
        name.to_string()
    } else {
        ident(name)
    }
}

/// GRANT and REVOKE statements that take `from` to `to` on `object`.
pub fn grants(object: &ObjectId, keyword: &str, from: &Acl, to: &Acl) -> Vec<String> {
    let (owned_from, from) = split_owner(from);
    let (owned_to, to) = split_owner(to);
    let mut out = others_grants(object, keyword, &from, &to);
    out.extend(owner_grants(object, keyword, &owned_from, &owned_to));
    out
}

/// The privileges the owner lacks, and the other grants.
fn split_owner(acl: &Acl) -> (Vec<String>, Acl) {
    let (owner, others): (Acl, Acl) = acl.iter().cloned().partition(|g| g.grantee == REVOKED_FROM_OWNER);
    (owner.into_iter().map(|g| g.privilege).collect(), others)
}

/// Statements that give the owner back what it lacks in `from` and take
/// from it what it lacks in `to`. The owner is looked up when the statement
/// runs (a DO block), so the plan does not depend on who owns the object.
fn owner_grants(object: &ObjectId, keyword: &str, from: &[String], to: &[String]) -> Vec<String> {
    let (on, _) = target(object, keyword);
    let (catalog, column, cast) = match object {
        ObjectId::Schema(_) => ("pg_namespace", "nspowner", "regnamespace"),
        ObjectId::Type(_) => ("pg_type", "typowner", "regtype"),
        _ => ("pg_class", "relowner", "regclass"),
    };
    let name = match object {
        ObjectId::Schema(s) => ident(s),
        ObjectId::Type(q)
        | ObjectId::Sequence(q)
        | ObjectId::Table(q)
        | ObjectId::View(q)
        | ObjectId::MaterializedView(q) => qualified(q),
        other => other.name(),
    };
    let statement = |verb: &str, privileges: Vec<&String>, preposition: &str| {
        let list = privileges.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ");
        let text = format!("{verb} {list} ON {} {preposition} %I", on.replace('%', "%%"));
        format!(
            "{OWNER_GRANT_START}{}, (SELECT pg_catalog.pg_get_userbyid({column}) \
             FROM pg_catalog.{catalog} WHERE oid = {}::pg_catalog.{cast})); END $converge$",
            literal(&text),
            literal(&name)
        )
    };
    let mut out = Vec::new();
    let regained: Vec<&String> = from.iter().filter(|p| !to.contains(p)).collect();
    let lost: Vec<&String> = to.iter().filter(|p| !from.contains(p)).collect();
    if !lost.is_empty() {
        out.push(statement("REVOKE", lost, "FROM"));
    }
    if !regained.is_empty() {
        out.push(statement("GRANT", regained, "TO"));
    }
    out
}

/// How every statement of `owner_grants` begins.
const OWNER_GRANT_START: &str = "DO $converge$ BEGIN EXECUTE pg_catalog.format(";

/// A statement of `owner_grants` as desired files write it (`REVOKE DELETE
/// ON TABLE t FROM CURRENT_USER`: the files are loaded by the role that owns
/// what they create); any other statement as it is. For `converge dump`.
pub fn owner_grant_in_desired_files(statement: &str) -> String {
    let Some(rest) = statement.strip_prefix(OWNER_GRANT_START) else {
        return statement.to_string();
    };
    // The format string is the first literal: '...' with '' for a quote.
    let mut text = String::new();
    let mut chars = rest.strip_prefix('\'').unwrap_or(rest).chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
            } else {
                break;
            }
        }
        text.push(c);
    }
    text.replace("%I", "CURRENT_USER").replace("%%", "%")
}

/// GRANT and REVOKE statements for every grantee but the owner.
fn others_grants(object: &ObjectId, keyword: &str, from: &Acl, to: &Acl) -> Vec<String> {
    let (on, column) = target(object, keyword);
    let privilege = |p: &str| match &column {
        Some(c) => format!("{p} ({c})"),
        None => p.to_string(),
    };
    render(from, to, |action, privileges, who| match action {
        Action::Grant => format!(
            "GRANT {} ON {on} TO {}",
            privileges.iter().map(|p| privilege(p)).collect::<Vec<_>>().join(", "),
            grantee(who)
        ),
        Action::GrantWithOption => format!(
            "GRANT {} ON {on} TO {} WITH GRANT OPTION",
            privileges.iter().map(|p| privilege(p)).collect::<Vec<_>>().join(", "),
            grantee(who)
        ),
        Action::Revoke => format!(
            "REVOKE {} ON {on} FROM {}",
            privileges.iter().map(|p| privilege(p)).collect::<Vec<_>>().join(", "),
            grantee(who)
        ),
        Action::RevokeOption => format!(
            "REVOKE GRANT OPTION FOR {} ON {on} FROM {}",
            privileges.iter().map(|p| privilege(p)).collect::<Vec<_>>().join(", "),
            grantee(who)
        ),
    })
}

/// ALTER DEFAULT PRIVILEGES statements that take `from` to `to`.
pub fn default_privileges(from: &DefaultPrivileges, to: &DefaultPrivileges) -> Vec<String> {
    let mut prefix = String::from("ALTER DEFAULT PRIVILEGES");
    if to.role != CURRENT_ROLE {
        prefix.push_str(&format!(" FOR ROLE {}", ident(&to.role)));
    }
    if !to.schema.is_empty() {
        prefix.push_str(&format!(" IN SCHEMA {}", ident(&to.schema)));
    }
    let kind = &to.object_type;
    render(&from.grants, &to.grants, |action, privileges, who| {
        let list = privileges.join(", ");
        match action {
            Action::Grant => format!("{prefix} GRANT {list} ON {kind} TO {}", grantee(who)),
            Action::GrantWithOption => format!("{prefix} GRANT {list} ON {kind} TO {} WITH GRANT OPTION", grantee(who)),
            Action::Revoke => format!("{prefix} REVOKE {list} ON {kind} FROM {}", grantee(who)),
            Action::RevokeOption => format!(
                "{prefix} REVOKE GRANT OPTION FOR {list} ON {kind} FROM {}",
                grantee(who)
            ),
        }
    })
}

pub fn owner(object: &ObjectId, keyword: &str, to: &str) -> String {
    let name = match object {
        ObjectId::Schema(s) => ident(s),
        ObjectId::Function(q, args) => format!("{}({args})", qualified(q)),
        ObjectId::Aggregate(q, args) => super::aggregates::signature(q, args),
        ObjectId::Type(q)
        | ObjectId::Sequence(q)
        | ObjectId::Table(q)
        | ObjectId::View(q)
        | ObjectId::MaterializedView(q)
        | ObjectId::Collation(q) => qualified(q),
        other => other.name(),
    };
    format!("ALTER {keyword} {name} OWNER TO {}", ident(to))
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Revoke,
    RevokeOption,
    Grant,
    GrantWithOption,
}

/// Compares per (grantee, privilege) and renders one statement per
/// (action, grantee), revokes first, privileges in a fixed order.
fn render(from: &Acl, to: &Acl, statement: impl Fn(Action, &[String], &str) -> String) -> Vec<String> {
    let state = |acl: &Acl| -> BTreeMap<(String, String), bool> {
        acl.iter()
            .map(|g| ((g.grantee.clone(), g.privilege.clone()), g.grantable))
            .collect()
    };
    let (before, after) = (state(from), state(to));
    let mut actions: BTreeMap<(Action, String), Vec<String>> = BTreeMap::new();
    let keys: std::collections::BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
    for key in keys {
        let (who, privilege) = key;
        let action = match (before.get(key), after.get(key)) {
            (None, Some(false)) => Action::Grant,
            (None, Some(true)) | (Some(false), Some(true)) => Action::GrantWithOption,
            (Some(_), None) => Action::Revoke,
            (Some(true), Some(false)) => Action::RevokeOption,
            _ => continue,
        };
        actions
            .entry((action, who.clone()))
            .or_default()
            .push(privilege.clone());
    }
    actions
        .into_iter()
        .map(|((action, who), privileges)| statement(action, &privileges, &who))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;

    fn g(who: &str, p: &str, grantable: bool) -> Grant {
        Grant {
            grantee: who.into(),
            privilege: p.into(),
            grantable,
        }
    }

    #[test]
    fn grants_and_revokes_are_grouped_per_grantee() {
        let t = ObjectId::Table(QualifiedName::new("app", "orders"));
        let from: Acl = [
            g("reader", "SELECT", false),
            g("old", "UPDATE", false),
            g("admin", "DELETE", true),
        ]
        .into();
        let to: Acl = [
            g("reader", "SELECT", false),
            g("reader", "INSERT", false),
            g("admin", "DELETE", false),
        ]
        .into();
        assert_eq!(
            grants(&t, "TABLE", &from, &to),
            vec![
                "REVOKE UPDATE ON TABLE app.orders FROM old",
                "REVOKE GRANT OPTION FOR DELETE ON TABLE app.orders FROM admin",
                "GRANT INSERT ON TABLE app.orders TO reader",
            ]
        );
    }

    #[test]
    fn the_owners_own_privileges_are_given_back_by_looking_the_owner_up() {
        let t = ObjectId::Table(QualifiedName::new("app", "orders"));
        let from: Acl = [g(REVOKED_FROM_OWNER, "DELETE", false), g("reader", "SELECT", false)].into();
        let to: Acl = [g(REVOKED_FROM_OWNER, "TRUNCATE", false), g("reader", "SELECT", false)].into();
        assert_eq!(
            grants(&t, "TABLE", &from, &to),
            vec![
                "DO $converge$ BEGIN EXECUTE pg_catalog.format('REVOKE TRUNCATE ON TABLE app.orders FROM %I', \
                 (SELECT pg_catalog.pg_get_userbyid(relowner) FROM pg_catalog.pg_class \
                 WHERE oid = 'app.orders'::pg_catalog.regclass)); END $converge$",
                "DO $converge$ BEGIN EXECUTE pg_catalog.format('GRANT DELETE ON TABLE app.orders TO %I', \
                 (SELECT pg_catalog.pg_get_userbyid(relowner) FROM pg_catalog.pg_class \
                 WHERE oid = 'app.orders'::pg_catalog.regclass)); END $converge$",
            ]
        );
    }

    #[test]
    fn dump_writes_the_owners_own_privileges_as_current_user() {
        let t = ObjectId::Table(QualifiedName::new("app", "it's"));
        let from: Acl = [g(REVOKED_FROM_OWNER, "DELETE", false)].into();
        let written: Vec<String> = grants(&t, "TABLE", &from, &Acl::new())
            .iter()
            .map(|s| owner_grant_in_desired_files(s))
            .collect();
        assert_eq!(written, vec![r#"GRANT DELETE ON TABLE app."it's" TO CURRENT_USER"#]);
        assert_eq!(
            owner_grant_in_desired_files("GRANT SELECT ON t TO PUBLIC"),
            "GRANT SELECT ON t TO PUBLIC"
        );
    }

    #[test]
    fn column_privileges_name_the_column() {
        let c = ObjectId::Column(QualifiedName::new("app", "orders"), "total".into());
        let to: Acl = [g("PUBLIC", "SELECT", false)].into();
        assert_eq!(
            grants(&c, "TABLE", &Acl::new(), &to),
            vec!["GRANT SELECT (total) ON TABLE app.orders TO PUBLIC"]
        );
    }
}
