//! What a seed leaves behind for the runs: the pool, the client, and which users exist.

use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cognito::{Cognito, str_field};

/// Users created through the API, with a password set: they can sign in with password and SRP.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiUser {
    pub username: String,
    pub email: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub endpoint: String,
    pub pool_id: String,
    pub client_id: String,
    /// The one password every seeded user has.
    pub password: String,
    /// Users inserted straight into the database: `user<i>` for i in 0..bulk_users, see
    /// [`bulk_username`] and [`bulk_email`]. They have a password hash but no SRP verifier.
    pub bulk_users: u64,
    pub api_users: Vec<ApiUser>,
}

pub fn bulk_username(i: u64) -> String {
    format!("user{i}")
}

pub fn bulk_email(i: u64) -> String {
    format!("user{i}@example{}.com", i % 100)
}

pub fn api_username(i: usize) -> String {
    format!("signin{i}")
}

pub fn api_email(i: usize) -> String {
    format!("signin{i}@bench.example")
}

impl State {
    pub fn load(path: &Path) -> anyhow::Result<State> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading state file {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing state file {}", path.display()))
    }
}

/// A password that satisfies Cognito's default policy.
pub const DEFAULT_PASSWORD: &str = "Bench-Passw0rd!";

/// Creates a pool (email auto-verified, Cognito's default password policy) and a public app
/// client allowing password, SRP and refresh flows. Returns (pool id, client id).
pub async fn create_pool_and_client(api: &Cognito, name: &str) -> anyhow::Result<(String, String)> {
    let pool = api
        .call(
            "CreateUserPool",
            &json!({
                "PoolName": name,
                "AutoVerifiedAttributes": ["email"],
            }),
            true,
        )
        .await
        .context("CreateUserPool")?;
    let pool_id = str_field(&pool, &["UserPool", "Id"])?.to_owned();
    let client = api
        .call(
            "CreateUserPoolClient",
            &json!({
                "UserPoolId": pool_id,
                "ClientName": format!("{name}-client"),
                "GenerateSecret": false,
                "ExplicitAuthFlows": [
                    "ALLOW_USER_PASSWORD_AUTH",
                    "ALLOW_USER_SRP_AUTH",
                    "ALLOW_REFRESH_TOKEN_AUTH"
                ],
            }),
            true,
        )
        .await
        .context("CreateUserPoolClient")?;
    let client_id = str_field(&client, &["UserPoolClient", "ClientId"])?.to_owned();
    Ok((pool_id, client_id))
}

/// AdminCreateUser (SUPPRESS, verified email) then AdminSetUserPassword (Permanent): a
/// CONFIRMED user with a password hash and an SRP verifier, as a real sign-up would leave.
pub async fn create_api_user(
    api: &Cognito,
    pool_id: &str,
    user: &ApiUser,
    password: &str,
) -> anyhow::Result<()> {
    let attrs: Value = json!([
        {"Name": "email", "Value": user.email},
        {"Name": "email_verified", "Value": "true"},
        {"Name": "given_name", "Value": "Bench"},
    ]);
    api.call(
        "AdminCreateUser",
        &json!({
            "UserPoolId": pool_id,
            "Username": user.username,
            "UserAttributes": attrs,
            "MessageAction": "SUPPRESS",
        }),
        true,
    )
    .await
    .with_context(|| format!("AdminCreateUser {}", user.username))?;
    api.call(
        "AdminSetUserPassword",
        &json!({
            "UserPoolId": pool_id,
            "Username": user.username,
            "Password": password,
            "Permanent": true,
        }),
        true,
    )
    .await
    .with_context(|| format!("AdminSetUserPassword {}", user.username))?;
    Ok(())
}

/// Creates `users` through the API with `concurrency` calls in flight.
pub async fn create_api_users(
    api: &Cognito,
    pool_id: &str,
    users: &[ApiUser],
    password: &str,
    concurrency: usize,
) -> anyhow::Result<()> {
    let concurrency = concurrency.max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let mine: Vec<ApiUser> = users
            .iter()
            .skip(worker)
            .step_by(concurrency)
            .cloned()
            .collect();
        let api = api.clone();
        let pool_id = pool_id.to_owned();
        let password = password.to_owned();
        tasks.spawn(async move {
            for u in &mine {
                create_api_user(&api, &pool_id, u, &password).await?;
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// Creates the pool users `user<i>` (i < n), with the attributes the bulk insert gives them
/// (email, email_verified, given_name) and no password, through AdminCreateUser (SUPPRESS), with
/// `concurrency` calls in flight. For endpoints whose database the seeder cannot write.
pub async fn create_pool_users_via_api(
    api: &Cognito,
    pool_id: &str,
    n: u64,
    concurrency: usize,
) -> anyhow::Result<()> {
    let concurrency = concurrency.max(1) as u64;
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let api = api.clone();
        let pool_id = pool_id.to_owned();
        tasks.spawn(async move {
            let mut i = worker;
            while i < n {
                let username = bulk_username(i);
                api.call(
                    "AdminCreateUser",
                    &json!({
                        "UserPoolId": pool_id,
                        "Username": username,
                        "UserAttributes": [
                            {"Name": "email", "Value": bulk_email(i)},
                            {"Name": "email_verified", "Value": "true"},
                            {"Name": "given_name", "Value": format!("User{i}")},
                        ],
                        "MessageAction": "SUPPRESS",
                    }),
                    true,
                )
                .await
                .with_context(|| format!("AdminCreateUser {username}"))?;
                i += concurrency;
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// A random alphanumeric tag for names that must not collide between runs.
pub fn nonce(len: usize) -> String {
    portcullis_core::rng::random_string(
        &portcullis_core::rng::SystemRng,
        portcullis_core::rng::LOWER_ALNUM,
        len,
    )
}
