//! Cost hazards: `table-rewrite` and `long-lock`.
//!
//! Each rule says what PostgreSQL does to an existing table for a change: the
//! lock it takes and whether it reads or rewrites every row. A change to a
//! table the plan creates, or to one known to be empty, costs nothing and has
//! no hazard. The rules follow PostgreSQL's own: a type change rewrites
//! unless it is a relabel or a typmod widening PostgreSQL recognizes
//! (`ATColumnChangeRequiresRewrite`), a new column rewrites when its default
//! is volatile or it is generated or an identity, SET LOGGED and SET UNLOGGED
//! always rewrite.

use super::{Hazard, HazardKind, Judging, split_type};
use crate::catalog::{Column, Constraint, ConstraintKind, QualifiedName};
use crate::diff::{Change, TypeUse, alterable};

/// The rewrite and lock hazards of a change.
pub(super) fn judge(change: &Change, judging: Judging<'_>) -> Vec<Hazard> {
    use Change::*;
    let mut out = Vec::new();
    let mut hazard = |kind: HazardKind, table: &QualifiedName, message: String| {
        if judging.may_have_rows(table) {
            out.push(Hazard::on_table(kind, message, table, judging.stats(table)));
        }
    };
    match change {
        AddColumn { table, column } => {
            if let Some(why) = added_column_rewrites(column, judging) {
                hazard(
                    HazardKind::TableRewrite,
                    table,
                    format!(
                        "adding {table}.{} rewrites every row ({why}) under ACCESS EXCLUSIVE lock",
                        column.name
                    ),
                );
            }
        }
        AlterColumn { table, from, to } => {
            if to.generated.is_some() && from.generated != to.generated {
                hazard(
                    HazardKind::TableRewrite,
                    table,
                    format!(
                        "recreating generated column {table}.{} computes it for every row under ACCESS EXCLUSIVE lock",
                        to.name
                    ),
                );
            } else if from.data_type != to.data_type && !rewrite_free(&from.data_type, &to.data_type) {
                // The type change recurses to every inheritance child with the column.
                for t in std::iter::once(table.clone()).chain(super::inheritance_children(judging, table, &to.name)) {
                    hazard(
                        HazardKind::TableRewrite,
                        &t,
                        format!(
                            "changing {t}.{} from {} to {} rewrites every row and rebuilds the table's indexes under ACCESS EXCLUSIVE lock",
                            to.name, from.data_type, to.data_type
                        ),
                    );
                }
            }
            if to.not_null && !from.not_null {
                // So does SET NOT NULL.
                for t in std::iter::once(table.clone()).chain(super::inheritance_children(judging, table, &to.name)) {
                    hazard(
                        HazardKind::LongLock,
                        &t,
                        format!(
                            "SET NOT NULL on {t}.{} scans every row under ACCESS EXCLUSIVE lock",
                            to.name
                        ),
                    );
                }
            }
        }
        SetLogged { table, unlogged } => hazard(
            HazardKind::TableRewrite,
            table,
            format!(
                "SET {} rewrites every row of {table} under ACCESS EXCLUSIVE lock",
                if *unlogged { "UNLOGGED" } else { "LOGGED" }
            ),
        ),
        AddConstraint { table, constraint } => {
            if let Some(message) = constraint_cost(table, constraint) {
                hazard(HazardKind::LongLock, table, message);
            }
        }
        AlterConstraint { table, from, to } if !alterable(from, to) => {
            if let Some(message) = constraint_cost(table, to) {
                hazard(HazardKind::LongLock, table, message);
            }
        }
        CreateIndex(index) if !index.inherited => hazard(
            HazardKind::LongLock,
            &index.table,
            format!(
                "building index {} without CONCURRENTLY blocks writes to {} until it is built",
                index.name, index.table
            ),
        ),
        AttachPartition { table, partition } => hazard(
            HazardKind::LongLock,
            table,
            format!(
                "attaching {table} to {} scans it to check its bound under ACCESS EXCLUSIVE lock on {table}",
                partition.parent
            ),
        ),
        SetPopulated { view, populated: true } => hazard(
            HazardKind::LongLock,
            view,
            format!("REFRESH MATERIALIZED VIEW {view} runs its query under ACCESS EXCLUSIVE lock: reads of it wait"),
        ),
        AlterEnum {
            to,
            uses,
            recreate: true,
            ..
        } => recasts(&mut hazard, &format!("enum {}", to.name), uses),
        RecreateDomain { to, uses, .. } => recasts(&mut hazard, &format!("domain {}", to.name), uses),
        RecreateCompositeType { to, uses, .. } => recasts(&mut hazard, &format!("type {}", to.name), uses),
        _ => {}
    }
    out
}

/// Columns recast to a recreated type rewrite their tables.
fn recasts(hazard: &mut impl FnMut(HazardKind, &QualifiedName, String), what: &str, uses: &[TypeUse]) {
    for u in uses.iter().filter(|u| !u.attribute) {
        hazard(
            HazardKind::TableRewrite,
            &u.table,
            format!(
                "recreating {what} recasts {}.{} through text, rewriting every row under ACCESS EXCLUSIVE lock",
                u.table, u.column
            ),
        );
    }
}

/// What adding `c` to an existing table costs, if it scans or builds.
fn constraint_cost(table: &QualifiedName, c: &Constraint) -> Option<String> {
    if c.inherited {
        return None;
    }
    let name = &c.name;
    match c.kind {
        ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion => Some(format!(
            "adding {} {name} builds its index on {table} under ACCESS EXCLUSIVE lock",
            c.kind.describe()
        )),
        ConstraintKind::ForeignKey if c.validated => Some(format!(
            "adding foreign key {name} checks every row of {table} against {} under SHARE ROW EXCLUSIVE locks that block writes to both (add it NOT VALID, then VALIDATE)",
            c.references.as_ref().map(ToString::to_string).unwrap_or_default()
        )),
        ConstraintKind::Check if c.validated => Some(format!(
            "adding check {name} scans every row of {table} under ACCESS EXCLUSIVE lock (add it NOT VALID, then VALIDATE)"
        )),
        _ => None,
    }
}

/// Why adding `column` to a table with rows rewrites it, if it does.
fn added_column_rewrites(column: &Column, judging: Judging<'_>) -> Option<String> {
    if column.generated.is_some() {
        return Some("a stored generated column is computed for every row".into());
    }
    if column.identity.is_some() {
        return Some("an identity column gets a value for every row".into());
    }
    let default = column.default.as_deref()?;
    volatile_function(default, judging).map(|f| format!("its default calls {f}, which is volatile"))
}

/// Built-in functions that are VOLATILE (defaults using them are evaluated
/// once per row).
const VOLATILE_BUILTINS: [&str; 14] = [
    "nextval",
    "currval",
    "lastval",
    "setval",
    "random",
    "random_normal",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
];

/// The first volatile function the expression calls: a volatile built-in, a
/// desired function not declared IMMUTABLE or STABLE, or a function converge
/// does not know (an extension's), taken as volatile to be safe.
fn volatile_function(expr: &str, judging: Judging<'_>) -> Option<String> {
    let parsed = pg_query::parse(&format!("SELECT {expr}"), 0).ok()?;
    let mut names = parsed.functions();
    names.sort();
    names.into_iter().find(|name| {
        let (schema, bare) = match name.rsplit_once('.') {
            Some((s, b)) => (Some(s), b),
            None => (None, name.as_str()),
        };
        if matches!(schema, None | Some("pg_catalog")) {
            if VOLATILE_BUILTINS.contains(&bare) {
                return true;
            }
            if schema.is_some() || !judging.desired.catalog.functions.keys().any(|(q, _)| q.name == bare) {
                return false;
            }
        }
        let declared: Vec<&str> = judging
            .desired
            .catalog
            .functions
            .iter()
            .filter(|((q, _), _)| q.name == bare && schema.is_none_or(|s| q.schema == s))
            .map(|(_, f)| f.definition.as_str())
            .collect();
        declared.is_empty()
            || declared
                .iter()
                .any(|d| !(d.contains(" IMMUTABLE") || d.contains(" STABLE")))
    })
}

/// A type change PostgreSQL makes without touching the rows: a relabel
/// between the text types, or a typmod that only widens.
pub fn rewrite_free(from: &str, to: &str) -> bool {
    if from.ends_with("[]") || to.ends_with("[]") {
        return false;
    }
    let (from_base, from_mods) = split_type(from);
    let (to_base, to_mods) = split_type(to);
    match (from_base.as_str(), to_base.as_str()) {
        ("character varying", "text") | ("cidr", "inet") => true,
        ("text", "character varying") => to_mods.is_empty(),
        ("character varying", "character varying") | ("bit varying", "bit varying") => {
            match (from_mods.first(), to_mods.first()) {
                (_, None) => true,
                (Some(a), Some(b)) => b >= a,
                (None, Some(_)) => false,
            }
        }
        ("numeric", "numeric") => match (from_mods.as_slice(), to_mods.as_slice()) {
            (_, []) => true,
            ([p1, s1], [p2, s2]) => s1 == s2 && p2 >= p1,
            ([p1], [p2]) => p2 >= p1,
            _ => false,
        },
        (a, b)
            if a == b
                && matches!(
                    a,
                    "timestamp without time zone" | "timestamp with time zone" | "time without time zone" | "interval"
                ) =>
        {
            match (from_mods.first(), to_mods.first()) {
                (_, None) => true,
                (Some(a), Some(b)) => b >= a,
                (None, Some(_)) => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relabels_and_widening_typmods_do_not_rewrite() {
        assert!(rewrite_free("character varying(10)", "character varying(20)"));
        assert!(rewrite_free("character varying(10)", "text"));
        assert!(rewrite_free("text", "character varying"));
        assert!(rewrite_free("numeric(10,2)", "numeric(12,2)"));
        assert!(rewrite_free("numeric(10,2)", "numeric"));
        assert!(rewrite_free(
            "timestamp(3) without time zone",
            "timestamp(6) without time zone"
        ));
    }

    #[test]
    fn other_type_changes_rewrite() {
        assert!(!rewrite_free("integer", "bigint"));
        assert!(!rewrite_free("character varying(20)", "character varying(10)"));
        assert!(!rewrite_free("text", "character varying(10)"));
        assert!(!rewrite_free("numeric(10,2)", "numeric(12,4)"));
        assert!(!rewrite_free("integer[]", "bigint[]"));
        assert!(!rewrite_free("timestamp without time zone", "timestamp with time zone"));
    }
}
