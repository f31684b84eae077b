//! Seeding: a real pool and client through the API, many users straight into the database with
//! `SqlStore::bulk_insert_users`, and a few users through the API for the sign-in scenarios.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, anyhow};
use portcullis_core::domain::{UserRecord, UserStatus};
use portcullis_core::password::PasswordHasher;
use portcullis_core::repo::PoolRepo as _;
use portcullis_core::rng::{SystemRng, uuid_v4};
use portcullis_core::service::users::PoolRules;
use portcullis_store::SqlStore;
use serde::{Deserialize, Serialize};

use crate::cognito::Cognito;
use crate::state::{self, ApiUser, State};

pub struct SeedArgs {
    pub database_url: Option<String>,
    pub pool_users: u64,
    /// Pool users (`user<i>`) created through the API instead of the database.
    pub users_via_api: u64,
    pub api_users: usize,
    pub batch: usize,
    pub api_concurrency: usize,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedResult {
    pub pool_id: String,
    pub client_id: String,
    pub bulk_users: u64,
    /// True when the pool users were created through the API (AdminCreateUser), not in bulk.
    #[serde(default)]
    pub bulk_via_api: bool,
    /// The one argon2id hash all bulk users share.
    pub hash_ms: f64,
    /// Building the records (keys, attributes, subs) and inserting them.
    pub bulk_s: f64,
    pub bulk_users_per_s: f64,
    /// Time inside `bulk_insert_users` only.
    pub insert_s: f64,
    pub insert_users_per_s: f64,
    pub api_users: usize,
    pub api_s: f64,
    pub api_users_per_s: f64,
    pub api_concurrency: usize,
}

pub async fn seed(
    api: &Cognito,
    endpoint: &str,
    args: &SeedArgs,
) -> anyhow::Result<(State, SeedResult)> {
    let name = format!("bench-{}", state::nonce(6));
    let (pool_id, client_id) = state::create_pool_and_client(api, &name).await?;
    eprintln!("seed: pool {pool_id}, client {client_id}");

    let (mut hash_ms, mut bulk_s, mut insert_s) = (0.0, 0.0, 0.0);
    if args.pool_users > 0 {
        let url = args.database_url.as_deref().ok_or_else(|| {
            anyhow!("--pool-users needs --database-url (bulk users go straight into the database)")
        })?;
        let store = SqlStore::connect(url)
            .await
            .context("connecting to the database")?;
        let pool = store.get_pool(&pool_id).await?.ok_or_else(|| {
            anyhow!("pool {pool_id} is not in that database: is --database-url the server's?")
        })?;
        let rules = PoolRules::of(&pool);
        let t = Instant::now();
        let hash = PasswordHasher::new(Arc::new(SystemRng), 1)
            .hash(&args.password)
            .await?;
        hash_ms = t.elapsed().as_secs_f64() * 1000.0;

        let started = Instant::now();
        let rng = SystemRng;
        let batch = args.batch.max(1) as u64;
        let mut next = 0u64;
        while next < args.pool_users {
            let upto = (next + batch).min(args.pool_users);
            let now = now_ms();
            let records: Vec<UserRecord> = (next..upto)
                .map(|i| {
                    let username = state::bulk_username(i);
                    let sub = uuid_v4(&rng);
                    let attributes = BTreeMap::from([
                        ("sub".to_owned(), sub.clone()),
                        ("email".to_owned(), state::bulk_email(i)),
                        ("email_verified".to_owned(), "true".to_owned()),
                        ("given_name".to_owned(), format!("User{i}")),
                    ]);
                    UserRecord {
                        pool_id: pool.id.clone(),
                        keys: rules.keys(&username, &attributes),
                        username,
                        sub,
                        status: UserStatus::Confirmed,
                        enabled: true,
                        created_ms: now,
                        modified_ms: now,
                        attributes,
                        password_hash: Some(hash.clone()),
                        password_set_ms: Some(now),
                        srp_sealed: None,
                        version: 0,
                    }
                })
                .collect();
            let t = Instant::now();
            let written = store.bulk_insert_users(&records).await?;
            insert_s += t.elapsed().as_secs_f64();
            if written != records.len() as u64 {
                return Err(anyhow!(
                    "bulk_insert_users wrote {written} rows for {} users",
                    records.len()
                ));
            }
            next = upto;
            eprintln!("seed: {next}/{} users inserted", args.pool_users);
        }
        bulk_s = started.elapsed().as_secs_f64();
        store.close().await;
    } else if args.users_via_api > 0 {
        let started = Instant::now();
        state::create_pool_users_via_api(api, &pool_id, args.users_via_api, args.api_concurrency)
            .await?;
        bulk_s = started.elapsed().as_secs_f64();
        insert_s = bulk_s;
        eprintln!(
            "seed: {} pool users created through the API",
            args.users_via_api
        );
    }
    let pool_users = args.pool_users.max(args.users_via_api);

    let api_users: Vec<ApiUser> = (0..args.api_users)
        .map(|i| ApiUser {
            username: state::api_username(i),
            email: state::api_email(i),
        })
        .collect();
    let t = Instant::now();
    state::create_api_users(
        api,
        &pool_id,
        &api_users,
        &args.password,
        args.api_concurrency,
    )
    .await?;
    let api_s = t.elapsed().as_secs_f64();
    eprintln!("seed: {} users created through the API", api_users.len());

    let rate = |n: f64, s: f64| if s > 0.0 { n / s } else { 0.0 };
    let result = SeedResult {
        pool_id: pool_id.clone(),
        client_id: client_id.clone(),
        bulk_users: pool_users,
        bulk_via_api: args.users_via_api > 0,
        hash_ms,
        bulk_s,
        bulk_users_per_s: rate(pool_users as f64, bulk_s),
        insert_s,
        insert_users_per_s: rate(pool_users as f64, insert_s),
        api_users: api_users.len(),
        api_s,
        api_users_per_s: rate(api_users.len() as f64, api_s),
        api_concurrency: args.api_concurrency,
    };
    let state = State {
        endpoint: endpoint.to_owned(),
        pool_id,
        client_id,
        password: args.password.clone(),
        bulk_users: pool_users,
        api_users,
    };
    Ok((state, result))
}

fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
