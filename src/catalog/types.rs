//! User-defined types other than enums: domains, composite types, range
//! types; and collations.

use super::ids::QualifiedName;
use super::privileges::Acl;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainConstraint {
    pub name: String,
    /// As `pg_get_constraintdef` prints it: `CHECK (VALUE > 0)`.
    pub definition: String,
    pub validated: bool,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub name: QualifiedName,
    /// The base type as `format_type` prints it.
    pub base_type: String,
    pub collation: Option<String>,
    pub default: Option<String>,
    pub not_null: bool,
    #[serde(with = "super::keyed")]
    pub constraints: BTreeMap<String, DomainConstraint>,
    pub owner: String,
    pub acl: Acl,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompositeAttribute {
    pub name: String,
    pub data_type: String,
    pub collation: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompositeType {
    pub name: QualifiedName,
    /// In attribute order.
    #[serde(serialize_with = "super::canonical::serialize_by_name")]
    pub attributes: Vec<CompositeAttribute>,
    pub owner: String,
    pub acl: Acl,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeType {
    pub name: QualifiedName,
    pub subtype: String,
    /// The operator class, when not the subtype's default.
    pub subtype_opclass: Option<String>,
    pub collation: Option<String>,
    pub canonical: Option<String>,
    pub subtype_diff: Option<String>,
    pub multirange: Option<QualifiedName>,
    pub owner: String,
    pub acl: Acl,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collation {
    pub name: QualifiedName,
    /// `libc` or `icu`.
    pub provider: String,
    pub collate: Option<String>,
    pub ctype: Option<String>,
    /// ICU locale.
    pub locale: Option<String>,
    pub deterministic: bool,
    pub owner: String,
    pub comment: Option<String>,
}
