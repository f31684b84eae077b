-- Every sign-in and every refresh inserts a refresh token, and each B-tree the row lands in
-- costs a page in the WAL. The table was four B-trees: the rowid table, the primary key's
-- automatic index, and the (pool_id, origin_jti) and (pool_id, sub) indexes. It becomes two:
-- keyed by token_hash WITHOUT ROWID, and one lineage index that serves the per-lineage
-- lookups (which name the token's user as well) and the per-user ones alike.
CREATE TABLE refresh_tokens_keyed (
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
) WITHOUT ROWID;
INSERT INTO refresh_tokens_keyed (token_hash, pool_id, client_id, sub, origin_jti, auth_time,
                                  created_ms, expires_ms, revoked, rotated_ms)
    SELECT token_hash, pool_id, client_id, sub, origin_jti, auth_time,
           created_ms, expires_ms, revoked, rotated_ms
    FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_keyed RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_lineage_ix ON refresh_tokens (pool_id, sub, origin_jti);
