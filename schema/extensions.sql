-- Extensions used by the application schema.
--
-- citext gives us case-insensitive text for identifiers people type in
-- mixed case (SKUs, billing e-mail addresses). gen_random_uuid() is built
-- into PostgreSQL 13+, so pgcrypto is not needed.

CREATE EXTENSION citext;
