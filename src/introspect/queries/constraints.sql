-- Primary key, unique, foreign key, check and exclusion constraints declared
-- on the managed tables, as pg_get_constraintdef prints them; those a
-- partition inherits from its parent are marked.
SELECT con.oid, con.conrelid, con.conname::text, con.contype::text,
       pg_catalog.pg_get_constraintdef(con.oid),
       con.condeferrable, con.condeferred, con.convalidated,
       fn.nspname::text, fc.relname::text,
       d.description,
       (con.conparentid <> 0 OR NOT con.conislocal) AS inherited
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = con.oid AND d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND d.objsubid = 0
WHERE con.contype IN ('p', 'u', 'f', 'c', 'x')
  AND {{managed_table:c}}
  AND {{user_schema:n}}
  AND {{only:con.conrelid}}
