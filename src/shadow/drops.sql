-- The statements that drop the objects named by ($1 kind, $2 schema, $3 name),
-- with everything that depends on them, in the order they must run: whole
-- objects first, then the parts that may be left (an index that backs a
-- constraint goes with its constraint). Every statement says IF EXISTS: an
-- earlier one may have dropped the object already. Objects that are part of
-- another object (a table's row type, a range's multirange type) or members
-- of an extension are not dropped by name.
WITH wanted(kind, schema, name) AS (
    SELECT * FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[]))
),
drops(rank, statement) AS (
    SELECT 0, pg_catalog.format('DROP SCHEMA IF EXISTS %I CASCADE', n.nspname)
    FROM wanted w JOIN pg_catalog.pg_namespace n ON n.nspname = w.name
    WHERE w.kind = 'schema'
    UNION ALL
    SELECT CASE WHEN c.relkind IN ('i', 'I') THEN 5 ELSE 1 END,
           CASE
               WHEN con.oid IS NOT NULL THEN pg_catalog.format(
                   'ALTER TABLE IF EXISTS %I.%I DROP CONSTRAINT IF EXISTS %I CASCADE',
                   n.nspname, tab.relname, con.conname)
               ELSE pg_catalog.format('DROP %s IF EXISTS %I.%I CASCADE',
                   CASE c.relkind
                       WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'TABLE' WHEN 'v' THEN 'VIEW'
                       WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                       WHEN 'c' THEN 'TYPE' ELSE 'INDEX'
                   END,
                   n.nspname, c.relname)
           END
    FROM wanted w
    JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema
    JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.name
    LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = c.oid AND c.relkind IN ('i', 'I')
        AND con.contype IN ('p', 'u', 'x')
    LEFT JOIN pg_catalog.pg_class tab ON tab.oid = con.conrelid
    WHERE w.kind = 'relation' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'c', 'i', 'I')
      AND NOT (c.relkind = 'S' AND EXISTS (
          SELECT FROM pg_catalog.pg_depend d
          WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
            AND d.deptype = 'i'))
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend d
          WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
            AND d.deptype = 'e')
    UNION ALL
    SELECT 2, pg_catalog.format('DROP %s IF EXISTS %I.%I CASCADE',
               CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, n.nspname, t.typname)
    FROM wanted w
    JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema
    JOIN pg_catalog.pg_type t ON t.typnamespace = n.oid AND t.typname = w.name
    WHERE w.kind = 'type' AND t.typtype IN ('e', 'd', 'r', 'c', 'b')
      AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c')
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend d
          WHERE d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.objid = t.oid
            AND d.deptype IN ('e', 'i'))
    UNION ALL
    SELECT 3, pg_catalog.format('DROP %s IF EXISTS %I.%I(%s) CASCADE',
               CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END,
               n.nspname, p.proname,
               CASE WHEN p.prokind = 'a' AND p.pronargs = 0 THEN '*'
                    ELSE pg_catalog.pg_get_function_identity_arguments(p.oid) END)
    FROM wanted w
    JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema
    JOIN pg_catalog.pg_proc p ON p.pronamespace = n.oid AND p.proname = w.name
    WHERE w.kind = 'function' AND p.prokind IN ('f', 'p', 'a')
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend d
          WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
            AND d.deptype IN ('e', 'i'))
    UNION ALL
    SELECT 4, pg_catalog.format('DROP COLLATION IF EXISTS %I.%I CASCADE', n.nspname, o.collname)
    FROM wanted w
    JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema
    JOIN pg_catalog.pg_collation o ON o.collnamespace = n.oid AND o.collname = w.name
    WHERE w.kind = 'collation'
)
SELECT statement FROM drops ORDER BY rank, statement
