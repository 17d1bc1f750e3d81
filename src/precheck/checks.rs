//! Which steps existing rows can make fail, and the read-only query that
//! finds those rows for each. Pure: text in, SQL text out.
//!
//! Every query has the same shape, so the runner reads them all the same
//! way: one row of (how many offending rows or values, up to five of their
//! keys, sorted). A key is the row's primary key (`(id)=(42)`), or its
//! `ctid` when the table has none. Names come from the catalog and are
//! quoted by `sql::ident`; column lists and expressions are the text
//! `pg_get_constraintdef` printed, which is SQL already.

use crate::catalog::{Catalog, Column, Constraint, ConstraintKind, Table, is_user_defined_type};
use crate::diff::{Change, TypeUse};
use crate::plan::{Plan, describe};
use crate::sql::{ident, literal, qualified};

/// How many offending keys a finding lists.
pub const KEYS_SHOWN: usize = 5;

/// One data check of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// 1-based, as the plan numbers its steps.
    pub step: usize,
    pub description: String,
    /// What the offending rows are, for the report: `rows where
    /// public.orders.customer_id has no match in public.customers`.
    pub problem: String,
    /// Returns one row: (bigint count, text[] up to five keys).
    pub sql: String,
    /// Run first, in the same savepoint (a DO block that leaves its result
    /// in settings for `sql` to read).
    pub setup: Option<String>,
}

/// The data checks of every step of `plan`, against the target `current`.
/// A step on a table the plan creates has none: the table is empty.
pub fn checks(plan: &Plan, current: &Catalog) -> Vec<Check> {
    let mut out = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        if step.implied_by.is_some() {
            continue;
        }
        let description = describe(&step.change);
        let mut push = |problem: String, sql: String| {
            out.push(Check {
                step: i + 1,
                description: description.clone(),
                problem,
                sql,
                setup: None,
            })
        };
        match &step.change {
            Change::AlterColumn { table, from, to } => {
                let Some(t) = current.tables.get(table) else { continue };
                if from.data_type != to.data_type
                    && to.generated.is_none()
                    && !crate::plan::hazard::widens(&from.data_type, &to.data_type)
                {
                    let (setup, sql) = cast_check(t, from, to);
                    out.push(Check {
                        step: i + 1,
                        description: description.clone(),
                        problem: format!("values of {table}.{} that cannot become {}", to.name, to.data_type),
                        sql,
                        setup: Some(setup),
                    });
                }
                let mut push = |problem: String, sql: String| {
                    out.push(Check {
                        step: i + 1,
                        description: description.clone(),
                        problem,
                        sql,
                        setup: None,
                    })
                };
                if to.not_null && !from.not_null && to.generated.is_none() {
                    push(
                        format!("rows where {table}.{} is NULL, which SET NOT NULL refuses", to.name),
                        rows_where(t, &format!("{} IS NULL", ident(&to.name))),
                    );
                }
            }
            Change::AddColumn { table, column } => {
                let Some(t) = current.tables.get(table) else { continue };
                let filled = column.default.is_some() || column.identity.is_some() || column.generated.is_some();
                if column.not_null && !filled {
                    push(
                        format!(
                            "rows of {table}, to which NOT NULL column {} without a default cannot be added",
                            column.name
                        ),
                        rows_where(t, "true"),
                    );
                }
            }
            Change::AddConstraint { table, constraint } => {
                if let Some(t) = current.tables.get(table) {
                    for (problem, sql) in constraint_checks(t, constraint, current) {
                        push(problem, sql);
                    }
                }
            }
            Change::AlterConstraint { table, from, to } if !from.validated && to.validated => {
                if let Some(t) = current.tables.get(table) {
                    for (problem, sql) in constraint_checks(t, to, current) {
                        push(problem, sql);
                    }
                }
            }
            Change::CreateIndex(index) if index.unique && !index.inherited => {
                let Some(t) = current.tables.get(&index.table) else {
                    continue;
                };
                if let Some((columns, nulls_distinct, predicate)) = unique_index_key(&index.definition) {
                    push(
                        format!(
                            "values of {} held by more than one row, which unique index {} refuses",
                            index.table, index.name
                        ),
                        duplicates(t, &columns, nulls_distinct, predicate.as_deref()),
                    );
                }
            }
            Change::AlterEnum { from, to, uses, .. } => {
                let removed: Vec<&String> = from.labels.iter().filter(|l| !to.labels.contains(l)).collect();
                if removed.is_empty() {
                    continue;
                }
                let list = format!(
                    "ARRAY[{}]::text[]",
                    removed.iter().map(|l| literal(l)).collect::<Vec<_>>().join(", ")
                );
                for u in uses.iter().filter(|u| !u.attribute) {
                    let Some(t) = current.tables.get(&u.table) else {
                        continue;
                    };
                    push(
                        format!(
                            "rows of {} whose {} holds a label removed from {}",
                            u.table, u.column, to.name
                        ),
                        rows_where(t, &label_condition(u, &list)),
                    );
                }
            }
            _ => {}
        }
    }
    out
}

/// The settings a cast check leaves its result in.
const CAST_COUNT: &str = "converge.check_count";
const CAST_KEYS: &str = "converge.check_keys";

/// A DO block that tries, row by row, the conversion `ALTER COLUMN ... TYPE`
/// would make (an assignment to a variable of the new type, through the same
/// USING cast converge writes), and the query that reads its result. Each
/// row is tried in its own subtransaction: slow on a big table, but only a
/// narrowing type change needs it.
fn cast_check(t: &Table, from: &Column, to: &Column) -> (String, String) {
    let value = |prefix: &str| format!("{prefix}{}", ident(&from.name));
    let (from_base, _) = crate::plan::hazard::split_type(&from.data_type);
    let (to_base, _) = crate::plan::hazard::split_type(&to.data_type);
    let converted = if from_base == to_base && from.data_type.ends_with("[]") == to.data_type.ends_with("[]") {
        "r.v".to_string()
    } else {
        let to_text = matches!(to.data_type.as_str(), "text" | "text[]");
        let via = match (
            is_user_defined_type(&from.data_type) && !to_text,
            from.data_type.ends_with("[]"),
        ) {
            (true, true) => "::text[]",
            (true, false) => "::text",
            (false, _) => "",
        };
        format!("r.v{via}::{}", to.data_type)
    };
    let key = key_expression(t, "");
    let setup = format!(
        "DO $converge_check$\n\
         DECLARE r record; x {to_type}; n bigint := 0; keys text[] := '{{}}';\n\
         BEGIN\n\
         FOR r IN SELECT {key} AS k, {v} AS v FROM {table} WHERE {v} IS NOT NULL ORDER BY 1 LOOP\n\
         BEGIN x := {converted};\n\
         EXCEPTION WHEN OTHERS THEN n := n + 1;\n\
         IF pg_catalog.cardinality(keys) < {KEYS_SHOWN} THEN keys := keys || r.k; END IF;\n\
         END;\n\
         END LOOP;\n\
         PERFORM pg_catalog.set_config('{CAST_COUNT}', n::text, true);\n\
         PERFORM pg_catalog.set_config('{CAST_KEYS}', keys::text, true);\n\
         END $converge_check$",
        to_type = to.data_type,
        v = value(""),
        table = qualified(&t.name),
    );
    let sql = format!(
        "SELECT pg_catalog.current_setting('{CAST_COUNT}')::int8, pg_catalog.current_setting('{CAST_KEYS}')::text[]"
    );
    (setup, sql)
}

/// `column` holds one of the labels in `list` (a `text[]` expression).
fn label_condition(u: &TypeUse, list: &str) -> String {
    if u.data_type.ends_with("[]") {
        format!("{}::text[] && {list}", ident(&u.column))
    } else {
        format!("{}::text = ANY ({list})", ident(&u.column))
    }
}

/// The checks that adding (or validating) `c` on `t` needs.
fn constraint_checks(t: &Table, c: &Constraint, current: &Catalog) -> Vec<(String, String)> {
    if c.inherited || (!c.validated && matches!(c.kind, ConstraintKind::ForeignKey | ConstraintKind::Check)) {
        return Vec::new();
    }
    let name = &c.name;
    let table = &t.name;
    match c.kind {
        ConstraintKind::PrimaryKey | ConstraintKind::Unique => {
            let Some(columns) = first_list(&c.definition) else {
                return Vec::new();
            };
            let nulls_distinct = !c.definition.contains("NULLS NOT DISTINCT");
            let mut out = vec![(
                format!(
                    "values of {table} ({}) held by more than one row, which {} {name} refuses",
                    columns.join(", "),
                    c.kind.describe()
                ),
                duplicates(
                    t,
                    &columns,
                    nulls_distinct || c.kind == ConstraintKind::PrimaryKey,
                    None,
                ),
            )];
            if c.kind == ConstraintKind::PrimaryKey {
                let any_null = columns
                    .iter()
                    .map(|c| format!("{c} IS NULL"))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                out.push((
                    format!(
                        "rows of {table} with NULL in ({}), which primary key {name} refuses",
                        columns.join(", ")
                    ),
                    rows_where(t, &any_null),
                ));
            }
            out
        }
        ConstraintKind::ForeignKey => {
            let (Some(columns), Some(referenced)) = (first_list(&c.definition), &c.references) else {
                return Vec::new();
            };
            let Some(after) = c.definition.find(" REFERENCES ") else {
                return Vec::new();
            };
            let Some(ref_columns) = first_list(&c.definition[after..]) else {
                return Vec::new();
            };
            let mine: Vec<String> = columns.iter().map(|c| format!("c.{c}")).collect();
            let all_set = mine
                .iter()
                .map(|c| format!("{c} IS NOT NULL"))
                .collect::<Vec<_>>()
                .join(" AND ");
            let missing = if current.tables.contains_key(referenced) {
                let matches = ref_columns
                    .iter()
                    .zip(&mine)
                    .map(|(r, m)| format!("p.{r} = {m}"))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                format!(
                    "NOT EXISTS (SELECT 1 FROM {} AS p WHERE {matches})",
                    qualified(referenced)
                )
            } else {
                // The plan creates the referenced table: it starts empty.
                "true".to_string()
            };
            let mut condition = format!("({all_set} AND {missing})");
            if c.definition.contains(" MATCH FULL") && mine.len() > 1 {
                let list = mine.join(", ");
                condition.push_str(&format!(" OR (num_nulls({list}) > 0 AND num_nonnulls({list}) > 0)"));
            }
            vec![(
                format!(
                    "rows of {table} whose ({}) has no match in {referenced} ({}), which foreign key {name} refuses",
                    columns.join(", "),
                    ref_columns.join(", ")
                ),
                rows_where_aliased(t, &condition, Some(&columns)),
            )]
        }
        ConstraintKind::Check => {
            let Some(expression) = check_expression(&c.definition) else {
                return Vec::new();
            };
            // `((a > 0))` as printed: show one pair of parentheses.
            let shown = match expression.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
                Some(inner) if balanced_end(inner) == Some(inner.len()) => inner,
                _ => expression.as_str(),
            };
            vec![(
                format!("rows of {table} that check {name} {shown} refuses"),
                rows_where(t, &format!("NOT {expression}")),
            )]
        }
        ConstraintKind::Exclusion => Vec::new(),
    }
}

/// The key of a row as text, `(id)=(42)`, or its `ctid`; `prefix` qualifies
/// the columns (`c.`).
fn key_expression(t: &Table, prefix: &str) -> String {
    let primary_key = t
        .constraints
        .values()
        .find(|c| c.kind == ConstraintKind::PrimaryKey)
        .and_then(|c| first_list(&c.definition));
    match primary_key {
        Some(columns) => {
            let values: Vec<String> = columns.iter().map(|c| format!("{prefix}{c}")).collect();
            format!(
                "{} || ROW({})::text",
                literal(&format!("({})=", columns.join(", "))),
                if values.len() == 1 {
                    format!("{}, NULL", values[0])
                } else {
                    values.join(", ")
                }
            )
            .replace(", NULL)::text", ")::text")
        }
        None => format!("'ctid ' || {prefix}ctid::text"),
    }
}

/// The query that counts the rows of `t` matching `condition` and lists
/// the first keys.
fn rows_where(t: &Table, condition: &str) -> String {
    let key = key_expression(t, "");
    wrap(&format!(
        "SELECT {key} AS k FROM {} WHERE {condition}",
        qualified(&t.name)
    ))
}

/// `rows_where`, with the table aliased `c`; the offending values of
/// `shown` are appended to each key.
fn rows_where_aliased(t: &Table, condition: &str, shown: Option<&[String]>) -> String {
    let mut key = key_expression(t, "c.");
    if let Some(columns) = shown {
        let values: Vec<String> = columns.iter().map(|c| format!("c.{c}")).collect();
        key = format!(
            "{key} || {} || ROW({})::text",
            literal(&format!(": ({})=", columns.join(", "))),
            values.join(", ")
        );
    }
    wrap(&format!(
        "SELECT {key} AS k FROM {} AS c WHERE {condition}",
        qualified(&t.name)
    ))
}

/// Key values of `columns` (SQL expressions) held by more than one row.
fn duplicates(t: &Table, columns: &[String], nulls_distinct: bool, predicate: Option<&str>) -> String {
    let list = columns.join(", ");
    let mut conditions: Vec<String> = Vec::new();
    if nulls_distinct {
        conditions.extend(columns.iter().map(|c| format!("({c}) IS NOT NULL")));
    }
    if let Some(p) = predicate {
        conditions.push(format!("({p})"));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let values: Vec<String> = (1..=columns.len()).map(|i| format!("d.v{i}")).collect();
    let named: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} AS v{}", i + 1))
        .collect();
    let groups: Vec<String> = (1..=columns.len()).map(|i| i.to_string()).collect();
    wrap(&format!(
        "SELECT {} || ROW({}, NULL)::text || ' ×' || d.n AS k FROM (SELECT {}, count(*) AS n FROM {}{filter} GROUP BY {} HAVING count(*) > 1) AS d",
        literal(&format!("({list})=")),
        values.join(", "),
        named.join(", "),
        qualified(&t.name),
        groups.join(", ")
    ))
    .replace(", NULL)::text", ")::text")
}

/// The common shape: how many, and the first keys in order.
fn wrap(select: &str) -> String {
    format!(
        "WITH offending AS MATERIALIZED ({select}) \
         SELECT (SELECT count(*) FROM offending)::int8, \
         ARRAY(SELECT k FROM offending ORDER BY k LIMIT {KEYS_SHOWN})"
    )
}

/// The expression of `CHECK (...)`, parenthesized as printed.
fn check_expression(definition: &str) -> Option<String> {
    let start = definition.find("CHECK ")? + "CHECK ".len();
    let rest = &definition[start..];
    let end = balanced_end(rest)?;
    Some(rest[..end].to_string())
}

/// The items of the first parenthesized list: `PRIMARY KEY (a, "B")` →
/// [`a`, `"B"`].
fn first_list(text: &str) -> Option<Vec<String>> {
    let open = text.find('(')?;
    let end = balanced_end(&text[open..])?;
    let inner = &text[open + 1..open + end - 1];
    let items = split_top_level(inner);
    if items.is_empty() { None } else { Some(items) }
}

/// The byte length of the balanced parenthesized group `text` starts with.
fn balanced_end(text: &str) -> Option<usize> {
    if !text.starts_with('(') {
        return None;
    }
    let (mut depth, mut quote) = (0usize, None::<char>);
    for (i, ch) in text.char_indices() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(ch),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits on commas outside parentheses and quotes, trimming each item.
fn split_top_level(text: &str) -> Vec<String> {
    let (mut items, mut current) = (Vec::new(), String::new());
    let (mut depth, mut quote) = (0usize, None::<char>);
    for ch in text.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(ch),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                items.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    if !current.trim().is_empty() {
        items.push(current.trim().to_string());
    }
    items
}

/// The key expressions, NULLS DISTINCT, and predicate of a unique index
/// definition as `pg_get_indexdef` prints it; `None` when an element is
/// more than a column or expression with an ordering (an operator class,
/// a collation): converge does not check those.
fn unique_index_key(definition: &str) -> Option<(Vec<String>, bool, Option<String>)> {
    let using = definition.find(" USING ")?;
    let rest = &definition[using + " USING ".len()..];
    let open = rest.find('(')?;
    let end = balanced_end(&rest[open..])?;
    let elements = split_top_level(&rest[open + 1..open + end - 1]);
    let mut columns = Vec::new();
    for e in elements {
        let mut e = e.as_str();
        for suffix in [" NULLS FIRST", " NULLS LAST", " DESC", " ASC"] {
            e = e.strip_suffix(suffix).unwrap_or(e);
        }
        // An operator class or a collation follows the expression after a space.
        if split_top_level_spaces(e) {
            return None;
        }
        columns.push(e.to_string());
    }
    let tail = &rest[open + end..];
    let nulls_distinct = !tail.contains("NULLS NOT DISTINCT");
    let predicate = tail.find(" WHERE ").map(|i| tail[i + " WHERE ".len()..].to_string());
    Some((columns, nulls_distinct, predicate))
}

/// Whether `text` has a space outside parentheses and quotes.
fn split_top_level_spaces(text: &str) -> bool {
    let (mut depth, mut quote) = (0usize, None::<char>);
    for ch in text.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(ch),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, ' ') if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_without_primary_key_is_keyed_by_ctid() {
        let t = Table {
            name: crate::catalog::QualifiedName::new("app", "Log"),
            ..Default::default()
        };
        assert_eq!(
            rows_where(&t, "n IS NULL"),
            "WITH offending AS MATERIALIZED (SELECT 'ctid ' || ctid::text AS k FROM app.\"Log\" WHERE n IS NULL) \
             SELECT (SELECT count(*) FROM offending)::int8, ARRAY(SELECT k FROM offending ORDER BY k LIMIT 5)"
        );
    }

    #[test]
    fn lists_and_expressions_are_read_from_definitions() {
        assert_eq!(
            first_list("PRIMARY KEY (id, \"Org, Id\")"),
            Some(vec!["id".to_string(), "\"Org, Id\"".to_string()])
        );
        assert_eq!(
            check_expression("CHECK ((price > (0)::numeric)) NOT VALID"),
            Some("((price > (0)::numeric))".to_string())
        );
        assert_eq!(
            unique_index_key(
                "CREATE UNIQUE INDEX u ON public.t USING btree (lower(email), org_id DESC) WHERE (deleted_at IS NULL)"
            ),
            Some((
                vec!["lower(email)".to_string(), "org_id".to_string()],
                true,
                Some("(deleted_at IS NULL)".to_string())
            ))
        );
        assert_eq!(
            unique_index_key("CREATE UNIQUE INDEX u ON public.t USING btree (email text_pattern_ops)"),
            None
        );
    }
}
