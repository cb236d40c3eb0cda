-- Protocol numbers without a lock. The day's counter row was bumped inside each caller's
-- transaction, so every protocol-opening write of the database (in every process) waited
-- for the one before it to COMMIT. A sequence is never locked and never rolled back: a
-- day's number is now `nextval - base`, with `base` set once by the day's first protocol.
-- Numbers keep rising through the day and stay unique; a rolled-back call leaves a gap, as
-- a rolled-back counter bump never did, and another day's numbers drawn meanwhile leave
-- gaps too.
CREATE SEQUENCE protocol_seq;

CREATE TABLE protocol_days (
    day  TEXT PRIMARY KEY,
    base BIGINT NOT NULL
);

-- Days counted before this migration go on above their last number.
INSERT INTO protocol_days (day, base) SELECT day, -last FROM protocol_counters;
