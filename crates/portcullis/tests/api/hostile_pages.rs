//! Hostile input at the browser-facing endpoints: a NUL in a query parameter or form field of
//! `/oauth2/authorize`, `/login`, `/oauth2/token`, `/oauth2/revoke` and the hosted self-service
//! pages. PostgreSQL's `text` cannot hold a NUL, so one that reached the store was an internal
//! error (500) there; every such request must be refused as bad input instead, on both backends.

use std::collections::BTreeMap;

use serde_json::json;

use crate::oauth::query;
use crate::support::{Backend, TestServer, read, start};

backend_tests!(nul_in_forms_and_queries_is_bad_input);

const CB: &str = "https://app.example.com/cb";

struct Browser<'a> {
    srv: &'a TestServer,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
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
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> crate::support::Resp {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let req = if cookie.is_empty() {
            req
        } else {
            req.header("cookie", cookie)
        };
        let resp = read(req.send().await.unwrap()).await;
        for v in resp.headers.get_all("set-cookie") {
            let text = v.to_str().unwrap();
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        resp
    }

    async fn get(&mut self, path: &str) -> crate::support::Resp {
        let req = self.http.get(self.srv.url(path));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, body: String) -> crate::support::Resp {
        let req = self
            .http
            .post(self.srv.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

#[track_caller]
fn refused(what: &str, r: &crate::support::Resp) {
    assert!(
        (400..500).contains(&r.status),
        "{what}: expected a 4xx, got {} {}",
        r.status,
        r.text.chars().take(300).collect::<String>()
    );
}

async fn nul_in_forms_and_queries_is_bad_input(backend: Backend) {
    let srv = start(&backend).await;
    let pool = srv.new_pool("pages").await;
    let client = srv
        .ok(
            "CreateUserPoolClient",
            json!({
                "UserPoolId": pool, "ClientName": "web", "CallbackURLs": [CB],
                "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid"],
                "AllowedOAuthFlowsUserPoolClient": true, "SupportedIdentityProviders": ["COGNITO"],
            }),
        )
        .await["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    srv.create_user(&pool, "alice", &[("email", "alice@example.com")])
        .await;
    let authorize = |client_id: &str| {
        query(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CB),
            ("scope", "openid"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ])
    };
    let mut b = Browser::new(&srv);
    for path in ["/oauth2/authorize", "/login", "/signup", "/forgotPassword"] {
        let r = b.get(&format!("{path}?{}", authorize("a\0b"))).await;
        refused(&format!("{path} with a NUL client_id"), &r);
    }

    // The sign-in form, with a NUL in the username or the password.
    let r = b
        .get(&format!("/oauth2/authorize?{}", authorize(&client)))
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    let login = r.header("location").unwrap().to_owned();
    for (username, password) in [
        ("al\0ice", "Wrong-password-1"),
        ("\0", "x"),
        ("alice", "p\0w"),
    ] {
        let page = b.get(&login).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let csrf = hidden(&page.text, "_csrf");
        let r = b
            .post(
                &login,
                query(&[
                    ("_csrf", &csrf),
                    ("username", username),
                    ("password", password),
                ]),
            )
            .await;
        refused(&format!("/login with {username:?} / {password:?}"), &r);
    }

    // The token and revocation endpoints.
    for form in [
        query(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client),
            ("code", "a\0b"),
            ("redirect_uri", CB),
        ]),
        query(&[
            ("grant_type", "authorization_code"),
            ("client_id", "a\0b"),
            ("code", "abc"),
            ("redirect_uri", CB),
        ]),
        query(&[
            ("grant_type", "refresh_token"),
            ("client_id", &client),
            ("refresh_token", "a\0b"),
        ]),
    ] {
        let r = b.post("/oauth2/token", form.clone()).await;
        refused(&format!("/oauth2/token {form}"), &r);
    }
    let r = b
        .post(
            "/oauth2/revoke",
            query(&[("token", "a\0b"), ("client_id", &client)]),
        )
        .await;
    refused("/oauth2/revoke", &r);
    let r = b
        .get(&format!(
            "/logout?{}",
            query(&[("client_id", "a\0b"), ("logout_uri", CB)])
        ))
        .await;
    refused("/logout", &r);
}
