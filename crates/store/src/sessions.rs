//! Challenge sessions between InitiateAuth and RespondToAuthChallenge, and the failed sign-in
//! counters behind lockout: state any node may need for the next request.

use async_trait::async_trait;
use portcullis_core::domain::{AuthSessionRecord, SignInFailures};
use portcullis_core::repo::{SessionRepo, StoreResult};

use crate::SqlStore;
use crate::error::backend;

const PUT: &str = "INSERT INTO auth_sessions \
                   (id_hash, pool_id, client_id, sub, challenge, state_sealed, expires_ms) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7) \
                   ON CONFLICT (id_hash) DO UPDATE SET pool_id = excluded.pool_id, \
                   client_id = excluded.client_id, sub = excluded.sub, \
                   challenge = excluded.challenge, state_sealed = excluded.state_sealed, \
                   expires_ms = excluded.expires_ms";
const GET: &str = "SELECT id_hash, pool_id, client_id, sub, challenge, state_sealed, expires_ms \
                   FROM auth_sessions WHERE id_hash = $1";
/// The delete is the claim: of two concurrent answers only one removes the row.
const CONSUME: &str = "DELETE FROM auth_sessions WHERE id_hash = $1";
const GET_FAILURES: &str =
    "SELECT failures, locked_until_ms FROM sign_in_failures WHERE pool_id = $1 AND sub = $2";
const PUT_FAILURES: &str = "INSERT INTO sign_in_failures (pool_id, sub, failures, locked_until_ms) \
                            VALUES ($1, $2, $3, $4) ON CONFLICT (pool_id, sub) DO UPDATE SET \
                            failures = excluded.failures, \
                            locked_until_ms = excluded.locked_until_ms";
const CLEAR_FAILURES: &str = "DELETE FROM sign_in_failures WHERE pool_id = $1 AND sub = $2";

#[derive(sqlx::FromRow)]
struct SessionRow {
    id_hash: String,
    pool_id: String,
    client_id: String,
    sub: String,
    challenge: String,
    state_sealed: Vec<u8>,
    expires_ms: i64,
}

impl From<SessionRow> for AuthSessionRecord {
    fn from(row: SessionRow) -> Self {
        AuthSessionRecord {
            id_hash: row.id_hash,
            pool_id: row.pool_id,
            client_id: row.client_id,
            sub: row.sub,
            challenge: row.challenge,
            state_sealed: row.state_sealed,
            expires_ms: row.expires_ms,
        }
    }
}

#[async_trait]
impl SessionRepo for SqlStore {
    async fn put_session(&self, session: &AuthSessionRecord) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(PUT)
            .bind(&session.id_hash)
            .bind(&session.pool_id)
            .bind(&session.client_id)
            .bind(&session.sub)
            .bind(&session.challenge)
            .bind(&session.state_sealed)
            .bind(session.expires_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("put_session"))?;
        Ok(())
    }

    async fn get_session(&self, id_hash: &str) -> StoreResult<Option<AuthSessionRecord>> {
        let row = with_pool!(self, db => sqlx::query_as::<_, SessionRow>(GET)
            .bind(id_hash)
            .fetch_optional(db)
            .await)
        .map_err(backend("get_session"))?;
        Ok(row.map(AuthSessionRecord::from))
    }

    async fn consume_session(&self, id_hash: &str) -> StoreResult<bool> {
        let deleted = with_pool!(self, db => sqlx::query(CONSUME)
            .bind(id_hash)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("consume_session"))?;
        Ok(deleted > 0)
    }

    async fn get_failures(&self, pool_id: &str, sub: &str) -> StoreResult<SignInFailures> {
        let inline = self.inline_lookup("get_failures", GET_FAILURES, pool_id, sub, |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
        });
        let row = match inline {
            Some(row) => row?,
            None => with_pool!(self, db => sqlx::query_as::<_, (i64, i64)>(GET_FAILURES)
            .bind(pool_id)
            .bind(sub)
            .fetch_optional(db)
            .await)
            .map_err(backend("get_failures"))?,
        };
        Ok(
            row.map_or_else(SignInFailures::default, |(failures, locked_until_ms)| {
                SignInFailures {
                    failures,
                    locked_until_ms,
                }
            }),
        )
    }

    /// A reset to the default deletes the row: absence reads as the default, and the table
    /// then holds only users who are actually failing.
    async fn put_failures(&self, pool_id: &str, sub: &str, f: SignInFailures) -> StoreResult<()> {
        with_pool!(self, db => if f == SignInFailures::default() {
            sqlx::query(CLEAR_FAILURES).bind(pool_id).bind(sub).execute(db).await
                .map(|done| done.rows_affected())
        } else {
            sqlx::query(PUT_FAILURES)
                .bind(pool_id)
                .bind(sub)
                .bind(f.failures)
                .bind(f.locked_until_ms)
                .execute(db)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(backend("put_failures"))?;
        Ok(())
    }
}
