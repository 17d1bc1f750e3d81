-- Payment attempts against invoices, as reported by the payment provider.

CREATE TABLE billing.payments (
    id                  uuid                    PRIMARY KEY DEFAULT gen_random_uuid(),
    invoice_id          uuid                    NOT NULL REFERENCES billing.invoices (id) ON DELETE RESTRICT,
    method              billing.payment_method  NOT NULL,
    status              billing.payment_status  NOT NULL DEFAULT 'pending',
    amount              numeric(12,2)           NOT NULL,
    currency            billing.currency_code   NOT NULL,
    provider            varchar(40)             NOT NULL,
    provider_reference  varchar(255)            NOT NULL,
    details             jsonb                   NOT NULL DEFAULT '{}'::jsonb,
    failure_reason      text,
    created_at          timestamptz             NOT NULL DEFAULT now(),
    settled_at          timestamptz,

    -- Provider webhooks are retried; this makes them idempotent.
    CONSTRAINT payments_provider_reference_key
        UNIQUE (provider, provider_reference),
    CONSTRAINT payments_amount_positive
        CHECK (amount > 0),
    CONSTRAINT payments_failure_has_reason
        CHECK (status <> 'failed' OR failure_reason IS NOT NULL)
);

COMMENT ON TABLE billing.payments IS 'One row per payment attempt, successful or not.';
COMMENT ON COLUMN billing.payments.details IS 'Raw provider payload (card brand, last4, mandate id ...).';

CREATE INDEX payments_invoice_id_idx
    ON billing.payments (invoice_id);

CREATE INDEX payments_pending_idx
    ON billing.payments (created_at)
    WHERE status = 'pending';
