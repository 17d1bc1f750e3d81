-- Planner estimates of every table and materialized view's size, for the
-- estimates beside hazards: reltuples (-1 when never vacuumed or analyzed)
-- and relpages. Read from pg_class only: no table is opened, scanned or locked.
SELECT n.nspname::text, c.relname::text,
       c.reltuples::float8,
       c.relpages::int8 * pg_catalog.current_setting('block_size')::int8
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm')
  AND {{user_schema:n}}
  AND {{only:c.oid}}
