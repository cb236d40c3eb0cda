-- What became of a promise: when it was resolved (expired or fulfilled) and what the NAS
-- answered to the disconnects that followed the unlock and the expiry.
ALTER TABLE promises ADD COLUMN resolved_at TEXT;
ALTER TABLE promises ADD COLUMN disconnect_result TEXT;
CREATE INDEX promises_due ON promises (state, expires_at);
