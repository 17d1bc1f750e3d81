-- People who can sign in. A user may belong to several organizations (see
-- memberships.sql); organization_id is only the one they signed up through.

CREATE TABLE accounts.users (
    id              uuid                    PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid                    REFERENCES accounts.organizations (id) ON DELETE SET NULL,
    email           varchar(320)            NOT NULL,
    display_name    varchar(120)            NOT NULL,
    status          accounts.user_status    NOT NULL DEFAULT 'invited',
    password_hash   text,
    locale          varchar(16)             NOT NULL DEFAULT 'en',
    last_login_at   timestamptz,
    created_at      timestamptz             NOT NULL DEFAULT now(),
    updated_at      timestamptz             NOT NULL DEFAULT now(),
    deleted_at      timestamptz,

    CONSTRAINT users_email_format
        CHECK (position('@' IN email) > 1),
    CONSTRAINT users_active_has_password
        CHECK (status <> 'active' OR password_hash IS NOT NULL)
);

COMMENT ON TABLE accounts.users IS 'Everyone who can sign in, across all organizations.';
COMMENT ON COLUMN accounts.users.organization_id IS 'Home organization: the one the user signed up through. Access is governed by memberships.';
COMMENT ON COLUMN accounts.users.password_hash IS 'Argon2id hash; NULL until an invited user sets a password.';

-- E-mail addresses are unique regardless of case, among live accounts.
CREATE UNIQUE INDEX users_email_key
    ON accounts.users (lower(email))
    WHERE deleted_at IS NULL;
COMMENT ON INDEX accounts.users_email_key IS 'Case-insensitive e-mail uniqueness; also serves the sign-in lookup.';

CREATE INDEX users_organization_id_idx
    ON accounts.users (organization_id);
