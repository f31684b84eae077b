//! Ending access: refresh-token rotation on every refresh path, sign-out and password changes
//! that reach every token family and the hosted-UI session, tokens of deleted app clients,
//! password history, and Cognito's error page for an unregistered redirect URI.

use serde_json::{Value, json};

use super::{
    Browser, CB, PASSWORD, Resp, assert_error_page, code_query, create_client, fixture, location,
    query, redirect_params, tokens_for, web_client,
};
use crate::support::{Backend, TestServer, start};

backend_tests!(
    rotated_out_refresh_token_is_refused_everywhere_and_revokes_its_family,
    reuse_at_the_token_endpoint_revokes_the_family,
    global_sign_out_ends_implicit_tokens_and_hosted_sessions,
    logout_ends_the_session_for_every_copy_of_the_cookie,
    password_changes_end_other_sessions,
    tokens_of_a_deleted_client_stop_working,
    password_history_is_enforced,
    unregistered_redirect_uri_goes_to_cognitos_error_page,
);

/// The answer to an authorization request whose redirect URI is not registered: Cognito's
/// `/error?error=redirect_mismatch&client_id=...` on this host, which shows an error page.
pub(super) async fn assert_redirect_mismatch(b: &mut Browser<'_>, r: &Resp, client_id: &str) {
    assert_eq!(r.status, 302, "{}", r.text);
    let loc = location(r);
    assert_eq!(
        loc,
        format!(
            "/error?{}",
            query(&[("error", "redirect_mismatch"), ("client_id", client_id)])
        )
    );
    let page = b.get(&loc).await;
    assert_error_page(&page, 400);
    assert!(
        page.text.contains("not registered for the app client"),
        "{}",
        page.text
    );
}

const NEW_PASSWORD: &str = "Battery-Staple-7";

/// A client for the API flows, with refresh-token rotation when `grace` is given.
async fn api_client(srv: &TestServer, pool_id: &str, rotation: Option<i64>) -> String {
    let mut body = web_client();
    body["ExplicitAuthFlows"] = json!(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]);
    if let Some(grace) = rotation {
        body["RefreshTokenRotation"] =
            json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": grace});
    }
    create_client(srv, pool_id, body).await["ClientId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// InitiateAuth with USER_PASSWORD_AUTH: (access token, refresh token).
async fn password_sign_in(srv: &TestServer, client_id: &str, password: &str) -> (String, String) {
    let out = srv
        .ok(
            "InitiateAuth",
            json!({
                "ClientId": client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "alice", "PASSWORD": password},
            }),
        )
        .await;
    let r = &out["AuthenticationResult"];
    (
        r["AccessToken"].as_str().unwrap().to_owned(),
        r["RefreshToken"].as_str().unwrap().to_owned(),
    )
}

/// `/oauth2/userInfo` with a bearer token: its HTTP status.
async fn userinfo_status(srv: &TestServer, access_token: &str) -> u16 {
    let req = srv
        .http
        .get(srv.url("/oauth2/userInfo"))
        .header("authorization", format!("Bearer {access_token}"));
    crate::support::read(req.send().await.unwrap()).await.status
}

async fn get_user(srv: &TestServer, access_token: &str) -> Resp {
    srv.call("GetUser", json!({"AccessToken": access_token}))
        .await
}

#[track_caller]
fn assert_revoked(r: &Resp) {
    assert_eq!(
        (r.status, r.error_type()),
        (400, "NotAuthorizedException"),
        "{}",
        r.text
    );
}

async fn initiate_refresh(
    srv: &TestServer,
    op: &str,
    pool_id: &str,
    client_id: &str,
    token: &str,
) -> Resp {
    let mut body = json!({
        "ClientId": client_id,
        "AuthFlow": "REFRESH_TOKEN_AUTH",
        "AuthParameters": {"REFRESH_TOKEN": token},
    });
    if op == "AdminInitiateAuth" {
        body["UserPoolId"] = json!(pool_id);
    }
    srv.call(op, body).await
}

async fn get_tokens(srv: &TestServer, client_id: &str, token: &str) -> Resp {
    srv.call(
        "GetTokensFromRefreshToken",
        json!({"ClientId": client_id, "RefreshToken": token}),
    )
    .await
}

/// M3: a refresh token replaced by rotation no longer works through InitiateAuth or
/// AdminInitiateAuth, and presenting it revokes the whole family, the newest tokens included.
async fn rotated_out_refresh_token_is_refused_everywhere_and_revokes_its_family(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let client_id = api_client(&srv, &f.pool_id, Some(0)).await;
    for op in ["InitiateAuth", "AdminInitiateAuth", "REFRESH_TOKEN"] {
        let (_, r0) = password_sign_in(&srv, &client_id, PASSWORD).await;
        let rotated = get_tokens(&srv, &client_id, &r0).await;
        assert_eq!(rotated.status, 200, "{}", rotated.text);
        let r1 = rotated.body["AuthenticationResult"]["RefreshToken"]
            .as_str()
            .unwrap()
            .to_owned();
        let a1 = rotated.body["AuthenticationResult"]["AccessToken"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(r0, r1);
        assert_eq!(get_user(&srv, &a1).await.status, 200);
        // The old token, replayed through the flow that used to take it.
        let replay = if op == "REFRESH_TOKEN" {
            srv.call(
                "InitiateAuth",
                json!({
                    "ClientId": client_id,
                    "AuthFlow": "REFRESH_TOKEN",
                    "AuthParameters": {"REFRESH_TOKEN": r0},
                }),
            )
            .await
        } else {
            initiate_refresh(&srv, op, &f.pool_id, &client_id, &r0).await
        };
        assert_revoked(&replay);
        // The family is gone: the newest refresh token and the access token minted with it.
        assert_revoked(&get_tokens(&srv, &client_id, &r1).await);
        assert_revoked(&initiate_refresh(&srv, "InitiateAuth", &f.pool_id, &client_id, &r1).await);
        assert_revoked(&get_user(&srv, &a1).await);
        // Another sign-in is untouched.
        let (a2, r2) = password_sign_in(&srv, &client_id, PASSWORD).await;
        assert_eq!(get_user(&srv, &a2).await.status, 200);
        assert_eq!(
            initiate_refresh(&srv, "InitiateAuth", &f.pool_id, &client_id, &r2)
                .await
                .status,
            200
        );
    }
    // GetTokensFromRefreshToken answers reuse with its own error, and revokes likewise.
    let (_, r0) = password_sign_in(&srv, &client_id, PASSWORD).await;
    let rotated = get_tokens(&srv, &client_id, &r0).await;
    let r1 = rotated.body["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = get_tokens(&srv, &client_id, &r0).await;
    assert_eq!(
        (again.status, again.error_type()),
        (400, "RefreshTokenReuseException"),
        "{}",
        again.text
    );
    assert_revoked(&get_tokens(&srv, &client_id, &r1).await);
    // Without rotation, REFRESH_TOKEN_AUTH keeps working as before.
    let plain = api_client(&srv, &f.pool_id, None).await;
    let (_, r) = password_sign_in(&srv, &plain, PASSWORD).await;
    for _ in 0..2 {
        assert_eq!(
            initiate_refresh(&srv, "InitiateAuth", &f.pool_id, &plain, &r)
                .await
                .status,
            200
        );
    }
}

/// M3 at `/oauth2/token`: a replayed rotated-out token kills the newest one too.
async fn reuse_at_the_token_endpoint_revokes_the_family(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    srv.ok(
        "UpdateUserPoolClient",
        json!({
            "UserPoolId": f.pool_id,
            "ClientId": f.client_id,
            "CallbackURLs": [CB],
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "aws.cognito.signin.user.admin"],
            "AllowedOAuthFlowsUserPoolClient": true,
            "SupportedIdentityProviders": ["COGNITO"],
            "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"],
            "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 0},
        }),
    )
    .await;
    let (t, _) = tokens_for(&srv, &f, "openid aws.cognito.signin.user.admin").await;
    let r0 = t["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: String| {
        let srv = &srv;
        let client_id = f.client_id.clone();
        async move {
            super::post_token(
                srv,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", &client_id),
                    ("refresh_token", &token),
                ],
                None,
            )
            .await
        }
    };
    let first = refresh(r0.clone()).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let r1 = first.body["refresh_token"].as_str().unwrap().to_owned();
    let a1 = first.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get_user(&srv, &a1).await.status, 200);
    super::assert_oauth_error(&refresh(r0).await, 400, "invalid_grant");
    super::assert_oauth_error(&refresh(r1).await, 400, "invalid_grant");
    assert_revoked(&get_user(&srv, &a1).await);
}

/// An implicit-flow client of the fixture's pool: (client id, authorize query).
async fn implicit_client(srv: &TestServer, pool_id: &str) -> (String, String) {
    let mut body = web_client();
    body["AllowedOAuthFlows"] = json!(["code", "implicit"]);
    let client = create_client(srv, pool_id, body).await;
    let client_id = client["ClientId"].as_str().unwrap().to_owned();
    let q = query(&[
        ("response_type", "token"),
        ("client_id", &client_id),
        ("redirect_uri", CB),
        ("scope", "openid aws.cognito.signin.user.admin"),
    ]);
    (client_id, q)
}

/// Signs in through the hosted UI with the implicit flow: the access token, and the browser
/// that holds the session cookie.
async fn implicit_sign_in<'a>(srv: &'a TestServer, q: &str) -> (String, Browser<'a>) {
    let mut b = Browser::new(srv);
    let r = b.sign_in(q, "alice", PASSWORD).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let p = redirect_params(&location(&r), true);
    (p["access_token"].clone(), b)
}

/// Whether the browser's hosted-UI session still answers without the sign-in page.
async fn session_resumes(b: &mut Browser<'_>, q: &str) -> bool {
    let r = b.get(&format!("/oauth2/authorize?{q}")).await;
    assert_eq!(r.status, 302, "{}", r.text);
    location(&r).starts_with(CB)
}

/// A second browser with a copy of `b`'s cookies: what a thief of the cookie holds.
fn stolen<'a>(srv: &'a TestServer, b: &Browser<'_>) -> Browser<'a> {
    let mut thief = Browser::new(srv);
    thief.cookies = b.cookies.clone();
    thief
}

/// M4: GlobalSignOut and AdminUserGlobalSignOut reach implicit-flow tokens (which have no
/// refresh token) and the hosted-UI session, copies of its cookie included.
async fn global_sign_out_ends_implicit_tokens_and_hosted_sessions(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let (_, q) = implicit_client(&srv, &f.pool_id).await;
    let api = api_client(&srv, &f.pool_id, None).await;
    for admin in [false, true] {
        let (implicit, mut b) = implicit_sign_in(&srv, &q).await;
        let mut thief = stolen(&srv, &b);
        assert_eq!(get_user(&srv, &implicit).await.status, 200);
        assert_eq!(userinfo_status(&srv, &implicit).await, 200);
        assert!(session_resumes(&mut thief, &q).await);
        if admin {
            srv.ok(
                "AdminUserGlobalSignOut",
                json!({"UserPoolId": f.pool_id, "Username": "alice"}),
            )
            .await;
        } else {
            let (access, _) = password_sign_in(&srv, &api, PASSWORD).await;
            srv.ok("GlobalSignOut", json!({"AccessToken": access}))
                .await;
        }
        let r = get_user(&srv, &implicit).await;
        assert_revoked(&r);
        assert_eq!(r.message(), "Access Token has been revoked");
        assert_eq!(userinfo_status(&srv, &implicit).await, 401);
        assert!(!session_resumes(&mut b, &q).await);
        assert!(!session_resumes(&mut thief, &q).await);
        // Signing in again works.
        let (fresh, _) = implicit_sign_in(&srv, &q).await;
        assert_eq!(get_user(&srv, &fresh).await.status, 200);
    }
}

/// M4: `/logout` ends the session in the store, not only in the browser that asked.
async fn logout_ends_the_session_for_every_copy_of_the_cookie(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let q = code_query(&f.client_id, "openid");
    let mut b = Browser::new(&srv);
    assert_eq!(b.sign_in(&q, "alice", PASSWORD).await.status, 302);
    let mut thief = stolen(&srv, &b);
    let mut other = Browser::new(&srv);
    assert_eq!(other.sign_in(&q, "alice", PASSWORD).await.status, 302);
    assert!(session_resumes(&mut thief, &q).await);
    let r = b
        .get(&format!(
            "/logout?{}",
            query(&[("client_id", &f.client_id), ("logout_uri", super::BYE)])
        ))
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert!(!session_resumes(&mut thief, &q).await);
    // Only that session: the user's other browser stays signed in.
    assert!(session_resumes(&mut other, &q).await);
}

/// M4: ChangePassword ends every other session (the caller's own goes on); AdminSetUserPassword,
/// ConfirmForgotPassword and AdminResetUserPassword end them all: API tokens, refresh tokens,
/// implicit tokens, the hosted-UI session.
async fn password_changes_end_other_sessions(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let api = api_client(&srv, &f.pool_id, None).await;
    let (_, q) = implicit_client(&srv, &f.pool_id).await;
    let mut password = PASSWORD.to_owned();
    for (step, how) in [
        "ChangePassword",
        "AdminSetUserPassword",
        "ConfirmForgotPassword",
        "AdminResetUserPassword",
    ]
    .into_iter()
    .enumerate()
    {
        let (own, own_refresh) = password_sign_in(&srv, &api, &password).await;
        let (other, other_refresh) = password_sign_in(&srv, &api, &password).await;
        let mut b = Browser::new(&srv);
        let r = b.sign_in(&q, "alice", &password).await;
        assert_eq!(r.status, 302, "{}", r.text);
        let implicit = redirect_params(&location(&r), true)["access_token"].clone();
        let next = format!("{NEW_PASSWORD}{step}");
        match how {
            "ChangePassword" => {
                srv.ok(
                    "ChangePassword",
                    json!({"AccessToken": own, "PreviousPassword": password, "ProposedPassword": next}),
                )
                .await;
            }
            "AdminSetUserPassword" => {
                srv.ok(
                    "AdminSetUserPassword",
                    json!({"UserPoolId": f.pool_id, "Username": "alice", "Password": next, "Permanent": true}),
                )
                .await;
            }
            "AdminResetUserPassword" => {
                srv.ok(
                    "AdminResetUserPassword",
                    json!({"UserPoolId": f.pool_id, "Username": "alice"}),
                )
                .await;
            }
            _ => {
                srv.ok(
                    "ForgotPassword",
                    json!({"ClientId": api, "Username": "alice"}),
                )
                .await;
                let code = srv
                    .outbox()
                    .iter()
                    .rev()
                    .find_map(|m| m["code"].as_str().map(str::to_owned))
                    .expect("a reset code in the outbox");
                srv.ok(
                    "ConfirmForgotPassword",
                    json!({"ClientId": api, "Username": "alice", "ConfirmationCode": code, "Password": next}),
                )
                .await;
            }
        }
        password = next;
        assert_revoked(&get_user(&srv, &other).await);
        assert_revoked(&get_user(&srv, &implicit).await);
        assert_revoked(
            &initiate_refresh(&srv, "InitiateAuth", &f.pool_id, &api, &other_refresh).await,
        );
        assert!(!session_resumes(&mut b, &q).await, "{how}");
        let kept = how == "ChangePassword";
        assert_eq!(get_user(&srv, &own).await.status == 200, kept, "{how}");
        assert_eq!(
            initiate_refresh(&srv, "InitiateAuth", &f.pool_id, &api, &own_refresh)
                .await
                .status
                == 200,
            kept,
            "{how}"
        );
    }
}

/// L5: deleting an app client ends its tokens: access tokens everywhere, refresh tokens too.
async fn tokens_of_a_deleted_client_stop_working(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let doomed = api_client(&srv, &f.pool_id, None).await;
    let kept = api_client(&srv, &f.pool_id, None).await;
    let (access, refresh) = password_sign_in(&srv, &doomed, PASSWORD).await;
    let (other, _) = password_sign_in(&srv, &kept, PASSWORD).await;
    assert_eq!(get_user(&srv, &access).await.status, 200);
    srv.ok(
        "DeleteUserPoolClient",
        json!({"UserPoolId": f.pool_id, "ClientId": doomed}),
    )
    .await;
    assert_revoked(&get_user(&srv, &access).await);
    assert_revoked(
        &srv.call(
            "ChangePassword",
            json!({"AccessToken": access, "PreviousPassword": PASSWORD, "ProposedPassword": NEW_PASSWORD}),
        )
        .await,
    );
    assert_revoked(
        &srv.call("GlobalSignOut", json!({"AccessToken": access}))
            .await,
    );
    assert_revoked(&srv.call("DeleteUser", json!({"AccessToken": access})).await);
    let r = get_tokens(&srv, &doomed, &refresh).await;
    assert_eq!(r.status, 400, "{}", r.text);
    // The user and other clients' tokens are untouched.
    assert_eq!(get_user(&srv, &other).await.status, 200);
}

/// L10: PasswordHistorySize N refuses the current password and the N-1 before it, on every
/// path that sets a password; a pool without it lets a password be set again.
async fn password_history_is_enforced(backend: Backend) {
    let srv = start(&backend).await;
    let pool = srv
        .create_pool(json!({
            "PoolName": "history",
            "Policies": {"PasswordPolicy": {"MinimumLength": 8, "PasswordHistorySize": 2}},
        }))
        .await;
    let pool_id = pool["Id"].as_str().unwrap().to_owned();
    super::user_with_password(&srv, &pool_id, "alice").await;
    let client = api_client(&srv, &pool_id, None).await;
    let refused = |r: &Resp| {
        assert_eq!(
            (r.status, r.error_type()),
            (400, "PasswordHistoryPolicyViolationException"),
            "{}",
            r.text
        );
    };
    let change = |access: String, from: &'static str, to: &'static str| {
        let srv = &srv;
        async move {
            srv.call(
                "ChangePassword",
                json!({"AccessToken": access, "PreviousPassword": from, "ProposedPassword": to}),
            )
            .await
        }
    };
    let (access, _) = password_sign_in(&srv, &client, PASSWORD).await;
    // The current password is one of the last two.
    refused(&change(access.clone(), PASSWORD, PASSWORD).await);
    assert_eq!(
        change(access.clone(), PASSWORD, "Second-Pass-2")
            .await
            .status,
        200
    );
    refused(&change(access.clone(), "Second-Pass-2", PASSWORD).await);
    assert_eq!(
        change(access.clone(), "Second-Pass-2", "Third-Pass-3")
            .await
            .status,
        200
    );
    // Three passwords back is beyond a history of two.
    assert_eq!(
        change(access.clone(), "Third-Pass-3", PASSWORD)
            .await
            .status,
        200
    );
    // AdminSetUserPassword.
    let admin_set = |password: &'static str| {
        let srv = &srv;
        let pool_id = pool_id.clone();
        async move {
            srv.call(
                "AdminSetUserPassword",
                json!({"UserPoolId": pool_id, "Username": "alice", "Password": password, "Permanent": true}),
            )
            .await
        }
    };
    refused(&admin_set("Third-Pass-3").await);
    refused(&admin_set(PASSWORD).await);
    // ConfirmForgotPassword.
    srv.ok(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "alice"}),
    )
    .await;
    let code = srv
        .outbox()
        .iter()
        .rev()
        .find_map(|m| m["code"].as_str().map(str::to_owned))
        .expect("a reset code");
    refused(
        &srv.call(
            "ConfirmForgotPassword",
            json!({"ClientId": client, "Username": "alice", "ConfirmationCode": code, "Password": PASSWORD}),
        )
        .await,
    );
    // NEW_PASSWORD_REQUIRED: a temporary password set by an admin cannot become permanent.
    assert_eq!(
        srv.call(
            "AdminSetUserPassword",
            json!({"UserPoolId": pool_id, "Username": "alice", "Password": "Temporary-9x", "Permanent": false}),
        )
        .await
        .status,
        200
    );
    let challenge = srv
        .ok(
            "InitiateAuth",
            json!({
                "ClientId": client,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "alice", "PASSWORD": "Temporary-9x"},
            }),
        )
        .await;
    assert_eq!(challenge["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let respond = |password: &'static str, session: Value| {
        let srv = &srv;
        let client = client.clone();
        async move {
            srv.call(
                "RespondToAuthChallenge",
                json!({
                    "ClientId": client,
                    "ChallengeName": "NEW_PASSWORD_REQUIRED",
                    "Session": session,
                    "ChallengeResponses": {"USERNAME": "alice", "NEW_PASSWORD": password},
                }),
            )
            .await
        }
    };
    refused(&respond("Temporary-9x", challenge["Session"].clone()).await);

    // Without a history, the same password may be set again.
    let plain = srv.new_pool("no-history").await;
    super::user_with_password(&srv, &plain, "alice").await;
    let plain_client = api_client(&srv, &plain, None).await;
    let (access, _) = password_sign_in(&srv, &plain_client, PASSWORD).await;
    assert_eq!(change(access, PASSWORD, PASSWORD).await.status, 200);
}

/// Cognito sends the browser to `/error?error=redirect_mismatch&client_id=...` for a
/// redirect URI the client has not registered.
async fn unregistered_redirect_uri_goes_to_cognitos_error_page(backend: Backend) {
    let srv = start(&backend).await;
    let f = fixture(&srv).await;
    let mut b = Browser::new(&srv);
    let r = b
        .get(&format!(
            "/oauth2/authorize?{}",
            query(&[
                ("response_type", "code"),
                ("client_id", &f.client_id),
                ("redirect_uri", "https://evil.example.com/cb"),
                ("scope", "openid"),
            ])
        ))
        .await;
    assert_redirect_mismatch(&mut b, &r, &f.client_id).await;
    // The page for a code it does not know says nothing the URL did not.
    let page = b.get("/error?error=%3Cscript%3E").await;
    assert_error_page(&page, 400);
    assert!(!page.text.contains("<script>"));
}
