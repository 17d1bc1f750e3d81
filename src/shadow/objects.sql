-- The objects named by ($1 kind, $2 schema, $3 name) and every object that
-- PostgreSQL would drop along with them (pg_depend, transitively), each as
-- the name a desired statement would create or use:
--   kind      relation | type | function | schema | collation | foreign_key | other
--   schema, name
--   partition true for a partitioned table or a partition, or a foreign key
--             cloned onto a partition (their re-creation
--             depends on the order partitions and indexes are made in)
--   conname   the foreign key's name, for `foreign_key` rows
-- `other` rows are objects of a kind the incremental shadow does not follow.
-- A foreign key is not followed further: `foreign_key` rows name the foreign
-- keys that reference what is dropped (its table is the row's relation),
-- which the update adds back instead of re-creating their tables.
WITH RECURSIVE wanted(kind, schema, name) AS (
    SELECT * FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[]))
),
roots(classid, objid) AS (
    SELECT 'pg_catalog.pg_namespace'::pg_catalog.regclass::oid, n.oid
    FROM wanted w JOIN pg_catalog.pg_namespace n ON n.nspname = w.name
    WHERE w.kind = 'schema'
    UNION ALL
    SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::oid, c.oid
    FROM wanted w
    JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema
    JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.name
    WHERE w.kind = 'relation'
    UNION ALL
    SELECT 'pg_catalog.pg_type'::pg_catalog.regclass::oid, t.oid
    FROM wanted w
    JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema
    JOIN pg_catalog.pg_type t ON t.typnamespace = n.oid AND t.typname = w.name
    WHERE w.kind = 'type'
    UNION ALL
    SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass::oid, p.oid
    FROM wanted w
    JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema
    JOIN pg_catalog.pg_proc p ON p.pronamespace = n.oid AND p.proname = w.name
    WHERE w.kind = 'function'
    UNION ALL
    SELECT 'pg_catalog.pg_collation'::pg_catalog.regclass::oid, o.oid
    FROM wanted w
    JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema
    JOIN pg_catalog.pg_collation o ON o.collnamespace = n.oid AND o.collname = w.name
    WHERE w.kind = 'collation'
),
closure(classid, objid) AS (
    SELECT classid, objid FROM roots
    UNION
    SELECT d.classid, d.objid
    FROM closure x
    JOIN pg_catalog.pg_depend d ON d.refclassid = x.classid AND d.refobjid = x.objid
    WHERE d.deptype IN ('n', 'a', 'i')
      AND NOT (d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND EXISTS (
          SELECT FROM pg_catalog.pg_constraint f WHERE f.oid = d.objid AND f.contype = 'f'))
),
foreign_keys(oid) AS (
    SELECT DISTINCT d.objid
    FROM closure x
    JOIN pg_catalog.pg_depend d ON d.refclassid = x.classid AND d.refobjid = x.objid
    JOIN pg_catalog.pg_constraint f ON f.oid = d.objid AND f.contype = 'f'
    WHERE d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND d.deptype IN ('n', 'a', 'i')
),
relations(oid) AS (
    SELECT x.objid FROM closure x WHERE x.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
    UNION SELECT i.indrelid FROM closure x JOIN pg_catalog.pg_index i ON i.indexrelid = x.objid
    WHERE x.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
    UNION SELECT t.typrelid FROM closure x JOIN pg_catalog.pg_type t ON t.oid = x.objid
    WHERE x.classid = 'pg_catalog.pg_type'::pg_catalog.regclass AND t.typrelid <> 0
    UNION SELECT c.conrelid FROM closure x JOIN pg_catalog.pg_constraint c ON c.oid = x.objid
    WHERE x.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND c.conrelid <> 0
    UNION SELECT a.adrelid FROM closure x JOIN pg_catalog.pg_attrdef a ON a.oid = x.objid
    WHERE x.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
    UNION SELECT t.tgrelid FROM closure x JOIN pg_catalog.pg_trigger t ON t.oid = x.objid
    WHERE x.classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass
    UNION SELECT p.polrelid FROM closure x JOIN pg_catalog.pg_policy p ON p.oid = x.objid
    WHERE x.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass
    UNION SELECT r.ev_class FROM closure x JOIN pg_catalog.pg_rewrite r ON r.oid = x.objid
    WHERE x.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
)
SELECT 'relation' AS kind, n.nspname::text AS schema, c.relname::text AS name,
       (c.relkind = 'p' OR c.relispartition) AS partition, NULL::text AS conname
FROM relations r
JOIN pg_catalog.pg_class c ON c.oid = r.oid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
UNION ALL
SELECT 'type', n.nspname::text, t.typname::text, false, NULL
FROM closure x
JOIN pg_catalog.pg_type t ON t.oid = x.objid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE x.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
UNION ALL
SELECT 'type', n.nspname::text, t.typname::text, false, NULL
FROM closure x
JOIN pg_catalog.pg_constraint c ON c.oid = x.objid
JOIN pg_catalog.pg_type t ON t.oid = c.contypid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE x.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
UNION ALL
SELECT 'function', n.nspname::text, p.proname::text, false, NULL
FROM closure x
JOIN pg_catalog.pg_proc p ON p.oid = x.objid
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE x.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
UNION ALL
SELECT 'schema', NULL, n.nspname::text, false, NULL
FROM closure x
JOIN pg_catalog.pg_namespace n ON n.oid = x.objid
WHERE x.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
UNION ALL
SELECT 'collation', n.nspname::text, o.collname::text, false, NULL
FROM closure x
JOIN pg_catalog.pg_collation o ON o.oid = x.objid
JOIN pg_catalog.pg_namespace n ON n.oid = o.collnamespace
WHERE x.classid = 'pg_catalog.pg_collation'::pg_catalog.regclass
UNION ALL
SELECT 'foreign_key', n.nspname::text, c.relname::text,
       (c.relkind = 'p' OR c.relispartition OR f.conparentid <> 0), f.conname::text
FROM foreign_keys k
JOIN pg_catalog.pg_constraint f ON f.oid = k.oid
JOIN pg_catalog.pg_class c ON c.oid = f.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
UNION ALL
SELECT 'other', x.classid::pg_catalog.regclass::text, x.objid::text, false, NULL
FROM closure x
WHERE x.classid NOT IN (
    'pg_catalog.pg_class'::pg_catalog.regclass, 'pg_catalog.pg_type'::pg_catalog.regclass,
    'pg_catalog.pg_constraint'::pg_catalog.regclass, 'pg_catalog.pg_attrdef'::pg_catalog.regclass,
    'pg_catalog.pg_trigger'::pg_catalog.regclass, 'pg_catalog.pg_policy'::pg_catalog.regclass,
    'pg_catalog.pg_rewrite'::pg_catalog.regclass, 'pg_catalog.pg_proc'::pg_catalog.regclass,
    'pg_catalog.pg_namespace'::pg_catalog.regclass, 'pg_catalog.pg_collation'::pg_catalog.regclass
)
