-- OAuth 2.0 / hosted UI state: resource servers, user pool domains, authorization codes and
-- the scopes granted to an OAuth sign-in lineage. Column-for-column in step with
-- ../sqlite/0004_oauth.sql.
--
-- Every table hangs off its pool with ON DELETE CASCADE, so deleting a pool removes them.

CREATE TABLE resource_servers (
    pool_id     TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    identifier  TEXT COLLATE "C" NOT NULL,
    name        TEXT             NOT NULL,
    -- JSON array of {"ScopeName", "ScopeDescription"}, as on the wire.
    scopes      TEXT             NOT NULL,
    created_ms  BIGINT           NOT NULL,
    modified_ms BIGINT           NOT NULL,
    PRIMARY KEY (pool_id, identifier)
);

-- Domains are unique across pools; a pool has at most one prefix and one custom domain.
CREATE TABLE user_pool_domains (
    domain                TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    pool_id               TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    custom                BIGINT           NOT NULL,
    certificate_arn       TEXT,
    managed_login_version BIGINT,
    created_ms            BIGINT           NOT NULL,
    modified_ms           BIGINT           NOT NULL
);
CREATE UNIQUE INDEX user_pool_domains_pool_kind_uq ON user_pool_domains (pool_id, custom);

-- Codes are stored as SHA-256 hashes; used rows stay until purged after expiry so that a
-- replayed code is recognised.
CREATE TABLE oauth_codes (
    code_hash      TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    pool_id        TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    client_id      TEXT COLLATE "C" NOT NULL,
    sub            TEXT COLLATE "C" NOT NULL,
    redirect_uri   TEXT             NOT NULL,
    scopes         TEXT             NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    origin_jti     TEXT COLLATE "C" NOT NULL,
    auth_time      BIGINT           NOT NULL,
    created_ms     BIGINT           NOT NULL,
    expires_ms     BIGINT           NOT NULL,
    used           BIGINT           NOT NULL
);
CREATE INDEX oauth_codes_expires_ix ON oauth_codes (expires_ms);

CREATE TABLE oauth_grants (
    pool_id    TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    origin_jti TEXT COLLATE "C" NOT NULL,
    client_id  TEXT COLLATE "C" NOT NULL,
    scopes     TEXT             NOT NULL,
    created_ms BIGINT           NOT NULL,
    PRIMARY KEY (pool_id, origin_jti)
);
