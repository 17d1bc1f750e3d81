-- Lines of an invoice. billing.invoices is defined in invoices.sql, which
-- sorts after this file.

CREATE TABLE billing.invoice_lines (
    id              bigint          GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id      uuid            NOT NULL REFERENCES billing.invoices (id) ON DELETE CASCADE,
    order_item_id   bigint          REFERENCES sales.order_items (id) ON DELETE SET NULL,
    description     varchar(500)    NOT NULL,
    quantity        integer         NOT NULL DEFAULT 1,
    unit_amount     numeric(12,2)   NOT NULL,
    amount          numeric(12,2)   NOT NULL,

    CONSTRAINT invoice_lines_quantity_positive
        CHECK (quantity > 0),
    CONSTRAINT invoice_lines_amount_is_product
        CHECK (amount = unit_amount * quantity)
);

COMMENT ON TABLE billing.invoice_lines IS 'Invoice lines. Description and amounts are copied so the invoice never changes after issue.';

CREATE INDEX invoice_lines_invoice_id_idx
    ON billing.invoice_lines (invoice_id);
