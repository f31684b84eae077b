-- Allowances of one-time codes: redemption attempts and issued codes per user and purpose,
-- issued codes per destination. Counted apart from the codes themselves, so a re-issued code
-- keeps the count, and one statement takes a use or refuses (see src/codes.rs).
-- `counter` names what is counted (e.g. `attempts:forgot_password:<sub>`); destinations and
-- unknown usernames appear only as keyed hashes. A row is dead once `window_ends_ms` passes.
CREATE TABLE code_allowances (
    pool_id        TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    counter        TEXT COLLATE "C" NOT NULL,
    used           BIGINT NOT NULL,
    window_ends_ms BIGINT NOT NULL,
    PRIMARY KEY (pool_id, counter)
);
CREATE INDEX code_allowances_window_ix ON code_allowances (window_ends_ms);
-- codes.attempts is no longer read or advanced: attempts live in code_allowances.
