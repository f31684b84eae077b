-- Sign-in attempts are counted before the password is checked, in one statement that also
-- forgets a count after a quiet spell; that needs the time of the last counted failure.
-- Counters also exist for names that match no user (so an unknown name locks like a known
-- one); the sweeper removes quiet, unlocked counters through the index on that time.
-- Existing rows read as quiet since the epoch: their next failure starts a fresh count.
ALTER TABLE sign_in_failures ADD COLUMN last_failure_ms BIGINT NOT NULL DEFAULT 0;
CREATE INDEX sign_in_failures_quiet_ix ON sign_in_failures (last_failure_ms);
