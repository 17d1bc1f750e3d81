-- Orders placed by an organization. Totals are denormalized from the order
-- items when the order is confirmed.

CREATE TABLE sales.orders (
    id                  uuid                    PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id     uuid                    NOT NULL REFERENCES accounts.organizations (id) ON DELETE RESTRICT,
    placed_by           uuid                    REFERENCES accounts.users (id) ON DELETE SET NULL,
    shipping_address_id bigint                  REFERENCES sales.addresses (id) ON DELETE SET NULL,
    status              sales.order_status      NOT NULL DEFAULT 'pending',
    currency            billing.currency_code   NOT NULL,
    subtotal            numeric(12,2)           NOT NULL DEFAULT 0,
    tax_total           numeric(12,2)           NOT NULL DEFAULT 0,
    total               numeric(12,2)           NOT NULL DEFAULT 0,
    notes               text,
    metadata            jsonb                   NOT NULL DEFAULT '{}'::jsonb,
    placed_at           timestamptz             NOT NULL DEFAULT now(),
    cancelled_at        timestamptz,

    CONSTRAINT orders_amounts_non_negative
        CHECK (subtotal >= 0 AND tax_total >= 0),
    CONSTRAINT orders_total_is_sum
        CHECK (total = subtotal + tax_total),
    CONSTRAINT orders_cancelled_at_matches_status
        CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);

COMMENT ON TABLE sales.orders IS 'Customer orders. Never deleted; cancel them instead.';
COMMENT ON COLUMN sales.orders.metadata IS 'Integration data, e.g. {"purchase_order": "PO-4711"}.';

-- Order history page: newest first, with status and total for the list view.
CREATE INDEX orders_organization_placed_at_idx
    ON sales.orders (organization_id, placed_at DESC)
    INCLUDE (status, total);

-- Fulfilment queue: only a small fraction of orders are still open.
CREATE INDEX orders_open_idx
    ON sales.orders (placed_at)
    WHERE status IN ('pending', 'confirmed');
