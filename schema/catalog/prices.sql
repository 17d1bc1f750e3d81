-- Price list entries: a unit price per product, currency and quantity tier,
-- valid for a period of time. billing.currency_code is defined in types.sql.

CREATE TABLE catalog.prices (
    id              bigint                  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id      uuid                    NOT NULL REFERENCES catalog.products (id) ON DELETE CASCADE,
    currency        billing.currency_code   NOT NULL DEFAULT 'EUR',
    unit_amount     numeric(12,2)           NOT NULL,
    min_quantity    integer                 NOT NULL DEFAULT 1,
    valid_from      timestamptz             NOT NULL DEFAULT now(),
    valid_until     timestamptz,

    CONSTRAINT prices_product_currency_tier_key
        UNIQUE (product_id, currency, min_quantity, valid_from),
    CONSTRAINT prices_unit_amount_non_negative
        CHECK (unit_amount >= 0),
    CONSTRAINT prices_min_quantity_positive
        CHECK (min_quantity > 0),
    CONSTRAINT prices_valid_period
        CHECK (valid_until IS NULL OR valid_until > valid_from)
);

COMMENT ON TABLE catalog.prices IS 'Tiered, time-bound unit prices. The row with the highest min_quantity <= ordered quantity wins.';
COMMENT ON COLUMN catalog.prices.valid_until IS 'Exclusive end of validity; NULL means open-ended.';

-- Current price lookup for a product in a currency.
CREATE INDEX prices_current_idx
    ON catalog.prices (product_id, currency, min_quantity)
    INCLUDE (unit_amount)
    WHERE valid_until IS NULL;
