-- (follows changed_dependencies.sql) The relations the dependency rows to
-- read again refer to, which the catalog must be read again for too, so
-- that their OIDs translate: a table a foreign key or a view uses, the
-- table of an index or identity sequence referred to, the table or view
-- of a row type (or of its array type).
, refs AS (
    SELECT DISTINCT cd.refclassid, cd.refobjid
    FROM changed_dependencies cd
    WHERE cd.deptype <> 'e'
      AND NOT (cd.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
               AND cd.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass AND cd.deptype = 'i')
),
referred(rel) AS (
    SELECT r.refobjid FROM refs r
    WHERE r.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
    UNION
    SELECT con.conrelid FROM refs r JOIN pg_catalog.pg_constraint con ON con.oid = r.refobjid
    WHERE r.refclassid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
    UNION
    SELECT ad.adrelid FROM refs r JOIN pg_catalog.pg_attrdef ad ON ad.oid = r.refobjid
    WHERE r.refclassid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
    UNION
    SELECT rw.ev_class FROM refs r JOIN pg_catalog.pg_rewrite rw ON rw.oid = r.refobjid
    WHERE r.refclassid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
    UNION
    SELECT tg.tgrelid FROM refs r JOIN pg_catalog.pg_trigger tg ON tg.oid = r.refobjid
    WHERE r.refclassid = 'pg_catalog.pg_trigger'::pg_catalog.regclass
    UNION
    SELECT p.polrelid FROM refs r JOIN pg_catalog.pg_policy p ON p.oid = r.refobjid
    WHERE r.refclassid = 'pg_catalog.pg_policy'::pg_catalog.regclass
    UNION
    SELECT coalesce(nullif(t.typrelid, 0), e.typrelid) FROM refs r
    JOIN pg_catalog.pg_type t ON t.oid = r.refobjid
    LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem
    WHERE r.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass
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
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'i', 'I')
