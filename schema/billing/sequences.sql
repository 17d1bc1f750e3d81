-- Invoice numbers must be gap-tolerant but strictly increasing and never
-- reused, so they come from a standalone sequence rather than an identity
-- column (draft invoices get their uuid first and a number as well).

CREATE SEQUENCE billing.invoice_number_seq
    AS bigint
    START WITH 100000
    INCREMENT BY 1
    NO CYCLE;
