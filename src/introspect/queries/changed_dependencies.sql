-- The dependency rows to read again after a transaction changed the
-- relations in $1 (changed.sql): those of objects that belong to them, and
-- all those of objects that belong to no relation (types, functions,
-- schemas, collations, ..., read again in full anyway), with every row that
-- maps objects to their extension or an array type to its element, which
-- the translation of any row may need. Rows of the other relations'
-- objects are as they were. One scan of pg_depend, each class of object
-- tested against a small hashed set. Used as the start of a statement (a
-- CTE named `changed_dependencies`).
WITH changed_dependencies AS (
    SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, d.refobjsubid, d.deptype
    FROM pg_catalog.pg_depend d
    WHERE d.deptype IN ('n', 'a', 'i', 'e')
      AND d.objid >= 16384
      AND (CASE d.classid
           WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN
                d.objid = ANY($1::pg_catalog.oid[])
                OR d.objid IN (SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relkind = 'c')
           {{parts_of_changed:d.objid}}
           -- Types: all but the row types of other tables and views (and
           -- their array types), and every array's link to its element.
           WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN
                (d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.deptype = 'i')
                OR d.objid NOT IN (
                    SELECT t.oid FROM pg_catalog.pg_type t
                    JOIN pg_catalog.pg_class rc ON rc.oid = t.typrelid
                    WHERE rc.relkind <> 'c' AND rc.oid <> ALL($1::pg_catalog.oid[])
                    UNION ALL
                    SELECT a.oid FROM pg_catalog.pg_type a
                    JOIN pg_catalog.pg_type t ON t.oid = a.typelem
                    JOIN pg_catalog.pg_class rc ON rc.oid = t.typrelid
                    WHERE rc.relkind <> 'c' AND rc.oid <> ALL($1::pg_catalog.oid[]))
           ELSE true
           END
           OR d.deptype = 'e'
           OR (d.classid, d.objid) IN (SELECT m.classid, m.objid FROM pg_catalog.pg_depend m
                                       WHERE m.deptype = 'e'))
)
