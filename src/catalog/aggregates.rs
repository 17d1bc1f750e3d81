//! Aggregates (`CREATE AGGREGATE`): ordinary, ordered-set and hypothetical.
//!
//! Every option is kept as the server prints it from `pg_aggregate` (support
//! functions as `regproc`, types by `format_type`, under an empty
//! `search_path`, so user objects come out schema-qualified), so that the
//! statement that creates an aggregate can be written back from the catalog
//! alone: PostgreSQL has no `pg_get_aggregatedef`.

use super::ids::{ObjectId, QualifiedName};
use super::privileges::Acl;
use serde::{Deserialize, Serialize};

/// `pg_aggregate.aggkind`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateKind {
    #[default]
    Normal,
    /// `(direct arguments ORDER BY aggregated arguments)`.
    OrderedSet,
    /// An ordered-set aggregate declared `HYPOTHETICAL`.
    Hypothetical,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    pub name: QualifiedName,
    /// The argument types that identify it, as
    /// `pg_get_function_identity_arguments` prints them (`numeric`,
    /// `double precision ORDER BY double precision`; empty for `(*)`).
    pub identity_arguments: String,
    /// The argument list with names, as `pg_get_function_arguments` prints it.
    pub arguments: String,
    /// `pg_get_function_result`: the final function's result, or the state type.
    pub result: String,
    pub kind: AggregateKind,
    pub sfunc: String,
    pub stype: String,
    /// `SSPACE` (0: PostgreSQL's estimate).
    pub sspace: i32,
    pub finalfunc: Option<String>,
    pub finalfunc_extra: bool,
    /// `READ_ONLY`, `SHAREABLE` or `READ_WRITE`.
    pub finalfunc_modify: String,
    pub combinefunc: Option<String>,
    pub serialfunc: Option<String>,
    pub deserialfunc: Option<String>,
    /// `INITCOND`; `Some("")` (an empty string) differs from none.
    pub initcond: Option<String>,
    /// The moving-aggregate mode, when it has one.
    pub msfunc: Option<String>,
    pub minvfunc: Option<String>,
    pub mstype: Option<String>,
    pub msspace: i32,
    pub mfinalfunc: Option<String>,
    pub mfinalfunc_extra: bool,
    pub mfinalfunc_modify: String,
    pub minitcond: Option<String>,
    /// `SORTOP`, as `OPERATOR(schema.op)`.
    pub sortop: Option<String>,
    /// `SAFE`, `RESTRICTED` or `UNSAFE`.
    pub parallel: String,
    pub owner: String,
    pub acl: Acl,
    pub comment: Option<String>,
}

impl Aggregate {
    pub fn id(&self) -> ObjectId {
        ObjectId::Aggregate(self.name.clone(), self.identity_arguments.clone())
    }

    /// True when both define the same aggregate (owner, privileges and
    /// comment aside).
    pub fn same_definition(&self, other: &Aggregate) -> bool {
        let bare = |a: &Aggregate| Aggregate {
            owner: String::new(),
            acl: Acl::new(),
            comment: None,
            ..a.clone()
        };
        bare(self) == bare(other)
    }
}
