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
//! # One exception, measured
//!
//! On a SQLite file, the few point reads on every request's path also have an inline twin
//! ([`inline`]): the same SQL text run through rusqlite on the calling thread, because sqlx's
//! per-connection threads cost more than the reads themselves. [`SqlStore::inline_read`] is the
//! one place that chooses; the sqlx query stays the fallback and the PostgreSQL path.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use inline::{Inline, InlineReader};
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
mod inline;
mod keys;
mod oauth;
mod pools;
mod prefix;
mod sessions;
mod tags;
mod tokens;
mod users;

/// The one storage implementation: cheap to clone (the pools are shared handles).
#[derive(Clone, Debug)]
pub struct SqlStore {
    backend: Backend,
    /// Present for a SQLite file (not an in-memory database, which other connections cannot
    /// see).
    inline: Option<Arc<InlineReader>>,
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
            conn.prepare_cached(PING)?
                .query_row([], |row| row.get::<_, i64>(0))
        });
        if let Some(answer) = inline {
            return answer.map(|_| ());
        }
        with_pool!(self, pool => sqlx::query(PING).execute(pool).await.map(|_| ()))
            .map_err(error::backend("ping"))
    }

    /// Runs `read` inline when the store has an [`InlineReader`] and SQLite answers without
    /// waiting; `None` means "use the sqlx query". `op` names the operation in errors.
    fn inline_read<T>(
        &self,
        op: &'static str,
        read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Option<StoreResult<T>> {
        match self.inline.as_deref()?.read(read) {
            Inline::Done(result) => Some(result.map_err(|e| error::inline(op, e))),
            Inline::Busy => None,
        }
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
            conn.prepare_cached(sql)?
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
            inline.close_idle();
        }
        with_pool!(self, pool => pool.close().await)
    }
}

/// How much of a SQLite database file is read through a memory map (1 GiB: a pool of about
/// 800,000 users; beyond it SQLite reads the rest as before).
const MMAP_BYTES: i64 = 1 << 30;

async fn connect_sqlite(url: &str) -> Result<(SqlitePool, Option<InlineReader>), StoreError> {
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
        match InlineReader::open(options.get_filename(), MMAP_BYTES) {
            Ok(reader) => Some(reader),
            Err(e) => {
                tracing::warn!(error = %e, "SQLite point reads stay on sqlx: cannot open an inline reader");
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

    use portcullis_core::domain::{SignInFailures, UserKeys, UserRecord, UserStatus};
    use portcullis_core::repo::{AliasKind, SessionRepo, TokenRepo, UserRepo};

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
        let url = format!("sqlite://{}", dir.path().join("p.db").display());
        let store = SqlStore::connect(&url).await.unwrap();
        assert!(store.inline.is_some(), "a SQLite file gets inline reads");
        let twin = sqlx_only(&store);
        let user = full_user();
        let pool = user.pool_id.as_str();
        with_pool!(store, db => sqlx::query(
            "INSERT INTO pools (id, name, created_ms, modified_ms, settings) VALUES ($1, 'p', 0, 0, '{}')")
            .bind(pool).execute(db).await.map(|_| ()))
        .unwrap();
        store.insert_user(&user).await.unwrap();
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
            assert!(!s.origin_revoked(pool, "origin-1").await.unwrap());
            s.ping().await.unwrap();
        }
        with_pool!(store, db => sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, pool_id, client_id, sub, origin_jti, \
             auth_time, created_ms, expires_ms, revoked) VALUES ('h', $1, 'c', $2, 'origin-1', 0, 0, 1, 1)")
            .bind(pool).bind(&user.sub).execute(db).await.map(|_| ()))
        .unwrap();
        for s in [&store, &twin] {
            assert!(s.origin_revoked(pool, "origin-1").await.unwrap());
            assert!(
                !s.origin_revoked("us-east-1_Other", "origin-1")
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
        }
        store.close().await;
    }

    #[tokio::test]
    async fn closing_leaves_no_wal_behind() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("p.db");
        let store = SqlStore::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let user = full_user();
        with_pool!(store, db => sqlx::query(
            "INSERT INTO pools (id, name, created_ms, modified_ms, settings) VALUES ($1, 'p', 0, 0, '{}')")
            .bind(&user.pool_id).execute(db).await.map(|_| ()))
        .unwrap();
        store.insert_user(&user).await.unwrap();
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
