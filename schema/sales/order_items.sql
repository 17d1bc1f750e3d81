-- Lines of an order. sales.orders is defined in orders.sql, which sorts
-- after this file.

CREATE TABLE sales.order_items (
    id              bigint          GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        uuid            NOT NULL REFERENCES sales.orders (id) ON DELETE CASCADE,
    line_number     smallint        NOT NULL,
    product_id      uuid            NOT NULL REFERENCES catalog.products (id) ON DELETE RESTRICT,
    price_id        bigint          REFERENCES catalog.prices (id) ON DELETE SET NULL,
    quantity        integer         NOT NULL,
    unit_amount     numeric(12,2)   NOT NULL,
    discount_amount numeric(12,2)   NOT NULL DEFAULT 0,

    CONSTRAINT order_items_order_line_key UNIQUE (order_id, line_number),
    CONSTRAINT order_items_quantity_positive
        CHECK (quantity > 0),
    CONSTRAINT order_items_amounts_valid
        CHECK (unit_amount >= 0 AND discount_amount >= 0 AND discount_amount <= unit_amount * quantity)
);

COMMENT ON TABLE sales.order_items IS 'Order lines. unit_amount is copied from the price at order time.';
COMMENT ON COLUMN sales.order_items.price_id IS 'Price list entry the unit amount came from, if any (manual quotes have none).';

CREATE INDEX order_items_product_id_idx
    ON sales.order_items (product_id);
