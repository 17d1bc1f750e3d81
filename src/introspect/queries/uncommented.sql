-- The relations with a trigger, policy or constraint that had a comment
-- before the current transaction and has none now: `COMMENT ON TRIGGER |
-- POLICY | CONSTRAINT ... IS NULL` deletes its pg_description row, leaves
-- no row of its own, and locks the table in ACCESS SHARE mode only, so
-- changed.sql cannot see it. $1..$4: what had a comment (`trigger`,
-- `policy` or `constraint`), its table's schema and name, its name, from
-- the snapshot before. A table dropped or renamed since is found by its
-- lock; a part dropped, by its table's.
WITH had(kind, nspname, relname, name) AS (
    SELECT * FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[]),
                             pg_catalog.unnest($3::text[]), pg_catalog.unnest($4::text[]))
),
parts AS (
    SELECT had.kind, had.name, c.oid AS rel
    FROM had
    JOIN pg_catalog.pg_namespace n ON n.nspname = had.nspname
    JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = had.relname
)
SELECT DISTINCT p.rel FROM parts p
WHERE NOT EXISTS (
          SELECT FROM pg_catalog.pg_trigger t
          JOIN pg_catalog.pg_description d
            ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_trigger'::pg_catalog.regclass AND d.objsubid = 0
          WHERE p.kind = 'trigger' AND t.tgrelid = p.rel AND t.tgname = p.name)
  AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_policy x
          JOIN pg_catalog.pg_description d
            ON d.objoid = x.oid AND d.classoid = 'pg_catalog.pg_policy'::pg_catalog.regclass AND d.objsubid = 0
          WHERE p.kind = 'policy' AND x.polrelid = p.rel AND x.polname = p.name)
  AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_constraint x
          JOIN pg_catalog.pg_description d
            ON d.objoid = x.oid AND d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND d.objsubid = 0
          WHERE p.kind = 'constraint' AND x.conrelid = p.rel AND x.conname = p.name)
