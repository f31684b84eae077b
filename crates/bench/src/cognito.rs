//! A minimal Cognito JSON 1.1 client: `POST /` with `X-Amz-Target`, SigV4 for admin operations.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::Full;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

use crate::http1::Connections;

const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");

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
    /// `url` parsed once: parsing it for every request was 7% of the generator's CPU.
    api_url: reqwest::Url,
    /// Where the endpoint is plain HTTP, the JSON API calls go through these instead of
    /// `http` (see [`crate::http1`]).
    connections: Option<Arc<Connections>>,
    region: String,
    creds: Option<RootCredentials>,
    /// SigV4 headers by operation and body, reused while younger than [`SIGNATURE_REUSE`].
    signatures: Arc<Mutex<SignatureCache>>,
}

/// How long the generator reuses a request's SigV4 headers. AWS accepts a signature for 15
/// minutes and so does the server, which verifies every request in full either way; reusing
/// them keeps the generator's own signing (several times the server's verification cost with
/// aws-sigv4) from capping the admin read scenarios.
const SIGNATURE_REUSE: Duration = Duration::from_secs(60);

/// Keyed by operation name, then request body: nested so a lookup borrows both.
type SignatureCache = HashMap<String, HashMap<Vec<u8>, SignedHeaders>>;

struct SignedHeaders {
    made: Instant,
    headers: Arc<[(HeaderName, HeaderValue)]>,
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
        let api_url = reqwest::Url::parse(&url)?;
        let connections = Connections::for_url(&api_url)?.map(Arc::new);
        Ok(Self {
            http,
            browser,
            url,
            api_url,
            connections,
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
        let target = HeaderValue::try_from(format!("{TARGET_PREFIX}{op}"))
            .map_err(|e| CallError::Client(e.to_string()))?;
        let mut headers = vec![
            (
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static(CONTENT_TYPE),
            ),
            (X_AMZ_TARGET, target.clone()),
        ];
        if admin {
            let creds = self.creds.as_ref().ok_or_else(|| {
                CallError::Client(format!(
                    "{op} is an admin operation: give --access-key-id and --secret-access-key"
                ))
            })?;
            let signed = self.signed_headers(op, &target, &body, creds)?;
            headers.extend(signed.iter().cloned());
        }
        let (status, bytes) = match &self.connections {
            Some(connections) => {
                let mut req = http::Request::post(self.api_url.path())
                    .body(Full::new(Bytes::from(body)))
                    .map_err(|e| CallError::Client(e.to_string()))?;
                req.headers_mut().extend(headers);
                let (status, bytes) = connections.send(req).await.map_err(CallError::Transport)?;
                (status.as_u16(), bytes)
            }
            None => {
                let mut req = self.http.post(self.api_url.clone());
                for (name, value) in headers {
                    req = req.header(name, value);
                }
                send_through_reqwest(req.body(body)).await?
            }
        };
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
        target: &HeaderValue,
        body: &[u8],
        creds: &RootCredentials,
    ) -> Result<Arc<[(HeaderName, HeaderValue)]>, CallError> {
        let lock = || {
            self.signatures
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if let Some(fresh) = lock()
            .get(op)
            .and_then(|by_body| by_body.get(body))
            .filter(|s| s.made.elapsed() < SIGNATURE_REUSE)
        {
            return Ok(Arc::clone(&fresh.headers));
        }
        let target = target
            .to_str()
            .map_err(|e| CallError::Client(e.to_string()))?;
        let signed: Arc<[(HeaderName, HeaderValue)]> = sigv4_headers(
            &self.url,
            &self.region,
            &[("content-type", CONTENT_TYPE), ("x-amz-target", target)],
            body,
            creds,
        )
        .map_err(|e| CallError::Client(format!("SigV4 signing failed: {e}")))?
        .into();
        lock().entry(op.to_owned()).or_default().insert(
            body.to_vec(),
            SignedHeaders {
                made: Instant::now(),
                headers: Arc::clone(&signed),
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
        let (status, bytes) = send_through_reqwest(req).await?;
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

/// Sends `req` and reads its whole answer: status and body.
async fn send_through_reqwest(req: reqwest::RequestBuilder) -> Result<(u16, Bytes), CallError> {
    let resp = req
        .send()
        .await
        .map_err(|e| CallError::Transport(e.to_string()))?;
    let status = resp.status().as_u16();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| CallError::Transport(e.to_string()))?;
    Ok((status, bytes))
}

/// The `authorization` and `x-amz-date` headers for a `POST /` with these headers and body.
fn sigv4_headers(
    url: &str,
    region: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    creds: &RootCredentials,
) -> anyhow::Result<Vec<(HeaderName, HeaderValue)>> {
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
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )?;
    let (instructions, _signature) = sign(signable, &params)?.into_parts();
    instructions
        .headers()
        .map(|(k, v)| Ok((HeaderName::try_from(k)?, HeaderValue::try_from(v)?)))
        .collect()
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
