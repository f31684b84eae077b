//! Rows that end: hosted-UI sessions, password history, and the sweeper's bounded purges.
//!
//! Every purge is one `DELETE ... WHERE key IN (SELECT key ... LIMIT n)` statement over an
//! expiry index: it deletes at most `n` rows, so one call never holds the database for long,
//! and it is idempotent, so several nodes sweeping one database need no leader (two nodes that
//! pick the same rows delete them once between them).

use async_trait::async_trait;
use portcullis_core::repo::{
    Expiring, HostedSessionRepo, HousekeepingRepo, PasswordHistoryRepo, StoreResult,
};

use crate::SqlStore;
use crate::error::backend;

const SESSION_INSERT: &str =
    "INSERT INTO hosted_sessions (id_hash, pool_id, sub, expires_ms) VALUES ($1, $2, $3, $4)";
const SESSION_LIVE: &str = "SELECT expires_ms FROM hosted_sessions \
                            WHERE id_hash = $1 AND pool_id = $2 AND sub = $3 AND expires_ms > $4";
const SESSION_DELETE: &str = "DELETE FROM hosted_sessions WHERE id_hash = $1";
const SESSION_DELETE_USER: &str = "DELETE FROM hosted_sessions WHERE pool_id = $1 AND sub = $2";

const HISTORY_GET: &str = "SELECT password_hash FROM password_history \
                           WHERE pool_id = $1 AND sub = $2 \
                           ORDER BY set_ms DESC, password_hash DESC LIMIT $3";
const HISTORY_PUSH: &str = "INSERT INTO password_history (pool_id, sub, password_hash, set_ms) \
                            VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
const HISTORY_TRIM: &str = "DELETE FROM password_history WHERE pool_id = $1 AND sub = $2 \
                            AND password_hash NOT IN (SELECT password_hash FROM password_history \
                            WHERE pool_id = $1 AND sub = $2 \
                            ORDER BY set_ms DESC, password_hash DESC LIMIT $3)";

const PURGE_CHALLENGE_SESSIONS: &str = "DELETE FROM auth_sessions WHERE id_hash IN \
     (SELECT id_hash FROM auth_sessions WHERE expires_ms < $1 LIMIT $2)";
const PURGE_CODES: &str = "DELETE FROM codes WHERE (pool_id, sub, purpose) IN \
     (SELECT pool_id, sub, purpose FROM codes WHERE expires_ms < $1 LIMIT $2)";
const PURGE_AUTHORIZATION_CODES: &str = "DELETE FROM oauth_codes WHERE code_hash IN \
     (SELECT code_hash FROM oauth_codes WHERE expires_ms < $1 LIMIT $2)";
const PURGE_REFRESH_TOKENS: &str = "DELETE FROM refresh_tokens WHERE token_hash IN \
     (SELECT token_hash FROM refresh_tokens WHERE expires_ms < $1 LIMIT $2)";
const PURGE_OAUTH_GRANTS: &str = "DELETE FROM oauth_grants WHERE (pool_id, origin_jti) IN \
     (SELECT pool_id, origin_jti FROM oauth_grants WHERE expires_ms < $1 LIMIT $2)";
const PURGE_HOSTED_SESSIONS: &str = "DELETE FROM hosted_sessions WHERE id_hash IN \
     (SELECT id_hash FROM hosted_sessions WHERE expires_ms < $1 LIMIT $2)";

fn purge_sql(what: Expiring) -> &'static str {
    match what {
        Expiring::ChallengeSessions => PURGE_CHALLENGE_SESSIONS,
        Expiring::Codes => PURGE_CODES,
        Expiring::AuthorizationCodes => PURGE_AUTHORIZATION_CODES,
        Expiring::RefreshTokens => PURGE_REFRESH_TOKENS,
        Expiring::OAuthGrants => PURGE_OAUTH_GRANTS,
        Expiring::HostedSessions => PURGE_HOSTED_SESSIONS,
        Expiring::SignInFailures => crate::sessions::PURGE_QUIET,
        Expiring::CodeAllowances => crate::codes::PURGE,
    }
}

#[async_trait]
impl HostedSessionRepo for SqlStore {
    async fn insert_hosted_session(
        &self,
        id_hash: &str,
        pool_id: &str,
        sub: &str,
        expires_ms: i64,
    ) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(SESSION_INSERT)
            .bind(id_hash)
            .bind(pool_id)
            .bind(sub)
            .bind(expires_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("insert_hosted_session"))?;
        Ok(())
    }

    async fn hosted_session_live(
        &self,
        id_hash: &str,
        pool_id: &str,
        sub: &str,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let found = with_pool!(self, db => sqlx::query_scalar::<_, i64>(SESSION_LIVE)
            .bind(id_hash)
            .bind(pool_id)
            .bind(sub)
            .bind(now_ms)
            .fetch_optional(db)
            .await)
        .map_err(backend("hosted_session_live"))?;
        Ok(found.is_some())
    }

    async fn delete_hosted_session(&self, id_hash: &str) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(SESSION_DELETE)
            .bind(id_hash)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("delete_hosted_session"))?;
        Ok(())
    }

    async fn delete_user_hosted_sessions(&self, pool_id: &str, sub: &str) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(SESSION_DELETE_USER)
            .bind(pool_id)
            .bind(sub)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("delete_user_hosted_sessions"))?;
        Ok(())
    }
}

#[async_trait]
impl PasswordHistoryRepo for SqlStore {
    async fn password_history(
        &self,
        pool_id: &str,
        sub: &str,
        limit: u32,
    ) -> StoreResult<Vec<String>> {
        with_pool!(self, db => sqlx::query_scalar::<_, String>(HISTORY_GET)
            .bind(pool_id)
            .bind(sub)
            .bind(i64::from(limit))
            .fetch_all(db)
            .await)
        .map_err(backend("password_history"))
    }

    async fn push_password_history(
        &self,
        pool_id: &str,
        sub: &str,
        password_hash: &str,
        set_ms: i64,
        keep: u32,
    ) -> StoreResult<()> {
        with_pool!(self, db => sqlx::query(HISTORY_PUSH)
            .bind(pool_id)
            .bind(sub)
            .bind(password_hash)
            .bind(set_ms)
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("push_password_history"))?;
        with_pool!(self, db => sqlx::query(HISTORY_TRIM)
            .bind(pool_id)
            .bind(sub)
            .bind(i64::from(keep))
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("trim_password_history"))?;
        Ok(())
    }
}

#[async_trait]
impl HousekeepingRepo for SqlStore {
    async fn purge_expired(&self, what: Expiring, before_ms: i64, limit: u32) -> StoreResult<u64> {
        with_pool!(self, db => sqlx::query(purge_sql(what))
            .bind(before_ms)
            .bind(i64::from(limit))
            .execute(db)
            .await
            .map(|done| done.rows_affected()))
        .map_err(backend("purge_expired"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    //! Each case runs on SQLite and, when `PORTCULLIS_TEST_POSTGRES_URL` is set, on PostgreSQL
    //! in a fresh schema (as `tests/store.rs` does).

    use std::collections::BTreeMap;

    use portcullis_core::domain::{
        AuthSessionRecord, PoolRecord, RefreshTokenRecord, UserKeys, UserRecord, UserStatus,
    };
    use portcullis_core::repo::{PoolRepo, SessionRepo, TokenRepo, UserRepo};
    use portcullis_core::service::oauth::OAuthRepo;
    use portcullis_core::service::oauth::records::OAuthGrantRecord;

    use super::*;

    use crate::test_support::both;

    both!(
        hosted_sessions_end_by_id_by_user_and_by_time,
        password_history_keeps_the_newest,
        purges_are_bounded_and_spare_live_rows,
        sign_out_can_spare_one_lineage,
    );

    const POOL: &str = "us-east-1_sweep";

    /// A pool with users alice and bob (subs "alice", "bob").
    async fn setup(s: &SqlStore) {
        let settings =
            serde_json::from_value(serde_json::json!({"Id": POOL, "Name": POOL})).unwrap();
        s.insert_pool(&PoolRecord {
            id: POOL.to_owned(),
            name: POOL.to_owned(),
            created_ms: 1,
            modified_ms: 1,
            settings,
        })
        .await
        .unwrap();
        for name in ["alice", "bob"] {
            s.insert_user(&UserRecord {
                pool_id: POOL.to_owned(),
                username: name.to_owned(),
                sub: name.to_owned(),
                status: UserStatus::Confirmed,
                enabled: true,
                created_ms: 1,
                modified_ms: 1,
                attributes: BTreeMap::from([("sub".to_owned(), name.to_owned())]),
                password_hash: None,
                password_set_ms: None,
                srp_sealed: None,
                keys: UserKeys {
                    username: name.to_owned(),
                    ..UserKeys::default()
                },
                version: 0,
            })
            .await
            .unwrap();
        }
    }

    fn token(hash: &str, sub: &str, origin: &str, expires_ms: i64) -> RefreshTokenRecord {
        RefreshTokenRecord {
            token_hash: hash.to_owned(),
            pool_id: POOL.to_owned(),
            client_id: "c".to_owned(),
            sub: sub.to_owned(),
            origin_jti: origin.to_owned(),
            auth_time: 1,
            created_ms: 1,
            expires_ms,
            revoked: false,
            rotated_ms: None,
        }
    }

    async fn hosted_sessions_end_by_id_by_user_and_by_time(s: SqlStore) {
        setup(&s).await;
        s.insert_hosted_session("a1", POOL, "alice", 100)
            .await
            .unwrap();
        s.insert_hosted_session("a2", POOL, "alice", 100)
            .await
            .unwrap();
        s.insert_hosted_session("b1", POOL, "bob", 100)
            .await
            .unwrap();
        assert!(
            s.hosted_session_live("a1", POOL, "alice", 99)
                .await
                .unwrap()
        );
        // Expired, or named with another user or pool: not live.
        assert!(
            !s.hosted_session_live("a1", POOL, "alice", 100)
                .await
                .unwrap()
        );
        assert!(!s.hosted_session_live("a1", POOL, "bob", 1).await.unwrap());
        assert!(
            !s.hosted_session_live("a1", "us-east-1_x", "alice", 1)
                .await
                .unwrap()
        );
        s.delete_hosted_session("a1").await.unwrap();
        s.delete_hosted_session("a1").await.unwrap();
        assert!(!s.hosted_session_live("a1", POOL, "alice", 1).await.unwrap());
        assert!(s.hosted_session_live("a2", POOL, "alice", 1).await.unwrap());
        s.delete_user_hosted_sessions(POOL, "alice").await.unwrap();
        assert!(!s.hosted_session_live("a2", POOL, "alice", 1).await.unwrap());
        assert!(s.hosted_session_live("b1", POOL, "bob", 1).await.unwrap());
        // Deleting the user ends its sessions.
        assert!(s.delete_user(POOL, "bob").await.unwrap());
        assert!(!s.hosted_session_live("b1", POOL, "bob", 1).await.unwrap());
    }

    async fn password_history_keeps_the_newest(s: SqlStore) {
        setup(&s).await;
        for (i, hash) in ["h1", "h2", "h3", "h4"].iter().enumerate() {
            let at = i64::try_from(i).unwrap();
            s.push_password_history(POOL, "alice", hash, at, 3)
                .await
                .unwrap();
        }
        s.push_password_history(POOL, "bob", "b1", 0, 3)
            .await
            .unwrap();
        assert_eq!(
            s.password_history(POOL, "alice", 10).await.unwrap(),
            ["h4", "h3", "h2"]
        );
        assert_eq!(
            s.password_history(POOL, "alice", 2).await.unwrap(),
            ["h4", "h3"]
        );
        // The same hash twice is kept once.
        s.push_password_history(POOL, "alice", "h4", 9, 3)
            .await
            .unwrap();
        assert_eq!(
            s.password_history(POOL, "alice", 10).await.unwrap(),
            ["h4", "h3", "h2"]
        );
        assert_eq!(s.password_history(POOL, "bob", 10).await.unwrap(), ["b1"]);
        assert!(s.delete_user(POOL, "alice").await.unwrap());
        assert!(
            s.password_history(POOL, "alice", 10)
                .await
                .unwrap()
                .is_empty()
        );
    }

    async fn purges_are_bounded_and_spare_live_rows(s: SqlStore) {
        setup(&s).await;
        for i in 0..5 {
            s.put_session(&AuthSessionRecord {
                id_hash: format!("s{i}"),
                pool_id: POOL.to_owned(),
                client_id: "c".to_owned(),
                sub: String::new(),
                challenge: "PASSWORD_VERIFIER".to_owned(),
                state_sealed: vec![1],
                expires_ms: 10 + i,
            })
            .await
            .unwrap();
            s.insert_refresh_token(&token(&format!("t{i}"), "alice", &format!("o{i}"), 10 + i))
                .await
                .unwrap();
            s.insert_hosted_session(&format!("h{i}"), POOL, "alice", 10 + i)
                .await
                .unwrap();
            s.put_oauth_grant(&OAuthGrantRecord {
                pool_id: POOL.to_owned(),
                origin_jti: format!("o{i}"),
                client_id: "c".to_owned(),
                scopes: "openid".to_owned(),
                created_ms: 1,
                expires_ms: Some(10 + i),
            })
            .await
            .unwrap();
        }
        // A grant from before expiry was recorded is never swept.
        s.put_oauth_grant(&OAuthGrantRecord {
            pool_id: POOL.to_owned(),
            origin_jti: "old".to_owned(),
            client_id: "c".to_owned(),
            scopes: "openid".to_owned(),
            created_ms: 1,
            expires_ms: None,
        })
        .await
        .unwrap();
        for kind in [
            Expiring::ChallengeSessions,
            Expiring::RefreshTokens,
            Expiring::HostedSessions,
            Expiring::OAuthGrants,
        ] {
            // Rows expiring at 10..=14; "before 13" means 10, 11, 12, two per call.
            assert_eq!(s.purge_expired(kind, 13, 2).await.unwrap(), 2, "{kind:?}");
            assert_eq!(s.purge_expired(kind, 13, 2).await.unwrap(), 1, "{kind:?}");
            assert_eq!(s.purge_expired(kind, 13, 2).await.unwrap(), 0, "{kind:?}");
        }
        assert!(s.get_session("s2").await.unwrap().is_none());
        assert!(s.get_session("s3").await.unwrap().is_some());
        assert!(s.get_refresh_token("t2").await.unwrap().is_none());
        assert!(s.get_refresh_token("t3").await.unwrap().is_some());
        assert!(s.hosted_session_live("h3", POOL, "alice", 0).await.unwrap());
        assert!(s.get_oauth_grant(POOL, "o2").await.unwrap().is_none());
        assert!(s.get_oauth_grant(POOL, "o3").await.unwrap().is_some());
        assert_eq!(
            s.purge_expired(Expiring::OAuthGrants, i64::MAX, 100)
                .await
                .unwrap(),
            2
        );
        assert!(s.get_oauth_grant(POOL, "old").await.unwrap().is_some());
        // Kinds without rows are no error.
        assert_eq!(
            s.purge_expired(Expiring::Codes, i64::MAX, 100)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            s.purge_expired(Expiring::AuthorizationCodes, i64::MAX, 100)
                .await
                .unwrap(),
            0
        );
    }

    async fn sign_out_can_spare_one_lineage(s: SqlStore) {
        setup(&s).await;
        for (hash, sub, origin) in [
            ("a1", "alice", "keep"),
            ("a2", "alice", "x"),
            ("b1", "bob", "y"),
        ] {
            s.insert_refresh_token(&token(hash, sub, origin, 100))
                .await
                .unwrap();
        }
        s.revoke_user_tokens_except(POOL, "alice", "keep")
            .await
            .unwrap();
        assert!(!s.origin_revoked(POOL, "alice", "keep").await.unwrap());
        assert!(s.origin_revoked(POOL, "alice", "x").await.unwrap());
        assert!(!s.origin_revoked(POOL, "bob", "y").await.unwrap());
    }
}
