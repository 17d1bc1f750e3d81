//! Aggregates: created, dropped, replaced in place (`CREATE OR REPLACE
//! AGGREGATE`) when PostgreSQL allows it, else dropped and created again;
//! owner, privileges and comment.

use super::{Change, comment, owner, paired, privileges};
use crate::catalog::{Aggregate, Catalog};

/// The keyword of `ALTER AGGREGATE ... OWNER TO`.
pub const OWNER_KEYWORD: &str = "AGGREGATE";
/// The keyword of `GRANT EXECUTE ON FUNCTION` (GRANT has no `ON AGGREGATE`).
pub const GRANT_KEYWORD: &str = "FUNCTION";

pub fn aggregates(current: &Catalog, desired: &Catalog, out: &mut Vec<Change>) {
    for pair in paired(&current.aggregates, &desired.aggregates) {
        match pair {
            (Some(a), None) => out.push(Change::DropAggregate(a.clone())),
            (None, Some(b)) => out.push(Change::CreateAggregate(b.clone())),
            (Some(a), Some(b)) => {
                if !a.same_definition(b) {
                    if replaceable(a, b) {
                        out.push(Change::ReplaceAggregate {
                            from: a.clone(),
                            to: b.clone(),
                        });
                    } else {
                        out.push(Change::DropAggregate(a.clone()));
                        out.push(Change::CreateAggregate(b.clone()));
                        continue;
                    }
                }
                owner(b.id(), OWNER_KEYWORD, &a.owner, &b.owner, out);
                privileges(b.id(), GRANT_KEYWORD, &a.acl, &b.acl, out);
                comment(b.id(), &a.comment, &b.comment, out);
            }
            (None, None) => {}
        }
    }
}

/// `CREATE OR REPLACE AGGREGATE` keeps the aggregate's OID (views that call
/// it stay), but cannot change its kind (ordered-set or not), its result
/// type, or its arguments' names.
fn replaceable(a: &Aggregate, b: &Aggregate) -> bool {
    a.kind == b.kind && a.result == b.result && a.arguments == b.arguments
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::QualifiedName;

    fn agg(sfunc: &str, result: &str) -> Aggregate {
        Aggregate {
            name: QualifiedName::new("app", "total"),
            identity_arguments: "numeric".into(),
            arguments: "numeric".into(),
            result: result.into(),
            sfunc: sfunc.into(),
            stype: result.into(),
            finalfunc_modify: "READ_ONLY".into(),
            mfinalfunc_modify: "READ_ONLY".into(),
            parallel: "UNSAFE".into(),
            ..Default::default()
        }
    }

    fn diff(a: Aggregate, b: Aggregate) -> Vec<Change> {
        let mut current = Catalog::default();
        let mut desired = Catalog::default();
        current
            .aggregates
            .insert((a.name.clone(), a.identity_arguments.clone()), a);
        desired
            .aggregates
            .insert((b.name.clone(), b.identity_arguments.clone()), b);
        let mut out = Vec::new();
        aggregates(&current, &desired, &mut out);
        out
    }

    #[test]
    fn a_new_state_function_replaces_in_place() {
        let out = diff(agg("app.add", "numeric"), agg("app.add2", "numeric"));
        assert!(matches!(out.as_slice(), [Change::ReplaceAggregate { .. }]));
    }

    #[test]
    fn a_new_result_type_drops_and_creates() {
        let out = diff(agg("app.add", "numeric"), agg("app.add", "bigint"));
        assert!(matches!(
            out.as_slice(),
            [Change::DropAggregate(_), Change::CreateAggregate(_)]
        ));
    }

    #[test]
    fn a_comment_alone_is_a_comment_change() {
        let mut b = agg("app.add", "numeric");
        b.comment = Some("sum".into());
        let out = diff(agg("app.add", "numeric"), b);
        assert!(matches!(out.as_slice(), [Change::SetComment { .. }]));
    }
}
