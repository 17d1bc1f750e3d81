-- Functions and procedures (not aggregates or window functions), with the
-- definition pg_get_functiondef prints.
SELECT p.oid, n.nspname::text, p.proname::text, p.prokind::text,
       pg_catalog.pg_get_function_identity_arguments(p.oid),
       pg_catalog.pg_get_function_arguments(p.oid),
       coalesce(pg_catalog.pg_get_function_result(p.oid), ''),
       pg_catalog.pg_get_functiondef(p.oid),
       d.description,
       pg_catalog.pg_get_userbyid(p.proowner)::text,
       {{acl:p.proacl:f:p.proowner}},
       l.lanname::text,
       p.prosrc
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = p.oid AND d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objsubid = 0
WHERE p.prokind IN ('f', 'p')
  AND {{user_schema:n}}
  AND {{not_extension_member:pg_proc:p.oid}}
  -- not the constructors PostgreSQL creates with a range type
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend i
                  WHERE i.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                    AND i.objid = p.oid AND i.deptype = 'i')
