//! OAuth 2.0 / OpenID Connect: resource servers, user pool domains, the hosted sign-in with
//! authorization codes and PKCE, and the token, revocation, userInfo and logout endpoints,
//! driven the way a browser and a relying party drive them (redirects not followed, cookies
//! carried by hand).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::support::{Backend, Flags, Resp, TestServer, read, start, start_flags};

// Sign-out, refresh-token rotation and password history, with these helpers.
#[path = "sessions.rs"]
mod sessions;

backend_tests!(
    resource_server_lifecycle,
    client_scopes_must_exist,
    domain_lifecycle,
    client_credentials_grant,
    token_endpoint_errors,
    code_flow_with_pkce,
    code_reuse_revokes_its_tokens,
    pkce_and_binding_errors,
    public_clients_need_pkce,
    authorize_errors_never_redirect_to_untrusted_uris,
    authorize_errors_go_back_to_the_client,
    login_form_is_protected,
    wrong_password_and_lockout,
    new_password_step,
    revoke_endpoint,
    userinfo_errors,
    session_and_logout,
    implicit_flow,
    domain_host_selects_the_pool,
    discovery_lists_the_endpoints,
    ui_customization,
    sign_up_and_confirm_pages,
    forgot_password_pages,
);

// ---------------------------------------------------------------------------------------------
// Helpers

const CB: &str = "https://app.example.com/cb";
const BYE: &str = "https://app.example.com/bye";
const PASSWORD: &str = "Correct-Horse-9";
// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub(crate) fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn dec(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn params_of(s: &str) -> BTreeMap<String, String> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (dec(k), dec(v))
        })
        .collect()
}

/// The parameters of a redirect's query (or, with `fragment`, its fragment).
fn redirect_params(location: &str, fragment: bool) -> BTreeMap<String, String> {
    let part = if fragment {
        location.split_once('#').map(|(_, f)| f).unwrap_or_default()
    } else {
        let no_frag = location.split('#').next().unwrap_or_default();
        no_frag.split_once('?').map(|(_, q)| q).unwrap_or_default()
    };
    params_of(part)
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// A browser without redirects: cookies are kept here by hand.
struct Browser<'a> {
    srv: &'a TestServer,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
    host: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(srv: &'a TestServer) -> Self {
        Browser {
            srv,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            host: None,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, resp: &Resp) {
        for v in resp.headers.get_all("set-cookie") {
            let text = v.to_str().unwrap();
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn full(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") {
            path_or_url.to_owned()
        } else {
            self.srv.url(path_or_url)
        }
    }

    async fn get(&mut self, path: &str) -> Resp {
        let mut req = self.http.get(self.full(path));
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        if let Some(h) = &self.host {
            req = req.header("host", h);
        }
        let resp = read(req.send().await.unwrap()).await;
        self.keep_cookies(&resp);
        resp
    }

    async fn post(&mut self, path: &str, body: String) -> Resp {
        let mut req = self
            .http
            .post(self.full(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if !self.cookies.is_empty() {
            req = req.header("cookie", self.cookie_header());
        }
        if let Some(h) = &self.host {
            req = req.header("host", h);
        }
        let resp = read(req.send().await.unwrap()).await;
        self.keep_cookies(&resp);
        resp
    }

    /// `/oauth2/authorize` -> `/login` -> the form -> the redirect back to the client.
    async fn sign_in(&mut self, authorize_query: &str, username: &str, password: &str) -> Resp {
        let r = self
            .get(&format!("/oauth2/authorize?{authorize_query}"))
            .await;
        assert_eq!(r.status, 302, "{}", r.text);
        let login = location(&r);
        assert!(login.starts_with("/login?"), "{login}");
        let page = self.get(&login).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let csrf = hidden(&page.text, "_csrf");
        self.post(
            &login,
            query(&[
                ("_csrf", &csrf),
                ("username", username),
                ("password", password),
            ]),
        )
        .await
    }
}

fn location(r: &Resp) -> String {
    r.header("location").unwrap_or_default().to_owned()
}

/// The value of a hidden form field, HTML entities undone.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    unescape(&html[start..end])
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("&#") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').unwrap() + i;
        let n: u32 = rest[i + 2..end].parse().unwrap();
        out.push(char::from_u32(n).unwrap());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out.replace("&amp;", "&").replace("&quot;", "\"")
}

struct Fixture {
    pool_id: String,
    /// Public client: code flow, PKCE, openid/email/phone/profile.
    client_id: String,
    username: String,
}

async fn create_client(srv: &TestServer, pool_id: &str, body: Value) -> Value {
    let mut body = body;
    body["UserPoolId"] = json!(pool_id);
    srv.ok("CreateUserPoolClient", body).await["UserPoolClient"].clone()
}

fn web_client() -> Value {
    json!({
        "ClientName": "web",
        "CallbackURLs": [CB, "myapp://callback"],
        "LogoutURLs": [BYE],
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": ["openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"],
        "AllowedOAuthFlowsUserPoolClient": true,
        "SupportedIdentityProviders": ["COGNITO"],
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    })
}

async fn user_with_password(srv: &TestServer, pool_id: &str, username: &str) {
    srv.create_user(
        pool_id,
        username,
        &[
            ("email", &format!("{username}@example.com")),
            ("email_verified", "true"),
            ("phone_number", "+15555550100"),
            ("name", "Alice Example"),
        ],
    )
    .await;
    srv.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool_id, "Username": username, "Password": PASSWORD, "Permanent": true}),
    )
    .await;
}

async fn fixture(srv: &TestServer) -> Fixture {
    let pool_id = srv.new_pool("oauth").await;
    let client = create_client(srv, &pool_id, web_client()).await;
    user_with_password(srv, &pool_id, "alice").await;
    Fixture {
        pool_id,
        client_id: client["ClientId"].as_str().unwrap().to_owned(),
        username: "alice".to_owned(),
    }
}

fn code_query(client_id: &str, scope: &str) -> String {
    query(&[
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CB),
        ("state", "st&te=1"),
        ("scope", scope),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ])
}

async fn post_token(srv: &TestServer, pairs: &[(&str, &str)], basic: Option<(&str, &str)>) -> Resp {
    post_form(srv, "/oauth2/token", pairs, basic).await
}

async fn post_form(
    srv: &TestServer,
    path: &str,
    pairs: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> Resp {
    let mut req = srv
        .http
        .post(srv.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query(pairs));
    if let Some((id, secret)) = basic {
        let b = STANDARD.encode(format!("{}:{}", enc(id), enc(secret)));
        req = req.header("authorization", format!("Basic {b}"));
    }
    read(req.send().await.unwrap()).await
}

#[track_caller]
fn assert_oauth_error(r: &Resp, status: u16, error: &str) {
    assert_eq!(
        (r.status, r.body["error"].as_str().unwrap_or_default()),
        (status, error),
        "{}",
        r.text
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

/// Signs alice in through the hosted UI and redeems the code: (token response, code).
async fn tokens_for(srv: &TestServer, f: &Fixture, scope: &str) -> (Value, String) {
    let mut b = Browser::new(srv);
    let r = b
        .sign_in(&code_query(&f.client_id, scope), &f.username, PASSWORD)
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    let back = redirect_params(&location(&r), false);
    let code = back["code"].clone();
    let t = post_token(
        srv,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &f.client_id),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        None,
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.text);
    (t.body, code)
}

// ---------------------------------------------------------------------------------------------
// Resource servers

async fn resource_server_lifecycle(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("rs").await;
    let created = srv
        .ok(
            "CreateResourceServer",
            json!({
                "UserPoolId": pool_id, "Identifier": "https://api.example.com", "Name": "api",
                "Scopes": [{"ScopeName": "read", "ScopeDescription": "Read"}],
            }),
        )
        .await;
    assert_eq!(
        created["ResourceServer"],
        json!({
            "UserPoolId": pool_id, "Identifier": "https://api.example.com", "Name": "api",
            "Scopes": [{"ScopeName": "read", "ScopeDescription": "Read"}],
        })
    );
    let dup = srv
        .err(
            "CreateResourceServer",
            json!({"UserPoolId": pool_id, "Identifier": "https://api.example.com", "Name": "again"}),
            "InvalidParameterException",
        )
        .await;
    assert!(dup.message().contains("already exists"), "{}", dup.text);
    srv.err(
        "CreateResourceServer",
        json!({
            "UserPoolId": pool_id, "Identifier": "dups", "Name": "d",
            "Scopes": [{"ScopeName": "a", "ScopeDescription": "A"}, {"ScopeName": "a", "ScopeDescription": "B"}],
        }),
        "InvalidParameterException",
    )
    .await;
    srv.err(
        "CreateResourceServer",
        json!({"UserPoolId": "us-east-1_missing1", "Identifier": "x", "Name": "x"}),
        "ResourceNotFoundException",
    )
    .await;
    let updated = srv
        .ok(
            "UpdateResourceServer",
            json!({
                "UserPoolId": pool_id, "Identifier": "https://api.example.com", "Name": "api2",
                "Scopes": [{"ScopeName": "write", "ScopeDescription": "Write"}],
            }),
        )
        .await;
    assert_eq!(updated["ResourceServer"]["Name"], "api2");
    let described = srv
        .ok(
            "DescribeResourceServer",
            json!({"UserPoolId": pool_id, "Identifier": "https://api.example.com"}),
        )
        .await;
    assert_eq!(
        described["ResourceServer"]["Scopes"],
        json!([{"ScopeName": "write", "ScopeDescription": "Write"}])
    );
    for i in 0..4 {
        srv.ok(
            "CreateResourceServer",
            json!({"UserPoolId": pool_id, "Identifier": format!("svc{i}"), "Name": "s"}),
        )
        .await;
    }
    // Pagination walks every server once, in identifier order.
    let mut seen = vec![];
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"UserPoolId": pool_id, "MaxResults": 2});
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let page = srv.ok("ListResourceServers", body).await;
        for rs in page["ResourceServers"].as_array().unwrap() {
            seen.push(rs["Identifier"].as_str().unwrap().to_owned());
        }
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        vec!["https://api.example.com", "svc0", "svc1", "svc2", "svc3"]
    );
    srv.ok(
        "DeleteResourceServer",
        json!({"UserPoolId": pool_id, "Identifier": "svc0"}),
    )
    .await;
    srv.err(
        "DescribeResourceServer",
        json!({"UserPoolId": pool_id, "Identifier": "svc0"}),
        "ResourceNotFoundException",
    )
    .await;
    srv.err(
        "DeleteResourceServer",
        json!({"UserPoolId": pool_id, "Identifier": "svc0"}),
        "ResourceNotFoundException",
    )
    .await;
    // Deleting the pool takes its resource servers with it.
    srv.ok("DeleteUserPool", json!({"UserPoolId": pool_id}))
        .await;
    srv.err(
        "ListResourceServers",
        json!({"UserPoolId": pool_id, "MaxResults": 10}),
        "ResourceNotFoundException",
    )
    .await;
}

async fn client_scopes_must_exist(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("scopes").await;
    let body = json!({
        "ClientName": "m2m", "GenerateSecret": true,
        "AllowedOAuthFlows": ["client_credentials"],
        "AllowedOAuthScopes": ["orders/read"],
        "AllowedOAuthFlowsUserPoolClient": true,
    });
    let mut with_pool = body.clone();
    with_pool["UserPoolId"] = json!(pool_id);
    srv.err(
        "CreateUserPoolClient",
        with_pool.clone(),
        "ScopeDoesNotExistException",
    )
    .await;
    srv.ok(
        "CreateResourceServer",
        json!({
            "UserPoolId": pool_id, "Identifier": "orders", "Name": "Orders",
            "Scopes": [{"ScopeName": "read", "ScopeDescription": "Read orders"}],
        }),
    )
    .await;
    let client = create_client(&srv, &pool_id, body).await;
    assert_eq!(client["AllowedOAuthScopes"], json!(["orders/read"]));
    // Another pool's resource server does not count.
    let other = srv.new_pool("other").await;
    let mut elsewhere = with_pool;
    elsewhere["UserPoolId"] = json!(other);
    srv.err(
        "CreateUserPoolClient",
        elsewhere,
        "ScopeDoesNotExistException",
    )
    .await;
    // Nor does an undefined scope of a defined server, on update either.
    let client_id = client["ClientId"].as_str().unwrap();
    srv.err(
        "UpdateUserPoolClient",
        json!({
            "UserPoolId": pool_id, "ClientId": client_id,
            "AllowedOAuthFlows": ["client_credentials"],
            "AllowedOAuthScopes": ["orders/write"],
            "AllowedOAuthFlowsUserPoolClient": true,
        }),
        "ScopeDoesNotExistException",
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Domains

async fn domain_lifecycle(backend: Backend) {
    let srv = start(&backend).await;
    let a = srv.new_pool("a").await;
    let b = srv.new_pool("b").await;
    let out = srv
        .ok(
            "CreateUserPoolDomain",
            json!({"UserPoolId": a, "Domain": "shop-login"}),
        )
        .await;
    assert_eq!(out["ManagedLoginVersion"], 1);
    assert_eq!(srv.describe_pool(&a).await["Domain"], "shop-login");
    assert!(srv.describe_pool(&b).await.get("Domain").is_none());
    let d = srv
        .ok("DescribeUserPoolDomain", json!({"Domain": "shop-login"}))
        .await;
    assert_eq!(d["DomainDescription"]["UserPoolId"], a.as_str());
    assert_eq!(d["DomainDescription"]["Status"], "ACTIVE");
    assert_eq!(d["DomainDescription"]["Domain"], "shop-login");
    // Unique across pools; one prefix domain per pool.
    srv.err(
        "CreateUserPoolDomain",
        json!({"UserPoolId": b, "Domain": "shop-login"}),
        "InvalidParameterException",
    )
    .await;
    srv.err(
        "CreateUserPoolDomain",
        json!({"UserPoolId": a, "Domain": "second"}),
        "InvalidParameterException",
    )
    .await;
    // Cognito's reserved words, and the model's pattern.
    srv.err(
        "CreateUserPoolDomain",
        json!({"UserPoolId": b, "Domain": "my-aws-login"}),
        "InvalidParameterException",
    )
    .await;
    srv.err(
        "CreateUserPoolDomain",
        json!({"UserPoolId": b, "Domain": "Upper"}),
        "InvalidParameterException",
    )
    .await;
    srv.err(
        "CreateUserPoolDomain",
        json!({"UserPoolId": b, "Domain": "-dash"}),
        "InvalidParameterException",
    )
    .await;
    // A host name is a custom domain, which needs CustomDomainConfig; a pool may have one
    // custom domain beside its prefix domain.
    srv.err(
        "CreateUserPoolDomain",
        json!({"UserPoolId": a, "Domain": "login.shop.example"}),
        "InvalidParameterException",
    )
    .await;
    let arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555";
    let custom = srv
        .ok(
            "CreateUserPoolDomain",
            json!({"UserPoolId": a, "Domain": "login.shop.example",
                   "CustomDomainConfig": {"CertificateArn": arn}}),
        )
        .await;
    assert!(custom["CloudFrontDomain"].is_string(), "{custom}");
    let described = srv.describe_pool(&a).await;
    assert_eq!(described["CustomDomain"], "login.shop.example");
    assert_eq!(described["Domain"], "shop-login");
    let d = srv
        .ok(
            "DescribeUserPoolDomain",
            json!({"Domain": "login.shop.example"}),
        )
        .await;
    assert_eq!(
        d["DomainDescription"]["CustomDomainConfig"]["CertificateArn"],
        arn
    );
    srv.err(
        "CreateUserPoolDomain",
        json!({"UserPoolId": a, "Domain": "other.shop.example",
               "CustomDomainConfig": {"CertificateArn": arn}}),
        "InvalidParameterException",
    )
    .await;
    srv.ok(
        "DeleteUserPoolDomain",
        json!({"UserPoolId": a, "Domain": "login.shop.example"}),
    )
    .await;
    assert!(srv.describe_pool(&a).await.get("CustomDomain").is_none());
    // Unknown domains describe as empty.
    let none = srv
        .ok("DescribeUserPoolDomain", json!({"Domain": "nobody"}))
        .await;
    assert_eq!(none["DomainDescription"], json!({}));
    let updated = srv
        .ok(
            "UpdateUserPoolDomain",
            json!({"UserPoolId": a, "Domain": "shop-login", "ManagedLoginVersion": 2}),
        )
        .await;
    assert_eq!(updated["ManagedLoginVersion"], 2);
    // Deleting through the wrong pool fails and changes nothing.
    srv.err(
        "DeleteUserPoolDomain",
        json!({"UserPoolId": b, "Domain": "shop-login"}),
        "InvalidParameterException",
    )
    .await;
    srv.ok(
        "DeleteUserPoolDomain",
        json!({"UserPoolId": a, "Domain": "shop-login"}),
    )
    .await;
    assert!(srv.describe_pool(&a).await.get("Domain").is_none());
    // Now free for another pool.
    srv.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": b, "Domain": "shop-login"}),
    )
    .await;
    // A deleted pool frees its domain.
    srv.ok("DeleteUserPool", json!({"UserPoolId": b})).await;
    let gone = srv
        .ok("DescribeUserPoolDomain", json!({"Domain": "shop-login"}))
        .await;
    assert_eq!(gone["DomainDescription"], json!({}));
}

// ---------------------------------------------------------------------------------------------
// Token endpoint

async fn m2m_fixture(srv: &TestServer) -> (String, String, String) {
    let pool_id = srv.new_pool("m2m").await;
    srv.ok(
        "CreateResourceServer",
        json!({
            "UserPoolId": pool_id, "Identifier": "orders", "Name": "Orders",
            "Scopes": [
                {"ScopeName": "read", "ScopeDescription": "Read"},
                {"ScopeName": "write", "ScopeDescription": "Write"},
            ],
        }),
    )
    .await;
    let client = create_client(
        srv,
        &pool_id,
        json!({
            "ClientName": "svc", "GenerateSecret": true,
            "AllowedOAuthFlows": ["client_credentials"],
            "AllowedOAuthScopes": ["orders/read", "orders/write"],
            "AllowedOAuthFlowsUserPoolClient": true,
        }),
    )
    .await;
    (
        pool_id,
        client["ClientId"].as_str().unwrap().to_owned(),
        client["ClientSecret"].as_str().unwrap().to_owned(),
    )
}

async fn client_credentials_grant(backend: Backend) {
    let srv = start(&backend).await;
    let (pool_id, id, secret) = m2m_fixture(&srv).await;
    // client_secret_basic, default scope: all of the client's custom scopes.
    let r = post_token(
        &srv,
        &[("grant_type", "client_credentials")],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3600);
    assert!(r.body.get("refresh_token").is_none());
    assert!(r.body.get("id_token").is_none());
    let c = claims(r.body["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], id.as_str());
    assert_eq!(c["client_id"], id.as_str());
    assert_eq!(c["token_use"], "access");
    assert_eq!(c["scope"], "orders/read orders/write");
    assert_eq!(c["version"], 2);
    assert_eq!(c["iss"], format!("{}/{pool_id}", srv.base_url));
    assert!(c.get("username").is_none());
    // The access token verifies against the pool's JWKS key id.
    let jwks: Value = srv
        .http
        .get(srv.url(&format!("/{pool_id}/.well-known/jwks.json")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(
                r.body["access_token"]
                    .as_str()
                    .unwrap()
                    .split('.')
                    .next()
                    .unwrap(),
            )
            .unwrap(),
    )
    .unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == header["kid"])
    );
    // client_secret_post, narrowed scope.
    let r = post_token(
        &srv,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("scope", "orders/read"),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        claims(r.body["access_token"].as_str().unwrap())["scope"],
        "orders/read"
    );
    // A scope the client was not given.
    let r = post_token(
        &srv,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "orders/delete"),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_scope");
    // Standard scopes are not for machines.
    let r = post_token(
        &srv,
        &[("grant_type", "client_credentials"), ("scope", "openid")],
        Some((&id, &secret)),
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_scope");
    // A scope whose resource server is gone is no longer granted.
    srv.ok(
        "UpdateResourceServer",
        json!({
            "UserPoolId": pool_id, "Identifier": "orders", "Name": "Orders",
            "Scopes": [{"ScopeName": "read", "ScopeDescription": "Read"}],
        }),
    )
    .await;
    let r = post_token(
        &srv,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "orders/write"),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_scope");
}

async fn token_endpoint_errors(backend: Backend) {
    let srv = start(&backend).await;
    let (_, id, secret) = m2m_fixture(&srv).await;
    let f = fixture(&srv).await;
    // Wrong secret over Basic: 401 with a Basic challenge.
    let r = post_token(
        &srv,
        &[("grant_type", "client_credentials")],
        Some((&id, "nope")),
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
    assert!(
        r.header("www-authenticate")
            .unwrap_or_default()
            .starts_with("Basic"),
        "{:?}",
        r.headers
    );
    // Wrong secret in the form: 400.
    let r = post_token(
        &srv,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &format!("{secret}x")),
        ],
        None,
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_client");
    assert!(r.header("www-authenticate").is_none());
    // No secret at all for a secret client; an unknown client.
    let r = post_token(
        &srv,
        &[("grant_type", "client_credentials"), ("client_id", &id)],
        None,
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_client");
    let r = post_token(
        &srv,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "nosuchclient"),
        ],
        None,
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_client");
    // Two authentication methods at once.
    let r = post_token(
        &srv,
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", &secret),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");
    // Grant types.
    let r = post_token(&srv, &[("grant_type", "password")], Some((&id, &secret))).await;
    assert_oauth_error(&r, 400, "unsupported_grant_type");
    let r = post_token(&srv, &[("scope", "orders/read")], Some((&id, &secret))).await;
    assert_oauth_error(&r, 400, "invalid_request");
    // A public code-flow client may not use client_credentials.
    let r = post_token(
        &srv,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &f.client_id),
        ],
        None,
    )
    .await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    // The machine client may not redeem codes.
    let r = post_token(
        &srv,
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", CB),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_oauth_error(&r, 400, "unauthorized_client");
    // A repeated parameter, a non-form body, an oversized body.
    let r = post_token(
        &srv,
        &[
            ("grant_type", "client_credentials"),
            ("grant_type", "client_credentials"),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");
    let r = read(
        srv.http
            .post(srv.url("/oauth2/token"))
            .header("content-type", "application/json")
            .body(r#"{"grant_type":"client_credentials"}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");
    let big = "a".repeat(64 * 1024);
    let r = post_token(
        &srv,
        &[("grant_type", "client_credentials"), ("pad", &big)],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(r.status, 413, "{}", r.text);
    assert_eq!(r.body["error"], "invalid_request");
    // Unknown or garbage codes and refresh tokens.
    let r = post_token(
        &srv,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &f.client_id),
            ("code", "not-a-code"),
            ("redirect_uri", CB),
        ],
        None,
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    let r = post_token(
        &srv,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &f.client_id),
            ("redirect_uri", CB),
        ],
        None,
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_request");
    let r = post_token(
        &srv,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &f.client_id),
            ("refresh_token", "garbage"),
        ],
        None,
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
}

// ---------------------------------------------------------------------------------------------
// Authorization code flow

async fn code_flow_with_pkce(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let mut b = Browser::new(&srv);
    let r = b
        .sign_in(
            &code_query(&f.client_id, "openid email aws.cognito.signin.user.admin"),
            "alice",
            PASSWORD,
        )
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    let loc = location(&r);
    assert!(loc.starts_with(&format!("{CB}?")), "{loc}");
    let back = redirect_params(&loc, false);
    assert_eq!(back["state"], "st&te=1");
    let code = &back["code"];
    assert!(code.len() >= 40, "{code}");
    // The session cookie is HttpOnly and SameSite=Lax (not Secure: the public URL is http).
    let set: Vec<String> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = set
        .iter()
        .find(|c| c.starts_with("portcullis-session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert!(!session.contains("Secure"), "{session}");
    let t = post_token(
        &srv,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &f.client_id),
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        None,
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.header("cache-control"), Some("no-store"));
    assert_eq!(t.body["token_type"], "Bearer");
    assert_eq!(t.body["expires_in"], 3600);
    let access = claims(t.body["access_token"].as_str().unwrap());
    assert_eq!(
        access["scope"],
        "openid email aws.cognito.signin.user.admin"
    );
    assert_eq!(access["client_id"], f.client_id.as_str());
    assert_eq!(access["username"], "alice");
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["version"], 2);
    let id = claims(t.body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], f.client_id.as_str());
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], true);
    assert!(id.get("phone_number").is_none(), "{id}");
    assert!(id.get("name").is_none(), "{id}");
    assert_eq!(id["origin_jti"], access["origin_jti"]);
    // at_hash: left half of SHA-256 of the access token; checked against a known vector in
    // core's unit tests, so here only its shape.
    assert_eq!(id["at_hash"].as_str().unwrap().len(), 22);
    // The access token works on the self-service API (it has the admin scope).
    let me = srv
        .send(
            crate::support::Req::op("GetUser", &json!({"AccessToken": t.body["access_token"]}))
                .unsigned(),
        )
        .await;
    assert_eq!(me.status, 200, "{}", me.text);
    // userInfo, filtered by scope: email only.
    let ui = srv
        .http
        .get(srv.url("/oauth2/userInfo"))
        .bearer_auth(t.body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let ui = read(ui).await;
    assert_eq!(ui.status, 200, "{}", ui.text);
    assert_eq!(ui.body["sub"], access["sub"]);
    assert_eq!(ui.body["email"], "alice@example.com");
    assert_eq!(ui.body["email_verified"], "true");
    assert_eq!(ui.body["username"], "alice");
    assert!(ui.body.get("phone_number").is_none());
    // Refresh: same scopes, same lineage, no new refresh token (no rotation).
    let refreshed = post_token(
        &srv,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &f.client_id),
            ("refresh_token", t.body["refresh_token"].as_str().unwrap()),
        ],
        None,
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    assert!(refreshed.body.get("refresh_token").is_none());
    let again = claims(refreshed.body["access_token"].as_str().unwrap());
    assert_eq!(again["scope"], access["scope"]);
    assert_eq!(again["origin_jti"], access["origin_jti"]);
    assert_eq!(again["auth_time"], access["auth_time"]);
    let id2 = claims(refreshed.body["id_token"].as_str().unwrap());
    assert!(id2.get("nonce").is_none());
    // POST works for userInfo too.
    let ui = read(
        srv.http
            .post(srv.url("/oauth2/userInfo"))
            .bearer_auth(refreshed.body["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ui.status, 200, "{}", ui.text);

    // Without openid there is no ID token, and userInfo refuses the token.
    let (t2, _) = tokens_for(&srv, &f, "aws.cognito.signin.user.admin").await;
    assert!(t2.get("id_token").is_none(), "{t2}");
    let ui = read(
        srv.http
            .get(srv.url("/oauth2/userInfo"))
            .bearer_auth(t2["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ui.status, 403, "{}", ui.text);
    assert!(
        ui.header("www-authenticate")
            .unwrap_or_default()
            .contains("insufficient_scope")
    );
    // openid + profile: the profile attributes, not the email.
    let (t3, _) = tokens_for(&srv, &f, "openid profile").await;
    let id3 = claims(t3["id_token"].as_str().unwrap());
    assert_eq!(id3["name"], "Alice Example");
    assert!(id3.get("email").is_none(), "{id3}");
    // openid alone: every readable attribute.
    let (t4, _) = tokens_for(&srv, &f, "openid").await;
    let id4 = claims(t4["id_token"].as_str().unwrap());
    assert_eq!(id4["email"], "alice@example.com");
    assert_eq!(id4["phone_number"], "+15555550100");
}

async fn code_reuse_revokes_its_tokens(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let (t, code) = tokens_for(&srv, &f, "openid email").await;
    let replay = post_token(
        &srv,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &f.client_id),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        None,
    )
    .await;
    assert_oauth_error(&replay, 400, "invalid_grant");
    // The tokens minted from the code are revoked with it.
    let r = post_token(
        &srv,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &f.client_id),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
        None,
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    let ui = read(
        srv.http
            .get(srv.url("/oauth2/userInfo"))
            .bearer_auth(t["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ui.status, 401, "{}", ui.text);
}

async fn pkce_and_binding_errors(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let other = create_client(&srv, &f.pool_id, web_client()).await;
    let other_id = other["ClientId"].as_str().unwrap().to_owned();
    let code_for = |q: String| {
        let srv = &srv;
        async move {
            let mut b = Browser::new(srv);
            let r = b.sign_in(&q, "alice", PASSWORD).await;
            assert_eq!(r.status, 302, "{}", r.text);
            redirect_params(&location(&r), false)["code"].clone()
        }
    };
    let redeem =
        |code: String, client: String, redirect: &'static str, verifier: Option<&'static str>| {
            let srv = &srv;
            async move {
                let mut pairs = vec![
                    ("grant_type", "authorization_code".to_owned()),
                    ("client_id", client),
                    ("code", code),
                    ("redirect_uri", redirect.to_owned()),
                ];
                if let Some(v) = verifier {
                    pairs.push(("code_verifier", v.to_owned()));
                }
                let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                post_token(srv, &refs, None).await
            }
        };
    // A challenge was sent: the verifier is required, and must match.
    let code = code_for(code_query(&f.client_id, "openid")).await;
    assert_oauth_error(
        &redeem(code, f.client_id.clone(), CB, None).await,
        400,
        "invalid_grant",
    );
    let code = code_for(code_query(&f.client_id, "openid")).await;
    let wrong = "wrong-verifier-wrong-verifier-wrong-verifier-00";
    assert_oauth_error(
        &redeem(code, f.client_id.clone(), CB, Some(wrong)).await,
        400,
        "invalid_grant",
    );
    // Bound to its redirect_uri and its client.
    let code = code_for(code_query(&f.client_id, "openid")).await;
    assert_oauth_error(
        &redeem(
            code,
            f.client_id.clone(),
            "myapp://callback",
            Some(VERIFIER),
        )
        .await,
        400,
        "invalid_grant",
    );
    let code = code_for(code_query(&f.client_id, "openid")).await;
    assert_oauth_error(
        &redeem(code.clone(), other_id, CB, Some(VERIFIER)).await,
        400,
        "invalid_grant",
    );
    // Another client's failed attempt does not burn the code for its owner.
    assert_eq!(
        redeem(code, f.client_id.clone(), CB, Some(VERIFIER))
            .await
            .status,
        200
    );
}

// ---------------------------------------------------------------------------------------------
// /oauth2/authorize

/// An unusable redirect URI: an error page, reached (for a URI given but not registered) as
/// Cognito does, through `/error?error=redirect_mismatch`.
async fn assert_not_sent_back(b: &mut Browser<'_>, r: &Resp, client_id: &str, redirect: &str) {
    if redirect.is_empty() {
        assert_error_page(r, 400);
    } else {
        sessions::assert_redirect_mismatch(b, r, client_id).await;
    }
}

#[track_caller]
fn assert_error_page(r: &Resp, status: u16) {
    assert_eq!(r.status, status, "{}", r.text);
    assert!(
        r.header("location").is_none(),
        "redirected: {:?}",
        r.headers
    );
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html"),
        "{:?}",
        r.headers
    );
    let csp = r.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

/// A client without a secret must use PKCE unless the operator allows otherwise; a client with
/// a secret may skip it, and then a verifier at the token endpoint is a downgrade attempt.
async fn public_clients_need_pkce(backend: Backend) {
    let no_pkce = |client_id: &str| {
        query(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CB),
            ("scope", "openid"),
            ("state", "s1"),
        ])
    };
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let mut b = Browser::new(&srv);
    let r = b
        .get(&format!("/oauth2/authorize?{}", no_pkce(&f.client_id)))
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    let p = redirect_params(&location(&r), false);
    assert_eq!(p["error"], "invalid_request");
    assert!(p["error_description"].contains("code_challenge"), "{p:?}");
    assert!(!p.contains_key("code"));

    let mut confidential = web_client();
    confidential["GenerateSecret"] = json!(true);
    let c = create_client(&srv, &f.pool_id, confidential).await;
    let (id, secret) = (
        c["ClientId"].as_str().unwrap().to_owned(),
        c["ClientSecret"].as_str().unwrap().to_owned(),
    );
    let code_for = |q: String| {
        let srv = &srv;
        async move {
            let mut b = Browser::new(srv);
            let r = b.sign_in(&q, "alice", PASSWORD).await;
            assert_eq!(r.status, 302, "{}", r.text);
            redirect_params(&location(&r), false)["code"].clone()
        }
    };
    let code = code_for(no_pkce(&id)).await;
    let r = post_token(
        &srv,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    let code = code_for(no_pkce(&id)).await;
    let r = post_token(
        &srv,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Cognito's behaviour, when the operator asks for it.
    let lax = start_flags(
        &backend,
        Flags {
            allow_public_clients_without_pkce: true,
            ..Flags::default()
        },
    )
    .await;
    let f = fixture(&lax).await;
    let mut b = Browser::new(&lax);
    let r = b.sign_in(&no_pkce(&f.client_id), "alice", PASSWORD).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let code = redirect_params(&location(&r), false)["code"].clone();
    let r = post_token(
        &lax,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &f.client_id),
            ("code", &code),
            ("redirect_uri", CB),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn authorize_errors_never_redirect_to_untrusted_uris(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let mut b = Browser::new(&srv);
    let auth = |pairs: &[(&str, &str)]| format!("/oauth2/authorize?{}", query(pairs));
    for redirect in [
        "https://evil.example.com/cb",
        "https://app.example.com/cb/",
        "https://app.example.com/cb?x=1",
        "https://app.example.com/cb#x",
        "https://app.example.com/cb@evil.example.com",
        "https://app.example.com.evil.example.com/cb",
        "//evil.example.com/cb",
        "HTTPS://APP.EXAMPLE.COM/cb",
        "",
    ] {
        let r = b
            .get(&auth(&[
                ("response_type", "code"),
                ("client_id", &f.client_id),
                ("redirect_uri", redirect),
                ("scope", "openid"),
            ]))
            .await;
        assert_not_sent_back(&mut b, &r, &f.client_id, redirect).await;
        // The same holds for the login page itself.
        let r = b
            .get(&format!(
                "/login?{}",
                query(&[
                    ("response_type", "code"),
                    ("client_id", &f.client_id),
                    ("redirect_uri", redirect),
                ])
            ))
            .await;
        assert_not_sent_back(&mut b, &r, &f.client_id, redirect).await;
    }
    // No redirect_uri, no or unknown client: a page, even with other problems too.
    let r = b
        .get(&auth(&[
            ("response_type", "code"),
            ("client_id", &f.client_id),
        ]))
        .await;
    assert_error_page(&r, 400);
    let r = b
        .get(&auth(&[("response_type", "code"), ("redirect_uri", CB)]))
        .await;
    assert_error_page(&r, 400);
    let r = b
        .get(&auth(&[
            ("response_type", "bogus"),
            ("client_id", "nosuchclient"),
            ("redirect_uri", CB),
        ]))
        .await;
    assert_error_page(&r, 400);
    // A repeated redirect_uri is not guessed at.
    let r = b
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&redirect_uri={}",
            f.client_id,
            enc(CB),
            enc("https://evil.example.com/")
        ))
        .await;
    assert_error_page(&r, 400);
    // The page escapes what it shows.
    let r = b.get("/oauth2/authorize?client_id=%3Cscript%3E").await;
    assert_error_page(&r, 400);
    assert!(!r.text.contains("<script>"));
}

async fn authorize_errors_go_back_to_the_client(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let mut b = Browser::new(&srv);
    let check = |r: Resp, error: &str| {
        assert_eq!(r.status, 302, "{}", r.text);
        let loc = location(&r);
        assert!(loc.starts_with(&format!("{CB}?")), "{loc}");
        let p = redirect_params(&loc, false);
        assert_eq!(p["error"], error, "{loc}");
        assert_eq!(p["state"], "xyz", "{loc}");
        assert!(!p.contains_key("code"));
    };
    let with = |extra: &[(&str, &str)]| {
        let mut pairs = vec![
            ("client_id", f.client_id.as_str()),
            ("redirect_uri", CB),
            ("state", "xyz"),
        ];
        pairs.extend_from_slice(extra);
        format!("/oauth2/authorize?{}", query(&pairs))
    };
    check(
        b.get(&with(&[("response_type", "id_token")])).await,
        "unsupported_response_type",
    );
    check(b.get(&with(&[])).await, "invalid_request");
    // Implicit is not among this client's flows; the error goes in the fragment.
    let r = b
        .get(&with(&[("response_type", "token"), ("scope", "openid")]))
        .await;
    assert_eq!(r.status, 302);
    let p = redirect_params(&location(&r), true);
    assert_eq!(p["error"], "unauthorized_client");
    check(
        b.get(&with(&[
            ("response_type", "code"),
            ("scope", "openid orders/read"),
        ]))
        .await,
        "invalid_scope",
    );
    check(
        b.get(&with(&[("response_type", "code"), ("scope", "email")]))
            .await,
        "invalid_scope",
    );
    check(
        b.get(&with(&[
            ("response_type", "code"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "plain"),
        ]))
        .await,
        "invalid_request",
    );
    check(
        b.get(&with(&[
            ("response_type", "code"),
            ("code_challenge", CHALLENGE),
        ]))
        .await,
        "invalid_request",
    );
    check(
        b.get(&with(&[
            ("response_type", "code"),
            ("code_challenge", "short"),
        ]))
        .await,
        "invalid_request",
    );
    check(
        b.get(&with(&[
            ("response_type", "code"),
            ("code_challenge_method", "S256"),
        ]))
        .await,
        "invalid_request",
    );
    check(
        b.get(&with(&[
            ("response_type", "code"),
            ("identity_provider", "Google"),
        ]))
        .await,
        "invalid_request",
    );
    check(
        b.get(&with(&[
            ("response_type", "code"),
            ("prompt", "none"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]))
        .await,
        "login_required",
    );
    // A client whose identity providers do not include the hosted sign-in.
    let mut no_cognito = web_client();
    no_cognito["SupportedIdentityProviders"] = json!([]);
    let no_cognito = create_client(&srv, &f.pool_id, no_cognito).await;
    let r = b
        .get(&format!(
            "/oauth2/authorize?{}",
            query(&[
                ("response_type", "code"),
                ("client_id", no_cognito["ClientId"].as_str().unwrap()),
                ("redirect_uri", CB),
                ("state", "xyz"),
            ])
        ))
        .await;
    check(r, "invalid_request");
    // A client without the OAuth switch turned on.
    let plain = create_client(
        &srv,
        &f.pool_id,
        json!({"ClientName": "api-only", "CallbackURLs": [CB]}),
    )
    .await;
    let r = b
        .get(&format!(
            "/oauth2/authorize?{}",
            query(&[
                ("response_type", "code"),
                ("client_id", plain["ClientId"].as_str().unwrap()),
                ("redirect_uri", CB),
                ("state", "xyz"),
            ])
        ))
        .await;
    check(r, "unauthorized_client");
}

// ---------------------------------------------------------------------------------------------
// The sign-in page

async fn login_form_is_protected(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let login = format!("/login?{}", code_query(&f.client_id, "openid"));
    let mut b = Browser::new(&srv);
    let page = b.get(&login).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let csp = page.header("content-security-policy").unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        csp.contains("form-action 'self' https://app.example.com"),
        "{csp}"
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let csrf_cookie = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("portcullis-csrf="))
        .unwrap();
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Lax"));
    // Accessible form: labelled inputs.
    assert!(page.text.contains("<label for=\"username\">"));
    assert!(page.text.contains("<label for=\"password\">"));
    assert!(page.text.contains("autocomplete=\"current-password\""));
    let css = b.get("/ui/style.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    assert!(css.text.contains("@media"));
    let csrf = hidden(&page.text, "_csrf");
    let form = |token: &str| {
        query(&[
            ("_csrf", token),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
    };
    // A forged token with the real cookie.
    let r = b.post(&login, form("forged")).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.header("location").is_none());
    // The real token without its cookie (a cross-site post).
    let mut stranger = Browser::new(&srv);
    let r = stranger.post(&login, form(&csrf)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // A cookie that was not sealed by the server.
    stranger
        .cookies
        .insert("portcullis-csrf".to_owned(), "AAAA".to_owned());
    let r = stranger.post(&login, form(&csrf)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // A token from another browser's session does not match this cookie.
    let mut other = Browser::new(&srv);
    let other_page = other.get(&login).await;
    let other_csrf = hidden(&other_page.text, "_csrf");
    let r = b.post(&login, form(&other_csrf)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Oversized form.
    let big = query(&[
        ("_csrf", &csrf),
        ("username", &"a".repeat(20_000)),
        ("password", "x"),
    ]);
    let r = b.post(&login, big).await;
    assert_eq!(r.status, 413, "{}", r.text);
    // And the real thing works.
    let r = b.post(&login, form(&csrf)).await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert!(location(&r).starts_with(CB));
}

async fn wrong_password_and_lockout(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let mut b = Browser::new(&srv);
    let r = b
        .sign_in(
            &code_query(&f.client_id, "openid"),
            "alice",
            "Wrong-password-1",
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.text.contains("Incorrect username or password."),
        "{}",
        r.text
    );
    assert!(r.text.contains("role=\"alert\""));
    // The username is kept (escaped) for the next try.
    assert!(r.text.contains("value=\"alice\""));
    // Unknown users read the same.
    let r = b
        .sign_in(
            &code_query(&f.client_id, "openid"),
            "nobody",
            "Wrong-password-1",
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("Incorrect username or password."));
    // The same lockout as InitiateAuth.
    for _ in 0..5 {
        b.sign_in(
            &code_query(&f.client_id, "openid"),
            "alice",
            "Wrong-password-1",
        )
        .await;
    }
    let r = b
        .sign_in(&code_query(&f.client_id, "openid"), "alice", PASSWORD)
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("Password attempts exceeded"), "{}", r.text);
    // An unknown name locks after as many failures (it had one above), so the lock tells
    // nothing about existence.
    for _ in 0..4 {
        b.sign_in(
            &code_query(&f.client_id, "openid"),
            "nobody",
            "Wrong-password-1",
        )
        .await;
    }
    let r = b
        .sign_in(&code_query(&f.client_id, "openid"), "nobody", PASSWORD)
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("Password attempts exceeded"), "{}", r.text);
    // A disabled user cannot sign in.
    user_with_password(&srv, &f.pool_id, "bob").await;
    srv.ok(
        "AdminDisableUser",
        json!({"UserPoolId": f.pool_id, "Username": "bob"}),
    )
    .await;
    let r = b
        .sign_in(&code_query(&f.client_id, "openid"), "bob", PASSWORD)
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("User is disabled."), "{}", r.text);
}

async fn new_password_step(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    srv.ok(
        "AdminCreateUser",
        json!({
            "UserPoolId": f.pool_id, "Username": "carol", "TemporaryPassword": "Temp-Pass-123",
            "MessageAction": "SUPPRESS",
        }),
    )
    .await;
    let mut b = Browser::new(&srv);
    let q = code_query(&f.client_id, "openid");
    let r = b.sign_in(&q, "carol", "Temp-Pass-123").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Choose a new password"), "{}", r.text);
    let login = format!("/login?{q}");
    let step = |csrf: &str, session: &str, password: &str| {
        query(&[
            ("_csrf", csrf),
            ("_step", "new_password"),
            ("session", session),
            ("username", "carol"),
            ("new_password", password),
        ])
    };
    // A password that fails the policy is refused on the same form.
    // A field the form never asked for is not shown back either.
    let r2 = b
        .post(
            &login,
            format!(
                "{}&{}",
                step(
                    &hidden(&r.text, "_csrf"),
                    &hidden(&r.text, "session"),
                    "short",
                ),
                query(&[("attr.custom:made_up", "x")])
            ),
        )
        .await;
    assert_eq!(r2.status, 400, "{}", r2.text);
    assert!(r2.text.contains("Choose a new password"));
    assert!(!r2.text.contains("made_up"), "{}", r2.text);
    // Only the attributes the form asked for (here none) are written: extra `attr.*` fields
    // posted with it are dropped.
    let with_extras = format!(
        "{}&{}",
        step(
            &hidden(&r2.text, "_csrf"),
            &hidden(&r2.text, "session"),
            "Brand-New-Pass-7",
        ),
        query(&[
            ("attr.name", "Mallory"),
            ("attr.email", "carol@attacker.test"),
            ("attr.email_verified", "true"),
        ])
    );
    let r3 = b.post(&login, with_extras).await;
    assert_eq!(r3.status, 302, "{}", r3.text);
    let carol = srv.get_user(&f.pool_id, "carol").await["UserAttributes"].clone();
    for name in ["name", "email", "email_verified"] {
        assert_eq!(crate::support::attr(&carol, name), None, "{carol}");
    }
    let code = redirect_params(&location(&r3), false)["code"].clone();
    let t = post_token(
        &srv,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &f.client_id),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        None,
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(
        srv.get_user(&f.pool_id, "carol").await["UserStatus"],
        "CONFIRMED"
    );
    // The new password signs in directly now.
    let mut b2 = Browser::new(&srv);
    let r = b2.sign_in(&q, "carol", "Brand-New-Pass-7").await;
    assert_eq!(r.status, 302, "{}", r.text);
}

// ---------------------------------------------------------------------------------------------
// Revocation, userInfo, sessions

async fn revoke_endpoint(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let (t, _) = tokens_for(&srv, &f, "openid").await;
    let refresh = t["refresh_token"].as_str().unwrap();
    let access = t["access_token"].as_str().unwrap();
    // An access token is not revocable here.
    let r = post_form(
        &srv,
        "/oauth2/revoke",
        &[("token", access), ("client_id", &f.client_id)],
        None,
    )
    .await;
    assert_oauth_error(&r, 400, "unsupported_token_type");
    let r = post_form(
        &srv,
        "/oauth2/revoke",
        &[
            ("token", refresh),
            ("client_id", &f.client_id),
            ("token_type_hint", "access_token"),
        ],
        None,
    )
    .await;
    assert_oauth_error(&r, 400, "unsupported_token_type");
    let r = post_form(&srv, "/oauth2/revoke", &[("client_id", &f.client_id)], None).await;
    assert_oauth_error(&r, 400, "invalid_request");
    let r = post_form(
        &srv,
        "/oauth2/revoke",
        &[("token", refresh)],
        Some((&f.client_id, "secret")),
    )
    .await;
    assert_oauth_error(&r, 401, "invalid_client");
    // Another client cannot revoke it.
    let other = create_client(&srv, &f.pool_id, web_client()).await;
    let r = post_form(
        &srv,
        "/oauth2/revoke",
        &[
            ("token", refresh),
            ("client_id", other["ClientId"].as_str().unwrap()),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    // Revocation, then the token and its siblings are dead.
    let r = post_form(
        &srv,
        "/oauth2/revoke",
        &[("token", refresh), ("client_id", &f.client_id)],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = post_token(
        &srv,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &f.client_id),
            ("refresh_token", refresh),
        ],
        None,
    )
    .await;
    assert_oauth_error(&r, 400, "invalid_grant");
    let ui = read(
        srv.http
            .get(srv.url("/oauth2/userInfo"))
            .bearer_auth(access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ui.status, 401);
    // Unknown and already-revoked tokens: 200, nothing to reveal.
    for token in [refresh, "never-issued"] {
        let r = post_form(
            &srv,
            "/oauth2/revoke",
            &[("token", token), ("client_id", &f.client_id)],
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

async fn userinfo_errors(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let get = |auth: Option<String>| {
        let srv = &srv;
        async move {
            let mut req = srv.http.get(srv.url("/oauth2/userInfo"));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            read(req.send().await.unwrap()).await
        }
    };
    let r = get(None).await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
    for bad in ["Bearer garbage", "Bearer a.b.c", "Basic abc"] {
        let r = get(Some(bad.to_owned())).await;
        assert_eq!(r.status, 401, "{bad}: {}", r.text);
    }
    let r = get(Some("Bearer garbage".to_owned())).await;
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\""),
        "{:?}",
        r.headers
    );
    // An API-issued token (InitiateAuth) has no openid scope.
    let auth = srv
        .send(
            crate::support::Req::op(
                "InitiateAuth",
                &json!({
                    "ClientId": f.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                    "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD},
                }),
            )
            .unsigned(),
        )
        .await;
    assert_eq!(auth.status, 200, "{}", auth.text);
    let access = auth.body["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();
    let r = get(Some(format!("Bearer {access}"))).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // An ID token is not an access token.
    let id = auth.body["AuthenticationResult"]["IdToken"]
        .as_str()
        .unwrap();
    let r = get(Some(format!("Bearer {id}"))).await;
    assert_eq!(r.status, 401, "{}", r.text);
    // A tampered token.
    let (t, _) = tokens_for(&srv, &f, "openid").await;
    let token = t["access_token"].as_str().unwrap();
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut c = claims(token);
    c["sub"] = json!("someone-else");
    parts[1] = URL_SAFE_NO_PAD.encode(c.to_string());
    let r = get(Some(format!("Bearer {}", parts.join(".")))).await;
    assert_eq!(r.status, 401, "{}", r.text);
    // A deleted user's token.
    srv.ok(
        "AdminDeleteUser",
        json!({"UserPoolId": f.pool_id, "Username": "alice"}),
    )
    .await;
    let r = get(Some(format!("Bearer {token}"))).await;
    assert_eq!(r.status, 401, "{}", r.text);
}

async fn session_and_logout(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let mut b = Browser::new(&srv);
    let q = code_query(&f.client_id, "openid");
    let r = b.sign_in(&q, "alice", PASSWORD).await;
    assert_eq!(r.status, 302);
    // The hosted-UI session answers the next request without a page.
    let r = b.get(&format!("/oauth2/authorize?{q}")).await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert!(
        location(&r).starts_with(&format!("{CB}?code=")),
        "{}",
        location(&r)
    );
    // prompt=login asks again.
    let r = b.get(&format!("/oauth2/authorize?{q}&prompt=login")).await;
    assert!(location(&r).starts_with("/login?"), "{}", location(&r));
    // Logout only to registered LogoutURLs; errors are pages.
    let r = b
        .get(&format!(
            "/logout?{}",
            query(&[
                ("client_id", &f.client_id),
                ("logout_uri", "https://evil.example.com/")
            ])
        ))
        .await;
    assert_error_page(&r, 400);
    let r = b
        .get(&format!("/logout?{}", query(&[("logout_uri", BYE)])))
        .await;
    assert_error_page(&r, 400);
    assert!(b.cookies.contains_key("portcullis-session"));
    let r = b
        .get(&format!(
            "/logout?{}",
            query(&[("client_id", &f.client_id), ("logout_uri", BYE)])
        ))
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(location(&r), BYE);
    assert!(!b.cookies.contains_key("portcullis-session"));
    let r = b.get(&format!("/oauth2/authorize?{q}")).await;
    assert!(location(&r).starts_with("/login?"), "{}", location(&r));
    // A forged session cookie is ignored.
    b.cookies
        .insert("portcullis-session".to_owned(), "AAAAAAAA".to_owned());
    let r = b.get(&format!("/oauth2/authorize?{q}")).await;
    assert!(location(&r).starts_with("/login?"), "{}", location(&r));
    // Logout with redirect_uri sends the browser to sign in again.
    let r = b
        .get(&format!(
            "/logout?{}",
            query(&[
                ("client_id", &f.client_id),
                ("redirect_uri", CB),
                ("response_type", "code"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
        ))
        .await;
    assert_eq!(r.status, 302);
    assert!(location(&r).starts_with("/login?"), "{}", location(&r));
}

async fn implicit_flow(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let mut body = web_client();
    body["AllowedOAuthFlows"] = json!(["code", "implicit"]);
    let client = create_client(&srv, &f.pool_id, body).await;
    let client_id = client["ClientId"].as_str().unwrap();
    let mut b = Browser::new(&srv);
    let r = b
        .sign_in(
            &query(&[
                ("response_type", "token"),
                ("client_id", client_id),
                ("redirect_uri", CB),
                ("scope", "openid email"),
                ("state", "s1"),
                ("nonce", "n1"),
            ]),
            "alice",
            PASSWORD,
        )
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    let loc = location(&r);
    assert!(loc.starts_with(&format!("{CB}#")), "{loc}");
    let p = redirect_params(&loc, true);
    assert_eq!(p["token_type"], "Bearer");
    assert_eq!(p["state"], "s1");
    assert_eq!(p["expires_in"], "3600");
    assert!(!p.contains_key("refresh_token"));
    assert_eq!(claims(&p["id_token"])["nonce"], "n1");
    assert_eq!(claims(&p["access_token"])["scope"], "openid email");
}

async fn domain_host_selects_the_pool(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let (other_pool, m2m_id, m2m_secret) = m2m_fixture(&srv).await;
    srv.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": f.pool_id, "Domain": "shop"}),
    )
    .await;
    srv.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": other_pool, "Domain": "machines"}),
    )
    .await;
    // Through its own domain the client works; through another pool's domain it does not.
    let mut b = Browser::new(&srv);
    b.host = Some(format!("shop.auth.localtest:{}", srv.addr.port()));
    let r = b
        .sign_in(&code_query(&f.client_id, "openid"), "alice", PASSWORD)
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    b.host = Some("machines.auth.localtest".to_owned());
    let r = b
        .get(&format!(
            "/oauth2/authorize?{}",
            code_query(&f.client_id, "openid")
        ))
        .await;
    assert_error_page(&r, 400);
    let token = |host: &'static str| {
        let srv = &srv;
        let (id, secret) = (m2m_id.clone(), m2m_secret.clone());
        async move {
            let b = STANDARD.encode(format!("{id}:{secret}"));
            read(
                srv.http
                    .post(srv.url("/oauth2/token"))
                    .header("host", host)
                    .header("authorization", format!("Basic {b}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("grant_type=client_credentials")
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(token("machines.auth.localtest").await.status, 200);
    assert_oauth_error(&token("shop.auth.localtest").await, 401, "invalid_client");
    // A custom domain is matched on the whole host name.
    srv.ok(
        "CreateUserPoolDomain",
        json!({"UserPoolId": f.pool_id, "Domain": "login.shop.example",
               "CustomDomainConfig": {"CertificateArn":
                   "arn:aws:acm:us-east-1:123456789012:certificate/abc"}}),
    )
    .await;
    assert_oauth_error(&token("login.shop.example").await, 401, "invalid_client");
    assert_oauth_error(
        &token("login.shop.example:443").await,
        401,
        "invalid_client",
    );
    assert_eq!(token("login.machines.example").await.status, 200);
    // Hosts that name no domain fall back to the client's own pool.
    assert_eq!(token("unknown.auth.localtest").await.status, 200);
}

async fn discovery_lists_the_endpoints(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("disc").await;
    let doc: Value = srv
        .http
        .get(srv.url(&format!("/{pool_id}/.well-known/openid-configuration")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let base = &srv.base_url;
    assert_eq!(doc["issuer"], format!("{base}/{pool_id}"));
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{base}/oauth2/authorize")
    );
    assert_eq!(doc["token_endpoint"], format!("{base}/oauth2/token"));
    assert_eq!(doc["userinfo_endpoint"], format!("{base}/oauth2/userInfo"));
    assert_eq!(doc["revocation_endpoint"], format!("{base}/oauth2/revoke"));
    assert_eq!(doc["end_session_endpoint"], format!("{base}/logout"));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    // Every advertised endpoint answers (an empty token request is an OAuth error, not 404).
    let r = post_token(&srv, &[], None).await;
    assert_oauth_error(&r, 400, "invalid_request");
}

// ---------------------------------------------------------------------------------------------
// Branding

/// The smallest PNG: a 1x1 transparent pixel.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

async fn ui_customization(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    // Nothing set: an empty customization naming the pool.
    let empty = srv
        .ok("GetUICustomization", json!({"UserPoolId": f.pool_id}))
        .await;
    assert_eq!(
        empty["UICustomization"],
        json!({"UserPoolId": f.pool_id, "ClientId": "ALL"})
    );
    let css = ".banner-customizable { background-color: #123456; }";
    let set = srv
        .ok(
            "SetUICustomization",
            json!({"UserPoolId": f.pool_id, "CSS": css, "ImageFile": STANDARD.encode(PNG)}),
        )
        .await;
    let ui = &set["UICustomization"];
    assert_eq!(ui["ClientId"], "ALL");
    assert_eq!(ui["CSS"], css);
    let image_url = ui["ImageUrl"].as_str().unwrap().to_owned();
    assert!(image_url.starts_with(&srv.base_url), "{image_url}");
    // A client without its own falls back to the pool's.
    let got = srv
        .ok(
            "GetUICustomization",
            json!({"UserPoolId": f.pool_id, "ClientId": f.client_id}),
        )
        .await;
    assert_eq!(got["UICustomization"]["CSS"], css);
    // The pages link the stylesheet and show the logo, both served from here.
    let mut b = Browser::new(&srv);
    let page = b
        .get(&format!("/login?{}", code_query(&f.client_id, "openid")))
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("/ui/custom/"), "{}", page.text);
    assert!(
        page.text.contains("class=\"logo-customizable\""),
        "{}",
        page.text
    );
    let css_href = unescape(
        page.text
            .split("href=\"")
            .filter_map(|p| p.split('"').next())
            .find(|h| h.starts_with("/ui/custom/"))
            .unwrap(),
    );
    let sheet = b.get(&css_href).await;
    assert_eq!(sheet.status, 200);
    assert!(
        sheet
            .header("content-type")
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(sheet.text, css);
    let logo = srv.http.get(&image_url).send().await.unwrap();
    assert_eq!(logo.status(), 200);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(logo.bytes().await.unwrap().as_ref(), PNG);
    // A client's own customization wins.
    srv.ok(
        "SetUICustomization",
        json!({"UserPoolId": f.pool_id, "ClientId": f.client_id, "CSS": "h1 { color: red; }"}),
    )
    .await;
    let got = srv
        .ok(
            "GetUICustomization",
            json!({"UserPoolId": f.pool_id, "ClientId": f.client_id}),
        )
        .await;
    assert_eq!(got["UICustomization"]["CSS"], "h1 { color: red; }");
    assert!(got["UICustomization"].get("ImageUrl").is_none());
    // Stylesheets may not load anything; images must be PNG or JPEG; clients must exist.
    for bad in [
        "a { background: url(https://evil.example/x) }",
        "@import 'x.css';",
    ] {
        srv.err(
            "SetUICustomization",
            json!({"UserPoolId": f.pool_id, "CSS": bad}),
            "InvalidParameterException",
        )
        .await;
    }
    srv.err(
        "SetUICustomization",
        json!({"UserPoolId": f.pool_id, "ImageFile": STANDARD.encode(b"<svg onload=alert(1)>")}),
        "InvalidParameterException",
    )
    .await;
    srv.err(
        "SetUICustomization",
        json!({"UserPoolId": f.pool_id, "ClientId": "nosuchclient", "CSS": "a{}"}),
        "ResourceNotFoundException",
    )
    .await;
    assert_eq!(
        b.get("/ui/custom/us-east-1_nothing/ALL/style.css")
            .await
            .status,
        404
    );
}

// ---------------------------------------------------------------------------------------------
// Self-service pages

/// Posts a page's form back with its anti-forgery token and the given fields.
async fn submit(b: &mut Browser<'_>, page: &Resp, fields: &[(&str, &str)]) -> Resp {
    let action = {
        let marker = "action=\"";
        let start = page.text.find(marker).unwrap() + marker.len();
        let end = page.text[start..].find('"').unwrap() + start;
        unescape(&page.text[start..end])
    };
    let csrf = hidden(&page.text, "_csrf");
    let mut pairs = vec![("_csrf", csrf.as_str())];
    pairs.extend_from_slice(fields);
    b.post(&action, query(&pairs)).await
}

fn last_code(srv: &TestServer) -> String {
    srv.outbox()
        .last()
        .and_then(|m| m["code"].as_str().map(str::to_owned))
        .expect("a code in the outbox")
}

async fn sign_up_and_confirm_pages(backend: Backend) {
    let srv = start(&backend).await;
    let pool = srv
        .create_pool(json!({"PoolName": "selfserve", "AutoVerifiedAttributes": ["email"]}))
        .await;
    let pool_id = pool["Id"].as_str().unwrap().to_owned();
    let client = create_client(&srv, &pool_id, web_client()).await;
    let client_id = client["ClientId"].as_str().unwrap().to_owned();
    let q = code_query(&client_id, "openid email");
    let mut b = Browser::new(&srv);
    // The sign-in page links to sign-up and to the password reset.
    let login = b.get(&format!("/login?{q}")).await;
    assert!(login.text.contains("href=\"/signup?"), "{}", login.text);
    assert!(
        login.text.contains("href=\"/forgotPassword?"),
        "{}",
        login.text
    );
    let page = b.get(&format!("/signup?{q}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("name=\"attr.email\""), "{}", page.text);
    assert!(
        page.text.contains("<label for=\"attr-email\">"),
        "{}",
        page.text
    );
    // A password the policy refuses: the form again, with the reason and the values kept.
    let weak = submit(
        &mut b,
        &page,
        &[
            ("username", "dave"),
            ("attr.email", "dave@example.com"),
            ("password", "weak"),
        ],
    )
    .await;
    assert_eq!(weak.status, 400, "{}", weak.text);
    assert!(weak.text.contains("role=\"alert\""));
    assert!(weak.text.contains("value=\"dave@example.com\""));
    let confirm = submit(
        &mut b,
        &weak,
        &[
            ("username", "dave"),
            ("attr.email", "dave@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(confirm.status, 200, "{}", confirm.text);
    assert!(
        confirm.text.contains("Confirm your account"),
        "{}",
        confirm.text
    );
    assert_eq!(
        srv.get_user(&pool_id, "dave").await["UserStatus"],
        "UNCONFIRMED"
    );
    let wrong = submit(
        &mut b,
        &confirm,
        &[("username", "dave"), ("code", "000000")],
    )
    .await;
    assert_eq!(wrong.status, 400, "{}", wrong.text);
    let code = last_code(&srv);
    let signed = submit(&mut b, &wrong, &[("username", "dave"), ("code", &code)]).await;
    assert_eq!(signed.status, 200, "{}", signed.text);
    assert!(
        signed.text.contains("Your account is confirmed"),
        "{}",
        signed.text
    );
    assert_eq!(
        srv.get_user(&pool_id, "dave").await["UserStatus"],
        "CONFIRMED"
    );
    // And straight on to the app.
    let back = submit(
        &mut b,
        &signed,
        &[("username", "dave"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(back.status, 302, "{}", back.text);
    assert!(location(&back).starts_with(&format!("{CB}?code=")));
    // Forged submissions are refused.
    let mut stranger = Browser::new(&srv);
    let r = stranger
        .post(
            &format!("/signup?{q}"),
            query(&[("_csrf", "x"), ("username", "eve"), ("password", PASSWORD)]),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Pools that allow only administrators to create users have no sign-up page.
    let closed = srv
        .create_pool(json!({
            "PoolName": "closed",
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": true},
        }))
        .await;
    let closed_id = closed["Id"].as_str().unwrap().to_owned();
    let closed_client = create_client(&srv, &closed_id, web_client()).await;
    let cq = code_query(closed_client["ClientId"].as_str().unwrap(), "openid");
    let r = b.get(&format!("/signup?{cq}")).await;
    assert_error_page(&r, 403);
    let login = b.get(&format!("/login?{cq}")).await;
    assert!(!login.text.contains("/signup?"), "{}", login.text);
    // The pages check the authorization request like the sign-in page does.
    let r = b
        .get(&format!(
            "/signup?{}",
            query(&[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", "https://evil.example.com/")
            ])
        ))
        .await;
    sessions::assert_redirect_mismatch(&mut b, &r, &client_id).await;
}

/// The page after a reset request, with what legitimately differs between two requests (the
/// CSRF token, the echoed name) blanked out.
fn reset_page_shape(html: &str, name: &str) -> String {
    let token = hidden(html, "_csrf");
    html.replace(&token, "TOKEN")
        .replace(&format!("value=\"{name}\""), "value=\"NAME\"")
}

async fn forgot_password_pages(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    // Besides alice: a disabled user, and one whose only email is unverified.
    user_with_password(&srv, &f.pool_id, "dora").await;
    srv.ok(
        "AdminDisableUser",
        json!({"UserPoolId": f.pool_id, "Username": "dora"}),
    )
    .await;
    srv.create_user(&f.pool_id, "nova", &[("email", "nova@example.com")])
        .await;
    let q = code_query(&f.client_id, "openid");
    // Known, unknown, disabled and unreachable users read alike, under either setting of
    // PreventUserExistenceErrors: no destination, no error, the same page.
    for setting in ["LEGACY", "ENABLED"] {
        let mut client = web_client();
        client["UserPoolId"] = json!(f.pool_id);
        client["ClientId"] = json!(f.client_id);
        client["PreventUserExistenceErrors"] = json!(setting);
        srv.ok("UpdateUserPoolClient", client).await;
        let mut shapes = vec![];
        for name in ["alice", "nobody", "dora", "nova"] {
            let mut b = Browser::new(&srv);
            let page = b.get(&format!("/forgotPassword?{q}")).await;
            assert_eq!(page.status, 200, "{}", page.text);
            let r = submit(&mut b, &page, &[("username", name)]).await;
            assert_eq!(r.status, 200, "{setting} {name}: {}", r.text);
            assert!(r.text.contains("Reset your password"), "{}", r.text);
            assert!(!r.text.contains("***"), "{setting} {name}: {}", r.text);
            shapes.push((name, reset_page_shape(&r.text, name)));
        }
        for (name, shape) in &shapes[1..] {
            assert_eq!(shape, &shapes[0].1, "{setting}: {name} against alice");
        }
    }
    // The reset form too: a weak password, or a wrong code, reads the same for a known and
    // an unknown name.
    for (code, password) in [("000000", "weak"), ("000000", "Another-Pass-5")] {
        let mut shapes = vec![];
        for name in ["alice", "nobody"] {
            let mut b = Browser::new(&srv);
            let page = b.get(&format!("/forgotPassword?{q}")).await;
            let reset = submit(&mut b, &page, &[("username", name)]).await;
            let fields = [("username", name), ("code", code), ("password", password)];
            let r = submit(&mut b, &reset, &fields).await;
            assert_eq!(r.status, 400, "{name}: {}", r.text);
            shapes.push(reset_page_shape(&r.text, name));
        }
        assert_eq!(shapes[0], shapes[1], "{password}");
    }
    let mut b = Browser::new(&srv);
    let page = b.get(&format!("/forgotPassword?{q}")).await;
    let unknown = submit(&mut b, &page, &[("username", "nobody")]).await;
    assert_eq!(unknown.status, 200, "{}", unknown.text);
    // Each rendered form carries a fresh token: the first page's token is spent.
    let stale = submit(&mut b, &page, &[("username", "alice")]).await;
    assert_eq!(stale.status, 403, "{}", stale.text);
    let sent = srv.outbox().len();
    let page = b.get(&format!("/forgotPassword?{q}")).await;
    let reset = submit(&mut b, &page, &[("username", "alice")]).await;
    assert_eq!(reset.status, 200, "{}", reset.text);
    assert!(reset.text.contains("Reset your password"), "{}", reset.text);
    // The page hands the code to a background delivery, so its timing reveals nothing.
    for _ in 0..100 {
        if srv.outbox().len() > sent {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let code = last_code(&srv);
    let wrong = submit(
        &mut b,
        &reset,
        &[
            ("username", "alice"),
            ("code", "000000"),
            ("password", "Another-Pass-5"),
        ],
    )
    .await;
    assert_eq!(wrong.status, 400, "{}", wrong.text);
    let done = submit(
        &mut b,
        &wrong,
        &[
            ("username", "alice"),
            ("code", &code),
            ("password", "Another-Pass-5"),
        ],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(
        done.text.contains("Your password has been changed"),
        "{}",
        done.text
    );
    let back = submit(
        &mut b,
        &done,
        &[("username", "alice"), ("password", "Another-Pass-5")],
    )
    .await;
    assert_eq!(back.status, 302, "{}", back.text);
    // The old password no longer works.
    let mut b2 = Browser::new(&srv);
    let r = b2.sign_in(&q, "alice", PASSWORD).await;
    assert_eq!(r.status, 400, "{}", r.text);
}
