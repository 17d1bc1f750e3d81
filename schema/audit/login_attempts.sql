-- Every sign-in attempt, used for rate limiting and security reviews.

CREATE TABLE audit.login_attempts (
    id              bigint          GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email           varchar(320)    NOT NULL,
    user_id         uuid            REFERENCES accounts.users (id) ON DELETE SET NULL,
    succeeded       boolean         NOT NULL,
    failure_reason  varchar(60),
    ip_address      inet            NOT NULL,
    user_agent      text,
    attempted_at    timestamptz     NOT NULL DEFAULT now(),

    CONSTRAINT login_attempts_failure_has_reason
        CHECK (succeeded OR failure_reason IS NOT NULL)
);

COMMENT ON TABLE audit.login_attempts IS 'Sign-in attempts, including those for unknown e-mail addresses.';

-- Rate limiting: recent attempts for an address, whatever its case.
CREATE INDEX login_attempts_email_idx
    ON audit.login_attempts (lower(email), attempted_at DESC);

CREATE INDEX login_attempts_ip_address_idx
    ON audit.login_attempts (ip_address, attempted_at DESC);
