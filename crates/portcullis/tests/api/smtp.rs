//! Email over SMTP (`--smtp-url`, `--smtp-from`): the server is started in-process with a
//! plain-SMTP URL pointing at a small sink run by the test on a loopback `TcpListener`. The
//! sink speaks just enough of RFC 5321 for lettre and records each envelope and message;
//! SMS still goes to the outbox file.
//!
//! SMTP does not depend on the store, so these cases run on SQLite only.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use portcullis::config::Config;
use portcullis::{Overrides, RunningServer};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::support::{
    ACCOUNT, Creds, JSON_11, REGION, Resp, TARGET_PREFIX, attr, read, sigv4_headers,
};

const FROM: &str = "Portcullis <no-reply@example.test>";
const FROM_ADDRESS: &str = "no-reply@example.test";
const PASSWORD: &str = "Corr3ct-Horse!";
/// The whole of one case, server start and stop included.
const CASE_TIMEOUT: Duration = Duration::from_secs(120);
/// One read of the sink from lettre.
const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs one case under a deadline, so a stuck SMTP exchange fails the test instead of hanging.
async fn bounded(case: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(CASE_TIMEOUT, case)
        .await
        .expect("the case did not finish in time");
}

#[tokio::test]
async fn invitation_email_goes_to_the_smtp_server() {
    bounded(invitation_email_goes_to_the_smtp_server_case()).await;
}

#[tokio::test]
async fn sign_up_code_arrives_by_smtp_and_confirms() {
    bounded(sign_up_code_arrives_by_smtp_and_confirms_case()).await;
}

#[tokio::test]
async fn sms_invitation_still_goes_to_the_outbox() {
    bounded(sms_invitation_still_goes_to_the_outbox_case()).await;
}

#[tokio::test]
async fn refused_recipient_is_code_delivery_failure() {
    bounded(refused_recipient_is_code_delivery_failure_case()).await;
}

// ---------------------------------------------------------------------------------------------
// The SMTP sink

/// One accepted message: the envelope and the DATA, dot-unstuffed, without the final dot.
#[derive(Clone, Debug)]
struct Mail {
    from: String,
    to: Vec<String>,
    data: String,
}

impl Mail {
    fn split(&self) -> (&str, &str) {
        self.data
            .split_once("\r\n\r\n")
            .unwrap_or((self.data.as_str(), ""))
    }

    /// A header's value, unfolded (the first of that name).
    fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.split();
        let mut current: Option<(String, String)> = None;
        let mut found: Vec<(String, String)> = vec![];
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = current.as_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                continue;
            }
            if let Some(h) = current.take() {
                found.push(h);
            }
            if let Some((n, v)) = line.split_once(':') {
                current = Some((n.trim().to_owned(), v.trim().to_owned()));
            }
        }
        found.extend(current);
        found
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The body, decoded from its Content-Transfer-Encoding.
    fn body(&self) -> String {
        let (_, raw) = self.split();
        let cte = self
            .header("Content-Transfer-Encoding")
            .unwrap_or_else(|| "7bit".to_owned())
            .to_ascii_lowercase();
        match cte.as_str() {
            "7bit" | "8bit" | "binary" => raw.to_owned(),
            "quoted-printable" => decode_quoted_printable(raw),
            "base64" => {
                let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .expect("base64 body");
                String::from_utf8(bytes).expect("utf-8 body")
            }
            other => panic!(
                "unexpected Content-Transfer-Encoding {other}: {}",
                self.data
            ),
        }
    }
}

fn decode_quoted_printable(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            if bytes[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("qp escape");
            out.push(u8::from_str_radix(hex, 16).expect("qp hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8 body")
}

#[derive(Default)]
struct SinkState {
    /// Answer RCPT with 550 instead of 250.
    refuse_rcpt: AtomicBool,
    connections: AtomicUsize,
    mails: Mutex<Vec<Mail>>,
    /// Every command received, in order, across connections.
    commands: Mutex<Vec<String>>,
}

struct Sink {
    port: u16,
    state: Arc<SinkState>,
    task: JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sink {
    async fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("sink binds");
        let port = listener.local_addr().expect("sink address").port();
        let state = Arc::new(SinkState::default());
        let accepting = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                accepting.connections.fetch_add(1, Ordering::SeqCst);
                let state = accepting.clone();
                tokio::spawn(async move {
                    if let Err(e) = session(stream, &state).await {
                        eprintln!("smtp sink session ended: {e}");
                    }
                });
            }
        });
        Sink { port, state, task }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn mails(&self) -> Vec<Mail> {
        self.state.mails.lock().unwrap().clone()
    }

    fn commands(&self) -> Vec<String> {
        self.state.commands.lock().unwrap().clone()
    }

    fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    fn refuse_recipients(&self, refuse: bool) {
        self.state.refuse_rcpt.store(refuse, Ordering::SeqCst);
    }
}

/// `<addr>` of `MAIL FROM:<addr> ...` or `RCPT TO:<addr>`.
fn path_of(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..]
        .find('>')
        .map_or(command.len(), |i| start + i);
    command[start..end].to_owned()
}

async fn read_line(reader: &mut BufReader<TcpStream>, line: &mut String) -> io::Result<usize> {
    line.clear();
    tokio::time::timeout(IO_TIMEOUT, reader.read_line(line))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "smtp sink read timed out"))?
}

async fn reply(reader: &mut BufReader<TcpStream>, text: &str) -> io::Result<()> {
    let stream = reader.get_mut();
    stream.write_all(text.as_bytes()).await?;
    stream.write_all(b"\r\n").await?;
    stream.flush().await
}

async fn session(stream: TcpStream, state: &SinkState) -> io::Result<()> {
    let mut reader = BufReader::new(stream);
    reply(&mut reader, "220 sink.test ESMTP test sink").await?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = vec![];
    let mut line = String::new();
    loop {
        if read_line(&mut reader, &mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']).to_owned();
        state.commands.lock().unwrap().push(command.clone());
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        match verb.as_str() {
            // No extensions: a single-line 250.
            "EHLO" | "HELO" => reply(&mut reader, "250 sink.test").await?,
            "MAIL" => {
                from = Some(path_of(&command));
                to.clear();
                reply(&mut reader, "250 2.1.0 OK").await?;
            }
            "RCPT" => {
                if state.refuse_rcpt.load(Ordering::SeqCst) {
                    reply(&mut reader, "550 5.1.1 No such user here").await?;
                } else {
                    to.push(path_of(&command));
                    reply(&mut reader, "250 2.1.5 OK").await?;
                }
            }
            "DATA" => {
                let Some(sender) = from.take().filter(|_| !to.is_empty()) else {
                    reply(&mut reader, "503 5.5.1 Bad sequence of commands").await?;
                    continue;
                };
                reply(&mut reader, "354 End data with <CR><LF>.<CR><LF>").await?;
                let mut data = String::new();
                loop {
                    if read_line(&mut reader, &mut line).await? == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "connection closed inside DATA",
                        ));
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    // Dot-unstuffing (RFC 5321 4.5.2).
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(unstuffed);
                    assert!(data.len() < 1 << 20, "runaway DATA");
                }
                // The message ends with the CRLF before the final dot.
                if data.ends_with("\r\n") {
                    data.truncate(data.len() - 2);
                }
                // Recorded before the 250, so the HTTP answer never races the record.
                state.mails.lock().unwrap().push(Mail {
                    from: sender,
                    to: std::mem::take(&mut to),
                    data,
                });
                reply(&mut reader, "250 2.0.0 OK queued").await?;
            }
            "RSET" => {
                from = None;
                to.clear();
                reply(&mut reader, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(&mut reader, "250 2.0.0 OK").await?,
            "QUIT" => {
                reply(&mut reader, "221 2.0.0 Bye").await?;
                return Ok(());
            }
            _ => reply(&mut reader, "502 5.5.2 Command not implemented").await?,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server, configured for SMTP

/// A Portcullis server whose email goes to `sink` (the support harness always starts one
/// without SMTP).
struct SmtpServer {
    server: Option<RunningServer>,
    base_url: String,
    creds: Creds,
    http: reqwest::Client,
    dir: TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.shutdown.cancel();
        }
    }
}

impl SmtpServer {
    async fn start(sink: &Sink) -> SmtpServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            data_dir: dir.path().to_path_buf(),
            database_url: format!("sqlite://{}/p.db", dir.path().display()),
            public_url: "http://127.0.0.1:0".to_owned(),
            region: REGION.to_owned(),
            account_id: ACCOUNT.to_owned(),
            insecure_accept_any_credentials: false,
            smtp_url: Some(sink.url()),
            smtp_from: Some(FROM.to_owned()),
            json_logs: false,
            hash_concurrency: 2,
            allow_public_clients_without_pkce: false,
            sweeper: portcullis::housekeeping::Sweeper::default(),

            limits: Default::default(),
        };
        let server = portcullis::start(
            config,
            Overrides {
                fast_password_hashing: true,
                ..Overrides::default()
            },
        )
        .await
        .expect("the server starts with SMTP configured");
        let text = std::fs::read_to_string(dir.path().join("root-credentials.json"))
            .expect("root-credentials.json");
        let v: Value = serde_json::from_str(&text).expect("root-credentials.json is JSON");
        let creds = Creds {
            access_key_id: v["access_key_id"].as_str().expect("key id").to_owned(),
            secret_access_key: v["secret_access_key"].as_str().expect("secret").to_owned(),
        };
        SmtpServer {
            base_url: format!("http://{}", server.addr),
            server: Some(server),
            creds,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("http client"),
            dir,
        }
    }

    async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("clean stop");
        }
    }

    async fn send(&self, op: &str, body: &Value, signed: bool) -> Resp {
        let url = format!("{}/", self.base_url);
        let payload = body.to_string().into_bytes();
        let mut headers = vec![
            ("content-type".to_owned(), JSON_11.to_owned()),
            ("x-amz-target".to_owned(), format!("{TARGET_PREFIX}{op}")),
        ];
        if signed {
            let extra = sigv4_headers(
                &url,
                &headers,
                &payload,
                &self.creds,
                "cognito-idp",
                std::time::SystemTime::now(),
            );
            headers.extend(extra);
        }
        let mut builder = self.http.post(&url);
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        read(builder.body(payload).send().await.expect("request sent")).await
    }

    /// A signed (admin) call that must succeed.
    async fn ok(&self, op: &str, body: Value) -> Value {
        let resp = self.send(op, &body, true).await;
        assert_eq!(resp.status, 200, "{op} {body}: {}", resp.text);
        resp.body
    }

    /// An unsigned (public) call that must succeed.
    async fn public_ok(&self, op: &str, body: Value) -> Value {
        let resp = self.send(op, &body, false).await;
        assert_eq!(resp.status, 200, "{op} {body}: {}", resp.text);
        resp.body
    }

    async fn new_pool(&self, body: Value) -> String {
        self.ok("CreateUserPool", body).await["UserPool"]["Id"]
            .as_str()
            .expect("pool id")
            .to_owned()
    }

    async fn new_client(&self, pool_id: &str) -> String {
        self.ok(
            "CreateUserPoolClient",
            json!({
                "UserPoolId": pool_id,
                "ClientName": "app",
                "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            }),
        )
        .await["UserPoolClient"]["ClientId"]
            .as_str()
            .expect("client id")
            .to_owned()
    }

    async fn get_user(&self, pool_id: &str, username: &str) -> Resp {
        self.send(
            "AdminGetUser",
            &json!({ "UserPoolId": pool_id, "Username": username }),
            true,
        )
        .await
    }

    fn outbox(&self) -> Vec<Value> {
        match std::fs::read_to_string(self.dir.path().join("outbox.jsonl")) {
            Ok(text) => text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).expect("outbox line is JSON"))
                .collect(),
            Err(_) => vec![],
        }
    }
}

/// The temporary password in a default invitation ("... temporary password is X. ").
fn temporary_password_in(body: &str) -> String {
    let rest = body
        .split_once("temporary password is ")
        .unwrap_or_else(|| panic!("no temporary password in {body:?}"))
        .1;
    rest.trim_end()
        .strip_suffix('.')
        .unwrap_or_else(|| panic!("unexpected invitation {body:?}"))
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Cases

async fn invitation_email_goes_to_the_smtp_server_case() {
    let sink = Sink::start().await;
    let srv = SmtpServer::start(&sink).await;
    let pool_id = srv.new_pool(json!({ "PoolName": "invited" })).await;
    let client_id = srv.new_client(&pool_id).await;
    let out = srv
        .ok(
            "AdminCreateUser",
            json!({
                "UserPoolId": pool_id,
                "Username": "alice",
                "UserAttributes": [
                    { "Name": "email", "Value": "alice@example.com" },
                    { "Name": "email_verified", "Value": "true" },
                ],
                "DesiredDeliveryMediums": ["EMAIL"],
            }),
        )
        .await;
    assert_eq!(out["User"]["Username"], "alice");
    assert_eq!(out["User"]["UserStatus"], "FORCE_CHANGE_PASSWORD");

    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let mail = &mails[0];
    assert_eq!(mail.from, FROM_ADDRESS);
    assert_eq!(mail.to, vec!["alice@example.com".to_owned()]);
    let from_header = mail.header("From").expect("From header");
    assert!(from_header.contains(FROM_ADDRESS), "{from_header}");
    assert!(from_header.contains("Portcullis"), "{from_header}");
    let to_header = mail.header("To").expect("To header");
    assert!(to_header.contains("alice@example.com"), "{to_header}");
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Your temporary password"),
        "{}",
        mail.data
    );
    let message_id = mail.header("Message-ID").expect("Message-ID header");
    assert!(
        message_id.starts_with('<') && message_id.ends_with("@example.test>"),
        "{message_id}"
    );
    let content_type = mail.header("Content-Type").expect("Content-Type header");
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let body = mail.body();
    assert!(body.contains("Your username is alice"), "{body:?}");
    let temporary = temporary_password_in(&body);
    assert!(temporary.chars().count() >= 8, "{temporary:?}");
    assert!(!temporary.contains(char::is_whitespace), "{temporary:?}");
    // The password in the mail is the user's real temporary password: it signs in, into the
    // NEW_PASSWORD_REQUIRED challenge.
    let auth = srv
        .public_ok(
            "InitiateAuth",
            json!({
                "ClientId": client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": { "USERNAME": "alice", "PASSWORD": temporary },
            }),
        )
        .await;
    assert_eq!(auth["ChallengeName"], "NEW_PASSWORD_REQUIRED", "{auth}");
    // A whole SMTP exchange, ended by the client.
    let commands = sink.commands();
    for verb in [
        "EHLO",
        "MAIL FROM:<no-reply@example.test>",
        "RCPT TO:<alice@example.com>",
        "DATA",
        "QUIT",
    ] {
        assert!(
            commands.iter().any(|c| c.starts_with(verb)),
            "{verb} missing in {commands:?}"
        );
    }
    // Nothing email-channel in the outbox file (in fact nothing at all).
    let outbox = srv.outbox();
    assert!(
        !outbox.iter().any(|m| m["channel"] == "EMAIL"),
        "{outbox:?}"
    );
    assert!(outbox.is_empty(), "{outbox:?}");
    srv.stop().await;
}

async fn sign_up_code_arrives_by_smtp_and_confirms_case() {
    let sink = Sink::start().await;
    let srv = SmtpServer::start(&sink).await;
    let pool_id = srv
        .new_pool(json!({ "PoolName": "selfserve", "AutoVerifiedAttributes": ["email"] }))
        .await;
    let client_id = srv.new_client(&pool_id).await;
    let signed_up = srv
        .public_ok(
            "SignUp",
            json!({
                "ClientId": client_id,
                "Username": "dave",
                "Password": PASSWORD,
                "UserAttributes": [{ "Name": "email", "Value": "dave@example.com" }],
            }),
        )
        .await;
    assert_eq!(signed_up["UserConfirmed"], false, "{signed_up}");
    assert_eq!(
        signed_up["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL",
        "{signed_up}"
    );
    assert_eq!(
        signed_up["CodeDeliveryDetails"]["Destination"], "d***@e***",
        "{signed_up}"
    );
    let user = srv.get_user(&pool_id, "dave").await;
    assert_eq!(user.body["UserStatus"], "UNCONFIRMED", "{}", user.text);

    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let mail = &mails[0];
    assert_eq!(mail.from, FROM_ADDRESS);
    assert_eq!(mail.to, vec!["dave@example.com".to_owned()]);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Your verification code"),
        "{}",
        mail.data
    );
    let body = mail.body();
    let code: String = body
        .strip_prefix("Your verification code is ")
        .unwrap_or_else(|| panic!("unexpected body {body:?}"))
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(code.len(), 6, "{body:?}");
    assert!(srv.outbox().is_empty(), "{:?}", srv.outbox());

    // The code from the mail confirms the user (and, auto-verified, the email).
    srv.public_ok(
        "ConfirmSignUp",
        json!({ "ClientId": client_id, "Username": "dave", "ConfirmationCode": code }),
    )
    .await;
    let user = srv.get_user(&pool_id, "dave").await;
    assert_eq!(user.body["UserStatus"], "CONFIRMED", "{}", user.text);
    assert_eq!(
        attr(&user.body["UserAttributes"], "email_verified"),
        Some("true"),
        "{}",
        user.text
    );
    // And the user signs in with the password chosen at sign-up.
    let auth = srv
        .public_ok(
            "InitiateAuth",
            json!({
                "ClientId": client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": { "USERNAME": "dave", "PASSWORD": PASSWORD },
            }),
        )
        .await;
    assert!(
        auth["AuthenticationResult"]["AccessToken"].is_string(),
        "{auth}"
    );
    srv.stop().await;
}

async fn sms_invitation_still_goes_to_the_outbox_case() {
    let sink = Sink::start().await;
    let srv = SmtpServer::start(&sink).await;
    let pool_id = srv.new_pool(json!({ "PoolName": "phones" })).await;
    srv.ok(
        "AdminCreateUser",
        json!({
            "UserPoolId": pool_id,
            "Username": "sam",
            "UserAttributes": [{ "Name": "phone_number", "Value": "+12065550123" }],
            "DesiredDeliveryMediums": ["SMS"],
        }),
    )
    .await;
    let outbox = srv.outbox();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    let m = &outbox[0];
    assert_eq!(m["channel"], "SMS");
    assert_eq!(m["destination"], "+12065550123");
    assert_eq!(m["username"], "sam");
    assert_eq!(m["purpose"], "invitation");
    let code = m["code"].as_str().expect("code");
    let body = m["body"].as_str().expect("body");
    assert!(body.contains(code), "{body}");
    assert!(body.contains("sam"), "{body}");
    // The SMTP server never heard of it.
    assert!(sink.mails().is_empty(), "{:#?}", sink.mails());
    assert_eq!(sink.connections(), 0, "{:?}", sink.commands());
    srv.stop().await;
}

async fn refused_recipient_is_code_delivery_failure_case() {
    let sink = Sink::start().await;
    sink.refuse_recipients(true);
    let srv = SmtpServer::start(&sink).await;
    let pool_id = srv.new_pool(json!({ "PoolName": "bounces" })).await;
    let invite = json!({
        "UserPoolId": pool_id,
        "Username": "bob",
        "UserAttributes": [{ "Name": "email", "Value": "bob@example.com" }],
        "DesiredDeliveryMediums": ["EMAIL"],
    });
    let resp = srv.send("AdminCreateUser", &invite, true).await;
    resp.assert_error("CodeDeliveryFailureException", 400);
    assert_eq!(
        resp.header("x-amzn-errortype"),
        Some("CodeDeliveryFailureException:")
    );
    assert!(!resp.message().is_empty(), "{}", resp.text);
    // The SMTP server's reply is not leaked to the caller.
    assert!(!resp.text.contains("No such user"), "{}", resp.text);
    // The exchange stopped at the refused RCPT: no DATA, no message, and no fallback to
    // the outbox.
    let commands = sink.commands();
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("RCPT TO:<bob@example.com>")),
        "{commands:?}"
    );
    assert!(!commands.iter().any(|c| c == "DATA"), "{commands:?}");
    assert!(sink.mails().is_empty(), "{:#?}", sink.mails());
    assert!(srv.outbox().is_empty(), "{:?}", srv.outbox());

    // As in Cognito (aws/aws-sdk#438: "expected behavior"), the user exists anyway, in
    // FORCE_CHANGE_PASSWORD, with the temporary password nobody received.
    let user = srv.get_user(&pool_id, "bob").await;
    assert_eq!(user.status, 200, "{}", user.text);
    assert_eq!(user.body["UserStatus"], "FORCE_CHANGE_PASSWORD");
    assert_eq!(
        attr(&user.body["UserAttributes"], "email"),
        Some("bob@example.com")
    );
    // Creating it again is a duplicate; the way out is MessageAction RESEND once mail flows.
    let again = srv.send("AdminCreateUser", &invite, true).await;
    again.assert_error("UsernameExistsException", 400);
    sink.refuse_recipients(false);
    let mut resend = invite.clone();
    resend["MessageAction"] = json!("RESEND");
    srv.ok("AdminCreateUser", resend).await;
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(mails[0].to, vec!["bob@example.com".to_owned()]);
    assert!(
        mails[0].body().contains("Your username is bob"),
        "{}",
        mails[0].data
    );
    srv.stop().await;
}
