//! The plan as a document: what `plan.json` holds, and everything a reviewed
//! plan needs to be applied later without planning again.
//!
//! A plan directory is `forward.sql`, `rollback.sql` and `plan.json`. The
//! scripts are rendered from the document's steps, so a plan read back from
//! its directory renders to the same bytes; `PlanDocument::read` uses that to
//! refuse a directory whose files were edited after they were generated.
//!
//! `plan.json` is versioned by `format_version`; fields are only ever added
//! within a version, and readers ignore fields they do not know.

use crate::catalog::Fingerprint;
use crate::catalog::ObjectId;
use crate::diff::{Change, Verb};
use crate::pipeline::Options;
use crate::plan::{Hazard, HazardKind, Plan, describe};
use crate::source::Location;
use crate::sql::Setting;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const PLAN_FORMAT_VERSION: u32 = 1;

/// The fingerprints a plan was made against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFingerprints {
    /// The target's catalog when the plan was made (normalized by the plan's
    /// options): `apply` refuses to run the plan on anything else.
    pub current_catalog: Fingerprint,
    /// The catalog the plan leads to: `apply` commits only when the target
    /// has it.
    pub desired_catalog: Fingerprint,
    /// The desired files as written.
    pub desired_files: Fingerprint,
}

/// An object as the document names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: String,
    pub name: String,
}

/// One step of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDoc {
    /// 1-based.
    pub index: usize,
    pub description: String,
    pub verb: Verb,
    pub object: ObjectRef,
    /// The object the summary lists the step under: the table of a column,
    /// constraint, index, trigger or policy, else the object itself
    /// (`table public.orders`).
    #[serde(default)]
    pub group: String,
    pub forward: Vec<String>,
    pub rollback: Vec<String>,
    /// The change itself, as data: what `apply --plan` checks the target's
    /// rows and sessions against before it runs the step.
    pub change: Change,
    /// The object whose drop drops this one too (nothing to run).
    pub implied_by: Option<String>,
    /// Why a step the diff did not ask for is in the plan.
    pub reason: Option<String>,
    pub hazards: Vec<Hazard>,
    pub source: Option<Location>,
    /// False for statements PostgreSQL refuses to run inside a transaction.
    pub transactional: bool,
}

impl StepDoc {
    /// The heading of the step in the forward script and in messages.
    pub fn heading(&self) -> String {
        match &self.source {
            Some(source) => format!("{}  ({source})", self.description),
            None => self.description.clone(),
        }
    }

    pub fn has_hazard(&self, kind: HazardKind) -> bool {
        self.hazards.iter().any(|h| h.kind == kind)
    }
}

/// Steps that run together: in one transaction, or one step outside any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// 1-based, inclusive.
    pub first: usize,
    pub last: usize,
    /// The number of the transaction, counting transactional groups only;
    /// `None` for a step outside a transaction.
    pub transaction: Option<usize>,
}

impl Group {
    /// `transaction 1 (steps 1-4)`, `outside a transaction: step 5`.
    pub fn label(&self) -> String {
        let steps = if self.first == self.last {
            format!("step {}", self.first)
        } else {
            format!("steps {}-{}", self.first, self.last)
        };
        match self.transaction {
            Some(n) => format!("transaction {n} ({steps})"),
            None => format!("outside a transaction: {steps}"),
        }
    }
}

/// The groups of `steps`, in order: runs of transactional steps share a
/// transaction; every other step is a group of its own.
pub fn groups(steps: &[StepDoc]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    let mut transactions = 0;
    for step in steps {
        match out.last_mut() {
            Some(g) if step.transactional && g.transaction.is_some() => g.last = step.index,
            _ => {
                let transaction = step.transactional.then(|| {
                    transactions += 1;
                    transactions
                });
                out.push(Group {
                    first: step.index,
                    last: step.index,
                    transaction,
                });
            }
        }
    }
    out
}

/// `plan.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDocument {
    pub format_version: u32,
    pub converge_version: String,
    /// The target's major version: a plan is the same on 17.2 and 17.4, and a
    /// committed plan must not go stale with a minor upgrade.
    pub server_major: i32,
    /// What the plan manages (owners, filters): the catalogs it compares are
    /// normalized by these.
    pub options: Options,
    pub fingerprints: PlanFingerprints,
    pub forward_sha256: Fingerprint,
    pub rollback_sha256: Fingerprint,
    /// The session settings the steps run under, which both scripts begin
    /// with. Absent from plans written before the scripts carried them:
    /// those render, and are checked, without.
    #[serde(default)]
    pub session: Vec<Setting>,
    pub steps: Vec<StepDoc>,
}

/// Why a plan directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a converge plan: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },
    #[error(
        "{}: format_version {found} is not one this converge reads ({PLAN_FORMAT_VERSION}); regenerate the plan with this converge",
        .path.display()
    )]
    Version { path: PathBuf, found: u32 },
    #[error(
        "{} was edited after converge generated it (its sha256 is {found}, plan.json says {expected}); a reviewed plan is applied exactly as generated: regenerate it with `converge plan --out {}`",
        .path.display(), .dir.display()
    )]
    Edited {
        path: PathBuf,
        dir: PathBuf,
        expected: String,
        found: String,
    },
    #[error(
        "{}: its steps do not render to forward.sql and rollback.sql: plan.json was edited; regenerate the plan with `converge plan --out {}`",
        .path.display(), .dir.display()
    )]
    Inconsistent { path: PathBuf, dir: PathBuf },
}

impl PlanFileError {
    /// An edited or inconsistent plan is refused (exit 3); an unreadable one
    /// is an error (exit 1).
    pub fn is_tampering(&self) -> bool {
        matches!(self, PlanFileError::Edited { .. } | PlanFileError::Inconsistent { .. })
    }
}

/// The steps of `plan`, as the document writes them.
pub fn steps_of(plan: &Plan) -> Vec<StepDoc> {
    plan.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let object = s.change.object();
            StepDoc {
                index: i + 1,
                description: describe(&s.change),
                verb: s.change.verb(),
                group: group_of(&s.change, &object),
                object: ObjectRef {
                    kind: object.kind().to_string(),
                    name: object.name(),
                },
                forward: s.forward.clone(),
                rollback: s.rollback.clone(),
                change: s.change.clone(),
                implied_by: s.implied_by.as_ref().map(|o| o.to_string()),
                reason: s.reason.clone(),
                hazards: s.hazards.clone(),
                source: s.source.clone(),
                transactional: s.transactional,
            }
        })
        .collect()
}

/// See [`StepDoc::group`].
fn group_of(change: &Change, object: &ObjectId) -> String {
    let table = match change {
        Change::CreateIndex(i) | Change::DropIndex(i) => Some(&i.table),
        _ => object.table(),
    };
    match table {
        Some(t) => format!("table {t}"),
        None => format!("{} {}", object.kind(), object.name()),
    }
}

impl PlanDocument {
    pub fn new(plan: &Plan, fingerprints: &PlanFingerprints, server_version: i32, options: &Options) -> PlanDocument {
        PlanDocument::from_steps(
            steps_of(plan),
            fingerprints.clone(),
            server_version / 10000,
            options.clone(),
            crate::sql::step_settings(),
        )
    }

    /// A document of `steps`, with the checksums of the scripts they render to.
    pub fn from_steps(
        steps: Vec<StepDoc>,
        fingerprints: PlanFingerprints,
        server_major: i32,
        options: Options,
        session: Vec<Setting>,
    ) -> PlanDocument {
        PlanDocument {
            format_version: PLAN_FORMAT_VERSION,
            converge_version: env!("CARGO_PKG_VERSION").to_string(),
            server_major,
            options,
            fingerprints,
            forward_sha256: Fingerprint::of_bytes(super::forward_script(&session, &steps).as_bytes()),
            rollback_sha256: Fingerprint::of_bytes(super::rollback_script(&session, &steps).as_bytes()),
            session,
            steps,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The plan the document describes, for the checks that work on plans
    /// (data checks, pre-flight). An implied step's `implied_by` is the step's
    /// own object: the document keeps only that it is implied, by name.
    pub fn plan(&self) -> Plan {
        Plan {
            steps: self
                .steps
                .iter()
                .map(|s| crate::plan::Step {
                    change: s.change.clone(),
                    forward: s.forward.clone(),
                    rollback: s.rollback.clone(),
                    implied_by: s.implied_by.as_ref().map(|_| s.change.object()),
                    reason: s.reason.clone(),
                    hazards: s.hazards.clone(),
                    source: s.source.clone(),
                    transactional: s.transactional,
                })
                .collect(),
        }
    }

    /// `forward.sql`.
    pub fn forward_sql(&self) -> String {
        super::forward_script(&self.session, &self.steps)
    }

    /// `rollback.sql`.
    pub fn rollback_sql(&self) -> String {
        super::rollback_script(&self.session, &self.steps)
    }

    /// `plan.json`'s text.
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serializing cannot fail.
        format!("{}\n", serde_json::to_string_pretty(self).unwrap_or_default())
    }

    /// The three files of the plan directory, rendered.
    pub fn files(&self) -> PlanFiles {
        PlanFiles {
            forward: self.forward_sql(),
            rollback: self.rollback_sql(),
            json: self.to_json(),
        }
    }

    /// Reads a plan directory, refusing one whose files were edited.
    pub fn read(dir: &Path) -> Result<PlanDocument, PlanFileError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| PlanFileError::Read { path, source })
        };
        let json_path = dir.join("plan.json");
        let json = read("plan.json")?;
        let value: serde_json::Value = serde_json::from_str(&json).map_err(|e| PlanFileError::Invalid {
            path: json_path.clone(),
            message: e.to_string(),
        })?;
        let found = value.get("format_version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        if found != PLAN_FORMAT_VERSION {
            return Err(PlanFileError::Version { path: json_path, found });
        }
        let document: PlanDocument = serde_json::from_value(value).map_err(|e| PlanFileError::Invalid {
            path: json_path.clone(),
            message: e.to_string(),
        })?;
        for (name, expected) in [
            ("forward.sql", &document.forward_sha256),
            ("rollback.sql", &document.rollback_sha256),
        ] {
            let found = Fingerprint::of_bytes(read(name)?.as_bytes());
            if &found != expected {
                return Err(PlanFileError::Edited {
                    path: dir.join(name),
                    dir: dir.to_path_buf(),
                    expected: expected.0.clone(),
                    found: found.0,
                });
            }
        }
        let rendered = PlanDocument::from_steps(
            document.steps.clone(),
            document.fingerprints.clone(),
            document.server_major,
            document.options.clone(),
            document.session.clone(),
        );
        if (&rendered.forward_sha256, &rendered.rollback_sha256)
            != (&document.forward_sha256, &document.rollback_sha256)
        {
            return Err(PlanFileError::Inconsistent {
                path: json_path,
                dir: dir.to_path_buf(),
            });
        }
        Ok(document)
    }
}

/// The three files of a plan directory, rendered.
pub struct PlanFiles {
    pub forward: String,
    pub rollback: String,
    pub json: String,
}

impl PlanFiles {
    /// The file names and contents of a plan directory.
    pub fn entries(&self) -> [(&'static str, &str); 3] {
        [
            ("forward.sql", &self.forward),
            ("rollback.sql", &self.rollback),
            ("plan.json", &self.json),
        ]
    }

    /// Writes `forward.sql`, `rollback.sql` and `plan.json` into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (name, text) in self.entries() {
            std::fs::write(dir.join(name), text)?;
        }
        Ok(())
    }

    /// The files of `dir` that are missing or differ from these, by name:
    /// empty when the committed plan is up to date.
    pub fn stale(&self, dir: &Path) -> Vec<&'static str> {
        self.entries()
            .into_iter()
            .filter(|(name, text)| std::fs::read_to_string(dir.join(name)).ok().as_deref() != Some(*text))
            .map(|(name, _)| name)
            .collect()
    }
}
