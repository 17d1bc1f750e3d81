-- One digest of the versions of every catalog row a read of the catalog
-- depends on: the catalogs the queries read, and those the server's
-- functions they call look names up in (pg_get_expr, pg_get_viewdef,
-- pg_get_constraintdef ... print operators, text search configurations,
-- access methods and operator classes by name). Any transaction that
-- creates, changes or drops a row of these catalogs leaves a row whose
-- xmin is its own (an update writes a new row version) or one row fewer;
-- a transaction that committed after a snapshot was taken can have no row
-- visible in it, so its xmin cannot be among that snapshot's. Each
-- catalog's row count and the sum of a hash of its rows' xmin therefore
-- change with any change of its rows between two reads. What PostgreSQL
-- updates in place, without a new row version (VACUUM's and ANALYZE's size
-- estimates and frozen transaction ids in pg_class, which the catalog does
-- not hold), does not count; the index states that CREATE or DROP INDEX
-- CONCURRENTLY sets are hashed with the row, whichever way they are
-- written. Roles and tablespaces are shared catalogs whose rows other
-- roles cannot see with their xmin: their names, which the catalog prints
-- (owners, grantees, USING INDEX TABLESPACE), are hashed instead.
-- Equal digests mean the catalog reads the same; unequal ones mean only
-- that it may not (a temporary table, a change outside the managed
-- schemas), and the caller reads it again to know.
SELECT pg_catalog.md5(pg_catalog.string_agg(v.catalog || ' ' || v.n || ' ' || coalesce(v.s, 0), ',' ORDER BY v.catalog))
FROM (
    {{row_versions}}
    UNION ALL
    SELECT 'pg_index', pg_catalog.count(*),
           pg_catalog.sum(pg_catalog.hashint8extended(x.xmin::text::bigint,
               (x.indisvalid::int * 4 + x.indisready::int * 2 + x.indislive::int)::bigint))
    FROM pg_catalog.pg_index x
    UNION ALL
    SELECT 'pg_roles', pg_catalog.count(*),
           pg_catalog.sum(pg_catalog.hashtextextended(x.oid::text || ' ' || x.rolname, 0))
    FROM pg_catalog.pg_roles x
    UNION ALL
    SELECT 'pg_tablespace', pg_catalog.count(*),
           pg_catalog.sum(pg_catalog.hashtextextended(x.oid::text || ' ' || x.spcname, 0))
    FROM pg_catalog.pg_tablespace x
) v(catalog, n, s)
