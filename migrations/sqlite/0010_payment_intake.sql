-- Payment intake: invoices carry the bank they were registered with (to match the bank's
-- return file) and their PIX txid (to match a PSP's notice); each invoice keeps a history of
-- what the bank or the PSP said about it.
ALTER TABLE invoices ADD COLUMN bank_code TEXT CHECK (bank_code IS NULL OR length(bank_code) = 3);
ALTER TABLE invoices ADD COLUMN agreement TEXT;
-- The nosso número reduced the way both the return file and the slip reduce to
-- (domain::cnab::our_number::key); written by the server, never by the operator.
ALTER TABLE invoices ADD COLUMN our_number_key TEXT;
ALTER TABLE invoices ADD COLUMN pix_txid TEXT;
CREATE UNIQUE INDEX invoices_pix_txid ON invoices (pix_txid) WHERE pix_txid IS NOT NULL;
CREATE INDEX invoices_our_number_key ON invoices (our_number_key, bank_code);

-- What happened to an invoice besides its status: a bank's occurrence (entrada confirmada,
-- baixa, rejeição...), a partial payment's difference, a PIX refund.
CREATE TABLE invoice_events (
    id          INTEGER PRIMARY KEY,
    invoice_id  INTEGER NOT NULL REFERENCES invoices (id),
    -- `retorno`, `pix`, `admin`...
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    amount_cents INTEGER,
    created_at  TEXT NOT NULL
);
CREATE INDEX invoice_events_invoice ON invoice_events (invoice_id, id);
