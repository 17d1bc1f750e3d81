-- Domains with their constraints (as JSON: name, definition, validated, comment).
SELECT t.oid, t.typarray, n.nspname::text, t.typname::text,
       pg_catalog.format_type(t.typbasetype, t.typtypmod),
       CASE WHEN t.typcollation <> bt.typcollation AND co.oid IS NOT NULL
            THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END,
       pg_catalog.pg_get_expr(t.typdefaultbin, 0),
       t.typnotnull,
       coalesce((SELECT pg_catalog.json_agg(pg_catalog.json_build_array(
                     con.conname::text, pg_catalog.pg_get_constraintdef(con.oid), con.convalidated,
                     pg_catalog.obj_description(con.oid, 'pg_constraint'), con.oid::bigint) ORDER BY con.conname)
                 FROM pg_catalog.pg_constraint con WHERE con.contypid = t.oid), '[]')::text,
       d.description,
       pg_catalog.pg_get_userbyid(t.typowner)::text,
       {{acl:t.typacl:T:t.typowner}}
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_catalog.pg_collation co ON co.oid = t.typcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.objsubid = 0
WHERE t.typtype = 'd'
  AND {{user_schema:n}}
  AND {{not_extension_member:pg_type:t.oid}}
