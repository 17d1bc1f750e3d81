//! SQL for schemas, extensions, enum types, indexes and comments.

use super::ident::{ident, literal, qualified};
use crate::catalog::*;
use crate::diff::TypeUse;

pub fn create_schema(s: &Schema, initial: &Acl) -> Vec<String> {
    let id = ObjectId::Schema(s.name.clone());
    let mut out = vec![format!("CREATE SCHEMA {}", ident(&s.name))];
    push_comment(&mut out, &id, s.comment.as_deref());
    if !s.owner.is_empty() {
        out.push(super::privileges::owner(&id, "SCHEMA", &s.owner));
    }
    out.extend(super::privileges::grants(&id, "SCHEMA", initial, &s.acl));
    out
}

pub fn create_extension(e: &Extension) -> Vec<String> {
    let mut out = vec![format!(
        "CREATE EXTENSION {} WITH SCHEMA {} VERSION {}",
        ident(&e.name),
        ident(&e.schema),
        literal(&e.version)
    )];
    // Every extension comes with a comment; setting it again is harmless and
    // keeps a changed one.
    push_comment(&mut out, &ObjectId::Extension(e.name.clone()), e.comment.as_deref());
    out
}

/// Upgrades in place; extensions ship no downgrade scripts, so going back to
/// an older version drops and creates the extension (PostgreSQL refuses if
/// other objects still use it).
pub fn alter_extension(from: &Extension, to: &Extension) -> Vec<String> {
    if version_key(&to.version) < version_key(&from.version) {
        let mut out = vec![format!("DROP EXTENSION {}", ident(&from.name))];
        out.extend(create_extension(to));
        return out;
    }
    let mut out = Vec::new();
    if from.schema != to.schema {
        out.push(format!(
            "ALTER EXTENSION {} SET SCHEMA {}",
            ident(&to.name),
            ident(&to.schema)
        ));
    }
    if from.version != to.version {
        out.push(format!(
            "ALTER EXTENSION {} UPDATE TO {}",
            ident(&to.name),
            literal(&to.version)
        ));
    }
    out
}

/// `1.10` sorts after `1.9`: versions compare by their numeric parts.
fn version_key(version: &str) -> Vec<u64> {
    version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect()
}

pub fn create_enum(e: &EnumType, initial: &Acl) -> Vec<String> {
    let labels: Vec<String> = e.labels.iter().map(|l| literal(l)).collect();
    let mut out = vec![format!(
        "CREATE TYPE {} AS ENUM ({})",
        qualified(&e.name),
        labels.join(", ")
    )];
    let id = ObjectId::Type(e.name.clone());
    push_comment(&mut out, &id, e.comment.as_deref());
    if !e.owner.is_empty() {
        out.push(super::privileges::owner(&id, "TYPE", &e.owner));
    }
    out.extend(super::privileges::grants(&id, "TYPE", initial, &e.acl));
    out
}

/// New labels are added where they belong (the first new labels go before
/// the first old one); otherwise the type is recreated under its name and
/// every column that uses it is recast through text.
pub fn alter_enum(
    from: &EnumType,
    to: &EnumType,
    uses: &[TypeUse],
    recreate: bool,
    domains: &[crate::diff::DomainRecast],
    composites: &[crate::diff::CompositeRecast],
    initial: &Acl,
) -> Vec<String> {
    let name = qualified(&to.name);
    if let Some(renames) = crate::diff::label_renames(&from.labels, &to.labels) {
        return renames
            .iter()
            .map(|(a, b)| format!("ALTER TYPE {name} RENAME VALUE {} TO {}", literal(a), literal(b)))
            .collect();
    }
    if !recreate {
        let mut out = Vec::new();
        for (i, label) in to.labels.iter().enumerate() {
            if from.labels.contains(label) {
                continue;
            }
            let first_old = to.labels.iter().find(|l| from.labels.contains(l));
            let position = match (i.checked_sub(1).map(|p| &to.labels[p]), first_old) {
                (Some(prev), _) => format!(" AFTER {}", literal(prev)),
                (None, Some(next)) => format!(" BEFORE {}", literal(next)),
                (None, None) => String::new(),
            };
            out.push(format!("ALTER TYPE {name} ADD VALUE {}{position}", literal(label)));
        }
        return out;
    }
    let old_name = renamed_aside(&to.name);
    let mut out = vec![format!("ALTER TYPE {name} RENAME TO {}", ident(&old_name.name))];
    let labels: Vec<String> = to.labels.iter().map(|l| literal(l)).collect();
    out.push(format!("CREATE TYPE {name} AS ENUM ({})", labels.join(", ")));
    // Domains over the old type move to the new one first: the old type can
    // only go once nothing uses it.
    for d in domains {
        out.extend(super::types::recreate_domain(
            &d.to,
            &d.uses,
            &super::privileges::default_acl("DOMAIN"),
        ));
    }
    for c in composites {
        out.extend(super::types::recreate_composite(
            &c.to,
            &c.uses,
            &super::privileges::default_acl("TYPE"),
        ));
    }
    out.extend(recast(&name, uses));
    out.push(format!("DROP TYPE {}", qualified(&old_name)));
    // The new type starts without a comment, owner or privileges of its own.
    let id = ObjectId::Type(to.name.clone());
    push_comment(&mut out, &id, to.comment.as_deref());
    if !to.owner.is_empty() {
        out.push(super::privileges::owner(&id, "TYPE", &to.owner));
    }
    out.extend(super::privileges::grants(&id, "TYPE", initial, &to.acl));
    out
}

pub fn create_index(i: &Index) -> Vec<String> {
    create_index_as(i, i.definition.clone())
}

/// An index created by `sql` (the user's own statement), with its comment.
pub fn create_index_as(i: &Index, sql: String) -> Vec<String> {
    let mut out = vec![sql];
    push_index_comment(&mut out, i);
    out
}

/// `COMMENT ON INDEX`, when the index has a comment.
pub fn push_index_comment(out: &mut Vec<String>, i: &Index) {
    push_comment(out, &ObjectId::Index(i.name.clone()), i.comment.as_deref());
}

/// The temporary name a type is renamed to while its successor is created.
pub fn renamed_aside(name: &QualifiedName) -> QualifiedName {
    QualifiedName::new(
        name.schema.clone(),
        format!("{}__converge_old", truncate(&name.name, 48)),
    )
}

/// Recasts every column that used a recreated type to the new type (named
/// `type_name`) through its text form, keeping defaults.
pub fn recast(type_name: &str, uses: &[TypeUse]) -> Vec<String> {
    let mut out = Vec::new();
    for u in uses {
        let table = qualified(&u.table);
        let column = ident(&u.column);
        if u.attribute {
            // A composite type's attribute holds no data of its own.
            let target = if u.data_type.ends_with("[]") {
                format!("{type_name}[]")
            } else {
                type_name.to_string()
            };
            out.push(format!("ALTER TYPE {table} ALTER ATTRIBUTE {column} TYPE {target}"));
            continue;
        }
        if u.default_before.is_some() {
            out.push(format!("ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT"));
        }
        let (text, target) = if u.data_type.ends_with("[]") {
            ("text[]", format!("{type_name}[]"))
        } else {
            ("text", type_name.to_string())
        };
        out.push(format!(
            "ALTER TABLE {table} ALTER COLUMN {column} TYPE {target} USING {column}::{text}::{target}"
        ));
        if let Some(default) = &u.default_after {
            out.push(format!(
                "ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {default}"
            ));
        }
    }
    out
}

/// `COMMENT ON <object> IS ...` (or `IS NULL` to remove it).
pub fn comment(object: &ObjectId, text: Option<&str>) -> String {
    let target = match object {
        ObjectId::Schema(s) => format!("SCHEMA {}", ident(s)),
        ObjectId::Extension(e) => format!("EXTENSION {}", ident(e)),
        ObjectId::Type(q) => format!("TYPE {}", qualified(q)),
        ObjectId::Sequence(q) | ObjectId::SequenceOwner(q) => format!("SEQUENCE {}", qualified(q)),
        ObjectId::Table(q) => format!("TABLE {}", qualified(q)),
        ObjectId::Column(t, c) => format!("COLUMN {}.{}", qualified(t), ident(c)),
        ObjectId::Constraint(t, c) => format!("CONSTRAINT {} ON {}", ident(c), qualified(t)),
        ObjectId::Index(q) => format!("INDEX {}", qualified(q)),
        ObjectId::View(q) => format!("VIEW {}", qualified(q)),
        ObjectId::MaterializedView(q) => format!("MATERIALIZED VIEW {}", qualified(q)),
        ObjectId::Function(q, args) => format!("ROUTINE {}({args})", qualified(q)),
        ObjectId::Aggregate(q, args) => format!("AGGREGATE {}", super::aggregates::signature(q, args)),
        ObjectId::Trigger(t, n) => format!("TRIGGER {} ON {}", ident(n), qualified(t)),
        ObjectId::Policy(t, n) => format!("POLICY {} ON {}", ident(n), qualified(t)),
        ObjectId::Collation(q) => format!("COLLATION {}", qualified(q)),
        ObjectId::DefaultPrivileges(..) => return String::new(),
    };
    let value = text.map(literal).unwrap_or_else(|| "NULL".into());
    format!("COMMENT ON {target} IS {value}")
}

/// Appends a `COMMENT ON` for a newly created object that has a comment.
pub fn push_comment(out: &mut Vec<String>, object: &ObjectId, text: Option<&str>) {
    if let Some(text) = text {
        out.push(comment(object, Some(text)));
    }
}

fn truncate(name: &str, max_bytes: usize) -> &str {
    let mut end = name.len().min(max_bytes);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}
