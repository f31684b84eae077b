//! The harness: a whole Portcullis server started in-process on port 0, with a temporary data
//! dir and its own database (a SQLite file, or a fresh PostgreSQL schema), and a small Cognito
//! JSON 1.1 client that signs admin calls with SigV4.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use portcullis::config::Config;
use portcullis::{Overrides, RunningServer};
use portcullis_core::clock::{Clock, ManualClock, SystemClock};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tempfile::TempDir;

pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";
pub const JSON_11: &str = "application/x-amz-json-1.1";
pub const PG_ENV: &str = "PORTCULLIS_TEST_POSTGRES_URL";
pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// The errors a SigV4 check produces; a public operation must never answer with one.
pub const SIGNATURE_ERRORS: &[&str] = &[
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "InvalidSignatureException",
    "UnrecognizedClientException",
    "AccessDeniedException",
];

// ---------------------------------------------------------------------------------------------
// Backends

#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres { base_url: String },
}

impl Backend {
    /// PostgreSQL from `PORTCULLIS_TEST_POSTGRES_URL`, or None when it is unset.
    pub fn postgres_from_env() -> Option<Backend> {
        std::env::var(PG_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())
            .map(|base_url| Backend::Postgres { base_url })
    }

    /// PostgreSQL for a case compiled to run on it: the variable was set when the tests were
    /// built, so its absence now is an error, not a reason to pass.
    #[track_caller]
    pub fn postgres_required() -> Backend {
        match Backend::postgres_from_env() {
            Some(backend) => backend,
            None => panic!(
                "{PG_ENV} was set when the tests were built but is unset now: rebuild without \
                 it to skip the PostgreSQL cases"
            ),
        }
    }
}

/// A fresh schema in the PostgreSQL database of `PORTCULLIS_TEST_POSTGRES_URL`, selected for
/// the server through `options=-c search_path=...` (the store tests do the same). Dropped on
/// drop, also when the test panics.
pub struct PgSchema {
    base_url: String,
    name: String,
}

impl PgSchema {
    pub async fn create(base_url: &str) -> (PgSchema, String) {
        let name = format!("portcullis_api_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(base_url)
            .await
            .expect("connect to PORTCULLIS_TEST_POSTGRES_URL");
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&mut admin)
            .await
            .expect("create schema");
        let _ = admin.close().await;
        let sep = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{sep}options=-c%20search_path%3D{name}");
        (
            PgSchema {
                base_url: base_url.to_owned(),
                name,
            },
            url,
        )
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime (maybe while unwinding): do the async cleanup
        // on a thread of its own, with a runtime of its own.
        let base_url = self.base_url.clone();
        let name = self.name.clone();
        let cleanup = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&base_url).await {
                    // A server left running by a panicking test must not hang the cleanup.
                    let _ = sqlx::raw_sql(AssertSqlSafe(format!(
                        "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {name} CASCADE"
                    )))
                    .execute(&mut admin)
                    .await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

// ---------------------------------------------------------------------------------------------
// The server

#[derive(Clone, Debug)]
pub struct Creds {
    pub access_key_id: String,
    pub secret_access_key: String,
}

pub struct TestServer {
    server: Option<RunningServer>,
    pub addr: SocketAddr,
    pub base_url: String,
    /// Root credentials read from `<data-dir>/root-credentials.json` (None in insecure mode,
    /// where the server generates none).
    pub creds: Option<Creds>,
    pub http: reqwest::Client,
    database_url: String,
    flags: Flags,
    // Field order is drop order: the schema goes before the data dir, both after the server.
    pg: Option<PgSchema>,
    pub dir: TempDir,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.shutdown.cancel();
        }
    }
}

pub async fn start(backend: &Backend) -> TestServer {
    start_with(backend, false).await
}

pub async fn start_with(backend: &Backend, insecure_accept_any_credentials: bool) -> TestServer {
    start_flags(
        backend,
        Flags {
            insecure: insecure_accept_any_credentials,
            ..Flags::default()
        },
    )
    .await
}

/// Server settings a test may change from the defaults.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub insecure: bool,
    pub allow_public_clients_without_pkce: bool,
    /// The server's clock, moved by the test (see `frozen_clock`); the wall clock when None.
    pub clock: Option<&'static ManualClock>,
    /// Connection, rate and queue limits; the server's defaults when `None`.
    pub limits: Option<portcullis::config::ServerLimits>,
}

/// A clock that stands still at the current wall-clock time until the test moves it, for
/// lockout and expiry cases that must not depend on how fast the machine is. (Leaked: a few
/// bytes per test, so that `Flags` stays `Copy`.)
pub fn frozen_clock() -> &'static ManualClock {
    Box::leak(Box::new(ManualClock::new(SystemClock.now_ms())))
}

struct TestClock(&'static ManualClock);

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.now_ms()
    }
}

pub async fn start_flags(backend: &Backend, flags: Flags) -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, pg) = match backend {
        Backend::Sqlite => (format!("sqlite://{}/p.db", dir.path().display()), None),
        Backend::Postgres { base_url } => {
            let (schema, url) = PgSchema::create(base_url).await;
            (url, Some(schema))
        }
    };
    launch(dir, database_url, pg, flags).await
}

async fn launch(
    dir: TempDir,
    database_url: String,
    pg: Option<PgSchema>,
    flags: Flags,
) -> TestServer {
    let config = Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: dir.path().to_path_buf(),
        database_url: database_url.clone(),
        // As `serve` derives it: the server substitutes the port it actually bound.
        public_url: "http://127.0.0.1:0".to_owned(),
        region: REGION.to_owned(),
        account_id: ACCOUNT.to_owned(),
        insecure_accept_any_credentials: flags.insecure,
        smtp_url: None,
        smtp_from: None,
        json_logs: false,
        hash_concurrency: 2,
        allow_public_clients_without_pkce: flags.allow_public_clients_without_pkce,
        sweeper: portcullis::housekeeping::Sweeper::default(),

        limits: flags.limits.clone().unwrap_or_default(),
    };
    let server = portcullis::start(
        config,
        Overrides {
            fast_password_hashing: true,
            clock: flags
                .clock
                .map(|c| std::sync::Arc::new(TestClock(c)) as std::sync::Arc<dyn Clock>),
        },
    )
    .await
    .expect("the server starts");
    let creds = if flags.insecure {
        None
    } else {
        let text = std::fs::read_to_string(dir.path().join("root-credentials.json"))
            .expect("root-credentials.json in the data dir");
        let v: Value = serde_json::from_str(&text).expect("root-credentials.json is JSON");
        Some(Creds {
            access_key_id: v["access_key_id"]
                .as_str()
                .expect("access_key_id")
                .to_owned(),
            secret_access_key: v["secret_access_key"]
                .as_str()
                .expect("secret_access_key")
                .to_owned(),
        })
    };
    let addr = server.addr;
    TestServer {
        addr,
        base_url: format!("http://{addr}"),
        creds,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("http client"),
        server: Some(server),
        database_url,
        flags,
        pg,
        dir,
    }
}

impl TestServer {
    /// Stops this server (it must stop cleanly) and starts a new one on the same data dir and
    /// database, as an operator restarting the process would.
    pub async fn restart(mut self) -> TestServer {
        self.stop().await.expect("clean stop");
        let dir = tempfile::tempdir().expect("temp dir");
        let dir = std::mem::replace(&mut self.dir, dir);
        let pg = self.pg.take();
        let database_url = std::mem::take(&mut self.database_url);
        launch(dir, database_url, pg, self.flags.clone()).await
    }
}

// ---------------------------------------------------------------------------------------------
// Requests

#[derive(Clone, Debug)]
pub enum Sign {
    /// No Authorization header.
    None,
    /// The server's root credentials, now (unsigned when the server has none: insecure mode).
    Root,
    /// The root credentials at another time.
    RootAt(SystemTime),
    /// Any key id and secret, now.
    With(Creds),
    /// Root credentials, but scoped to another signing name.
    RootForService(&'static str),
}

/// One `POST /` request, built field by field so tests can break any part of it.
#[derive(Clone, Debug)]
pub struct Req {
    pub target: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub sign: Sign,
    /// Sent instead of `body` (which was signed): a body tampered with after signing.
    pub send_body: Option<Vec<u8>>,
    pub headers: Vec<(String, String)>,
    /// Headers replaced (or added) after signing: tampering with signed headers.
    pub after_signing: Vec<(String, String)>,
}

impl Req {
    pub fn op(op: &str, body: &Value) -> Req {
        Req {
            target: Some(format!("{TARGET_PREFIX}{op}")),
            content_type: Some(JSON_11.to_owned()),
            body: body.to_string().into_bytes(),
            sign: Sign::Root,
            send_body: None,
            headers: vec![],
            after_signing: vec![],
        }
    }
    pub fn unsigned(mut self) -> Req {
        self.sign = Sign::None;
        self
    }
    pub fn sign(mut self, sign: Sign) -> Req {
        self.sign = sign;
        self
    }
    pub fn target(mut self, target: Option<&str>) -> Req {
        self.target = target.map(str::to_owned);
        self
    }
    pub fn content_type(mut self, ct: Option<&str>) -> Req {
        self.content_type = ct.map(str::to_owned);
        self
    }
    pub fn raw_body(mut self, body: impl Into<Vec<u8>>) -> Req {
        self.body = body.into();
        self
    }
    pub fn tamper(mut self, sent: impl Into<Vec<u8>>) -> Req {
        self.send_body = Some(sent.into());
        self
    }
    pub fn after_signing(mut self, name: &str, value: &str) -> Req {
        self.after_signing
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON, or Null when it is not JSON.
    pub body: Value,
}

impl Resp {
    pub fn error_type(&self) -> &str {
        self.body["__type"].as_str().unwrap_or_default()
    }
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn request_id(&self) -> &str {
        self.header("x-amzn-requestid").unwrap_or_default()
    }
    #[track_caller]
    pub fn assert_error(&self, error_type: &str, status: u16) {
        assert_eq!(
            (self.status, self.error_type()),
            (status, error_type),
            "unexpected answer: {} {}",
            self.status,
            self.text
        );
    }
    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert_eq!(self.status, 200, "expected success, got {}", self.text);
        &self.body
    }
}

/// SigV4 headers (`authorization`, `x-amz-date`) for a `POST /` to `url` with these headers.
pub fn sigv4_headers(
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    creds: &Creds,
    service: &str,
    time: SystemTime,
) -> Vec<(String, String)> {
    let identity = Credentials::new(
        creds.access_key_id.clone(),
        creds.secret_access_key.clone(),
        None,
        None,
        "portcullis-api-tests",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .expect("signable request");
    let (instructions, _signature) = sign(signable, &params).expect("signing").into_parts();
    instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Fresh credentials nobody configured.
pub fn stranger() -> Creds {
    Creds {
        access_key_id: "AKIAIOSFODNN7EXAMPLE".to_owned(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Stops the server (graceful shutdown) and returns what `stop()` returned.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        match self.server.take() {
            Some(server) => server.stop().await,
            None => Ok(()),
        }
    }

    fn root(&self) -> Option<&Creds> {
        self.creds.as_ref()
    }

    /// The headers a request goes out with, signature included.
    pub fn prepared_headers(&self, req: &Req) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = vec![];
        if let Some(ct) = &req.content_type {
            headers.push(("content-type".to_owned(), ct.clone()));
        }
        if let Some(t) = &req.target {
            headers.push(("x-amz-target".to_owned(), t.clone()));
        }
        headers.extend(req.headers.iter().cloned());
        let url = self.url("/");
        let signed = match &req.sign {
            Sign::None => None,
            Sign::Root => self
                .root()
                .map(|c| (c.clone(), "cognito-idp", SystemTime::now())),
            Sign::RootAt(t) => Some((self.root().expect("root creds").clone(), "cognito-idp", *t)),
            Sign::With(c) => Some((c.clone(), "cognito-idp", SystemTime::now())),
            Sign::RootForService(s) => Some((
                self.root().expect("root creds").clone(),
                *s,
                SystemTime::now(),
            )),
        };
        if let Some((creds, service, time)) = signed {
            let extra = sigv4_headers(&url, &headers, &req.body, &creds, service, time);
            headers.extend(extra);
        }
        for (name, value) in &req.after_signing {
            headers.retain(|(k, _)| k != name);
            headers.push((name.clone(), value.clone()));
        }
        headers
    }

    /// Sends one request and checks what every answer of `POST /` must carry: a request id,
    /// and for errors a JSON body whose `__type` is repeated in `x-amzn-ErrorType` with
    /// Cognito's trailing colon.
    pub async fn send(&self, req: Req) -> Resp {
        let resp = self.try_send(req).await.expect("request sent");
        assert!(
            !resp.request_id().is_empty(),
            "no x-amzn-RequestId on {} {}",
            resp.status,
            resp.text
        );
        if resp.status != 200 {
            assert!(
                !resp.error_type().is_empty(),
                "error without a JSON __type: {} {:?}",
                resp.status,
                resp.text
            );
            assert_eq!(
                resp.header("x-amzn-errortype"),
                Some(format!("{}:", resp.error_type()).as_str()),
                "x-amzn-ErrorType of {}",
                resp.text
            );
            assert_eq!(resp.header("content-type"), Some(JSON_11), "{}", resp.text);
        }
        resp
    }

    /// Sends one request and returns whatever came back, or the transport error (a server
    /// that closed the connection without answering, as a panicking handler does).
    pub async fn try_send(&self, req: Req) -> Result<Resp, reqwest::Error> {
        let headers = self.prepared_headers(&req);
        let mut builder = self.http.post(self.url("/"));
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let body = req.send_body.clone().unwrap_or_else(|| req.body.clone());
        let res = builder.body(body).send().await?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Resp {
            status,
            headers,
            text,
            body,
        })
    }

    /// The database URL the server was started with (a PostgreSQL URL selects the test's
    /// schema), for tests that read the rows themselves.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// A call signed with the root credentials.
    pub async fn call(&self, op: &str, body: Value) -> Resp {
        self.send(Req::op(op, &body)).await
    }

    /// A call that must succeed; returns the body.
    #[track_caller]
    pub fn ok<'a>(
        &'a self,
        op: &'a str,
        body: Value,
    ) -> impl std::future::Future<Output = Value> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let resp = self.call(op, body.clone()).await;
            assert_eq!(
                resp.status, 200,
                "{op} {body} failed at {caller}: {}",
                resp.text
            );
            assert_eq!(resp.header("content-type"), Some(JSON_11));
            assert!(resp.body.is_object(), "{op}: {}", resp.text);
            resp.body
        }
    }

    /// A call that must fail with `error_type` (HTTP 400); returns the response.
    #[track_caller]
    pub fn err<'a>(
        &'a self,
        op: &'a str,
        body: Value,
        error_type: &'a str,
    ) -> impl std::future::Future<Output = Resp> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let resp = self.call(op, body.clone()).await;
            assert_eq!(
                (resp.status, resp.error_type()),
                (400, error_type),
                "{op} {body} at {caller}: {}",
                resp.text
            );
            assert!(!resp.message().is_empty() || error_type == "UnknownOperationException");
            resp
        }
    }

    // -- shortcuts used by many tests ---------------------------------------------------------

    pub async fn create_pool(&self, body: Value) -> Value {
        let out = self.ok("CreateUserPool", body).await;
        out["UserPool"].clone()
    }

    pub async fn new_pool(&self, name: &str) -> String {
        let pool = self.create_pool(json!({ "PoolName": name })).await;
        pool["Id"].as_str().expect("pool id").to_owned()
    }

    pub async fn describe_pool(&self, pool_id: &str) -> Value {
        self.ok("DescribeUserPool", json!({ "UserPoolId": pool_id }))
            .await["UserPool"]
            .clone()
    }

    /// Every pool, following NextToken.
    pub async fn all_pools(&self) -> Vec<Value> {
        let mut out = vec![];
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({ "MaxResults": 60 });
            if let Some(t) = &token {
                body["NextToken"] = json!(t);
            }
            let page = self.ok("ListUserPools", body).await;
            out.extend(page["UserPools"].as_array().cloned().unwrap_or_default());
            match page["NextToken"].as_str() {
                Some(t) => token = Some(t.to_owned()),
                None => return out,
            }
        }
    }

    pub async fn pool_ids(&self) -> HashSet<String> {
        self.all_pools()
            .await
            .iter()
            .map(|p| p["Id"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Every user of a pool (ListUsers, following PaginationToken), as returned.
    pub async fn all_users(&self, pool_id: &str) -> Vec<Value> {
        let mut out = vec![];
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({ "UserPoolId": pool_id });
            if let Some(t) = &token {
                body["PaginationToken"] = json!(t);
            }
            let page = self.ok("ListUsers", body).await;
            out.extend(page["Users"].as_array().cloned().unwrap_or_default());
            match page["PaginationToken"].as_str() {
                Some(t) => token = Some(t.to_owned()),
                None => return out,
            }
        }
    }

    pub async fn get_user(&self, pool_id: &str, username: &str) -> Value {
        self.ok(
            "AdminGetUser",
            json!({ "UserPoolId": pool_id, "Username": username }),
        )
        .await
    }

    /// AdminCreateUser without an invitation.
    pub async fn create_user(
        &self,
        pool_id: &str,
        username: &str,
        attrs: &[(&str, &str)],
    ) -> Value {
        let attributes: Vec<Value> = attrs
            .iter()
            .map(|(n, v)| json!({ "Name": n, "Value": v }))
            .collect();
        self.ok(
            "AdminCreateUser",
            json!({
                "UserPoolId": pool_id,
                "Username": username,
                "UserAttributes": attributes,
                "MessageAction": "SUPPRESS",
            }),
        )
        .await["User"]
            .clone()
    }

    /// The messages in `<data-dir>/outbox.jsonl` (none when the file does not exist).
    pub fn outbox(&self) -> Vec<Value> {
        let path = self.dir.path().join("outbox.jsonl");
        match std::fs::read_to_string(&path) {
            Ok(text) => text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).expect("outbox line is JSON"))
                .collect(),
            Err(_) => vec![],
        }
    }
}

pub async fn read(res: reqwest::Response) -> Resp {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        body,
    }
}

/// The value of attribute `name` in an `[{Name, Value}]` list.
pub fn attr<'a>(attrs: &'a Value, name: &str) -> Option<&'a str> {
    attrs
        .as_array()?
        .iter()
        .find(|a| a["Name"] == name)
        .and_then(|a| a["Value"].as_str())
}

/// Usernames of a `Users` list, sorted.
pub fn usernames(users: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = users
        .iter()
        .map(|u| u["Username"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

/// `Users` of a response, as a vec.
pub fn list(v: &Value, key: &str) -> Vec<Value> {
    v[key].as_array().cloned().unwrap_or_default()
}

/// Runs each listed case on SQLite and on PostgreSQL: `sqlite::<case>` and `postgres::<case>`.
///
/// The PostgreSQL cases are compiled as ignored ("needs PORTCULLIS_TEST_POSTGRES_URL") when the
/// variable was unset at build time (see `build.rs`), so a run without PostgreSQL shows them as
/// ignored rather than as passing; `postgres_cases_run_in_ci` fails such a run when `CI` is set.
macro_rules! backend_tests {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case($crate::support::Backend::Sqlite).await
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
                    super::$case($crate::support::Backend::postgres_required()).await
                }
            )*
        }
    };
}

/// `CI` as CI services set it (`true`, `1`); unset, empty or `false` means a local run.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.trim().is_empty() && v != "false" && v != "0")
}

/// A CI run must run the PostgreSQL cases, not skip them.
#[test]
fn postgres_cases_run_in_ci() {
    assert!(
        !in_ci() || cfg!(portcullis_pg_tests),
        "CI is set but {PG_ENV} was not set when the tests were built: the PostgreSQL cases \
         would be skipped"
    );
}
