-- Composite types (CREATE TYPE ... AS (...)) with their attributes as JSON
-- (name, type, collation, comment) in order.
SELECT t.oid, t.typarray, c.oid, n.nspname::text, t.typname::text,
       coalesce((SELECT pg_catalog.json_agg(pg_catalog.json_build_array(
                     a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod),
                     CASE WHEN a.attcollation <> at.typcollation AND co.oid IS NOT NULL
                          THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END,
                     pg_catalog.col_description(c.oid, a.attnum), a.attnum) ORDER BY a.attnum)
                 FROM pg_catalog.pg_attribute a
                 JOIN pg_catalog.pg_type at ON at.oid = a.atttypid
                 LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
                 LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]')::text,
       d.description,
       pg_catalog.pg_get_userbyid(t.typowner)::text,
       {{acl:t.typacl:T:t.typowner}}
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.objsubid = 0
WHERE t.typtype = 'c'
  AND {{user_schema:n}}
  AND {{not_extension_member:pg_type:t.oid}}
