//! Property-based fuzzing of JWT verification (a child of `tokens` for its private key types):
//! random strings and mutated tokens never panic and never verify, the documented refusals
//! come back, and a token the pool signed verifies. `PROPTEST_CASES` scales the runs (see
//! docs/fuzzing.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use proptest::prelude::*;

use super::*;
use crate::fuzz::config;

const ISSUER: &str = "http://127.0.0.1:9229/us-east-1_AbC";
const NOW: i64 = 1_800_000_000;

fn key(kid: &str) -> LoadedKey {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let public =
        ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public_key().as_ref()).unwrap();
    LoadedKey {
        kid: kid.to_owned(),
        pair,
        public,
    }
}

/// The pool's keys, and another pool's keys with the same key ids (a forger's own keys).
fn keys() -> &'static (PoolKeys, PoolKeys) {
    static KEYS: OnceLock<(PoolKeys, PoolKeys)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pool = |_| PoolKeys {
            id: key("id-kid="),
            access: key("access-kid="),
            published: vec![],
        };
        (pool(0), pool(1))
    })
}

fn claims(token_use: &str, exp: i64, sub: &str) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("iss".into(), json_str(ISSUER));
    c.insert("token_use".into(), json_str(token_use));
    c.insert("exp".into(), Value::from(exp));
    c.insert("sub".into(), json_str(sub));
    c
}

fn json_str(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn access_token(sub: &str) -> String {
    sign_token(
        &keys().0,
        TokenKind::Access,
        &claims("access", NOW + 3600, sub),
    )
    .unwrap()
}

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,60}",
        any::<Vec<u8>>().prop_map(|b| URL_SAFE_NO_PAD.encode(b)),
        any::<String>().prop_map(|s| URL_SAFE_NO_PAD.encode(s)),
        Just(URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"access-kid="}"#)),
        Just(URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"access-kid="}"#)),
        Just(URL_SAFE_NO_PAD.encode(format!(
            r#"{{"iss":"{ISSUER}","token_use":"access","exp":{}}}"#,
            NOW + 60
        ))),
    ]
}

proptest! {
    #![proptest_config(config(256, 4))]

    #[test]
    fn fuzz_jwt_random_input_never_verifies(
        token in prop_oneof![
            any::<String>(),
            prop::collection::vec(segment(), 0..5).prop_map(|s| s.join(".")),
        ],
    ) {
        let _ = peek_claims(&token);
        let result = verify(&keys().0, &token, ISSUER, "access", NOW);
        prop_assert!(result.is_err(), "{token:?} verified");
    }

    #[test]
    fn fuzz_jwt_signed_tokens_verify_and_mutations_never_do(
        sub in any::<String>(),
        at in any::<usize>(),
        pick in any::<usize>(),
        cut in any::<usize>(),
    ) {
        let token = access_token(&sub);
        // Round trip: what the pool signed, it accepts, with the claims it signed.
        let verified = verify(&keys().0, &token, ISSUER, "access", NOW).unwrap();
        prop_assert_eq!(verified.get("sub"), Some(&json_str(&sub)));

        // One character replaced anywhere (a dot included) never verifies.
        let mut bytes = token.clone().into_bytes();
        let i = at % bytes.len();
        let mut c = B64URL[pick % B64URL.len()];
        if c == bytes[i] {
            c = b'.';
        }
        bytes[i] = c;
        let mutated = String::from_utf8(bytes).unwrap();
        prop_assert!(verify(&keys().0, &mutated, ISSUER, "access", NOW).is_err(), "{mutated}");

        // Cut short, or with something appended.
        let short = &token[..cut % token.len()];
        prop_assert!(verify(&keys().0, short, ISSUER, "access", NOW).is_err());
        let longer = format!("{token}{}", char::from(B64URL[pick % B64URL.len()]));
        prop_assert!(verify(&keys().0, &longer, ISSUER, "access", NOW).is_err());
    }

    #[test]
    fn fuzz_jwt_forged_and_misused_tokens_are_refused_as_documented(
        sub in "[a-z0-9-]{1,36}",
        exp in NOW - 100_000..NOW + 100_000,
    ) {
        let keys = keys();
        // Signed by another key with the pool's key id.
        let forged = sign_token(&keys.1, TokenKind::Access, &claims("access", NOW + 60, &sub)).unwrap();
        prop_assert_eq!(
            verify(&keys.0, &forged, ISSUER, "access", NOW),
            Err(TokenProblem::BadSignature)
        );
        // `alg: none` with the signature dropped, and the real signature under `HS256`.
        let token = access_token(&sub);
        let (_, rest) = token.split_once('.').unwrap();
        let (payload, signature) = rest.split_once('.').unwrap();
        for alg in ["none", "HS256", "RS512", "rs256"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","kid":"access-kid="}}"#));
            for sig in ["", signature] {
                let t = format!("{header}.{payload}.{sig}");
                prop_assert!(verify(&keys.0, &t, ISSUER, "access", NOW).is_err(), "{t}");
            }
        }
        // An ID token is no access token; expiry is checked.
        let id = sign_token(&keys.0, TokenKind::Id, &claims("id", NOW + 60, &sub)).unwrap();
        prop_assert_eq!(verify(&keys.0, &id, ISSUER, "access", NOW), Err(TokenProblem::WrongUse));
        let t = sign_token(&keys.0, TokenKind::Access, &claims("access", exp, &sub)).unwrap();
        let result = verify(&keys.0, &t, ISSUER, "access", NOW);
        if exp <= NOW {
            prop_assert_eq!(result, Err(TokenProblem::Expired));
        } else {
            prop_assert!(result.is_ok());
        }
        prop_assert_eq!(
            verify(&keys.0, &access_token(&sub), "http://elsewhere/us-east-1_AbC", "access", NOW),
            Err(TokenProblem::WrongPool)
        );
    }
}
