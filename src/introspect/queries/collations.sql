-- Collations (the locale columns differ between server versions: read them
-- through to_jsonb).
SELECT c.oid, n.nspname::text, c.collname::text,
       CASE c.collprovider WHEN 'i' THEN 'icu' WHEN 'c' THEN 'libc' ELSE 'default' END,
       pg_catalog.to_jsonb(c) ->> 'collcollate',
       pg_catalog.to_jsonb(c) ->> 'collctype',
       coalesce(pg_catalog.to_jsonb(c) ->> 'colllocale', pg_catalog.to_jsonb(c) ->> 'colliculocale'),
       c.collisdeterministic,
       d.description,
       pg_catalog.pg_get_userbyid(c.collowner)::text
FROM pg_catalog.pg_collation c
JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_collation'::pg_catalog.regclass AND d.objsubid = 0
WHERE {{user_schema:n}}
  AND {{not_extension_member:pg_collation:c.oid}}
