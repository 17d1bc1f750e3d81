-- Invoices sent to organizations, usually one per confirmed order.
-- The number comes from billing.invoice_number_seq (sequences.sql).

CREATE TABLE billing.invoices (
    id              uuid                    PRIMARY KEY DEFAULT gen_random_uuid(),
    number          bigint                  NOT NULL DEFAULT nextval('billing.invoice_number_seq'),
    organization_id uuid                    NOT NULL REFERENCES accounts.organizations (id) ON DELETE RESTRICT,
    order_id        uuid                    REFERENCES sales.orders (id) ON DELETE SET NULL,
    status          billing.invoice_status  NOT NULL DEFAULT 'draft',
    currency        billing.currency_code   NOT NULL,
    amount_due      numeric(12,2)           NOT NULL,
    amount_paid     numeric(12,2)           NOT NULL DEFAULT 0,
    billing_address jsonb,
    issued_at       timestamptz,
    due_at          timestamptz,
    paid_at         timestamptz,
    created_at      timestamptz             NOT NULL DEFAULT now(),

    CONSTRAINT invoices_number_key UNIQUE (number),
    CONSTRAINT invoices_amounts_valid
        CHECK (amount_due >= 0 AND amount_paid >= 0 AND amount_paid <= amount_due),
    CONSTRAINT invoices_due_after_issue
        CHECK (due_at IS NULL OR issued_at IS NULL OR due_at >= issued_at),
    CONSTRAINT invoices_issued_unless_draft
        CHECK (status = 'draft' OR issued_at IS NOT NULL)
);

COMMENT ON TABLE billing.invoices IS 'Invoices. Immutable once issued except for status and payment fields.';
COMMENT ON COLUMN billing.invoices.number IS 'Human-facing invoice number, printed as INV-<number>.';
COMMENT ON COLUMN billing.invoices.billing_address IS 'Snapshot of the address at issue time, so later edits do not change old invoices.';

-- Dunning run: open invoices by due date.
CREATE INDEX invoices_open_due_idx
    ON billing.invoices (due_at)
    INCLUDE (organization_id, amount_due, amount_paid)
    WHERE status = 'open';

CREATE INDEX invoices_organization_id_idx
    ON billing.invoices (organization_id, created_at DESC);

CREATE INDEX invoices_order_id_idx
    ON billing.invoices (order_id);
