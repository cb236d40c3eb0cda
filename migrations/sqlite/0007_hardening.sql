-- Idempotency-Key: the first answer to a request of an app with a key, replayed to its
-- repeats for 24 hours (also by another process).
CREATE TABLE idempotency_keys (
    app_id      INTEGER NOT NULL,
    key         TEXT NOT NULL,
    -- SHA-256 of the function and its parameters (credentials left out): a key reused for
    -- another request is refused rather than answered with the first one's answer.
    fingerprint TEXT NOT NULL,
    -- NULL while the first request is being answered.
    answer      TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (app_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- `apps.allowed_networks` (since 0001): comma-separated networks, NULL for any.
