//! Keep-alive HTTP/1.1 connections for the JSON API calls, straight on hyper.
//!
//! The generator shares one core with nothing but itself, and on the cheap read scenarios it is
//! what runs out first. Through reqwest, a call also paid for parsing the URL again, a redirect
//! policy, a retry layer and a connection pool keyed by host (together about a quarter of the
//! generator's CPU in a profile of AdminGetUser); here a call takes an idle connection, sends,
//! and puts it back. Plain `http://` endpoints only: an `https://` endpoint keeps reqwest.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// As reqwest was configured: a call that takes longer is a transport error.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Connections {
    /// `host:port` to connect to.
    authority: String,
    host: HeaderValue,
    idle: Mutex<Vec<Sender>>,
}

type Sender = SendRequest<Full<Bytes>>;

impl Connections {
    /// For an `http://` URL; `None` for any other scheme.
    pub fn for_url(url: &reqwest::Url) -> anyhow::Result<Option<Connections>> {
        if url.scheme() != "http" {
            return Ok(None);
        }
        let host = url
            .host_str()
            .ok_or_else(|| anyhow::anyhow!("endpoint {url} has no host"))?;
        // `Host` names the port only when the URL does, as clients send it.
        let host_header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        Ok(Some(Connections {
            authority: format!("{host}:{port}"),
            host: HeaderValue::try_from(host_header)?,
            idle: Mutex::new(Vec::new()),
        }))
    }

    /// Sends `req` (its URI the origin-form path; `Host` is added) and reads the whole answer.
    pub async fn send(&self, mut req: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes), String> {
        req.headers_mut()
            .insert(http::header::HOST, self.host.clone());
        match tokio::time::timeout(CALL_TIMEOUT, self.exchange(req)).await {
            Ok(answer) => answer,
            Err(_) => Err(format!("no answer within {CALL_TIMEOUT:?}")),
        }
    }

    async fn exchange(&self, req: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes), String> {
        let (sender, response) = match self.take_idle() {
            Some(mut reused) => match reused.try_send_request(req).await {
                Ok(response) => (reused, response),
                // The server closed the kept-alive connection before the request went out:
                // nothing was sent, so it is safe to send it again on a new one.
                Err(mut failed) => match failed.take_message() {
                    Some(req) => self.send_on_new(req).await?,
                    None => return Err(failed.into_error().to_string()),
                },
            },
            None => self.send_on_new(req).await?,
        };
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        // Only a connection that answered in full goes back, and only while hyper still has it
        // open (a server may ask to close it).
        if !sender.is_closed() {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(sender);
        }
        Ok((status, body))
    }

    async fn send_on_new(
        &self,
        req: Request<Full<Bytes>>,
    ) -> Result<(Sender, http::Response<hyper::body::Incoming>), String> {
        let mut sender = self.connect().await?;
        let response = sender.send_request(req).await.map_err(|e| e.to_string())?;
        Ok((sender, response))
    }

    fn take_idle(&self) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(sender) = idle.pop() {
            if sender.is_ready() {
                return Some(sender);
            }
        }
        None
    }

    async fn connect(&self) -> Result<Sender, String> {
        let stream = TcpStream::connect(&self.authority)
            .await
            .map_err(|e| format!("connecting to {}: {e}", self.authority))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        // The connection runs as its own task until either side closes it; its error, if any,
        // reaches the caller through `send_request`.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::http::HeaderMap;
    use axum::routing::post;

    use super::*;

    /// A server on a loopback port that echoes the body and the Host header, counts the
    /// connections it accepted, and answers `connection: close` when `close` is set.
    async fn server(close: bool) -> (reqwest::Url, Arc<AtomicUsize>) {
        let app = Router::new().route(
            "/",
            post(move |headers: HeaderMap, body: Bytes| async move {
                let host = headers
                    .get("host")
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let mut answer = http::Response::new(axum::body::Body::from(format!(
                    "{host} {}",
                    String::from_utf8_lossy(&body)
                )));
                if close {
                    answer
                        .headers_mut()
                        .insert("connection", HeaderValue::from_static("close"));
                }
                answer
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                let service = hyper_util::service::TowerToHyperService::new(app.clone());
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        let url = reqwest::Url::parse(&format!("http://{addr}/")).unwrap();
        (url, accepted)
    }

    fn post_body(text: &'static str) -> Request<Full<Bytes>> {
        Request::post("/")
            .body(Full::new(Bytes::from_static(text.as_bytes())))
            .unwrap()
    }

    #[tokio::test]
    async fn calls_reuse_one_kept_alive_connection() {
        let (url, accepted) = server(false).await;
        let connections = Connections::for_url(&url).unwrap().unwrap();
        let host = format!("127.0.0.1:{}", url.port().unwrap());
        for text in ["one", "two", "three"] {
            let (status, body) = connections.send(post_body(text)).await.unwrap();
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, format!("{host} {text}"));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_connection_the_server_closes_is_not_reused() {
        let (url, accepted) = server(true).await;
        let connections = Connections::for_url(&url).unwrap().unwrap();
        for text in ["one", "two"] {
            let (status, body) = connections.send(post_body(text)).await.unwrap();
            assert_eq!(status, StatusCode::OK);
            assert!(body.ends_with(text.as_bytes()));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_an_error_not_a_hang() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = reqwest::Url::parse(&format!("http://{}/", listener.local_addr().unwrap()));
        drop(listener);
        let connections = Connections::for_url(&url.unwrap()).unwrap().unwrap();
        let err = connections.send(post_body("x")).await.unwrap_err();
        assert!(err.contains("connecting to 127.0.0.1:"), "{err}");
    }

    #[test]
    fn only_plain_http_endpoints_are_served_here() {
        let https = reqwest::Url::parse("https://cognito-idp.us-east-1.amazonaws.com/").unwrap();
        assert!(Connections::for_url(&https).unwrap().is_none());
    }
}
