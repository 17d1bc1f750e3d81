-- Every recorded dependency between user objects (objects created by initdb
-- have OIDs below 16384). Mapped to catalog identities in Rust.
SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, d.refobjsubid, d.deptype
FROM pg_catalog.pg_depend d
WHERE d.deptype IN ('n', 'a', 'i', 'e')
  AND d.objid >= 16384
