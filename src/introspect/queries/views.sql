-- Views and materialized views: query, options, population, owner,
-- privileges, and the oid of the rewrite rule that implements each.
SELECT c.oid, c.reltype, n.nspname::text, c.relname::text, c.relkind::text,
       pg_catalog.pg_get_viewdef(c.oid),
       ARRAY(SELECT o FROM pg_catalog.unnest(c.reloptions) o ORDER BY o) AS options,
       c.relispopulated,
       d.description,
       pg_catalog.pg_get_userbyid(c.relowner)::text,
       {{acl:c.relacl:r:c.relowner}},
       (SELECT r.oid FROM pg_catalog.pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename = '_RETURN')
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0
WHERE {{managed_view:c}}
  AND {{user_schema:n}}
  AND {{only:c.oid}}
