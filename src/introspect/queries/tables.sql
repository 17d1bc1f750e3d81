-- Plain tables.
SELECT c.oid, c.reltype, n.nspname::text, c.relname::text, c.relpersistence::text, d.description
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
WHERE {{managed_table:c}}
  AND {{user_schema:n}}
