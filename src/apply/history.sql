-- converge's history table: one row per apply, rollback and attempt that
-- failed or was refused. Lives in the reserved schema `converge`, which every
-- diff ignores.
CREATE SCHEMA IF NOT EXISTS converge;
CREATE TABLE IF NOT EXISTS converge.history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    outcome text NOT NULL,
    error text,
    db_user text NOT NULL DEFAULT current_user,
    os_user text,
    host text,
    converge_version text NOT NULL,
    desired_files_sha256 text NOT NULL,
    desired_catalog_sha256 text NOT NULL,
    plan_sha256 text NOT NULL,
    catalog_before_sha256 text NOT NULL,
    catalog_after_sha256 text,
    steps integer NOT NULL,
    forward_sql text NOT NULL,
    rollback_sql text NOT NULL
);
-- Columns added after the first version of the table.
ALTER TABLE converge.history
    ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'apply',
    ADD COLUMN IF NOT EXISTS rolls_back bigint,
    ADD COLUMN IF NOT EXISTS environment text,
    ADD COLUMN IF NOT EXISTS plan_source text,
    ADD COLUMN IF NOT EXISTS duration_ms bigint,
    ADD COLUMN IF NOT EXISTS backup_path text,
    ADD COLUMN IF NOT EXISTS backup_sha256 text,
    ADD COLUMN IF NOT EXISTS plan_json text,
    ADD COLUMN IF NOT EXISTS catalog_after_json text;
ALTER TABLE converge.history DROP CONSTRAINT IF EXISTS history_outcome_check;
COMMENT ON TABLE converge.history IS 'converge: one row per apply, rollback, and failed or refused attempt';
COMMENT ON COLUMN converge.history.kind IS 'apply, or rollback (of the apply in rolls_back)';
COMMENT ON COLUMN converge.history.outcome IS 'applied, failed (rolled back: nothing changed), partial (an online apply failed after some transaction groups committed: the error names them), or refused (nothing ran)';
COMMENT ON COLUMN converge.history.plan_json IS 'the plan as plan.json writes it: what converge rollback undoes';
COMMENT ON COLUMN converge.history.catalog_after_json IS 'the catalog after the apply, for converge status to name what changed since';
-- The catalog after an apply is tens of MB of JSON for thousands of tables
-- (37 MB at 5,000): where the server has lz4, it compresses that several
-- times faster than the default pglz (~0.25 s less per apply) and smaller.
DO $$
BEGIN
    IF (SELECT 'lz4' = ANY (s.enumvals) FROM pg_catalog.pg_settings s
        WHERE s.name = 'default_toast_compression') THEN
        ALTER TABLE converge.history
            ALTER COLUMN catalog_after_json SET COMPRESSION lz4,
            ALTER COLUMN plan_json SET COMPRESSION lz4,
            ALTER COLUMN forward_sql SET COMPRESSION lz4,
            ALTER COLUMN rollback_sql SET COMPRESSION lz4;
    END IF;
END
$$;
