-- Indexes of the managed tables and materialized views; those that
-- implement a constraint name it (and need no definition: the constraint
-- has it), and the partitions of a partitioned index (which PostgreSQL
-- creates and drops with it) are marked with the partitioned index they are
-- attached to.
--
-- The definition is the text pg_get_indexdef prints. For an index on plain
-- columns (no expression, predicate, INCLUDE, storage parameter, operator
-- class option, non-default collation or operator class) it is composed
-- here exactly as pg_get_indexdef composes it; pg_get_indexdef itself looks
-- up the default operator class of every key column by scanning
-- pg_opclass, which made it the most expensive call of introspection.
-- Every other index is printed by pg_get_indexdef. tests/fixtures.rs
-- compares the two on every fixture.
SELECT i.indexrelid, n.nspname::text, ic.relname::text, i.indrelid,
       CASE WHEN con.oid IS NOT NULL THEN NULL
            WHEN ik.plain
            THEN 'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
                 || pg_catalog.quote_ident(ic.relname) || ' ON '
                 || pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
                 || ' USING ' || pg_catalog.quote_ident(am.amname) || ' (' || ik.columns || ')'
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
    -- A key column is printed as its name alone when its operator class is
    -- the default for its type, as GetDefaultOpClass finds it: the default
    -- class of the access method for that very type; else, when there is
    -- none, the one the type is binary-coercible to: for varchar, the
    -- class for text (text is the preferred string type); for an enum or
    -- an array, the class for anyenum or anyarray, as long as no other
    -- default class could take the type (a polymorphic one, or one for a
    -- type it casts to without a function). Anything else is left to
    -- pg_get_indexdef. Each set below is hashed once per query (joining
    -- pg_opclass per key column scanned it every time).
    SELECT pg_catalog.bool_and(
               u.attnum > 0 AND k.attname IS NOT NULL
               AND (u.coll = 0 OR u.coll = k.attcollation)
               AND (u.opt = 0 OR am.amname = 'btree')
               AND ((u.opclass, k.atttypid) IN (SELECT oc.oid, oc.opcintype
                                                FROM pg_catalog.pg_opclass oc WHERE oc.opcdefault)
                    OR ((am.oid, k.atttypid) NOT IN (SELECT oc.opcmethod, oc.opcintype
                                                     FROM pg_catalog.pg_opclass oc WHERE oc.opcdefault)
                        AND ((k.atttypid = 'pg_catalog.varchar'::pg_catalog.regtype
                              AND u.opclass IN (SELECT oc.oid FROM pg_catalog.pg_opclass oc
                                                WHERE oc.opcdefault AND oc.opcintype = 'pg_catalog.text'::pg_catalog.regtype))
                             OR (k.atttypid NOT IN (SELECT c.castsource FROM pg_catalog.pg_cast c
                                                    WHERE c.castmethod = 'b' AND c.castcontext = 'i')
                                 AND ((u.opclass IN (SELECT oc.oid FROM pg_catalog.pg_opclass oc
                                                     WHERE oc.opcdefault AND oc.opcintype = 'pg_catalog.anyenum'::pg_catalog.regtype)
                                       AND k.atttypid IN (SELECT t.oid FROM pg_catalog.pg_type t WHERE t.typtype = 'e')
                                       AND am.oid NOT IN (SELECT oc.opcmethod FROM pg_catalog.pg_opclass oc
                                                          WHERE oc.opcdefault AND oc.opcintype IN (
                                                              'pg_catalog.any'::pg_catalog.regtype,
                                                              'pg_catalog.anyelement'::pg_catalog.regtype,
                                                              'pg_catalog.anynonarray'::pg_catalog.regtype,
                                                              'pg_catalog.anycompatible'::pg_catalog.regtype,
                                                              'pg_catalog.anycompatiblenonarray'::pg_catalog.regtype)))
                                      OR (u.opclass IN (SELECT oc.oid FROM pg_catalog.pg_opclass oc
                                                        WHERE oc.opcdefault AND oc.opcintype = 'pg_catalog.anyarray'::pg_catalog.regtype)
                                          AND k.atttypid IN (SELECT t.oid FROM pg_catalog.pg_type t
                                                             WHERE t.typelem <> 0 AND t.typlen = -1)
                                          AND am.oid NOT IN (SELECT oc.opcmethod FROM pg_catalog.pg_opclass oc
                                                             WHERE oc.opcdefault AND oc.opcintype IN (
                                                                 'pg_catalog.any'::pg_catalog.regtype,
                                                                 'pg_catalog.anyelement'::pg_catalog.regtype,
                                                                 'pg_catalog.anycompatible'::pg_catalog.regtype,
                                                                 'pg_catalog.anycompatiblearray'::pg_catalog.regtype)))))))))
           AS plain,
           -- Sort options are printed where the access method orders (btree).
           pg_catalog.string_agg(pg_catalog.quote_ident(k.attname)
                                 || CASE WHEN u.opt & 1 = 1
                                         THEN CASE WHEN u.opt & 2 = 2 THEN ' DESC' ELSE ' DESC NULLS LAST' END
                                         WHEN u.opt & 2 = 2 THEN ' NULLS FIRST' ELSE '' END,
                                 ', ' ORDER BY u.n) AS columns
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
    -- Operator class options (pg_attribute.attoptions of the index's own
    -- columns) make pg_get_indexdef print the class; btree has none.
    WHERE con.oid IS NULL AND ic.relkind = 'i'
      AND i.indexprs IS NULL AND i.indpred IS NULL AND ic.reloptions IS NULL
      AND i.indnkeyatts = i.indnatts AND NOT i.indnullsnotdistinct
      AND (am.amname = 'btree' OR NOT EXISTS (
          SELECT FROM pg_catalog.pg_attribute ia
          WHERE ia.attrelid = i.indexrelid AND ia.attoptions IS NOT NULL))
) ik ON true
LEFT JOIN pg_catalog.pg_inherits pi ON pi.inhrelid = i.indexrelid
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = i.indexrelid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
WHERE {{managed_relation:c}}
  AND {{user_schema:n}}
  AND {{only:i.indrelid}}
