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
-- no row: a dropped relation is found by name among the relations that
-- exist; a part dropped from a relation that stays (a foreign key, a
-- trigger, a policy, a comment), by the lock its statement took on the
-- relation: every relation the transaction locked in more than ACCESS
-- SHARE mode (which reading takes) counts as changed. And a relation can
-- print another object's name without a row of its own changing: a
-- default, check, index predicate or view that holds an enum label prints
-- the new label after `ALTER TYPE ... RENAME VALUE`, a `nextval` default
-- the sequence's new name. So the relations whose objects depend on a type
-- or a sequence the transaction changed, or on an enum whose labels it
-- renamed ($1: `relabeled` in changes.rs, from its labels before; a
-- label added renames nothing, and prints in no existing object), count as
-- changed too. (Plans rename nothing else another relation could print: a type,
-- domain or collation renamed aside has its users moved off it before it
-- is dropped.)
WITH changed_objects AS (
    SELECT d.classoid AS classid, d.objoid AS objid
    FROM pg_catalog.pg_description d WHERE pg_catalog.age(d.xmin) <= 0
    UNION
    SELECT d.classid, d.objid
    FROM pg_catalog.pg_depend d WHERE pg_catalog.age(d.xmin) <= 0
),
printed AS (
    SELECT 'pg_catalog.pg_type'::pg_catalog.regclass AS classid, t.oid AS objid
    FROM pg_catalog.pg_type t WHERE pg_catalog.age(t.xmin) <= 0
    UNION
    SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, r
    FROM pg_catalog.unnest($1::pg_catalog.oid[]) r
    UNION
    SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, c.oid
    FROM pg_catalog.pg_class c WHERE c.relkind = 'S' AND pg_catalog.age(c.xmin) <= 0
),
-- (Each looked up in pg_depend's index on what rows refer to: a join there
-- is planned as a scan of all of pg_depend, 187,935 rows at N = 5,000.)
printing AS (
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d
    WHERE d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass
      AND d.refobjid = ANY (ARRAY(SELECT p.objid FROM printed p
                                  WHERE p.classid = 'pg_catalog.pg_type'::pg_catalog.regclass))
    UNION ALL
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d
    WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.refobjid = ANY (ARRAY(SELECT p.objid FROM printed p
                                  WHERE p.classid = 'pg_catalog.pg_class'::pg_catalog.regclass))
),
touched AS (
    SELECT c.oid AS rel FROM pg_catalog.pg_class c WHERE pg_catalog.age(c.xmin) <= 0
    UNION SELECT a.attrelid FROM pg_catalog.pg_attribute a WHERE pg_catalog.age(a.xmin) <= 0
    UNION SELECT i.indrelid FROM pg_catalog.pg_index i WHERE pg_catalog.age(i.xmin) <= 0
    UNION SELECT h.inhrelid FROM pg_catalog.pg_inherits h WHERE pg_catalog.age(h.xmin) <= 0
    UNION SELECT h.inhparent FROM pg_catalog.pg_inherits h WHERE pg_catalog.age(h.xmin) <= 0
    UNION SELECT s.seqrelid FROM pg_catalog.pg_sequence s WHERE pg_catalog.age(s.xmin) <= 0
    UNION SELECT l.relation FROM pg_catalog.pg_locks l
          WHERE l.locktype = 'relation' AND l.pid = pg_catalog.pg_backend_pid() AND l.granted
            AND l.mode <> 'AccessShareLock'
            AND l.database = (SELECT db.oid FROM pg_catalog.pg_database db
                              WHERE db.datname = pg_catalog.current_database())
    {{changed_parts}}
    UNION {{relations_of:changed_objects:classid:objid}}
    UNION {{relations_of:printing:classid:objid}}
)
SELECT DISTINCT t.rel FROM touched t WHERE t.rel IS NOT NULL AND t.rel <> 0
