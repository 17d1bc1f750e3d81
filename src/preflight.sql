-- Sessions other than this one, in this database, that hold a lock on one of
-- the relations ($1 schemas, $2 names, pairwise) or on one of their indexes,
-- in a transaction open for at least $3 seconds. Locks on an index count for
-- its table. Catalog and statistics views only: nothing is locked here.
WITH wanted AS (
    SELECT c.oid
    FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) AS w(schema_name, relation_name)
    JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema_name
    JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.relation_name
),
held AS (
    SELECT l.pid, COALESCE(x.indrelid, l.relation) AS relation, l.mode
    FROM pg_catalog.pg_locks l
    LEFT JOIN pg_catalog.pg_index x ON x.indexrelid = l.relation
    WHERE l.locktype = 'relation'
      AND l.granted
      AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
      AND l.pid <> pg_catalog.pg_backend_pid()
)
SELECT a.pid,
       a.usename::text,
       a.application_name::text,
       a.state::text,
       EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - a.xact_start)::float8,
       COALESCE(a.query, '')::text,
       ARRAY(SELECT DISTINCT pg_catalog.format('%s.%s (%s)', n.nspname, c.relname, h2.mode)
             FROM held h2
             JOIN pg_catalog.pg_class c ON c.oid = h2.relation
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE h2.pid = a.pid AND h2.relation IN (SELECT oid FROM wanted)
             ORDER BY 1)
FROM pg_catalog.pg_stat_activity a
WHERE a.pid IN (SELECT h.pid FROM held h WHERE h.relation IN (SELECT oid FROM wanted))
  AND a.xact_start IS NOT NULL
  AND pg_catalog.clock_timestamp() - a.xact_start >= pg_catalog.make_interval(secs => $3)
ORDER BY a.pid
