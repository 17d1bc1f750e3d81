-- The identities of the relations in $1 and of their parts, by OID, for a
-- read of what a transaction changed (changes.rs): the relations its
-- dependency rows refer to that it did not change (referenced.sql) are
-- needed only so that those OIDs translate, not read again whole. The same
-- relations and parts as the whole read's queries keep (tables.sql,
-- views.sql, sequences.sql, columns.sql, constraints.sql, indexes.sql,
-- views' rewrite rules), named as `build::catalog` names them
-- (`build::add_names`). One row each: what it is, its OID (a column's: its
-- relation's), a column's number, schema and name where it has them, the
-- relation kind or constraint type, and one more OID (a relation's row
-- type, a column's default, an identity sequence's or a constraint's or a
-- rule's relation, an index's constraint).
WITH rel AS MATERIALIZED (
    SELECT c.oid, c.relkind, c.reltype, n.nspname, c.relname
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = ANY ($1::pg_catalog.oid[])
      AND {{managed_relation:c}}
      AND {{user_schema:n}}
)
SELECT 'relation'::text AS kind, r.oid, 0::pg_catalog.int2 AS sub, r.nspname::text AS schema,
       r.relname::text AS name, r.relkind::text AS relkind, r.reltype AS link
FROM rel r
UNION ALL
SELECT 'sequence', c.oid, 0::pg_catalog.int2, n.nspname::text, c.relname::text, 'S', 0::pg_catalog.oid
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = ANY ($1::pg_catalog.oid[])
  AND c.relkind = 'S'
  AND {{user_schema:n}}
  AND {{not_extension_member:pg_class:c.oid}}
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend i
                  WHERE i.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                    AND i.objid = c.oid AND i.deptype = 'i')
UNION ALL
SELECT 'column', a.attrelid, a.attnum, NULL, a.attname::text, NULL, ad.oid
FROM rel r
JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'identity', seq.oid, a.attnum, NULL, NULL, NULL, a.attrelid
FROM rel r
JOIN pg_catalog.pg_depend idep
  ON idep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND idep.refobjid = r.oid
 AND idep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND idep.deptype = 'i'
JOIN pg_catalog.pg_class seq ON seq.oid = idep.objid AND seq.relkind = 'S'
JOIN pg_catalog.pg_attribute a ON a.attrelid = idep.refobjid AND a.attnum = idep.refobjsubid
WHERE a.attidentity <> '' AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', con.oid, 0::pg_catalog.int2, NULL, con.conname::text, con.contype::text, con.conrelid
FROM rel r
JOIN pg_catalog.pg_constraint con ON con.conrelid = r.oid
WHERE r.relkind IN ('r', 'p') AND con.contype IN ('p', 'u', 'f', 'c', 'x')
UNION ALL
SELECT 'index', i.indexrelid, 0::pg_catalog.int2, n.nspname::text, ic.relname::text, NULL, con.oid
FROM rel r
JOIN pg_catalog.pg_index i ON i.indrelid = r.oid
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
LEFT JOIN pg_catalog.pg_constraint con
       ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
WHERE {{user_schema:n}}
UNION ALL
SELECT 'rule', rw.oid, 0::pg_catalog.int2, NULL, NULL, NULL, rw.ev_class
FROM rel r
JOIN pg_catalog.pg_rewrite rw ON rw.ev_class = r.oid AND rw.rulename = '_RETURN'
WHERE r.relkind IN ('v', 'm')
