//! Challenge sessions between InitiateAuth and RespondToAuthChallenge, and the failed sign-in
//! counters behind lockout: state any node may need for the next request. Counters are keyed by
//! a user's sub, or by the keyed hash of a name no user has (so unknown names lock alike).

use async_trait::async_trait;
use portcullis_core::domain::{AuthSessionRecord, LockoutSchedule, SignInFailures};
use portcullis_core::repo::{SessionRepo, StoreResult};
use rusqlite::OptionalExtension;

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
/// An absolute write has no attempt time: its lock end stands in for one, so the sweeper
/// never removes a lock before it ends.
const PUT_FAILURES: &str = "INSERT INTO sign_in_failures \
                            (pool_id, sub, failures, locked_until_ms, last_failure_ms) \
                            VALUES ($1, $2, $3, $4, $4) ON CONFLICT (pool_id, sub) DO UPDATE SET \
                            failures = excluded.failures, \
                            locked_until_ms = excluded.locked_until_ms, \
                            last_failure_ms = excluded.last_failure_ms";
/// One statement counts the attempt, so concurrent attempts cannot read the same count (the
/// lost update of a read followed by a write). The `WHERE` of the update refuses a locked key:
/// no row is updated and none returned. The new count `n` is the old one plus one, or one after
/// a quiet spell (no failure and no lock for `forget_after`); the lock is `first << (n - free)` capped at `max` from the free-th failure on
/// (the shift is bounded first, so it cannot overflow). A new row starts at one failure, which
/// locks nothing because `free_failures` is at least 2.
///
/// $1 pool, $2 key, $3 now, $4 free failures, $5 first lock, $6 max lock, $7 forget after.
const COUNT_ATTEMPT: &str = "INSERT INTO sign_in_failures \
     (pool_id, sub, failures, locked_until_ms, last_failure_ms) VALUES ($1, $2, 1, 0, $3) \
     ON CONFLICT (pool_id, sub) DO UPDATE SET \
     failures = CASE WHEN sign_in_failures.last_failure_ms + $7 <= $3 \
                          AND sign_in_failures.locked_until_ms + $7 <= $3 THEN 1 \
                     ELSE sign_in_failures.failures + 1 END, \
     locked_until_ms = CASE \
         WHEN sign_in_failures.last_failure_ms + $7 <= $3 \
              AND sign_in_failures.locked_until_ms + $7 <= $3 THEN 0 \
         WHEN sign_in_failures.failures + 1 < $4 THEN 0 \
         WHEN sign_in_failures.failures + 1 - $4 >= 30 THEN $3 + $6 \
         WHEN ($5 << CAST(sign_in_failures.failures + 1 - $4 AS INTEGER)) >= $6 THEN $3 + $6 \
         ELSE $3 + ($5 << CAST(sign_in_failures.failures + 1 - $4 AS INTEGER)) END, \
     last_failure_ms = $3 \
     WHERE sign_in_failures.locked_until_ms <= $3 \
     RETURNING failures, locked_until_ms";
/// Only counts the next attempt would forget anyway. Bounded, so one sweep never holds the
/// table for long; the key pairs come from the index on the last failure time.
pub(crate) const PURGE_QUIET: &str = "DELETE FROM sign_in_failures WHERE (pool_id, sub) IN \
     (SELECT pool_id, sub FROM sign_in_failures \
      WHERE last_failure_ms <= $1 AND locked_until_ms <= $1 LIMIT CAST($2 AS BIGINT))";
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
        if f == SignInFailures::default() {
            // Every successful sign-in clears the attempt it counted: inline on SQLite, as the
            // refresh-token insert beside it (a hand-off to sqlx's thread cost more than this
            // delete after the password hash).
            let inline = self.inline_write("clear_failures", |conn| {
                conn.prepare_cached(CLEAR_FAILURES)?
                    .execute(rusqlite::named_params! { "$1": pool_id, "$2": sub })
            });
            if let Some(done) = inline.await {
                return done.map(|_| ());
            }
        }
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

    async fn count_attempt(
        &self,
        pool_id: &str,
        key: &str,
        now_ms: i64,
        schedule: &LockoutSchedule,
    ) -> StoreResult<Option<SignInFailures>> {
        // Every password check makes this write before its hash: inline on SQLite, as above.
        let inline = self.inline_write("count_attempt", |conn| {
            conn.prepare_cached(COUNT_ATTEMPT)?
                .query_row(
                    rusqlite::named_params! {
                        "$1": pool_id,
                        "$2": key,
                        "$3": now_ms,
                        "$4": schedule.free_failures.max(2),
                        "$5": schedule.first_lock_ms,
                        "$6": schedule.max_lock_ms,
                        "$7": schedule.forget_after_ms,
                    },
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
                )
                .optional()
        });
        let row = match inline.await {
            Some(done) => done?,
            None => {
                self.count_attempt_sqlx(pool_id, key, now_ms, schedule)
                    .await?
            }
        };
        Ok(row.map(|(failures, locked_until_ms)| SignInFailures {
            failures,
            locked_until_ms,
        }))
    }
}

impl SqlStore {
    async fn count_attempt_sqlx(
        &self,
        pool_id: &str,
        key: &str,
        now_ms: i64,
        schedule: &LockoutSchedule,
    ) -> StoreResult<Option<(i64, i64)>> {
        with_pool!(self, db => sqlx::query_as::<_, (i64, i64)>(COUNT_ATTEMPT)
            .bind(pool_id)
            .bind(key)
            .bind(now_ms)
            .bind(schedule.free_failures.max(2))
            .bind(schedule.first_lock_ms)
            .bind(schedule.max_lock_ms)
            .bind(schedule.forget_after_ms)
            .fetch_optional(db)
            .await)
        .map_err(backend("count_attempt"))
    }
}
