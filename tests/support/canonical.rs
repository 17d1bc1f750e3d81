//! An independent canonical dump of a database's schema, for tests.
//!
//! Written separately from converge's introspection (mostly from
//! `information_schema` and the `pg_get_*def` functions) so that a blind spot
//! in converge's catalog does not make two different databases look equal.
//! Column order is ignored, as converge does not converge it. Aggregates are
//! read from `pg_aggregate` with their support functions as `regprocedure`.

use converge::db::Endpoint;

const QUERIES: &[(&str, &str)] = &[
    (
        "schema",
        "SELECT nspname || coalesce(' -- ' || obj_description(oid, 'pg_namespace'), '')
         FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', 'converge')",
    ),
    (
        "extension",
        "SELECT extname || ' ' || extversion || ' in ' || extnamespace::regnamespace::text FROM pg_extension",
    ),
    (
        "column",
        "SELECT concat_ws(' | ', c.table_schema || '.' || c.table_name || '.' || c.column_name,
                pg_catalog.format_type(a.atttypid, a.atttypmod), c.is_nullable, c.column_default,
                c.is_identity, c.identity_generation, c.identity_start, c.identity_increment,
                c.identity_minimum, c.identity_maximum, c.identity_cycle,
                c.is_generated, c.generation_expression, c.collation_name,
                col_description(a.attrelid, a.attnum),
                CASE WHEN a.attislocal THEN 'local' ELSE 'not local' END, 'inherited ' || a.attinhcount)
         FROM information_schema.columns c
         JOIN pg_attribute a ON a.attrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass
                            AND a.attname = c.column_name
         WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema', 'converge')",
    ),
    (
        "table",
        "SELECT n.nspname || '.' || c.relname || ' ' || c.relkind::text || c.relpersistence::text
                || coalesce(' -- ' || obj_description(c.oid, 'pg_class'), '')
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'S', 'i') AND n.nspname NOT LIKE 'pg\\_%'
           AND n.nspname NOT IN ('information_schema', 'converge')",
    ),
    (
        "constraint",
        "SELECT conrelid::regclass::text || ' ' || conname || ' ' || contype::text || ' ' || pg_get_constraintdef(oid)
                || CASE WHEN conislocal THEN ' local' ELSE ' not local' END || ' inherited ' || coninhcount
                || coalesce(' -- ' || obj_description(oid, 'pg_constraint'), '')
         FROM pg_constraint WHERE conrelid <> 0 AND connamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema', 'converge')",
    ),
    (
        "inherits",
        "SELECT inhrelid::regclass::text || ' inherits ' || string_agg(inhparent::regclass::text, ', ' ORDER BY inhseqno)
         FROM pg_inherits GROUP BY inhrelid",
    ),
    (
        "index",
        "SELECT indexdef FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'converge')",
    ),
    (
        "sequence",
        "SELECT concat_ws(' ', schemaname || '.' || sequencename, data_type::text, start_value, min_value, max_value,
                increment_by, cycle, cache_size,
                (SELECT d.refobjid::regclass::text || '.' || a.attname FROM pg_depend d
                 JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                 WHERE d.objid = (quote_ident(schemaname) || '.' || quote_ident(sequencename))::regclass
                   AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                   AND d.deptype IN ('a', 'i')))
         FROM pg_sequences WHERE schemaname <> 'converge'",
    ),
    (
        "enum",
        "SELECT t.typnamespace::regnamespace::text || '.' || t.typname || ' ' ||
                string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                || coalesce(' -- ' || obj_description(t.oid, 'pg_type'), '')
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.oid, t.typnamespace, t.typname",
    ),
    (
        "aggregate",
        "SELECT concat_ws(' | ', p.oid::regprocedure::text, a.aggkind::text, a.aggnumdirectargs,
                pg_get_function_arguments(p.oid), pg_get_function_result(p.oid),
                a.aggtransfn::regprocedure::text, a.aggtranstype::regtype::text, a.aggtransspace,
                coalesce(quote_literal(a.agginitval), 'no initcond'),
                a.aggfinalfn::regprocedure::text, a.aggfinalextra, a.aggfinalmodify::text,
                a.aggcombinefn::regprocedure::text, a.aggserialfn::regprocedure::text,
                a.aggdeserialfn::regprocedure::text,
                a.aggmtransfn::regprocedure::text, a.aggminvtransfn::regprocedure::text,
                a.aggmtranstype::regtype::text, a.aggmtransspace,
                coalesce(quote_literal(a.aggminitval), 'no minitcond'),
                a.aggmfinalfn::regprocedure::text, a.aggmfinalextra, a.aggmfinalmodify::text,
                a.aggsortop::regoperator::text, p.proparallel::text,
                (SELECT string_agg(e, ',' ORDER BY e)
                 FROM (SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END
                              || '=' || x.privilege_type || CASE WHEN x.is_grantable THEN '*' ELSE '' END AS e
                       FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x) acl),
                obj_description(p.oid, 'pg_proc'))
         FROM pg_proc p JOIN pg_aggregate a ON a.aggfnoid = p.oid
         WHERE p.pronamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema', 'converge')",
    ),
];

/// The sorted lines describing the database's schema.
pub async fn dump(db: &Endpoint) -> Result<String, String> {
    let client = db.connect().await.map_err(|e| e.to_string())?;
    client
        .batch_execute("SET search_path = ''")
        .await
        .map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    for (kind, sql) in QUERIES {
        let rows = client
            .query(*sql, &[])
            .await
            .map_err(|e| format!("{kind}: {}", converge::db::error_message(&e)))?;
        for row in rows {
            let value: Option<String> = row.get(0);
            lines.push(format!("{kind} {}", value.unwrap_or_default()));
        }
    }
    lines.sort();
    Ok(lines.join("\n"))
}
