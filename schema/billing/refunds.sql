-- Money returned to a customer, always against a settled payment.

CREATE TABLE billing.refunds (
    id              bigint          GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id      uuid            NOT NULL REFERENCES billing.payments (id) ON DELETE RESTRICT,
    amount          numeric(12,2)   NOT NULL,
    reason          varchar(500)    NOT NULL,
    created_by      uuid            REFERENCES accounts.users (id) ON DELETE SET NULL,
    created_at      timestamptz     NOT NULL DEFAULT now(),

    CONSTRAINT refunds_amount_positive
        CHECK (amount > 0)
);

COMMENT ON TABLE billing.refunds IS 'Full or partial refunds. The sum per payment must not exceed the payment (checked by the application).';

CREATE INDEX refunds_payment_id_idx
    ON billing.refunds (payment_id);
