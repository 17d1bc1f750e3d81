-- Aggregates, with every option of CREATE AGGREGATE as pg_aggregate records
-- it: support functions as regproc (schema-qualified unless in pg_catalog,
-- since search_path is empty), types by format_type, the sort operator as
-- OPERATOR(schema.name). Options left at their default are NULL or 0.
SELECT p.oid, n.nspname::text, p.proname::text,
       pg_catalog.pg_get_function_identity_arguments(p.oid),
       pg_catalog.pg_get_function_arguments(p.oid),
       coalesce(pg_catalog.pg_get_function_result(p.oid), ''),
       a.aggkind::text,
       a.aggtransfn::pg_catalog.regproc::text,
       pg_catalog.format_type(a.aggtranstype, NULL),
       a.aggtransspace,
       CASE WHEN a.aggfinalfn <> 0 THEN a.aggfinalfn::pg_catalog.regproc::text END,
       a.aggfinalextra,
       CASE a.aggfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END,
       CASE WHEN a.aggcombinefn <> 0 THEN a.aggcombinefn::pg_catalog.regproc::text END,
       CASE WHEN a.aggserialfn <> 0 THEN a.aggserialfn::pg_catalog.regproc::text END,
       CASE WHEN a.aggdeserialfn <> 0 THEN a.aggdeserialfn::pg_catalog.regproc::text END,
       a.agginitval,
       CASE WHEN a.aggmtransfn <> 0 THEN a.aggmtransfn::pg_catalog.regproc::text END,
       CASE WHEN a.aggminvtransfn <> 0 THEN a.aggminvtransfn::pg_catalog.regproc::text END,
       CASE WHEN a.aggmtranstype <> 0 THEN pg_catalog.format_type(a.aggmtranstype, NULL) END,
       a.aggmtransspace,
       CASE WHEN a.aggmfinalfn <> 0 THEN a.aggmfinalfn::pg_catalog.regproc::text END,
       a.aggmfinalextra,
       CASE a.aggmfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END,
       a.aggminitval,
       (SELECT pg_catalog.format('OPERATOR(%I.%s)', o_n.nspname, o.oprname)
        FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace o_n ON o_n.oid = o.oprnamespace
        WHERE o.oid = a.aggsortop),
       CASE p.proparallel WHEN 's' THEN 'SAFE' WHEN 'r' THEN 'RESTRICTED' ELSE 'UNSAFE' END,
       d.description,
       pg_catalog.pg_get_userbyid(p.proowner)::text,
       {{acl:p.proacl:f:p.proowner}}
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = p.oid AND d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objsubid = 0
WHERE p.prokind = 'a'
  AND {{user_schema:n}}
  AND {{not_extension_member:pg_proc:p.oid}}
