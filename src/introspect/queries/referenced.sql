-- The relations that the dependency rows read again (changed_dependencies.sql)
-- refer to, given as the arrays of their (refclassid, refobjid) in $1, $2:
-- what their OIDs translate to must be read too (referenced_names.sql, for
-- those the transaction did not change): a table a foreign key or a view
-- uses, the sequence a default
-- uses, the table of an index or identity sequence referred to, the table
-- or view of a row type (or of its array type).
WITH refs(refclassid, refobjid) AS (
    SELECT * FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.oid[]), pg_catalog.unnest($2::pg_catalog.oid[]))
),
referred(rel) AS (
    {{relations_of:refs:refclassid:refobjid}}
),
owners(rel) AS (
    SELECT rel FROM referred
    UNION
    SELECT i.indrelid FROM referred JOIN pg_catalog.pg_index i ON i.indexrelid = referred.rel
    UNION
    SELECT d.refobjid FROM referred
    JOIN pg_catalog.pg_depend d
      ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = referred.rel
     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'i'
)
SELECT c.oid, (c.relkind IN ('p', 'I') OR c.relispartition) AS partitioning
FROM owners JOIN pg_catalog.pg_class c ON c.oid = owners.rel
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'i', 'I', 'S')
