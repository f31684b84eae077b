//! Graceful shutdown: `RunningServer::stop` stops accepting, finishes what is in flight, and
//! returns.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{Backend, Req, start};

backend_tests!(
    stop_returns_and_closes_the_port,
    stop_finishes_in_flight_request
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

#[tokio::test]
async fn zz_debug() {
    let mut srv = start(&Backend::Sqlite).await;
    srv.new_pool("x").await;
    let dir = srv.dir.path().to_path_buf();
    eprintln!("BEFORE {:?}", std::fs::read_dir(&dir).unwrap().map(|e| { let e = e.unwrap(); (e.file_name(), e.metadata().unwrap().len()) }).collect::<Vec<_>>());
    srv.stop().await.unwrap();
    eprintln!("AFTER {:?}", std::fs::read_dir(&dir).unwrap().map(|e| { let e = e.unwrap(); (e.file_name(), e.metadata().unwrap().len()) }).collect::<Vec<_>>());
    tokio::time::sleep(Duration::from_millis(500)).await;
    eprintln!("LATER {:?}", std::fs::read_dir(&dir).unwrap().map(|e| { let e = e.unwrap(); (e.file_name(), e.metadata().unwrap().len()) }).collect::<Vec<_>>());
}
