//! Reading a big database's catalog on several connections at once, all of
//! them seeing the one snapshot of the first.
//!
//! The first connection opens a REPEATABLE READ, READ ONLY transaction and
//! exports its snapshot (`pg_export_snapshot`); each helper connection opens
//! the same kind of transaction and adopts it (`SET TRANSACTION SNAPSHOT`),
//! so every query reads the same state of the catalog, as if they all ran on
//! one connection. The bulk queries are split into lanes of about equal
//! server time, one per connection.
//!
//! It only helps when the server has spare CPU and the catalog is big: a
//! small database (fewer than `PARALLEL_FROM_RELATIONS` relations), an
//! endpoint with several hosts (a helper could reach another server), or a
//! helper that cannot connect or adopt the snapshot (connection limits, a
//! server without snapshot export) all make it read on the first connection
//! alone. The result is the same either way (`tests/introspect.rs`).
//!
//! Apply's starting-point check reads here too, from inside its own
//! transaction before it changes anything (`read_in`): that transaction
//! exports its snapshot to the helpers. Its end state, which only its own
//! transaction sees, is read on that one connection
//! (`introspect_in_transaction`).

use super::versions::RowVersions;
use super::{Fetched, QUERIES, ServerFacts, prepare_session, run_queries, server_facts};
use crate::catalog::Snapshot;
use crate::db::{DbError, Endpoint, query_error};
use tokio_postgres::{Client, GenericClient};

/// Below this many rows in `pg_class` (a fresh database has about 400), one
/// connection reads faster than several: opening them costs more than the
/// queries save.
const PARALLEL_FROM_RELATIONS: i64 = 3000;

/// The queries of each lane, by name, the heaviest first; every query is in
/// exactly one lane (checked by a test). Lane 0 runs on the first connection.
/// The split balances the server time measured on the benchmark's workloads
/// (at N = 5,000, each the first query of a fresh session, as here: columns
/// 0.34 s; indexes 0.32 s, constraints 0.21 s; views 0.10 s, tables 0.07 s,
/// dependencies 0.06 s). Indexes and constraints share a lane: the
/// server's deparse functions look up the same relations and columns for
/// both, and the second finds them in its session's catalog caches
/// (constraints after indexes 0.17 s instead of 0.21 s; a warm plan's read
/// of the target 25-30 ms faster than with constraints beside views).
const LANES: [&[&str]; 3] = [
    &[
        "columns",
        "schemas",
        "extensions",
        "collations",
        "enum types",
        "domains",
        "composite types",
        "range types",
        "sequences",
        "table statistics",
    ],
    &["indexes", "constraints", "triggers", "policies"],
    &[
        "views",
        "tables",
        "dependencies",
        "functions",
        "aggregates",
        "default privileges",
    ],
];

/// Reads the database at `endpoint`; with `versions`, also the versions of
/// its catalog's rows in the same snapshot, computed by the server while
/// the catalog is built from the rows (`versions::read_prepared`).
/// Returns the snapshot, the versions and the number of statements sent
/// (transaction control and the versions' query left out).
pub(super) async fn read(
    endpoint: &Endpoint,
    versions: bool,
) -> Result<(Snapshot, Option<RowVersions>, usize), DbError> {
    let mut client = endpoint.connect().await?;
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(query_error("cannot start a read-only transaction"))?;
    let (fetched, server, sent) = fetch_in(&tx, endpoint).await?;
    let (snapshot, more) = match versions {
        false => (build(fetched, server)?, None),
        true => {
            let statement = super::versions::prepare(&tx).await?;
            let mut reading = std::pin::pin!(super::versions::read_prepared(&tx, &statement));
            // The first poll sends the query; the server runs it while this
            // thread builds the catalog (the server is idle otherwise).
            let early = futures_util::poll!(reading.as_mut());
            let snapshot = build(fetched, server)?;
            let versions = match early {
                std::task::Poll::Ready(versions) => versions?,
                std::task::Poll::Pending => reading.await?,
            };
            (snapshot, Some(versions))
        }
    };
    tx.commit()
        .await
        .map_err(query_error("cannot end the read-only transaction"))?;
    Ok((snapshot, more, sent))
}

/// `read`, with `tx` (a transaction on `endpoint`, which the caller ends) as
/// the first connection. Sets the session as `introspect_in_transaction`
/// does, for the rest of that transaction. The helpers see the snapshot `tx`
/// exports: in a READ COMMITTED transaction, the state when the read starts,
/// while the first connection's own queries each see the state when they
/// run, as `introspect_in_transaction`'s do.
pub(super) async fn read_in(tx: &impl GenericClient, endpoint: &Endpoint) -> Result<(Snapshot, usize), DbError> {
    let (fetched, server, sent) = fetch_in(tx, endpoint).await?;
    Ok((build(fetched, server)?, sent))
}

/// The rows of `read_in`'s queries, the server's facts and the number of
/// statements sent.
async fn fetch_in(tx: &impl GenericClient, endpoint: &Endpoint) -> Result<(Vec<Fetched>, ServerFacts, usize), DbError> {
    let started = std::time::Instant::now();
    prepare_session(tx).await?;
    let server = server_facts(tx).await?;
    let mut sent = 2;
    let helpers = if server.relations >= PARALLEL_FROM_RELATIONS && endpoint.is_single_server() {
        let (id, seen): (String, String) = tx
            .query_one(&format!("SELECT pg_catalog.pg_export_snapshot(), {SAME_SNAPSHOT}"), &[])
            .await
            .and_then(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .map_err(query_error("cannot export the introspection snapshot"))?;
        sent += 1;
        let wanted = LANES.len() - 1;
        let joined = futures_util::future::join_all((0..wanted).map(|_| helper(endpoint, &id, &seen))).await;
        joined.into_iter().flatten().collect::<Vec<Client>>()
    } else {
        Vec::new()
    };
    sent += 4 * helpers.len();
    if !helpers.is_empty() {
        tx.batch_execute(NO_WORKERS)
            .await
            .map_err(query_error("cannot set the session for introspection"))?;
        sent += 1;
    }

    let lanes = lane_indexes(helpers.len() + 1);
    let (first, rest) = lanes.split_first().expect("at least one lane");
    let helper_reads = futures_util::future::try_join_all(
        helpers
            .iter()
            .zip(rest)
            .map(|(helper, indexes)| run_queries(helper, indexes)),
    );
    let (first_rows, helper_rows) = futures_util::future::try_join(run_queries(tx, first), helper_reads).await?;
    sent += QUERIES.len();
    for helper in &helpers {
        // The snapshot was only read: ending the transaction cannot lose anything.
        let _ = helper.batch_execute("COMMIT").await;
    }
    if !helpers.is_empty() {
        // The caller's transaction goes on (apply reads its end state in it,
        // on this connection alone, where workers help).
        tx.batch_execute(WORKERS_AGAIN)
            .await
            .map_err(query_error("cannot set the session back after introspection"))?;
        sent += 1;
    }
    drop(helpers);

    crate::timings::record(
        &format!("introspection: queries on {} connection(s)", lanes.len()),
        started,
    );

    let mut fetched = first_rows;
    fetched.extend(helper_rows.into_iter().flatten());
    Ok((fetched, server, sent))
}

/// The catalog made of the rows `fetch_in` read.
fn build(fetched: Vec<Fetched>, server: ServerFacts) -> Result<Snapshot, DbError> {
    let started = std::time::Instant::now();
    let snapshot = super::assemble(fetched, server)?;
    crate::timings::record("introspection: build the catalog", started);
    Ok(snapshot)
}

/// With several connections reading at once, no parallel workers: on top
/// of the connections they only add their start-up and hand-over costs
/// (~10% of a 5,000-table read on 2 cores), and a read of the schema should
/// not take more of a production server than that. One connection alone
/// reads faster with them (~10% too), so they are set back afterwards.
const NO_WORKERS: &str = "SET LOCAL max_parallel_workers_per_gather = 0";
const WORKERS_AGAIN: &str = "SET LOCAL max_parallel_workers_per_gather TO DEFAULT";

/// What a helper must see exactly as the first connection does: the same
/// snapshot of the same server (a host name could lead to another server,
/// where an exported snapshot's id might by chance name another snapshot).
const SAME_SNAPSHOT: &str =
    "pg_catalog.pg_current_snapshot()::text || ' ' || pg_catalog.pg_postmaster_start_time()::text";

/// A second connection in a transaction that reads snapshot `id`, seeing
/// `seen` (`SAME_SNAPSHOT` on the first connection), or `None` when it cannot
/// be had (the caller then reads with fewer connections).
async fn helper(endpoint: &Endpoint, id: &str, seen: &str) -> Option<Client> {
    let client = endpoint.connect().await.ok()?;
    // The id is what pg_export_snapshot returned (hex digits and dashes);
    // refuse anything else rather than splice it.
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return None;
    }
    client
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{id}'; {NO_WORKERS}"
        ))
        .await
        .ok()?;
    let here: String = client
        .query_one(&format!("SELECT {SAME_SNAPSHOT}"), &[])
        .await
        .and_then(|row| row.try_get(0))
        .ok()?;
    if here != seen {
        return None;
    }
    prepare_session(&client).await.ok()?;
    Some(client)
}

/// The indexes into `QUERIES` of each of `connections` lanes: the lanes of
/// `LANES` beyond the number of connections are folded into the first.
fn lane_indexes(connections: usize) -> Vec<Vec<usize>> {
    let connections = connections.clamp(1, LANES.len());
    let index_of = |name: &str| {
        QUERIES
            .iter()
            .position(|(n, _)| *n == name)
            .expect("every lane names a query")
    };
    let mut lanes: Vec<Vec<usize>> = vec![Vec::new(); connections];
    for (k, names) in LANES.iter().enumerate() {
        let lane = if k < connections { k } else { 0 };
        lanes[lane].extend(names.iter().map(|n| index_of(n)));
    }
    lanes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_is_in_exactly_one_lane() {
        for connections in 1..=LANES.len() {
            let mut all: Vec<usize> = lane_indexes(connections).into_iter().flatten().collect();
            all.sort_unstable();
            assert_eq!(
                all,
                (0..QUERIES.len()).collect::<Vec<_>>(),
                "with {connections} connection(s), each query must run once: add a new query to one of LANES"
            );
        }
    }

    #[test]
    fn fewer_connections_fold_the_lanes_into_the_first() {
        assert_eq!(lane_indexes(1).len(), 1);
        assert_eq!(lane_indexes(2).len(), 2);
        assert_eq!(lane_indexes(2)[1], lane_indexes(3)[1]);
    }
}
