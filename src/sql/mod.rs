//! The SQL each change becomes.
//!
//! One function renders a `Change` in the forward direction; the rollback of a
//! change is the rendering of `change.reverse()`, so forward and rollback SQL
//! come from the same code. Every identifier is quoted by `ident`. Statements
//! are returned without the trailing semicolon.

mod aggregates;
mod ident;
mod objects;
mod partitioned;
mod privileges;
mod relations;
mod sequences;
mod session;
mod tables;
mod types;

pub use ident::{column_ref, ident, literal, qualified};
pub use privileges::{default_acl, owner_grant_in_desired_files};
pub use session::{Setting, batch as settings_batch, step_settings};

use crate::catalog::{Acl, ObjectId};
use crate::diff::Change;

/// Where the SQL of objects defined in the desired files can be found (see
/// `source::SourceMap::source_sql`).
pub type SourceSql<'a> = &'a dyn Fn(&ObjectId) -> Option<String>;

/// What rendering may know beyond the change itself.
pub struct Context<'a> {
    /// The creating SQL of checks, exclusions, indexes, views, triggers and
    /// policies as the desired files wrote them (PostgreSQL does not always
    /// read its printed definitions back to the same expression).
    pub source: SourceSql<'a>,
    /// The privileges an object has right after its CREATE, given its GRANT
    /// keyword: the built-in defaults, or what default privileges give it.
    pub initial_acl: &'a dyn Fn(&ObjectId, &str) -> Acl,
}

fn no_source(_: &ObjectId) -> Option<String> {
    None
}

fn builtin_acl(_: &ObjectId, keyword: &str) -> Acl {
    privileges::default_acl(keyword)
}

impl Context<'static> {
    /// No desired files, no default privileges.
    pub fn plain() -> Context<'static> {
        Context {
            source: &no_source,
            initial_acl: &builtin_acl,
        }
    }
}

/// The statements that carry out `change`.
pub fn render(change: &Change, ctx: &Context<'_>) -> Vec<String> {
    use Change::*;
    let source = ctx.source;
    let initial = |keyword: &str| (ctx.initial_acl)(&change.object(), keyword);
    match change {
        AddConstraint { table, constraint } if constraint.on_partitioned_table => {
            let mut out = partitioned::add_key_constraint(table, constraint);
            tables::push_constraint_comments(&mut out, table, constraint);
            out
        }
        AddConstraint { table, constraint } => {
            match source(&ObjectId::Constraint(table.clone(), constraint.name.clone())) {
                Some(sql) => tables::add_constraint_as(table, constraint, sql),
                None => tables::add_constraint(table, constraint),
            }
        }
        CreateIndex(i) if partitioned::is_partitioned(i) => {
            let mut out = partitioned::create(i);
            objects::push_index_comment(&mut out, i);
            out
        }
        CreateIndex(i) => match source(&ObjectId::Index(i.name.clone())) {
            Some(sql) => objects::create_index_as(i, sql),
            None => objects::create_index(i),
        },
        CreateSchema(s) => objects::create_schema(s, &initial("SCHEMA")),
        CreateEnum(e) => objects::create_enum(e, &initial("TYPE")),
        AlterEnum {
            from,
            to,
            uses,
            recreate,
            domains,
            composites,
            ..
        } => objects::alter_enum(from, to, uses, *recreate, domains, composites, &initial("TYPE")),
        CreateSequence(s) => sequences::create(s, &initial("SEQUENCE")),
        CreateTable(t) => tables::create_with(t, source, &initial("TABLE")),
        CreateView(v) => relations::create_view(v, source(&v.id()), &initial("TABLE")),
        ReplaceView { from, to } => relations::replace_view(from, to, source(&to.id()), &initial("TABLE")),
        CreateFunction(f) => relations::create_function(f, &initial("ROUTINE")),
        CreateAggregate(a) => aggregates::create(a, &initial(crate::diff::AGGREGATE_GRANT_KEYWORD)),
        CreateTrigger(t) => relations::create_trigger(t, source(&change.object())),
        CreatePolicy(p) => relations::create_policy(p, source(&change.object())),
        AlterPolicy { from, to } => relations::alter_policy(from, to, source(&change.object())),
        CreateDomain(d) => types::create_domain(d, &initial("DOMAIN")),
        RecreateDomain { to, uses, .. } => types::recreate_domain(to, uses, &initial("DOMAIN")),
        CreateCompositeType(t) => types::create_composite(t, &initial("TYPE")),
        RecreateCompositeType { to, uses, .. } => types::recreate_composite(to, uses, &initial("TYPE")),
        CreateRangeType(r) => types::create_range(r, &initial("TYPE")),
        _ => statements_of(change),
    }
}

/// The statements that carry out `change`, from the catalog alone.
pub fn statements(change: &Change) -> Vec<String> {
    render(change, &Context::plain())
}

/// The changes whose SQL needs no context.
fn statements_of(change: &Change) -> Vec<String> {
    use Change::*;
    match change {
        DropSchema(s) => vec![format!("DROP SCHEMA {}", ident(&s.name))],
        CreateExtension(e) => objects::create_extension(e),
        DropExtension(e) => vec![format!("DROP EXTENSION {}", ident(&e.name))],
        AlterExtension { from, to } => objects::alter_extension(from, to),
        DropEnum(e) => vec![format!("DROP TYPE {}", qualified(&e.name))],
        DropSequence(s) => vec![format!("DROP SEQUENCE {}", qualified(&s.name))],
        AlterSequence { from, to } => sequences::alter(from, to),
        SetSequenceOwner { sequence, to, .. } => vec![format!(
            "ALTER SEQUENCE {} OWNED BY {}",
            qualified(sequence),
            to.as_ref().map(column_ref).unwrap_or_else(|| "NONE".into())
        )],
        // A partition is detached first: PostgreSQL refuses to drop a
        // partition that a foreign key references through its parent.
        DropTable(t) => {
            let drop = format!("DROP TABLE {}", qualified(&t.name));
            match &t.partition_of {
                Some(p) => vec![
                    format!(
                        "ALTER TABLE {} DETACH PARTITION {}",
                        qualified(&p.parent),
                        qualified(&t.name)
                    ),
                    drop,
                ],
                None => vec![drop],
            }
        }
        SetLogged { table, unlogged } => vec![format!(
            "ALTER TABLE {} SET {}",
            qualified(table),
            if *unlogged { "UNLOGGED" } else { "LOGGED" }
        )],
        AddColumn { table, column } => tables::add_column(table, column),
        DropColumn { table, column } => {
            vec![format!(
                "ALTER TABLE {} DROP COLUMN {}",
                qualified(table),
                ident(&column.name)
            )]
        }
        AlterColumn { table, from, to } => tables::alter_column(table, from, to),
        AddIdentity { table, column } => tables::add_identity(table, column),
        DropIdentity { table, column } => vec![format!(
            "ALTER TABLE {} ALTER COLUMN {} DROP IDENTITY",
            qualified(table),
            ident(&column.name)
        )],
        DropConstraint { table, constraint } => vec![format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            qualified(table),
            ident(&constraint.name)
        )],
        AlterConstraint { table, from, to } => tables::alter_constraint(table, from, to),
        DropIndex(i) if partitioned::is_partitioned(i) => partitioned::drop(i),
        DropIndex(i) => vec![format!("DROP INDEX {}", qualified(&i.name))],
        SetComment { object, to, .. } => vec![objects::comment(object, to.as_deref())],
        SetRelationOptions { object, from, to } => relations::set_options(object, from, to),
        SetReplicaIdentity {
            table, to, to_index, ..
        } => relations::replica_identity(table, to, to_index.as_deref()),
        SetRowSecurity { table, from, to } => relations::row_security(table, *from, *to),
        AttachPartition { table, partition } => vec![format!(
            "ALTER TABLE {} ATTACH PARTITION {} {}",
            qualified(&partition.parent),
            qualified(table),
            partition.bound
        )],
        DetachPartition { table, partition } => vec![format!(
            "ALTER TABLE {} DETACH PARTITION {}",
            qualified(&partition.parent),
            qualified(table)
        )],
        Inherit { table, parent } => vec![format!(
            "ALTER TABLE {} INHERIT {}",
            qualified(table),
            qualified(parent)
        )],
        NoInherit { table, parent } => vec![format!(
            "ALTER TABLE {} NO INHERIT {}",
            qualified(table),
            qualified(parent)
        )],
        DropView(v) => relations::drop_view(v),
        SetPopulated { view, populated } => relations::set_populated(view, *populated),
        DropFunction(f) => relations::drop_function(f),
        ReplaceFunction { to, .. } => vec![to.definition.trim_end().to_string()],
        DropAggregate(a) => aggregates::drop(a),
        ReplaceAggregate { to, .. } => aggregates::replace(to),
        DropTrigger(t) => relations::drop_trigger(t),
        SetTriggerEnabled { trigger, to, .. } => vec![relations::trigger_enabled(trigger, to)],
        DropPolicy(p) => relations::drop_policy(p),
        DropDomain(d) => vec![format!("DROP DOMAIN {}", qualified(&d.name))],
        AlterDomain { from, to } => types::alter_domain(from, to),
        DropCompositeType(t) => vec![format!("DROP TYPE {}", qualified(&t.name))],
        AlterCompositeType { from, to } => types::alter_composite(from, to),
        DropRangeType(r) => vec![format!("DROP TYPE {}", qualified(&r.name))],
        CreateCollation(c) => types::create_collation(c),
        DropCollation(c) => vec![format!("DROP COLLATION {}", qualified(&c.name))],
        RecreateCollation { to, uses, .. } => types::recreate_collation(to, uses),
        SetPrivileges {
            object,
            keyword,
            from,
            to,
        } => privileges::grants(object, keyword, from, to),
        SetOwner {
            object, keyword, to, ..
        } => vec![privileges::owner(object, keyword, to)],
        SetDefaultPrivileges { from, to } => privileges::default_privileges(from, to),
        // Rendered by `render` with its context.
        AddConstraint { .. }
        | CreateIndex(_)
        | CreateSchema(_)
        | CreateEnum(_)
        | AlterEnum { .. }
        | CreateSequence(_)
        | CreateTable(_)
        | CreateView(_)
        | ReplaceView { .. }
        | CreateFunction(_)
        | CreateAggregate(_)
        | CreateTrigger(_)
        | CreatePolicy(_)
        | AlterPolicy { .. }
        | CreateDomain(_)
        | RecreateDomain { .. }
        | CreateCompositeType(_)
        | RecreateCompositeType { .. }
        | CreateRangeType(_) => render(change, &Context::plain()),
    }
}
