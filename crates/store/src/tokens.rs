//! Refresh tokens, stored by hash. Revocation works per lineage (`origin_jti`): every token of
//! one sign-in shares it, and access and ID tokens carry it, so revoking the lineage's refresh
//! tokens is what revokes them all.

use async_trait::async_trait;
use portcullis_core::domain::RefreshTokenRecord;
use portcullis_core::repo::{StoreResult, TokenRepo};

use crate::SqlStore;
use crate::error::backend;

const INSERT: &str = "INSERT INTO refresh_tokens (token_hash, pool_id, client_id, sub, \
                      origin_jti, auth_time, created_ms, expires_ms, revoked, rotated_ms) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
const GET: &str = "SELECT token_hash, pool_id, client_id, sub, origin_jti, auth_time, \
                   created_ms, expires_ms, revoked, rotated_ms \
                   FROM refresh_tokens WHERE token_hash = $1";
/// Conditional, so of two concurrent rotations exactly one sees a row change.
const ROTATE: &str = "UPDATE refresh_tokens SET rotated_ms = $2 \
                      WHERE token_hash = $1 AND rotated_ms IS NULL";
// A lineage is named with its user: that is the order of the one index (refresh_tokens_lineage_ix)
// that serves these and the per-user statements.
const REVOKE_ORIGIN: &str = "UPDATE refresh_tokens SET revoked = 1 \
                             WHERE pool_id = $1 AND sub = $2 AND origin_jti = $3";
const ORIGIN_REVOKED: &str = "SELECT revoked FROM refresh_tokens \
                              WHERE pool_id = $1 AND sub = $2 AND origin_jti = $3 \
                              AND revoked = 1 LIMIT 1";
const REVOKE_USER: &str = "UPDATE refresh_tokens SET revoked = 1 WHERE pool_id = $1 AND sub = $2";
const REVOKE_USER_EXCEPT: &str = "UPDATE refresh_tokens SET revoked = 1 \
                                  WHERE pool_id = $1 AND sub = $2 AND origin_jti <> $3";

#[derive(sqlx::FromRow)]
struct TokenRow {
    token_hash: String,
    pool_id: String,
    client_id: String,
    sub: String,
    origin_jti: String,
    auth_time: i64,
    created_ms: i64,
    expires_ms: i64,
    revoked: i64,
    rotated_ms: Option<i64>,
}

impl From<TokenRow> for RefreshTokenRecord {
    fn from(row: TokenRow) -> Self {
        RefreshTokenRecord {
            token_hash: row.token_hash,
            pool_id: row.pool_id,
            client_id: row.client_id,
            sub: row.sub,
            origin_jti: row.origin_jti,
            auth_time: row.auth_time,
            created_ms: row.created_ms,
            expires_ms: row.expires_ms,
            revoked: row.revoked != 0,
            rotated_ms: row.rotated_ms,
        }
    }
}

#[async_trait]
impl TokenRepo for SqlStore {
    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()> {
        // Every sign-in makes this write, so it takes the inline path on SQLite.
        let inline = self.inline_write("insert_refresh_token", |conn| {
            conn.prepare_cached(INSERT)?
                .execute(rusqlite::named_params! {
                    "$1": token.token_hash,
                    "$2": token.pool_id,
                    "$3": token.client_id,
                    "$4": token.sub,
                    "$5": token.origin_jti,
                    "$6": token.auth_time,
                    "$7": token.created_ms,
                    "$8": token.expires_ms,
                    "$9": i64::from(token.revoked),
                    "$10": token.rotated_ms,
                })
        });
        if let Some(done) = inline.await {
            return done.map(|_| ());
        }
        with_pool!(self, db => sqlx::query(INSERT)
            .bind(&token.token_hash)
            .bind(&token.pool_id)
            .bind(&token.client_id)
            .bind(&token.sub)
            .bind(&token.origin_jti)
            .bind(token.auth_time)
            .bind(token.created_ms)
            .bind(token.expires_ms)
            .bind(i64::from(token.revoked))
            .bind(token.rotated_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("insert_refresh_token"))?;
        Ok(())
    }

    async fn get_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshTokenRecord>> {
        let row = with_pool!(self, db => sqlx::query_as::<_, TokenRow>(GET)
            .bind(token_hash)
            .fetch_optional(db)
            .await)
        .map_err(backend("get_refresh_token"))?;
        Ok(row.map(RefreshTokenRecord::from))
    }

    async fn mark_refresh_rotated(&self, token_hash: &str, at_ms: i64) -> StoreResult<bool> {
        let changed = with_pool!(self, db => sqlx::query(ROTATE)
            .bind(token_hash)
            .bind(at_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("mark_refresh_rotated"))?;
        Ok(changed > 0)
    }

    async fn revoke_origin(&self, pool_id: &str, sub: &str, origin_jti: &str) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(REVOKE_ORIGIN)
            .bind(pool_id)
            .bind(sub)
            .bind(origin_jti)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("revoke_origin"))?;
        Ok(())
    }

    async fn origin_revoked(
        &self,
        pool_id: &str,
        sub: &str,
        origin_jti: &str,
    ) -> StoreResult<bool> {
        let inline = self.inline_read("origin_revoked", |conn| {
            use rusqlite::OptionalExtension;
            conn.prepare(ORIGIN_REVOKED)?
                .query_row(
                    rusqlite::named_params! {"$1": pool_id, "$2": sub, "$3": origin_jti},
                    |row| row.get::<_, i64>(0),
                )
                .optional()
        });
        if let Some(found) = inline {
            return Ok(found?.is_some());
        }
        let found = with_pool!(self, db => sqlx::query_scalar::<_, i64>(ORIGIN_REVOKED)
            .bind(pool_id)
            .bind(sub)
            .bind(origin_jti)
            .fetch_optional(db)
            .await)
        .map_err(backend("origin_revoked"))?;
        Ok(found.is_some())
    }

    async fn revoke_user_tokens(&self, pool_id: &str, sub: &str) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(REVOKE_USER)
            .bind(pool_id)
            .bind(sub)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("revoke_user_tokens"))?;
        Ok(())
    }

    async fn revoke_user_tokens_except(
        &self,
        pool_id: &str,
        sub: &str,
        keep_origin: &str,
    ) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(REVOKE_USER_EXCEPT)
            .bind(pool_id)
            .bind(sub)
            .bind(keep_origin)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("revoke_user_tokens_except"))?;
        Ok(())
    }
}
