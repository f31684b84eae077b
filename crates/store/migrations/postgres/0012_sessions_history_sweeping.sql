-- Sign-out that ends hosted-UI sessions, password history, and the indexes the housekeeping
-- sweeper deletes by. Column-for-column in step with ../sqlite/0012_sessions_history_sweeping.sql.

-- A hosted-UI session exists while its row does: the cookie only names it. Sign-out, password
-- changes and /logout delete rows, so a copied cookie stops working at once.
CREATE TABLE hosted_sessions (
    id_hash    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    pool_id    TEXT COLLATE "C" NOT NULL,
    sub        TEXT COLLATE "C" NOT NULL,
    expires_ms BIGINT NOT NULL,
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX hosted_sessions_user_ix ON hosted_sessions (pool_id, sub);
CREATE INDEX hosted_sessions_expires_ix ON hosted_sessions (expires_ms);

-- The hashes of a user's earlier passwords (PasswordHistorySize), newest by set_ms. The hash
-- carries its own random salt, so it is unique and serves as the key.
CREATE TABLE password_history (
    pool_id       TEXT COLLATE "C" NOT NULL,
    sub           TEXT COLLATE "C" NOT NULL,
    password_hash TEXT COLLATE "C" NOT NULL,
    set_ms        BIGINT NOT NULL,
    PRIMARY KEY (pool_id, sub, password_hash),
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
);

-- A grant lives as long as the newest refresh token of its lineage; NULL for grants written
-- before this column existed (never swept).
ALTER TABLE oauth_grants ADD COLUMN expires_ms BIGINT;
CREATE INDEX oauth_grants_expires_ix ON oauth_grants (expires_ms);

-- The sweeper's bounded deletes find expired rows through these.
CREATE INDEX auth_sessions_expires_ix ON auth_sessions (expires_ms);
CREATE INDEX refresh_tokens_expires_ix ON refresh_tokens (expires_ms);
CREATE INDEX codes_expires_ix ON codes (expires_ms);
