-- User triggers (not the internal ones behind foreign keys, nor the clones
-- on partitions) of the managed tables and views.
SELECT tg.oid, tg.tgrelid, tg.tgname::text, pg_catalog.pg_get_triggerdef(tg.oid),
       tg.tgenabled::text, d.description
FROM pg_catalog.pg_trigger tg
JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d
       ON d.objoid = tg.oid AND d.classoid = 'pg_catalog.pg_trigger'::pg_catalog.regclass AND d.objsubid = 0
WHERE NOT tg.tgisinternal AND tg.tgparentid = 0
  AND {{managed_relation:c}}
  AND {{user_schema:n}}
  AND {{only:tg.tgrelid}}
