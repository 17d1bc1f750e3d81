-- Append-only activity log: who did what to which record.
-- Foreign keys use ON DELETE SET NULL so history outlives its actors.

CREATE TABLE audit.events (
    id                  bigint              GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at         timestamptz         NOT NULL DEFAULT now(),
    organization_id     uuid                REFERENCES accounts.organizations (id) ON DELETE SET NULL,
    actor_kind          audit.actor_kind    NOT NULL,
    actor_user_id       uuid                REFERENCES accounts.users (id) ON DELETE SET NULL,
    actor_api_key_id    bigint              REFERENCES accounts.api_keys (id) ON DELETE SET NULL,
    action              varchar(100)        NOT NULL,
    subject_type        varchar(63)         NOT NULL,
    subject_id          text                NOT NULL,
    payload             jsonb               NOT NULL DEFAULT '{}'::jsonb,
    ip_address          inet,
    request_id          uuid,

    CONSTRAINT events_action_format
        CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    CONSTRAINT events_system_has_no_actor
        CHECK (actor_kind <> 'system' OR (actor_user_id IS NULL AND actor_api_key_id IS NULL))
);

COMMENT ON TABLE audit.events IS 'Audit trail. Insert-only; retention is handled by a nightly job.';
COMMENT ON COLUMN audit.events.action IS 'Dotted verb, e.g. invoice.issued or membership.role_changed.';
COMMENT ON COLUMN audit.events.payload IS 'Event details, typically {"before": {...}, "after": {...}}.';

-- History of one record, newest first.
CREATE INDEX events_subject_idx
    ON audit.events (subject_type, subject_id, occurred_at DESC);

CREATE INDEX events_organization_idx
    ON audit.events (organization_id, occurred_at DESC);

-- Ad-hoc investigations: WHERE payload @> '{"after": {"role": "owner"}}'.
CREATE INDEX events_payload_idx
    ON audit.events USING gin (payload);
COMMENT ON INDEX audit.events_payload_idx IS 'Full jsonb_ops GIN index so both @> and ? work on payloads.';
