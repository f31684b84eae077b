-- Every sign-in and every refresh inserts a refresh token, and each index it lands in is
-- another page written. One lineage index serves the per-lineage lookups (which name the
-- token's user as well) and the per-user ones alike, in place of two.
DROP INDEX refresh_tokens_origin_ix;
DROP INDEX refresh_tokens_sub_ix;
CREATE INDEX refresh_tokens_lineage_ix ON refresh_tokens (pool_id, sub, origin_jti);
