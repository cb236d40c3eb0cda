-- The outbox worker takes the queued messages oldest first. A dunning run can leave hundreds
-- of thousands queued at once; with only (status, next_attempt_at) every look for the next
-- hundred sorted all of them.
CREATE INDEX messages_queue ON messages (status, id);
