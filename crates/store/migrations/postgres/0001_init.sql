-- Portcullis schema, PostgreSQL flavour. Keep it column-for-column in step with
-- ../sqlite/0001_init.sql: the queries in src/ are one text for both.
--
-- Times are epoch milliseconds and flags 0/1, both BIGINT: decoding is identical on both backends.
-- Unique indexes are named after the key column they guard (email_key, phone_key,
-- preferred_key, username_key) because SQLite reports a violation by column list and
-- PostgreSQL by index name; src/error.rs looks for that column name in either.
-- Every text column that is compared, ordered or range-scanned is COLLATE "C", so ordering,
-- keyset pagination and prefix ranges are bytewise here as they are on SQLite.

CREATE TABLE pools (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name        TEXT             NOT NULL,
    created_ms  BIGINT           NOT NULL,
    modified_ms BIGINT           NOT NULL,
    settings    TEXT             NOT NULL
);

CREATE TABLE clients (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    pool_id       TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    name          TEXT             NOT NULL,
    created_ms    BIGINT           NOT NULL,
    modified_ms   BIGINT           NOT NULL,
    secret_sealed BYTEA,
    settings      TEXT             NOT NULL
);
CREATE INDEX clients_pool_ix ON clients (pool_id, id);

CREATE TABLE users (
    pool_id            TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    sub                TEXT COLLATE "C" NOT NULL,
    username           TEXT COLLATE "C" NOT NULL,
    username_key       TEXT COLLATE "C" NOT NULL,
    status             TEXT COLLATE "C" NOT NULL,
    enabled            BIGINT           NOT NULL,
    created_ms         BIGINT           NOT NULL,
    modified_ms        BIGINT           NOT NULL,
    attributes         TEXT             NOT NULL,
    password_hash      TEXT,
    password_set_ms    BIGINT,
    email_key          TEXT COLLATE "C",
    phone_key          TEXT COLLATE "C",
    preferred_key      TEXT COLLATE "C",
    email              TEXT COLLATE "C",
    phone_number       TEXT COLLATE "C",
    name               TEXT COLLATE "C",
    given_name         TEXT COLLATE "C",
    family_name        TEXT COLLATE "C",
    preferred_username TEXT COLLATE "C",
    PRIMARY KEY (pool_id, sub)
);
CREATE UNIQUE INDEX users_username_key_uq  ON users (pool_id, username_key);
CREATE UNIQUE INDEX users_email_key_uq     ON users (pool_id, email_key);
CREATE UNIQUE INDEX users_phone_key_uq     ON users (pool_id, phone_key);
CREATE UNIQUE INDEX users_preferred_key_uq ON users (pool_id, preferred_key);
CREATE INDEX users_username_ix           ON users (pool_id, username);
CREATE INDEX users_email_ix              ON users (pool_id, email);
CREATE INDEX users_phone_number_ix       ON users (pool_id, phone_number);
CREATE INDEX users_name_ix               ON users (pool_id, name);
CREATE INDEX users_given_name_ix         ON users (pool_id, given_name);
CREATE INDEX users_family_name_ix        ON users (pool_id, family_name);
CREATE INDEX users_preferred_username_ix ON users (pool_id, preferred_username);
-- Few distinct values: username_key lets a filtered page come straight off the index in order.
CREATE INDEX users_status_ix             ON users (pool_id, status, username_key);
CREATE INDEX users_enabled_ix            ON users (pool_id, enabled, username_key);

CREATE TABLE user_groups (
    pool_id     TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    name        TEXT COLLATE "C" NOT NULL,
    description TEXT,
    role_arn    TEXT,
    precedence  BIGINT,
    created_ms  BIGINT           NOT NULL,
    modified_ms BIGINT           NOT NULL,
    PRIMARY KEY (pool_id, name)
);

CREATE TABLE group_members (
    pool_id    TEXT COLLATE "C" NOT NULL,
    group_name TEXT COLLATE "C" NOT NULL,
    sub        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (pool_id, group_name, sub),
    FOREIGN KEY (pool_id, group_name) REFERENCES user_groups (pool_id, name) ON DELETE CASCADE,
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
);
CREATE INDEX group_members_sub_ix ON group_members (pool_id, sub, group_name);

CREATE TABLE tags (
    resource_arn TEXT COLLATE "C" NOT NULL,
    tag_key      TEXT COLLATE "C" NOT NULL,
    tag_value    TEXT             NOT NULL,
    PRIMARY KEY (resource_arn, tag_key)
);

CREATE TABLE codes (
    pool_id    TEXT COLLATE "C" NOT NULL,
    sub        TEXT COLLATE "C" NOT NULL,
    purpose    TEXT COLLATE "C" NOT NULL,
    code_hash  TEXT             NOT NULL,
    expires_ms BIGINT           NOT NULL,
    attempts   BIGINT           NOT NULL,
    PRIMARY KEY (pool_id, sub, purpose),
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
);
