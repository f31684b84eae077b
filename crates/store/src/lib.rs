//! Portcullis storage: core's repository traits over sqlx, for SQLite and PostgreSQL.
//!
//! # One SQL text, two backends
//!
//! [`SqlStore`] holds either a `SqlitePool` or a `PgPool`, and every query is written once and
//! run through [`with_pool!`], which expands the same expression once per backend. We chose that
//! over sqlx's `Any` driver because:
//! - each arm is type-checked against its real driver, so types that `Any` cannot carry
//!   faithfully (BLOB/BYTEA, typed NULLs) need no special handling;
//! - the native connect options are at hand (WAL, busy timeout, foreign keys, synchronous);
//! - database errors keep their native detail (PostgreSQL's constraint name, SQLite's extended
//!   code), which is how unique violations become [`Conflict`] kinds;
//! - `Any` needs a process-wide driver registry installed at start, and the house rules ask for
//!   no global state.
//!
//! The price is that each query is compiled twice; the SQL text is still one literal.
//!
//! Placeholders are `$1`, `$2`, ... everywhere: PostgreSQL's native syntax, which sqlx's SQLite
//! driver also accepts (SQLite parses `$1` as a named parameter, and sqlx binds it by its
//! number, so one number may appear several times in a statement on both backends).
//!
//! Where DDL must differ (BYTEA vs BLOB, `COLLATE "C"`, `WITHOUT ROWID`) it differs only in
//! `migrations/sqlite` and `migrations/postgres`, which are embedded and run at connect.
//!
//! A paged statement takes its limit as `LIMIT CAST($n AS BIGINT)`, never a bare `LIMIT $n`:
//! SQLite's planner reads a bare LIMIT parameter's value, so every new binding expires the
//! statement and each execution prepares it again (the groups read on every sign-in spent
//! about a tenth of its request's CPU re-planning). PostgreSQL takes both forms alike.
//!
//! # One exception, measured
//!
//! On a SQLite file, the few point reads on every request's path, and the refresh-token insert
//! of every sign-in, also have an inline twin ([`inline`]): the same SQL text run through
//! rusqlite on the calling thread, because sqlx's per-connection threads cost more than the
//! statements themselves. [`SqlStore::inline_read`] and [`SqlStore::inline_write`] are the
//! places that choose; the sqlx query stays the fallback and the PostgreSQL path.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use inline::{Inline, InlineDb};
use portcullis_core::repo::{StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Runs `$body` with `$pool` bound to whichever pool the store holds. The body is expanded once
/// per backend, so it must be generic in effect: the same SQL text, binds and row types.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}

// First, so its column-list macros are in scope in the modules below.
#[macro_use]
mod rows;

mod bulk;
mod clients;
mod codes;
mod error;
mod groups;
mod housekeeping;
mod inline;
mod keys;
mod oauth;
mod pools;
mod prefix;
mod sessions;
mod tags;
#[cfg(test)]
mod test_support;
mod tokens;
mod users;

/// The one storage implementation: cheap to clone (the pools are shared handles).
#[derive(Clone, Debug)]
pub struct SqlStore {
    backend: Backend,
    /// Present for a SQLite file (not an in-memory database, which other connections cannot
    /// see).
    inline: Option<Arc<InlineDb>>,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl SqlStore {
    /// Opens `sqlite://<path>` (created if missing; `sqlite::memory:` for a throwaway database)
    /// or `postgres://...` / `postgresql://...`, and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<SqlStore, StoreError> {
        let store = if url.starts_with("sqlite:") {
            let (pool, inline) = connect_sqlite(url).await?;
            SqlStore {
                backend: Backend::Sqlite(pool),
                inline: inline.map(Arc::new),
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            SqlStore {
                backend: Backend::Postgres(connect_postgres(url).await?),
                inline: None,
            }
        } else {
            // The URL itself is not echoed: it may carry a password.
            return Err(StoreError::Backend(
                "unsupported database URL: expected sqlite://<path> or postgres://...".into(),
            ));
        };
        tracing::debug!(
            backend = store.backend_name(),
            "database schema is up to date"
        );
        Ok(store)
    }

    /// Answers whether the database can be reached right now (GET /health).
    pub async fn ping(&self) -> Result<(), StoreError> {
        const PING: &str = "SELECT 1";
        let inline = self.inline_read("ping", |conn| {
            conn.prepare(PING)?
                .query_row([], |row| row.get::<_, i64>(0))
        });
        if let Some(answer) = inline {
            return answer.map(|_| ());
        }
        with_pool!(self, pool => sqlx::query(PING).execute(pool).await.map(|_| ()))
            .map_err(error::backend("ping"))
    }

    /// Runs `read` inline when the store has an [`InlineDb`] and SQLite answers without
    /// waiting; `None` means "use the sqlx query". `op` names the operation in errors.
    fn inline_read<T>(
        &self,
        op: &'static str,
        read: impl FnOnce(inline::ReadConn<'_>) -> rusqlite::Result<T>,
    ) -> Option<StoreResult<T>> {
        match self.inline.as_deref()?.read(read) {
            Inline::Done(result) => Some(result.map_err(|e| error::inline(op, e))),
            Inline::Busy => None,
        }
    }

    /// Runs `write` inline when the store has an [`InlineDb`] and SQLite takes the write
    /// without waiting; `None` means "use the sqlx statement". Every so many inline writes it
    /// also runs the checkpoint the inline connection leaves undone, on sqlx's thread.
    async fn inline_write<T>(
        &self,
        op: &'static str,
        write: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Option<StoreResult<T>> {
        let writer = &self.inline.as_deref()?.writer;
        let done = match writer.write(write) {
            Inline::Done(result) => result.map_err(|e| error::inline(op, e)),
            Inline::Busy => return None,
        };
        if writer.checkpoint_due() {
            // PASSIVE: copies what no reader still needs and never waits; a checkpoint that
            // falls short is simply finished by a later one.
            let ran = with_pool!(self, pool => sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(pool)
                .await
                .map(|_| ()));
            if let Err(e) = ran {
                tracing::warn!(error = %e, "WAL checkpoint after inline writes failed");
            }
        }
        Some(done)
    }

    /// The inline form of every keyed point read: `sql` takes `$1` and `$2` and yields at most
    /// one row, which `row` decodes. `None` means "use the sqlx query".
    fn inline_lookup<T>(
        &self,
        op: &'static str,
        sql: &'static str,
        first: &str,
        second: &str,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Option<StoreResult<Option<T>>> {
        use rusqlite::OptionalExtension;
        self.inline_read(op, |conn| {
            conn.prepare(sql)?
                .query_row(rusqlite::named_params! {"$1": first, "$2": second}, row)
                .optional()
        })
    }

    /// `"sqlite"` or `"postgres"`, for logs and the health answer.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Waits for checked-out connections to come back and closes them all; for graceful
    /// shutdown, so SQLite can checkpoint its WAL and PostgreSQL sees clean disconnects.
    pub async fn close(&self) {
        if let Some(inline) = &self.inline {
            inline.close();
        }
        with_pool!(self, pool => pool.close().await)
    }
}

/// How much of a SQLite database file is read through a memory map (1 GiB: a pool of about
/// 800,000 users; beyond it SQLite reads the rest as before).
const MMAP_BYTES: i64 = 1 << 30;

async fn connect_sqlite(url: &str) -> Result<(SqlitePool, Option<InlineDb>), StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(error::backend("parse sqlite url"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // Writers queue behind one another instead of failing with SQLITE_BUSY at once.
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
        // Durable across application crashes; only a power loss can drop the last commits.
        .synchronous(SqliteSynchronous::Normal)
        // Reads map the file instead of copying pages through each connection's own 2 MB
        // cache: with 100,000 users a user lookup otherwise spent about a tenth of its CPU in
        // read(2) and page-cache copies. The mapped pages are the OS page cache, shared by all
        // connections and reclaimable; they show in resident memory as file pages.
        .pragma("mmap_size", MMAP_BYTES.to_string());
    let in_memory = url.starts_with("sqlite::memory:") || url.contains("mode=memory");
    let pool_options = if in_memory {
        // An in-memory database lives only as long as a connection to it, and shared-cache
        // connections fail with SQLITE_LOCKED rather than waiting: keep exactly one, forever.
        SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        SqlitePoolOptions::new()
    };
    let pool = pool_options
        .connect_with(options.clone())
        .await
        .map_err(error::backend("open sqlite database"))?;
    sqlx::migrate!("migrations/sqlite")
        .run(&pool)
        .await
        .map_err(error::migrate)?;
    // Opened after the migrations, so the file exists and is in WAL mode.
    let inline = if in_memory {
        None
    } else {
        match InlineDb::open(options.get_filename(), MMAP_BYTES) {
            Ok(inline) => Some(inline),
            Err(e) => {
                tracing::warn!(error = %e, "SQLite statements stay on sqlx: cannot open the inline connections");
                None
            }
        }
    };
    Ok((pool, inline))
}

async fn connect_postgres(url: &str) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(error::backend("parse postgres url"))?;
    let pool = PgPoolOptions::new()
        .connect_with(options)
        .await
        .map_err(error::backend("connect to postgres"))?;
    // sqlx takes an advisory lock around migrations, so nodes starting together take turns.
    sqlx::migrate!("migrations/postgres")
        .run(&pool)
        .await
        .map_err(error::migrate)?;
    Ok(pool)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod inline_tests {
    //! The inline reads and their sqlx twins must decode the same rows the same way; the
    //! store tests cover the inline side on SQLite, and these pin the two sides together.

    use std::collections::BTreeMap;

    use portcullis_core::domain::{
        GroupRecord, RefreshTokenRecord, SignInFailures, UserKeys, UserRecord, UserStatus,
    };
    use portcullis_core::repo::{AliasKind, Conflict, GroupRepo, SessionRepo, TokenRepo, UserRepo};

    use super::*;

    fn sqlx_only(store: &SqlStore) -> SqlStore {
        SqlStore {
            backend: store.backend.clone(),
            inline: None,
        }
    }

    fn full_user() -> UserRecord {
        UserRecord {
            pool_id: "us-east-1_Inline1".into(),
            username: "Ann".into(),
            sub: "0b6c3c8e-0000-4000-8000-000000000001".into(),
            status: UserStatus::ForceChangePassword,
            enabled: false,
            created_ms: 1_000,
            modified_ms: 2_000,
            attributes: BTreeMap::from([
                ("email".to_string(), "Ann@Example.com".to_string()),
                ("phone_number".to_string(), "+15550100".to_string()),
                ("preferred_username".to_string(), "annie".to_string()),
                (
                    "custom:tier".to_string(),
                    "gold \u{e9}\u{1f600}".to_string(),
                ),
            ]),
            password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
            password_set_ms: Some(1_500),
            srp_sealed: Some(vec![0, 7, 255, 0, 42]),
            keys: UserKeys {
                username: "ann".into(),
                email: Some("ann@example.com".into()),
                phone_number: Some("+15550100".into()),
                preferred_username: Some("annie".into()),
            },
            version: 0,
        }
    }

    #[tokio::test]
    async fn inline_and_sqlx_reads_agree() {
        let dir = tempfile::tempdir().unwrap();
        let (store, user) = store_with_pool(dir.path()).await;
        assert!(store.inline.is_some(), "a SQLite file gets inline reads");
        let twin = sqlx_only(&store);
        let pool = user.pool_id.as_str();
        for s in [&store, &twin] {
            let by_name = s.get_user_by_username(pool, "ann").await.unwrap();
            assert_eq!(by_name.as_ref(), Some(&user));
            let by_sub = s.get_user_by_sub(pool, &user.sub).await.unwrap();
            assert_eq!(by_sub.as_ref(), Some(&user));
            for (kind, key) in [
                (AliasKind::Email, "ann@example.com"),
                (AliasKind::PhoneNumber, "+15550100"),
                (AliasKind::PreferredUsername, "annie"),
            ] {
                let found = s.get_user_by_alias(pool, kind, key).await.unwrap();
                assert_eq!(found.as_ref(), Some(&user));
            }
            assert_eq!(s.get_user_by_username(pool, "bob").await.unwrap(), None);
            assert!(!s.origin_revoked(pool, &user.sub, "origin-1").await.unwrap());
            s.ping().await.unwrap();
        }
        with_pool!(store, db => sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, pool_id, client_id, sub, origin_jti, \
             auth_time, created_ms, expires_ms, revoked) VALUES ('h', $1, 'c', $2, 'origin-1', 0, 0, 1, 1)")
            .bind(pool).bind(&user.sub).execute(db).await.map(|_| ()))
        .unwrap();
        for s in [&store, &twin] {
            assert!(s.origin_revoked(pool, &user.sub, "origin-1").await.unwrap());
            assert!(
                !s.origin_revoked("us-east-1_Other", &user.sub, "origin-1")
                    .await
                    .unwrap()
            );
            let none = s.get_failures(pool, &user.sub).await.unwrap();
            assert_eq!(none, SignInFailures::default());
        }
        let failures = SignInFailures {
            failures: 3,
            locked_until_ms: 1_700_000_000_123,
        };
        store.put_failures(pool, &user.sub, failures).await.unwrap();
        for s in [&store, &twin] {
            assert_eq!(s.get_failures(pool, &user.sub).await.unwrap(), failures);
            assert!(
                s.list_groups_for_user(pool, &user.sub, None, 10)
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
        let group = |name: &str, full: bool| GroupRecord {
            pool_id: pool.to_owned(),
            name: name.to_owned(),
            description: full.then(|| "the admins".to_owned()),
            role_arn: full.then(|| "arn:aws:iam::123456789012:role/admin".to_owned()),
            precedence: full.then_some(3),
            created_ms: 1_700_000_000_001,
            modified_ms: 1_700_000_000_002,
        };
        let groups = [group("a-admins", true), group("b-plain", false)];
        for g in groups.iter().chain([&group("c-not-a-member", true)]) {
            store.insert_group(g).await.unwrap();
        }
        for g in &groups {
            store.add_member(pool, &g.name, &user.sub).await.unwrap();
        }
        for s in [&store, &twin] {
            let found = s.list_groups_for_user(pool, &user.sub, None, 10).await;
            assert_eq!(found.unwrap(), groups);
            let first = s.list_groups_for_user(pool, &user.sub, None, 1).await;
            assert_eq!(first.unwrap(), groups[..1]);
        }
        store.close().await;
    }

    async fn store_with_pool(dir: &std::path::Path) -> (SqlStore, UserRecord) {
        let url = format!("sqlite://{}", dir.join("p.db").display());
        let store = SqlStore::connect(&url).await.unwrap();
        let user = full_user();
        with_pool!(store, db => sqlx::query(
            "INSERT INTO pools (id, name, created_ms, modified_ms, settings) VALUES ($1, 'p', 0, 0, '{}')")
            .bind(&user.pool_id).execute(db).await.map(|_| ()))
        .unwrap();
        store.insert_user(&user).await.unwrap();
        (store, user)
    }

    fn token_of(user: &UserRecord, hash: &str) -> RefreshTokenRecord {
        RefreshTokenRecord {
            token_hash: hash.to_owned(),
            pool_id: user.pool_id.clone(),
            client_id: "client-1".into(),
            sub: user.sub.clone(),
            origin_jti: "origin-9".into(),
            auth_time: 1_700_000_000,
            created_ms: 1_700_000_000_123,
            expires_ms: 1_700_086_400_123,
            revoked: false,
            rotated_ms: None,
        }
    }

    #[tokio::test]
    async fn an_inline_insert_reads_back_alike_on_both_paths() {
        let dir = tempfile::tempdir().unwrap();
        let (store, user) = store_with_pool(dir.path()).await;
        let twin = sqlx_only(&store);
        let token = token_of(&user, "inline-hash");
        store.insert_refresh_token(&token).await.unwrap();
        let by_sqlx = twin.get_refresh_token("inline-hash").await.unwrap();
        assert_eq!(by_sqlx.as_ref(), Some(&token));
        // The same key again is the same conflict on the inline path as on sqlx's.
        for s in [&store, &twin] {
            match s.insert_refresh_token(&token).await {
                Err(StoreError::Conflict(Conflict::Other)) => {}
                other => panic!("expected a conflict, got {other:?}"),
            }
        }
        // The inline connection writes under the settings sqlx's connections have.
        for pragma in ["foreign_keys", "synchronous", "journal_mode", "mmap_size"] {
            let sql = format!("PRAGMA {pragma}");
            let ours = store
                .inline_write("pragma", |conn| {
                    conn.query_row(&sql, [], |row| row.get::<_, rusqlite::types::Value>(0))
                })
                .await
                .unwrap()
                .unwrap();
            let sqlx_value = with_pool!(store, db => {
                use sqlx::Row;
                sqlx::query(sqlx::AssertSqlSafe(sql.clone())).fetch_one(db).await.map(|row| {
                    row.try_get::<i64, _>(0)
                        .map(rusqlite::types::Value::Integer)
                        .or_else(|_| row.try_get::<String, _>(0).map(rusqlite::types::Value::Text))
                        .unwrap()
                })
            })
            .unwrap();
            assert_eq!(ours, sqlx_value, "PRAGMA {pragma}");
        }
        store.close().await;
    }

    #[tokio::test]
    async fn an_insert_that_meets_a_taken_write_lock_waits_on_sqlx() {
        let dir = tempfile::tempdir().unwrap();
        let (store, user) = store_with_pool(dir.path()).await;
        let blocker = rusqlite::Connection::open(dir.path().join("p.db")).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE;").unwrap();
        let token = token_of(&user, "waited-hash");
        let insert = {
            let store = store.clone();
            let token = token.clone();
            tokio::spawn(async move { store.insert_refresh_token(&token).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !insert.is_finished(),
            "the insert did not wait for the lock"
        );
        blocker.execute_batch("COMMIT;").unwrap();
        insert.await.unwrap().unwrap();
        let stored = store.get_refresh_token("waited-hash").await.unwrap();
        assert_eq!(stored, Some(token));
        drop(blocker);
        store.close().await;
    }

    #[tokio::test]
    async fn inline_writes_hand_checkpoints_to_sqlx() {
        let dir = tempfile::tempdir().unwrap();
        let (store, user) = store_with_pool(dir.path()).await;
        let wal = dir.path().join("p.db-wal");
        let batch = inline::WRITES_PER_CHECKPOINT as usize;
        let mut sizes = Vec::new();
        for round in 0..4 {
            for i in 0..batch {
                let token = token_of(&user, &format!("h-{round}-{i}"));
                store.insert_refresh_token(&token).await.unwrap();
            }
            sizes.push(std::fs::metadata(&wal).unwrap().len());
        }
        // Each checkpoint lets the log start over, so it stops growing after the first batch;
        // without them it would grow by a batch's frames every round.
        assert!(sizes[3] <= sizes[1], "WAL sizes per round: {sizes:?}");
        store.close().await;
    }

    /// What the `LIMIT CAST($n AS BIGINT)` rule in the module doc rests on.
    #[test]
    fn a_cast_limit_keeps_its_plan_where_a_bare_one_is_replanned() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT);")
            .unwrap();
        let replans = |sql: &str| {
            let mut statement = conn.prepare(sql).unwrap();
            for limit in [10_i64, 60, 10] {
                let mut rows = statement.query([limit]).unwrap();
                while rows.next().unwrap().is_some() {}
            }
            statement.get_status(rusqlite::StatementStatus::RePrepare)
        };
        assert!(replans("SELECT k FROM t ORDER BY k LIMIT $1") > 0);
        assert_eq!(
            replans("SELECT k FROM t ORDER BY k LIMIT CAST($1 AS BIGINT)"),
            0
        );
        let sources = [
            include_str!("bulk.rs"),
            include_str!("clients.rs"),
            include_str!("codes.rs"),
            include_str!("groups.rs"),
            include_str!("inline.rs"),
            include_str!("keys.rs"),
            include_str!("oauth.rs"),
            include_str!("pools.rs"),
            include_str!("prefix.rs"),
            include_str!("rows.rs"),
            include_str!("sessions.rs"),
            include_str!("tags.rs"),
            include_str!("tokens.rs"),
            include_str!("users.rs"),
        ];
        let bare = concat!("LIMIT ", "$");
        assert!(sources.iter().all(|s| !s.contains(bare)));
    }

    #[tokio::test]
    async fn closing_leaves_no_wal_behind() {
        let dir = tempfile::tempdir().unwrap();
        let (store, user) = store_with_pool(dir.path()).await;
        assert!(
            store
                .get_user_by_sub(&user.pool_id, &user.sub)
                .await
                .unwrap()
                .is_some()
        );
        store.close().await;
        // The last connection to close checkpoints the log into the file and removes it.
        let wal = dir.path().join("p.db-wal");
        assert!(!wal.exists(), "the WAL outlived the store");
    }

    #[tokio::test]
    async fn an_in_memory_database_keeps_to_sqlx() {
        let store = SqlStore::connect("sqlite::memory:").await.unwrap();
        assert!(store.inline.is_none());
        store.ping().await.unwrap();
    }
}
