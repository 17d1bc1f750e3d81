//! The object kinds of the catalog, one struct each, public fields, no logic
//! beyond small accessors.

use super::by_name::{ByName, Named};
use super::ids::QualifiedName;
use super::privileges::Acl;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub name: String,
    pub owner: String,
    pub acl: Acl,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub name: String,
    /// The schema the extension's objects were installed in.
    pub schema: String,
    pub version: String,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumType {
    pub name: QualifiedName,
    /// Labels in their sort order.
    pub labels: Vec<String>,
    pub owner: String,
    pub acl: Acl,
    pub comment: Option<String>,
}

/// The options every sequence has, standalone or behind an identity column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceOptions {
    /// `smallint`, `integer` or `bigint`.
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
}

impl SequenceOptions {
    /// The options PostgreSQL picks when none are given, for a sequence of
    /// `data_type` counting in the direction of `increment`.
    pub fn defaults_for(data_type: &str, increment: i64) -> SequenceOptions {
        let (type_min, type_max) = match data_type {
            "smallint" => (i16::MIN as i64, i16::MAX as i64),
            "integer" => (i32::MIN as i64, i32::MAX as i64),
            _ => (i64::MIN, i64::MAX),
        };
        let (min, max) = if increment > 0 { (1, type_max) } else { (type_min, -1) };
        SequenceOptions {
            data_type: data_type.to_string(),
            start: if increment > 0 { min } else { max },
            increment,
            min,
            max,
            cache: 1,
            cycle: false,
        }
    }
}

/// A column of a table that a sequence is `OWNED BY`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ColumnRef {
    pub table: QualifiedName,
    pub column: String,
}

impl std::fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.table, self.column)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    pub name: QualifiedName,
    pub options: SequenceOptions,
    pub owned_by: Option<ColumnRef>,
    pub owner: String,
    pub acl: Acl,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    #[default]
    Always,
    ByDefault,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub kind: IdentityKind,
    /// The identity's sequence (PostgreSQL names it `<table>_<column>_seq`
    /// unless told otherwise).
    pub sequence: QualifiedName,
    pub options: SequenceOptions,
}

/// How a column's values are stored (`attstorage`), written as `SET
/// STORAGE` spells it in lower case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Storage {
    Plain,
    External,
    #[default]
    Extended,
    Main,
}

impl Storage {
    /// The storage of an `attstorage` or `typstorage` code (`p`, `e`, `m`,
    /// `x`).
    pub fn of_code(code: &str) -> Storage {
        match code {
            "p" => Storage::Plain,
            "e" => Storage::External,
            "m" => Storage::Main,
            _ => Storage::Extended,
        }
    }

    /// The keyword of `ALTER COLUMN ... SET STORAGE`.
    pub fn keyword(self) -> &'static str {
        match self {
            Storage::Plain => "PLAIN",
            Storage::External => "EXTERNAL",
            Storage::Extended => "EXTENDED",
            Storage::Main => "MAIN",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// As `format_type` prints it: `character varying(20)`, `public.mood[]`.
    pub data_type: String,
    pub not_null: bool,
    /// The default expression as `pg_get_expr` prints it.
    pub default: Option<String>,
    /// Boxed: few columns are identities, and a `Column` is held for every
    /// column of two catalogs.
    pub identity: Option<Box<Identity>>,
    /// The expression of a `GENERATED ALWAYS AS (...) STORED` column.
    pub generated: Option<String>,
    /// A collation other than the type's default, qualified: `pg_catalog."C"`.
    pub collation: Option<String>,
    /// `SET STORAGE` when it differs from the type's.
    pub storage: Option<Storage>,
    /// The type's own storage, which `storage: None` means (to go back to).
    pub type_storage: Storage,
    /// `SET COMPRESSION`: `pglz` or `lz4`.
    pub compression: Option<String>,
    /// `SET STATISTICS n` when set.
    pub statistics: Option<i32>,
    /// Attribute options (`SET (n_distinct = ...)`), sorted.
    pub options: Vec<String>,
    /// Column privileges.
    pub acl: Acl,
    /// The column comes only from a parent (`NOT attislocal`: a partition's
    /// columns, or an inheritance child's that its CREATE TABLE does not
    /// declare): it is added, changed and dropped through the parent. A
    /// column a child declares and also inherits is not `inherited`: it
    /// stays on the child when the parent drops it.
    pub inherited: bool,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    #[default]
    PrimaryKey,
    Unique,
    ForeignKey,
    Check,
    Exclusion,
}

impl ConstraintKind {
    pub fn describe(self) -> &'static str {
        match self {
            ConstraintKind::PrimaryKey => "primary key",
            ConstraintKind::Unique => "unique constraint",
            ConstraintKind::ForeignKey => "foreign key",
            ConstraintKind::Check => "check constraint",
            ConstraintKind::Exclusion => "exclusion constraint",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub name: String,
    pub kind: ConstraintKind,
    /// As `pg_get_constraintdef` prints it, e.g.
    /// `FOREIGN KEY (user_id) REFERENCES accounts.users(id) ON DELETE CASCADE`.
    /// It includes `DEFERRABLE`, `NOT VALID` and `NO INHERIT` where they apply.
    pub definition: String,
    /// The table a foreign key references.
    pub references: Option<QualifiedName>,
    pub deferrable: bool,
    pub initially_deferred: bool,
    pub validated: bool,
    pub comment: Option<String>,
    /// The comment on the index behind a primary key, unique or exclusion
    /// constraint (`COMMENT ON INDEX`).
    pub index_comment: Option<String>,
    /// A partition's copy of its parent's constraint, or a check an
    /// inheritance child has only from its parents (`NOT conislocal`): it
    /// comes and goes with the parent's (and with ATTACH and DETACH,
    /// INHERIT and NO INHERIT).
    pub inherited: bool,
    /// A key constraint of a partitioned table: its index is a partitioned
    /// index, added `ONLY` to its table (see `Index::partitions`).
    pub on_partitioned_table: bool,
    /// The partitions' copies attached to the index of a key constraint of a
    /// partitioned table.
    pub partitions: Vec<IndexPartition>,
}

impl Named for Constraint {
    fn name(&self) -> &str {
        &self.name
    }
}

/// How a partition attaches to its partitioned table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionOf {
    pub parent: QualifiedName,
    /// As `pg_get_expr(relpartbound)` prints it: `FOR VALUES FROM (..) TO (..)`, `DEFAULT`.
    pub bound: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: QualifiedName,
    /// `UNLOGGED`: not written to the WAL, emptied after a crash.
    pub unlogged: bool,
    /// In the table's column order.
    #[serde(serialize_with = "super::canonical::serialize_by_name")]
    pub columns: Vec<Column>,
    pub constraints: ByName<Constraint>,
    /// `PARTITION BY ...` as `pg_get_partkeydef` prints it (`RANGE (created_at)`).
    pub partition_key: Option<String>,
    pub partition_of: Option<PartitionOf>,
    /// The parents of classic table inheritance (`INHERITS`, `ALTER TABLE
    /// ... INHERIT`), in `pg_inherits.inhseqno` order; never a partition's.
    /// A column only inherited (`Column::inherited`) is not the child's to
    /// add, retype or drop: its parents' changes carry it.
    pub inherits: Vec<QualifiedName>,
    /// Storage parameters (`WITH (fillfactor=70)`), sorted.
    pub options: Vec<String>,
    /// `REPLICA IDENTITY`: `default`, `nothing`, `full`, or `index`.
    pub replica_identity: String,
    /// The index of `REPLICA IDENTITY USING INDEX`.
    pub replica_identity_index: Option<String>,
    pub row_security: bool,
    pub force_row_security: bool,
    pub owner: String,
    pub acl: Acl,
    pub comment: Option<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: QualifiedName,
    /// The table or materialized view.
    pub table: QualifiedName,
    /// As `pg_get_indexdef` prints it: the complete `CREATE INDEX` statement.
    pub definition: String,
    pub unique: bool,
    /// False for an index left INVALID by a failed concurrent build.
    pub valid: bool,
    /// A partition's part of its parent's partitioned index: it comes and
    /// goes with the parent's (and with ATTACH and DETACH).
    pub inherited: bool,
    /// For an index on a partitioned table: the partitions' indexes attached
    /// to it (`ALTER INDEX ... ATTACH PARTITION`), by partition. Each keeps
    /// its own name, which PostgreSQL generates only when the parent's
    /// `CREATE INDEX` builds it; so a partitioned index is created `ON ONLY`
    /// its table, with each of these created under its name and attached.
    pub partitions: Vec<IndexPartition>,
    pub comment: Option<String>,
}

/// A partition's index attached to a partitioned index: a plain index, or
/// the index of the partition's own primary key or unique constraint.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IndexPartition {
    /// The partition.
    pub table: QualifiedName,
    /// The attached index (a constraint's index has the constraint's name).
    pub index: QualifiedName,
    pub kind: AttachedKind,
    /// As `pg_get_constraintdef` prints the constraint, or `pg_get_indexdef`
    /// the plain index.
    pub definition: String,
}

/// What a partition's index attached to a partitioned index is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachedKind {
    /// A plain index: the partitioned index's step creates it.
    #[default]
    Index,
    /// The index of the partition's own primary key or unique constraint (of
    /// the same name), an object with a step of its own: the partitioned
    /// index's step only attaches it.
    LocalConstraint,
    /// The index of the partition's copy of its parent's key constraint,
    /// which the parent constraint's step adds to the partition.
    InheritedConstraint,
}

/// Whether a type as `format_type` prints it (under an empty search_path) is
/// user-defined: built-in types print bare, user types schema-qualified.
pub fn is_user_defined_type(data_type: &str) -> bool {
    let mut quoted = false;
    for c in data_type.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => return true,
            _ => {}
        }
    }
    false
}
