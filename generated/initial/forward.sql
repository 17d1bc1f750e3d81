-- converge: 60 steps to apply, in this order

-- the settings converge apply runs the steps with
SET search_path = public;
SET check_function_bodies = off;

-- step 1/60: create schema accounts  (schema/schemas.sql:3:1)
CREATE SCHEMA accounts;
COMMENT ON SCHEMA accounts IS 'Organizations, users, memberships and API credentials.';

-- step 2/60: create schema audit  (schema/schemas.sql:15:1)
CREATE SCHEMA audit;
COMMENT ON SCHEMA audit IS 'Append-only security and activity log. Rows are never updated.';

-- step 3/60: create schema billing  (schema/schemas.sql:12:1)
CREATE SCHEMA billing;
COMMENT ON SCHEMA billing IS 'Invoices, payments and refunds.';

-- step 4/60: create schema catalog  (schema/schemas.sql:6:1)
CREATE SCHEMA catalog;
COMMENT ON SCHEMA catalog IS 'Product catalog: categories, products and their price lists.';

-- step 5/60: create schema sales  (schema/schemas.sql:9:1)
CREATE SCHEMA sales;
COMMENT ON SCHEMA sales IS 'Orders placed by organizations and where to ship them.';

-- step 6/60: create extension citext  (schema/extensions.sql:7:1)
CREATE EXTENSION citext WITH SCHEMA public VERSION '1.6';
COMMENT ON EXTENSION citext IS 'data type for case-insensitive character strings';

-- step 7/60: create type accounts.membership_role  (schema/types.sql:16:1)
CREATE TYPE accounts.membership_role AS ENUM ('owner', 'admin', 'billing', 'member', 'viewer');
COMMENT ON TYPE accounts.membership_role IS 'What a user may do inside one organization, from most to least privileged.';

-- step 8/60: create type accounts.user_status  (schema/types.sql:8:1)
CREATE TYPE accounts.user_status AS ENUM ('invited', 'active', 'suspended', 'deactivated');
COMMENT ON TYPE accounts.user_status IS 'Lifecycle of a user account. Only active users can sign in.';

-- step 9/60: create type audit.actor_kind  (schema/types.sql:74:1)
CREATE TYPE audit.actor_kind AS ENUM ('user', 'api_key', 'system');

-- step 10/60: create type billing.currency_code  (schema/types.sql:44:1)
CREATE TYPE billing.currency_code AS ENUM ('EUR', 'GBP', 'USD');
COMMENT ON TYPE billing.currency_code IS 'ISO 4217 codes of the currencies we can charge in.';

-- step 11/60: create type billing.invoice_status  (schema/types.sql:51:1)
CREATE TYPE billing.invoice_status AS ENUM ('draft', 'open', 'paid', 'void', 'uncollectible');

-- step 12/60: create type billing.payment_method  (schema/types.sql:59:1)
CREATE TYPE billing.payment_method AS ENUM ('card', 'bank_transfer', 'direct_debit');

-- step 13/60: create type billing.payment_status  (schema/types.sql:65:1)
CREATE TYPE billing.payment_status AS ENUM ('pending', 'succeeded', 'failed', 'refunded');

-- step 14/60: create type catalog.product_status  (schema/types.sql:27:1)
CREATE TYPE catalog.product_status AS ENUM ('draft', 'active', 'archived');

-- step 15/60: create type sales.order_status  (schema/types.sql:35:1)
CREATE TYPE sales.order_status AS ENUM ('pending', 'confirmed', 'fulfilled', 'cancelled');

-- step 16/60: create sequence billing.invoice_number_seq  (schema/billing/sequences.sql:5:1)
CREATE SEQUENCE billing.invoice_number_seq START WITH 100000;

-- step 17/60: create table accounts.organizations  (schema/accounts/organizations.sql:4:1)
CREATE TABLE accounts.organizations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    slug character varying(63) NOT NULL,
    name character varying(200) NOT NULL,
    owner_id uuid NOT NULL,
    billing_email public.citext,
    settings jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT organizations_pkey PRIMARY KEY (id)
);
COMMENT ON TABLE accounts.organizations IS 'Tenants. Soft-deleted via deleted_at so invoices keep their customer.';
COMMENT ON COLUMN accounts.organizations.slug IS 'URL-safe handle, e.g. acme-corp. Unique among live organizations.';
COMMENT ON COLUMN accounts.organizations.owner_id IS 'The user who can delete the organization and transfer ownership.';
ALTER TABLE accounts.organizations ADD CONSTRAINT organizations_settings_is_object CHECK (jsonb_typeof(settings) = 'object');
ALTER TABLE accounts.organizations ADD CONSTRAINT organizations_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$');

-- step 18/60: create table accounts.users  (schema/accounts/users.sql:4:1)
CREATE TABLE accounts.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organization_id uuid,
    email character varying(320) NOT NULL,
    display_name character varying(120) NOT NULL,
    status accounts.user_status DEFAULT 'invited'::accounts.user_status NOT NULL,
    password_hash text,
    locale character varying(16) DEFAULT 'en'::character varying NOT NULL,
    last_login_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT users_pkey PRIMARY KEY (id)
);
COMMENT ON TABLE accounts.users IS 'Everyone who can sign in, across all organizations.';
COMMENT ON COLUMN accounts.users.organization_id IS 'Home organization: the one the user signed up through. Access is governed by memberships.';
COMMENT ON COLUMN accounts.users.password_hash IS 'Argon2id hash; NULL until an invited user sets a password.';
ALTER TABLE accounts.users ADD CONSTRAINT users_active_has_password CHECK (status <> 'active' OR password_hash IS NOT NULL);
ALTER TABLE accounts.users ADD CONSTRAINT users_email_format CHECK (POSITION('@' IN email) > 1);

-- step 19/60: create table accounts.api_keys  (schema/accounts/api_keys.sql:4:1)
CREATE TABLE accounts.api_keys (
    id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    organization_id uuid NOT NULL,
    created_by uuid,
    name character varying(100) NOT NULL,
    prefix character varying(12) NOT NULL,
    token_hash bytea NOT NULL,
    scopes text[] DEFAULT '{}'::text[] NOT NULL,
    expires_at timestamp with time zone,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix),
    CONSTRAINT api_keys_created_by_fkey FOREIGN KEY (created_by) REFERENCES accounts.users(id) ON DELETE SET NULL,
    CONSTRAINT api_keys_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES accounts.organizations(id) ON DELETE CASCADE
);
COMMENT ON TABLE accounts.api_keys IS 'API credentials. Revoked keys are kept for the audit trail.';
COMMENT ON COLUMN accounts.api_keys.scopes IS 'Granted permissions; an empty array means read-only access to the catalog.';
ALTER TABLE accounts.api_keys ADD CONSTRAINT api_keys_expires_after_creation CHECK (expires_at IS NULL OR expires_at > created_at);
ALTER TABLE accounts.api_keys ADD CONSTRAINT api_keys_known_scopes CHECK (scopes <@ ARRAY['catalog:read', 'orders:read', 'orders:write', 'billing:read']::text[]);

-- step 20/60: create table accounts.memberships  (schema/accounts/memberships.sql:3:1)
CREATE TABLE accounts.memberships (
    organization_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role accounts.membership_role DEFAULT 'member'::accounts.membership_role NOT NULL,
    invited_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (organization_id, user_id),
    CONSTRAINT memberships_invited_by_fkey FOREIGN KEY (invited_by) REFERENCES accounts.users(id) ON DELETE SET NULL,
    CONSTRAINT memberships_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES accounts.organizations(id) ON DELETE CASCADE,
    CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id) REFERENCES accounts.users(id) ON DELETE CASCADE
);
COMMENT ON TABLE accounts.memberships IS 'Users in organizations. The primary key also serves lookups by organization.';
ALTER TABLE accounts.memberships ADD CONSTRAINT memberships_not_self_invited CHECK (invited_by IS NULL OR invited_by <> user_id);

-- step 21/60: create table audit.events  (schema/audit/events.sql:4:1)
CREATE TABLE audit.events (
    id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    occurred_at timestamp with time zone DEFAULT now() NOT NULL,
    organization_id uuid,
    actor_kind audit.actor_kind NOT NULL,
    actor_user_id uuid,
    actor_api_key_id bigint,
    action character varying(100) NOT NULL,
    subject_type character varying(63) NOT NULL,
    subject_id text NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    ip_address inet,
    request_id uuid,
    CONSTRAINT events_pkey PRIMARY KEY (id),
    CONSTRAINT events_actor_api_key_id_fkey FOREIGN KEY (actor_api_key_id) REFERENCES accounts.api_keys(id) ON DELETE SET NULL,
    CONSTRAINT events_actor_user_id_fkey FOREIGN KEY (actor_user_id) REFERENCES accounts.users(id) ON DELETE SET NULL,
    CONSTRAINT events_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES accounts.organizations(id) ON DELETE SET NULL
);
COMMENT ON TABLE audit.events IS 'Audit trail. Insert-only; retention is handled by a nightly job.';
COMMENT ON COLUMN audit.events.action IS 'Dotted verb, e.g. invoice.issued or membership.role_changed.';
COMMENT ON COLUMN audit.events.payload IS 'Event details, typically {"before": {...}, "after": {...}}.';
ALTER TABLE audit.events ADD CONSTRAINT events_action_format CHECK (action ~ E'^[a-z_]+\\.[a-z_]+$');
ALTER TABLE audit.events ADD CONSTRAINT events_system_has_no_actor CHECK (actor_kind <> 'system' OR (actor_user_id IS NULL AND actor_api_key_id IS NULL));

-- step 22/60: create table audit.login_attempts  (schema/audit/login_attempts.sql:3:1)
CREATE TABLE audit.login_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    email character varying(320) NOT NULL,
    user_id uuid,
    succeeded boolean NOT NULL,
    failure_reason character varying(60),
    ip_address inet NOT NULL,
    user_agent text,
    attempted_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT login_attempts_pkey PRIMARY KEY (id),
    CONSTRAINT login_attempts_user_id_fkey FOREIGN KEY (user_id) REFERENCES accounts.users(id) ON DELETE SET NULL
);
COMMENT ON TABLE audit.login_attempts IS 'Sign-in attempts, including those for unknown e-mail addresses.';
ALTER TABLE audit.login_attempts ADD CONSTRAINT login_attempts_failure_has_reason CHECK (succeeded OR failure_reason IS NOT NULL);

-- step 23/60: create table catalog.categories  (schema/catalog/categories.sql:3:1)
CREATE TABLE catalog.categories (
    id integer GENERATED BY DEFAULT AS IDENTITY NOT NULL,
    parent_id integer,
    slug character varying(80) NOT NULL,
    name character varying(120) NOT NULL,
    "position" smallint DEFAULT 0 NOT NULL,
    CONSTRAINT categories_pkey PRIMARY KEY (id),
    CONSTRAINT categories_parent_slug_key UNIQUE (parent_id, slug),
    CONSTRAINT categories_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES catalog.categories(id) ON DELETE CASCADE
);
COMMENT ON TABLE catalog.categories IS 'Category tree; parent_id is NULL for top-level categories.';
COMMENT ON COLUMN catalog.categories."position" IS 'Sort order among siblings, ascending.';
ALTER TABLE catalog.categories ADD CONSTRAINT categories_not_own_parent CHECK (parent_id IS NULL OR parent_id <> id);

-- step 24/60: create table catalog.products  (schema/catalog/products.sql:3:1)
CREATE TABLE catalog.products (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    category_id integer,
    sku public.citext NOT NULL,
    name character varying(200) NOT NULL,
    description text,
    status catalog.product_status DEFAULT 'draft'::catalog.product_status NOT NULL,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    weight_grams integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT products_pkey PRIMARY KEY (id),
    CONSTRAINT products_sku_key UNIQUE (sku),
    CONSTRAINT products_category_id_fkey FOREIGN KEY (category_id) REFERENCES catalog.categories(id) ON DELETE SET NULL
);
COMMENT ON TABLE catalog.products IS 'Sellable products. Never hard-deleted once ordered.';
COMMENT ON COLUMN catalog.products.sku IS 'Stock keeping unit, case-insensitive (ab-100 = AB-100).';
COMMENT ON COLUMN catalog.products.attributes IS 'Free-form specifications, e.g. {"color": "black", "ports": 24}.';
ALTER TABLE catalog.products ADD CONSTRAINT products_attributes_is_object CHECK (jsonb_typeof(attributes) = 'object');
ALTER TABLE catalog.products ADD CONSTRAINT products_weight_positive CHECK (weight_grams IS NULL OR weight_grams > 0);

-- step 25/60: create table catalog.prices  (schema/catalog/prices.sql:4:1)
CREATE TABLE catalog.prices (
    id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    product_id uuid NOT NULL,
    currency billing.currency_code DEFAULT 'EUR'::billing.currency_code NOT NULL,
    unit_amount numeric(12,2) NOT NULL,
    min_quantity integer DEFAULT 1 NOT NULL,
    valid_from timestamp with time zone DEFAULT now() NOT NULL,
    valid_until timestamp with time zone,
    CONSTRAINT prices_pkey PRIMARY KEY (id),
    CONSTRAINT prices_product_currency_tier_key UNIQUE (product_id, currency, min_quantity, valid_from),
    CONSTRAINT prices_product_id_fkey FOREIGN KEY (product_id) REFERENCES catalog.products(id) ON DELETE CASCADE
);
COMMENT ON TABLE catalog.prices IS 'Tiered, time-bound unit prices. The row with the highest min_quantity <= ordered quantity wins.';
COMMENT ON COLUMN catalog.prices.valid_until IS 'Exclusive end of validity; NULL means open-ended.';
ALTER TABLE catalog.prices ADD CONSTRAINT prices_min_quantity_positive CHECK (min_quantity > 0);
ALTER TABLE catalog.prices ADD CONSTRAINT prices_unit_amount_non_negative CHECK (unit_amount >= 0);
ALTER TABLE catalog.prices ADD CONSTRAINT prices_valid_period CHECK (valid_until IS NULL OR valid_until > valid_from);

-- step 26/60: create table sales.addresses  (schema/sales/addresses.sql:3:1)
CREATE TABLE sales.addresses (
    id bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL,
    organization_id uuid NOT NULL,
    label character varying(60),
    recipient character varying(200) NOT NULL,
    line1 character varying(200) NOT NULL,
    line2 character varying(200),
    postal_code character varying(20) NOT NULL,
    city character varying(100) NOT NULL,
    region character varying(100),
    country_code character(2) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT addresses_pkey PRIMARY KEY (id),
    CONSTRAINT addresses_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES accounts.organizations(id) ON DELETE CASCADE
);
COMMENT ON TABLE sales.addresses IS 'Address book per organization. Orders reference it; invoices copy it.';
COMMENT ON COLUMN sales.addresses.country_code IS 'ISO 3166-1 alpha-2, upper case.';
ALTER TABLE sales.addresses ADD CONSTRAINT addresses_country_code_format CHECK (country_code ~ '^[A-Z]{2}$');

-- step 27/60: create table sales.orders  (schema/sales/orders.sql:4:1)
CREATE TABLE sales.orders (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    organization_id uuid NOT NULL,
    placed_by uuid,
    shipping_address_id bigint,
    status sales.order_status DEFAULT 'pending'::sales.order_status NOT NULL,
    currency billing.currency_code NOT NULL,
    subtotal numeric(12,2) DEFAULT 0 NOT NULL,
    tax_total numeric(12,2) DEFAULT 0 NOT NULL,
    total numeric(12,2) DEFAULT 0 NOT NULL,
    notes text,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    placed_at timestamp with time zone DEFAULT now() NOT NULL,
    cancelled_at timestamp with time zone,
    CONSTRAINT orders_pkey PRIMARY KEY (id),
    CONSTRAINT orders_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES accounts.organizations(id) ON DELETE RESTRICT,
    CONSTRAINT orders_placed_by_fkey FOREIGN KEY (placed_by) REFERENCES accounts.users(id) ON DELETE SET NULL,
    CONSTRAINT orders_shipping_address_id_fkey FOREIGN KEY (shipping_address_id) REFERENCES sales.addresses(id) ON DELETE SET NULL
);
COMMENT ON TABLE sales.orders IS 'Customer orders. Never deleted; cancel them instead.';
COMMENT ON COLUMN sales.orders.metadata IS 'Integration data, e.g. {"purchase_order": "PO-4711"}.';
ALTER TABLE sales.orders ADD CONSTRAINT orders_amounts_non_negative CHECK (subtotal >= 0 AND tax_total >= 0);
ALTER TABLE sales.orders ADD CONSTRAINT orders_cancelled_at_matches_status CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL));
ALTER TABLE sales.orders ADD CONSTRAINT orders_total_is_sum CHECK (total = subtotal + tax_total);

-- step 28/60: create table billing.invoices  (schema/billing/invoices.sql:4:1)
CREATE TABLE billing.invoices (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    number bigint DEFAULT nextval('billing.invoice_number_seq'::regclass) NOT NULL,
    organization_id uuid NOT NULL,
    order_id uuid,
    status billing.invoice_status DEFAULT 'draft'::billing.invoice_status NOT NULL,
    currency billing.currency_code NOT NULL,
    amount_due numeric(12,2) NOT NULL,
    amount_paid numeric(12,2) DEFAULT 0 NOT NULL,
    billing_address jsonb,
    issued_at timestamp with time zone,
    due_at timestamp with time zone,
    paid_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT invoices_pkey PRIMARY KEY (id),
    CONSTRAINT invoices_number_key UNIQUE (number),
    CONSTRAINT invoices_order_id_fkey FOREIGN KEY (order_id) REFERENCES sales.orders(id) ON DELETE SET NULL,
    CONSTRAINT invoices_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES accounts.organizations(id) ON DELETE RESTRICT
);
COMMENT ON TABLE billing.invoices IS 'Invoices. Immutable once issued except for status and payment fields.';
COMMENT ON COLUMN billing.invoices.number IS 'Human-facing invoice number, printed as INV-<number>.';
COMMENT ON COLUMN billing.invoices.billing_address IS 'Snapshot of the address at issue time, so later edits do not change old invoices.';
ALTER TABLE billing.invoices ADD CONSTRAINT invoices_amounts_valid CHECK (amount_due >= 0 AND amount_paid >= 0 AND amount_paid <= amount_due);
ALTER TABLE billing.invoices ADD CONSTRAINT invoices_due_after_issue CHECK (due_at IS NULL OR issued_at IS NULL OR due_at >= issued_at);
ALTER TABLE billing.invoices ADD CONSTRAINT invoices_issued_unless_draft CHECK (status = 'draft' OR issued_at IS NOT NULL);

-- step 29/60: create table billing.payments  (schema/billing/payments.sql:3:1)
CREATE TABLE billing.payments (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    invoice_id uuid NOT NULL,
    method billing.payment_method NOT NULL,
    status billing.payment_status DEFAULT 'pending'::billing.payment_status NOT NULL,
    amount numeric(12,2) NOT NULL,
    currency billing.currency_code NOT NULL,
    provider character varying(40) NOT NULL,
    provider_reference character varying(255) NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    failure_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    settled_at timestamp with time zone,
    CONSTRAINT payments_pkey PRIMARY KEY (id),
    CONSTRAINT payments_provider_reference_key UNIQUE (provider, provider_reference),
    CONSTRAINT payments_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES billing.invoices(id) ON DELETE RESTRICT
);
COMMENT ON TABLE billing.payments IS 'One row per payment attempt, successful or not.';
COMMENT ON COLUMN billing.payments.details IS 'Raw provider payload (card brand, last4, mandate id ...).';
ALTER TABLE billing.payments ADD CONSTRAINT payments_amount_positive CHECK (amount > 0);
ALTER TABLE billing.payments ADD CONSTRAINT payments_failure_has_reason CHECK (status <> 'failed' OR failure_reason IS NOT NULL);

-- step 30/60: create table billing.refunds  (schema/billing/refunds.sql:3:1)
CREATE TABLE billing.refunds (
    id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    payment_id uuid NOT NULL,
    amount numeric(12,2) NOT NULL,
    reason character varying(500) NOT NULL,
    created_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT refunds_pkey PRIMARY KEY (id),
    CONSTRAINT refunds_created_by_fkey FOREIGN KEY (created_by) REFERENCES accounts.users(id) ON DELETE SET NULL,
    CONSTRAINT refunds_payment_id_fkey FOREIGN KEY (payment_id) REFERENCES billing.payments(id) ON DELETE RESTRICT
);
COMMENT ON TABLE billing.refunds IS 'Full or partial refunds. The sum per payment must not exceed the payment (checked by the application).';
ALTER TABLE billing.refunds ADD CONSTRAINT refunds_amount_positive CHECK (amount > 0);

-- step 31/60: create table sales.order_items  (schema/sales/order_items.sql:4:1)
CREATE TABLE sales.order_items (
    id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    order_id uuid NOT NULL,
    line_number smallint NOT NULL,
    product_id uuid NOT NULL,
    price_id bigint,
    quantity integer NOT NULL,
    unit_amount numeric(12,2) NOT NULL,
    discount_amount numeric(12,2) DEFAULT 0 NOT NULL,
    CONSTRAINT order_items_pkey PRIMARY KEY (id),
    CONSTRAINT order_items_order_line_key UNIQUE (order_id, line_number),
    CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES sales.orders(id) ON DELETE CASCADE,
    CONSTRAINT order_items_price_id_fkey FOREIGN KEY (price_id) REFERENCES catalog.prices(id) ON DELETE SET NULL,
    CONSTRAINT order_items_product_id_fkey FOREIGN KEY (product_id) REFERENCES catalog.products(id) ON DELETE RESTRICT
);
COMMENT ON TABLE sales.order_items IS 'Order lines. unit_amount is copied from the price at order time.';
COMMENT ON COLUMN sales.order_items.price_id IS 'Price list entry the unit amount came from, if any (manual quotes have none).';
ALTER TABLE sales.order_items ADD CONSTRAINT order_items_amounts_valid CHECK (unit_amount >= 0 AND discount_amount >= 0 AND discount_amount <= unit_amount * quantity);
ALTER TABLE sales.order_items ADD CONSTRAINT order_items_quantity_positive CHECK (quantity > 0);

-- step 32/60: create table billing.invoice_lines  (schema/billing/invoice_lines.sql:4:1)
CREATE TABLE billing.invoice_lines (
    id bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
    invoice_id uuid NOT NULL,
    order_item_id bigint,
    description character varying(500) NOT NULL,
    quantity integer DEFAULT 1 NOT NULL,
    unit_amount numeric(12,2) NOT NULL,
    amount numeric(12,2) NOT NULL,
    CONSTRAINT invoice_lines_pkey PRIMARY KEY (id),
    CONSTRAINT invoice_lines_invoice_id_fkey FOREIGN KEY (invoice_id) REFERENCES billing.invoices(id) ON DELETE CASCADE,
    CONSTRAINT invoice_lines_order_item_id_fkey FOREIGN KEY (order_item_id) REFERENCES sales.order_items(id) ON DELETE SET NULL
);
COMMENT ON TABLE billing.invoice_lines IS 'Invoice lines. Description and amounts are copied so the invoice never changes after issue.';
ALTER TABLE billing.invoice_lines ADD CONSTRAINT invoice_lines_amount_is_product CHECK (amount = unit_amount * quantity);
ALTER TABLE billing.invoice_lines ADD CONSTRAINT invoice_lines_quantity_positive CHECK (quantity > 0);

-- step 33/60: add foreign key organizations_owner_id_fkey on accounts.organizations  (schema/accounts/organizations.sql:36:1)
-- moved out of the table's statement: the tables reference each other
ALTER TABLE accounts.organizations ADD CONSTRAINT organizations_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES accounts.users(id) ON DELETE RESTRICT;

-- step 34/60: add foreign key users_organization_id_fkey on accounts.users  (schema/accounts/users.sql:4:1)
-- moved out of the table's statement: the tables reference each other
ALTER TABLE accounts.users ADD CONSTRAINT users_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES accounts.organizations(id) ON DELETE SET NULL;

-- step 35/60: create index accounts.api_keys_organization_id_idx  (schema/accounts/api_keys.sql:27:1)
CREATE INDEX api_keys_organization_id_idx ON accounts.api_keys USING btree (organization_id) WHERE revoked_at IS NULL;

-- step 36/60: create index accounts.memberships_user_id_idx  (schema/accounts/memberships.sql:18:1)
CREATE INDEX memberships_user_id_idx ON accounts.memberships USING btree (user_id) INCLUDE (role);

-- step 37/60: create index accounts.organizations_owner_id_idx  (schema/accounts/organizations.sql:30:1)
CREATE INDEX organizations_owner_id_idx ON accounts.organizations USING btree (owner_id);

-- step 38/60: create index accounts.organizations_slug_key  (schema/accounts/organizations.sql:26:1)
CREATE UNIQUE INDEX organizations_slug_key ON accounts.organizations USING btree (slug) WHERE deleted_at IS NULL;

-- step 39/60: create index accounts.users_email_key  (schema/accounts/users.sql:28:1)
CREATE UNIQUE INDEX users_email_key ON accounts.users USING btree (lower(email)) WHERE deleted_at IS NULL;
COMMENT ON INDEX accounts.users_email_key IS 'Case-insensitive e-mail uniqueness; also serves the sign-in lookup.';

-- step 40/60: create index accounts.users_organization_id_idx  (schema/accounts/users.sql:33:1)
CREATE INDEX users_organization_id_idx ON accounts.users USING btree (organization_id);

-- step 41/60: create index audit.events_organization_idx  (schema/audit/events.sql:32:1)
CREATE INDEX events_organization_idx ON audit.events USING btree (organization_id, occurred_at DESC);

-- step 42/60: create index audit.events_payload_idx  (schema/audit/events.sql:36:1)
CREATE INDEX events_payload_idx ON audit.events USING gin (payload);
COMMENT ON INDEX audit.events_payload_idx IS 'Full jsonb_ops GIN index so both @> and ? work on payloads.';

-- step 43/60: create index audit.events_subject_idx  (schema/audit/events.sql:29:1)
CREATE INDEX events_subject_idx ON audit.events USING btree (subject_type, subject_id, occurred_at DESC);

-- step 44/60: create index audit.login_attempts_email_idx  (schema/audit/login_attempts.sql:20:1)
CREATE INDEX login_attempts_email_idx ON audit.login_attempts USING btree (lower(email), attempted_at DESC);

-- step 45/60: create index audit.login_attempts_ip_address_idx  (schema/audit/login_attempts.sql:23:1)
CREATE INDEX login_attempts_ip_address_idx ON audit.login_attempts USING btree (ip_address, attempted_at DESC);

-- step 46/60: create index billing.invoice_lines_invoice_id_idx  (schema/billing/invoice_lines.sql:21:1)
CREATE INDEX invoice_lines_invoice_id_idx ON billing.invoice_lines USING btree (invoice_id);

-- step 47/60: create index billing.invoices_open_due_idx  (schema/billing/invoices.sql:33:1)
CREATE INDEX invoices_open_due_idx ON billing.invoices USING btree (due_at) INCLUDE (organization_id, amount_due, amount_paid) WHERE status = 'open';

-- step 48/60: create index billing.invoices_order_id_idx  (schema/billing/invoices.sql:41:1)
CREATE INDEX invoices_order_id_idx ON billing.invoices USING btree (order_id);

-- step 49/60: create index billing.invoices_organization_id_idx  (schema/billing/invoices.sql:38:1)
CREATE INDEX invoices_organization_id_idx ON billing.invoices USING btree (organization_id, created_at DESC);

-- step 50/60: create index billing.payments_invoice_id_idx  (schema/billing/payments.sql:29:1)
CREATE INDEX payments_invoice_id_idx ON billing.payments USING btree (invoice_id);

-- step 51/60: create index billing.payments_pending_idx  (schema/billing/payments.sql:32:1)
CREATE INDEX payments_pending_idx ON billing.payments USING btree (created_at) WHERE status = 'pending';

-- step 52/60: create index billing.refunds_payment_id_idx  (schema/billing/refunds.sql:17:1)
CREATE INDEX refunds_payment_id_idx ON billing.refunds USING btree (payment_id);

-- step 53/60: create index catalog.prices_current_idx  (schema/catalog/prices.sql:27:1)
CREATE INDEX prices_current_idx ON catalog.prices USING btree (product_id, currency, min_quantity) INCLUDE (unit_amount) WHERE valid_until IS NULL;

-- step 54/60: create index catalog.products_attributes_idx  (schema/catalog/products.sql:35:1)
CREATE INDEX products_attributes_idx ON catalog.products USING gin (attributes jsonb_path_ops);
COMMENT ON INDEX catalog.products_attributes_idx IS 'Supports @> containment filters only (jsonb_path_ops).';

-- step 55/60: create index catalog.products_category_listing_idx  (schema/catalog/products.sql:29:1)
CREATE INDEX products_category_listing_idx ON catalog.products USING btree (category_id, status) INCLUDE (name) WHERE deleted_at IS NULL;

-- step 56/60: create index catalog.products_tags_idx  (schema/catalog/products.sql:39:1)
CREATE INDEX products_tags_idx ON catalog.products USING gin (tags);

-- step 57/60: create index sales.addresses_organization_id_idx  (schema/sales/addresses.sql:24:1)
CREATE INDEX addresses_organization_id_idx ON sales.addresses USING btree (organization_id) WHERE deleted_at IS NULL;

-- step 58/60: create index sales.order_items_product_id_idx  (schema/sales/order_items.sql:24:1)
CREATE INDEX order_items_product_id_idx ON sales.order_items USING btree (product_id);

-- step 59/60: create index sales.orders_open_idx  (schema/sales/orders.sql:36:1)
CREATE INDEX orders_open_idx ON sales.orders USING btree (placed_at) WHERE status IN ('pending', 'confirmed');

-- step 60/60: create index sales.orders_organization_placed_at_idx  (schema/sales/orders.sql:31:1)
CREATE INDEX orders_organization_placed_at_idx ON sales.orders USING btree (organization_id, placed_at DESC) INCLUDE (status, total);
