-- The relations the current transaction created or changed, run in it
-- before it commits: every catalog row it inserted or rewrote carries its
-- transaction id in xmin (the kept shadow's update runs in one transaction
-- without savepoints). Rows of a table's columns, defaults, constraints,
-- indexes, triggers, policies, rules, inheritance, sequence options,
-- comments and recorded dependencies all lead to the relation they belong
-- to. Then the set is closed over ownership both ways (an index and its
-- table, an owned or identity sequence and its table), since the catalog
-- reads one with the other (changed_closure.sql). What was dropped leaves
-- no row: the caller finds it by name among the relations that exist.
WITH x AS (
    SELECT (pg_catalog.txid_current() % 4294967296)::text::pg_catalog.xid AS id
),
changed_objects AS (
    SELECT d.classoid AS classid, d.objoid AS objid
    FROM pg_catalog.pg_description d, x WHERE d.xmin = x.id
    UNION
    SELECT d.classid, d.objid
    FROM pg_catalog.pg_depend d, x WHERE d.xmin = x.id
),
touched AS (
    SELECT c.oid AS rel FROM pg_catalog.pg_class c, x WHERE c.xmin = x.id
    UNION SELECT a.attrelid FROM pg_catalog.pg_attribute a, x WHERE a.xmin = x.id
    UNION SELECT ad.adrelid FROM pg_catalog.pg_attrdef ad, x WHERE ad.xmin = x.id
    UNION SELECT con.conrelid FROM pg_catalog.pg_constraint con, x WHERE con.xmin = x.id
    UNION SELECT i.indrelid FROM pg_catalog.pg_index i, x WHERE i.xmin = x.id
    UNION SELECT t.tgrelid FROM pg_catalog.pg_trigger t, x WHERE t.xmin = x.id
    UNION SELECT p.polrelid FROM pg_catalog.pg_policy p, x WHERE p.xmin = x.id
    UNION SELECT r.ev_class FROM pg_catalog.pg_rewrite r, x WHERE r.xmin = x.id
    UNION SELECT h.inhrelid FROM pg_catalog.pg_inherits h, x WHERE h.xmin = x.id
    UNION SELECT h.inhparent FROM pg_catalog.pg_inherits h, x WHERE h.xmin = x.id
    UNION SELECT s.seqrelid FROM pg_catalog.pg_sequence s, x WHERE s.xmin = x.id
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
