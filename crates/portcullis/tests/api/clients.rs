//! App clients: create, describe, update (full replacement), delete, list.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::{Backend, TestServer, list, start};

backend_tests!(
    client_lifecycle,
    client_defaults,
    update_user_pool_client_is_full_replacement,
    client_errors_change_nothing,
    list_user_pool_clients_pagination,
);

async fn create_client(srv: &TestServer, pool_id: &str, body: Value) -> Value {
    let mut body = body;
    body["UserPoolId"] = json!(pool_id);
    srv.ok("CreateUserPoolClient", body).await["UserPoolClient"].clone()
}

async fn describe_client(srv: &TestServer, pool_id: &str, client_id: &str) -> Value {
    srv.ok(
        "DescribeUserPoolClient",
        json!({ "UserPoolId": pool_id, "ClientId": client_id }),
    )
    .await["UserPoolClient"]
        .clone()
}

async fn client_ids(srv: &TestServer, pool_id: &str) -> HashSet<String> {
    let page = srv
        .ok(
            "ListUserPoolClients",
            json!({ "UserPoolId": pool_id, "MaxResults": 60 }),
        )
        .await;
    list(&page, "UserPoolClients")
        .iter()
        .map(|c| c["ClientId"].as_str().unwrap().to_owned())
        .collect()
}

async fn client_lifecycle(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("apps").await;
    let created = create_client(
        &srv,
        &pool_id,
        json!({
            "ClientName": "web",
            "GenerateSecret": true,
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "CallbackURLs": ["https://app.example.com/cb"],
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid", "email"],
            "AllowedOAuthFlowsUserPoolClient": true,
            "SupportedIdentityProviders": ["COGNITO"],
        }),
    )
    .await;
    let client_id = created["ClientId"].as_str().unwrap().to_owned();
    assert_eq!(client_id.len(), 26, "{client_id}");
    assert!(
        client_id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{client_id}"
    );
    let secret = created["ClientSecret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 24, "{secret}");
    assert_eq!(created["ClientName"], "web");
    assert_eq!(created["UserPoolId"], pool_id.as_str());
    assert_eq!(
        created["ExplicitAuthFlows"],
        json!(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    );
    assert_eq!(
        created["CallbackURLs"],
        json!(["https://app.example.com/cb"])
    );
    assert!(created["CreationDate"].is_number());

    // Describe returns it as created, secret included.
    assert_eq!(describe_client(&srv, &pool_id, &client_id).await, created);

    let listed = srv
        .ok(
            "ListUserPoolClients",
            json!({ "UserPoolId": pool_id, "MaxResults": 10 }),
        )
        .await;
    assert_eq!(
        list(&listed, "UserPoolClients"),
        vec![json!({ "ClientId": client_id, "UserPoolId": pool_id, "ClientName": "web" })]
    );

    let out = srv
        .ok(
            "DeleteUserPoolClient",
            json!({ "UserPoolId": pool_id, "ClientId": client_id }),
        )
        .await;
    assert_eq!(out, json!({}));
    let res = srv
        .err(
            "DescribeUserPoolClient",
            json!({ "UserPoolId": pool_id, "ClientId": client_id }),
            "ResourceNotFoundException",
        )
        .await;
    assert_eq!(
        res.message(),
        format!("User pool client {client_id} does not exist.")
    );
    assert!(client_ids(&srv, &pool_id).await.is_empty());
}

async fn client_defaults(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("apps").await;
    let c = create_client(&srv, &pool_id, json!({ "ClientName": "plain" })).await;
    assert!(c.get("ClientSecret").is_none_or(Value::is_null), "{c}");
    let flows: HashSet<&str> = c["ExplicitAuthFlows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        flows,
        HashSet::from([
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_CUSTOM_AUTH"
        ])
    );
    assert_eq!(c["PreventUserExistenceErrors"], "LEGACY");
    assert_eq!(c["EnableTokenRevocation"], true);
    assert_eq!(c["AuthSessionValidity"], 3);
    assert_eq!(c["RefreshTokenValidity"], 30);
}

async fn update_user_pool_client_is_full_replacement(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("apps").await;
    let created = create_client(
        &srv,
        &pool_id,
        json!({
            "ClientName": "first",
            "GenerateSecret": true,
            "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED",
            "ReadAttributes": ["email", "name"],
            "AuthSessionValidity": 10,
        }),
    )
    .await;
    let client_id = created["ClientId"].as_str().unwrap();
    let updated = srv
        .ok(
            "UpdateUserPoolClient",
            json!({ "UserPoolId": pool_id, "ClientId": client_id, "ClientName": "second" }),
        )
        .await["UserPoolClient"]
        .clone();
    assert_eq!(updated["ClientName"], "second");
    assert_eq!(updated["ClientId"], client_id);
    // The secret and the creation date are not settings: they stay.
    assert_eq!(updated["ClientSecret"], created["ClientSecret"]);
    assert_eq!(updated["CreationDate"], created["CreationDate"]);
    // Omitted settings go back to their defaults.
    assert_eq!(updated["PreventUserExistenceErrors"], "LEGACY");
    assert_eq!(updated["AuthSessionValidity"], 3);
    assert!(updated.get("ReadAttributes").is_none_or(Value::is_null));
    let flows: HashSet<&str> = updated["ExplicitAuthFlows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        !flows.contains("ALLOW_ADMIN_USER_PASSWORD_AUTH"),
        "{flows:?}"
    );
    assert_eq!(describe_client(&srv, &pool_id, client_id).await, updated);
}

async fn client_errors_change_nothing(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("apps").await;
    let other_pool = srv.new_pool("other").await;
    let c = create_client(&srv, &pool_id, json!({ "ClientName": "c" })).await;
    let client_id = c["ClientId"].as_str().unwrap().to_owned();
    let ghost = "ghostclient000000000000000";

    for (op, body) in [
        (
            "DescribeUserPoolClient",
            json!({ "UserPoolId": pool_id, "ClientId": ghost }),
        ),
        (
            "UpdateUserPoolClient",
            json!({ "UserPoolId": pool_id, "ClientId": ghost, "ClientName": "x" }),
        ),
        (
            "DeleteUserPoolClient",
            json!({ "UserPoolId": pool_id, "ClientId": ghost }),
        ),
        // A client exists only inside its own pool.
        (
            "DescribeUserPoolClient",
            json!({ "UserPoolId": other_pool, "ClientId": client_id }),
        ),
        (
            "UpdateUserPoolClient",
            json!({ "UserPoolId": other_pool, "ClientId": client_id, "ClientName": "hijack" }),
        ),
        (
            "DeleteUserPoolClient",
            json!({ "UserPoolId": other_pool, "ClientId": client_id }),
        ),
    ] {
        srv.err(op, body, "ResourceNotFoundException").await;
    }
    // Invalid settings: nothing created, nothing changed.
    for body in [
        json!({ "ClientName": "mix", "ExplicitAuthFlows": ["ADMIN_NO_SRP_AUTH", "ALLOW_USER_SRP_AUTH"] }),
        json!({ "ClientName": "norefresh", "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH"] }),
        json!({ "ClientName": "http", "CallbackURLs": ["http://app.example.com/cb"],
                "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid"],
                "AllowedOAuthFlowsUserPoolClient": true }),
        json!({ "ClientName": "validity", "AccessTokenValidity": 2, "TokenValidityUnits": { "AccessToken": "days" } }),
        json!({ "ClientName": "idp", "SupportedIdentityProviders": ["NoSuchIdp"] }),
        json!({ "ClientName": "enum", "ExplicitAuthFlows": ["ALLOW_EVERYTHING"] }),
    ] {
        let mut body = body;
        body["UserPoolId"] = json!(pool_id);
        let res = srv.call("CreateUserPoolClient", body.clone()).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert!(
            matches!(
                res.error_type(),
                "InvalidParameterException" | "InvalidOAuthFlowException"
            ),
            "{body}: {}",
            res.text
        );
    }
    let res = srv
        .call(
            "UpdateUserPoolClient",
            json!({ "UserPoolId": pool_id, "ClientId": client_id,
                    "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH"] }),
        )
        .await;
    res.assert_error("InvalidParameterException", 400);
    assert_eq!(
        client_ids(&srv, &pool_id).await,
        HashSet::from([client_id.clone()])
    );
    assert!(client_ids(&srv, &other_pool).await.is_empty());
    assert_eq!(describe_client(&srv, &pool_id, &client_id).await, c);
}

async fn list_user_pool_clients_pagination(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("apps").await;
    let mut created = HashSet::new();
    for i in 0..5 {
        let c = create_client(&srv, &pool_id, json!({ "ClientName": format!("c{i}") })).await;
        created.insert(c["ClientId"].as_str().unwrap().to_owned());
    }
    let mut seen = vec![];
    let mut pages = vec![];
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "UserPoolId": pool_id, "MaxResults": 2 });
        if let Some(t) = &token {
            body["NextToken"] = json!(t);
        }
        let page = srv.ok("ListUserPoolClients", body).await;
        let items = list(&page, "UserPoolClients");
        pages.push(items.len());
        seen.extend(
            items
                .iter()
                .map(|c| c["ClientId"].as_str().unwrap().to_owned()),
        );
        match page["NextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, vec![2, 2, 1]);
    let distinct: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(distinct.len(), seen.len());
    assert_eq!(distinct, created);
}
