//! USER_SRP_AUTH and its PASSWORD_VERIFIER answer, with Cognito's wire format. The math is
//! in `crate::srp`; this module is the protocol around it: sessions, SECRET_BLOCK, lockout,
//! and the existence policy (a name that matches no user gets a decoy challenge shaped like a
//! real one, see `unknown_users`, and its answer costs what a real answer costs).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use super::client_auth::{self, ClientContext};
use super::lockout::{self, Counter};
use super::signin::{self, Outcome, wrong_credentials};
use super::users::{PoolRules, find_user};
use super::{sessions, unknown_users};
use crate::context::Core;
use crate::domain::{PoolRecord, UserRecord};
use crate::error::{ApiError, ErrorCode};
use crate::srp;

/// The SRP "pool name": the part of the pool id after the underscore.
pub fn srp_pool_name(pool_id: &str) -> &str {
    pool_id.split_once('_').map_or(pool_id, |(_, name)| name)
}

fn sealing_context(pool_id: &str, sub: &str) -> String {
    format!("srp-verifier:{pool_id}:{sub}")
}

#[derive(Serialize, Deserialize)]
struct StoredVerifier {
    salt: String,
    verifier: String,
}

/// Computes and seals the SRP verifier of a password; called wherever a password is set.
pub fn seal_verifier(
    core: &Core,
    pool: &PoolRecord,
    user: &UserRecord,
    password: &str,
) -> Result<Vec<u8>, ApiError> {
    let v = srp::make_verifier(
        core.rng.as_ref(),
        srp_pool_name(&pool.id),
        &user.username,
        password,
    );
    let stored = StoredVerifier {
        salt: hex::encode(&v.salt),
        verifier: hex::encode(&v.verifier),
    };
    let json = serde_json::to_vec(&stored).map_err(ApiError::internal)?;
    Ok(core.sealer.seal(
        core.rng.as_ref(),
        &sealing_context(&pool.id, &user.sub),
        &json,
    ))
}

fn open_verifier(core: &Core, user: &UserRecord) -> Result<Option<srp::Verifier>, ApiError> {
    let Some(sealed) = &user.srp_sealed else {
        return Ok(None);
    };
    let json = core
        .sealer
        .open(&sealing_context(&user.pool_id, &user.sub), sealed)
        .map_err(ApiError::internal)?;
    let stored: StoredVerifier = serde_json::from_slice(&json).map_err(ApiError::internal)?;
    Ok(Some(srp::Verifier {
        salt: hex::decode(stored.salt).map_err(ApiError::internal)?,
        verifier: hex::decode(stored.verifier).map_err(ApiError::internal)?,
    }))
}

#[derive(Serialize, Deserialize)]
struct SrpState {
    /// Empty for the decoy challenge given for unknown users.
    sub: String,
    srp_a: String,
    b: String,
    /// Decoy challenges only: the canonical name asked for, and the USER_ID_FOR_SRP shown.
    #[serde(default)]
    decoy_name: String,
    #[serde(default)]
    decoy_user_id: String,
}

fn param<'a>(params: &'a BTreeMap<String, String>, key: &str) -> Result<&'a str, ApiError> {
    params
        .get(key)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid_parameter(format!("Missing required parameter {key}")))
}

fn srp_error(e: srp::SrpError) -> ApiError {
    ApiError::invalid_parameter(format!("Invalid SRP parameter: {e}"))
}

pub async fn start(
    core: &Core,
    ctx: &ClientContext,
    params: &BTreeMap<String, String>,
) -> Result<Outcome, ApiError> {
    let username = param(params, "USERNAME")?;
    let srp_a = param(params, "SRP_A")?;
    client_auth::check_secret_hash(ctx, username, params.get("SECRET_HASH").map(String::as_str))?;
    let user = find_user(core, &ctx.pool, username).await?;
    let counter = match &user {
        Some(u) => {
            signin::refuse_unconfirmed_early(ctx, u)?;
            Counter::of_user(u)
        }
        None if ctx.prevents_user_existence_errors() => {
            Counter::of_unknown(core, &ctx.pool, username)
        }
        None => return Err(ApiError::user_not_found()),
    };
    // Unknown names read their own counter, so they show a lock as real users do.
    lockout::check_unlocked(core, &counter).await?;
    let verifier = match &user {
        Some(u) => open_verifier(core, u)?,
        None => None,
    };
    // Unknown users (under PreventUserExistenceErrors) and users without a verifier get a
    // decoy challenge that no answer can pass, at the cost of a real one.
    let canonical = unknown_users::canonical(&ctx.pool, username);
    let decoy;
    let verifier = match &verifier {
        Some(v) => v,
        None => {
            decoy = core.srp_decoy.verifier_for(core, &ctx.pool.id, &canonical);
            &decoy
        }
    };
    let challenge = srp::start(core.rng.as_ref(), verifier, srp_a).map_err(srp_error)?;
    let (sub, user_id) = match &user {
        Some(u) if u.srp_sealed.is_some() => (u.sub.clone(), u.username.clone()),
        Some(u) => (String::new(), u.username.clone()),
        None => (
            String::new(),
            unknown_users::srp_user_id(core, &ctx.pool, &canonical),
        ),
    };
    let decoy = sub.is_empty();
    let state = SrpState {
        sub: sub.clone(),
        srp_a: srp_a.to_owned(),
        b: hex::encode(&challenge.b),
        decoy_name: if decoy { canonical } else { String::new() },
        decoy_user_id: if decoy {
            user_id.clone()
        } else {
            String::new()
        },
    };
    let holder = user.clone().unwrap_or_else(|| decoy_holder(ctx));
    let session = sessions::open(
        core,
        ctx,
        &UserRecord { sub, ..holder },
        "PASSWORD_VERIFIER",
        &state,
    )
    .await?;
    let secret_block = STANDARD.encode(
        URL_SAFE_NO_PAD
            .decode(&session)
            .map_err(ApiError::internal)?,
    );
    let mut out = BTreeMap::new();
    out.insert("SALT".to_owned(), challenge.salt_hex);
    out.insert("SRP_B".to_owned(), challenge.b_pub_hex);
    out.insert("SECRET_BLOCK".to_owned(), secret_block);
    out.insert("USER_ID_FOR_SRP".to_owned(), user_id.clone());
    out.insert("USERNAME".to_owned(), user_id);
    Ok(Outcome {
        challenge_name: Some("PASSWORD_VERIFIER".to_owned()),
        session: Some(session),
        challenge_parameters: Some(out),
        authentication_result: None,
    })
}

/// The verifier behind a decoy challenge: one group element drawn once per process (it never
/// leaves the server, and no password matches it), with the name's keyed salt
/// (`unknown_users::srp_salt`), so repeated attempts for one name look alike on every node and
/// after restarts, and cost what a real user's challenge costs.
#[derive(Default)]
pub struct SrpDecoy {
    verifier: std::sync::OnceLock<Vec<u8>>,
}

impl SrpDecoy {
    fn verifier_for(&self, core: &Core, pool_id: &str, canonical: &str) -> srp::Verifier {
        let verifier = self
            .verifier
            .get_or_init(|| {
                let mut random = [0u8; 32];
                core.rng.fill(&mut random);
                srp::make_verifier(core.rng.as_ref(), "decoy", "decoy", &hex::encode(random))
                    .verifier
            })
            .clone();
        srp::Verifier {
            salt: srp::pad_hex_bytes(&unknown_users::srp_salt(core, pool_id, canonical)),
            verifier,
        }
    }
}

/// A placeholder owner for a decoy session.
fn decoy_holder(ctx: &ClientContext) -> UserRecord {
    UserRecord {
        pool_id: ctx.pool.id.clone(),
        username: String::new(),
        sub: String::new(),
        status: crate::domain::UserStatus::Unconfirmed,
        enabled: false,
        created_ms: 0,
        modified_ms: 0,
        attributes: BTreeMap::new(),
        password_hash: None,
        password_set_ms: None,
        srp_sealed: None,
        keys: Default::default(),
        version: 0,
    }
}

/// How far the client's TIMESTAMP may be from the server clock.
const TIMESTAMP_TOLERANCE_S: i64 = 5 * 60;

pub async fn answer(
    core: &Core,
    ctx: &ClientContext,
    session: Option<&str>,
    responses: &BTreeMap<String, String>,
) -> Result<Outcome, ApiError> {
    let username = param(responses, "USERNAME")?;
    let signature = param(responses, "PASSWORD_CLAIM_SIGNATURE")?;
    let secret_block = param(responses, "PASSWORD_CLAIM_SECRET_BLOCK")?;
    let timestamp = param(responses, "TIMESTAMP")?;
    // The SECRET_BLOCK is the session in standard base64; clients such as pycognito send
    // only the block, others send both, and then the two must agree.
    let from_block = STANDARD
        .decode(secret_block)
        .map(|raw| URL_SAFE_NO_PAD.encode(raw))
        .map_err(|_| sessions::invalid_session())?;
    if session.is_some_and(|s| s != from_block) {
        return Err(sessions::invalid_session());
    }
    let (record, state): (_, SrpState) =
        sessions::load(core, ctx, &from_block, "PASSWORD_VERIFIER").await?;
    sessions::consume(core, &record).await?;
    client_auth::check_secret_hash(
        ctx,
        username,
        responses.get("SECRET_HASH").map(String::as_str),
    )?;
    let ts = srp::parse_timestamp(timestamp).ok_or_else(|| {
        ApiError::invalid_parameter("TIMESTAMP must look like 'Sun Nov 29 07:34:32 UTC 2026'.")
    })?;
    if (ts - core.now_ms().div_euclid(1000)).abs() > TIMESTAMP_TOLERANCE_S {
        return Err(ApiError::new(
            ErrorCode::NotAuthorizedException,
            "The TIMESTAMP is too far from the server's time.",
        ));
    }
    let b = hex::decode(&state.b).map_err(ApiError::internal)?;
    if state.sub.is_empty() {
        let claim = Claim {
            b: &b,
            secret_block,
            timestamp,
            signature,
        };
        return decoy_answer(core, ctx, &state, username, claim).await;
    }
    let user = core
        .store
        .get_user_by_sub(&ctx.pool.id, &state.sub)
        .await?
        .ok_or_else(wrong_credentials)?;
    if find_user(core, &ctx.pool, username).await?.map(|u| u.sub) != Some(user.sub.clone()) {
        return Err(sessions::invalid_session());
    }
    let counter = Counter::of_user(&user);
    lockout::count_attempt(core, &counter).await?;
    let verifier = open_verifier(core, &user)?.ok_or_else(wrong_credentials)?;
    let checked = srp::check_claim(
        &verifier,
        &b,
        &state.srp_a,
        srp_pool_name(&ctx.pool.id),
        &user.username,
        secret_block,
        timestamp,
        signature,
    );
    if checked.is_err() {
        return Err(wrong_credentials());
    }
    lockout::succeeded(core, &counter).await?;
    signin::after_password(core, ctx, user).await
}

/// What the client sent to prove the password.
struct Claim<'a> {
    b: &'a [u8],
    secret_block: &'a str,
    timestamp: &'a str,
    signature: &'a str,
}

/// The answer to a decoy challenge: the reads, the counted attempt and the modular
/// exponentiations of a real user's answer, then the answer of a wrong password (or of a
/// lock, after as many failures as a real user may have).
async fn decoy_answer(
    core: &Core,
    ctx: &ClientContext,
    state: &SrpState,
    username: &str,
    claim: Claim<'_>,
) -> Result<Outcome, ApiError> {
    // A user row read that finds nothing, like the real path's read by sub.
    core.store.get_user_by_sub(&ctx.pool.id, &state.sub).await?;
    // As a real answer must name the user its challenge was for. A real client names it by the
    // USERNAME the challenge gave, which the real path finds with one username read.
    let key = PoolRules::of(&ctx.pool).username_key(username);
    let found = core.store.get_user_by_username(&ctx.pool.id, &key).await?;
    let named = username == state.decoy_user_id
        || unknown_users::canonical(&ctx.pool, username) == state.decoy_name;
    if found.is_some() || !named {
        return Err(sessions::invalid_session());
    }
    let counter = Counter::of_unknown(core, &ctx.pool, &state.decoy_name);
    lockout::count_attempt(core, &counter).await?;
    let verifier = core
        .srp_decoy
        .verifier_for(core, &ctx.pool.id, &state.decoy_name);
    // Always fails: no password matches the decoy verifier.
    let _ = srp::check_claim(
        &verifier,
        claim.b,
        &state.srp_a,
        srp_pool_name(&ctx.pool.id),
        &state.decoy_user_id,
        claim.secret_block,
        claim.timestamp,
        claim.signature,
    );
    Err(wrong_credentials())
}
