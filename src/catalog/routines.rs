//! Functions and procedures.

use super::ids::QualifiedName;
use super::privileges::Acl;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutineKind {
    #[default]
    Function,
    Procedure,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    pub name: QualifiedName,
    /// The argument types that identify it among overloads, as
    /// `pg_get_function_identity_arguments` prints them (`integer, text`).
    pub identity_arguments: String,
    pub kind: RoutineKind,
    /// The full argument list with names, modes and defaults.
    pub arguments: String,
    /// `pg_get_function_result` (empty for a procedure).
    pub result: String,
    /// `CREATE OR REPLACE ...` as `pg_get_functiondef` prints it: language,
    /// volatility, strictness, security, settings, cost, rows, parallel,
    /// leakproof and body.
    pub definition: String,
    pub owner: String,
    pub acl: Acl,
    pub comment: Option<String>,
}

impl Function {
    /// `schema.name(argument types)`.
    pub fn signature(&self) -> String {
        format!("{}({})", self.name, self.identity_arguments)
    }
}
