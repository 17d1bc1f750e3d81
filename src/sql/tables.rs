//! SQL for tables, columns and constraints.

use super::ident::{ident, qualified};
use super::objects::push_comment;
use super::sequences;
use crate::catalog::*;

/// The table, with the constraints that `source` has SQL for added by that
/// SQL right after it, and NOT VALID constraints added after it too
/// (PostgreSQL marks every constraint written inside CREATE TABLE valid).
pub fn create_with(t: &Table, source: super::SourceSql<'_>, initial: &Acl) -> Vec<String> {
    let added_after: Vec<(&Constraint, String)> = t
        .constraints
        .values()
        .filter(|c| !c.inherited)
        .filter_map(|c| {
            let id = ObjectId::Constraint(t.name.clone(), c.name.clone());
            match source(&id) {
                Some(sql) => Some((c, sql)),
                None if !c.validated => Some((
                    c,
                    format!(
                        "ALTER TABLE {} ADD CONSTRAINT {} {}",
                        qualified(&t.name),
                        ident(&c.name),
                        c.definition
                    ),
                )),
                None => None,
            }
        })
        .collect();
    // An inheritance child declares only its own columns (a column it also
    // inherits is merged with the parents'); the rest come from INHERITS.
    let declared: Vec<&Column> = t
        .columns
        .iter()
        .filter(|c| t.inherits.is_empty() || !c.inherited)
        .collect();
    let mut lines: Vec<String> = declared.iter().map(|c| column_definition(&t.name, c)).collect();
    // Keys first, then checks, then foreign keys: the order people write.
    let mut constraints: Vec<&Constraint> = t
        .constraints
        .values()
        .filter(|c| !c.inherited && !added_after.iter().any(|(s, _)| s.name == c.name))
        .collect();
    constraints.sort_by_key(|c| (c.kind, c.name.as_str()));
    lines.extend(
        constraints
            .iter()
            .map(|c| format!("CONSTRAINT {} {}", ident(&c.name), c.definition)),
    );
    let unlogged = if t.unlogged { "UNLOGGED " } else { "" };
    let mut sql = match &t.partition_of {
        // A partition takes its columns from its parent.
        Some(p) => {
            // Its own defaults and NOT NULL, then its own constraints.
            let mut local: Vec<String> = t
                .columns
                .iter()
                .filter(|c| c.default.is_some() || c.not_null)
                .map(|c| {
                    let mut d = format!("{} WITH OPTIONS", ident(&c.name));
                    if let Some(default) = &c.default {
                        d.push_str(&format!(" DEFAULT {default}"));
                    }
                    if c.not_null {
                        d.push_str(" NOT NULL");
                    }
                    d
                })
                .collect();
            local.extend(lines[declared.len()..].iter().cloned());
            let constraints = if local.is_empty() {
                String::new()
            } else {
                format!(" (\n    {}\n)", local.join(",\n    "))
            };
            format!(
                "CREATE {unlogged}TABLE {} PARTITION OF {}{constraints} {}",
                qualified(&t.name),
                qualified(&p.parent),
                p.bound
            )
        }
        None => {
            let body = if lines.is_empty() {
                String::from("()")
            } else {
                format!("(\n    {}\n)", lines.join(",\n    "))
            };
            let mut sql = format!("CREATE {unlogged}TABLE {} {body}", qualified(&t.name));
            if !t.inherits.is_empty() {
                let parents: Vec<String> = t.inherits.iter().map(qualified).collect();
                sql.push_str(&format!(" INHERITS ({})", parents.join(", ")));
            }
            sql
        }
    };
    if let Some(key) = &t.partition_key {
        sql.push_str(&format!(" PARTITION BY {key}"));
    }
    if !t.options.is_empty() {
        sql.push_str(&format!(" WITH ({})", t.options.join(", ")));
    }
    let mut out = vec![sql];
    for c in t.columns.iter().filter(|c| !c.inherited) {
        out.extend(column_settings(&t.name, None, c));
    }
    out.extend(super::relations::row_security(
        &t.name,
        (false, false),
        (t.row_security, t.force_row_security),
    ));
    if matches!(t.replica_identity.as_str(), "full" | "nothing") {
        out.extend(super::relations::replica_identity(&t.name, &t.replica_identity, None));
    }
    push_comment(&mut out, &ObjectId::Table(t.name.clone()), t.comment.as_deref());
    for c in &t.columns {
        push_comment(
            &mut out,
            &ObjectId::Column(t.name.clone(), c.name.clone()),
            c.comment.as_deref(),
        );
    }
    for c in constraints {
        push_constraint_comments(&mut out, &t.name, c);
    }
    for (c, sql) in added_after {
        out.extend(add_constraint_as(&t.name, c, sql));
    }
    let id = ObjectId::Table(t.name.clone());
    if !t.owner.is_empty() {
        out.push(super::privileges::owner(&id, "TABLE", &t.owner));
    }
    out.extend(super::privileges::grants(&id, "TABLE", initial, &t.acl));
    for c in &t.columns {
        let column = ObjectId::Column(t.name.clone(), c.name.clone());
        out.extend(super::privileges::grants(&column, "TABLE", &Acl::new(), &c.acl));
    }
    out
}

/// `SET STORAGE`, `SET STATISTICS` and attribute options of a column (which
/// CREATE TABLE cannot say in PostgreSQL 15), from `from` (or the defaults)
/// to `to`.
fn column_settings(table: &QualifiedName, from: Option<&Column>, to: &Column) -> Vec<String> {
    let alter = |action: String| {
        format!(
            "ALTER TABLE {} ALTER COLUMN {} {action}",
            qualified(table),
            ident(&to.name)
        )
    };
    let mut out = Vec::new();
    let storage = |c: &Column| c.storage.unwrap_or(c.type_storage);
    // A type change resets the storage to the new type's.
    let before = match from {
        Some(f) if f.data_type == to.data_type => storage(f),
        _ => to.type_storage,
    };
    if before != storage(to) {
        out.push(alter(format!("SET STORAGE {}", storage(to).keyword())));
    }
    if from.and_then(|c| c.statistics) != to.statistics {
        out.push(alter(format!("SET STATISTICS {}", to.statistics.unwrap_or(-1))));
    }
    let empty = Vec::new();
    let before_options = from.map(|f| &f.options).unwrap_or(&empty);
    let key = |o: &String| o.split('=').next().unwrap_or(o).to_string();
    let reset: Vec<String> = before_options
        .iter()
        .map(key)
        .filter(|k| !to.options.iter().any(|o| key(o) == *k))
        .collect();
    if !reset.is_empty() {
        out.push(alter(format!("RESET ({})", reset.join(", "))));
    }
    let set: Vec<String> = to
        .options
        .iter()
        .filter(|o| !before_options.contains(o))
        .cloned()
        .collect();
    if !set.is_empty() {
        out.push(alter(format!("SET ({})", set.join(", "))));
    }
    if let Some(from) = from
        && from.compression != to.compression
    {
        out.push(alter(format!(
            "SET COMPRESSION {}",
            to.compression.as_deref().unwrap_or("default")
        )));
    }
    out
}

pub(super) fn push_constraint_comments(out: &mut Vec<String>, table: &QualifiedName, c: &Constraint) {
    push_comment(
        out,
        &ObjectId::Constraint(table.clone(), c.name.clone()),
        c.comment.as_deref(),
    );
    push_comment(
        out,
        &ObjectId::Index(QualifiedName::new(table.schema.clone(), c.name.clone())),
        c.index_comment.as_deref(),
    );
}

/// `name type [COLLATE ..] [GENERATED ..] [DEFAULT ..] [NOT NULL]`.
pub fn column_definition(table: &QualifiedName, c: &Column) -> String {
    let mut d = format!("{} {}", ident(&c.name), c.data_type);
    if let Some(compression) = &c.compression {
        d.push_str(&format!(" COMPRESSION {compression}"));
    }
    if let Some(collation) = &c.collation {
        d.push_str(&format!(" COLLATE {collation}"));
    }
    if let Some(expr) = &c.generated {
        d.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"));
    }
    if let Some(identity) = &c.identity {
        d.push_str(&format!(" {}", identity_clause(table, c, identity)));
    }
    if let Some(default) = &c.default {
        d.push_str(&format!(" DEFAULT {default}"));
    }
    if c.not_null {
        d.push_str(" NOT NULL");
    }
    d
}

/// `GENERATED {ALWAYS|BY DEFAULT} AS IDENTITY [(options)]`.
fn identity_clause(table: &QualifiedName, c: &Column, identity: &Identity) -> String {
    let kind = match identity.kind {
        IdentityKind::Always => "ALWAYS",
        IdentityKind::ByDefault => "BY DEFAULT",
    };
    let mut options = Vec::new();
    if identity.sequence != default_identity_sequence(table, &c.name) {
        options.push(format!("SEQUENCE NAME {}", qualified(&identity.sequence)));
    }
    options.extend(sequences::options(&identity.options, Some(&c.data_type)));
    if options.is_empty() {
        format!("GENERATED {kind} AS IDENTITY")
    } else {
        format!("GENERATED {kind} AS IDENTITY ({})", options.join(" "))
    }
}

/// The name PostgreSQL gives an identity sequence when none is given (for
/// names short enough not to be truncated).
fn default_identity_sequence(table: &QualifiedName, column: &str) -> QualifiedName {
    QualifiedName::new(table.schema.clone(), format!("{}_{}_seq", table.name, column))
}

pub fn add_column(table: &QualifiedName, c: &Column) -> Vec<String> {
    let mut out = vec![format!(
        "ALTER TABLE {} ADD COLUMN {}",
        qualified(table),
        column_definition(table, c)
    )];
    out.extend(column_settings(table, None, c));
    out.extend(super::privileges::grants(
        &ObjectId::Column(table.clone(), c.name.clone()),
        "TABLE",
        &Acl::new(),
        &c.acl,
    ));
    push_comment(
        &mut out,
        &ObjectId::Column(table.clone(), c.name.clone()),
        c.comment.as_deref(),
    );
    out
}

/// `ADD GENERATED ... AS IDENTITY` on a column that is already NOT NULL.
pub fn add_identity(table: &QualifiedName, c: &Column) -> Vec<String> {
    match &c.identity {
        Some(identity) => vec![format!(
            "ALTER TABLE {} ALTER COLUMN {} ADD {}",
            qualified(table),
            ident(&c.name),
            identity_clause(table, c, identity)
        )],
        None => Vec::new(),
    }
}

/// Everything but the comment and the adding or dropping of identity of a
/// column that stays, in the order PostgreSQL accepts (a type change drops the
/// default it could not cast).
pub fn alter_column(table: &QualifiedName, from: &Column, to: &Column) -> Vec<String> {
    let t = qualified(table);
    let c = ident(&to.name);
    let alter = |action: String| format!("ALTER TABLE {t} ALTER COLUMN {c} {action}");
    let mut out = Vec::new();

    // PostgreSQL 15 cannot make a column generated or change its expression.
    if to.generated.is_some() && from.generated != to.generated {
        out.push(format!("ALTER TABLE {t} DROP COLUMN {c}"));
        out.extend(add_column(table, to));
        return out;
    }
    if from.generated.is_some() && to.generated.is_none() {
        out.push(alter("DROP EXPRESSION".into()));
    }
    let type_changes = from.data_type != to.data_type;
    let mut default_dropped = false;
    if type_changes || from.collation != to.collation {
        if type_changes && from.default.is_some() {
            out.push(alter("DROP DEFAULT".into()));
            default_dropped = true;
        }
        let mut action = format!("TYPE {}", to.data_type);
        if from.collation != to.collation {
            let collation = to.collation.as_deref().unwrap_or("pg_catalog.\"default\"");
            action.push_str(&format!(" COLLATE {collation}"));
        }
        if type_changes && base_type(&from.data_type) != base_type(&to.data_type) {
            // A user-defined type (enum, extension type) has no cast to
            // another: go through its text form.
            let to_text = matches!(to.data_type.as_str(), "text" | "text[]");
            let via = match (
                is_user_defined_type(&from.data_type) && !to_text,
                from.data_type.ends_with("[]"),
            ) {
                (true, true) => "::text[]",
                (true, false) => "::text",
                (false, _) => "",
            };
            action.push_str(&format!(" USING {c}{via}::{}", to.data_type));
        }
        out.push(alter(action));
    }
    match (&to.default, default_dropped) {
        (Some(d), true) => out.push(alter(format!("SET DEFAULT {d}"))),
        (Some(d), false) if from.default.as_ref() != Some(d) => out.push(alter(format!("SET DEFAULT {d}"))),
        (None, false) if from.default.is_some() => out.push(alter("DROP DEFAULT".into())),
        _ => {}
    }
    if to.not_null && !from.not_null {
        out.push(alter("SET NOT NULL".into()));
    }
    if let (Some(a), Some(b)) = (&from.identity, &to.identity) {
        // One subcommand for every identity change: PostgreSQL checks the
        // options together (START within MINVALUE..MAXVALUE) only at its end,
        // so moving a range in either direction never trips over itself.
        let mut actions = Vec::new();
        if a.kind != b.kind {
            actions.push(match b.kind {
                IdentityKind::Always => "SET GENERATED ALWAYS".to_string(),
                IdentityKind::ByDefault => "SET GENERATED BY DEFAULT".to_string(),
            });
        }
        // A type change already retyped the identity's sequence.
        let mut before = a.options.clone();
        if type_changes {
            before.data_type = b.options.data_type.clone();
        }
        for option in sequences::changed_options(&before, &b.options) {
            actions.push(format!("SET {option}"));
        }
        if !actions.is_empty() {
            out.push(alter(actions.join(" ")));
        }
        if a.sequence != b.sequence {
            out.push(format!(
                "ALTER SEQUENCE {} RENAME TO {}",
                qualified(&a.sequence),
                ident(&b.sequence.name)
            ));
        }
    }
    if !to.not_null && from.not_null {
        out.push(alter("DROP NOT NULL".into()));
    }
    out.extend(column_settings(table, Some(from), to));
    out
}

/// A type without its modifiers and array brackets: `character varying`.
fn base_type(data_type: &str) -> &str {
    let t = data_type.trim_end_matches("[]");
    match t.find('(') {
        Some(i) => t[..i].trim_end(),
        None => t,
    }
}

pub fn add_constraint(table: &QualifiedName, c: &Constraint) -> Vec<String> {
    add_constraint_as(
        table,
        c,
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            qualified(table),
            ident(&c.name),
            c.definition
        ),
    )
}

/// A constraint added by `sql` (the user's own statement), with its comments.
pub fn add_constraint_as(table: &QualifiedName, c: &Constraint, sql: String) -> Vec<String> {
    let mut out = vec![sql];
    push_constraint_comments(&mut out, table, c);
    out
}

/// In place where PostgreSQL can (validate, foreign key deferrability);
/// otherwise drop and add (un-validating a constraint, say, for a rollback).
pub fn alter_constraint(table: &QualifiedName, from: &Constraint, to: &Constraint) -> Vec<String> {
    let t = qualified(table);
    let name = ident(&to.name);
    if !crate::diff::alterable(from, to) {
        let mut out = vec![format!("ALTER TABLE {t} DROP CONSTRAINT {name}")];
        out.extend(add_constraint(table, to));
        return out;
    }
    let mut out = Vec::new();
    if (from.deferrable, from.initially_deferred) != (to.deferrable, to.initially_deferred) {
        let mode = match (to.deferrable, to.initially_deferred) {
            (false, _) => "NOT DEFERRABLE",
            (true, false) => "DEFERRABLE INITIALLY IMMEDIATE",
            (true, true) => "DEFERRABLE INITIALLY DEFERRED",
        };
        out.push(format!("ALTER TABLE {t} ALTER CONSTRAINT {name} {mode}"));
    }
    if to.validated && !from.validated {
        out.push(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {name}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, data_type: &str) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            not_null: false,
            default: None,
            identity: None,
            generated: None,
            collation: None,
            comment: None,
            ..Default::default()
        }
    }

    #[test]
    fn type_change_recasts_and_restores_the_default() {
        let t = QualifiedName::new("public", "t");
        let from = Column {
            default: Some("'0'::text".into()),
            ..col("n", "text")
        };
        let to = Column {
            default: Some("0".into()),
            not_null: true,
            ..col("n", "integer")
        };
        assert_eq!(
            alter_column(&t, &from, &to),
            vec![
                "ALTER TABLE public.t ALTER COLUMN n DROP DEFAULT",
                "ALTER TABLE public.t ALTER COLUMN n TYPE integer USING n::integer",
                "ALTER TABLE public.t ALTER COLUMN n SET DEFAULT 0",
                "ALTER TABLE public.t ALTER COLUMN n SET NOT NULL",
            ]
        );
    }

    #[test]
    fn widening_a_varchar_needs_no_using() {
        let t = QualifiedName::new("public", "t");
        let out = alter_column(
            &t,
            &col("s", "character varying(10)"),
            &col("s", "character varying(20)"),
        );
        assert_eq!(
            out,
            vec!["ALTER TABLE public.t ALTER COLUMN s TYPE character varying(20)"]
        );
    }

    #[test]
    fn identity_options_left_at_their_defaults_are_not_written() {
        let t = QualifiedName::new("public", "t");
        let identity = Identity {
            kind: IdentityKind::Always,
            sequence: QualifiedName::new("public", "t_id_seq"),
            options: SequenceOptions::defaults_for("integer", 1),
        };
        let to = Column {
            not_null: true,
            identity: Some(Box::new(identity)),
            ..col("id", "integer")
        };
        assert_eq!(
            add_identity(&t, &to),
            vec!["ALTER TABLE public.t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY"]
        );
    }
}
