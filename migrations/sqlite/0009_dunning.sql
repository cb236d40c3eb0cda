-- The money loop: why each contract is in its status (so that only a debt block is lifted by a
-- payment), the history of every change, the notices sent before a step, and the provider's
-- exceptions (a contract exempt from blocking, a plan with its own days).
ALTER TABLE contracts ADD COLUMN status_reason TEXT
    CHECK (status_reason IN ('debito', 'promessa', 'manual', 'pagamento'));
ALTER TABLE contracts ADD COLUMN block_exempt INTEGER NOT NULL DEFAULT 0 CHECK (block_exempt IN (0, 1));
ALTER TABLE plans ADD COLUMN reduce_after_days INTEGER CHECK (reduce_after_days BETWEEN 0 AND 3650);
ALTER TABLE plans ADD COLUMN block_after_days INTEGER CHECK (block_after_days BETWEEN 0 AND 3650);
-- The reason the contract had before a promise's unlock: the expiry puts it back.
ALTER TABLE promises ADD COLUMN previous_reason TEXT;

CREATE TABLE contract_status_changes (
    id          INTEGER PRIMARY KEY,
    contract_id INTEGER NOT NULL REFERENCES contracts (id),
    from_status INTEGER NOT NULL,
    to_status   INTEGER NOT NULL,
    reason      TEXT NOT NULL CHECK (reason IN ('debito', 'promessa', 'manual', 'pagamento')),
    protocol    TEXT,
    -- Who or what made the change: `cobranca`, `admin:NAME`, `ura:APP`, `pagamento:admin:NAME`...
    actor       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX contract_status_changes_contract ON contract_status_changes (contract_id, id);
CREATE INDEX contract_status_changes_created ON contract_status_changes (created_at);

-- A notice per step per debt (the oldest overdue invoice's due date names the debt): sent once.
CREATE TABLE dunning_notices (
    id          INTEGER PRIMARY KEY,
    contract_id INTEGER NOT NULL REFERENCES contracts (id),
    step        TEXT NOT NULL CHECK (step IN ('reducao', 'bloqueio')),
    debt_due_on TEXT NOT NULL,
    sent_on     TEXT NOT NULL,
    protocol    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (contract_id, step, debt_due_on)
);

-- The dunning run looks for open invoices already due, across all contracts.
CREATE INDEX invoices_open_due ON invoices (status, due_on, contract_id, amount_cents);
