-- Enum types with their labels in sort order.
SELECT t.oid, t.typarray, n.nspname::text, t.typname::text,
       ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
             WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels,
       d.description,
       pg_catalog.pg_get_userbyid(t.typowner)::text,
       {{acl:t.typacl:T:t.typowner}}
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.objsubid = 0
WHERE t.typtype = 'e'
  AND {{user_schema:n}}
  AND {{not_extension_member:pg_type:t.oid}}
