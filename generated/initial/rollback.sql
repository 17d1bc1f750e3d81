-- converge rollback: undoes the 60 steps of the plan, last first

-- the settings converge apply runs the steps with
SET search_path = public;
SET check_function_bodies = off;

-- undo step 60/60: create index sales.orders_organization_placed_at_idx
DROP INDEX sales.orders_organization_placed_at_idx;

-- undo step 59/60: create index sales.orders_open_idx
DROP INDEX sales.orders_open_idx;

-- undo step 58/60: create index sales.order_items_product_id_idx
DROP INDEX sales.order_items_product_id_idx;

-- undo step 57/60: create index sales.addresses_organization_id_idx
DROP INDEX sales.addresses_organization_id_idx;

-- undo step 56/60: create index catalog.products_tags_idx
DROP INDEX catalog.products_tags_idx;

-- undo step 55/60: create index catalog.products_category_listing_idx
DROP INDEX catalog.products_category_listing_idx;

-- undo step 54/60: create index catalog.products_attributes_idx
DROP INDEX catalog.products_attributes_idx;

-- undo step 53/60: create index catalog.prices_current_idx
DROP INDEX catalog.prices_current_idx;

-- undo step 52/60: create index billing.refunds_payment_id_idx
DROP INDEX billing.refunds_payment_id_idx;

-- undo step 51/60: create index billing.payments_pending_idx
DROP INDEX billing.payments_pending_idx;

-- undo step 50/60: create index billing.payments_invoice_id_idx
DROP INDEX billing.payments_invoice_id_idx;

-- undo step 49/60: create index billing.invoices_organization_id_idx
DROP INDEX billing.invoices_organization_id_idx;

-- undo step 48/60: create index billing.invoices_order_id_idx
DROP INDEX billing.invoices_order_id_idx;

-- undo step 47/60: create index billing.invoices_open_due_idx
DROP INDEX billing.invoices_open_due_idx;

-- undo step 46/60: create index billing.invoice_lines_invoice_id_idx
DROP INDEX billing.invoice_lines_invoice_id_idx;

-- undo step 45/60: create index audit.login_attempts_ip_address_idx
DROP INDEX audit.login_attempts_ip_address_idx;

-- undo step 44/60: create index audit.login_attempts_email_idx
DROP INDEX audit.login_attempts_email_idx;

-- undo step 43/60: create index audit.events_subject_idx
DROP INDEX audit.events_subject_idx;

-- undo step 42/60: create index audit.events_payload_idx
DROP INDEX audit.events_payload_idx;

-- undo step 41/60: create index audit.events_organization_idx
DROP INDEX audit.events_organization_idx;

-- undo step 40/60: create index accounts.users_organization_id_idx
DROP INDEX accounts.users_organization_id_idx;

-- undo step 39/60: create index accounts.users_email_key
DROP INDEX accounts.users_email_key;

-- undo step 38/60: create index accounts.organizations_slug_key
DROP INDEX accounts.organizations_slug_key;

-- undo step 37/60: create index accounts.organizations_owner_id_idx
DROP INDEX accounts.organizations_owner_id_idx;

-- undo step 36/60: create index accounts.memberships_user_id_idx
DROP INDEX accounts.memberships_user_id_idx;

-- undo step 35/60: create index accounts.api_keys_organization_id_idx
DROP INDEX accounts.api_keys_organization_id_idx;

-- undo step 34/60: add foreign key users_organization_id_fkey on accounts.users
ALTER TABLE accounts.users DROP CONSTRAINT users_organization_id_fkey;

-- undo step 33/60: add foreign key organizations_owner_id_fkey on accounts.organizations
ALTER TABLE accounts.organizations DROP CONSTRAINT organizations_owner_id_fkey;

-- undo step 32/60: create table billing.invoice_lines
DROP TABLE billing.invoice_lines;

-- undo step 31/60: create table sales.order_items
DROP TABLE sales.order_items;

-- undo step 30/60: create table billing.refunds
DROP TABLE billing.refunds;

-- undo step 29/60: create table billing.payments
DROP TABLE billing.payments;

-- undo step 28/60: create table billing.invoices
DROP TABLE billing.invoices;

-- undo step 27/60: create table sales.orders
DROP TABLE sales.orders;

-- undo step 26/60: create table sales.addresses
DROP TABLE sales.addresses;

-- undo step 25/60: create table catalog.prices
DROP TABLE catalog.prices;

-- undo step 24/60: create table catalog.products
DROP TABLE catalog.products;

-- undo step 23/60: create table catalog.categories
DROP TABLE catalog.categories;

-- undo step 22/60: create table audit.login_attempts
DROP TABLE audit.login_attempts;

-- undo step 21/60: create table audit.events
DROP TABLE audit.events;

-- undo step 20/60: create table accounts.memberships
DROP TABLE accounts.memberships;

-- undo step 19/60: create table accounts.api_keys
DROP TABLE accounts.api_keys;

-- undo step 18/60: create table accounts.users
DROP TABLE accounts.users;

-- undo step 17/60: create table accounts.organizations
DROP TABLE accounts.organizations;

-- undo step 16/60: create sequence billing.invoice_number_seq
DROP SEQUENCE billing.invoice_number_seq;

-- undo step 15/60: create type sales.order_status
DROP TYPE sales.order_status;

-- undo step 14/60: create type catalog.product_status
DROP TYPE catalog.product_status;

-- undo step 13/60: create type billing.payment_status
DROP TYPE billing.payment_status;

-- undo step 12/60: create type billing.payment_method
DROP TYPE billing.payment_method;

-- undo step 11/60: create type billing.invoice_status
DROP TYPE billing.invoice_status;

-- undo step 10/60: create type billing.currency_code
DROP TYPE billing.currency_code;

-- undo step 9/60: create type audit.actor_kind
DROP TYPE audit.actor_kind;

-- undo step 8/60: create type accounts.user_status
DROP TYPE accounts.user_status;

-- undo step 7/60: create type accounts.membership_role
DROP TYPE accounts.membership_role;

-- undo step 6/60: create extension citext
DROP EXTENSION citext;

-- undo step 5/60: create schema sales
DROP SCHEMA sales;

-- undo step 4/60: create schema catalog
DROP SCHEMA catalog;

-- undo step 3/60: create schema billing
DROP SCHEMA billing;

-- undo step 2/60: create schema audit
DROP SCHEMA audit;

-- undo step 1/60: create schema accounts
DROP SCHEMA accounts;
