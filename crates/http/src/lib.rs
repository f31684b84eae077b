//! The HTTP edge: parse, authenticate the caller, call core, render. No behaviour lives here.

pub mod health;
pub mod json_api;
pub mod oauth;
pub mod rate_limit;
pub mod request_log;
pub mod sigv4;
pub mod ui;
pub mod well_known;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use portcullis_core::Core;
use portcullis_proto::Model;
use tower::Service;
use tower_http::cors::{AllowHeaders, Any, CorsLayer};

pub use rate_limit::{RateLimitSettings, RateLimiter};
pub use sigv4::RootCredentials;

/// The header AWS clients read the request id from.
pub const REQUEST_ID_HEADER: &str = "x-amzn-requestid";

/// How IAM-authorized (admin) operations authenticate their caller.
#[derive(Debug, Clone)]
pub enum AdminAuth {
    /// SigV4 signatures made with the root credentials.
    Root(RootCredentials),
    /// Any caller, signed or not: for throwaway local emulation only.
    AcceptAny,
}

/// Whether the server can serve: the binary plugs in the store's ping.
#[async_trait]
pub trait Readiness: Send + Sync {
    async fn ready(&self) -> Result<(), String>;
}

/// What the handlers share. axum clones the state for every request, so it is one reference
/// count: a clone of [`AppParts`] would copy core's settings strings each time.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl AppState {
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

pub struct AppParts {
    pub core: Core,
    pub model: Arc<Model>,
    pub admin_auth: AdminAuth,
    pub readiness: Arc<dyn Readiness>,
    pub limits: Limits,
    /// Per-source request rates of the operations anonymous callers reach.
    pub rate_limits: Arc<RateLimiter>,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body. Cognito's own inputs stay far below this.
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Browser SDKs call the JSON API cross-origin; Cognito answers any origin.
fn cors() -> CorsLayer {
    let expose = [
        "x-amzn-requestid",
        "x-amzn-errortype",
        "x-amzn-errormessage",
        "date",
    ]
    .map(HeaderName::from_static);
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST, Method::GET, Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers(expose)
        .max_age(Duration::from_secs(86_400))
}

/// The server's HTTP service: the routes behind the request log (which also holds each
/// request to its deadline), with CORS for browsers' requests only.
///
/// A request without `Origin` is no browser's cross-origin request, so CORS headers mean
/// nothing to it; yet tower-http's CORS layer cost about 15% of an AdminGetUser on one core
/// (its configuration cloned and its headers written on every request). Such requests skip it
/// and get `Vary: Origin` alone, so that a shared cache never hands their answer to a browser.
#[derive(Clone)]
pub struct Edge {
    plain: Router,
    browser: Router,
}

pub fn router(state: AppState) -> Edge {
    let deadline = state.limits.request_timeout;
    let throttle = axum::middleware::from_fn_with_state(state.rate_limits.clone(), throttle);
    let routes = Router::new()
        .route("/", post(json_api::handle))
        .route("/health", get(health::handle))
        .route("/{pool_id}/.well-known/jwks.json", get(well_known::jwks))
        .route(
            "/{pool_id}/.well-known/openid-configuration",
            get(well_known::openid_configuration),
        )
        .merge(oauth::routes())
        .merge(ui::routes())
        .with_state(state)
        .layer(throttle);
    let log = axum::middleware::from_fn_with_state(deadline, request_log::log_request);
    Edge {
        plain: routes.clone().layer(log.clone()),
        browser: routes.layer(cors()).layer(log),
    }
}

/// The category a request counts against, if it is one an anonymous caller can make.
fn rate_category(req: &Request<Body>) -> Option<rate_limit::Category> {
    match (req.method(), req.uri().path()) {
        (&Method::POST, "/") => req
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.strip_prefix("AWSCognitoIdentityProviderService."))
            .and_then(rate_limit::Category::of_operation),
        (_, path) => rate_limit::Category::of_path(path),
    }
}

/// Refuses a request over its source's rate (see [`rate_limit`]). A request whose source is
/// unknown (no connection info: tests that call the router directly) is not counted.
async fn throttle(
    axum::extract::State(limits): axum::extract::State<Arc<RateLimiter>>,
    req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let source = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let (Some(source), Some(category)) = (source, rate_category(&req))
        && !limits.allow(category, source)
    {
        return throttled(&req);
    }
    next.run(req).await
}

/// Cognito's throttling answer on the JSON API; a 429 page or OAuth error elsewhere.
fn throttled(req: &Request<Body>) -> Response {
    if req.uri().path() == "/" {
        return json_api::WireError::new(400, "TooManyRequestsException", "Rate exceeded")
            .into_response();
    }
    let retry = [(header::RETRY_AFTER, HeaderValue::from_static("1"))];
    if req.uri().path().starts_with("/oauth2/") && req.method() == Method::POST {
        let body = r#"{"error":"too_many_requests","error_description":"Rate exceeded"}"#;
        let json = [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )];
        return (StatusCode::TOO_MANY_REQUESTS, retry, json, body).into_response();
    }
    ui::too_many_requests_page()
}

impl Service<Request<Body>> for Edge {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Routers are always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if req.headers().contains_key(header::ORIGIN) {
            return Box::pin(self.browser.call(req));
        }
        let answer = self.plain.call(req);
        Box::pin(async move {
            let mut res = answer.await?;
            res.headers_mut()
                .append(header::VARY, HeaderValue::from_static("origin"));
            Ok(res)
        })
    }
}

#[cfg(test)]
mod fuzz;
