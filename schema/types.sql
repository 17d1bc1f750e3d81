-- Enum types shared across the schema, grouped by owning schema.
--
-- This file sorts after almost every file that uses these types; converge
-- works out the creation order itself, so that is fine.

-- accounts ------------------------------------------------------------------

CREATE TYPE accounts.user_status AS ENUM (
    'invited',
    'active',
    'suspended',
    'deactivated'
);
COMMENT ON TYPE accounts.user_status IS 'Lifecycle of a user account. Only active users can sign in.';

CREATE TYPE accounts.membership_role AS ENUM (
    'owner',
    'admin',
    'billing',
    'member',
    'viewer'
);
COMMENT ON TYPE accounts.membership_role IS 'What a user may do inside one organization, from most to least privileged.';

-- catalog -------------------------------------------------------------------

CREATE TYPE catalog.product_status AS ENUM (
    'draft',
    'active',
    'archived'
);

-- sales ---------------------------------------------------------------------

CREATE TYPE sales.order_status AS ENUM (
    'pending',
    'confirmed',
    'fulfilled',
    'cancelled'
);

-- billing -------------------------------------------------------------------

CREATE TYPE billing.currency_code AS ENUM (
    'EUR',
    'GBP',
    'USD'
);
COMMENT ON TYPE billing.currency_code IS 'ISO 4217 codes of the currencies we can charge in.';

CREATE TYPE billing.invoice_status AS ENUM (
    'draft',
    'open',
    'paid',
    'void',
    'uncollectible'
);

CREATE TYPE billing.payment_method AS ENUM (
    'card',
    'bank_transfer',
    'direct_debit'
);

CREATE TYPE billing.payment_status AS ENUM (
    'pending',
    'succeeded',
    'failed',
    'refunded'
);

-- audit ---------------------------------------------------------------------

CREATE TYPE audit.actor_kind AS ENUM (
    'user',
    'api_key',
    'system'
);
