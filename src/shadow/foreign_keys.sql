-- The statements that add back the foreign keys named by ($1 schema, $2 table,
-- $3 constraint) as they are now, each followed by its comment if it has
-- one: read before the tables they reference are dropped and re-created,
-- run after. Definitions are printed for the session's search_path, which
-- is also the one they run with.
WITH wanted(schema, tab, name) AS (
    SELECT * FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[]))
)
SELECT pg_catalog.format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s',
           n.nspname, c.relname, f.conname, pg_catalog.pg_get_constraintdef(f.oid))
       || CASE WHEN d.description IS NULL THEN ''
               ELSE pg_catalog.format('; COMMENT ON CONSTRAINT %I ON %I.%I IS %L',
                        f.conname, n.nspname, c.relname, d.description)
          END
FROM wanted w
JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema
JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.tab
JOIN pg_catalog.pg_constraint f ON f.conrelid = c.oid AND f.conname = w.name AND f.contype = 'f'
LEFT JOIN pg_catalog.pg_description d
    ON d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND d.objoid = f.oid AND d.objsubid = 0
ORDER BY n.nspname, c.relname, f.conname
