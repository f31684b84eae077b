//! Graceful shutdown: `RunningServer::stop` stops accepting, finishes what is in flight, and
//! returns.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Backend, Req, start};

backend_tests!(
    stop_returns_and_closes_the_port,
    stop_finishes_in_flight_request,
    restart_keeps_data_and_credentials,
);

/// A guard against hangs only: nothing here measures time.
const PATIENCE: Duration = Duration::from_secs(30);

async fn stop_returns_and_closes_the_port(backend: Backend) {
    let mut srv = start(&backend).await;
    let addr = srv.addr;
    srv.new_pool("before-shutdown").await;
    // The client keeps its connection alive in its pool; shutdown must not wait for it.
    let stopped = tokio::time::timeout(PATIENCE, srv.stop())
        .await
        .expect("stop() returned");
    assert!(stopped.is_ok(), "stop() failed: {stopped:?}");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the port still accepts connections"
    );
    assert!(srv.http.get(srv.url("/health")).send().await.is_err());
}

async fn stop_finishes_in_flight_request(backend: Backend) {
    let mut srv = start(&backend).await;
    let addr = srv.addr;
    let body = json!({ "MaxResults": 10 }).to_string();
    let req = Req::op("ListUserPools", &json!({ "MaxResults": 10 }))
        .after_signing("expect", "100-continue");
    let mut head = format!(
        "POST / HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in srv.prepared_headers(&req) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // "100 Continue" means the handler is reading the body: the request is in flight.
    let mut interim = vec![];
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut byte))
            .await
            .expect("interim response")
            .unwrap();
        assert_eq!(n, 1, "connection closed before 100 Continue");
        interim.push(byte[0]);
    }
    let interim = String::from_utf8_lossy(&interim).to_string();
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");

    let finish = async {
        // Give the shutdown signal a head start over the rest of the request.
        tokio::time::sleep(Duration::from_millis(100)).await;
        stream.write_all(body.as_bytes()).await.unwrap();
        let mut response = vec![];
        tokio::time::timeout(PATIENCE, stream.read_to_end(&mut response))
            .await
            .expect("response")
            .unwrap();
        String::from_utf8_lossy(&response).to_string()
    };
    let (stopped, response) = tokio::join!(tokio::time::timeout(PATIENCE, srv.stop()), finish);
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "the in-flight request did not complete: {response}"
    );
    assert!(response.contains("\"UserPools\""), "{response}");
    assert!(
        response.to_ascii_lowercase().contains("x-amzn-requestid"),
        "{response}"
    );
    let stopped = stopped.expect("stop() returned");
    assert!(stopped.is_ok(), "stop() failed: {stopped:?}");
    assert!(TcpStream::connect(addr).await.is_err());
}

async fn restart_keeps_data_and_credentials(backend: Backend) {
    let srv = start(&backend).await;
    let pool = srv
        .create_pool(json!({ "PoolName": "durable", "UserPoolTags": { "k": "v" } }))
        .await;
    let pool_id = pool["Id"].as_str().unwrap().to_owned();
    let client = srv
        .ok(
            "CreateUserPoolClient",
            json!({ "UserPoolId": pool_id, "ClientName": "c", "GenerateSecret": true }),
        )
        .await["UserPoolClient"]
        .clone();
    let client_id = client["ClientId"].as_str().unwrap().to_owned();
    srv.ok(
        "AdminCreateUser",
        json!({
            "UserPoolId": pool_id,
            "Username": "kept",
            "UserAttributes": [{ "Name": "email", "Value": "kept@example.com" }],
            "DesiredDeliveryMediums": ["EMAIL"],
        }),
    )
    .await;
    srv.ok(
        "CreateGroup",
        json!({ "UserPoolId": pool_id, "GroupName": "g" }),
    )
    .await;
    srv.ok(
        "AdminAddUserToGroup",
        json!({ "UserPoolId": pool_id, "Username": "kept", "GroupName": "g" }),
    )
    .await;
    let creds = srv.creds.clone().unwrap();
    let pool_before = srv.describe_pool(&pool_id).await;
    let user_before = srv.get_user(&pool_id, "kept").await;
    let outbox_before = srv.outbox();
    assert_eq!(outbox_before.len(), 1);

    let srv = srv.restart().await;

    // The generated root credentials are reused, not regenerated.
    let again = srv.creds.clone().unwrap();
    assert_eq!(again.access_key_id, creds.access_key_id);
    assert_eq!(again.secret_access_key, creds.secret_access_key);
    assert_eq!(srv.describe_pool(&pool_id).await, pool_before);
    assert_eq!(srv.get_user(&pool_id, "kept").await, user_before);
    // The client secret is still readable: the master key survived too.
    let described = srv
        .ok(
            "DescribeUserPoolClient",
            json!({ "UserPoolId": pool_id, "ClientId": client_id }),
        )
        .await["UserPoolClient"]
        .clone();
    assert_eq!(described, client);
    let members = srv
        .ok(
            "ListUsersInGroup",
            json!({ "UserPoolId": pool_id, "GroupName": "g" }),
        )
        .await;
    assert_eq!(members["Users"].as_array().unwrap().len(), 1);
    // The outbox is appended to, not replaced.
    srv.ok(
        "AdminCreateUser",
        json!({
            "UserPoolId": pool_id,
            "Username": "later",
            "UserAttributes": [{ "Name": "email", "Value": "later@example.com" }],
            "DesiredDeliveryMediums": ["EMAIL"],
        }),
    )
    .await;
    let outbox = srv.outbox();
    assert_eq!(outbox.len(), 2);
    assert_eq!(outbox[0], outbox_before[0]);
    assert_eq!(outbox[1]["username"], "later");
}
