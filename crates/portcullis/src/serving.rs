//! Accepting connections and speaking HTTP on them, with bounds a hostile client cannot stretch.
//!
//! axum's own `serve` sets no timer on hyper, so hyper's header-read timeout never runs, and it
//! bounds neither the number of connections nor how long one may sit silent: trickled headers
//! or idle sockets could hold tasks and descriptors until the process ran out. Here:
//! - at most `max_connections` are served at once; a connection beyond them is answered
//!   `503 Service Unavailable` at once and closed (refused, not queued: a queue would hold its
//!   descriptor anyway, and AWS SDKs retry a 503 with back-off);
//! - HTTP/1 request heads must arrive whole within `header_read_timeout`; hyper starts that
//!   clock whenever it waits for a head, so it also ends a keep-alive connection left idle
//!   between requests;
//! - a connection that moves no byte either way for `idle_timeout` is closed, whatever the
//!   protocol: this covers a client that never sends its first byte (hyper's protocol
//!   detection waits for it without a clock) and idle HTTP/2 connections. It is longer than
//!   the request deadline, so a request still running never looks idle;
//! - heads are bounded in count and bytes (HTTP/1), header lists and concurrent streams
//!   (HTTP/2); bodies are bounded by the routes; each request by its deadline
//!   (`portcullis_http::request_log`);
//! - shutdown stops accepting, lets connections finish for `shutdown_grace`, then drops them.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use portcullis_http::Edge;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::Service;

/// Bounds on connections; see the module's text for what each one stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_headers: usize,
    /// Largest HTTP/1 request head (hyper's read buffer) and HTTP/2 header list.
    pub max_header_bytes: usize,
    pub max_streams_per_connection: u32,
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            // Below the usual 1,024-descriptor soft limit, leaving room for the database,
            // log and key files.
            max_connections: 900,
            header_read_timeout: Duration::from_secs(10),
            // Longer than the 30-second request deadline.
            idle_timeout: Duration::from_secs(60),
            max_headers: 100,
            max_header_bytes: 64 * 1024,
            max_streams_per_connection: 100,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// What a connection beyond the cap is told before it is closed.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 39\r\nretry-after: 1\r\nconnection: close\r\n\r\nThe server is at its connection limit.\n";

fn builder(limits: &ConnectionLimits) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(limits.max_headers)
        // hyper refuses less than 8 KiB.
        .max_buf_size(limits.max_header_bytes.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_streams_per_connection)
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        // No keep-alive pings: they would move bytes on an idle connection and keep it from
        // ever looking idle. The idle timeout ends dead and idle peers alike.
        .keep_alive_interval(None);
    builder
}

/// Serves `app` on `listener` until `shutdown` is cancelled, then drains as described above.
pub async fn serve(
    listener: TcpListener,
    app: Edge,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let builder = Arc::new(builder(&limits));
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: the listener
                    // itself is fine. Pause so a full descriptor table is not spun on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            connections.spawn(refuse(stream));
            continue;
        };
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched {
            inner: stream,
            activity: activity.clone(),
        });
        let service = hyper_service(app.clone(), peer);
        let connection = builder
            .serve_connection_with_upgrades(io, service)
            .into_owned();
        let connection = graceful.watch(connection);
        let idle = limits.idle_timeout;
        connections.spawn(async move {
            let _slot = slot;
            tokio::select! {
                _ = connection => {}
                () = activity.silent_for(idle) => {}
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            connections = connections.len(),
            "connections still open after the shutdown grace period are closed"
        );
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Turns hyper's request into axum's, with the caller's address for the rate limits.
fn hyper_service(
    app: Edge,
    peer: SocketAddr,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Future<Output = Result<axum::response::Response, Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(peer));
        app.clone().call(req)
    })
}

async fn refuse(mut stream: TcpStream) {
    // Best effort, and never long: the point is to let go of the descriptor.
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(REFUSAL).await?;
        stream.shutdown().await
    })
    .await;
}

/// When a connection last moved a byte, in milliseconds since it was accepted.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Completes once no byte has moved for `idle`.
    async fn silent_for(&self, idle: Duration) {
        loop {
            let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let due = self.start + last + idle;
            if Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due).await;
        }
    }
}

/// A socket that records when bytes last moved through it.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
