//! A minimal Cognito JSON 1.1 client: `POST /` with `X-Amz-Target`, SigV4 for admin operations.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde_json::Value;

const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Root (IAM) credentials for the admin operations.
#[derive(Clone)]
pub struct RootCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl fmt::Debug for RootCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Why a call failed. Every failure is counted by [`CallError::kind`]; none is dropped.
#[derive(Debug, Clone)]
pub enum CallError {
    /// The service answered with an error body (`__type`, `message`).
    Api {
        status: u16,
        kind: String,
        message: String,
    },
    /// The service answered 200 but not with what the scenario needs.
    Unexpected(String),
    /// No answer: connection refused or reset, timeout, unreadable body.
    Transport(String),
    /// The load generator itself failed (signing, client-side SRP math).
    Client(String),
}

impl CallError {
    /// A short, stable label to count errors by.
    pub fn kind(&self) -> String {
        match self {
            CallError::Api { kind, status, .. } => format!("{kind} ({status})"),
            CallError::Unexpected(_) => "UnexpectedResponse".to_owned(),
            CallError::Transport(_) => "Transport".to_owned(),
            CallError::Client(_) => "GeneratorError".to_owned(),
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Api {
                status,
                kind,
                message,
            } => write!(f, "{kind} (HTTP {status}): {message}"),
            CallError::Unexpected(m) => write!(f, "unexpected response: {m}"),
            CallError::Transport(m) => write!(f, "transport error: {m}"),
            CallError::Client(m) => write!(f, "load generator error: {m}"),
        }
    }
}

impl std::error::Error for CallError {}

/// One shared HTTP client (keep-alive connection pool) for all workers.
#[derive(Clone)]
pub struct Cognito {
    http: reqwest::Client,
    /// Does not follow redirects: the hosted sign-in answers with them.
    browser: reqwest::Client,
    url: String,
    region: String,
    creds: Option<RootCredentials>,
    /// SigV4 headers by (operation, body), reused while younger than [`SIGNATURE_REUSE`].
    signatures: Arc<Mutex<SignatureCache>>,
}

/// How long the generator reuses a request's SigV4 headers. AWS accepts a signature for 15
/// minutes and so does the server, which verifies every request in full either way; reusing
/// them keeps the generator's own signing (several times the server's verification cost with
/// aws-sigv4) from capping the admin read scenarios.
const SIGNATURE_REUSE: Duration = Duration::from_secs(60);

/// Keyed by operation name and request body.
type SignatureCache = HashMap<(String, Vec<u8>), SignedHeaders>;

#[derive(Clone)]
struct SignedHeaders {
    made: Instant,
    headers: Vec<(String, String)>,
}

impl Cognito {
    pub fn new(
        endpoint: &str,
        region: &str,
        creds: Option<RootCredentials>,
        max_connections: usize,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(max_connections.max(1))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(60))
            .build()?;
        let browser = reqwest::Client::builder()
            .pool_max_idle_per_host(max_connections.max(1))
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let mut url = endpoint.trim_end_matches('/').to_owned();
        url.push('/');
        Ok(Self {
            http,
            browser,
            url,
            region: region.to_owned(),
            creds,
            signatures: Arc::default(),
        })
    }

    pub fn has_credentials(&self) -> bool {
        self.creds.is_some()
    }

    /// Calls `op` with `body`; `admin` calls are SigV4-signed (service `cognito-idp`).
    pub async fn call(&self, op: &str, body: &Value, admin: bool) -> Result<Value, CallError> {
        let body = serde_json::to_vec(body).map_err(|e| CallError::Client(e.to_string()))?;
        let target = format!("{TARGET_PREFIX}{op}");
        let mut headers = vec![
            ("content-type".to_owned(), CONTENT_TYPE.to_owned()),
            ("x-amz-target".to_owned(), target),
        ];
        if admin {
            let creds = self.creds.as_ref().ok_or_else(|| {
                CallError::Client(format!(
                    "{op} is an admin operation: give --access-key-id and --secret-access-key"
                ))
            })?;
            headers.extend(self.signed_headers(op, &headers, &body, creds)?);
        }
        let mut req = self.http.post(&self.url);
        for (k, v) in &headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req
            .body(body)
            .send()
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?;
        let value: Value = if bytes.is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(&bytes).map_err(|e| CallError::Api {
                status,
                kind: "UnparseableBody".to_owned(),
                message: format!("{e}: {}", String::from_utf8_lossy(&bytes)),
            })?
        };
        if status == 200 {
            return Ok(value);
        }
        let kind = value
            .get("__type")
            .and_then(Value::as_str)
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_owned())
            .unwrap_or_else(|| "HttpError".to_owned());
        let message = value
            .get("message")
            .or_else(|| value.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Err(CallError::Api {
            status,
            kind,
            message,
        })
    }
}

impl Cognito {
    fn signed_headers(
        &self,
        op: &str,
        headers: &[(String, String)],
        body: &[u8],
        creds: &RootCredentials,
    ) -> Result<Vec<(String, String)>, CallError> {
        let key = (op.to_owned(), body.to_vec());
        let lock = || {
            self.signatures
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if let Some(fresh) = lock()
            .get(&key)
            .filter(|s| s.made.elapsed() < SIGNATURE_REUSE)
        {
            return Ok(fresh.headers.clone());
        }
        let signed = sigv4_headers(&self.url, &self.region, headers, body, creds)
            .map_err(|e| CallError::Client(format!("SigV4 signing failed: {e}")))?;
        lock().insert(
            key,
            SignedHeaders {
                made: Instant::now(),
                headers: signed.clone(),
            },
        );
        Ok(signed)
    }

    /// `POST /oauth2/token` with `grant_type=client_credentials`, the client authenticated by
    /// HTTP Basic (RFC 6749 section 2.3.1).
    pub async fn client_credentials(
        &self,
        client_id: &str,
        client_secret: &str,
        scope: &str,
    ) -> Result<Value, CallError> {
        self.token_request(
            Some((client_id, client_secret)),
            &[("grant_type", "client_credentials"), ("scope", scope)],
        )
        .await
    }

    /// A form `POST` to `/oauth2/token`; OAuth errors come back as `CallError::Api` with the
    /// `error` code as kind.
    async fn token_request(
        &self,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> Result<Value, CallError> {
        let mut req = self
            .http
            .post(format!("{}oauth2/token", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).map_err(|e| CallError::Client(e.to_string()))?);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        let resp = req
            .send()
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| CallError::Api {
            status,
            kind: "UnparseableBody".to_owned(),
            message: format!("{e}: {}", String::from_utf8_lossy(&bytes)),
        })?;
        if status == 200 {
            return Ok(value);
        }
        Err(CallError::Api {
            status,
            kind: value
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("HttpError")
                .to_owned(),
            message: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }
}

/// What a browser keeps between hosted-UI requests: its cookies.
#[derive(Default, Clone)]
pub struct CookieJar(Vec<(String, String)>);

impl CookieJar {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, resp: &reqwest::Response) {
        for v in resp.headers().get_all(reqwest::header::SET_COOKIE) {
            let Ok(text) = v.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            self.0.retain(|(k, _)| k != name);
            if !value.is_empty() && !text.contains("Max-Age=0") {
                self.0.push((name.to_owned(), value.to_owned()));
            }
        }
    }
}

/// An answer of the hosted UI: status, `Location`, body.
pub struct PageAnswer {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Cognito {
    /// A browser request to the hosted UI (`GET` without a form, else `POST` of the form),
    /// cookies sent from and kept in `jar`, redirects not followed.
    pub async fn page(
        &self,
        jar: &mut CookieJar,
        path_and_query: &str,
        form: Option<&[(&str, &str)]>,
    ) -> Result<PageAnswer, CallError> {
        let url = format!("{}{}", self.url, path_and_query.trim_start_matches('/'));
        let mut req = match form {
            None => self.browser.get(url),
            Some(pairs) => self
                .browser
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    serde_urlencoded::to_string(pairs)
                        .map_err(|e| CallError::Client(e.to_string()))?,
                ),
        };
        if !jar.0.is_empty() {
            req = req.header(reqwest::header::COOKIE, jar.header());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?;
        jar.keep(&resp);
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp
            .text()
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?;
        Ok(PageAnswer {
            status,
            location,
            body,
        })
    }

    /// `POST /oauth2/token` with `grant_type=authorization_code` for a public client, with the
    /// PKCE verifier.
    pub async fn exchange_code(
        &self,
        client_id: &str,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Value, CallError> {
        self.token_request(
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", client_id),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", code_verifier),
            ],
        )
        .await
    }
}

/// The `authorization` and `x-amz-date` headers for a `POST /` with these headers and body.
fn sigv4_headers(
    url: &str,
    region: &str,
    headers: &[(String, String)],
    body: &[u8],
    creds: &RootCredentials,
) -> anyhow::Result<Vec<(String, String)>> {
    let identity = Credentials::new(
        creds.access_key_id.clone(),
        creds.secret_access_key.clone(),
        None,
        None,
        "portcullis-bench",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("cognito-idp")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )?;
    let (instructions, _signature) = sign(signable, &params)?.into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// `AuthenticationResult` of an InitiateAuth/RespondToAuthChallenge answer, or an error saying
/// what came instead.
pub fn authentication_result(v: &Value) -> Result<&Value, CallError> {
    match v.get("AuthenticationResult") {
        Some(r) if r.get("AccessToken").is_some() => Ok(r),
        _ => Err(CallError::Unexpected(format!(
            "no AuthenticationResult (ChallengeName {})",
            v.get("ChallengeName").unwrap_or(&Value::Null)
        ))),
    }
}

/// A string field, or an `Unexpected` error naming it.
pub fn str_field<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, CallError> {
    let mut cur = v;
    for key in path {
        cur = cur
            .get(key)
            .ok_or_else(|| CallError::Unexpected(format!("missing {}", path.join("."))))?;
    }
    cur.as_str()
        .ok_or_else(|| CallError::Unexpected(format!("{} is not a string", path.join("."))))
}
