//! Property-based fuzzing of the edge's parsers of attacker input: SigV4 verification (the
//! Authorization header, dates, paths, queries, headers and bodies) and hosted-page form
//! decoding. The signing oracle is AWS's own `aws-sigv4` crate.
//!
//! Properties: a request signed by the oracle verifies; changing anything it signed (one
//! character of the signature, the body, a signed header, the date, the path, the query, the
//! method, the key id) never verifies; arbitrary headers never panic and are refused with one
//! of the documented SigV4 errors, status 400, without echoing the secret. Forms round-trip.
//! `PROPTEST_CASES=N cargo test -p portcullis-http fuzz_` runs N cases each (docs/fuzzing.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};
use proptest::prelude::*;
use proptest::test_runner::Config;

use crate::oauth::{FormError, read_form, unique};
use crate::sigv4::{RootCredentials, SigV4Error, SignedRequest, verify_with_services};

const AKID: &str = "AKIAFUZZ000000000001";
const SECRET: &str = "fUzZ/rootSecret+Key/0123456789abcdEFghij";
/// 2026-01-01T00:00:00Z
const T0: i64 = 1_767_225_600;
const HOST: &str = "127.0.0.1:9229";
const TARGET: &str = "AWSCognitoIdentityProviderService.AdminGetUser";
const SERVICES: &[&str] = &["cognito-idp"];

fn config(ci: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ci);
    Config {
        cases,
        ..Config::default()
    }
}

fn root() -> RootCredentials {
    RootCredentials::new(AKID.to_owned(), SECRET.to_owned())
}

/// A request as the server receives it.
#[derive(Clone, Debug)]
struct Received {
    method: String,
    uri: Uri,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn verify(&self) -> Result<crate::sigv4::VerifiedCaller, SigV4Error> {
        let req = SignedRequest {
            method: &self.method,
            uri: &self.uri,
            headers: &self.headers,
            body: &self.body,
        };
        verify_with_services(&req, &root(), T0, SERVICES)
    }

    fn set(&mut self, name: &str, value: &str) {
        self.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }

    fn header(&self, name: &str) -> String {
        self.headers[name].to_str().unwrap().to_owned()
    }
}

/// Signs `POST <path_and_query>` the way the AWS SDKs do.
fn signed(path_and_query: &str, extra: &[(String, String)], body: &[u8]) -> Received {
    let identity = Credentials::new(AKID, SECRET, None, None, "fuzz").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("cognito-idp")
        .time(SystemTime::UNIX_EPOCH + Duration::from_secs(T0 as u64))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), HOST.into()),
        ("content-type".into(), "application/x-amz-json-1.1".into()),
        ("x-amz-target".into(), TARGET.into()),
    ];
    headers.extend(extra.iter().cloned());
    let url = format!("http://{HOST}{path_and_query}");
    let signable = SignableRequest::new(
        "POST",
        url.as_str(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut map = HeaderMap::new();
    for (k, v) in &headers {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    for (k, v) in instructions.headers() {
        map.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    Received {
        method: "POST".into(),
        uri: path_and_query.parse().unwrap(),
        headers: map,
        body: body.to_vec(),
    }
}

fn path_and_query() -> impl Strategy<Value = String> {
    let segment = "[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,7}";
    let pair = ("[A-Za-z0-9_-]{1,6}", "[A-Za-z0-9._~-]{0,6}");
    (
        prop::collection::vec(segment, 0..4),
        prop::collection::vec(pair, 0..3),
    )
        .prop_map(|(segments, pairs)| {
            let mut out = format!("/{}", segments.join("/"));
            if !pairs.is_empty() {
                let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push('?');
                out.push_str(&q.join("&"));
            }
            out
        })
}

fn extra_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            "x-(amz-user-agent|custom|trace-id|b)",
            // Printable ASCII with inner runs of spaces, which both sides must collapse.
            "[!-~]{1,4}( {1,3}[!-~]{1,4}){0,3}",
        ),
        0..3,
    )
    .prop_map(|mut h| {
        h.sort();
        h.dedup_by(|a, b| a.0 == b.0);
        h
    })
}

/// Replaces the character at `at` (modulo the length) with a different one of `alphabet`.
fn replace_char(s: &str, at: usize, pick: usize, alphabet: &[u8]) -> String {
    let mut bytes = s.as_bytes().to_vec();
    let i = at % bytes.len();
    let mut c = alphabet[pick % alphabet.len()];
    if c == bytes[i] {
        c = alphabet[(pick + 1) % alphabet.len()];
    }
    bytes[i] = c;
    String::from_utf8(bytes).unwrap()
}

const DOCUMENTED: &[&str] = &[
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "InvalidSignatureException",
    "UnrecognizedClientException",
];

fn assert_documented(e: &SigV4Error) -> Result<(), TestCaseError> {
    prop_assert!(DOCUMENTED.contains(&e.error_type()), "{e:?}");
    prop_assert_eq!(e.status(), 400);
    prop_assert!(!e.message().is_empty() || matches!(e, SigV4Error::UnrecognizedClient));
    prop_assert!(
        !e.message().contains(SECRET),
        "the secret was echoed: {e:?}"
    );
    Ok(())
}

fn authorization_like() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        Just("AWS4-HMAC-SHA256".to_owned()),
        Just(" ".to_owned()),
        Just(", ".to_owned()),
        Just(",".to_owned()),
        Just("=".to_owned()),
        Just("/".to_owned()),
        Just("Credential=".to_owned()),
        Just(format!(
            "Credential={AKID}/20260101/us-east-1/cognito-idp/aws4_request"
        )),
        Just("SignedHeaders=host;x-amz-date".to_owned()),
        Just("SignedHeaders=".to_owned()),
        Just("Signature=".to_owned()),
        "Signature=[0-9a-f]{0,70}",
        "[A-Za-z0-9;/_-]{0,12}",
        "[ -~]{0,6}",
    ];
    prop::collection::vec(part, 0..10).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn fuzz_sigv4_signed_requests_verify_and_any_change_is_refused(
        pq in path_and_query(),
        extra in extra_headers(),
        body in prop::collection::vec(any::<u8>(), 0..200),
        change in 0usize..9,
        at in any::<usize>(),
        pick in any::<usize>(),
    ) {
        let good = signed(&pq, &extra, &body);
        // Round trip: what the SDK signed, the server accepts.
        let caller = good.verify();
        prop_assert!(caller.is_ok(), "{pq} {extra:?}: {caller:?}");
        prop_assert_eq!(caller.unwrap().access_key_id, AKID);

        let mut bad = good.clone();
        match change {
            0 => {
                let auth = bad.header("authorization");
                let (head, sig) = auth.rsplit_once("Signature=").unwrap();
                let sig = replace_char(sig, at, pick, b"0123456789abcdef");
                bad.set("authorization", &format!("{head}Signature={sig}"));
            }
            1 => {
                if bad.body.is_empty() {
                    bad.body.push(b'{');
                } else {
                    let i = at % bad.body.len();
                    bad.body[i] ^= 1 << (pick % 8);
                }
            }
            2 => {
                let t = bad.header("x-amz-target");
                bad.set("x-amz-target", &replace_char(&t, at, pick, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
            }
            3 => {
                let date = bad.header("x-amz-date");
                let seconds = &date[13..15];
                let other = if seconds == "00" { "01" } else { "00" };
                bad.set("x-amz-date", &format!("{}{other}Z", &date[..13]));
            }
            4 => {
                let path = bad.uri.path().to_owned();
                let query = bad.uri.query().map(|q| format!("?{q}")).unwrap_or_default();
                bad.uri = format!("{path}{}x{query}", if path.ends_with('/') { "" } else { "/" })
                    .parse()
                    .unwrap();
            }
            5 => {
                let sep = if bad.uri.query().is_some() { "&" } else { "?" };
                bad.uri = format!("{}{sep}zz=1", bad.uri).parse().unwrap();
            }
            6 => bad.method = "PUT".into(),
            7 => {
                let auth = bad.header("authorization");
                let other = replace_char(AKID, at, pick, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
                bad.set("authorization", &auth.replace(AKID, &other));
            }
            _ => {
                let ct = bad.header("content-type");
                bad.set("content-type", &format!("{ct}x"));
            }
        }
        let result = bad.verify();
        prop_assert!(result.is_err(), "change {change} verified: {bad:?}");
        assert_documented(&result.unwrap_err())?;
    }

    #[test]
    fn fuzz_sigv4_arbitrary_headers_are_refused_as_documented(
        auth in prop_oneof![authorization_like(), any::<String>()],
        date in prop_oneof![
            Just("20260101T000000Z".to_owned()),
            "[0-9]{8}T[0-9]{6}Z",
            "[ -~]{0,20}",
        ],
        pq in path_and_query(),
        security_token in any::<bool>(),
        body in prop::collection::vec(any::<u8>(), 0..50),
    ) {
        let mut req = signed(&pq, &[], &body);
        match HeaderValue::from_str(&auth) {
            Ok(v) => {
                req.headers.insert("authorization", v);
            }
            Err(_) => {
                req.headers.remove("authorization");
            }
        }
        if let Ok(v) = HeaderValue::from_str(&date) {
            req.headers.insert("x-amz-date", v);
        }
        if security_token {
            req.set("x-amz-security-token", "token");
        }
        let result = req.verify();
        prop_assert!(result.is_err(), "{auth:?} verified");
        assert_documented(&result.unwrap_err())?;
    }

    // -----------------------------------------------------------------------------------------
    // Hosted-page forms

    #[test]
    fn fuzz_forms_round_trip(pairs in prop::collection::vec((any::<String>(), any::<String>()), 0..6)) {
        let body = serde_urlencoded::to_string(&pairs).unwrap();
        let read = read_form_now(Some("application/x-www-form-urlencoded"), body.into_bytes(), 1 << 20);
        if crate::oauth::has_nul(&pairs) {
            // A NUL is refused as malformed: no identifier holds one, PostgreSQL cannot.
            prop_assert!(matches!(read, Err(FormError::Malformed)));
        } else {
            prop_assert_eq!(read.as_ref().ok(), Some(&pairs));
        }
        let mut keys: Vec<&String> = pairs.iter().map(|(k, _)| k).collect();
        keys.sort();
        let repeated = keys.windows(2).any(|w| w[0] == w[1]);
        prop_assert_eq!(unique(pairs.clone()).is_err(), repeated);
    }

    #[test]
    fn fuzz_forms_arbitrary_bodies_never_panic(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            "[a-z_%=&+0-9A-F]{0,200}".prop_map(String::into_bytes),
        ],
        content_type in prop_oneof![
            Just(Some("application/x-www-form-urlencoded")),
            Just(Some("Application/X-WWW-Form-Urlencoded; charset=UTF-8")),
            Just(Some("text/plain")),
            Just(None),
        ],
        limit in 1usize..400,
    ) {
        let len = body.len();
        match read_form_now(content_type, body, limit) {
            Ok(pairs) => {
                prop_assert!(len <= limit);
                prop_assert!(!crate::oauth::has_nul(&pairs));
                let _ = unique(pairs);
            }
            Err(FormError::TooLarge) => prop_assert!(len > limit),
            Err(FormError::NotAForm) => prop_assert!(content_type.is_none_or(|c| c == "text/plain")),
            Err(FormError::Malformed) => {}
        }
    }
}

fn read_form_now(
    content_type: Option<&str>,
    body: Vec<u8>,
    limit: usize,
) -> Result<Vec<(String, String)>, FormError> {
    let mut headers = HeaderMap::new();
    if let Some(ct) = content_type {
        headers.insert("content-type", HeaderValue::from_str(ct).unwrap());
    }
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(read_form(&headers, Body::from(body), limit))
}
