-- Portcullis schema, SQLite flavour. Keep it column-for-column in step with
-- ../postgres/0001_init.sql: the queries in src/ are one text for both.
--
-- Times are epoch milliseconds and flags 0/1, both BIGINT: decoding is identical on both backends.
-- Unique indexes are named after the key column they guard (email_key, phone_key,
-- preferred_key, username_key) because SQLite reports a violation by column list and
-- PostgreSQL by index name; src/error.rs looks for that column name in either.
-- SQLite's default BINARY collation already compares bytewise, which is what
-- PostgreSQL gets from COLLATE "C".

CREATE TABLE pools (
    id          TEXT   NOT NULL PRIMARY KEY,
    name        TEXT   NOT NULL,
    created_ms  BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL,
    settings    TEXT   NOT NULL
);

CREATE TABLE clients (
    id            TEXT   NOT NULL PRIMARY KEY,
    pool_id       TEXT   NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    name          TEXT   NOT NULL,
    created_ms    BIGINT NOT NULL,
    modified_ms   BIGINT NOT NULL,
    secret_sealed BLOB,
    settings      TEXT   NOT NULL
);
CREATE INDEX clients_pool_ix ON clients (pool_id, id);

CREATE TABLE users (
    pool_id            TEXT   NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    sub                TEXT   NOT NULL,
    username           TEXT   NOT NULL,
    username_key       TEXT   NOT NULL,
    status             TEXT   NOT NULL,
    enabled            BIGINT NOT NULL,
    created_ms         BIGINT NOT NULL,
    modified_ms        BIGINT NOT NULL,
    attributes         TEXT   NOT NULL,
    password_hash      TEXT,
    password_set_ms    BIGINT,
    email_key          TEXT,
    phone_key          TEXT,
    preferred_key      TEXT,
    email              TEXT,
    phone_number       TEXT,
    name               TEXT,
    given_name         TEXT,
    family_name        TEXT,
    preferred_username TEXT,
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
    pool_id     TEXT   NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    name        TEXT   NOT NULL,
    description TEXT,
    role_arn    TEXT,
    precedence  BIGINT,
    created_ms  BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL,
    PRIMARY KEY (pool_id, name)
);

CREATE TABLE group_members (
    pool_id    TEXT NOT NULL,
    group_name TEXT NOT NULL,
    sub        TEXT NOT NULL,
    PRIMARY KEY (pool_id, group_name, sub),
    FOREIGN KEY (pool_id, group_name) REFERENCES user_groups (pool_id, name) ON DELETE CASCADE,
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX group_members_sub_ix ON group_members (pool_id, sub, group_name);

CREATE TABLE tags (
    resource_arn TEXT NOT NULL,
    tag_key      TEXT NOT NULL,
    tag_value    TEXT NOT NULL,
    PRIMARY KEY (resource_arn, tag_key)
) WITHOUT ROWID;

CREATE TABLE codes (
    pool_id    TEXT   NOT NULL,
    sub        TEXT   NOT NULL,
    purpose    TEXT   NOT NULL,
    code_hash  TEXT   NOT NULL,
    expires_ms BIGINT NOT NULL,
    attempts   BIGINT NOT NULL,
    PRIMARY KEY (pool_id, sub, purpose),
    FOREIGN KEY (pool_id, sub) REFERENCES users (pool_id, sub) ON DELETE CASCADE
) WITHOUT ROWID;
