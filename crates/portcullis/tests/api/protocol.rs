//! The JSON 1.1 protocol: routing by X-Amz-Target, body parsing, model validation, error
//! shape, request ids, body limit and CORS.

use std::collections::HashSet;

use serde_json::json;

use crate::support::{Backend, JSON_11, Req, read, start};

const MIB: usize = 1024 * 1024;

backend_tests!(
    health_answers_200,
    unknown_operation,
    missing_target,
    malformed_and_non_object_json,
    wrong_content_type,
    wrong_member_type,
    missing_required_member,
    constraint_violation,
    unknown_members_are_ignored,
    body_above_one_mib_is_413_and_server_keeps_serving,
    error_headers,
    success_shape,
    request_ids_on_every_response_and_distinct,
    client_supplied_request_id_is_not_reused,
    cors_preflight,
    cors_headers_on_post,
    no_cors_headers_without_origin_but_vary,
);

async fn health_answers_200(backend: Backend) {
    let srv = start(&backend).await;
    let res = read(srv.http.get(srv.url("/health")).send().await.unwrap()).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["status"], "ok");
    assert!(!res.request_id().is_empty());
}

async fn unknown_operation(backend: Backend) {
    let srv = start(&backend).await;
    let before = srv.pool_ids().await;
    // An operation Cognito does not have.
    let res = srv
        .send(Req::op("CreateUserPoolPlease", &json!({ "PoolName": "x" })))
        .await;
    res.assert_error("UnknownOperationException", 400);
    // Another service's target prefix.
    let res = srv
        .send(
            Req::op("CreateUserPool", &json!({ "PoolName": "x" }))
                .target(Some("DynamoDB_20120810.CreateUserPool")),
        )
        .await;
    res.assert_error("UnknownOperationException", 400);
    // The right operation name, bare.
    let res = srv
        .send(Req::op("CreateUserPool", &json!({ "PoolName": "x" })).target(Some("CreateUserPool")))
        .await;
    res.assert_error("UnknownOperationException", 400);
    assert_eq!(srv.pool_ids().await, before);
}

async fn missing_target(backend: Backend) {
    let srv = start(&backend).await;
    let res = srv
        .send(Req::op("CreateUserPool", &json!({ "PoolName": "x" })).target(None))
        .await;
    res.assert_error("UnknownOperationException", 400);
    let res = srv
        .send(
            Req::op("CreateUserPool", &json!({ "PoolName": "x" }))
                .target(None)
                .unsigned(),
        )
        .await;
    res.assert_error("UnknownOperationException", 400);
    assert!(srv.pool_ids().await.is_empty());
}

async fn malformed_and_non_object_json(backend: Backend) {
    let srv = start(&backend).await;
    for body in [
        &b"{\"PoolName\": "[..],
        b"{\"PoolName\": \"x\",}",
        b"PoolName=x",
        b"\xff\xfe{}",
        b"[{\"PoolName\": \"x\"}]",
        b"\"PoolName\"",
        b"42",
        b"null",
        b"true",
    ] {
        let res = srv
            .send(Req::op("CreateUserPool", &json!({})).raw_body(body))
            .await;
        assert_eq!(
            (res.status, res.error_type()),
            (400, "SerializationException"),
            "body {:?}: {}",
            String::from_utf8_lossy(body),
            res.text
        );
    }
    assert!(srv.pool_ids().await.is_empty());
}

async fn wrong_content_type(backend: Backend) {
    let srv = start(&backend).await;
    for ct in [
        Some("text/plain"),
        Some("application/xml"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let res = srv
            .send(Req::op("CreateUserPool", &json!({ "PoolName": "ct" })).content_type(ct))
            .await;
        assert_eq!(
            (res.status, res.error_type()),
            (400, "SerializationException"),
            "content type {ct:?}: {}",
            res.text
        );
    }
    assert!(srv.pool_ids().await.is_empty());
    // The right type with parameters is fine.
    let res = srv
        .send(
            Req::op("CreateUserPool", &json!({ "PoolName": "ct" }))
                .content_type(Some("application/x-amz-json-1.1; charset=utf-8")),
        )
        .await;
    res.assert_ok();
    assert_eq!(srv.pool_ids().await.len(), 1);
}

async fn wrong_member_type(backend: Backend) {
    let srv = start(&backend).await;
    let res = srv
        .call("ListUserPools", json!({ "MaxResults": "x" }))
        .await;
    res.assert_error("SerializationException", 400);
    let res = srv
        .call("ListUserPools", json!({ "MaxResults": 1.5 }))
        .await;
    res.assert_error("SerializationException", 400);
    for body in [
        json!({ "PoolName": 5 }),
        json!({ "PoolName": ["a"] }),
        json!({ "PoolName": "p", "Policies": { "PasswordPolicy": { "MinimumLength": "8" } } }),
        json!({ "PoolName": "p", "AutoVerifiedAttributes": "email" }),
        json!({ "PoolName": "p", "UserPoolTags": { "k": 1 } }),
        json!({ "PoolName": "p", "Policies": { "PasswordPolicy": { "RequireNumbers": "true" } } }),
    ] {
        let res = srv.call("CreateUserPool", body.clone()).await;
        assert_eq!(
            (res.status, res.error_type()),
            (400, "SerializationException"),
            "{body}: {}",
            res.text
        );
    }
    assert!(srv.pool_ids().await.is_empty());
}

async fn missing_required_member(backend: Backend) {
    let srv = start(&backend).await;
    let res = srv.call("DescribeUserPool", json!({})).await;
    res.assert_error("InvalidParameterException", 400);
    assert_eq!(
        res.message(),
        "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null"
    );
    // An empty body is an empty input.
    let res = srv
        .send(Req::op("DescribeUserPool", &json!({})).raw_body(""))
        .await;
    res.assert_error("InvalidParameterException", 400);
    assert_eq!(
        res.message(),
        "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null"
    );
    let res = srv.call("CreateUserPool", json!({ "Policies": {} })).await;
    res.assert_error("InvalidParameterException", 400);
    assert_eq!(
        res.message(),
        "1 validation error detected: Value null at 'poolName' failed to satisfy constraint: Member must not be null"
    );
    assert!(srv.pool_ids().await.is_empty());
}

async fn constraint_violation(backend: Backend) {
    let srv = start(&backend).await;
    let res = srv
        .call(
            "DescribeUserPool",
            json!({ "UserPoolId": "no pool id here" }),
        )
        .await;
    res.assert_error("InvalidParameterException", 400);
    assert!(
        res.message().starts_with("1 validation error detected: Value 'no pool id here' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern"),
        "{}",
        res.message()
    );
    let res = srv
        .call("CreateUserPool", json!({ "PoolName": "x".repeat(129) }))
        .await;
    res.assert_error("InvalidParameterException", 400);
    let res = srv.call("ListUserPools", json!({ "MaxResults": 0 })).await;
    res.assert_error("InvalidParameterException", 400);
    let res = srv.call("ListUserPools", json!({ "MaxResults": 61 })).await;
    res.assert_error("InvalidParameterException", 400);
    assert!(srv.pool_ids().await.is_empty());
}

async fn unknown_members_are_ignored(backend: Backend) {
    let srv = start(&backend).await;
    let pool = srv
        .create_pool(json!({ "PoolName": "future", "SomeFutureMember": { "x": [1, 2] } }))
        .await;
    assert_eq!(pool["Name"], "future");
    assert_eq!(srv.pool_ids().await.len(), 1);
}

async fn body_above_one_mib_is_413_and_server_keeps_serving(backend: Backend) {
    let srv = start(&backend).await;
    let padded = |name: &str, total: usize| {
        let head = format!("{{\"PoolName\":\"{name}\",\"Padding\":\"");
        let tail = "\"}";
        let pad = total - head.len() - tail.len();
        format!("{head}{}{tail}", "x".repeat(pad)).into_bytes()
    };
    let big = padded("big", MIB + 1);
    assert_eq!(big.len(), MIB + 1);
    let res = srv
        .send(Req::op("CreateUserPool", &json!({})).raw_body(big))
        .await;
    assert_eq!(res.status, 413, "{}", res.text);
    assert!(
        !res.error_type().is_empty() && !res.message().is_empty(),
        "{}",
        res.text
    );
    // Much larger, too.
    let res = srv
        .send(Req::op("CreateUserPool", &json!({})).raw_body(padded("huge", 3 * MIB)))
        .await;
    assert_eq!(res.status, 413, "{}", res.text);
    // Nothing was created, and the server still answers.
    assert!(srv.pool_ids().await.is_empty());
    let res = srv.http.get(srv.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // Exactly 1 MiB is within the limit.
    let res = srv
        .send(Req::op("CreateUserPool", &json!({})).raw_body(padded("edge", MIB)))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body["UserPool"]["Name"], "edge");
}

async fn error_headers(backend: Backend) {
    let srv = start(&backend).await;
    let res = srv
        .err(
            "DescribeUserPool",
            json!({ "UserPoolId": "us-east-1_Nope12345" }),
            "ResourceNotFoundException",
        )
        .await;
    assert_eq!(
        res.header("x-amzn-errortype"),
        Some("ResourceNotFoundException:")
    );
    assert!(res.header("x-amzn-errortype").unwrap().ends_with(':'));
    assert_eq!(res.header("x-amzn-errormessage"), Some(res.message()));
    assert_eq!(res.header("content-type"), Some(JSON_11));
    // Exactly the two members Cognito sends.
    let keys: HashSet<&str> = res
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, HashSet::from(["__type", "message"]));
    // Protocol-level errors have the same shape.
    let res = srv.send(Req::op("NoSuchOperation", &json!({}))).await;
    assert_eq!(
        res.header("x-amzn-errortype"),
        Some("UnknownOperationException:")
    );
    let res = srv
        .send(Req::op("CreateUserPool", &json!({})).raw_body("{"))
        .await;
    assert_eq!(
        res.header("x-amzn-errortype"),
        Some("SerializationException:")
    );
}

async fn success_shape(backend: Backend) {
    let srv = start(&backend).await;
    let pool_id = srv.new_pool("shape").await;
    // Operations with an empty output answer `{}` with the JSON 1.1 content type.
    let res = srv
        .call("UpdateUserPool", json!({ "UserPoolId": pool_id }))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body, json!({}));
    assert_eq!(res.header("content-type"), Some(JSON_11));
    assert!(res.header("x-amzn-errortype").is_none());
    let res = srv
        .call("DeleteUserPool", json!({ "UserPoolId": pool_id }))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.body, json!({}));
}

async fn request_ids_on_every_response_and_distinct(backend: Backend) {
    let srv = start(&backend).await;
    let mut ids = vec![];
    // Successes.
    let res = srv.call("ListUserPools", json!({ "MaxResults": 10 })).await;
    res.assert_ok();
    ids.push(res.request_id().to_owned());
    let res = srv.call("ListUserPools", json!({ "MaxResults": 10 })).await;
    ids.push(res.request_id().to_owned());
    // Errors of every layer: routing, authentication, parsing, validation, core.
    for req in [
        Req::op("Nope", &json!({})),
        Req::op("ListUserPools", &json!({ "MaxResults": 10 })).unsigned(),
        Req::op("ListUserPools", &json!({})).raw_body("{"),
        Req::op("ListUserPools", &json!({})),
        Req::op(
            "DescribeUserPool",
            &json!({ "UserPoolId": "us-east-1_Nope12345" }),
        ),
    ] {
        let res = srv.send(req).await;
        assert_ne!(res.status, 200);
        ids.push(res.request_id().to_owned());
    }
    // Other paths too.
    for res in [
        srv.http.get(srv.url("/health")).send().await.unwrap(),
        srv.http.get(srv.url("/no/such/path")).send().await.unwrap(),
    ] {
        let id = res
            .headers()
            .get("x-amzn-requestid")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(!id.is_empty(), "no request id for {}", res.url());
        ids.push(id);
    }
    for id in &ids {
        assert_eq!(id.len(), 36, "not a UUID: {id}");
    }
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "request ids repeat: {ids:?}");
}

/// The request id is the server's: a client that sends its own `x-amzn-RequestId` must not get
/// it back, or two requests could share an id (and a caller could plant ids in the logs).
async fn client_supplied_request_id_is_not_reused(backend: Backend) {
    let srv = start(&backend).await;
    let forged = "00000000-0000-0000-0000-000000000000";
    let mut ids = vec![];
    for _ in 0..2 {
        let res = srv
            .send(
                Req::op("ListUserPools", &json!({ "MaxResults": 10 }))
                    .header("x-amzn-requestid", forged),
            )
            .await;
        res.assert_ok();
        ids.push(res.request_id().to_owned());
    }
    assert_ne!(ids[0], ids[1], "two requests answered with one request id");
    assert!(!ids.contains(&forged.to_owned()), "{ids:?}");
}

async fn cors_preflight(backend: Backend) {
    let srv = start(&backend).await;
    let requested =
        "x-amz-target,x-amz-user-agent,cache-control,content-type,authorization,x-amz-date";
    let res = srv
        .http
        .request(reqwest::Method::OPTIONS, srv.url("/"))
        .header("origin", "http://app.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", requested)
        .send()
        .await
        .unwrap();
    let res = read(res).await;
    assert_eq!(res.status, 200, "{:?}", res.headers);
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    let allowed: HashSet<String> = res
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    for h in requested.split(',') {
        assert!(
            allowed.contains(h) || allowed.contains("*"),
            "{h} not allowed: {allowed:?}"
        );
    }
    let methods = res
        .header("access-control-allow-methods")
        .unwrap_or_default()
        .to_ascii_uppercase();
    assert!(
        methods.split(',').any(|m| m.trim() == "POST") || methods.trim() == "*",
        "{methods}"
    );
    // The preflight of a browser SDK creates nothing.
    assert!(srv.pool_ids().await.is_empty());
}

async fn cors_headers_on_post(backend: Backend) {
    let srv = start(&backend).await;
    for req in [
        Req::op("ListUserPools", &json!({ "MaxResults": 10 })),
        Req::op(
            "DescribeUserPool",
            &json!({ "UserPoolId": "us-east-1_Nope12345" }),
        ),
    ] {
        let res = srv
            .send(req.header("origin", "http://app.example.com"))
            .await;
        assert_eq!(res.header("access-control-allow-origin"), Some("*"));
        let exposed: HashSet<String> = res
            .header("access-control-expose-headers")
            .unwrap_or_default()
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        for h in [
            "x-amzn-requestid",
            "x-amzn-errortype",
            "x-amzn-errormessage",
        ] {
            assert!(exposed.contains(h), "{h} not exposed: {exposed:?}");
        }
    }
}

/// A request without `Origin` is no browser's cross-origin request: it gets no CORS headers,
/// but `Vary: Origin`, so a shared cache never serves its answer to a browser that needs them.
async fn no_cors_headers_without_origin_but_vary(backend: Backend) {
    let srv = start(&backend).await;
    let get = read(srv.http.get(srv.url("/health")).send().await.unwrap()).await;
    let post = srv
        .send(Req::op("ListUserPools", &json!({ "MaxResults": 10 })))
        .await;
    for res in [&get, &post] {
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(res.header("access-control-allow-origin"), None);
        let vary: Vec<String> = res
            .headers
            .get_all("vary")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_ascii_lowercase())
            .collect();
        assert!(vary.contains(&"origin".to_owned()), "vary: {vary:?}");
    }
    // The same request from a browser still gets them.
    let browser = srv
        .send(
            Req::op("ListUserPools", &json!({ "MaxResults": 10 }))
                .header("origin", "http://app.example.com"),
        )
        .await;
    assert_eq!(browser.header("access-control-allow-origin"), Some("*"));
}
