-- Indexes of the managed tables and materialized views; those that
-- implement a constraint name it (and need no definition: the constraint
-- has it), and the partitions of a partitioned index (which PostgreSQL
-- creates and drops with it) are marked with the partitioned index they are
-- attached to.
--
-- The definition is the text pg_get_indexdef prints. For a plain btree
-- index on columns (no expression, predicate, INCLUDE, storage parameter,
-- sort option, non-default operator class or collation) it is composed here
-- exactly as pg_get_indexdef composes it; pg_get_indexdef itself looks up
-- the default operator class of every key column by scanning pg_opclass,
-- which made it the most expensive call of introspection. Every other index
-- is printed by pg_get_indexdef.
SELECT i.indexrelid, n.nspname::text, ic.relname::text, i.indrelid,
       CASE WHEN con.oid IS NOT NULL THEN NULL
            WHEN ik.plain
            THEN 'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
                 || pg_catalog.quote_ident(ic.relname) || ' ON '
                 || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
                 || ' USING btree (' || ik.columns || ')'
            ELSE pg_catalog.pg_get_indexdef(i.indexrelid) END,
       i.indisunique, i.indisvalid,
       d.description,
       con.oid AS constraint_oid,
       pi.inhrelid IS NOT NULL AS inherited,
       pi.inhparent
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
LEFT JOIN pg_catalog.pg_constraint con
       ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
LEFT JOIN LATERAL (
    -- The operator class is the default one for the column's type: looked
    -- up in one hashed set of (class, type) pairs, built once per query
    -- (joining pg_opclass per key column scanned it every time).
    SELECT pg_catalog.bool_and(u.attnum > 0 AND u.opt = 0 AND k.attname IS NOT NULL
                               AND (u.opclass, k.atttypid) IN (SELECT oc.oid, oc.opcintype
                                                               FROM pg_catalog.pg_opclass oc
                                                               WHERE oc.opcdefault)
                               AND (u.coll = 0 OR u.coll = k.attcollation)) AS plain,
           pg_catalog.string_agg(pg_catalog.quote_ident(k.attname), ', ' ORDER BY u.n) AS columns
    FROM ROWS FROM (pg_catalog.unnest(i.indkey::pg_catalog.int2[]),
                    pg_catalog.unnest(i.indclass::pg_catalog.oid[]),
                    pg_catalog.unnest(i.indcollation::pg_catalog.oid[]),
                    pg_catalog.unnest(i.indoption::pg_catalog.int2[]))
         WITH ORDINALITY u(attnum, opclass, coll, opt, n)
    -- One index probe per key column (OFFSET 0 keeps the planner from
    -- flattening it into a join over all of pg_attribute).
    LEFT JOIN LATERAL (
        SELECT a.attname, a.atttypid, a.attcollation
        FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = i.indrelid AND a.attnum = u.attnum
        OFFSET 0
    ) k ON true
    -- Only where the definition may be composed: elsewhere nothing is read.
    WHERE con.oid IS NULL AND ic.relkind = 'i' AND am.amname = 'btree'
      AND i.indexprs IS NULL AND i.indpred IS NULL AND ic.reloptions IS NULL
      AND i.indnkeyatts = i.indnatts AND NOT i.indnullsnotdistinct
) ik ON true
LEFT JOIN pg_catalog.pg_inherits pi ON pi.inhrelid = i.indexrelid
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = i.indexrelid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
WHERE {{managed_relation:c}}
  AND {{user_schema:n}}
