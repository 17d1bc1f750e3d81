-- Indexes of the managed tables and materialized views; those that
-- implement a constraint name it, and the partitions of a partitioned index
-- (which PostgreSQL creates and drops with it) are marked.
SELECT i.indexrelid, n.nspname::text, ic.relname::text, i.indrelid,
       pg_catalog.pg_get_indexdef(i.indexrelid),
       i.indisunique, i.indisvalid,
       d.description,
       (SELECT con.oid FROM pg_catalog.pg_constraint con
        WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
          AND con.contype IN ('p', 'u', 'x')) AS constraint_oid,
       EXISTS (SELECT 1 FROM pg_catalog.pg_inherits pi WHERE pi.inhrelid = i.indexrelid) AS inherited
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = i.indexrelid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
WHERE ({{managed_table:c}} OR {{managed_view:c}})
  AND {{user_schema:n}}
