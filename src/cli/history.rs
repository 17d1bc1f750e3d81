//! `converge status` and `converge rollback`: what converge did to a target,
//! whether it has drifted since, and undoing the last apply.

use super::apply::{confirm, report_refusal, run_request};
use super::report;
use super::settings::Resolved;
use super::{Context, ExitStatus, Output, RollbackArgs, StatusArgs};
use crate::apply::history::{self, Row};
use crate::apply::{Kind, KnownStart, Request, refused_steps, undo_document};
use crate::catalog::{Catalog, Fingerprint};
use crate::config::Settings;
use crate::db::Endpoint;
use crate::pipeline::{TargetRead, normalize, read_target_for};
use crate::plan::describe;
use crate::render::PlanDocument;

pub async fn status(args: &StatusArgs, context: &Context, output: &mut Output<'_>) -> ExitStatus {
    let (_, target) = match resolve(context, args.url.clone(), output).await {
        Ok(x) => x,
        Err(status) => return status,
    };
    let client = match target.connect().await {
        Ok(c) => c,
        Err(e) => return report::error(output, e),
    };
    let rows = match history::exists(&client).await {
        Ok(false) => {
            let _ = writeln!(
                output.out,
                "{target}: converge has never applied a plan here (no converge.history)."
            );
            return ExitStatus::Success;
        }
        Ok(true) => match history::recent(&client, args.limit.max(1)).await {
            Ok(rows) => rows,
            Err(e) => return report::error(output, e),
        },
        Err(e) => return report::error(output, e),
    };
    let mut text = format!(
        "{target}: the last {} entr{} of converge.history\n\n",
        rows.len(),
        if rows.len() == 1 { "y" } else { "ies" }
    );
    for row in &rows {
        text.push_str(&row_line(row));
    }
    let drift = match drift(&target, &client).await {
        Ok(d) => d,
        Err(e) => return report::error(output, e),
    };
    text.push('\n');
    let drifted = match &drift {
        None => {
            text.push_str("Drift: unknown (no successful apply is recorded).\n");
            false
        }
        Some((row, changes)) if changes.is_empty() => {
            text.push_str(&format!(
                "Drift: none. The target is in the state converge left it in with #{} ({}).\n",
                row.id, row.started_at
            ));
            false
        }
        Some((row, changes)) => {
            text.push_str(&format!(
                "Drift: {} change{} made outside converge since #{} ({}):\n",
                changes.len(),
                if changes.len() == 1 { "" } else { "s" },
                row.id,
                row.started_at
            ));
            for c in changes {
                text.push_str(&format!("  {c}\n"));
            }
            true
        }
    };
    if let Err(e) = output.out.write_all(text.as_bytes()) {
        return report::error(output, format!("cannot write the status: {e}"));
    }
    if args.exit_code && drifted {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    }
}

/// One history row as a line (and its error's first line).
fn row_line(row: &Row) -> String {
    let what = match (row.kind.as_str(), row.rolls_back) {
        ("rollback", Some(of)) => format!("rollback of #{of}"),
        (kind, _) => kind.to_string(),
    };
    let who = match (&row.os_user, &row.host) {
        (Some(u), Some(h)) => format!("{u}@{h} as {}", row.db_user),
        _ => row.db_user.clone(),
    };
    let mut line = format!(
        "  #{:<4} {}  {:<16} {:<8} {:>3} step{}  {:>6}  {who}",
        row.id,
        row.started_at,
        what,
        row.outcome,
        row.steps,
        if row.steps == 1 { " " } else { "s" },
        row.duration_ms.map(|ms| format!("{ms} ms")).unwrap_or_default(),
    );
    if let Some(env) = &row.environment {
        line.push_str(&format!("  env {env}"));
    }
    if let Some(source) = &row.plan_source {
        line.push_str(&format!("  plan {source}"));
    }
    if let Some(by) = row.rolled_back_by {
        line.push_str(&format!("  (rolled back by #{by})"));
    }
    if let Some(path) = &row.backup_path {
        line.push_str(&format!("  backup {path}"));
    }
    line.push('\n');
    if let Some(error) = &row.error {
        line.push_str(&format!("         {}\n", error.lines().next().unwrap_or_default()));
    }
    line
}

/// The last successful row and what differs between the catalog it left and
/// the target now, one description per change.
async fn drift(target: &Endpoint, client: &tokio_postgres::Client) -> Result<Option<(Row, Vec<String>)>, String> {
    let Some(row) = history::last_success(client).await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let (document, left) = stored(client, &row).await?;
    let now = crate::pipeline::read_target(target).await.map_err(|e| e.to_string())?;
    let now = normalize(now.catalog, &document.options);
    let changes = crate::diff::diff(&left, &now).iter().map(describe).collect::<Vec<_>>();
    if changes.is_empty() && Fingerprint::of_catalog(&now) != Fingerprint::of_catalog(&left) {
        return Ok(Some((
            row,
            vec![crate::apply::differences(&left, &now).trim().to_string()],
        )));
    }
    Ok(Some((row, changes)))
}

/// The plan document and end catalog a history row stored.
async fn stored(client: &tokio_postgres::Client, row: &Row) -> Result<(PlanDocument, Catalog), String> {
    let (plan, catalog) = history::documents(client, row.id).await.map_err(|e| e.to_string())?;
    let (Some(plan), Some(catalog)) = (plan, catalog) else {
        return Err(format!(
            "converge.history #{} was written by an older converge and holds no plan document; it cannot be compared or rolled back",
            row.id
        ));
    };
    let document: PlanDocument = serde_json::from_str(&plan)
        .map_err(|e| format!("converge.history #{}: its plan document cannot be read: {e}", row.id))?;
    let catalog: Catalog = serde_json::from_str(&catalog)
        .map_err(|e| format!("converge.history #{}: its catalog cannot be read: {e}", row.id))?;
    Ok((document, catalog))
}

pub async fn rollback(args: &RollbackArgs, context: &Context, output: &mut Output<'_>) -> ExitStatus {
    let (settings, target) = match resolve(context, args.url.clone(), output).await {
        Ok(x) => x,
        Err(status) => return status,
    };
    let settings = match args.allow_hazards.clone() {
        Some(list) => match crate::plan::Allowed::parse(&list) {
            Ok(allowed) => Resolved { allowed, ..settings },
            Err(e) => return report::error(output, format!("--allow-hazards: {e}")),
        },
        None => settings,
    };
    let client = match target.connect().await {
        Ok(c) => c,
        Err(e) => return report::error(output, e),
    };
    let row = match pick(&client, args.id).await {
        Ok(row) => row,
        Err(e) => return report::error(output, e),
    };
    let (original, left) = match stored(&client, &row).await {
        Ok(x) => x,
        Err(e) => return report::error(output, e),
    };
    drop(client);
    // Refuse early, with the reason, when the target moved on since. The
    // apply starts from this read if no catalog row changes meanwhile.
    let (mut now, rows) = match read_target_for(&target, TargetRead::ToApply).await {
        Ok(read) => read,
        Err(e) => return report::error(output, e),
    };
    now.catalog = normalize(std::mem::take(&mut now.catalog), &original.options);
    let fingerprint = Fingerprint::of_catalog(&now.catalog);
    if fingerprint != original.fingerprints.desired_catalog {
        let _ = writeln!(
            output.err,
            "error: refused: the target is no longer in the state apply #{} left it in, so its rollback SQL may not fit. Changes since:\n{}\nrollback undoes only the last changes converge made; plan the state you want instead",
            row.id,
            crate::apply::differences(&left, &now.catalog)
        );
        return ExitStatus::Refused;
    }
    let undo = undo_document(&original);
    let refusals = refused_steps(&undo, &settings.allowed);
    if !refusals.is_empty() {
        return report_refusal(output, &refusals);
    }
    if let Err(status) = confirm(args.yes, args.confirm.as_deref(), &settings, &undo, &target, output) {
        return status;
    }
    let request = Request {
        document: &undo,
        desired: None,
        kind: Kind::Rollback { of: row.id },
        environment: settings.env.as_deref(),
        plan_source: None,
        backup: None,
        start: rows.map(|rows| KnownStart {
            snapshot: now,
            rows,
            fingerprint,
        }),
    };
    let options = settings.apply_options(true);
    run_request(
        &target,
        request,
        &options,
        output,
        &format!("Rolled back #{}:", row.id),
        None,
    )
    .await
}

/// The apply to undo: `id`, or the last one not undone yet.
async fn pick(client: &tokio_postgres::Client, id: Option<i64>) -> Result<Row, String> {
    if !history::exists(client).await.map_err(|e| e.to_string())? {
        return Err(
            "converge has never applied a plan to this target (no converge.history): nothing to roll back".into(),
        );
    }
    let row = match id {
        Some(id) => history::get(client, id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("converge.history has no entry #{id}; `converge status` lists them"))?,
        None => history::last_undoable(client)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("converge.history has no successful apply left to roll back")?,
    };
    if row.kind != "apply" || row.outcome != "applied" {
        return Err(format!(
            "#{} is a {} that {}; only a successful apply can be rolled back",
            row.id,
            row.kind,
            if row.outcome == "applied" {
                "succeeded"
            } else {
                row.outcome.as_str()
            }
        ));
    }
    if let Some(by) = row.rolled_back_by {
        return Err(format!("#{} was already rolled back by #{by}", row.id));
    }
    Ok(row)
}

async fn resolve(
    context: &Context,
    url: Option<String>,
    output: &mut Output<'_>,
) -> Result<(Resolved, Endpoint), ExitStatus> {
    let flags = Settings {
        url,
        ..Default::default()
    };
    let settings = context.settings(&flags).map_err(|e| report::error(output, e))?;
    let target = context
        .target(settings.url.as_deref())
        .await
        .map_err(|e| report::error(output, e))?;
    Ok((settings, target))
}
