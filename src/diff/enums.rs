//! Enum types: created, dropped, or given new labels; a type whose labels are
//! removed or reordered is recreated, and the columns using it recast.

use super::{Change, EnumUse, comment, paired};
use crate::catalog::{Catalog, EnumType, ObjectId, QualifiedName};

pub fn enums(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.enums, &desired.enums) {
        match pair {
            (Some(a), None) => out.push(Change::DropEnum(a.clone())),
            (None, Some(b)) => out.push(Change::CreateEnum(b.clone())),
            (Some(a), Some(b)) => {
                if a.labels != b.labels {
                    out.push(Change::AlterEnum {
                        from: a.clone(),
                        to: b.clone(),
                        uses: uses(current, desired, &a.name),
                        recreate: needs_recreate(a, b, desired),
                        recreate_back: needs_recreate(b, a, current),
                    });
                }
                comment(ObjectId::Type(a.name.clone()), &a.comment, &b.comment, out);
            }
            (None, None) => {}
        }
    }
}

/// True when `to` only adds labels to `from`, keeping the old labels' order:
/// then `ALTER TYPE ... ADD VALUE` does it in place.
pub fn only_adds_labels(from: &[String], to: &[String]) -> bool {
    let mut remaining = to.iter();
    from.iter().all(|label| remaining.any(|l| l == label))
}

/// Whether going from `from` to `to` needs the type recreated: labels are
/// removed or reordered, or a new label appears in an expression of `after`
/// (a default, a check, an index predicate), which PostgreSQL does not allow
/// in the transaction that added the label.
fn needs_recreate(from: &EnumType, to: &EnumType, after: &Catalog) -> bool {
    if !only_adds_labels(&from.labels, &to.labels) {
        return true;
    }
    let type_name = crate::sql::qualified(&to.name);
    let added: Vec<&String> = to.labels.iter().filter(|l| !from.labels.contains(l)).collect();
    let mentions = |expr: &str| expr.contains(&type_name) && added.iter().any(|l| expr.contains(l.as_str()));
    after.tables.values().any(|t| {
        t.columns
            .iter()
            .any(|c| c.default.as_deref().is_some_and(mentions) || c.generated.as_deref().is_some_and(mentions))
            || t.constraints.values().any(|c| mentions(&c.definition))
    }) || after.indexes.values().any(|i| mentions(&i.definition))
}

/// The columns that use the type (directly or as an array) on both sides.
fn uses(current: &Catalog, desired: &Catalog, name: &QualifiedName) -> Vec<EnumUse> {
    let mut found = Vec::new();
    for (table_name, table) in &current.tables {
        let Some(desired_table) = desired.tables.get(table_name) else {
            continue;
        };
        for column in &table.columns {
            let Some(desired_column) = desired_table.column(&column.name) else {
                continue;
            };
            if uses_type(&column.data_type, name) && uses_type(&desired_column.data_type, name) {
                found.push(EnumUse {
                    table: table_name.clone(),
                    column: column.name.clone(),
                    data_type: column.data_type.clone(),
                    default_before: column.default.clone(),
                    default_after: desired_column.default.clone(),
                });
            }
        }
    }
    found
}

/// Does a printed column type (`public.mood`, `public.mood[]`) name this type?
pub fn uses_type(data_type: &str, name: &QualifiedName) -> bool {
    let base = data_type.trim_end_matches("[]");
    base == crate::sql::qualified(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(labels: &[&str]) -> Vec<String> {
        labels.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn additions_keep_order_removals_do_not() {
        assert!(only_adds_labels(&v(&["a", "c"]), &v(&["a", "b", "c", "d"])));
        assert!(!only_adds_labels(&v(&["a", "c"]), &v(&["c", "a"])));
        assert!(!only_adds_labels(&v(&["a", "c"]), &v(&["a"])));
    }
}
