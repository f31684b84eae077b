//! The request id, the request's deadline, and the one log line every request leaves.
//!
//! This replaces tower-http's `TraceLayer`, whose span per request (its fields formatted when it
//! opens, entered and left on every poll) and separate response event cost about 10 µs of a
//! 50 µs AdminGetUser: a fifth of the server's throughput on cheap reads. Here the line is one
//! event, written once the response is ready, and nothing is done per poll.
//!
//! The line names the operation, never a body: bodies carry passwords and tokens.
//!
//! Lines logged while a request runs (an internal error, a failed delivery) need its id too, so
//! the id is also a task-local for the request's future: [`current_request_id`] reads it, and the
//! process's log formatter adds it to such lines. A task-local costs a swap of one word per poll;
//! a tracing span carrying the id cost about 5% of an AdminGetUser.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use uuid::Uuid;

use crate::REQUEST_ID_HEADER;

tokio::task_local! {
    static REQUEST_ID: Uuid;
}

/// The id of the request whose future is running on this task, if any.
///
/// Work a request hands to another task or thread (password hashing, blocking store calls)
/// runs outside it: lines logged there carry no id.
pub fn current_request_id() -> Option<Uuid> {
    REQUEST_ID.try_with(|id| *id).ok()
}

/// Runs `fut` as the work of request `id`, as the middleware does for each request.
pub async fn within_request<F: Future>(id: Uuid, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

/// Where the request lines go; `PORTCULLIS_LOG=portcullis::request=warn` silences them alone.
pub const TARGET: &str = "portcullis::request";

/// Answers `504 Gateway Timeout` when the request is still running after `deadline`.
pub async fn log_request(
    State(deadline): State<Duration>,
    req: Request<Body>,
    next: Next,
) -> Response {
    // Latency is an observation for operators, not behaviour, so it reads the monotonic clock
    // directly rather than core's injected one.
    let started = Instant::now();
    // The id is ours: a client-sent `x-amzn-RequestId` is neither echoed nor logged as ours
    // (and is left alone, since it may be covered by a signature).
    let id = Uuid::new_v4();
    // Cheap copies: both share the request's own buffers.
    let method = req.method().clone();
    let uri = req.uri().clone();
    let target = req.headers().get("x-amz-target").cloned();

    let mut res = tokio::time::timeout(deadline, within_request(id, next.run(req)))
        .await
        .unwrap_or_else(|_| StatusCode::GATEWAY_TIMEOUT.into_response());

    let mut text = Uuid::encode_buffer();
    let id = id.hyphenated().encode_lower(&mut text);
    if let Ok(v) = HeaderValue::from_str(id) {
        res.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    if tracing::enabled!(target: TARGET, tracing::Level::INFO) {
        let op = target
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or_default();
        tracing::info!(
            target: TARGET,
            request_id = %id,
            method = %method,
            path = %uri.path(),
            op = %op,
            status = res.status().as_u16(),
            micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "request"
        );
    }
    res
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::routing::post;
    use tower::ServiceExt;
    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn app() -> Router {
        app_with_deadline(Duration::from_secs(30))
    }

    fn app_with_deadline(deadline: Duration) -> Router {
        Router::new()
            .route(
                "/",
                post(|| async { (axum::http::StatusCode::BAD_REQUEST, "no") }),
            )
            .route(
                "/id-inside",
                post(|| async {
                    current_request_id()
                        .map(|id| id.to_string())
                        .unwrap_or_default()
                }),
            )
            .route(
                "/slow",
                post(|| async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "late"
                }),
            )
            .layer(axum::middleware::from_fn_with_state(deadline, log_request))
    }

    fn signed_in_request() -> Request<Body> {
        Request::post("/")
            .header(
                "x-amz-target",
                "AWSCognitoIdentityProviderService.InitiateAuth",
            )
            .header(REQUEST_ID_HEADER, "client-chosen-id")
            .body(Body::from(
                r#"{"AuthParameters":{"PASSWORD":"hunter2-secret"}}"#,
            ))
            .unwrap()
    }

    async fn send(filter: &str) -> (Response, String) {
        send_to(app(), signed_in_request(), filter).await
    }

    /// Sends `req` to `app` under a subscriber that captures what is logged.
    async fn send_to(app: Router, req: Request<Body>, filter: &str) -> (Response, String) {
        let out = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(out.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let res = app.oneshot(req).await.unwrap();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        (res, text)
    }

    #[tokio::test]
    async fn one_line_names_the_request_and_its_outcome_but_not_the_body() {
        let (res, log) = send("info").await;
        let id = res.headers()[REQUEST_ID_HEADER]
            .to_str()
            .unwrap()
            .to_owned();
        assert_ne!(id, "client-chosen-id", "the id is the server's own");
        assert_eq!(log.lines().count(), 1, "{log}");
        for part in [
            format!("request_id={id}"),
            "method=POST".to_owned(),
            "path=/ ".to_owned(),
            "op=InitiateAuth".to_owned(),
            "status=400".to_owned(),
            "micros=".to_owned(),
        ] {
            assert!(log.contains(&part), "{part:?} missing from {log}");
        }
        assert!(!log.contains("hunter2"), "a body reached the log: {log}");
        assert!(!log.contains("client-chosen-id"), "{log}");
    }

    #[tokio::test]
    async fn the_request_line_can_be_silenced_alone() {
        let (res, log) = send("info,portcullis::request=warn").await;
        assert!(res.headers().contains_key(REQUEST_ID_HEADER));
        assert_eq!(log, "");
    }

    #[tokio::test]
    async fn a_request_past_its_deadline_is_answered_504_and_logged() {
        let started = Instant::now();
        let (res, log) = send_to(
            app_with_deadline(Duration::from_millis(50)),
            Request::post("/slow").body(Body::empty()).unwrap(),
            "info",
        )
        .await;
        assert_eq!(res.status(), StatusCode::GATEWAY_TIMEOUT);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(res.headers().contains_key(REQUEST_ID_HEADER));
        assert!(
            log.contains("status=504") && log.contains("path=/slow"),
            "{log}"
        );
    }

    #[tokio::test]
    async fn the_handler_runs_as_the_request_it_answers() {
        let (res, _) = send_to(
            app(),
            Request::post("/id-inside").body(Body::empty()).unwrap(),
            "info",
        )
        .await;
        let header = res.headers()[REQUEST_ID_HEADER]
            .to_str()
            .unwrap()
            .to_owned();
        let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
        assert_eq!(std::str::from_utf8(&body).unwrap(), header);
        assert_eq!(current_request_id(), None, "the id ends with the request");
    }
}
