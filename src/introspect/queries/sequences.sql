-- Standalone sequences (identity sequences belong to their column), with the
-- column they are OWNED BY.
SELECT c.oid, n.nspname::text, c.relname::text,
       pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
       d.description,
       own.schema_name, own.table_name, own.column_name,
       pg_catalog.pg_get_userbyid(c.relowner)::text,
       {{acl:c.relacl:s:c.relowner}}
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
LEFT JOIN LATERAL (
    SELECT tn.nspname::text AS schema_name, tc.relname::text AS table_name, a.attname::text AS column_name
    FROM pg_catalog.pg_depend dep
    JOIN pg_catalog.pg_class tc ON tc.oid = dep.refobjid
    JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = dep.refobjid AND a.attnum = dep.refobjsubid
    WHERE dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dep.objid = c.oid
      AND dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND dep.deptype = 'a' AND dep.refobjsubid > 0
    LIMIT 1
) own ON true
WHERE c.relkind = 'S'
  AND {{user_schema:n}}
  AND {{not_extension_member:pg_class:c.oid}}
  AND {{only:c.oid}}
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend i
                  WHERE i.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                    AND i.objid = c.oid AND i.deptype = 'i')
