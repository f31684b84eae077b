//! Sign-in under attack: lockout that holds against parallel guessing, and answers that do not
//! tell which users exist when the app client asks for that (PreventUserExistenceErrors).
//! Lockout cases run on a frozen clock, so "twenty at once" and "twenty in a row" meet the
//! same lock however fast the machine is.

use std::collections::BTreeMap;
use std::sync::Arc;

use portcullis_core::rng::SystemRng;
use portcullis_core::srp::client::{Challenge, Client};
use portcullis_core::srp::format_timestamp;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::support::{Backend, Flags, Req, Resp, TestServer, frozen_clock, start, start_flags};

backend_tests!(
    parallel_wrong_passwords_lock_like_sequential_ones,
    parallel_wrong_srp_answers_and_old_passwords_lock_too,
    unknown_names_answer_like_known_ones,
    decoy_salts_are_stable_and_follow_the_pools_case_rule,
    email_pools_give_unknown_names_a_stable_uuid,
    new_password_challenge_rechecks_the_user,
    unconfirmed_users_are_refused_before_the_password,
    flow_not_enabled_names_the_flow,
);

const PASSWORD: &str = "Correct-Horse-9";
const WRONG: &str = "Wrong-Battery-7";
const INCORRECT: &str = "Incorrect username or password.";
const LOCKED: &str = "Password attempts exceeded";

const ALL_FLOWS: [&str; 4] = [
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
];

async fn frozen(backend: &Backend) -> (TestServer, &'static portcullis_core::clock::ManualClock) {
    let clock = frozen_clock();
    let srv = start_flags(
        backend,
        Flags {
            clock: Some(clock),
            ..Flags::default()
        },
    )
    .await;
    (srv, clock)
}

async fn pool(srv: &TestServer, extra: Value) -> String {
    let mut body = json!({ "PoolName": "signin" });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    srv.create_pool(body).await["Id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn client(srv: &TestServer, pool_id: &str, prevent: &str, flows: &[&str]) -> String {
    srv.ok(
        "CreateUserPoolClient",
        json!({
            "UserPoolId": pool_id,
            "ClientName": "app",
            "ExplicitAuthFlows": flows,
            "PreventUserExistenceErrors": prevent,
        }),
    )
    .await["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn confirmed_user(srv: &TestServer, pool_id: &str, username: &str, attrs: &[(&str, &str)]) {
    srv.create_user(pool_id, username, attrs).await;
    srv.ok(
        "AdminSetUserPassword",
        json!({ "UserPoolId": pool_id, "Username": username, "Password": PASSWORD,
                "Permanent": true }),
    )
    .await;
}

async fn public(srv: &TestServer, op: &str, body: Value) -> Resp {
    srv.send(Req::op(op, &body).unsigned()).await
}

async fn password_auth(srv: &TestServer, client_id: &str, username: &str, password: &str) -> Resp {
    public(
        srv,
        "InitiateAuth",
        json!({
            "ClientId": client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": { "USERNAME": username, "PASSWORD": password },
        }),
    )
    .await
}

/// What an answer says, for comparing answers: status, type and message, or the result shape.
fn outcome(r: &Resp) -> String {
    if r.status == 200 {
        let kind = if r.body["AuthenticationResult"].is_object() {
            "tokens".to_owned()
        } else {
            format!("challenge {}", r.body["ChallengeName"])
        };
        return format!("200 {kind}");
    }
    format!("{} {} {}", r.status, r.error_type(), r.message())
}

fn tally(answers: &[Resp]) -> BTreeMap<String, usize> {
    let mut t = BTreeMap::new();
    for r in answers {
        *t.entry(outcome(r)).or_insert(0) += 1;
    }
    t
}

fn expected_tally(incorrect: usize, locked: usize) -> BTreeMap<String, usize> {
    BTreeMap::from([
        (format!("400 NotAuthorizedException {INCORRECT}"), incorrect),
        (format!("400 NotAuthorizedException {LOCKED}"), locked),
    ])
}

/// Sends the same call twenty times at once.
async fn twenty_at_once(srv: &Arc<TestServer>, op: &'static str, bodies: Vec<Value>) -> Vec<Resp> {
    let mut set = JoinSet::new();
    for body in bodies {
        let srv = srv.clone();
        set.spawn(async move { public(&srv, op, body).await });
    }
    set.join_all().await
}

fn password_body(client_id: &str, username: &str, password: &str) -> Value {
    json!({
        "ClientId": client_id,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": { "USERNAME": username, "PASSWORD": password },
    })
}

async fn parallel_wrong_passwords_lock_like_sequential_ones(backend: Backend) {
    let (srv, clock) = frozen(&backend).await;
    let pool_id = pool(&srv, json!({})).await;
    let client_id = client(&srv, &pool_id, "LEGACY", &ALL_FLOWS).await;
    for name in ["one-by-one", "all-at-once"] {
        confirmed_user(&srv, &pool_id, name, &[]).await;
    }
    let mut sequential = vec![];
    for _ in 0..20 {
        sequential.push(password_auth(&srv, &client_id, "one-by-one", WRONG).await);
    }
    let srv = Arc::new(srv);
    let bodies = (0..20)
        .map(|_| password_body(&client_id, "all-at-once", WRONG))
        .collect();
    let parallel = twenty_at_once(&srv, "InitiateAuth", bodies).await;
    // Five guesses are checked, the fifth locks, the other fifteen are refused unchecked.
    assert_eq!(tally(&sequential), expected_tally(5, 15));
    assert_eq!(tally(&parallel), expected_tally(5, 15));
    // Both users are under the same lock: the right password is refused too...
    for name in ["one-by-one", "all-at-once"] {
        let r = password_auth(&srv, &client_id, name, PASSWORD).await;
        assert_eq!(outcome(&r), format!("400 NotAuthorizedException {LOCKED}"));
    }
    // ...until the first lock (one second) is over, and not a millisecond longer.
    clock.advance_ms(1_000);
    for name in ["one-by-one", "all-at-once"] {
        let r = password_auth(&srv, &client_id, name, PASSWORD).await;
        assert_eq!(outcome(&r), "200 tokens", "{name}: {}", r.text);
    }
}

/// Starts SRP for `username` and answers with `password`; returns the start's answer and the
/// answer's body (or the start's answer twice when it failed).
async fn srp_start(srv: &TestServer, client_id: &str, username: &str, c: &Client) -> Resp {
    public(
        srv,
        "InitiateAuth",
        json!({
            "ClientId": client_id,
            "AuthFlow": "USER_SRP_AUTH",
            "AuthParameters": { "USERNAME": username, "SRP_A": c.srp_a_hex() },
        }),
    )
    .await
}

fn srp_answer_body(
    pool_id: &str,
    client_id: &str,
    started: &Resp,
    c: &Client,
    password: &str,
    now_ms: i64,
) -> Value {
    let p = &started.body["ChallengeParameters"];
    let user_id = p["USER_ID_FOR_SRP"].as_str().unwrap();
    let timestamp = format_timestamp(now_ms / 1000).unwrap();
    let challenge = Challenge {
        pool_name: pool_id.split_once('_').unwrap().1,
        user_id_for_srp: user_id,
        password,
        salt_hex: p["SALT"].as_str().unwrap(),
        srp_b_hex: p["SRP_B"].as_str().unwrap(),
        secret_block_b64: p["SECRET_BLOCK"].as_str().unwrap(),
        timestamp: &timestamp,
    };
    json!({
        "ClientId": client_id,
        "ChallengeName": "PASSWORD_VERIFIER",
        "Session": started.body["Session"],
        "ChallengeResponses": {
            "USERNAME": p["USERNAME"],
            "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
            "PASSWORD_CLAIM_SIGNATURE": c.password_claim_signature(&challenge).unwrap(),
            "TIMESTAMP": timestamp,
        },
    })
}

async fn srp_sign_in(
    srv: &TestServer,
    pool_id: &str,
    client_id: &str,
    username: &str,
    password: &str,
    now_ms: i64,
) -> Resp {
    let c = Client::new(&SystemRng).unwrap();
    let started = srp_start(srv, client_id, username, &c).await;
    if started.status != 200 {
        return started;
    }
    let body = srp_answer_body(pool_id, client_id, &started, &c, password, now_ms);
    public(srv, "RespondToAuthChallenge", body).await
}

async fn parallel_wrong_srp_answers_and_old_passwords_lock_too(backend: Backend) {
    let (srv, clock) = frozen(&backend).await;
    let now = portcullis_core::clock::Clock::now_ms(clock);
    let pool_id = pool(&srv, json!({})).await;
    let client_id = client(&srv, &pool_id, "LEGACY", &ALL_FLOWS).await;
    confirmed_user(&srv, &pool_id, "sam", &[]).await;
    // Twenty SRP challenges, then twenty wrong proofs at once.
    let mut bodies = vec![];
    for _ in 0..20 {
        let c = Client::new(&SystemRng).unwrap();
        let started = srp_start(&srv, &client_id, "sam", &c).await;
        assert_eq!(started.status, 200, "{}", started.text);
        bodies.push(srp_answer_body(
            &pool_id, &client_id, &started, &c, WRONG, now,
        ));
    }
    let srv = Arc::new(srv);
    let answers = twenty_at_once(&srv, "RespondToAuthChallenge", bodies).await;
    assert_eq!(tally(&answers), expected_tally(5, 15));
    let r = srp_sign_in(&srv, &pool_id, &client_id, "sam", PASSWORD, now).await;
    assert_eq!(outcome(&r), format!("400 NotAuthorizedException {LOCKED}"));
    clock.advance_ms(1_000);
    let now = now + 1_000;
    let r = srp_sign_in(&srv, &pool_id, &client_id, "sam", PASSWORD, now).await;
    assert_eq!(outcome(&r), "200 tokens", "{}", r.text);

    // ChangePassword's previous password is a password check like any other.
    let access = r.body["AuthenticationResult"]["AccessToken"].clone();
    let bodies = (0..20)
        .map(|_| {
            json!({ "AccessToken": access, "PreviousPassword": WRONG,
                    "ProposedPassword": "Brand-New-Pass-1" })
        })
        .collect();
    let answers = twenty_at_once(&srv, "ChangePassword", bodies).await;
    assert_eq!(tally(&answers), expected_tally(5, 15));
    let r = public(
        &srv,
        "ChangePassword",
        json!({ "AccessToken": access, "PreviousPassword": PASSWORD,
                "ProposedPassword": "Brand-New-Pass-1" }),
    )
    .await;
    assert_eq!(outcome(&r), format!("400 NotAuthorizedException {LOCKED}"));
}

async fn unknown_names_answer_like_known_ones(backend: Backend) {
    let (srv, clock) = frozen(&backend).await;
    let mut now = portcullis_core::clock::Clock::now_ms(clock);
    let pool_id = pool(&srv, json!({})).await;
    let client_id = client(&srv, &pool_id, "ENABLED", &ALL_FLOWS).await;
    confirmed_user(&srv, &pool_id, "alice", &[]).await;

    // Wrong passwords, then the lock: the same answers, in the same order, on every path.
    let mut answers: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for name in ["alice", "nobody"] {
        let seen = answers.entry(name).or_default();
        for _ in 0..6 {
            seen.push(outcome(&password_auth(&srv, &client_id, name, WRONG).await));
        }
        // SRP's first step shows the lock as well.
        let c = Client::new(&SystemRng).unwrap();
        seen.push(outcome(&srp_start(&srv, &client_id, name, &c).await));
        let admin = srv
            .call(
                "AdminInitiateAuth",
                json!({ "UserPoolId": pool_id, "ClientId": client_id,
                        "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                        "AuthParameters": { "USERNAME": name, "PASSWORD": WRONG } }),
            )
            .await;
        seen.push(outcome(&admin));
    }
    assert_eq!(answers["alice"], answers["nobody"]);
    assert_eq!(
        answers["nobody"][..5],
        vec![format!("400 NotAuthorizedException {INCORRECT}"); 5]
    );
    assert_eq!(
        answers["nobody"][5..],
        vec![format!("400 NotAuthorizedException {LOCKED}"); 3]
    );

    // After the lock: SRP challenges of the same shape, and the same refusal of a wrong proof.
    clock.advance_ms(1_000);
    now += 1_000;
    let mut shapes = vec![];
    for name in ["alice", "nobody"] {
        let c = Client::new(&SystemRng).unwrap();
        let started = srp_start(&srv, &client_id, name, &c).await;
        assert_eq!(started.status, 200, "{}", started.text);
        let p = &started.body["ChallengeParameters"];
        let keys: Vec<String> = p.as_object().unwrap().keys().cloned().collect();
        assert_eq!(p["USERNAME"], name);
        assert_eq!(p["USER_ID_FOR_SRP"], name);
        let salt_len = p["SALT"].as_str().unwrap().len();
        assert!(salt_len == 32 || salt_len == 34, "{p}");
        shapes.push((
            keys,
            started.body["ChallengeName"].clone(),
            started.body["Session"].as_str().unwrap().len(),
            p["SECRET_BLOCK"].as_str().unwrap().len(),
        ));
        let body = srp_answer_body(&pool_id, &client_id, &started, &c, WRONG, now);
        let answered = public(&srv, "RespondToAuthChallenge", body).await;
        assert_eq!(
            outcome(&answered),
            format!("400 NotAuthorizedException {INCORRECT}"),
            "{name}"
        );
    }
    assert_eq!(shapes[0], shapes[1]);
    // That wrong proof was the sixth failure for both: a two-second lock for both.
    for name in ["alice", "nobody"] {
        let r = password_auth(&srv, &client_id, name, WRONG).await;
        assert_eq!(outcome(&r), format!("400 NotAuthorizedException {LOCKED}"));
    }
}

fn srp_params(started: &Resp) -> (String, String) {
    assert_eq!(started.status, 200, "{}", started.text);
    let p = &started.body["ChallengeParameters"];
    assert_eq!(p["USERNAME"], p["USER_ID_FOR_SRP"]);
    (
        p["SALT"].as_str().unwrap().to_owned(),
        p["USER_ID_FOR_SRP"].as_str().unwrap().to_owned(),
    )
}

async fn start_for(srv: &TestServer, client_id: &str, name: &str) -> (String, String) {
    let c = Client::new(&SystemRng).unwrap();
    srp_params(&srp_start(srv, client_id, name, &c).await)
}

async fn decoy_salts_are_stable_and_follow_the_pools_case_rule(backend: Backend) {
    let srv = start(&backend).await;
    let folding = pool(
        &srv,
        json!({ "UsernameConfiguration": { "CaseSensitive": false } }),
    )
    .await;
    let strict = pool(&srv, json!({ "PoolName": "strict" })).await;
    let folding_client = client(&srv, &folding, "ENABLED", &ALL_FLOWS).await;
    let strict_client = client(&srv, &strict, "ENABLED", &ALL_FLOWS).await;
    confirmed_user(&srv, &folding, "Real", &[]).await;

    let (ghost, id) = start_for(&srv, &folding_client, "Ghost").await;
    // The canonical (folded) name comes back, as a real user's stored name would.
    assert_eq!(id, "ghost");
    assert_eq!(
        start_for(&srv, &folding_client, "ghost").await,
        (ghost.clone(), id)
    );
    assert_eq!(start_for(&srv, &folding_client, "GHOST").await.0, ghost);
    assert_ne!(start_for(&srv, &folding_client, "spirit").await.0, ghost);
    // A real user's salt is as stable, and its name comes back as stored.
    let (real, real_id) = start_for(&srv, &folding_client, "REAL").await;
    assert_eq!(real_id, "Real");
    assert_eq!(start_for(&srv, &folding_client, "real").await.0, real);
    // In a case-sensitive pool, `Ghost` and `ghost` are two names.
    let (strict_upper, strict_id) = start_for(&srv, &strict_client, "Ghost").await;
    assert_eq!(strict_id, "Ghost");
    assert_ne!(
        start_for(&srv, &strict_client, "ghost").await.0,
        strict_upper
    );
    // Salts are per pool.
    assert_ne!(strict_upper, ghost);

    // The same after a restart with the same master key: no per-process secret behind them.
    let srv = srv.restart().await;
    assert_eq!(start_for(&srv, &folding_client, "gHoSt").await.0, ghost);
    assert_eq!(
        start_for(&srv, &strict_client, "Ghost").await.0,
        strict_upper
    );
    assert_eq!(start_for(&srv, &folding_client, "Real").await.0, real);
}

async fn email_pools_give_unknown_names_a_stable_uuid(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = pool(&srv, json!({ "UsernameAttributes": ["email"] })).await;
    let client_id = client(&srv, &pool_id, "ENABLED", &ALL_FLOWS).await;
    confirmed_user(&srv, &pool_id, "carol@example.com", &[]).await;
    let sub = srv.get_user(&pool_id, "carol@example.com").await["Username"]
        .as_str()
        .unwrap()
        .to_owned();

    let (_, real) = start_for(&srv, &client_id, "Carol@Example.com").await;
    assert_eq!(real, sub);
    let (salt, unknown) = start_for(&srv, &client_id, "nobody@example.com").await;
    let parsed = uuid::Uuid::parse_str(&unknown).unwrap();
    assert_eq!(parsed.get_version_num(), 4, "{unknown}");
    assert_eq!(parsed.to_string(), unknown);
    assert_eq!(
        start_for(&srv, &client_id, "NoBody@Example.COM").await,
        (salt.clone(), unknown.clone())
    );
    assert_ne!(
        start_for(&srv, &client_id, "somebody@example.com").await.1,
        unknown
    );
    let srv = srv.restart().await;
    assert_eq!(
        start_for(&srv, &client_id, "nobody@example.com").await,
        (salt, unknown)
    );
}

async fn new_password_challenge(srv: &TestServer, client_id: &str, username: &str) -> Value {
    let r = password_auth(srv, client_id, username, "Temporary-Pass-1").await;
    assert_eq!(
        outcome(&r),
        "200 challenge \"NEW_PASSWORD_REQUIRED\"",
        "{}",
        r.text
    );
    r.body["Session"].clone()
}

async fn new_password_challenge_rechecks_the_user(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = pool(&srv, json!({})).await;
    let client_id = client(&srv, &pool_id, "LEGACY", &ALL_FLOWS).await;
    for name in ["dana", "eli"] {
        srv.ok(
            "AdminCreateUser",
            json!({ "UserPoolId": pool_id, "Username": name,
                    "TemporaryPassword": "Temporary-Pass-1", "MessageAction": "SUPPRESS" }),
        )
        .await;
    }
    let answer = |session: Value, name: &str| {
        json!({
            "ClientId": client_id,
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "Session": session,
            "ChallengeResponses": { "USERNAME": name, "NEW_PASSWORD": PASSWORD },
        })
    };

    // Disabled after the challenge was issued: no tokens, and the password is not changed.
    let session = new_password_challenge(&srv, &client_id, "dana").await;
    srv.ok(
        "AdminDisableUser",
        json!({ "UserPoolId": pool_id, "Username": "dana" }),
    )
    .await;
    let r = public(
        &srv,
        "RespondToAuthChallenge",
        answer(session.clone(), "dana"),
    )
    .await;
    assert_eq!(outcome(&r), "400 NotAuthorizedException User is disabled.");
    let dana = srv.get_user(&pool_id, "dana").await;
    assert_eq!(dana["UserStatus"], "FORCE_CHANGE_PASSWORD");
    srv.ok(
        "AdminEnableUser",
        json!({ "UserPoolId": pool_id, "Username": "dana" }),
    )
    .await;
    let r = public(&srv, "RespondToAuthChallenge", answer(session, "dana")).await;
    assert_eq!(outcome(&r), "200 tokens", "{}", r.text);

    // Given a permanent password by an administrator meanwhile: the challenge is void.
    let session = new_password_challenge(&srv, &client_id, "eli").await;
    srv.ok(
        "AdminSetUserPassword",
        json!({ "UserPoolId": pool_id, "Username": "eli", "Password": "Admin-Chosen-1",
                "Permanent": true }),
    )
    .await;
    let r = public(&srv, "RespondToAuthChallenge", answer(session, "eli")).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.error_type(), "NotAuthorizedException");
    let r = password_auth(&srv, &client_id, "eli", "Admin-Chosen-1").await;
    assert_eq!(outcome(&r), "200 tokens", "{}", r.text);
}

async fn unconfirmed_users_are_refused_before_the_password(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = pool(&srv, json!({})).await;
    let legacy = client(&srv, &pool_id, "LEGACY", &ALL_FLOWS).await;
    let enabled = client(&srv, &pool_id, "ENABLED", &ALL_FLOWS).await;
    let r = public(
        &srv,
        "SignUp",
        json!({ "ClientId": legacy, "Username": "uma", "Password": PASSWORD }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let not_confirmed = "400 UserNotConfirmedException User is not confirmed.";

    // Cognito answers before the password: a wrong one gets the same answer as the right one,
    // from InitiateAuth, in either flow.
    for password in [WRONG, PASSWORD] {
        let r = password_auth(&srv, &legacy, "uma", password).await;
        assert_eq!(outcome(&r), not_confirmed);
    }
    let c = Client::new(&SystemRng).unwrap();
    assert_eq!(
        outcome(&srp_start(&srv, &legacy, "uma", &c).await),
        not_confirmed
    );
    // Those were no password checks: nothing was counted towards a lock.
    for _ in 0..6 {
        let r = password_auth(&srv, &legacy, "uma", WRONG).await;
        assert_eq!(outcome(&r), not_confirmed);
    }
    // A client that hides which users exist asks for the password first.
    let r = password_auth(&srv, &enabled, "uma", WRONG).await;
    assert_eq!(
        outcome(&r),
        format!("400 NotAuthorizedException {INCORRECT}")
    );
    let r = password_auth(&srv, &enabled, "uma", PASSWORD).await;
    assert_eq!(outcome(&r), not_confirmed);
}

async fn flow_not_enabled_names_the_flow(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = pool(&srv, json!({})).await;
    let flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"];
    let client_id = client(&srv, &pool_id, "LEGACY", &flows).await;
    confirmed_user(&srv, &pool_id, "fay", &[]).await;
    let r = password_auth(&srv, &client_id, "fay", PASSWORD).await;
    assert_eq!(
        outcome(&r),
        "400 InvalidParameterException USER_PASSWORD_AUTH flow not enabled for this client"
    );
    let r = srv
        .call(
            "AdminInitiateAuth",
            json!({ "UserPoolId": pool_id, "ClientId": client_id,
                    "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                    "AuthParameters": { "USERNAME": "fay", "PASSWORD": PASSWORD } }),
        )
        .await;
    assert_eq!(
        outcome(&r),
        "400 InvalidParameterException Auth flow not enabled for this client"
    );
}
