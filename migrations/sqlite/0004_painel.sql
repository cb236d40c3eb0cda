-- The agents' console: accounts, sign-in sessions, and the log of what happened to each
-- transferred call (the live stream replays it after a reconnection).
CREATE TABLE agents (
    id            INTEGER PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    -- Comma-separated queues (the IVR's `uraagente`); NULL: every queue.
    queues        TEXT,
    enabled       INTEGER NOT NULL DEFAULT 1,
    -- Consecutive wrong passwords, and until when sign-in is refused because of them.
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    last_login_at TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE agent_sessions (
    -- SHA-256 of the cookie's token: a database copy cannot be replayed as a cookie.
    token_hash TEXT PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX agent_sessions_agent ON agent_sessions (agent_id);

ALTER TABLE notifications ADD COLUMN taken_by INTEGER REFERENCES agents (id);
ALTER TABLE notifications ADD COLUMN taken_at TEXT;
ALTER TABLE notifications ADD COLUMN handled_by INTEGER REFERENCES agents (id);
ALTER TABLE notifications ADD COLUMN handled_at TEXT;
CREATE INDEX notifications_protocol ON notifications (protocol);
CREATE INDEX notifications_caller ON notifications (caller);
CREATE INDEX notifications_customer ON notifications (customer_id);

ALTER TABLE tickets ADD COLUMN agent_id INTEGER REFERENCES agents (id);
CREATE INDEX tickets_contract_created ON tickets (contract_id, created_at);

CREATE TABLE painel_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER NOT NULL REFERENCES notifications (id),
    -- nova, atendida, chamado, encerrada
    kind            TEXT NOT NULL,
    agent_id        INTEGER REFERENCES agents (id),
    created_at      TEXT NOT NULL
);
