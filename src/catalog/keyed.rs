//! Serializes the catalog's maps as lists of their values.
//!
//! Every value already carries its own identity (a table knows its name), and
//! JSON object keys can only be strings, so a `BTreeMap<QualifiedName, Table>`
//! is written as the list of its tables, in key order, and read back by taking
//! each value's key from the value itself.

use super::aggregates::Aggregate;
use super::ids::QualifiedName;
use super::objects::*;
use super::privileges::DefaultPrivileges;
use super::relations::*;
use super::routines::Function;
use super::types::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// A value that knows the key it is stored under.
pub trait Keyed {
    type Key: Ord;
    fn key(&self) -> Self::Key;
}

pub fn serialize<K, V, S>(map: &BTreeMap<K, V>, serializer: S) -> Result<S::Ok, S::Error>
where
    V: Serialize,
    S: Serializer,
{
    serializer.collect_seq(map.values())
}

pub fn deserialize<'de, V, D>(deserializer: D) -> Result<BTreeMap<V::Key, V>, D::Error>
where
    V: Keyed + Deserialize<'de>,
    D: Deserializer<'de>,
{
    let values = Vec::<V>::deserialize(deserializer)?;
    Ok(values.into_iter().map(|v| (v.key(), v)).collect())
}

macro_rules! keyed_by {
    ($ty:ty, $key:ty, $field:ident) => {
        impl Keyed for $ty {
            type Key = $key;
            fn key(&self) -> $key {
                self.$field.clone()
            }
        }
    };
}

keyed_by!(Schema, String, name);
keyed_by!(Extension, String, name);
keyed_by!(EnumType, QualifiedName, name);
keyed_by!(Sequence, QualifiedName, name);
keyed_by!(Table, QualifiedName, name);
keyed_by!(Index, QualifiedName, name);
keyed_by!(Domain, QualifiedName, name);
keyed_by!(CompositeType, QualifiedName, name);
keyed_by!(RangeType, QualifiedName, name);
keyed_by!(Collation, QualifiedName, name);
keyed_by!(View, QualifiedName, name);
keyed_by!(DomainConstraint, String, name);

impl Keyed for Function {
    type Key = (QualifiedName, String);
    fn key(&self) -> Self::Key {
        (self.name.clone(), self.identity_arguments.clone())
    }
}

impl Keyed for Aggregate {
    type Key = (QualifiedName, String);
    fn key(&self) -> Self::Key {
        (self.name.clone(), self.identity_arguments.clone())
    }
}

impl Keyed for Trigger {
    type Key = (QualifiedName, String);
    fn key(&self) -> Self::Key {
        (self.table.clone(), self.name.clone())
    }
}

impl Keyed for Policy {
    type Key = (QualifiedName, String);
    fn key(&self) -> Self::Key {
        (self.table.clone(), self.name.clone())
    }
}

impl Keyed for DefaultPrivileges {
    type Key = (String, String, String);
    fn key(&self) -> Self::Key {
        DefaultPrivileges::key(self)
    }
}
