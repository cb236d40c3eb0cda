-- Bank return files (arquivos de retorno) as imported: each file once (by its SHA-256), with
-- what each of its lines did. A line's `identity` is kept only for the occurrences that were
-- applied (a payment, an event on the invoice), so that the same occurrence is never applied
-- twice, even when another file repeats it.
CREATE TABLE bank_return_files (
    id              INTEGER PRIMARY KEY,
    sha256          TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    bank_code       TEXT NOT NULL,
    layout          TEXT NOT NULL,
    agreement       TEXT NOT NULL,
    file_seq        INTEGER,
    generated_on    TEXT,
    -- Occurrences in the file, and how many ended in each outcome (set when finished).
    entries         INTEGER NOT NULL,
    paid            INTEGER NOT NULL DEFAULT 0,
    already_paid    INTEGER NOT NULL DEFAULT 0,
    registered      INTEGER NOT NULL DEFAULT 0,
    unknown         INTEGER NOT NULL DEFAULT 0,
    refused         INTEGER NOT NULL DEFAULT 0,
    -- Sum of the amounts paid by the lines that paid an invoice, and of the bank's fees.
    paid_cents      INTEGER NOT NULL DEFAULT 0,
    fee_cents       INTEGER NOT NULL DEFAULT 0,
    -- `cli`, `admin:NAME`, `painel:LOGIN`.
    actor           TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    -- NULL while the file is being imported (or was interrupted: importing it again resumes).
    finished_at     TEXT
);
CREATE INDEX bank_return_files_created ON bank_return_files (id DESC);

CREATE TABLE bank_return_lines (
    id              INTEGER PRIMARY KEY,
    file_id         INTEGER NOT NULL REFERENCES bank_return_files (id),
    line            INTEGER NOT NULL,
    our_number      TEXT NOT NULL,
    our_number_key  TEXT NOT NULL,
    document_number TEXT,
    occurrence      TEXT NOT NULL,
    occurrence_text TEXT NOT NULL,
    -- `liquidacao`, `entrada`, `rejeicao`, `baixa`, `outra`.
    kind            TEXT NOT NULL,
    -- The bank's motive codes, comma-separated.
    reasons         TEXT NOT NULL,
    face_cents      INTEGER,
    paid_cents      INTEGER NOT NULL,
    fee_cents       INTEGER NOT NULL,
    discount_cents  INTEGER NOT NULL,
    interest_cents  INTEGER NOT NULL,
    rebate_cents    INTEGER NOT NULL,
    paid_on         TEXT,
    credited_on     TEXT,
    outcome         TEXT NOT NULL
                    CHECK (outcome IN ('pago', 'ja_pago', 'registrado', 'desconhecido', 'recusado')),
    -- Why: the refusal, the partial payment kept open, the earlier line that applied it.
    reason          TEXT,
    invoice_id      INTEGER REFERENCES invoices (id),
    -- bank|agreement|key|occurrence|date|amount of an applied occurrence; NULL otherwise.
    identity        TEXT,
    created_at      TEXT NOT NULL,
    UNIQUE (file_id, line)
);
CREATE UNIQUE INDEX bank_return_lines_identity ON bank_return_lines (identity)
    WHERE identity IS NOT NULL;
CREATE INDEX bank_return_lines_invoice ON bank_return_lines (invoice_id)
    WHERE invoice_id IS NOT NULL;
