//! The integration tests of the workspace (one binary: every extra test binary costs link time).
//!
//! Each case starts a whole Portcullis server in-process on port 0, with a temporary data dir
//! and its own database, and drives it over HTTP the way Cognito clients do: `POST /` with
//! `X-Amz-Target`, JSON 1.1, SigV4-signed admin calls. Every case runs on SQLite and, when
//! `PORTCULLIS_TEST_POSTGRES_URL` is set (e.g. `postgres://postgres@127.0.0.1:5432/test`), on
//! PostgreSQL in a fresh schema: `<module>::sqlite::<case>` and `<module>::postgres::<case>`.
//!
//! Error cases assert the `__type`, the HTTP status and the store state after the call.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[path = "api/support.rs"]
mod support;

#[path = "api/protocol.rs"]
mod protocol;

#[path = "api/sigv4.rs"]
mod sigv4;

#[path = "api/pools.rs"]
mod pools;

#[path = "api/clients.rs"]
mod clients;

#[path = "api/users.rs"]
mod users;

#[path = "api/groups.rs"]
mod groups;

#[path = "api/tags.rs"]
mod tags;

#[path = "api/concurrency.rs"]
mod concurrency;

#[path = "api/shutdown.rs"]
mod shutdown;

#[path = "api/oauth.rs"]
mod oauth;

#[path = "api/smtp.rs"]
mod smtp;

#[path = "api/attributes.rs"]
mod attributes;

#[path = "api/pagination_tokens.rs"]
mod pagination_tokens;

#[path = "api/codes_security.rs"]
mod codes_security;

#[path = "api/signin_security.rs"]
mod signin_security;

#[path = "api/housekeeping.rs"]
mod housekeeping;

#[path = "api/edge.rs"]
mod edge;

#[path = "api/hostile_model.rs"]
mod hostile_model;

#[path = "api/hostile_pages.rs"]
mod hostile_pages;
