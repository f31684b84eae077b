-- Sign-in state: SRP verifiers, signing keys, refresh tokens, challenge sessions, lockout
-- counters. Column-for-column in step with ../postgres/0002_auth_state.sql.
--
-- Sessions, tokens and failure counters have no foreign key to users on purpose: decoy
-- challenges for unknown users (PreventUserExistenceErrors) open sessions for no user, and
-- delete_user / delete_pool remove these rows explicitly.

ALTER TABLE users ADD COLUMN srp_sealed BLOB;

CREATE TABLE signing_keys (
    pool_id        TEXT   NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    kid            TEXT   NOT NULL,
    token_use      TEXT   NOT NULL,
    private_sealed BLOB   NOT NULL,
    n              TEXT   NOT NULL,
    e              TEXT   NOT NULL,
    created_ms     BIGINT NOT NULL,
    PRIMARY KEY (pool_id, kid)
);

CREATE TABLE refresh_tokens (
    token_hash TEXT   NOT NULL PRIMARY KEY,
    pool_id    TEXT   NOT NULL,
    client_id  TEXT   NOT NULL,
    sub        TEXT   NOT NULL,
    origin_jti TEXT   NOT NULL,
    auth_time  BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    revoked    BIGINT NOT NULL,
    rotated_ms BIGINT
);
-- origin_revoked runs on every access-token request.
CREATE INDEX refresh_tokens_origin_ix ON refresh_tokens (pool_id, origin_jti);
CREATE INDEX refresh_tokens_sub_ix    ON refresh_tokens (pool_id, sub);

CREATE TABLE auth_sessions (
    id_hash      TEXT   NOT NULL PRIMARY KEY,
    pool_id      TEXT   NOT NULL,
    client_id    TEXT   NOT NULL,
    sub          TEXT   NOT NULL,
    challenge    TEXT   NOT NULL,
    state_sealed BLOB   NOT NULL,
    expires_ms   BIGINT NOT NULL
);
CREATE INDEX auth_sessions_sub_ix ON auth_sessions (pool_id, sub);

CREATE TABLE sign_in_failures (
    pool_id         TEXT   NOT NULL,
    sub             TEXT   NOT NULL,
    failures        BIGINT NOT NULL,
    locked_until_ms BIGINT NOT NULL,
    PRIMARY KEY (pool_id, sub)
) WITHOUT ROWID;
