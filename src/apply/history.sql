-- converge's history table: one row per apply and per failed attempt.
-- Lives in the reserved schema `converge`, which every diff ignores.
CREATE SCHEMA IF NOT EXISTS converge;
CREATE TABLE IF NOT EXISTS converge.history (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    outcome text NOT NULL CHECK (outcome IN ('applied', 'failed')),
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
COMMENT ON TABLE converge.history IS 'converge: one row per apply and per failed attempt';
