//! Turning flags and `converge.toml` into the settings of one command.

use super::{Context, Format};
use crate::catalog::Filter;
use crate::config::Settings;
use crate::pipeline::Options;
use crate::plan::Allowed;
use std::path::PathBuf;

/// Everything a command needs to know, resolved.
pub struct Resolved {
    /// The environment in use, if any.
    pub env: Option<String>,
    pub schema: Vec<PathBuf>,
    /// The target when one is named (flag, environment); otherwise the
    /// target is `DATABASE_URL` or the local development database.
    pub url: Option<String>,
    pub dev_url: Option<String>,
    pub allowed: Allowed,
    pub options: Options,
    pub format: Format,
    pub protected: bool,
    /// Where `apply` backs up the data it destroys, if anywhere.
    pub backup_dir: Option<PathBuf>,
    /// `lock_timeout` for every statement of an apply.
    pub lock_timeout: Option<String>,
    /// `statement_timeout` for every statement of an apply.
    pub statement_timeout: Option<String>,
}

/// `lock_timeout` of an online apply when none is configured.
pub const ONLINE_LOCK_TIMEOUT: &str = "5s";
/// How many times an online apply tries a statement whose lock is not
/// granted in time.
pub const ONLINE_LOCK_ATTEMPTS: u32 = 5;

impl Resolved {
    /// How `apply` and `rollback` run, given these settings.
    pub fn apply_options(&self, record_history: bool) -> crate::apply::ApplyOptions {
        let online = self.options.online;
        crate::apply::ApplyOptions {
            allowed: self.allowed.clone(),
            record_history,
            lock_timeout: self
                .lock_timeout
                .clone()
                .or_else(|| online.then(|| ONLINE_LOCK_TIMEOUT.to_string())),
            statement_timeout: self.statement_timeout.clone(),
            lock_attempts: if online { ONLINE_LOCK_ATTEMPTS } else { 1 },
        }
    }
}

impl Context {
    /// The settings for a command whose flags are `flags`.
    pub fn settings(&self, flags: &Settings) -> Result<Resolved, String> {
        let vars = |v: &str| std::env::var(v).ok().filter(|s| !s.is_empty());
        let (env, s) = self
            .config
            .resolve(self.env.as_deref(), flags, &vars)
            .map_err(|e| e.to_string())?;
        let allowed =
            Allowed::parse(s.allow_hazards.as_deref().unwrap_or(&[])).map_err(|e| format!("allow_hazards: {e}"))?;
        let format = match s.format.as_deref() {
            None | Some("text") => Format::Text,
            Some("sql") => Format::Sql,
            Some("json") => Format::Json,
            Some(other) => return Err(format!("format: `{other}` is not one of text, sql, json")),
        };
        Ok(Resolved {
            env,
            schema: s
                .schema
                .clone()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| vec![PathBuf::from("schema")]),
            url: s.url.clone(),
            dev_url: s.dev_url.clone(),
            allowed,
            options: Options {
                manage_owners: s.manage_owners.unwrap_or(false),
                filter: Filter {
                    include_schemas: s.include_schemas.clone().unwrap_or_default(),
                    exclude_schemas: s.exclude_schemas.clone().unwrap_or_default(),
                    exclude_objects: s.exclude_objects.clone().unwrap_or_default(),
                },
                online: s.online.unwrap_or(false),
            },
            format,
            protected: s.protected.unwrap_or(false),
            backup_dir: s.backup_dir.clone(),
            lock_timeout: s.lock_timeout.clone().filter(|t| !t.is_empty()),
            statement_timeout: s.statement_timeout.clone().filter(|t| !t.is_empty()),
        })
    }
}

/// The settings flags of the common arguments say.
pub fn common_flags(common: &super::Common) -> Settings {
    Settings {
        schema: (!common.schema.is_empty()).then(|| common.schema.clone()),
        url: common.url.clone(),
        dev_url: common.dev_url.clone(),
        online: common.online.then_some(true),
        ..Default::default()
    }
}
