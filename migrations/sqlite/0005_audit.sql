-- The audit trail of URA calls (written in batches, off the answer's path) and the tokens of
-- the admin API (separate from the URA apps' tokens).
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    app_id      INTEGER,
    app_name    TEXT,
    route       TEXT NOT NULL,
    method      TEXT NOT NULL,
    http_status INTEGER NOT NULL,
    ura_status  INTEGER,
    contract_id INTEGER,
    -- Masked: never a full CPF/CNPJ.
    document    TEXT,
    protocol    TEXT,
    latency_ms  REAL NOT NULL,
    remote_addr TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_contract ON audit_log (contract_id);
CREATE INDEX audit_log_protocol ON audit_log (protocol);

CREATE TABLE admin_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    -- SHA-256 of the token: the token itself is shown once and never stored.
    token_hash   TEXT NOT NULL UNIQUE,
    enabled      INTEGER NOT NULL DEFAULT 1,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
