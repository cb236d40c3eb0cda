-- PIX notices: what a PSP's webhook (BACEN API Pix) said was paid, one row per payment
-- (its endToEndId, unique: a notice replayed is stored once and pays once), matched to the
-- invoice holding its txid, with what became of it; and the refunds (devoluções) of each.
CREATE TABLE pix_notices (
    id            INTEGER PRIMARY KEY,
    end_to_end_id TEXT NOT NULL UNIQUE,
    txid          TEXT,
    amount_cents  INTEGER NOT NULL CHECK (amount_cents > 0),
    -- `horario` as the PSP wrote it, and the same instant in UTC (fixed-width text).
    paid_at_given TEXT NOT NULL,
    paid_at       TEXT NOT NULL,
    payer_info    TEXT,
    invoice_id    INTEGER REFERENCES invoices (id),
    outcome       TEXT NOT NULL CHECK (outcome IN ('pago', 'ja_pago', 'desconhecido', 'recusado')),
    reason        TEXT,
    -- When its refunds returned the whole amount and the invoice it paid was opened again.
    reopened_at   TEXT,
    received_at   TEXT NOT NULL,
    -- The entry as received (JSON), cut at 4 KiB.
    raw           TEXT NOT NULL
);
CREATE INDEX pix_notices_outcome ON pix_notices (outcome, id);
CREATE INDEX pix_notices_invoice ON pix_notices (invoice_id);
CREATE INDEX pix_notices_txid ON pix_notices (txid);

CREATE TABLE pix_refunds (
    id            INTEGER PRIMARY KEY,
    notice_id     INTEGER NOT NULL REFERENCES pix_notices (id),
    end_to_end_id TEXT NOT NULL,
    -- The refund's `id` (unique per payment, given by the receiver) and `rtrId` (the SPI's).
    refund_id     TEXT NOT NULL,
    rtr_id        TEXT,
    amount_cents  INTEGER NOT NULL CHECK (amount_cents > 0),
    requested_at  TEXT,
    settled_at    TEXT,
    -- EM_PROCESSAMENTO, DEVOLVIDO or NAO_REALIZADO.
    status        TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (end_to_end_id, refund_id)
);
CREATE INDEX pix_refunds_notice ON pix_refunds (notice_id);
