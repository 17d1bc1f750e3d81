-- Which users belong to which organizations, and with what role.

CREATE TABLE accounts.memberships (
    organization_id uuid                        NOT NULL REFERENCES accounts.organizations (id) ON DELETE CASCADE,
    user_id         uuid                        NOT NULL REFERENCES accounts.users (id) ON DELETE CASCADE,
    role            accounts.membership_role    NOT NULL DEFAULT 'member',
    invited_by      uuid                        REFERENCES accounts.users (id) ON DELETE SET NULL,
    created_at      timestamptz                 NOT NULL DEFAULT now(),

    PRIMARY KEY (organization_id, user_id),
    CONSTRAINT memberships_not_self_invited
        CHECK (invited_by IS NULL OR invited_by <> user_id)
);

COMMENT ON TABLE accounts.memberships IS 'Users in organizations. The primary key also serves lookups by organization.';

-- "Which organizations can this user see?"
CREATE INDEX memberships_user_id_idx
    ON accounts.memberships (user_id)
    INCLUDE (role);
