-- ALTER DEFAULT PRIVILEGES entries: role, schema ('' for all), object type, grants.
SELECT pg_catalog.pg_get_userbyid(a.defaclrole)::text,
       coalesce(n.nspname::text, ''),
       CASE a.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'
                            WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' END,
       {{acl:a.defaclacl::}}
FROM pg_catalog.pg_default_acl a
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = a.defaclnamespace
WHERE n.oid IS NULL OR {{user_schema:n}}
