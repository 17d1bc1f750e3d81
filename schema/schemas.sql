-- One schema per bounded context. Tables never live in "public".

CREATE SCHEMA accounts;
COMMENT ON SCHEMA accounts IS 'Organizations, users, memberships and API credentials.';

CREATE SCHEMA catalog;
COMMENT ON SCHEMA catalog IS 'Product catalog: categories, products and their price lists.';

CREATE SCHEMA sales;
COMMENT ON SCHEMA sales IS 'Orders placed by organizations and where to ship them.';

CREATE SCHEMA billing;
COMMENT ON SCHEMA billing IS 'Invoices, payments and refunds.';

CREATE SCHEMA audit;
COMMENT ON SCHEMA audit IS 'Append-only security and activity log. Rows are never updated.';
