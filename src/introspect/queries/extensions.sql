-- Installed extensions (their member objects are not read: they come with the extension).
SELECT x.oid, x.extname::text, n.nspname::text, x.extversion, d.description
FROM pg_catalog.pg_extension x
JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = x.oid AND d.classoid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.objsubid = 0
