//! Property-based fuzzing of the parsers in core that read attacker input: the ListUsers filter,
//! pagination tokens, and SRP's SRP_A, TIMESTAMP, PASSWORD_CLAIM_SIGNATURE and SECRET_BLOCK.
//! (JWT verification is fuzzed beside its private key types, in `tokens_fuzz.rs`.)
//!
//! Properties: no input panics; a refusal is the documented error; formats with an encoder
//! round-trip; a mutated valid SRP claim never verifies. Each test runs a bounded number of
//! cases in CI; `PROPTEST_CASES=N cargo test -p portcullis-core fuzz_` runs N each (see
//! docs/fuzzing.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use proptest::prelude::*;
use proptest::test_runner::Config;

use crate::domain::FilterField;
use crate::error::ErrorCode;
use crate::rng::{Rng, SeededRng};
use crate::service::{filter, paging};
use crate::srp::{self, SrpError};

/// `ci` cases per test, or `PROPTEST_CASES` divided by `cost` (for tests whose case is
/// expensive, such as 3072-bit exponentiations) when set.
pub(crate) fn config(ci: u32, cost: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .map_or(ci, |n| (n / cost).max(1));
    Config {
        cases,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// ListUsers filter

const FIELDS: &[(&str, FilterField)] = &[
    ("username", FilterField::Username),
    ("email", FilterField::Email),
    ("phone_number", FilterField::PhoneNumber),
    ("name", FilterField::Name),
    ("given_name", FilterField::GivenName),
    ("family_name", FilterField::FamilyName),
    ("preferred_username", FilterField::PreferredUsername),
    ("sub", FilterField::Sub),
    ("cognito:user_status", FilterField::UserStatus),
    ("status", FilterField::Enabled),
];

/// Text near the grammar: names, operators, quotes, escapes and blanks in any order.
fn filterish() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("email".to_owned()),
        Just("cognito:user_status".to_owned()),
        Just("=".to_owned()),
        Just("^=".to_owned()),
        Just("^".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("\u{0}".to_owned()),
        Just("é".to_owned()),
        "[a-z@.]{0,4}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(atom, 0..12).prop_map(|parts| parts.concat())
}

fn escape_filter_value(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

proptest! {
    #![proptest_config(config(512, 1))]

    #[test]
    fn fuzz_filter_never_panics_and_refuses_with_invalid_parameter(
        text in prop_oneof![any::<String>(), filterish()],
    ) {
        if let Err(e) = filter::parse(Some(&text)) {
            prop_assert_eq!(e.code, ErrorCode::InvalidParameterException);
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn fuzz_filter_round_trips_every_value(
        field in 0..FIELDS.len(),
        prefix in any::<bool>(),
        value in any::<String>(),
        before in "[ \t]{0,2}",
        around_op in "[ ]{0,2}",
    ) {
        let (name, expected) = FIELDS[field];
        let op = if prefix { "^=" } else { "=" };
        let text = format!(
            "{before}{name}{around_op}{op}{around_op}\"{}\"",
            escape_filter_value(&value)
        );
        let parsed = filter::parse(Some(&text)).unwrap().unwrap();
        prop_assert_eq!(parsed.field, expected);
        prop_assert_eq!(parsed.prefix, prefix);
        prop_assert_eq!(parsed.value, value);
    }

    // -----------------------------------------------------------------------------------------
    // Pagination tokens

    #[test]
    fn fuzz_paging_tokens_round_trip_and_refuse_nul(key in any::<String>(), other in any::<String>()) {
        let decoded = paging::decode(Some(&paging::encode(&key)));
        if key.contains('\0') {
            prop_assert_eq!(decoded.unwrap_err().code, ErrorCode::InvalidParameterException);
        } else {
            prop_assert_eq!(decoded.unwrap(), Some(key.clone()));
        }
        // The two-part cursor of a prefix filter: one NUL between two NUL-free parts.
        let pair = format!("{key}\0{other}");
        let decoded = paging::decode_pair(Some(&paging::encode(&pair)));
        if key.contains('\0') || other.contains('\0') {
            prop_assert!(decoded.is_err());
        } else {
            prop_assert_eq!(decoded.unwrap(), Some(pair));
        }
    }

    #[test]
    fn fuzz_paging_forged_tokens_never_panic(token in prop_oneof![any::<String>(), "[A-Za-z0-9_=+/-]{0,40}"]) {
        for result in [paging::decode(Some(&token)), paging::decode_pair(Some(&token))] {
            match result {
                Ok(Some(key)) => prop_assert!(key.matches('\0').count() <= 1),
                Ok(None) => prop_assert!(false, "a token decoded to no key"),
                Err(e) => prop_assert_eq!(e.code, ErrorCode::InvalidParameterException),
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // SRP: TIMESTAMP

    #[test]
    fn fuzz_srp_timestamp_never_panics(text in prop_oneof![
        any::<String>(),
        "(Mon|Tue|Wed|Thu|Fri|Sat|Sun|Xyz) (Jan|Feb|Nov|Dec|Foo) [0-9]{0,3} [0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3} (UTC|GMT) [0-9]{0,6}",
    ]) {
        if let Some(t) = srp::parse_timestamp(&text) {
            // Whatever parses is the one canonical spelling of its instant.
            prop_assert_eq!(srp::format_timestamp(t), Some(text));
        }
    }

    #[test]
    fn fuzz_srp_timestamp_round_trips(t in -30_610_224_000_i64..253_402_300_800_i64) {
        let text = srp::format_timestamp(t).unwrap();
        prop_assert_eq!(srp::parse_timestamp(&text), Some(t));
    }
}

// ---------------------------------------------------------------------------------------------
// SRP: SRP_A, PASSWORD_CLAIM_SIGNATURE, SECRET_BLOCK

const POOL: &str = "AbCdEfGhI";
const USER: &str = "alice";

struct Login {
    verifier: srp::Verifier,
    challenge: srp::ServerChallenge,
    srp_a: String,
    secret_block: String,
    timestamp: String,
    signature: String,
}

impl Login {
    fn check(&self, f: impl FnOnce(&mut [String; 6])) -> Result<(), SrpError> {
        let mut parts = [
            self.srp_a.clone(),
            POOL.to_owned(),
            USER.to_owned(),
            self.secret_block.clone(),
            self.timestamp.clone(),
            self.signature.clone(),
        ];
        f(&mut parts);
        srp::check_claim(
            &self.verifier,
            &self.challenge.b,
            &parts[0],
            &parts[1],
            &parts[2],
            &parts[3],
            &parts[4],
            &parts[5],
        )
    }
}

/// One complete, valid exchange (the client side as real clients compute it), made once.
fn login() -> &'static Login {
    static LOGIN: OnceLock<Login> = OnceLock::new();
    LOGIN.get_or_init(|| {
        let rng = SeededRng::new(7);
        let verifier = srp::make_verifier(&rng, POOL, USER, "Passw0rd!");
        let client = srp::client::Client::new(&rng).unwrap();
        let srp_a = client.srp_a_hex();
        let challenge = srp::start(&rng, &verifier, &srp_a).unwrap();
        let mut block = [0u8; 64];
        rng.fill(&mut block);
        let secret_block = B64.encode(block);
        let timestamp = srp::format_timestamp(1_793_696_707).unwrap();
        let signature = client
            .password_claim_signature(&srp::client::Challenge {
                pool_name: POOL,
                user_id_for_srp: USER,
                password: "Passw0rd!",
                salt_hex: &challenge.salt_hex,
                srp_b_hex: &challenge.b_pub_hex,
                secret_block_b64: &secret_block,
                timestamp: &timestamp,
            })
            .unwrap();
        Login {
            verifier,
            challenge,
            srp_a,
            secret_block,
            timestamp,
            signature,
        }
    })
}

/// Replaces the character at `at` (modulo the length) with another one of `alphabet`.
fn mutate(s: &str, at: usize, pick: usize, alphabet: &[u8]) -> String {
    let mut bytes = s.as_bytes().to_vec();
    if bytes.is_empty() {
        return char::from(alphabet[pick % alphabet.len()]).to_string();
    }
    let i = at % bytes.len();
    let mut replacement = alphabet[pick % alphabet.len()];
    if replacement == bytes[i] {
        replacement = alphabet[(pick + 1) % alphabet.len()];
    }
    bytes[i] = replacement;
    String::from_utf8(bytes).unwrap()
}

const HEX: &[u8] = b"0123456789abcdef";
const B64_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#[test]
fn fuzz_srp_the_valid_claim_verifies() {
    assert_eq!(login().check(|_| {}), Ok(()));
}

proptest! {
    #![proptest_config(config(64, 20))]

    #[test]
    fn fuzz_srp_a_never_panics(a in prop_oneof![
        "[0-9a-fA-F]{0,800}",
        any::<String>(),
        Just(String::new()),
        Just("0".repeat(1030)),
        Just("F".repeat(768)),
    ]) {
        let rng = SeededRng::new(1);
        match srp::start(&rng, &login().verifier, &a) {
            Ok(challenge) => prop_assert!(!challenge.b_pub_hex.is_empty()),
            Err(e) => prop_assert!(
                matches!(e, SrpError::MalformedA | SrpError::InvalidA),
                "{a:?}: {e:?}"
            ),
        }
    }

    #[test]
    fn fuzz_srp_a_mutated_claim_never_verifies(
        part in 0usize..6,
        at in any::<usize>(),
        pick in any::<usize>(),
    ) {
        let login = login();
        let result = login.check(|parts| {
            let alphabet = match part {
                0 => HEX,
                3 | 5 => B64_CHARS,
                _ => b"abcdefghijklmnopqrstuvwxyz0123456789 :",
            };
            parts[part] = mutate(&parts[part], at, pick, alphabet);
        });
        prop_assert!(result.is_err(), "a mutated claim (part {part}) verified");
    }

    #[test]
    fn fuzz_srp_claim_garbage_is_refused(
        a in prop_oneof![Just(login().srp_a.clone()), "[0-9a-f]{0,20}", any::<String>()],
        block in prop_oneof![Just(login().secret_block.clone()), any::<String>(), "[A-Za-z0-9+/=]{0,90}"],
        timestamp in any::<String>(),
        signature in prop_oneof![any::<String>(), "[A-Za-z0-9+/=]{0,50}"],
    ) {
        let result = login().check(|parts| {
            parts[0] = a;
            parts[3] = block;
            parts[4] = timestamp;
            parts[5] = signature;
        });
        prop_assert!(
            matches!(
                result,
                Err(SrpError::MalformedA
                    | SrpError::InvalidA
                    | SrpError::MalformedSecretBlock
                    | SrpError::MalformedSignature
                    | SrpError::BadSignature
                    | SrpError::Degenerate)
            ),
            "{result:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Sealed values (the hosted pages' session and CSRF cookies are sealed values in base64url)

fn sealer() -> &'static crate::seal::Sealer {
    static SEALER: OnceLock<crate::seal::Sealer> = OnceLock::new();
    SEALER.get_or_init(|| crate::seal::Sealer::new(&[7u8; 32]).unwrap())
}

proptest! {
    #![proptest_config(config(512, 1))]

    #[test]
    fn fuzz_sealed_values_round_trip_and_mutations_never_open(
        plain in any::<Vec<u8>>(),
        context in "[a-z:_]{1,20}",
        other in "[a-z:_]{1,20}",
        at in any::<usize>(),
        bit in 0u8..8,
        cut in any::<usize>(),
    ) {
        let rng = SeededRng::new(at as u64);
        let sealed = sealer().seal(&rng, &context, &plain);
        prop_assert_eq!(sealer().open(&context, &sealed).unwrap(), plain);
        // Bound to its purpose: one kind of sealed value is never another.
        if other != context {
            prop_assert!(sealer().open(&other, &sealed).is_err());
        }
        let mut flipped = sealed.clone();
        let i = at % flipped.len();
        flipped[i] ^= 1 << bit;
        prop_assert!(sealer().open(&context, &flipped).is_err());
        prop_assert!(sealer().open(&context, &sealed[..cut % sealed.len()]).is_err());
    }

    #[test]
    fn fuzz_sealed_values_random_bytes_never_open(bytes in any::<Vec<u8>>(), context in "[a-z]{1,8}") {
        prop_assert!(sealer().open(&context, &bytes).is_err());
    }
}
