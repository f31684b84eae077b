//! Signing keys, the JWKS, and ID/access tokens as Cognito issues them (RS256 JWS compact,
//! header `{"kid", "alg"}`, one key for ID tokens and one for access tokens per pool).
//!
//! Tokens are signed with aws-lc directly: parsing a PKCS#8 key costs more than signing,
//! so parsed keys are cached per pool. The cache is only a cache: keys live sealed in the
//! store, and any node can rebuild it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::context::Core;
use crate::domain::SigningKeyRecord;
use crate::error::ApiError;
use crate::rng::{ALNUM, random_string};

struct LoadedKey {
    kid: String,
    pair: RsaKeyPair,
    /// Parsed once: parsing the DER on every verification cost as much as the check itself.
    public: ParsedPublicKey,
}

/// A pool's parsed keys.
pub struct PoolKeys {
    id: LoadedKey,
    access: LoadedKey,
    /// Every key of the pool, for the JWKS and for verifying tokens signed before a rotation.
    published: Vec<SigningKeyRecord>,
}

/// Parsed keys by pool id.
#[derive(Default)]
pub struct KeyCache {
    pools: RwLock<HashMap<String, Arc<PoolKeys>>>,
}

fn sealing_context(pool_id: &str, kid: &str) -> String {
    format!("signing-key:{pool_id}:{kid}")
}

/// Generates a pool's two RSA-2048 key pairs (about 100 ms each, so off the event loop).
pub async fn create_pool_keys(core: &Core, pool_id: &str) -> Result<(), ApiError> {
    for token_use in ["id", "access"] {
        let pair = tokio::task::spawn_blocking(|| RsaKeyPair::generate(KeySize::Rsa2048))
            .await
            .map_err(ApiError::internal)?
            .map_err(|_| ApiError::internal("RSA key generation failed"))?;
        let der = pair
            .as_der()
            .map_err(|_| ApiError::internal("RSA key encoding failed"))?;
        let components: aws_lc_rs::rsa::PublicKeyComponents<Vec<u8>> = pair.public_key().into();
        let kid = format!("{}=", random_string(core.rng.as_ref(), ALNUM, 43));
        let record = SigningKeyRecord {
            pool_id: pool_id.to_owned(),
            kid: kid.clone(),
            token_use: token_use.to_owned(),
            private_sealed: core.sealer.seal(
                core.rng.as_ref(),
                &sealing_context(pool_id, &kid),
                der.as_ref(),
            ),
            n: URL_SAFE_NO_PAD.encode(&components.n),
            e: URL_SAFE_NO_PAD.encode(&components.e),
            created_ms: core.now_ms(),
        };
        core.store.insert_signing_key(&record).await?;
    }
    Ok(())
}

fn load(core: &Core, record: &SigningKeyRecord) -> Result<LoadedKey, ApiError> {
    let der = core
        .sealer
        .open(
            &sealing_context(&record.pool_id, &record.kid),
            &record.private_sealed,
        )
        .map_err(ApiError::internal)?;
    let pair =
        RsaKeyPair::from_pkcs8(&der).map_err(|_| ApiError::internal("stored key is not PKCS#8"))?;
    let public = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public_key().as_ref())
        .map_err(|_| ApiError::internal("stored key has no usable public key"))?;
    Ok(LoadedKey {
        kid: record.kid.clone(),
        pair,
        public,
    })
}

pub async fn pool_keys(core: &Core, pool_id: &str) -> Result<Arc<PoolKeys>, ApiError> {
    if let Ok(map) = core.keys.pools.read()
        && let Some(k) = map.get(pool_id)
    {
        return Ok(k.clone());
    }
    let records = core.store.signing_keys(pool_id).await?;
    // The newest key of each use signs; all of them verify.
    let newest = |use_: &str| {
        records
            .iter()
            .rev()
            .find(|r| r.token_use == use_)
            .ok_or_else(|| ApiError::internal(format!("pool {pool_id} has no {use_} signing key")))
    };
    let keys = Arc::new(PoolKeys {
        id: load(core, newest("id")?)?,
        access: load(core, newest("access")?)?,
        published: records.clone(),
    });
    if let Ok(mut map) = core.keys.pools.write() {
        map.insert(pool_id.to_owned(), keys.clone());
    }
    Ok(keys)
}

/// Drops a pool's cached keys (the pool was deleted).
pub fn forget_pool(core: &Core, pool_id: &str) {
    if let Ok(mut map) = core.keys.pools.write() {
        map.remove(pool_id);
    }
}

#[derive(Serialize)]
pub struct Jwk {
    pub alg: &'static str,
    pub e: String,
    pub kid: String,
    pub kty: &'static str,
    pub n: String,
    #[serde(rename = "use")]
    pub use_: &'static str,
}

#[derive(Serialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

pub async fn jwks(core: &Core, pool_id: &str) -> Result<Jwks, ApiError> {
    let keys = pool_keys(core, pool_id).await?;
    Ok(Jwks {
        keys: keys
            .published
            .iter()
            .map(|r| Jwk {
                alg: "RS256",
                e: r.e.clone(),
                kid: r.kid.clone(),
                kty: "RSA",
                n: r.n.clone(),
                use_: "sig",
            })
            .collect(),
    })
}

#[derive(Serialize, Deserialize)]
struct Header {
    kid: String,
    alg: String,
}

fn sign(key: &LoadedKey, claims: &Map<String, Value>) -> Result<String, ApiError> {
    let header = Header {
        kid: key.kid.clone(),
        alg: "RS256".to_owned(),
    };
    let header = serde_json::to_vec(&header).map_err(ApiError::internal)?;
    let payload = serde_json::to_vec(claims).map_err(ApiError::internal)?;
    let mut input = URL_SAFE_NO_PAD.encode(header);
    input.push('.');
    input.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let mut signature = vec![0u8; key.pair.public_modulus_len()];
    key.pair
        .sign(
            &RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .map_err(|_| ApiError::internal("RSA signing failed"))?;
    input.push('.');
    input.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(input)
}

pub enum TokenKind {
    Id,
    Access,
}

pub fn sign_token(
    keys: &PoolKeys,
    kind: TokenKind,
    claims: &Map<String, Value>,
) -> Result<String, ApiError> {
    match kind {
        TokenKind::Id => sign(&keys.id, claims),
        TokenKind::Access => sign(&keys.access, claims),
    }
}

/// Why a token was refused, before mapping to the operation's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Malformed,
    BadSignature,
    Expired,
    WrongUse,
    WrongPool,
}

/// The payload of a JWT, unverified: only to learn which pool's keys to check it with.
pub fn peek_claims(token: &str) -> Result<Map<String, Value>, TokenProblem> {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenProblem::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenProblem::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenProblem::Malformed)
}

/// A token's claims, read before its signature is checked and tied to the token they came
/// from, so that a caller who needed one claim first (the issuer, to find the pool's keys)
/// does not decode and parse the payload twice.
pub struct Unverified<'t> {
    token: &'t str,
    claims: Map<String, Value>,
}

/// Reads a JWT's payload without checking anything.
pub fn peek(token: &str) -> Result<Unverified<'_>, TokenProblem> {
    Ok(Unverified {
        token,
        claims: peek_claims(token)?,
    })
}

impl Unverified<'_> {
    /// Not to be trusted before [`Unverified::verify`].
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// Verifies signature (RS256 only: `none`, HS256 and friends are refused), expiry, issuer
    /// and `token_use`, and returns the claims.
    pub fn verify(
        self,
        keys: &PoolKeys,
        issuer: &str,
        token_use: &str,
        now_s: i64,
    ) -> Result<Map<String, Value>, TokenProblem> {
        let (signed, signature) = self.token.rsplit_once('.').ok_or(TokenProblem::Malformed)?;
        let (header_b64, _) = signed.split_once('.').ok_or(TokenProblem::Malformed)?;
        let header: Header = URL_SAFE_NO_PAD
            .decode(header_b64)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenProblem::Malformed)?;
        if header.alg != "RS256" {
            return Err(TokenProblem::BadSignature);
        }
        let key = [&keys.id, &keys.access]
            .into_iter()
            .find(|k| k.kid == header.kid)
            .ok_or(TokenProblem::WrongPool)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenProblem::Malformed)?;
        key.public
            .verify_sig(signed.as_bytes(), &signature)
            .map_err(|_| TokenProblem::BadSignature)?;
        let claims = self.claims;
        if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
            return Err(TokenProblem::WrongPool);
        }
        if claims.get("token_use").and_then(Value::as_str) != Some(token_use) {
            return Err(TokenProblem::WrongUse);
        }
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or(TokenProblem::Malformed)?;
        if exp <= now_s {
            return Err(TokenProblem::Expired);
        }
        Ok(claims)
    }
}

/// [`peek`] then [`Unverified::verify`].
pub fn verify(
    keys: &PoolKeys,
    token: &str,
    issuer: &str,
    token_use: &str,
    now_s: i64,
) -> Result<Map<String, Value>, TokenProblem> {
    peek(token)?.verify(keys, issuer, token_use, now_s)
}

#[cfg(test)]
#[path = "tokens_fuzz.rs"]
mod fuzz;
