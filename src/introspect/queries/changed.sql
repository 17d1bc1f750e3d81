-- The relations the current transaction created or changed, run in it
-- before it commits: every catalog row it inserted or rewrote carries its
-- transaction id in xmin, or the id of one of its subtransactions, which
-- are newer: `age(xmin) <= 0` (age counts from the transaction's own id
-- once it has one; frozen rows are infinitely old). Rows of a table's columns, defaults, constraints,
-- indexes, triggers, policies, rules, inheritance, sequence options,
-- comments and recorded dependencies all lead to the relation they belong
-- to. Then the set is closed over ownership both ways (an index and its
-- table, an owned or identity sequence and its table), since the catalog
-- reads one with the other (changed_closure.sql). What was dropped leaves
-- no row: the caller finds it by name among the relations that exist.
WITH changed_objects AS (
    SELECT d.classoid AS classid, d.objoid AS objid
    FROM pg_catalog.pg_description d WHERE pg_catalog.age(d.xmin) <= 0
    UNION
    SELECT d.classid, d.objid
    FROM pg_catalog.pg_depend d WHERE pg_catalog.age(d.xmin) <= 0
),
touched AS (
    SELECT c.oid AS rel FROM pg_catalog.pg_class c WHERE pg_catalog.age(c.xmin) <= 0
    UNION SELECT a.attrelid FROM pg_catalog.pg_attribute a WHERE pg_catalog.age(a.xmin) <= 0
    UNION SELECT i.indrelid FROM pg_catalog.pg_index i WHERE pg_catalog.age(i.xmin) <= 0
    UNION SELECT h.inhrelid FROM pg_catalog.pg_inherits h WHERE pg_catalog.age(h.xmin) <= 0
    UNION SELECT h.inhparent FROM pg_catalog.pg_inherits h WHERE pg_catalog.age(h.xmin) <= 0
    UNION SELECT s.seqrelid FROM pg_catalog.pg_sequence s WHERE pg_catalog.age(s.xmin) <= 0
    {{changed_parts}}
    UNION {{relations_of:changed_objects:classid:objid}}
)
SELECT DISTINCT t.rel FROM touched t WHERE t.rel IS NOT NULL AND t.rel <> 0
