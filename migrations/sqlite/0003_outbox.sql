-- The durable outbox: a message is claimed by one process at a time (claimed_until), retried
-- with backoff (next_attempt_at), and carries what is needed to rebuild it (the HTML body,
-- and the invoices whose PDFs are attached, rendered at send time).
ALTER TABLE messages ADD COLUMN body_html TEXT;
ALTER TABLE messages ADD COLUMN invoice_ids TEXT;
ALTER TABLE messages ADD COLUMN next_attempt_at TEXT;
ALTER TABLE messages ADD COLUMN claimed_until TEXT;
CREATE INDEX messages_due ON messages (status, next_attempt_at);
