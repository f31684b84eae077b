//! `portcullis-bench floor`: an HTTP server that does nothing but answer.
//!
//! It runs on the server's core with the server's HTTP stack (tokio, hyper through axum,
//! keep-alive) and answers `GET /health` as Portcullis does and every `POST /` with a fixed
//! AdminGetUser answer of the usual size, without reading the request: no signature check, no
//! JSON, no database, no log. Driving it with the health and admin-get-user scenarios measures
//! what this generator, this loopback and this stack allow one core to serve at all, the
//! ceiling the read scenarios are compared with.

use std::net::SocketAddr;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::{get, post};

const HEALTH: &str = r#"{"status":"ok"}"#;
const ADMIN_GET_USER: &str = concat!(
    r#"{"Enabled":true,"UserAttributes":["#,
    r#"{"Name":"sub","Value":"7d6a1c2e-5b1f-4a8e-9c3d-2f0e8b7a6c5d"},"#,
    r#"{"Name":"email","Value":"user12345@bench.example.com"},"#,
    r#"{"Name":"email_verified","Value":"true"},"#,
    r#"{"Name":"name","Value":"Bench User 12345"}],"#,
    r#""UserCreateDate":1764428400.123,"UserLastModifiedDate":1764428400.123,"#,
    r#""UserStatus":"CONFIRMED","Username":"user12345"}"#
);

pub async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let app = Router::new()
        .route(
            "/health",
            get(|| async { ([(CONTENT_TYPE, "application/json")], HEALTH) }),
        )
        .route(
            "/",
            post(|| async {
                (
                    [
                        (CONTENT_TYPE, "application/x-amz-json-1.1"),
                        // The same headers Portcullis sends, so both answers are the same size.
                        (
                            axum::http::HeaderName::from_static("x-amzn-requestid"),
                            "00000000-0000-4000-8000-000000000000",
                        ),
                    ],
                    ADMIN_GET_USER,
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("floor: serving on {listen}");
    axum::serve(listener, app).await?;
    Ok(())
}
