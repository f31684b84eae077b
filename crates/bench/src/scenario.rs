//! The scenarios: what one operation is, and the fixtures it needs.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use portcullis_core::rng::{Rng as _, SystemRng};
use portcullis_core::srp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cognito::{CallError, Cognito, CookieJar, authentication_result, str_field};
use crate::state::{ApiUser, State, bulk_email, bulk_username};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScenarioKind {
    /// AdminGetUser (SigV4) of a random seeded user.
    AdminGetUser,
    /// ListUsers (SigV4), `email ^= "<prefix of a seeded email>"`, Limit 60.
    ListUsersPrefix,
    /// InitiateAuth USER_PASSWORD_AUTH: one argon2id verification on the server.
    PasswordSignIn,
    /// InitiateAuth USER_SRP_AUTH + RespondToAuthChallenge PASSWORD_VERIFIER.
    SrpSignIn,
    /// InitiateAuth REFRESH_TOKEN_AUTH: two RSA signatures on the server.
    Refresh,
    /// GetUser with an access token: one RSA verification on the server.
    GetUser,
    /// SignUp of a new user: one argon2id hash and one SRP verifier on the server.
    SignUp,
    /// `POST /oauth2/token` grant_type=client_credentials: one RSA signature on the server.
    ClientCredentials,
    /// `GET /oauth2/authorize` with a hosted-UI session (one code issued), then
    /// `POST /oauth2/token` grant_type=authorization_code with PKCE: an ID and an access token,
    /// two RSA signatures on the server. Each worker signs in through `/login` once, first.
    AuthorizationCode,
    /// `GET /health`: one request and one trivial database round trip. The ceiling for a
    /// one-request operation with this server, this generator and this machine's loopback.
    Health,
}

impl ScenarioKind {
    pub fn name(self) -> &'static str {
        match self {
            ScenarioKind::AdminGetUser => "admin-get-user",
            ScenarioKind::ListUsersPrefix => "list-users-prefix",
            ScenarioKind::PasswordSignIn => "password-sign-in",
            ScenarioKind::SrpSignIn => "srp-sign-in",
            ScenarioKind::Refresh => "refresh",
            ScenarioKind::GetUser => "get-user",
            ScenarioKind::SignUp => "sign-up",
            ScenarioKind::ClientCredentials => "client-credentials",
            ScenarioKind::AuthorizationCode => "authorization-code",
            ScenarioKind::Health => "health",
        }
    }

    /// HTTP requests per operation.
    pub fn requests_per_op(self) -> u32 {
        match self {
            ScenarioKind::SrpSignIn | ScenarioKind::AuthorizationCode => 2,
            _ => 1,
        }
    }
}

/// A tiny per-worker PRNG (xorshift64*) for picking users; not for secrets.
pub struct Pick(u64);

impl Pick {
    pub fn new() -> Self {
        let mut seed = [0u8; 8];
        SystemRng.fill(&mut seed);
        Self(u64::from_le_bytes(seed) | 1)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// Users the read scenarios look up.
enum ReadUsers {
    /// `user<i>`, i < n, inserted in bulk.
    Bulk(u64),
    /// Users created through the API.
    Api(Vec<ApiUser>),
}

impl ReadUsers {
    fn len(&self) -> u64 {
        match self {
            ReadUsers::Bulk(n) => *n,
            ReadUsers::Api(v) => v.len() as u64,
        }
    }

    fn username_and_email(&self, i: u64) -> (String, String) {
        match self {
            ReadUsers::Bulk(_) => (bulk_username(i), bulk_email(i)),
            ReadUsers::Api(v) => v
                .get(usize::try_from(i).unwrap_or(0))
                .map(|u| (u.username.clone(), u.email.clone()))
                .unwrap_or_default(),
        }
    }
}

/// Tokens of one signed-in user.
struct Tokens {
    access: String,
    refresh: String,
}

/// Everything a scenario's operations need, built once before the workers start.
pub struct Scenario {
    pub kind: ScenarioKind,
    api: Cognito,
    pool_id: String,
    client_id: String,
    srp_pool_name: String,
    password: String,
    read_users: ReadUsers,
    signin_users: Vec<ApiUser>,
    tokens: Vec<Tokens>,
    prefix_len: usize,
    signup_tag: String,
    /// The machine client of the client-credentials scenario: id, secret, scope.
    m2m: Option<(String, String, String)>,
    /// The public code-flow client of the authorization-code scenario.
    code_client: Option<String>,
    /// How many users the operations draw from (for the report).
    pub users_drawn: u64,
}

/// What each worker keeps between operations.
pub struct Worker {
    pub id: usize,
    pub pick: Pick,
    pub seq: u64,
    /// The SRP client secret `a` (and `A`), drawn once per worker: computing `A = g^a` is the
    /// client's most expensive step and not the server's cost, so it is not repeated per login.
    srp: Option<srp::client::Client>,
    /// The hosted-UI session of the authorization-code scenario (empty until signed in).
    jar: CookieJar,
}

/// Where the authorization-code scenario's client is sent back to. Never contacted: the
/// generator reads the code from the redirect.
const CODE_CALLBACK: &str = "https://bench.example/callback";
/// The PKCE verifier of every authorization request; the server hashes it on every exchange.
const CODE_VERIFIER: &str = "portcullis-bench-pkce-verifier-0123456789-abcdefghijklmnop";

/// S256 of [`CODE_VERIFIER`] (RFC 7636 section 4.2).
fn code_challenge() -> String {
    use base64::Engine as _;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, CODE_VERIFIER.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

impl Scenario {
    /// Prepares fixtures: for token scenarios, signs in up to `token_users` users first.
    pub async fn prepare(
        kind: ScenarioKind,
        api: Cognito,
        state: &State,
        users_limit: Option<u64>,
        token_users: usize,
        prefix_len: usize,
    ) -> anyhow::Result<Scenario> {
        let limit = |n: u64| users_limit.map_or(n, |l| l.min(n));
        let read_users = if state.bulk_users > 0 {
            ReadUsers::Bulk(limit(state.bulk_users))
        } else {
            let n = usize::try_from(limit(state.api_users.len() as u64))?;
            ReadUsers::Api(state.api_users.iter().take(n).cloned().collect())
        };
        let signin_n = usize::try_from(limit(state.api_users.len() as u64))?;
        let signin_users: Vec<ApiUser> = state.api_users.iter().take(signin_n).cloned().collect();
        let srp_pool_name = srp::pool_name(&state.pool_id)
            .with_context(|| format!("pool id {} has no '_'", state.pool_id))?
            .to_owned();
        let mut scenario = Scenario {
            kind,
            api,
            pool_id: state.pool_id.clone(),
            client_id: state.client_id.clone(),
            srp_pool_name,
            password: state.password.clone(),
            users_drawn: 0,
            read_users,
            signin_users,
            tokens: vec![],
            prefix_len,
            signup_tag: crate::state::nonce(8),
            m2m: None,
            code_client: None,
        };
        scenario.users_drawn = match kind {
            ScenarioKind::AdminGetUser | ScenarioKind::ListUsersPrefix => scenario.read_users.len(),
            ScenarioKind::PasswordSignIn
            | ScenarioKind::SrpSignIn
            | ScenarioKind::AuthorizationCode => scenario.signin_users.len() as u64,
            ScenarioKind::Refresh | ScenarioKind::GetUser => {
                token_users.min(scenario.signin_users.len()) as u64
            }
            ScenarioKind::SignUp | ScenarioKind::ClientCredentials | ScenarioKind::Health => 0,
        };
        if kind == ScenarioKind::ClientCredentials {
            scenario.m2m = Some(scenario.machine_client().await?);
        }
        if kind == ScenarioKind::AuthorizationCode {
            scenario.code_client = Some(scenario.code_flow_client().await?);
        }
        if scenario.users_drawn == 0
            && !matches!(
                kind,
                ScenarioKind::SignUp | ScenarioKind::ClientCredentials | ScenarioKind::Health
            )
        {
            anyhow::bail!(
                "scenario {} needs users: seed some (portcullis-bench seed) or pass --users",
                kind.name()
            );
        }
        if matches!(kind, ScenarioKind::Refresh | ScenarioKind::GetUser) {
            let wanted = token_users.min(scenario.signin_users.len());
            for user in scenario.signin_users.iter().take(wanted) {
                let v = scenario
                    .password_sign_in(&user.username)
                    .await
                    .with_context(|| format!("signing in {} for tokens", user.username))?;
                let r = authentication_result(&v)?;
                scenario.tokens.push(Tokens {
                    access: str_field(r, &["AccessToken"])?.to_owned(),
                    refresh: str_field(r, &["RefreshToken"])?.to_owned(),
                });
            }
        }
        Ok(scenario)
    }

    /// A resource server with one scope and a confidential client allowed the
    /// client_credentials grant for it (admin calls).
    async fn machine_client(&self) -> anyhow::Result<(String, String, String)> {
        let identifier = format!("https://bench-{}.example", self.signup_tag);
        self.api
            .call(
                "CreateResourceServer",
                &json!({
                    "UserPoolId": self.pool_id,
                    "Identifier": identifier,
                    "Name": "bench",
                    "Scopes": [{"ScopeName": "read", "ScopeDescription": "read"}],
                }),
                true,
            )
            .await
            .context("creating the resource server for client-credentials")?;
        let scope = format!("{identifier}/read");
        let v = self
            .create_client(
                json!({
                    "ClientName": "bench-m2m",
                    "GenerateSecret": true,
                    "AllowedOAuthFlows": ["client_credentials"],
                    "AllowedOAuthScopes": [scope],
                }),
                "client-credentials",
            )
            .await?;
        let id = str_field(&v, &["UserPoolClient", "ClientId"])?.to_owned();
        let secret = str_field(&v, &["UserPoolClient", "ClientSecret"])?.to_owned();
        Ok((id, secret, scope))
    }

    /// A public client allowed the code flow with the `openid` scope (an admin call).
    async fn code_flow_client(&self) -> anyhow::Result<String> {
        let v = self
            .create_client(
                json!({
                    "ClientName": "bench-web",
                    "AllowedOAuthFlows": ["code"],
                    "AllowedOAuthScopes": ["openid"],
                    "CallbackURLs": [CODE_CALLBACK],
                    "SupportedIdentityProviders": ["COGNITO"],
                }),
                "authorization-code",
            )
            .await?;
        Ok(str_field(&v, &["UserPoolClient", "ClientId"])?.to_owned())
    }

    /// CreateUserPoolClient in the scenario's pool, OAuth flows on, with `settings`.
    async fn create_client(&self, mut settings: Value, scenario: &str) -> anyhow::Result<Value> {
        settings["UserPoolId"] = json!(self.pool_id);
        settings["AllowedOAuthFlowsUserPoolClient"] = json!(true);
        self.api
            .call("CreateUserPoolClient", &settings, true)
            .await
            .with_context(|| format!("creating the {scenario} client"))
    }

    pub fn worker(&self, id: usize) -> anyhow::Result<Worker> {
        let srp = if self.kind == ScenarioKind::SrpSignIn {
            Some(srp::client::Client::new(&SystemRng).map_err(|e| anyhow::anyhow!("{e}"))?)
        } else {
            None
        };
        Ok(Worker {
            id,
            pick: Pick::new(),
            seq: 0,
            srp,
            jar: CookieJar::default(),
        })
    }

    async fn password_sign_in(&self, username: &str) -> Result<Value, CallError> {
        self.api
            .call(
                "InitiateAuth",
                &json!({
                    "AuthFlow": "USER_PASSWORD_AUTH",
                    "ClientId": self.client_id,
                    "AuthParameters": {"USERNAME": username, "PASSWORD": self.password},
                }),
                false,
            )
            .await
    }

    fn pick_signin_user(&self, w: &mut Worker) -> &ApiUser {
        let n = self.signin_users.len() as u64;
        let i = usize::try_from(w.pick.below(n)).unwrap_or(0);
        &self.signin_users[i.min(self.signin_users.len().saturating_sub(1))]
    }

    fn pick_tokens(&self, w: &mut Worker) -> &Tokens {
        // Each worker sticks to its own user's tokens, as one client session would.
        &self.tokens[w.id % self.tokens.len()]
    }

    /// One operation. Returns the time spent waiting for the server: the whole call, except for
    /// SRP, where the client's math between the two calls is left out.
    pub async fn once(&self, w: &mut Worker) -> Result<Duration, CallError> {
        w.seq += 1;
        match self.kind {
            ScenarioKind::AdminGetUser => {
                let (username, _) = self
                    .read_users
                    .username_and_email(w.pick.below(self.read_users.len()));
                let t = Instant::now();
                let v = self
                    .api
                    .call(
                        "AdminGetUser",
                        &json!({"UserPoolId": self.pool_id, "Username": username}),
                        true,
                    )
                    .await?;
                let elapsed = t.elapsed();
                str_field(&v, &["Username"])?;
                Ok(elapsed)
            }
            ScenarioKind::ListUsersPrefix => {
                let (_, email) = self
                    .read_users
                    .username_and_email(w.pick.below(self.read_users.len()));
                let prefix: String = email.chars().take(self.prefix_len).collect();
                let t = Instant::now();
                let v = self
                    .api
                    .call(
                        "ListUsers",
                        &json!({
                            "UserPoolId": self.pool_id,
                            "Filter": format!("email ^= \"{prefix}\""),
                            "Limit": 60,
                        }),
                        true,
                    )
                    .await?;
                let elapsed = t.elapsed();
                let found = v.get("Users").and_then(Value::as_array).map_or(0, Vec::len);
                if found == 0 {
                    return Err(CallError::Unexpected(format!(
                        "ListUsers email ^= \"{prefix}\" found nobody, yet a seeded user matches"
                    )));
                }
                Ok(elapsed)
            }
            ScenarioKind::PasswordSignIn => {
                let user = self.pick_signin_user(w).username.clone();
                let t = Instant::now();
                let v = self.password_sign_in(&user).await?;
                let elapsed = t.elapsed();
                authentication_result(&v)?;
                Ok(elapsed)
            }
            ScenarioKind::SrpSignIn => self.srp_sign_in(w).await,
            ScenarioKind::AuthorizationCode => self.authorization_code(w).await,
            ScenarioKind::Health => {
                let t = Instant::now();
                let answer = self.api.page(&mut w.jar, "health", None).await?;
                let elapsed = t.elapsed();
                if answer.status != 200 {
                    return Err(CallError::Api {
                        status: answer.status,
                        kind: "HttpError".to_owned(),
                        message: answer.body.chars().take(200).collect(),
                    });
                }
                Ok(elapsed)
            }
            ScenarioKind::ClientCredentials => {
                let (id, secret, scope) = self
                    .m2m
                    .as_ref()
                    .ok_or_else(|| CallError::Client("no machine client prepared".to_owned()))?;
                let t = Instant::now();
                let v = self.api.client_credentials(id, secret, scope).await?;
                let elapsed = t.elapsed();
                str_field(&v, &["access_token"])?;
                Ok(elapsed)
            }
            ScenarioKind::Refresh => {
                let refresh = self.pick_tokens(w).refresh.clone();
                let t = Instant::now();
                let v = self
                    .api
                    .call(
                        "InitiateAuth",
                        &json!({
                            "AuthFlow": "REFRESH_TOKEN_AUTH",
                            "ClientId": self.client_id,
                            "AuthParameters": {"REFRESH_TOKEN": refresh},
                        }),
                        false,
                    )
                    .await?;
                let elapsed = t.elapsed();
                authentication_result(&v)?;
                Ok(elapsed)
            }
            ScenarioKind::GetUser => {
                let access = self.pick_tokens(w).access.clone();
                let t = Instant::now();
                let v = self
                    .api
                    .call("GetUser", &json!({"AccessToken": access}), false)
                    .await?;
                let elapsed = t.elapsed();
                str_field(&v, &["Username"])?;
                Ok(elapsed)
            }
            ScenarioKind::SignUp => {
                let username = format!("su-{}-{}-{}", self.signup_tag, w.id, w.seq);
                let t = Instant::now();
                let v = self
                    .api
                    .call(
                        "SignUp",
                        &json!({
                            "ClientId": self.client_id,
                            "Username": username,
                            "Password": self.password,
                            "UserAttributes": [
                                {"Name": "email", "Value": format!("{username}@signup.example")}
                            ],
                        }),
                        false,
                    )
                    .await?;
                let elapsed = t.elapsed();
                str_field(&v, &["UserSub"])?;
                Ok(elapsed)
            }
        }
    }

    fn authorize_path(&self, client_id: &str, seq: u64) -> Result<String, CallError> {
        let state = seq.to_string();
        let challenge = code_challenge();
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CODE_CALLBACK),
            ("scope", "openid"),
            ("state", state.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .map_err(|e| CallError::Client(e.to_string()))?;
        Ok(format!("oauth2/authorize?{query}"))
    }

    /// The hosted sign-in a browser goes through once: `/oauth2/authorize` sends it to
    /// `/login`, whose form (with its CSRF token) signs the user in and sets the session cookie.
    async fn hosted_sign_in(&self, w: &mut Worker, client_id: &str) -> Result<(), CallError> {
        let username = self.pick_signin_user(w).username.clone();
        let path = self.authorize_path(client_id, w.seq)?;
        let first = self.api.page(&mut w.jar, &path, None).await?;
        let login = match (first.status, first.location) {
            (302, Some(l)) if l.starts_with("/login") => l,
            (status, location) => {
                return Err(CallError::Unexpected(format!(
                    "authorize without a session answered {status} to {location:?}"
                )));
            }
        };
        let page = self.api.page(&mut w.jar, &login, None).await?;
        let csrf = hidden_field(&page.body, "_csrf").ok_or_else(|| {
            CallError::Unexpected(format!(
                "no _csrf field on the login page ({})",
                page.status
            ))
        })?;
        let form = [
            ("_csrf", csrf.as_str()),
            ("username", username.as_str()),
            ("password", self.password.as_str()),
        ];
        let done = self.api.page(&mut w.jar, &login, Some(&form)).await?;
        if done.status != 302 {
            return Err(CallError::Unexpected(format!(
                "the login form answered {}: {}",
                done.status,
                done.body.chars().take(200).collect::<String>()
            )));
        }
        Ok(())
    }

    async fn authorization_code(&self, w: &mut Worker) -> Result<Duration, CallError> {
        let client_id = self
            .code_client
            .clone()
            .ok_or_else(|| CallError::Client("no code-flow client prepared".to_owned()))?;
        if w.jar.is_empty()
            && let Err(e) = self.hosted_sign_in(w, &client_id).await
        {
            w.jar = CookieJar::default();
            return Err(e);
        }
        let path = self.authorize_path(&client_id, w.seq)?;
        let t = Instant::now();
        let answer = self.api.page(&mut w.jar, &path, None).await?;
        let location = answer.location.unwrap_or_default();
        let code = location
            .strip_prefix(CODE_CALLBACK)
            .and_then(|rest| rest.strip_prefix('?'))
            .and_then(|q| {
                serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                    .ok()?
                    .into_iter()
                    .find(|(k, _)| k == "code")
                    .map(|(_, v)| v)
            });
        let Some(code) = code else {
            // A lost session would send us to /login again: sign in anew next time.
            w.jar = CookieJar::default();
            return Err(CallError::Unexpected(format!(
                "authorize answered {} to {location:?}, not the callback with a code",
                answer.status
            )));
        };
        let v = self
            .api
            .exchange_code(&client_id, &code, CODE_CALLBACK, CODE_VERIFIER)
            .await?;
        let elapsed = t.elapsed();
        str_field(&v, &["id_token"])?;
        str_field(&v, &["access_token"])?;
        Ok(elapsed)
    }

    async fn srp_sign_in(&self, w: &mut Worker) -> Result<Duration, CallError> {
        let user = self.pick_signin_user(w).username.clone();
        let client = w
            .srp
            .take()
            .ok_or_else(|| CallError::Client("worker has no SRP client".to_owned()))?;
        let srp_a = client.srp_a_hex();
        let t = Instant::now();
        let first = self
            .api
            .call(
                "InitiateAuth",
                &json!({
                    "AuthFlow": "USER_SRP_AUTH",
                    "ClientId": self.client_id,
                    "AuthParameters": {"USERNAME": user, "SRP_A": srp_a},
                }),
                false,
            )
            .await;
        let first_latency = t.elapsed();
        let v = match first {
            Ok(v) => v,
            Err(e) => {
                w.srp = Some(client);
                return Err(e);
            }
        };
        // The client's math costs about as much as the server's. It runs on the blocking pool
        // so that responses to other workers are still read (and timed) while it runs.
        let challenge = SrpChallenge::from_response(&v, &self.srp_pool_name, &self.password);
        let (client, signed) = tokio::task::spawn_blocking(move || {
            let signed = challenge.and_then(|c| c.sign(&client));
            (client, signed)
        })
        .await
        .map_err(|e| CallError::Client(format!("SRP client task: {e}")))?;
        w.srp = Some(client);
        let signed = signed?;
        let mut body = json!({
            "ClientId": self.client_id,
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeResponses": {
                "USERNAME": signed.user_id,
                "PASSWORD_CLAIM_SECRET_BLOCK": signed.secret_block,
                "PASSWORD_CLAIM_SIGNATURE": signed.signature,
                "TIMESTAMP": signed.timestamp,
            },
        });
        if let Some(session) = v.get("Session") {
            body["Session"] = session.clone();
        }
        let t = Instant::now();
        let v = self
            .api
            .call("RespondToAuthChallenge", &body, false)
            .await?;
        let second_latency = t.elapsed();
        authentication_result(&v)?;
        Ok(first_latency + second_latency)
    }
}

/// The PASSWORD_VERIFIER challenge, owned, so the client math can move to another thread.
struct SrpChallenge {
    pool_name: String,
    password: String,
    user_id: String,
    salt: String,
    srp_b: String,
    secret_block: String,
}

/// What goes back in RespondToAuthChallenge.
struct SrpAnswer {
    user_id: String,
    secret_block: String,
    signature: String,
    timestamp: String,
}

impl SrpChallenge {
    fn from_response(v: &Value, pool_name: &str, password: &str) -> Result<Self, CallError> {
        if v.get("ChallengeName").and_then(Value::as_str) != Some("PASSWORD_VERIFIER") {
            return Err(CallError::Unexpected(format!(
                "expected PASSWORD_VERIFIER, got {}",
                v.get("ChallengeName").unwrap_or(&Value::Null)
            )));
        }
        let param = |name: &str| str_field(v, &["ChallengeParameters", name]).map(str::to_owned);
        Ok(SrpChallenge {
            pool_name: pool_name.to_owned(),
            password: password.to_owned(),
            user_id: param("USER_ID_FOR_SRP")?,
            salt: param("SALT")?,
            srp_b: param("SRP_B")?,
            secret_block: param("SECRET_BLOCK")?,
        })
    }

    fn sign(self, client: &srp::client::Client) -> Result<SrpAnswer, CallError> {
        let now_s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| CallError::Client(e.to_string()))?
            .as_secs();
        let timestamp = srp::format_timestamp(i64::try_from(now_s).unwrap_or(i64::MAX))
            .ok_or_else(|| CallError::Client("clock out of range".to_owned()))?;
        let signature = client
            .password_claim_signature(&srp::client::Challenge {
                pool_name: &self.pool_name,
                user_id_for_srp: &self.user_id,
                password: &self.password,
                salt_hex: &self.salt,
                srp_b_hex: &self.srp_b,
                secret_block_b64: &self.secret_block,
                timestamp: &timestamp,
            })
            .map_err(|e| CallError::Client(format!("SRP client math: {e}")))?;
        Ok(SrpAnswer {
            user_id: self.user_id,
            secret_block: self.secret_block,
            signature,
            timestamp,
        })
    }
}

/// The value of a hidden form field (`name="<name>" value="..."`), HTML entities undone.
fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&#x2F;", "/")
            .replace("&#43;", "+")
            .replace("&#61;", "=")
            .replace("&quot;", "\"")
            .replace("&amp;", "&"),
    )
}
