//! Views and materialized views, triggers, and row-level security policies.

use super::ids::{ObjectId, QualifiedName};
use super::privileges::Acl;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewColumn {
    pub name: String,
    pub data_type: String,
    /// `ALTER VIEW ... ALTER COLUMN ... SET DEFAULT` (for inserts through the view).
    pub default: Option<String>,
    pub comment: Option<String>,
    pub acl: Acl,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub name: QualifiedName,
    pub materialized: bool,
    /// The query as `pg_get_viewdef` prints it.
    pub definition: String,
    /// `WITH (...)` options, sorted (`check_option=local`, `security_invoker=true`, ...).
    pub options: Vec<String>,
    /// In column order.
    pub columns: Vec<ViewColumn>,
    /// A materialized view created `WITH NO DATA` (never refreshed).
    pub populated: bool,
    pub owner: String,
    pub acl: Acl,
    pub comment: Option<String>,
}

impl View {
    pub fn id(&self) -> ObjectId {
        if self.materialized {
            ObjectId::MaterializedView(self.name.clone())
        } else {
            ObjectId::View(self.name.clone())
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    /// The table or view it is on.
    pub table: QualifiedName,
    pub name: String,
    /// `CREATE [CONSTRAINT] TRIGGER ...` as `pg_get_triggerdef` prints it.
    pub definition: String,
    /// `O` (enabled), `D` (disabled), `R` (replica), `A` (always).
    pub enabled: String,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub table: QualifiedName,
    pub name: String,
    pub permissive: bool,
    /// `ALL`, `SELECT`, `INSERT`, `UPDATE` or `DELETE`.
    pub command: String,
    /// Role names, sorted; `public` for everyone.
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
    pub comment: Option<String>,
}
