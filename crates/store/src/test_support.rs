//! The harness of the store's unit tests: each case runs on a fresh SQLite file and on a fresh
//! PostgreSQL schema. Without `PORTCULLIS_TEST_POSTGRES_URL` when the tests are built, the
//! PostgreSQL cases are compiled as ignored (see build.rs), so a run without PostgreSQL shows
//! them as ignored instead of as passes that never ran.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::SqlStore;

pub const PG_ENV: &str = "PORTCULLIS_TEST_POSTGRES_URL";

pub async fn on_sqlite<F, Fut>(case: F)
where
    F: FnOnce(SqlStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    case(store.clone()).await;
    store.close().await;
}

pub async fn on_postgres<F, Fut>(case: F)
where
    F: FnOnce(SqlStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let base =
        std::env::var(PG_ENV).expect("the PostgreSQL cases need PORTCULLIS_TEST_POSTGRES_URL");
    let schema = format!("portcullis_unit_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&base).await.unwrap();
    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let store = SqlStore::connect(&url).await.unwrap();
    case(store.clone()).await;
    store.close().await;
    sqlx::query(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await
        .unwrap();
}

/// `both!(case, ...)`: `sqlite::case` and `postgres::case` for each async `case(SqlStore)`.
macro_rules! both {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    $crate::test_support::on_sqlite(super::$case).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                #[cfg_attr(
                    not(portcullis_pg_tests),
                    ignore = "needs PORTCULLIS_TEST_POSTGRES_URL"
                )]
                async fn $case() {
                    $crate::test_support::on_postgres(super::$case).await
                }
            )*
        }
    };
}
pub(crate) use both;
