-- The relations in $1 (changed.sql) with the relations they belong to and
-- those that belong to them: an index and its table, an owned or identity
-- sequence and its table. Each found through the catalogs' own indexes.
WITH wholes(rel) AS (
    SELECT r FROM pg_catalog.unnest($1::pg_catalog.oid[]) r
    UNION
    SELECT d.refobjid FROM pg_catalog.pg_depend d
    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.objid = ANY($1::pg_catalog.oid[])
      AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.deptype IN ('a', 'i')
    UNION
    SELECT i.indrelid FROM pg_catalog.pg_index i WHERE i.indexrelid = ANY($1::pg_catalog.oid[])
),
closed(rel) AS (
    SELECT w.rel FROM wholes w
    UNION
    SELECT d.objid FROM wholes w
    JOIN pg_catalog.pg_depend d
      ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = w.rel
     AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
    UNION
    SELECT i.indexrelid FROM wholes w JOIN pg_catalog.pg_index i ON i.indrelid = w.rel
)
SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text,
       (c.relkind IN ('p', 'I') OR c.relispartition) AS partitioning
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid IN (SELECT closed.rel FROM closed)
  AND {{user_schema:n}}
