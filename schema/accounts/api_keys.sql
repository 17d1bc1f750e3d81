-- Machine credentials for the public API. Only a hash of the token is
-- stored; the prefix is shown in the UI so people can tell keys apart.

CREATE TABLE accounts.api_keys (
    id              bigint          GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid            NOT NULL REFERENCES accounts.organizations (id) ON DELETE CASCADE,
    created_by      uuid            REFERENCES accounts.users (id) ON DELETE SET NULL,
    name            varchar(100)    NOT NULL,
    prefix          varchar(12)     NOT NULL,
    token_hash      bytea           NOT NULL,
    scopes          text[]          NOT NULL DEFAULT '{}'::text[],
    expires_at      timestamptz,
    last_used_at    timestamptz,
    revoked_at      timestamptz,
    created_at      timestamptz     NOT NULL DEFAULT now(),

    CONSTRAINT api_keys_prefix_key UNIQUE (prefix),
    CONSTRAINT api_keys_known_scopes
        CHECK (scopes <@ ARRAY['catalog:read', 'orders:read', 'orders:write', 'billing:read']::text[]),
    CONSTRAINT api_keys_expires_after_creation
        CHECK (expires_at IS NULL OR expires_at > created_at)
);

COMMENT ON TABLE accounts.api_keys IS 'API credentials. Revoked keys are kept for the audit trail.';
COMMENT ON COLUMN accounts.api_keys.scopes IS 'Granted permissions; an empty array means read-only access to the catalog.';

CREATE INDEX api_keys_organization_id_idx
    ON accounts.api_keys (organization_id)
    WHERE revoked_at IS NULL;
