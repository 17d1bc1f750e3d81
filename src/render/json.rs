//! `plan.json` and the plan directory (`forward.sql`, `rollback.sql`,
//! `plan.json`).
//!
//! `plan.json` is versioned by `format_version`; fields are only ever added
//! within a version.

use crate::catalog::Fingerprint;
use crate::plan::{Plan, describe};
use serde_json::{Value, json};
use std::path::Path;

pub const PLAN_FORMAT_VERSION: u32 = 1;

/// The fingerprints a plan was made against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFingerprints {
    pub current_catalog: Fingerprint,
    pub desired_catalog: Fingerprint,
    pub desired_files: Fingerprint,
}

pub fn plan_json(plan: &Plan, fingerprints: &PlanFingerprints, server_version: i32) -> Value {
    let forward = super::forward_sql(plan);
    let rollback = super::rollback_sql(plan);
    let steps: Vec<Value> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let object = s.change.object();
            json!({
                "index": i + 1,
                "description": describe(&s.change),
                "verb": s.change.verb(),
                "object": { "kind": object.kind(), "name": object.name() },
                "forward": s.forward,
                "rollback": s.rollback,
                "implied_by": s.implied_by.as_ref().map(|o| o.to_string()),
                "reason": s.reason,
                "hazards": s.hazards,
                "source": s.source,
                "transactional": true,
            })
        })
        .collect();
    json!({
        "format_version": PLAN_FORMAT_VERSION,
        "converge_version": env!("CARGO_PKG_VERSION"),
        // The major version only: a plan is the same on 17.2 and 17.4, and a
        // committed plan must not go stale with a minor upgrade.
        "server_major": server_version / 10000,
        "fingerprints": {
            "current_catalog": fingerprints.current_catalog,
            "desired_catalog": fingerprints.desired_catalog,
            "desired_files": fingerprints.desired_files,
        },
        "forward_sha256": Fingerprint::of_bytes(forward.as_bytes()),
        "rollback_sha256": Fingerprint::of_bytes(rollback.as_bytes()),
        "steps": steps,
    })
}

/// The three files of a plan directory, rendered.
pub struct PlanFiles {
    pub forward: String,
    pub rollback: String,
    pub json: String,
}

impl PlanFiles {
    pub fn render(plan: &Plan, fingerprints: &PlanFingerprints, server_version: i32) -> PlanFiles {
        let json = plan_json(plan, fingerprints, server_version);
        PlanFiles {
            forward: super::forward_sql(plan),
            rollback: super::rollback_sql(plan),
            json: format!("{}\n", serde_json::to_string_pretty(&json).unwrap_or_default()),
        }
    }

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
