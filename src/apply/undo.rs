//! The undo of an applied plan, as a plan document of its own: `converge
//! rollback` runs it through the same checked, verified, recorded path as any
//! apply.
//!
//! The undo's steps are the original's in reverse, each with its forward and
//! rollback statements swapped; it starts where the original ended and must
//! end where the original started. Undoing a step that created something that
//! holds data (a table, a column, a sequence, a schema) destroys whatever was
//! written there since: those steps carry a data-loss hazard, so a rollback
//! is refused like any apply unless data loss is allowed.

use crate::diff::Verb;
use crate::plan::{Hazard, HazardKind};
use crate::render::{PlanDocument, PlanFingerprints, StepDoc};

/// Object kinds whose creation an undo destroys data with.
const HOLDS_DATA: [&str; 4] = ["table", "column", "sequence", "schema"];

/// The plan that undoes `original`.
pub fn undo_document(original: &PlanDocument) -> PlanDocument {
    let total = original.steps.len();
    let steps = original
        .steps
        .iter()
        .rev()
        .enumerate()
        .map(|(i, step)| undo_step(step, i + 1, total))
        .collect();
    let fingerprints = PlanFingerprints {
        current_catalog: original.fingerprints.desired_catalog.clone(),
        desired_catalog: original.fingerprints.current_catalog.clone(),
        desired_files: original.fingerprints.desired_files.clone(),
    };
    PlanDocument::from_steps(
        steps,
        fingerprints,
        original.server_major,
        original.options.clone(),
        original.session.clone(),
    )
}

fn undo_step(step: &StepDoc, index: usize, total: usize) -> StepDoc {
    let verb = match step.verb {
        Verb::Create => Verb::Drop,
        Verb::Drop => Verb::Create,
        Verb::Alter => Verb::Alter,
    };
    let mut hazards = Vec::new();
    if step.verb == Verb::Create && HOLDS_DATA.contains(&step.object.kind.as_str()) {
        hazards.push(Hazard {
            kind: HazardKind::DataLoss,
            message: format!(
                "undoing the creation of {} {} drops it with any data written to it since",
                step.object.kind, step.object.name
            ),
            estimate: None,
        });
    }
    let reason = if step.has_hazard(HazardKind::DataLoss) {
        Some(format!(
            "restores the structure of {} {} only: the data the original step destroyed is not brought back",
            step.object.kind, step.object.name
        ))
    } else {
        step.reason.clone()
    };
    StepDoc {
        index,
        description: format!("undo step {}/{total}: {}", step.index, step.description),
        verb,
        object: step.object.clone(),
        group: step.group.clone(),
        forward: step.rollback.clone(),
        rollback: step.forward.clone(),
        change: step.change.reverse(),
        implied_by: None,
        reason,
        hazards,
        source: step.source.clone(),
        transactional: step.transactional,
    }
}
