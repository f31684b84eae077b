//! The edge under hostile clients: header and idle timeouts, the connection cap, rate limits,
//! the shutdown deadline, private files, and hostile `Host` headers.
//!
//! Timeouts are set short through the harness's limits; nothing here asserts how fast
//! anything is: `PATIENCE` only guards against a hang, and a test fails when the server keeps
//! a connection the limit should have ended.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use portcullis::config::ServerLimits;
use portcullis_http::RateLimitSettings;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{
    Backend, Flags, JSON_11, Req, Sign, TARGET_PREFIX, TestServer, start, start_flags,
};

backend_tests!(
    a_trickled_head_is_cut_off,
    a_silent_connection_is_closed,
    an_oversized_head_is_refused,
    connections_beyond_the_cap_are_refused_while_others_are_served,
    shutdown_ends_stuck_connections_and_closes_the_store,
    sign_up_beyond_its_rate_is_throttled_and_changes_nothing,
    an_app_clients_rate_holds_across_sources,
    hosted_pages_and_the_token_endpoint_are_throttled,
    default_rate_limits_do_not_throttle_a_busy_client,
    files_in_the_data_dir_are_private,
    an_unclosed_bracket_in_host_is_no_panic,
    an_unsigned_operation_header_is_refused,
    a_signature_for_another_region_is_refused,
);

/// A guard against hangs only.
const PATIENCE: Duration = Duration::from_secs(30);
const PASSWORD: &str = "Passw0rd!";

async fn start_limited(backend: &Backend, edit: impl FnOnce(&mut ServerLimits)) -> TestServer {
    let mut limits = ServerLimits::default();
    edit(&mut limits);
    start_flags(
        backend,
        Flags {
            limits: Some(limits),
            ..Flags::default()
        },
    )
    .await
}

/// Reads until the server closes the connection; the bytes read.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = vec![];
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut out))
        .await
        .expect("the server closed the connection");
    out
}

/// `GET /health` on a raw connection; the status line of the answer.
async fn health_status(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(PATIENCE, stream.read(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    text.lines().next().unwrap_or_default().to_owned()
}

async fn a_trickled_head_is_cut_off(backend: Backend) {
    let srv = start_limited(&backend, |l| {
        l.connections.header_read_timeout = Duration::from_millis(300);
    })
    .await;
    let mut stream = TcpStream::connect(srv.addr).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\n")
        .await
        .unwrap();
    // One more header line every 50 ms, never the blank line that ends the head: the server
    // must hang up long before we give up (after PATIENCE).
    let started = tokio::time::Instant::now();
    let mut cut_off = false;
    let mut n = 0;
    while started.elapsed() < PATIENCE {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if stream
            .write_all(format!("x-slow-{n}: a\r\n").as_bytes())
            .await
            .is_err()
        {
            cut_off = true;
            break;
        }
        n += 1;
        let mut probe = [0u8; 1024];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(1), stream.read(&mut probe)).await
        {
            cut_off = true;
            break;
        }
    }
    assert!(
        cut_off,
        "the server kept reading a head trickled for {PATIENCE:?}"
    );
    // Meanwhile the server still serves others.
    let mut other = TcpStream::connect(srv.addr).await.unwrap();
    assert_eq!(health_status(&mut other).await, "HTTP/1.1 200 OK");
}

async fn a_silent_connection_is_closed(backend: Backend) {
    let srv = start_limited(&backend, |l| {
        l.connections.idle_timeout = Duration::from_millis(300);
    })
    .await;
    // Never sends a byte: hyper's protocol detection alone would wait for ever.
    let mut silent = TcpStream::connect(srv.addr).await.unwrap();
    assert!(read_to_close(&mut silent).await.is_empty());
    // A kept-alive connection that goes quiet after a request is closed too.
    let mut idle = TcpStream::connect(srv.addr).await.unwrap();
    assert_eq!(health_status(&mut idle).await, "HTTP/1.1 200 OK");
    assert!(read_to_close(&mut idle).await.is_empty());
    // So is an HTTP/2 connection that opens (preface and SETTINGS) and then says nothing.
    let mut h2 = TcpStream::connect(srv.addr).await.unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let answer = read_to_close(&mut h2).await;
    // The server's own SETTINGS frame came first: it spoke HTTP/2, then hung up.
    assert_eq!(answer.get(3), Some(&0x04), "{answer:?}");
}

async fn an_oversized_head_is_refused(backend: Backend) {
    let srv = start(&backend).await;
    // 100 KB in 20 headers: under hyper's own 400 KiB buffer and 100-header count, over
    // the server's 64 KiB.
    let mut stream = TcpStream::connect(srv.addr).await.unwrap();
    let filler = "a".repeat(5000);
    let mut head = "GET /health HTTP/1.1\r\nhost: localhost\r\n".to_owned();
    for n in 0..20 {
        head.push_str(&format!("x-big-{n}: {filler}\r\n"));
    }
    head.push_str("connection: close\r\n\r\n");
    // The server may stop reading (and close) before all of it is written.
    let _ = stream.write_all(head.as_bytes()).await;
    let answer = String::from_utf8_lossy(&read_to_close(&mut stream).await).to_string();
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{}",
        answer.lines().next().unwrap_or_default()
    );
    // A head of ordinary size is served.
    let mut ok = TcpStream::connect(srv.addr).await.unwrap();
    assert_eq!(health_status(&mut ok).await, "HTTP/1.1 200 OK");
}

async fn connections_beyond_the_cap_are_refused_while_others_are_served(backend: Backend) {
    let srv = start_limited(&backend, |l| l.connections.max_connections = 2).await;
    let mut first = TcpStream::connect(srv.addr).await.unwrap();
    assert_eq!(health_status(&mut first).await, "HTTP/1.1 200 OK");
    let mut second = TcpStream::connect(srv.addr).await.unwrap();
    assert_eq!(health_status(&mut second).await, "HTTP/1.1 200 OK");
    // Both are kept alive and hold their places: a third is refused and closed at once.
    let mut third = TcpStream::connect(srv.addr).await.unwrap();
    let refused = String::from_utf8_lossy(&read_to_close(&mut third).await).to_string();
    assert!(
        refused.starts_with("HTTP/1.1 503 Service Unavailable"),
        "{refused}"
    );
    // Those already in are still served.
    assert_eq!(health_status(&mut first).await, "HTTP/1.1 200 OK");
    // Once one leaves, a newcomer gets its place.
    drop(second);
    let started = tokio::time::Instant::now();
    loop {
        let mut next = TcpStream::connect(srv.addr).await.unwrap();
        let mut head = [0u8; 12];
        next.write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n")
            .await
            .unwrap();
        let n = tokio::time::timeout(PATIENCE, next.read(&mut head))
            .await
            .expect("an answer")
            .unwrap_or(0);
        if &head[..n] == b"HTTP/1.1 200" {
            break;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "the freed place was never reused"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn shutdown_ends_stuck_connections_and_closes_the_store(backend: Backend) {
    let mut srv = start_limited(&backend, |l| {
        // The stuck request would otherwise hold shutdown for ten minutes.
        l.request_timeout = Duration::from_secs(600);
        l.connections.shutdown_grace = Duration::from_millis(200);
    })
    .await;
    srv.new_pool("before-shutdown").await;
    // A request whose body never comes: it is in flight until the server gives up on it.
    let mut stuck = TcpStream::connect(srv.addr).await.unwrap();
    let req = Req::op("ListUserPools", &json!({ "MaxResults": 10 }));
    let mut head = "POST / HTTP/1.1\r\nhost: localhost\r\ncontent-length: 100\r\n".to_owned();
    for (k, v) in srv.prepared_headers(&req) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n{");
    stuck.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Shorter than the 30-second request deadline the server had before it had a grace
    // period: waiting that out is exactly what must not happen.
    let stopped = tokio::time::timeout(Duration::from_secs(20), srv.stop())
        .await
        .expect("stop() returned despite a stuck request");
    assert!(stopped.is_ok(), "{stopped:?}");
    // The stuck connection was dropped, not left open.
    read_to_close(&mut stuck).await;
    if let Backend::Sqlite = backend {
        // Closing the store checkpoints SQLite's WAL and removes it.
        let wal = srv.dir.path().join("p.db-wal");
        assert!(
            !wal.exists(),
            "the store was not closed: its WAL is still there"
        );
    }
}

async fn new_client(srv: &TestServer, pool_id: &str) -> String {
    srv.ok(
        "CreateUserPoolClient",
        json!({
            "UserPoolId": pool_id,
            "ClientName": "app",
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        }),
    )
    .await["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn sign_up(client_id: &str, username: &str) -> Req {
    Req::op(
        "SignUp",
        &json!({ "ClientId": client_id, "Username": username, "Password": PASSWORD }),
    )
    .unsigned()
}

async fn sign_up_beyond_its_rate_is_throttled_and_changes_nothing(backend: Backend) {
    let srv = start_limited(&backend, |l| {
        l.rate_limits = RateLimitSettings::parse("UserCreation=3/min").unwrap();
    })
    .await;
    let pool_id = srv.new_pool("throttled").await;
    let client_id = new_client(&srv, &pool_id).await;
    for n in 0..3 {
        srv.send(sign_up(&client_id, &format!("user{n}")))
            .await
            .assert_ok();
    }
    let throttled = srv.send(sign_up(&client_id, "one-too-many")).await;
    throttled.assert_error("TooManyRequestsException", 400);
    assert_eq!(throttled.message(), "Rate exceeded");
    let names: Vec<String> = srv
        .all_users(&pool_id)
        .await
        .iter()
        .map(|u| u["Username"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(!names.contains(&"one-too-many".to_owned()));
    // Other categories and admin operations are not affected.
    srv.send(
        Req::op(
            "InitiateAuth",
            &json!({
                "ClientId": client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": { "USERNAME": "user0", "PASSWORD": "wrong" },
            }),
        )
        .unsigned(),
    )
    .await
    // Answered (not throttled): an unconfirmed user is refused before the password, as Cognito.
    .assert_error("UserNotConfirmedException", 400);
    srv.ok("DescribeUserPool", json!({ "UserPoolId": pool_id }))
        .await;
}

/// Sends `req` from the loopback address `from` (any 127/8 address reaches the server).
async fn send_from(srv: &TestServer, from: [u8; 4], req: &Req) -> (u16, Value) {
    let http = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(from))
        .build()
        .unwrap();
    let mut builder = http.post(srv.url("/"));
    for (k, v) in srv.prepared_headers(req) {
        builder = builder.header(k, v);
    }
    let res = builder.body(req.body.clone()).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn an_app_clients_rate_holds_across_sources(backend: Backend) {
    let srv = start_limited(&backend, |l| {
        l.client_rate_limits = RateLimitSettings::parse("UserCreation=3/min").unwrap();
    })
    .await;
    let pool_id = srv.new_pool("per-client").await;
    let client_id = new_client(&srv, &pool_id).await;
    let other_client = new_client(&srv, &pool_id).await;
    // Three sources, one app client: its bucket runs out whoever calls.
    for (n, from) in [[127, 0, 0, 1], [127, 0, 0, 2], [127, 0, 0, 3]]
        .iter()
        .enumerate()
    {
        let (status, body) = send_from(&srv, *from, &sign_up(&client_id, &format!("u{n}"))).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = send_from(&srv, [127, 0, 0, 4], &sign_up(&client_id, "late")).await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("TooManyRequestsException"))
    );
    // Another app client has its own bucket.
    let (status, body) = send_from(&srv, [127, 0, 0, 4], &sign_up(&other_client, "late")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(srv.all_users(&pool_id).await.len(), 4);
}

async fn hosted_pages_and_the_token_endpoint_are_throttled(backend: Backend) {
    let srv = start_limited(&backend, |l| {
        l.rate_limits = RateLimitSettings::parse("UserCreation=2/min,UserToken=2/min").unwrap();
    })
    .await;
    for _ in 0..2 {
        let res = srv.http.get(srv.url("/signup")).send().await.unwrap();
        assert_ne!(res.status().as_u16(), 429);
    }
    let res = srv.http.get(srv.url("/signup")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let page = res.text().await.unwrap();
    assert!(page.contains("Too many requests"), "{page}");
    // Another category is still open.
    let res = srv.http.get(srv.url("/login")).send().await.unwrap();
    assert_ne!(res.status().as_u16(), 429);

    let token = || {
        srv.http
            .post(srv.url("/oauth2/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&client_id=nobody")
            .send()
    };
    for _ in 0..2 {
        assert_ne!(token().await.unwrap().status().as_u16(), 429);
    }
    let res = token().await.unwrap();
    assert_eq!(res.status().as_u16(), 429);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
}

async fn default_rate_limits_do_not_throttle_a_busy_client(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("busy").await;
    let client_id = new_client(&srv, &pool_id).await;
    // Far more than Cognito's per-account quotas allow in a second, from one address.
    for n in 0..300 {
        let res = srv
            .send(
                Req::op(
                    "InitiateAuth",
                    &json!({
                        "ClientId": client_id,
                        "AuthFlow": "USER_PASSWORD_AUTH",
                        "AuthParameters": { "USERNAME": format!("nobody{n}"), "PASSWORD": "x" },
                    }),
                )
                .unsigned(),
            )
            .await;
        assert_ne!(res.error_type(), "TooManyRequestsException", "call {n}");
    }
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

async fn files_in_the_data_dir_are_private(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv
        .create_pool(json!({ "PoolName": "files", "AutoVerifiedAttributes": ["email"] }))
        .await["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client_id = new_client(&srv, &pool_id).await;
    srv.send(
        Req::op(
            "SignUp",
            &json!({
                "ClientId": client_id,
                "Username": "carol",
                "Password": PASSWORD,
                "UserAttributes": [{ "Name": "email", "Value": "carol@example.com" }],
            }),
        )
        .unsigned(),
    )
    .await
    .assert_ok();
    let dir = srv.dir.path();
    assert_eq!(mode(dir), 0o700, "data dir");
    let mut private = vec!["master.key", "root-credentials.json", "outbox.jsonl"];
    if let Backend::Sqlite = backend {
        private.extend(["p.db", "p.db-wal", "p.db-shm"]);
    }
    for name in private {
        assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
    }
}

async fn an_unclosed_bracket_in_host_is_no_panic(backend: Backend) {
    let srv = start(&backend).await;
    for host in ["[", "[x", "[::1", "[::1:80"] {
        let mut stream = TcpStream::connect(srv.addr).await.unwrap();
        stream
            .write_all(
                format!(
                    "GET /oauth2/authorize HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        let answer = String::from_utf8_lossy(&read_to_close(&mut stream).await).to_string();
        let status = answer.lines().next().unwrap_or_default().to_owned();
        // A panic drops the connection without an answer.
        assert!(status.starts_with("HTTP/1.1 "), "{host}: {answer:?}");
        assert!(!status.starts_with("HTTP/1.1 5"), "{host}: {status}");
    }
}

/// Compose files write `VAR=` for settings they leave out: the server must start as if they
/// were unset, not generate secrets and then refuse its empty database URL.
#[tokio::test]
async fn empty_environment_variables_mean_unset() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for name in [
        "PORTCULLIS_CONFIG",
        "PORTCULLIS_DATA_DIR",
        "PORTCULLIS_DATABASE_URL",
        "PORTCULLIS_PUBLIC_URL",
        "PORTCULLIS_REGION",
        "PORTCULLIS_ACCOUNT_ID",
        "PORTCULLIS_SMTP_URL",
        "PORTCULLIS_SMTP_FROM",
        "PORTCULLIS_LOG_FORMAT",
        "PORTCULLIS_HASH_CONCURRENCY",
        "PORTCULLIS_RATE_LIMITS",
        "PORTCULLIS_MAX_CONNECTIONS",
        "PORTCULLIS_MASTER_KEY",
        "PORTCULLIS_ROOT_ACCESS_KEY_ID",
        "PORTCULLIS_ROOT_SECRET_ACCESS_KEY",
    ] {
        cmd.env(name, "");
    }
    cmd.env("PORTCULLIS_LOG", "info");
    let mut child = cmd.spawn().expect("the server binary starts");
    let stdout = child.stdout.take().unwrap();
    let (lines, found) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    let mut addr = None;
    let mut seen = vec![];
    while let Ok(line) = found.recv_timeout(PATIENCE) {
        if line.contains("portcullis is serving") {
            addr = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("listen="))
                .map(str::to_owned);
            break;
        }
        seen.push(line);
    }
    let health = match &addr {
        Some(addr) => reqwest::get(format!("http://{addr}/health"))
            .await
            .map(|r| r.status().as_u16())
            .ok(),
        None => None,
    };
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        addr.is_some(),
        "the server did not start: {seen:?} {stderr}"
    );
    assert_eq!(health, Some(200));
    let data = dir.path().join("portcullis-data");
    assert!(data.join("portcullis.db").exists(), "the default database");
    assert!(data.join("root-credentials.json").exists());
    // The generated secret went to the file only, not to the log stream.
    let creds: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("root-credentials.json")).unwrap())
            .unwrap();
    let secret = creds["secret_access_key"].as_str().unwrap();
    assert!(seen.iter().all(|l| !l.contains(secret)), "{seen:?}");
    assert!(!stderr.contains(secret), "stderr is not a terminal here");
}

/// A body signed as one operation must not run as another: `x-amz-target` is signed.
async fn an_unsigned_operation_header_is_refused(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("replay").await;
    srv.create_user(&pool_id, "victim", &[]).await;
    let body = json!({ "UserPoolId": pool_id, "Username": "victim" });
    // Signed over content-type, host and the body only; the target is added afterwards.
    let replay = Req::op("AdminGetUser", &body)
        .target(None)
        .after_signing("x-amz-target", &format!("{TARGET_PREFIX}AdminDeleteUser"));
    let res = srv.send(replay).await;
    res.assert_error("InvalidSignatureException", 400);
    assert_eq!(
        res.message(),
        "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
    );
    srv.get_user(&pool_id, "victim").await;
}

/// Root credentials shared by two deployments in different regions do not carry over.
async fn a_signature_for_another_region_is_refused(backend: Backend) {
    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;

    let srv = start(&backend).await;
    let creds = srv.creds.clone().unwrap();
    let body = json!({ "PoolName": "elsewhere" }).to_string();
    let target = format!("{TARGET_PREFIX}CreateUserPool");
    let headers = [("content-type", JSON_11), ("x-amz-target", target.as_str())];
    let identity = Credentials::new(
        creds.access_key_id,
        creds.secret_access_key,
        None,
        None,
        "edge-tests",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-west-1")
        .name("cognito-idp")
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let url = srv.url("/");
    let signable = SignableRequest::new(
        "POST",
        url.as_str(),
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = Req::op("CreateUserPool", &json!({ "PoolName": "elsewhere" })).sign(Sign::None);
    for (k, v) in instructions.headers() {
        req = req.header(k, v);
    }
    let res = srv.send(req).await;
    res.assert_error("InvalidSignatureException", 400);
    assert_eq!(
        res.message(),
        "Credential should be scoped to a valid region, not 'eu-west-1'."
    );
    assert!(srv.pool_ids().await.is_empty());
}
