-- Organizations are the tenants of the application: every order, invoice
-- and API key belongs to exactly one of them.

CREATE TABLE accounts.organizations (
    id              uuid            PRIMARY KEY DEFAULT gen_random_uuid(),
    slug            varchar(63)     NOT NULL,
    name            varchar(200)    NOT NULL,
    owner_id        uuid            NOT NULL,
    billing_email   citext,
    settings        jsonb           NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz     NOT NULL DEFAULT now(),
    updated_at      timestamptz     NOT NULL DEFAULT now(),
    deleted_at      timestamptz,

    CONSTRAINT organizations_slug_format
        CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
    CONSTRAINT organizations_settings_is_object
        CHECK (jsonb_typeof(settings) = 'object')
);

COMMENT ON TABLE accounts.organizations IS 'Tenants. Soft-deleted via deleted_at so invoices keep their customer.';
COMMENT ON COLUMN accounts.organizations.slug IS 'URL-safe handle, e.g. acme-corp. Unique among live organizations.';
COMMENT ON COLUMN accounts.organizations.owner_id IS 'The user who can delete the organization and transfer ownership.';

-- Slugs are freed up again when an organization is deleted.
CREATE UNIQUE INDEX organizations_slug_key
    ON accounts.organizations (slug)
    WHERE deleted_at IS NULL;

CREATE INDEX organizations_owner_id_idx
    ON accounts.organizations (owner_id);

-- organizations <-> users is a cycle (users.organization_id points back
-- here), so this side is added as a separate constraint. accounts.users is
-- defined in users.sql, which sorts after this file.
ALTER TABLE accounts.organizations
    ADD CONSTRAINT organizations_owner_id_fkey
    FOREIGN KEY (owner_id) REFERENCES accounts.users (id) ON DELETE RESTRICT;
