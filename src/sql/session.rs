//! The session settings a plan's statements run under.
//!
//! The applier sets them before the first step, and the written scripts
//! (`forward.sql`, `rollback.sql`) begin with them, as `pg_dump` output
//! begins with its `SET` lines, so that a script run by hand with `psql`
//! behaves as it does under `converge apply`.

use serde::{Deserialize, Serialize};

/// One `SET name = value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    pub name: String,
    pub value: String,
}

impl Setting {
    /// The statement, without the trailing semicolon; `local` gives
    /// `SET LOCAL`, which ends with the transaction.
    pub fn statement(&self, local: bool) -> String {
        let scope = if local { "LOCAL " } else { "" };
        format!("SET {scope}{} = {}", self.name, self.value)
    }
}

/// The settings of every step: statements taken from the desired files
/// resolve unqualified names as they did when the shadow database loaded them
/// (`search_path`), and a function body is not checked when the function is
/// created (`check_function_bodies`), since what it reads may be created by a
/// later step.
pub fn step_settings() -> Vec<Setting> {
    [("search_path", "public"), ("check_function_bodies", "off")]
        .into_iter()
        .map(|(name, value)| Setting {
            name: name.to_string(),
            value: value.to_string(),
        })
        .collect()
}

/// The settings as one batch of statements.
pub fn batch(settings: &[Setting], local: bool) -> String {
    settings
        .iter()
        .map(|s| s.statement(local))
        .collect::<Vec<_>>()
        .join("; ")
}
