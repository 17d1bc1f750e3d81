//! `converge.toml`: project settings, environments, and defaults for flags.
//!
//! Every setting is resolved in one place, by one rule: a command-line flag
//! wins over the selected environment's setting, which wins over the file's
//! `[defaults]` and top-level keys, which win over converge's built-in
//! defaults. Unknown keys are errors (a typo must not be silently ignored).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file name converge looks for in the working directory.
pub const FILE_NAME: &str = "converge.toml";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("no environment `{name}` in {path} (environments: {known})")]
    UnknownEnvironment { name: String, path: String, known: String },
    #[error("environment `{name}` reads its URL from ${var}, which is not set")]
    MissingUrlVariable { name: String, var: String },
}

/// Settings that can appear at the top level, in `[defaults]`, and in each
/// environment. Every field is optional: absent means "not said here".
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Desired schema files or directories.
    pub schema: Option<Vec<PathBuf>>,
    /// The database to change.
    pub url: Option<String>,
    /// An environment variable holding the database URL (keeps secrets out of the file).
    pub url_env: Option<String>,
    /// A server for shadow databases.
    pub dev_url: Option<String>,
    /// Hazard kinds `apply` allows.
    pub allow_hazards: Option<Vec<String>>,
    /// Apply with the online strategy (concurrent index builds, NOT VALID
    /// then VALIDATE, lock timeouts with retries).
    pub online: Option<bool>,
    /// `apply` needs a reviewed plan file and an explicit confirmation.
    pub protected: Option<bool>,
    /// Converge object owners too.
    pub manage_owners: Option<bool>,
    /// Only these schemas are managed (all when absent).
    pub include_schemas: Option<Vec<String>>,
    /// These schemas are left alone.
    pub exclude_schemas: Option<Vec<String>>,
    /// Objects left alone, as `schema.name` patterns with `*` wildcards.
    pub exclude_objects: Option<Vec<String>>,
    /// `lock_timeout` for each statement of an online apply (`5s`).
    pub lock_timeout: Option<String>,
    /// `statement_timeout` for each statement of an online apply.
    pub statement_timeout: Option<String>,
    /// Where `apply --backup` writes dumps of data that data-loss steps destroy.
    pub backup_dir: Option<PathBuf>,
    /// Output format of `plan`: text, sql or json.
    pub format: Option<String>,
}

impl Settings {
    /// `self` over `lower`: every field set here wins.
    pub fn over(&self, lower: &Settings) -> Settings {
        macro_rules! pick {
            ($($f:ident),*) => { Settings { $($f: self.$f.clone().or_else(|| lower.$f.clone()),)* } };
        }
        pick!(
            schema,
            url,
            url_env,
            dev_url,
            allow_hazards,
            online,
            protected,
            manage_owners,
            include_schemas,
            exclude_schemas,
            exclude_objects,
            lock_timeout,
            statement_timeout,
            backup_dir,
            format
        )
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The environment used when `--env` is not given.
    pub default_environment: Option<String>,
    #[serde(flatten)]
    pub top: Settings,
    /// Defaults for every flag of every command.
    #[serde(default)]
    pub defaults: Settings,
    #[serde(default)]
    pub environments: BTreeMap<String, Settings>,
}

/// A loaded configuration (or none) and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub file: ConfigFile,
    pub path: Option<PathBuf>,
}

impl Config {
    /// Reads `path`, or `converge.toml` in the working directory if it exists
    /// (no file is not an error: every setting has a default).
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from(FILE_NAME), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.display().to_string(),
                    message: e.to_string(),
                });
            }
        };
        Config::parse(&text, &path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.display().to_string(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        Ok(Config {
            file,
            path: Some(path.to_path_buf()),
        })
    }

    /// The settings for a command: `flags` over the environment over the
    /// file's defaults. Returns the environment's name too.
    pub fn resolve(
        &self,
        env: Option<&str>,
        flags: &Settings,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(Option<String>, Settings), ConfigError> {
        let name = env
            .map(str::to_string)
            .or_else(|| self.file.default_environment.clone());
        let environment = match &name {
            Some(n) => self
                .file
                .environments
                .get(n)
                .cloned()
                .ok_or_else(|| ConfigError::UnknownEnvironment {
                    name: n.clone(),
                    path: self
                        .path
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| FILE_NAME.into()),
                    known: if self.file.environments.is_empty() {
                        "none".into()
                    } else {
                        self.file.environments.keys().cloned().collect::<Vec<_>>().join(", ")
                    },
                })?,
            None => Settings::default(),
        };
        let mut settings = flags.over(&environment.over(&self.file.defaults.over(&self.file.top)));
        if settings.url.is_none()
            && let Some(var) = &settings.url_env
        {
            settings.url = Some(vars(var).ok_or_else(|| ConfigError::MissingUrlVariable {
                name: name.clone().unwrap_or_default(),
                var: var.clone(),
            })?);
        }
        Ok((name, settings))
    }
}

/// The commented starter file `converge init` writes.
pub const STARTER: &str = r#"# converge.toml: settings for converge (https://github.com/…/converge).
# Every key is optional. Command-line flags win over the environment's
# settings, which win over [defaults] and the top-level keys.

# Where the desired schema lives: .sql files, read recursively, in any order.
schema = ["schema"]

# A server where converge may create and drop temporary databases to load
# the desired state (default: converge's own embedded PostgreSQL).
# dev_url = "postgres://me@localhost/postgres"

# Only manage some schemas, leave others alone, or skip objects by name.
# include_schemas = ["app", "billing"]
# exclude_schemas = ["legacy"]
# exclude_objects = ["public.tmp_*"]

# Converge object owners too (ALTER ... OWNER TO).
# manage_owners = false

# The environment used when --env is not given.
# default_environment = "dev"

[defaults]
# allow_hazards = []          # data-loss, table-rewrite, long-lock, irreversible, ... or "all"
# format = "text"             # plan output: text, sql or json

# [environments.dev]
# url = "postgres://localhost/app_dev"
# allow_hazards = ["all"]

# [environments.staging]
# url_env = "STAGING_DATABASE_URL"    # read the URL from this variable
# online = true

# [environments.production]
# url_env = "PRODUCTION_DATABASE_URL"
# protected = true            # apply only a reviewed plan: converge apply --plan generated/<name>
# online = true
# lock_timeout = "5s"
# backup_dir = "backups"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("converge.toml")).unwrap()
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_defaults() {
        let c = config(
            r#"
            schema = ["db"]
            dev_url = "postgres://top/postgres"
            [defaults]
            allow_hazards = ["data-loss"]
            format = "sql"
            [environments.prod]
            url = "postgres://prod/app"
            allow_hazards = []
            protected = true
            "#,
        );
        let none = |_: &str| None;
        let (name, s) = c.resolve(Some("prod"), &Settings::default(), &none).unwrap();
        assert_eq!(name.as_deref(), Some("prod"));
        assert_eq!(s.url.as_deref(), Some("postgres://prod/app"));
        assert_eq!(s.allow_hazards, Some(vec![]), "the environment beats [defaults]");
        assert_eq!(
            s.format.as_deref(),
            Some("sql"),
            "[defaults] fill what the environment does not say"
        );
        assert_eq!(s.schema, Some(vec![PathBuf::from("db")]), "top-level keys come last");
        assert_eq!(s.protected, Some(true));
        let flags = Settings {
            url: Some("postgres://flag/app".into()),
            format: Some("json".into()),
            ..Default::default()
        };
        let (_, s) = c.resolve(Some("prod"), &flags, &none).unwrap();
        assert_eq!(s.url.as_deref(), Some("postgres://flag/app"));
        assert_eq!(s.format.as_deref(), Some("json"));
    }

    #[test]
    fn urls_can_come_from_variables_and_unknown_things_are_errors() {
        let c = config("[environments.staging]\nurl_env = \"STAGING_URL\"\n");
        let vars = |v: &str| (v == "STAGING_URL").then(|| "postgres://staging/app".to_string());
        let (_, s) = c.resolve(Some("staging"), &Settings::default(), &vars).unwrap();
        assert_eq!(s.url.as_deref(), Some("postgres://staging/app"));
        assert!(c.resolve(Some("staging"), &Settings::default(), &|_| None).is_err());
        assert!(c.resolve(Some("prod"), &Settings::default(), &|_| None).is_err());
        assert!(
            Config::parse("shcema = []", Path::new("c.toml")).is_err(),
            "typos are errors"
        );
    }

    #[test]
    fn the_starter_file_parses() {
        config(STARTER);
    }
}
