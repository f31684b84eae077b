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

use std::str::FromStr;
use std::time::Duration;

use portcullis_core::repo::StoreError;
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
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite(connect_sqlite(url).await?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(connect_postgres(url).await?)
        } else {
            // The URL itself is not echoed: it may carry a password.
            return Err(StoreError::Backend(
                "unsupported database URL: expected sqlite://<path> or postgres://...".into(),
            ));
        };
        let store = SqlStore { backend };
        tracing::debug!(
            backend = store.backend_name(),
            "database schema is up to date"
        );
        Ok(store)
    }

    /// Answers whether the database can be reached right now (GET /health).
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
            .map_err(error::backend("ping"))
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
        with_pool!(self, pool => pool.close().await)
    }
}

/// How much of a SQLite database file is read through a memory map (1 GiB: a pool of about
/// 800,000 users; beyond it SQLite reads the rest as before).
const MMAP_BYTES: u64 = 1 << 30;

async fn connect_sqlite(url: &str) -> Result<SqlitePool, StoreError> {
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
        .connect_with(options)
        .await
        .map_err(error::backend("open sqlite database"))?;
    sqlx::migrate!("migrations/sqlite")
        .run(&pool)
        .await
        .map_err(error::migrate)?;
    Ok(pool)
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
