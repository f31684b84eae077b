-- Optimistic concurrency: every user update bumps the version and names the one it read.
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
-- The code a new one replaced, so a superseded code reads as expired, not as wrong.
ALTER TABLE codes ADD COLUMN previous_hash TEXT;
