//! Identities: how an object is named, once, for the whole program.
//!
//! Every map key in the catalog, every dependency edge and every plan step
//! refers to objects through these types. Their `Display` is the name users see
//! in summaries and diagnostics; SQL text is produced by `sql::ident`, not here.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A schema-qualified name such as `billing.invoices`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct QualifiedName {
    pub schema: String,
    pub name: String,
}

impl QualifiedName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QualifiedName {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// The identity of every object converge manages.
///
/// Objects that live inside a table (columns, constraints) carry the table's
/// name. `SequenceOwner` is the `OWNED BY` link of a sequence, an object of its
/// own so that a table default can need the sequence while the sequence's
/// ownership needs the column, without a cycle.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectId {
    Schema(String),
    Extension(String),
    Type(QualifiedName),
    Sequence(QualifiedName),
    SequenceOwner(QualifiedName),
    Table(QualifiedName),
    Column(QualifiedName, String),
    Constraint(QualifiedName, String),
    Index(QualifiedName),
    View(QualifiedName),
    MaterializedView(QualifiedName),
    /// A function or procedure: name and identity argument types.
    Function(QualifiedName, String),
    /// An aggregate: name and identity argument types (empty for `(*)`).
    Aggregate(QualifiedName, String),
    /// A trigger on a table or view.
    Trigger(QualifiedName, String),
    /// A row-level security policy on a table.
    Policy(QualifiedName, String),
    Collation(QualifiedName),
    /// `ALTER DEFAULT PRIVILEGES` for (role, schema, object type).
    DefaultPrivileges(String, String, String),
}

impl ObjectId {
    /// The kind as users read it: "table", "column", ...
    pub fn kind(&self) -> &'static str {
        match self {
            ObjectId::Schema(_) => "schema",
            ObjectId::Extension(_) => "extension",
            ObjectId::Type(_) => "type",
            ObjectId::Sequence(_) => "sequence",
            ObjectId::SequenceOwner(_) => "sequence ownership",
            ObjectId::Table(_) => "table",
            ObjectId::Column(..) => "column",
            ObjectId::Constraint(..) => "constraint",
            ObjectId::Index(_) => "index",
            ObjectId::View(_) => "view",
            ObjectId::MaterializedView(_) => "materialized view",
            ObjectId::Function(..) => "function",
            ObjectId::Aggregate(..) => "aggregate",
            ObjectId::Trigger(..) => "trigger",
            ObjectId::Policy(..) => "policy",
            ObjectId::Collation(_) => "collation",
            ObjectId::DefaultPrivileges(..) => "default privileges",
        }
    }

    /// The object's name without its kind: `billing.invoices.total`.
    pub fn name(&self) -> String {
        match self {
            ObjectId::Schema(s) | ObjectId::Extension(s) => s.clone(),
            ObjectId::Type(q)
            | ObjectId::Sequence(q)
            | ObjectId::SequenceOwner(q)
            | ObjectId::Table(q)
            | ObjectId::Index(q) => q.to_string(),
            ObjectId::Column(t, c) => format!("{t}.{c}"),
            ObjectId::Constraint(t, c) | ObjectId::Trigger(t, c) | ObjectId::Policy(t, c) => format!("{c} on {t}"),
            ObjectId::View(q) | ObjectId::MaterializedView(q) | ObjectId::Collation(q) => q.to_string(),
            ObjectId::Function(q, args) => format!("{q}({args})"),
            ObjectId::Aggregate(q, args) if args.is_empty() => format!("{q}(*)"),
            ObjectId::Aggregate(q, args) => format!("{q}({args})"),
            ObjectId::DefaultPrivileges(role, schema, kind) => {
                let schema = if schema.is_empty() {
                    String::new()
                } else {
                    format!(" in schema {schema}")
                };
                format!("for {kind} created by {role}{schema}")
            }
        }
    }

    /// The table an object belongs to, for objects inside a table.
    pub fn table(&self) -> Option<&QualifiedName> {
        match self {
            ObjectId::Table(t)
            | ObjectId::Column(t, _)
            | ObjectId::Constraint(t, _)
            | ObjectId::Trigger(t, _)
            | ObjectId::Policy(t, _) => Some(t),
            _ => None,
        }
    }

    /// The schema the object lives in (none for extensions).
    pub fn schema(&self) -> Option<&str> {
        match self {
            ObjectId::Schema(s) => Some(s),
            ObjectId::Extension(_) => None,
            ObjectId::DefaultPrivileges(_, s, _) => (!s.is_empty()).then_some(s.as_str()),
            ObjectId::Type(q)
            | ObjectId::Sequence(q)
            | ObjectId::SequenceOwner(q)
            | ObjectId::Table(q)
            | ObjectId::Index(q)
            | ObjectId::Column(q, _)
            | ObjectId::Constraint(q, _)
            | ObjectId::View(q)
            | ObjectId::MaterializedView(q)
            | ObjectId::Function(q, _)
            | ObjectId::Aggregate(q, _)
            | ObjectId::Trigger(q, _)
            | ObjectId::Policy(q, _)
            | ObjectId::Collation(q) => Some(&q.schema),
        }
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.name())
    }
}
