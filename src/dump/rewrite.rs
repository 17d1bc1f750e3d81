//! Printed definitions that PostgreSQL does not read back to themselves,
//! written so that they do.
//!
//! The dump writes definitions as the server prints them (`pg_get_*`). A
//! few printed forms parse into a different expression than the one printed,
//! so the database the files build would print them differently and the plan
//! against the dumped database would not be empty:
//!
//! - `(ARRAY['a'::character varying, 'b'::character varying])::text[]`, what
//!   `varchar_column IN ('a', 'b')` prints as: the array as a whole is cast
//!   to `text[]`, but the parser casts a literal `ARRAY[...]` element by
//!   element, which prints `ARRAY[('a'::character varying)::text, ...]`.
//!   Casting the array to its own type first
//!   (`(ARRAY[...]::character varying[])::text[]`) parses to the original
//!   expression; the extra cast changes nothing and is not printed.
//! - A view defined by a bare `VALUES` list prints as
//!   `SELECT "*VALUES*".column1 AS a, ... FROM (VALUES ...) "*VALUES*"`,
//!   which, read back, is a subquery that prints `FROM ( VALUES`: such a
//!   view is written as `CREATE VIEW v (a, ...) AS VALUES ...` again.

use crate::catalog::View;
use crate::sql::{ident, qualified};
use serde_json::Value;

/// `sql` (one statement) with every array cast that would not read back
/// to itself written so that it does; `sql` itself when it has none.
pub fn array_casts(sql: &str) -> String {
    if !sql.contains("ARRAY[") {
        return sql.to_string();
    }
    let Ok(parsed) = pg_query::parse(sql, 0) else {
        return sql.to_string();
    };
    let Ok(tree) = serde_json::to_value(&parsed.protobuf) else {
        return sql.to_string();
    };
    let mut inserts = Vec::new();
    find_array_casts(&tree, sql, &mut inserts);
    inserts.sort();
    inserts.dedup();
    let mut out = sql.to_string();
    for (at, text) in inserts.into_iter().rev() {
        out.insert_str(at, &text);
    }
    out
}

fn find_array_casts(v: &Value, sql: &str, out: &mut Vec<(usize, String)>) {
    match v {
        Value::Object(map) => {
            if let Some(cast) = map.get("TypeCast")
                && let Some(insert) = array_cast(cast, sql)
            {
                out.push(insert);
            }
            for child in map.values() {
                find_array_casts(child, sql, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| find_array_casts(i, sql, out)),
        _ => {}
    }
}

/// For `(ARRAY[x::t, y::t])::u[]` with `t` not `u`: where to insert `::t[]`.
fn array_cast(cast: &Value, sql: &str) -> Option<(usize, String)> {
    let is_empty = |v: Option<&Value>| v.and_then(Value::as_array).is_none_or(|a| a.is_empty());
    let outer = cast.get("type_name")?;
    if is_empty(outer.get("array_bounds")) {
        return None;
    }
    let array = cast.get("arg")?.get("node")?.get("AArrayExpr")?;
    let elements = array.get("elements")?.as_array()?;
    let element_type = |e: &Value| e.get("node")?.get("TypeCast")?.get("type_name").cloned();
    let first = element_type(elements.first()?)?;
    for e in elements {
        let t = element_type(e)?;
        if t.get("names") != first.get("names") || !is_empty(t.get("typmods")) || !is_empty(t.get("array_bounds")) {
            return None;
        }
    }
    if first.get("names") == outer.get("names") {
        return None;
    }
    let end = usize::try_from(array.get("list_end")?.as_i64()?).ok()?;
    if sql.as_bytes().get(end) != Some(&b']') {
        return None;
    }
    // The element type as written after the last element's `::`.
    let last = element_type(elements.last()?)?;
    let start = usize::try_from(last.get("location")?.as_i64()?).ok()?;
    let name = sql.get(start..end)?.trim();
    let plain = |c: char| c.is_alphanumeric() || matches!(c, ' ' | '_' | '.' | '"' | '$');
    if name.is_empty() || !name.chars().all(plain) {
        return None;
    }
    Some((end + 1, format!("::{name}[]")))
}

/// `CREATE VIEW v (a, b) AS VALUES ...` for a view whose printed query is
/// that of a bare `VALUES` list.
pub fn values_view(v: &View) -> Option<String> {
    if v.materialized {
        return None;
    }
    let body = v.definition.trim().trim_end_matches(';').trim_end();
    let suffix = ") \"*VALUES*\"";
    let start = body.find("FROM (VALUES ")? + "FROM (".len();
    if !body.ends_with(suffix) || start > body.len() - suffix.len() {
        return None;
    }
    let values = &body[start..body.len() - suffix.len()];
    let columns = values_columns(body)?;
    let with = if v.options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", v.options.join(", "))
    };
    let columns: Vec<String> = columns.iter().map(|c| ident(c)).collect();
    Some(format!(
        "CREATE VIEW {} ({}){with} AS\n{values}",
        qualified(&v.name),
        columns.join(", ")
    ))
}

/// The output names of `SELECT "*VALUES*".column1 AS a, ... FROM (VALUES
/// ...) "*VALUES*"` and nothing else; `None` for any other query.
fn values_columns(query: &str) -> Option<Vec<String>> {
    let parsed = pg_query::parse(query, 0).ok()?;
    let [raw] = parsed.protobuf.stmts.as_slice() else {
        return None;
    };
    let Some(pg_query::NodeEnum::SelectStmt(select)) = raw.stmt.as_ref()?.node.as_ref() else {
        return None;
    };
    let plain = select.where_clause.is_none()
        && select.group_clause.is_empty()
        && select.having_clause.is_none()
        && select.sort_clause.is_empty()
        && select.limit_count.is_none()
        && select.limit_offset.is_none()
        && select.distinct_clause.is_empty()
        && select.window_clause.is_empty()
        && select.with_clause.is_none()
        && select.values_lists.is_empty();
    if !plain {
        return None;
    }
    let [from] = select.from_clause.as_slice() else {
        return None;
    };
    let Some(pg_query::NodeEnum::RangeSubselect(sub)) = from.node.as_ref() else {
        return None;
    };
    if sub.lateral || sub.alias.as_ref().map(|a| a.aliasname.as_str()) != Some("*VALUES*") {
        return None;
    }
    let Some(pg_query::NodeEnum::SelectStmt(inner)) = sub.subquery.as_ref()?.node.as_ref() else {
        return None;
    };
    if inner.values_lists.is_empty() || !inner.sort_clause.is_empty() || inner.limit_count.is_some() {
        return None;
    }
    let mut names = Vec::new();
    for (i, target) in select.target_list.iter().enumerate() {
        let Some(pg_query::NodeEnum::ResTarget(target)) = target.node.as_ref() else {
            return None;
        };
        let Some(pg_query::NodeEnum::ColumnRef(column)) = target.val.as_ref()?.node.as_ref() else {
            return None;
        };
        let fields: Vec<&str> = column
            .fields
            .iter()
            .filter_map(|f| match f.node.as_ref() {
                Some(pg_query::NodeEnum::String(s)) => Some(s.sval.as_str()),
                _ => None,
            })
            .collect();
        let expected = format!("column{}", i + 1);
        if fields != ["*VALUES*", expected.as_str()] {
            return None;
        }
        names.push(if target.name.is_empty() {
            expected
        } else {
            target.name.clone()
        });
    }
    (!names.is_empty()).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;

    #[test]
    fn varchar_in_lists_read_back_to_themselves() {
        let sql = "ALTER TABLE public.s ADD CONSTRAINT c CHECK (((status)::text = ANY \
                   ((ARRAY['a'::character varying, 'b'::character varying])::text[])))";
        assert_eq!(
            array_casts(sql),
            "ALTER TABLE public.s ADD CONSTRAINT c CHECK (((status)::text = ANY \
             ((ARRAY['a'::character varying, 'b'::character varying]::character varying[])::text[])))"
        );
        let plain = "CREATE INDEX i ON public.s USING btree (c) WHERE (c = ANY (ARRAY['x'::text, 'y'::text]))";
        assert_eq!(array_casts(plain), plain);
    }

    #[test]
    fn values_views_are_written_as_values() {
        let v = View {
            name: QualifiedName::new("r", "labels"),
            definition: " SELECT \"*VALUES*\".column1 AS status,\n    \"*VALUES*\".column2 AS label\n   \
                         FROM (VALUES ('open'::text,'Open'::text), ('shipped'::text,'Shipped'::text)) \"*VALUES*\";"
                .into(),
            ..Default::default()
        };
        assert_eq!(
            values_view(&v).as_deref(),
            Some(
                "CREATE VIEW r.labels (status, label) AS\nVALUES ('open'::text,'Open'::text), ('shipped'::text,'Shipped'::text)"
            )
        );
        let subquery = View {
            definition: " SELECT t.a FROM (VALUES (1)) t(a);".into(),
            ..v
        };
        assert_eq!(values_view(&subquery), None);
    }
}
