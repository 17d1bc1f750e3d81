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
    UNION SELECT ad.adrelid FROM pg_catalog.pg_attrdef ad WHERE pg_catalog.age(ad.xmin) <= 0
    UNION SELECT con.conrelid FROM pg_catalog.pg_constraint con WHERE pg_catalog.age(con.xmin) <= 0
    UNION SELECT i.indrelid FROM pg_catalog.pg_index i WHERE pg_catalog.age(i.xmin) <= 0
    UNION SELECT t.tgrelid FROM pg_catalog.pg_trigger t WHERE pg_catalog.age(t.xmin) <= 0
    UNION SELECT p.polrelid FROM pg_catalog.pg_policy p WHERE pg_catalog.age(p.xmin) <= 0
    UNION SELECT r.ev_class FROM pg_catalog.pg_rewrite r WHERE pg_catalog.age(r.xmin) <= 0
    UNION SELECT h.inhrelid FROM pg_catalog.pg_inherits h WHERE pg_catalog.age(h.xmin) <= 0
    UNION SELECT h.inhparent FROM pg_catalog.pg_inherits h WHERE pg_catalog.age(h.xmin) <= 0
    UNION SELECT s.seqrelid FROM pg_catalog.pg_sequence s WHERE pg_catalog.age(s.xmin) <= 0
    UNION SELECT o.objid FROM changed_objects o
          WHERE o.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
    UNION SELECT con.conrelid FROM changed_objects o
          JOIN pg_catalog.pg_constraint con ON con.oid = o.objid
          WHERE o.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
    UNION SELECT ad.adrelid FROM changed_objects o
          JOIN pg_catalog.pg_attrdef ad ON ad.oid = o.objid
          WHERE o.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
    UNION SELECT t.tgrelid FROM changed_objects o
          JOIN pg_catalog.pg_trigger t ON t.oid = o.objid
          WHERE o.classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass
    UNION SELECT p.polrelid FROM changed_objects o
          JOIN pg_catalog.pg_policy p ON p.oid = o.objid
          WHERE o.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass
    UNION SELECT r.ev_class FROM changed_objects o
          JOIN pg_catalog.pg_rewrite r ON r.oid = o.objid
          WHERE o.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
    UNION SELECT coalesce(nullif(t.typrelid, 0), e.typrelid) FROM changed_objects o
          JOIN pg_catalog.pg_type t ON t.oid = o.objid
          LEFT JOIN pg_catalog.pg_type e ON e.oid = t.typelem
          WHERE o.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
)
SELECT DISTINCT t.rel FROM touched t WHERE t.rel IS NOT NULL AND t.rel <> 0
