-- Columns of the managed tables, views and materialized views, in column
-- order: defaults, identity (and its sequence's options), generation
-- expressions, non-default collations, storage, compression, statistics,
-- privileges.
--
-- A default is printed with its table as context only when it refers to a
-- column (a Var node, as in a generated column's expression): giving
-- pg_get_expr the table makes the server open it and build its relation
-- cache entry, which for thousands of tables costs more than the rest of
-- the query. An expression without a column prints the same either way.
--
-- Not sorted here: sorting about 100,000 wide rows costs the server a tenth
-- of the query; build.rs puts them in column order.
--
-- The schemas are filtered by OID against the few that are not the user's,
-- not by joining pg_namespace: the planner's row count for that join comes
-- from pg_namespace's statistics, which autovacuum seldom gathers on so
-- small a catalog (a fresh database says 4 rows); it then expected 796 of
-- the 94,597 columns of the 5,000-table benchmark and joined them to
-- everything else in the costliest way (0.53 → 0.46 s).
--
-- The identity columns' sequences are found first, on their own (a few
-- thousand rows), then joined to the columns: joined in place, the planner
-- hashed all the columns to probe them with the dependency rows (0.33 →
-- 0.30 s at N = 5,000).
WITH identity_sequences AS MATERIALIZED (
    SELECT idep.refobjid AS attrelid, idep.refobjsubid AS attnum,
           seq.oid, sn.nspname::text AS nspname, seq.relname::text AS relname,
           pg_catalog.format_type(s.seqtypid, NULL) AS seqtype, s.seqstart, s.seqincrement,
           s.seqmin, s.seqmax, s.seqcache, s.seqcycle
    FROM pg_catalog.pg_depend idep
    JOIN pg_catalog.pg_class seq ON seq.oid = idep.objid AND seq.relkind = 'S'
    JOIN pg_catalog.pg_namespace sn ON sn.oid = seq.relnamespace
    JOIN pg_catalog.pg_sequence s ON s.seqrelid = seq.oid
    WHERE idep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND idep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND idep.deptype = 'i'
      AND {{only:idep.refobjid}}
)
SELECT a.attrelid, a.attnum, a.attname::text,
       pg_catalog.format_type(a.atttypid, a.atttypmod),
       a.attnotnull,
       pg_catalog.pg_get_expr(ad.adbin, CASE WHEN ad.adbin::text LIKE '%{VAR %' THEN ad.adrelid ELSE 0 END),
       ad.oid,
       a.attidentity::text,
       a.attgenerated::text,
       CASE WHEN a.attcollation <> t.typcollation AND co.oid IS NOT NULL
            THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END,
       d.description,
       idseq.oid, idseq.nspname, idseq.relname,
       idseq.seqtype, idseq.seqstart, idseq.seqincrement,
       idseq.seqmin, idseq.seqmax, idseq.seqcache, idseq.seqcycle,
       CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END,
       CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END,
       CASE WHEN a.attstattarget >= 0 THEN a.attstattarget::int END,
       {{acl:a.attacl::}},
       c.relkind::text,
       t.typstorage::text,
       CASE WHEN a.attoptions IS NULL THEN ARRAY[]::text[]
            ELSE ARRAY(SELECT o FROM pg_catalog.unnest(a.attoptions) o ORDER BY o) END AS options,
       NOT a.attislocal
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = a.attrelid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = a.attnum
LEFT JOIN identity_sequences idseq
       ON a.attidentity <> '' AND idseq.attrelid = a.attrelid AND idseq.attnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND {{managed_relation:c}}
  AND {{user_schema_oid:c.relnamespace}}
  AND {{only:a.attrelid}}
