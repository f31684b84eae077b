//! Attribute permissions end to end: what a user may write through an app client (SignUp,
//! UpdateUserAttributes, the NEW_PASSWORD_REQUIRED answer) and what the client may read
//! (GetUser, the challenge's `userAttributes`, ID tokens); verification that applies the
//! new value; aliases no username can shadow; and the schema texts Cognito uses.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::support::{Backend, Req, Resp, TestServer, attr, start};

backend_tests!(
    user_writes_follow_the_client_permissions,
    new_password_challenge_follows_the_same_rules,
    reads_follow_read_attributes_and_hide_developer_only_ones,
    verified_update_applies_the_new_value,
    verified_update_to_a_taken_alias_is_refused,
    alias_pools_refuse_usernames_that_shadow_aliases,
    preferred_username_cannot_shadow_a_username,
    schema_texts_follow_cognito,
    email_change_to_a_taken_sign_in_email_is_alias_exists,
);

const PASSWORD: &str = "Correct-Horse-9";
const UNAUTHORIZED: &str = "A client attempted to write unauthorized attribute";

async fn public(srv: &TestServer, op: &str, body: Value) -> Resp {
    srv.send(Req::op(op, &body).unsigned()).await
}

#[track_caller]
fn assert_refused(r: &Resp, error_type: &str, message: &str) {
    assert_eq!(
        (r.status, r.error_type(), r.message()),
        (400, error_type, message),
        "{}",
        r.text
    );
}

fn attrs(list: &[(&str, &str)]) -> Value {
    Value::Array(
        list.iter()
            .map(|(n, v)| json!({ "Name": n, "Value": v }))
            .collect(),
    )
}

/// A pool with a developer-only `role` and an immutable `tenant`, plus `extra` settings.
async fn pool(srv: &TestServer, extra: Value) -> String {
    let mut body = json!({
        "PoolName": "attrs",
        "Schema": [
            { "Name": "role", "AttributeDataType": "String", "DeveloperOnlyAttribute": true },
            { "Name": "tenant", "AttributeDataType": "String", "Mutable": false },
            { "Name": "tier", "AttributeDataType": "String" },
        ],
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    srv.create_pool(body).await["Id"]
        .as_str()
        .expect("pool id")
        .to_owned()
}

async fn client(srv: &TestServer, pool_id: &str, extra: Value) -> String {
    let mut body = json!({
        "UserPoolId": pool_id,
        "ClientName": "app",
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    srv.ok("CreateUserPoolClient", body).await["UserPoolClient"]["ClientId"]
        .as_str()
        .expect("client id")
        .to_owned()
}

/// A confirmed user with a permanent password and these attributes (written by an admin).
async fn user(srv: &TestServer, pool_id: &str, username: &str, list: &[(&str, &str)]) {
    srv.create_user(pool_id, username, list).await;
    srv.ok(
        "AdminSetUserPassword",
        json!({ "UserPoolId": pool_id, "Username": username, "Password": PASSWORD, "Permanent": true }),
    )
    .await;
}

async fn sign_in(srv: &TestServer, client_id: &str, username: &str) -> Value {
    let r = public(
        srv,
        "InitiateAuth",
        json!({
            "ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": { "USERNAME": username, "PASSWORD": PASSWORD },
        }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["AuthenticationResult"].clone()
}

async fn access_token(srv: &TestServer, client_id: &str, username: &str) -> String {
    sign_in(srv, client_id, username).await["AccessToken"]
        .as_str()
        .expect("access token")
        .to_owned()
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("json")
}

async fn admin_attrs(srv: &TestServer, pool_id: &str, username: &str) -> Value {
    srv.get_user(pool_id, username).await["UserAttributes"].clone()
}

async fn update(srv: &TestServer, token: &str, list: &[(&str, &str)]) -> Resp {
    public(
        srv,
        "UpdateUserAttributes",
        json!({ "AccessToken": token, "UserAttributes": attrs(list) }),
    )
    .await
}

/// The code most recently sent to `destination`.
fn last_code(srv: &TestServer, destination: &str) -> String {
    srv.outbox()
        .iter()
        .rev()
        .find(|m| m["destination"] == destination)
        .and_then(|m| m["code"].as_str())
        .unwrap_or_else(|| panic!("no code for {destination} in {:?}", srv.outbox()))
        .to_owned()
}

async fn user_writes_follow_the_client_permissions(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = pool(&srv, json!({})).await;
    let open = client(&srv, &pool_id, json!({})).await;
    let narrow = client(
        &srv,
        &pool_id,
        json!({ "WriteAttributes": ["name", "email"] }),
    )
    .await;
    let custom = client(
        &srv,
        &pool_id,
        json!({ "WriteAttributes": ["name", "email", "custom:tenant", "custom:tier"] }),
    )
    .await;
    let sign_up = |client_id: &str, username: &str, list: &[(&str, &str)]| {
        public(
            &srv,
            "SignUp",
            json!({
                "ClientId": client_id, "Username": username, "Password": PASSWORD,
                "UserAttributes": attrs(list),
            }),
        )
    };
    // SignUp: developer-only attributes, verification flags and attributes outside the
    // client's WriteAttributes are refused, and no user is created.
    for (client_id, list) in [
        (&open, vec![("dev:custom:role", "admin")]),
        (
            &open,
            vec![("email", "m@example.com"), ("email_verified", "true")],
        ),
        (&open, vec![("phone_number_verified", "true")]),
        (&narrow, vec![("custom:tier", "gold")]),
        // Without WriteAttributes a client writes standard attributes only.
        (&open, vec![("custom:tier", "gold")]),
    ] {
        let r = sign_up(client_id, "mallory", &list).await;
        assert_refused(&r, "NotAuthorizedException", UNAUTHORIZED);
    }
    assert!(srv.all_users(&pool_id).await.is_empty());
    // An immutable attribute is set at creation.
    let r = sign_up(&custom, "mallory", &[("custom:tenant", "acme")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    srv.ok(
        "AdminConfirmSignUp",
        json!({ "UserPoolId": pool_id, "Username": "mallory" }),
    )
    .await;

    user(
        &srv,
        &pool_id,
        "alice",
        &[("email", "alice@example.com"), ("email_verified", "true")],
    )
    .await;
    let token = access_token(&srv, &custom, "alice").await;
    let before = admin_attrs(&srv, &pool_id, "alice").await;
    for (list, error_type, message) in [
        (
            vec![("dev:custom:role", "admin")],
            "NotAuthorizedException",
            UNAUTHORIZED,
        ),
        (
            vec![("email_verified", "true")],
            "NotAuthorizedException",
            UNAUTHORIZED,
        ),
        // Never set, still immutable after creation.
        (
            vec![("custom:tenant", "other")],
            "InvalidParameterException",
            "user.custom:tenant: Attribute cannot be updated.",
        ),
        // One forbidden attribute spoils the whole call.
        (
            vec![("name", "Alice"), ("dev:custom:role", "admin")],
            "NotAuthorizedException",
            UNAUTHORIZED,
        ),
    ] {
        let r = update(&srv, &token, &list).await;
        assert_refused(&r, error_type, message);
    }
    let narrow_token = access_token(&srv, &narrow, "alice").await;
    let r = update(&srv, &narrow_token, &[("custom:tier", "gold")]).await;
    assert_refused(&r, "NotAuthorizedException", UNAUTHORIZED);
    let r = public(
        &srv,
        "DeleteUserAttributes",
        json!({ "AccessToken": token, "UserAttributeNames": ["email_verified"] }),
    )
    .await;
    assert_refused(&r, "NotAuthorizedException", UNAUTHORIZED);
    assert_eq!(admin_attrs(&srv, &pool_id, "alice").await, before);

    // Allowed writes go through; a changed email loses its verification.
    let r = update(
        &srv,
        &narrow_token,
        &[("name", "Alice"), ("email", "new@example.com")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let after = admin_attrs(&srv, &pool_id, "alice").await;
    assert_eq!(attr(&after, "name"), Some("Alice"));
    assert_eq!(attr(&after, "email"), Some("new@example.com"));
    assert_eq!(attr(&after, "email_verified"), Some("false"));

    // An admin writes developer-only attributes under their dev:custom: name.
    srv.ok(
        "AdminUpdateUserAttributes",
        json!({
            "UserPoolId": pool_id, "Username": "alice",
            "UserAttributes": attrs(&[("dev:custom:role", "admin")]),
        }),
    )
    .await;
    assert_eq!(
        attr(
            &admin_attrs(&srv, &pool_id, "alice").await,
            "dev:custom:role"
        ),
        Some("admin")
    );
}

async fn new_password_challenge_follows_the_same_rules(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = pool(&srv, json!({})).await;
    let open = client(
        &srv,
        &pool_id,
        json!({ "WriteAttributes": ["email", "name", "custom:tenant"] }),
    )
    .await;
    srv.ok(
        "AdminCreateUser",
        json!({
            "UserPoolId": pool_id, "Username": "carol", "TemporaryPassword": "Temp-Pass-123",
            "MessageAction": "SUPPRESS",
            "UserAttributes": attrs(&[
                ("email", "carol@example.com"), ("email_verified", "true"),
                ("dev:custom:role", "staff"),
            ]),
        }),
    )
    .await;
    let challenge = || async {
        let r = public(
            &srv,
            "InitiateAuth",
            json!({
                "ClientId": open, "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": { "USERNAME": "carol", "PASSWORD": "Temp-Pass-123" },
            }),
        )
        .await;
        assert_eq!(
            r.body["ChallengeName"], "NEW_PASSWORD_REQUIRED",
            "{}",
            r.text
        );
        r.body
    };
    let c = challenge().await;
    let shown: Value =
        serde_json::from_str(c["ChallengeParameters"]["userAttributes"].as_str().unwrap()).unwrap();
    assert_eq!(shown["email"], "carol@example.com", "{shown}");
    assert!(shown.get("dev:custom:role").is_none(), "{shown}");
    // A client that may read only `name` is shown only that.
    let reader = client(&srv, &pool_id, json!({ "ReadAttributes": ["name"] })).await;
    let r = public(
        &srv,
        "InitiateAuth",
        json!({
            "ClientId": reader, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": { "USERNAME": "carol", "PASSWORD": "Temp-Pass-123" },
        }),
    )
    .await;
    let shown: Value = serde_json::from_str(
        r.body["ChallengeParameters"]["userAttributes"]
            .as_str()
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    assert_eq!(shown, json!({}), "{}", r.text);
    let answer = |session: &str, extra: &[(&str, &str)]| {
        let mut responses = json!({ "USERNAME": "carol", "NEW_PASSWORD": "Brand-New-Pass-7" });
        for (n, v) in extra {
            responses[format!("userAttributes.{n}")] = json!(v);
        }
        public(
            &srv,
            "RespondToAuthChallenge",
            json!({
                "ClientId": open, "ChallengeName": "NEW_PASSWORD_REQUIRED",
                "Session": session, "ChallengeResponses": responses,
            }),
        )
    };
    for (extra, error_type, message) in [
        (
            vec![("email_verified", "true")],
            "NotAuthorizedException",
            UNAUTHORIZED,
        ),
        (
            vec![("dev:custom:role", "admin")],
            "NotAuthorizedException",
            UNAUTHORIZED,
        ),
        (
            vec![("custom:tenant", "acme")],
            "InvalidParameterException",
            "user.custom:tenant: Attribute cannot be updated.",
        ),
    ] {
        let c = challenge().await;
        let r = answer(c["Session"].as_str().unwrap(), &extra).await;
        assert_refused(&r, error_type, message);
    }
    assert_eq!(
        srv.get_user(&pool_id, "carol").await["UserStatus"],
        "FORCE_CHANGE_PASSWORD"
    );
    // A new email in the answer is written unverified, and is no verified alias.
    let c = challenge().await;
    let r = answer(
        c["Session"].as_str().unwrap(),
        &[("email", "other@example.com")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let after = admin_attrs(&srv, &pool_id, "carol").await;
    assert_eq!(attr(&after, "email"), Some("other@example.com"));
    assert_eq!(attr(&after, "email_verified"), Some("false"));
    assert_eq!(attr(&after, "dev:custom:role"), Some("staff"));
}

async fn reads_follow_read_attributes_and_hide_developer_only_ones(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = pool(&srv, json!({})).await;
    let open = client(&srv, &pool_id, json!({})).await;
    let narrow = client(&srv, &pool_id, json!({ "ReadAttributes": ["name"] })).await;
    user(
        &srv,
        &pool_id,
        "dave",
        &[
            ("name", "Dave"),
            ("email", "dave@example.com"),
            ("dev:custom:role", "admin"),
        ],
    )
    .await;
    let all = get_user_attrs(&srv, access_token(&srv, &open, "dave").await).await;
    assert_eq!(attr(&all, "email"), Some("dave@example.com"));
    assert_eq!(attr(&all, "dev:custom:role"), None, "{all}");
    let id = claims(
        sign_in(&srv, &open, "dave").await["IdToken"]
            .as_str()
            .unwrap(),
    );
    assert!(id.get("dev:custom:role").is_none(), "{id}");
    assert_eq!(id["email"], "dave@example.com");

    let few = get_user_attrs(&srv, access_token(&srv, &narrow, "dave").await).await;
    assert_eq!(attr(&few, "name"), Some("Dave"));
    assert_eq!(attr(&few, "email"), None, "{few}");
    assert!(attr(&few, "sub").is_some(), "{few}");
    // The admin view is whole.
    let admin = admin_attrs(&srv, &pool_id, "dave").await;
    assert_eq!(attr(&admin, "dev:custom:role"), Some("admin"));
}

async fn get_user_attrs(srv: &TestServer, token: String) -> Value {
    let r = public(srv, "GetUser", json!({ "AccessToken": token })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["UserAttributes"].clone()
}

/// A pool that holds a changed email back until it is verified, with email as an alias.
async fn held_back_pool(srv: &TestServer) -> (String, String) {
    let pool_id = pool(
        srv,
        json!({
            "AliasAttributes": ["email"],
            "AutoVerifiedAttributes": ["email"],
            "UserAttributeUpdateSettings": { "AttributesRequireVerificationBeforeUpdate": ["email"] },
        }),
    )
    .await;
    let client_id = client(srv, &pool_id, json!({})).await;
    (pool_id, client_id)
}

async fn verified_update_applies_the_new_value(backend: Backend) {
    let srv = start(&backend).await;
    let (pool_id, client_id) = held_back_pool(&srv).await;
    user(
        &srv,
        &pool_id,
        "erin",
        &[("email", "old@example.com"), ("email_verified", "true")],
    )
    .await;
    let token = access_token(&srv, &client_id, "erin").await;
    let r = update(&srv, &token, &[("email", "new@example.com")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The old, verified value stays in force meanwhile.
    let held = admin_attrs(&srv, &pool_id, "erin").await;
    assert_eq!(attr(&held, "email"), Some("old@example.com"));
    assert_eq!(attr(&held, "email_verified"), Some("true"));
    // Asking for the code again sends it to the pending value, not the old one.
    let r = public(
        &srv,
        "GetUserAttributeVerificationCode",
        json!({ "AccessToken": token, "AttributeName": "email" }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["CodeDeliveryDetails"]["Destination"]
            .as_str()
            .map(|d| d.starts_with("n***@")),
        Some(true),
        "{}",
        r.text
    );
    let code = last_code(&srv, "new@example.com");
    let r = public(
        &srv,
        "VerifyUserAttribute",
        json!({ "AccessToken": token, "AttributeName": "email", "Code": code }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let after = admin_attrs(&srv, &pool_id, "erin").await;
    assert_eq!(attr(&after, "email"), Some("new@example.com"), "{after}");
    assert_eq!(attr(&after, "email_verified"), Some("true"));
    // The new address is the sign-in alias now; the old one no longer is.
    sign_in(&srv, &client_id, "new@example.com").await;
    let r = public(
        &srv,
        "InitiateAuth",
        json!({
            "ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": { "USERNAME": "old@example.com", "PASSWORD": PASSWORD },
        }),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

async fn verified_update_to_a_taken_alias_is_refused(backend: Backend) {
    let srv = start(&backend).await;
    let (pool_id, client_id) = held_back_pool(&srv).await;
    user(
        &srv,
        &pool_id,
        "erin",
        &[("email", "erin@example.com"), ("email_verified", "true")],
    )
    .await;
    user(
        &srv,
        &pool_id,
        "frank",
        &[("email", "frank@example.com"), ("email_verified", "true")],
    )
    .await;
    let token = access_token(&srv, &client_id, "erin").await;
    let r = update(&srv, &token, &[("email", "frank@example.com")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let code = last_code(&srv, "frank@example.com");
    let r = public(
        &srv,
        "VerifyUserAttribute",
        json!({ "AccessToken": token, "AttributeName": "email", "Code": code }),
    )
    .await;
    assert_refused(
        &r,
        "AliasExistsException",
        "An account with the given email already exists.",
    );
    let erin = admin_attrs(&srv, &pool_id, "erin").await;
    assert_eq!(attr(&erin, "email"), Some("erin@example.com"));
    // frank keeps his alias: signing in by it reaches frank.
    let id = claims(
        sign_in(&srv, &client_id, "frank@example.com").await["IdToken"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(id["cognito:username"], "frank");
}

async fn alias_pools_refuse_usernames_that_shadow_aliases(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = pool(
        &srv,
        json!({ "AliasAttributes": ["email", "phone_number", "preferred_username"] }),
    )
    .await;
    let client_id = client(&srv, &pool_id, json!({})).await;
    user(
        &srv,
        &pool_id,
        "victim",
        &[("email", "victim@example.com"), ("email_verified", "true")],
    )
    .await;
    let email_format =
        "Username cannot be of email format, since user pool is configured for email alias.";
    let phone_format = "Username cannot be of phone number format, since user pool is configured for phone number alias.";
    for (username, message) in [
        ("victim@example.com", email_format),
        ("VICTIM@example.com", email_format),
        ("+15555550100", phone_format),
    ] {
        let r = public(
            &srv,
            "SignUp",
            json!({ "ClientId": client_id, "Username": username, "Password": PASSWORD }),
        )
        .await;
        assert_refused(&r, "InvalidParameterException", message);
        let r = srv
            .call(
                "AdminCreateUser",
                json!({ "UserPoolId": pool_id, "Username": username, "MessageAction": "SUPPRESS" }),
            )
            .await;
        assert_refused(&r, "InvalidParameterException", message);
    }
    let r = public(
        &srv,
        "SignUp",
        json!({
            "ClientId": client_id, "Username": "mallory", "Password": PASSWORD,
            "UserAttributes": attrs(&[("preferred_username", "victim2")]),
        }),
    )
    .await;
    assert_refused(
        &r,
        "InvalidParameterException",
        "Preferred username cannot be provided for unconfirmed account, since user pool is configured for preferred username alias.",
    );
    assert_eq!(srv.all_users(&pool_id).await.len(), 1);
    // The victim's email still signs the victim in.
    let id = claims(
        sign_in(&srv, &client_id, "victim@example.com").await["IdToken"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(id["cognito:username"], "victim");
}

async fn preferred_username_cannot_shadow_a_username(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = pool(&srv, json!({ "AliasAttributes": ["preferred_username"] })).await;
    let client_id = client(&srv, &pool_id, json!({})).await;
    user(&srv, &pool_id, "victim", &[]).await;
    user(&srv, &pool_id, "mallory", &[]).await;
    let token = access_token(&srv, &client_id, "mallory").await;
    // Taking another user's username as preferred_username is refused...
    let r = update(&srv, &token, &[("preferred_username", "victim")]).await;
    assert_refused(
        &r,
        "AliasExistsException",
        "An account with the given preferred_username already exists.",
    );
    let r = srv
        .call(
            "AdminUpdateUserAttributes",
            json!({
                "UserPoolId": pool_id, "Username": "mallory",
                "UserAttributes": attrs(&[("preferred_username", "victim")]),
            }),
        )
        .await;
    assert_refused(
        &r,
        "AliasExistsException",
        "An account with the given preferred_username already exists.",
    );
    // ...and so is a new username equal to another user's preferred_username.
    let r = update(&srv, &token, &[("preferred_username", "boss")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = public(
        &srv,
        "SignUp",
        json!({ "ClientId": client_id, "Username": "boss", "Password": PASSWORD }),
    )
    .await;
    assert_refused(&r, "UsernameExistsException", "User account already exists");
    let r = srv
        .call(
            "AdminCreateUser",
            json!({ "UserPoolId": pool_id, "Username": "boss", "MessageAction": "SUPPRESS" }),
        )
        .await;
    assert_refused(&r, "UsernameExistsException", "User account already exists");
    // Signing in as "victim" still reaches the victim, and "boss" reaches mallory.
    let id = claims(
        sign_in(&srv, &client_id, "victim").await["IdToken"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(id["cognito:username"], "victim");
    let id = claims(
        sign_in(&srv, &client_id, "boss").await["IdToken"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(id["cognito:username"], "mallory");
}

async fn schema_texts_follow_cognito(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = pool(&srv, json!({})).await;
    let described = srv.describe_pool(&pool_id).await;
    let names: Vec<&str> = described["SchemaAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["Name"].as_str())
        .collect();
    assert!(names.contains(&"dev:custom:role"), "{names:?}");
    assert!(!names.contains(&"custom:role"), "{names:?}");
    assert!(names.contains(&"custom:tenant"), "{names:?}");
    let r = srv
        .call(
            "AddCustomAttributes",
            json!({
                "UserPoolId": pool_id,
                "CustomAttributes": [{ "Name": "role", "AttributeDataType": "String" }],
            }),
        )
        .await;
    assert_refused(
        &r,
        "InvalidParameterException",
        "Existing attribute already has name dev:custom:role.",
    );
    for (schema, message) in [
        (
            json!([{ "Name": "email", "AttributeDataType": "String", "DeveloperOnlyAttribute": true }]),
            "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute email",
        ),
        (
            json!([{ "Name": "email", "AttributeDataType": "Number" }]),
            "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute email",
        ),
        (
            json!([{ "Name": "untyped" }]),
            "Invalid AttributeDataType input, consider using the provided AttributeDataType enum.",
        ),
    ] {
        let r = srv
            .call(
                "CreateUserPool",
                json!({ "PoolName": "bad", "Schema": schema }),
            )
            .await;
        assert_refused(&r, "InvalidParameterException", message);
    }
    // Attribute values.
    srv.create_user(&pool_id, "gina", &[("email", "gina@example.com")])
        .await;
    srv.ok(
        "AdminUpdateUserAttributes",
        json!({
            "UserPoolId": pool_id, "Username": "gina",
            "UserAttributes": attrs(&[("email_verified", "True")]),
        }),
    )
    .await;
    assert_eq!(
        attr(&admin_attrs(&srv, &pool_id, "gina").await, "email_verified"),
        Some("true")
    );
    for (name, value, message) in [
        ("email", "not-an-email", "Invalid email address format."),
        ("phone_number", "555", "Invalid phone number format."),
    ] {
        let r = srv
            .call(
                "AdminUpdateUserAttributes",
                json!({
                    "UserPoolId": pool_id, "Username": "gina",
                    "UserAttributes": attrs(&[(name, value)]),
                }),
            )
            .await;
        assert_refused(&r, "InvalidParameterException", message);
    }
    // Password policy, in every operation that takes a password.
    let policy = "Password did not conform with password policy: Password not long enough";
    let client_id = client(&srv, &pool_id, json!({})).await;
    let r = public(
        &srv,
        "SignUp",
        json!({ "ClientId": client_id, "Username": "hank", "Password": "short" }),
    )
    .await;
    assert_refused(&r, "InvalidPasswordException", policy);
    let r = srv
        .call(
            "AdminCreateUser",
            json!({ "UserPoolId": pool_id, "Username": "hank", "TemporaryPassword": "short" }),
        )
        .await;
    assert_refused(&r, "InvalidPasswordException", policy);
    let r = srv
        .call(
            "AdminSetUserPassword",
            json!({ "UserPoolId": pool_id, "Username": "gina", "Password": "short" }),
        )
        .await;
    assert_refused(&r, "InvalidPasswordException", policy);
    // Client attribute permissions name no attribute.
    for (key, message) in [
        (
            "ReadAttributes",
            "Invalid read attributes specified while creating a client",
        ),
        (
            "WriteAttributes",
            "Invalid write attributes specified while creating a client",
        ),
    ] {
        let mut body = json!({ "UserPoolId": pool_id, "ClientName": "c" });
        body[key] = json!(["custom:nope"]);
        let r = srv.call("CreateUserPoolClient", body).await;
        assert_refused(&r, "InvalidParameterException", message);
    }
}

async fn email_change_to_a_taken_sign_in_email_is_alias_exists(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = pool(&srv, json!({ "UsernameAttributes": ["email"] })).await;
    let client_id = client(&srv, &pool_id, json!({})).await;
    user(&srv, &pool_id, "ivy@example.com", &[]).await;
    user(&srv, &pool_id, "jack@example.com", &[]).await;
    let r = srv
        .call(
            "AdminUpdateUserAttributes",
            json!({
                "UserPoolId": pool_id, "Username": "jack@example.com",
                "UserAttributes": attrs(&[("email", "ivy@example.com")]),
            }),
        )
        .await;
    assert_refused(
        &r,
        "AliasExistsException",
        "An account with the given email already exists.",
    );
    let token = access_token(&srv, &client_id, "jack@example.com").await;
    let r = update(&srv, &token, &[("email", "IVY@example.com")]).await;
    assert_refused(
        &r,
        "AliasExistsException",
        "An account with the given email already exists.",
    );
    // A user cannot delete the attribute the pool signs them in with.
    let r = public(
        &srv,
        "DeleteUserAttributes",
        json!({ "AccessToken": token, "UserAttributeNames": ["email"] }),
    )
    .await;
    assert_refused(
        &r,
        "InvalidParameterException",
        "Cannot delete email: it is this pool's username attribute.",
    );
    let jack = admin_attrs(&srv, &pool_id, "jack@example.com").await;
    assert_eq!(attr(&jack, "email"), Some("jack@example.com"));
    // Creating a user with a taken email stays UsernameExistsException.
    let r = srv
        .call(
            "AdminCreateUser",
            json!({ "UserPoolId": pool_id, "Username": "ivy@example.com", "MessageAction": "SUPPRESS" }),
        )
        .await;
    assert_eq!(r.error_type(), "UsernameExistsException", "{}", r.text);
}
