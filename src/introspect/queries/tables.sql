-- Tables, partitioned tables and partitions, with their storage options,
-- partitioning, replica identity, row-level security, owner and privileges,
-- and the parents of classic inheritance (not a partition's) in inhseqno order.
SELECT c.oid, c.reltype, n.nspname::text, c.relname::text, c.relpersistence::text, d.description,
       c.relkind::text,
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END,
       CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END,
       pn.nspname::text, pc.relname::text,
       ARRAY(SELECT o FROM pg_catalog.unnest(c.reloptions) o ORDER BY o) AS options,
       c.relreplident::text,
       c.relrowsecurity, c.relforcerowsecurity,
       pg_catalog.pg_get_userbyid(c.relowner)::text,
       {{acl:c.relacl:r:c.relowner}},
       (SELECT ri.relname::text FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class ri ON ri.oid = x.indexrelid
        WHERE x.indrelid = c.oid AND x.indisreplident),
       ARRAY(SELECT ihn.nspname::text FROM pg_catalog.pg_inherits ih
             JOIN pg_catalog.pg_class ihc ON ihc.oid = ih.inhparent
             JOIN pg_catalog.pg_namespace ihn ON ihn.oid = ihc.relnamespace
             WHERE ih.inhrelid = c.oid AND NOT c.relispartition ORDER BY ih.inhseqno) AS parent_schemas,
       ARRAY(SELECT ihc.relname::text FROM pg_catalog.pg_inherits ih
             JOIN pg_catalog.pg_class ihc ON ihc.oid = ih.inhparent
             WHERE ih.inhrelid = c.oid AND NOT c.relispartition ORDER BY ih.inhseqno) AS parent_names
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
LEFT JOIN pg_catalog.pg_inherits i ON c.relispartition AND i.inhrelid = c.oid
LEFT JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
LEFT JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
WHERE {{managed_table:c}}
  AND {{user_schema:n}}
  AND {{only:c.oid}}
