//! Time-driven cases, on core with a clock the test moves and the real store of each backend:
//! the housekeeping sweeper keeps the database from growing under a flood of sign-ins that
//! never complete, and the refresh-token rotation grace period.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use portcullis_core::Core;
use portcullis_core::cache::RecordCache;
use portcullis_core::clock::ManualClock;
use portcullis_core::context::CoreSettings;
use portcullis_core::messages::{Message, MessageSender};
use portcullis_core::password::PasswordHasher;
use portcullis_core::rng::{Rng, SystemRng};
use portcullis_core::seal::Sealer;
use portcullis_core::service::housekeeping::sweep;
use portcullis_core::service::srp_flow::SrpDecoy;
use portcullis_core::service::{clients, pools, self_service, signin, signup, users};
use portcullis_core::tokens::KeyCache;
use portcullis_proto::{
    AdminCreateUserRequest, AdminSetUserPasswordRequest, CreateUserPoolClientRequest,
    CreateUserPoolRequest, ForgotPasswordRequest, GetTokensFromRefreshTokenRequest, GetUserRequest,
    InitiateAuthRequest, RefreshTokenRotationType,
};
use portcullis_store::SqlStore;
use sqlx::{AssertSqlSafe, Connection};
use tempfile::TempDir;

use crate::support::{Backend, PgSchema};

backend_tests!(
    a_flood_of_unfinished_sign_ins_is_swept_away,
    counters_of_unknown_names_are_swept_away,
    expired_tokens_and_sessions_are_swept,
    rotation_grace_period_then_reuse_revokes_the_family,
);

struct Silent;

#[async_trait]
impl MessageSender for Silent {
    async fn send(&self, _message: &Message) -> Result<(), String> {
        Ok(())
    }
}

/// A core on a fresh database of `backend`, with a manual clock.
struct Harness {
    core: Core,
    clock: Arc<ManualClock>,
    url: String,
    _pg: Option<PgSchema>,
    _dir: TempDir,
}

const START_MS: i64 = 1_800_000_000_000;
const PASSWORD: &str = "Correct-Horse-9";

async fn harness(backend: &Backend) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = match backend {
        Backend::Sqlite => (format!("sqlite://{}/p.db", dir.path().display()), None),
        Backend::Postgres { base_url } => {
            let (schema, url) = PgSchema::create(base_url).await;
            (url, Some(schema))
        }
    };
    let store = Arc::new(SqlStore::connect(&url).await.unwrap());
    let rng: Arc<dyn Rng> = Arc::new(SystemRng);
    let mut key = [0u8; 32];
    rng.fill(&mut key);
    let clock = Arc::new(ManualClock::new(START_MS));
    let core = Core {
        store,
        clock: clock.clone(),
        rng: rng.clone(),
        sealer: Arc::new(Sealer::new(&key).unwrap()),
        messages: Arc::new(Silent),
        passwords: PasswordHasher::insecure_for_tests(rng.clone()),
        keys: Arc::new(KeyCache::default()),
        records: Arc::new(RecordCache::new(0)),
        srp_decoy: Arc::new(SrpDecoy::default()),
        settings: CoreSettings {
            region: "us-east-1".to_owned(),
            account_id: "123456789012".to_owned(),
            public_url: "http://127.0.0.1:9".to_owned(),
            allow_public_clients_without_pkce: false,
            code_limits: Default::default(),
        },
    };
    Harness {
        core,
        clock,
        url,
        _pg: pg,
        _dir: dir,
    }
}

impl Harness {
    /// Rows in `table`, read straight from the database.
    async fn count(&self, table: &str) -> i64 {
        let sql = AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        if self.url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        } else {
            let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
        }
    }

    /// A pool with user alice and a client: (pool id, client id).
    async fn pool(&self, rotation: Option<i64>) -> (String, String) {
        let pool = pools::create_user_pool(
            &self.core,
            CreateUserPoolRequest {
                pool_name: "sweep".to_owned(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
        let client = clients::create_user_pool_client(
            &self.core,
            CreateUserPoolClientRequest {
                user_pool_id: pool.clone(),
                client_name: "app".to_owned(),
                explicit_auth_flows: Some(vec![
                    "ALLOW_USER_SRP_AUTH".to_owned(),
                    "ALLOW_USER_PASSWORD_AUTH".to_owned(),
                    "ALLOW_REFRESH_TOKEN_AUTH".to_owned(),
                ]),
                prevent_user_existence_errors: Some("ENABLED".to_owned()),
                refresh_token_rotation: rotation.map(|grace| RefreshTokenRotationType {
                    feature: "ENABLED".to_owned(),
                    retry_grace_period_seconds: Some(grace),
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
        users::admin_create_user(
            &self.core,
            AdminCreateUserRequest {
                user_pool_id: pool.clone(),
                username: "alice".to_owned(),
                message_action: Some("SUPPRESS".to_owned()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        users::admin_set_user_password(
            &self.core,
            AdminSetUserPasswordRequest {
                user_pool_id: pool.clone(),
                username: "alice".to_owned(),
                password: PASSWORD.to_owned(),
                permanent: Some(true),
            },
        )
        .await
        .unwrap();
        (pool, client)
    }

    async fn initiate(
        &self,
        client: &str,
        flow: &str,
        params: &[(&str, &str)],
    ) -> Result<portcullis_proto::InitiateAuthResponse, portcullis_core::error::ApiError> {
        let params: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        signin::initiate_auth(
            &self.core,
            InitiateAuthRequest {
                client_id: client.to_owned(),
                auth_flow: flow.to_owned(),
                auth_parameters: Some(params),
                ..Default::default()
            },
        )
        .await
    }

    /// USER_PASSWORD_AUTH for alice: (access token, refresh token).
    async fn sign_in(&self, client: &str) -> (String, String) {
        let out = self
            .initiate(
                client,
                "USER_PASSWORD_AUTH",
                &[("USERNAME", "alice"), ("PASSWORD", PASSWORD)],
            )
            .await
            .unwrap();
        let r = out.authentication_result.unwrap();
        (r.access_token.unwrap(), r.refresh_token.unwrap())
    }

    /// Sweeps in batches of `batch` until nothing is left to do; returns the calls made.
    async fn sweep_all(&self, batch: u32) -> u32 {
        let mut calls = 0;
        loop {
            calls += 1;
            let swept = sweep(&self.core, batch).await.unwrap();
            if !swept.more {
                return calls;
            }
            assert!(calls < 1_000, "the sweep does not finish");
        }
    }
}

/// M7: 1,000 SRP starts for unknown users (PreventUserExistenceErrors: each opens a decoy
/// challenge session) leave 1,000 rows; once they expire, bounded sweeps remove them all.
async fn a_flood_of_unfinished_sign_ins_is_swept_away(backend: Backend) {
    let h = harness(&backend).await;
    let (_, client) = h.pool(None).await;
    for i in 0..1_000 {
        let name = format!("nobody-{i}");
        let out = h
            .initiate(
                &client,
                "USER_SRP_AUTH",
                &[("USERNAME", &name), ("SRP_A", "02")],
            )
            .await
            .unwrap();
        assert_eq!(out.challenge_name.as_deref(), Some("PASSWORD_VERIFIER"));
    }
    assert_eq!(h.count("auth_sessions").await, 1_000);
    // Nothing has expired yet: the sweep leaves live challenges alone.
    let swept = sweep(&h.core, 300).await.unwrap();
    assert_eq!(swept.total(), 0);
    assert_eq!(h.count("auth_sessions").await, 1_000);
    h.clock.advance_ms(60 * 60 * 1000);
    // One call deletes one bounded batch.
    let swept = sweep(&h.core, 300).await.unwrap();
    assert_eq!(swept.total(), 300);
    assert!(swept.more);
    assert_eq!(h.count("auth_sessions").await, 700);
    // Two sweepers at once (two nodes) delete each row once between them.
    let (a, b) = tokio::join!(sweep(&h.core, 300), sweep(&h.core, 300));
    assert!(a.unwrap().total() + b.unwrap().total() <= 600);
    h.sweep_all(300).await;
    assert_eq!(h.count("auth_sessions").await, 0);
}

/// Guesses at names no user has (PreventUserExistenceErrors: each gets a lockout counter, so
/// that it locks like a real user) and reset requests for them (each takes a code allowance)
/// leave rows an attacker can multiply at will; they go once the lockout would forget them and
/// once the allowance's window has ended.
async fn counters_of_unknown_names_are_swept_away(backend: Backend) {
    let h = harness(&backend).await;
    let (_, client) = h.pool(None).await;
    for i in 0..150 {
        let name = format!("nobody-{i}");
        let refused = h
            .initiate(
                &client,
                "USER_PASSWORD_AUTH",
                &[("USERNAME", &name), ("PASSWORD", "Wrong-passw0rd!")],
            )
            .await
            .unwrap_err();
        assert_eq!(refused.code.as_str(), "NotAuthorizedException");
        signup::forgot_password(
            &h.core,
            ForgotPasswordRequest {
                client_id: client.clone(),
                username: name,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    assert_eq!(h.count("sign_in_failures").await, 150);
    let allowances = h.count("code_allowances").await;
    assert!(allowances >= 150, "{allowances} allowances");
    // Still within the lockout's memory and the allowances' windows: nothing goes.
    h.sweep_all(100).await;
    assert_eq!(h.count("sign_in_failures").await, 150);
    assert_eq!(h.count("code_allowances").await, allowances);
    // Fifteen quiet minutes: the lockout forgets the counters; the hour-long windows stay.
    h.clock.advance_ms(15 * 60 * 1000 + 1);
    let calls = h.sweep_all(100).await;
    assert!(calls >= 2, "150 rows in batches of 100 take two sweeps");
    assert_eq!(h.count("sign_in_failures").await, 0);
    assert_eq!(h.count("code_allowances").await, allowances);
    h.clock.advance_ms(60 * 60 * 1000);
    h.sweep_all(100).await;
    assert_eq!(h.count("code_allowances").await, 0);
}

/// Refresh tokens (and implicit lineage rows, grants) are kept a day past expiry so that
/// revocation still reaches the access tokens minted from them, then swept.
async fn expired_tokens_and_sessions_are_swept(backend: Backend) {
    let h = harness(&backend).await;
    let (_, client) = h.pool(None).await;
    for _ in 0..5 {
        h.sign_in(&client).await;
    }
    assert_eq!(h.count("refresh_tokens").await, 5);
    // Refresh tokens live 30 days by default.
    h.clock.advance_ms(30 * 86_400_000 + 1);
    h.sweep_all(2).await;
    assert_eq!(
        h.count("refresh_tokens").await,
        5,
        "kept past expiry for a day"
    );
    h.clock.advance_ms(86_400_000);
    assert!(h.sweep_all(2).await >= 3, "bounded batches");
    assert_eq!(h.count("refresh_tokens").await, 0);
}

async fn get_tokens(h: &Harness, client: &str, token: &str) -> Result<(String, String), String> {
    self_service::get_tokens_from_refresh_token(
        &h.core,
        GetTokensFromRefreshTokenRequest {
            client_id: client.to_owned(),
            refresh_token: token.to_owned(),
            ..Default::default()
        },
    )
    .await
    .map(|out| {
        let r = out.authentication_result.unwrap();
        (r.access_token.unwrap(), r.refresh_token.unwrap_or_default())
    })
    .map_err(|e| e.code.as_str().to_owned())
}

async fn get_user(h: &Harness, access: &str) -> Result<(), String> {
    self_service::get_user(
        &h.core,
        GetUserRequest {
            access_token: access.to_owned(),
        },
    )
    .await
    .map(|_| ())
    .map_err(|e| e.message)
}

/// M3: within RetryGracePeriodSeconds the rotated-out token still refreshes (client retries),
/// through InitiateAuth too; after it, it is refused and the whole family is revoked.
async fn rotation_grace_period_then_reuse_revokes_the_family(backend: Backend) {
    let h = harness(&backend).await;
    let (_, client) = h.pool(Some(10)).await;
    let (_, r0) = h.sign_in(&client).await;
    let (_, r1) = get_tokens(&h, &client, &r0).await.unwrap();
    h.clock.advance_ms(10_000);
    // A retry within the grace period.
    assert!(get_tokens(&h, &client, &r0).await.is_ok());
    assert!(
        h.initiate(&client, "REFRESH_TOKEN_AUTH", &[("REFRESH_TOKEN", &r0)])
            .await
            .is_ok()
    );
    let (a1, _) = get_tokens(&h, &client, &r1).await.unwrap();
    assert_eq!(get_user(&h, &a1).await, Ok(()));
    h.clock.advance_ms(1);
    let replay = h
        .initiate(&client, "REFRESH_TOKEN_AUTH", &[("REFRESH_TOKEN", &r0)])
        .await
        .unwrap_err();
    assert_eq!(replay.code.as_str(), "NotAuthorizedException");
    assert_eq!(
        get_user(&h, &a1).await,
        Err("Access Token has been revoked".to_owned())
    );
    assert_eq!(
        get_tokens(&h, &client, &r1).await,
        Err("NotAuthorizedException".to_owned())
    );
}
