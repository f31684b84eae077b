//! The crypto that caps each scenario on one core, measured with the server's own code and
//! parameters: argon2id (PasswordHasher at its production parameters), RSA-2048 PKCS#1 SHA-256
//! with aws-lc-rs (as tokens are signed and verified), and the server's SRP steps.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
};
use portcullis_core::password::PasswordHasher;
use portcullis_core::rng::{Rng as _, SystemRng};
use portcullis_core::srp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rate {
    /// Operations per second on one thread.
    pub per_s: f64,
    /// Mean milliseconds per operation.
    pub ms: f64,
    pub samples: u64,
}

impl Rate {
    fn of(samples: u64, spent: Duration) -> Rate {
        let s = spent.as_secs_f64();
        Rate {
            per_s: if s > 0.0 { samples as f64 / s } else { 0.0 },
            ms: if samples > 0 {
                s * 1000.0 / samples as f64
            } else {
                0.0
            },
            samples,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bounds {
    /// argon2id verification at `argon2::Params::default()` (what a password sign-in costs).
    pub argon2_verify: Rate,
    /// argon2id hash at the same parameters (what a sign-up or password change costs).
    pub argon2_hash: Rate,
    pub argon2_params: String,
    pub rsa_sign: Rate,
    /// Verification as the server does it: the public key is parsed on every call.
    pub rsa_verify: Rate,
    pub srp_start: Rate,
    pub srp_check: Rate,
    /// One server-side SRP login: start + check.
    pub srp_login: Rate,
    /// `srp::make_verifier`, computed whenever a password is set (sign-up).
    pub srp_make_verifier: Rate,
    /// The client's answer to one challenge (what the generator computes per SRP sign-in, with
    /// its `a` drawn once per worker). Older result files lack it.
    #[serde(default)]
    pub srp_client: Option<Rate>,
    pub load_before: Option<[f64; 3]>,
    pub load_after: Option<[f64; 3]>,
}

/// Runs `op` until `budget` is spent (at least `min` times), timing only what `op` reports.
fn measure(
    budget: Duration,
    min: u64,
    mut op: impl FnMut() -> anyhow::Result<Duration>,
) -> anyhow::Result<Rate> {
    let wall = Instant::now();
    let (mut n, mut spent) = (0u64, Duration::ZERO);
    while n < min || wall.elapsed() < budget {
        spent += op()?;
        n += 1;
    }
    Ok(Rate::of(n, spent))
}

fn timed(f: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed())
}

pub async fn measure_all(budget: Duration) -> anyhow::Result<Bounds> {
    let load_before = crate::procstat::load_average();
    let rng = SystemRng;
    rng.fill(&mut [0u8; 16]);

    // argon2id through the server's own hasher (one permit; blocking pool thread).
    let hasher = PasswordHasher::new(Arc::new(SystemRng), 1);
    let password = crate::state::DEFAULT_PASSWORD;
    let hash = hasher.hash(password).await?;
    let argon2_params = hash.split('$').nth(3).unwrap_or("?").to_owned();
    let mut argon2_verify = (0u64, Duration::ZERO);
    let wall = Instant::now();
    while argon2_verify.0 < 5 || wall.elapsed() < budget {
        let t = Instant::now();
        if !hasher.verify(password, &hash).await? {
            return Err(anyhow!("argon2 verification of the right password failed"));
        }
        argon2_verify.1 += t.elapsed();
        argon2_verify.0 += 1;
    }
    let mut argon2_hash = (0u64, Duration::ZERO);
    let wall = Instant::now();
    while argon2_hash.0 < 5 || wall.elapsed() < budget / 2 {
        let t = Instant::now();
        hasher.hash(password).await?;
        argon2_hash.1 += t.elapsed();
        argon2_hash.0 += 1;
    }

    // RSA-2048 over a token-sized message.
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| anyhow!("RSA keygen: {e}"))?;
    let public = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public_key().as_ref())
        .map_err(|e| anyhow!("RSA public key: {e}"))?;
    let message = vec![b'x'; 900];
    let mut signature = vec![0u8; pair.public_modulus_len()];
    let random = aws_lc_rs::rand::SystemRandom::new();
    let rsa_sign = measure(budget, 20, || {
        timed(|| {
            pair.sign(&RSA_PKCS1_SHA256, &random, &message, &mut signature)
                .map_err(|e| anyhow!("RSA sign: {e}"))
        })
    })?;
    let rsa_verify = measure(budget, 20, || {
        timed(|| {
            public
                .verify_sig(&message, &signature)
                .map_err(|e| anyhow!("RSA verify: {e}"))
        })
    })?;

    // SRP: the server's two steps, the client's math (not timed) in between.
    let pool = "BenchPool1";
    let user = "signin0";
    let verifier = srp::make_verifier(&rng, pool, user, password);
    let client = srp::client::Client::new(&rng).map_err(|e| anyhow!("{e}"))?;
    let a_hex = client.srp_a_hex();
    let secret_block = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let timestamp = srp::format_timestamp(1_800_000_000).ok_or_else(|| anyhow!("timestamp"))?;
    let (mut n, mut t_start, mut t_check, mut t_client) =
        (0u64, Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let wall = Instant::now();
    while n < 10 || wall.elapsed() < budget {
        let t = Instant::now();
        let ch = srp::start(&rng, &verifier, &a_hex).map_err(|e| anyhow!("srp start: {e}"))?;
        t_start += t.elapsed();
        let t = Instant::now();
        let sig = client
            .password_claim_signature(&srp::client::Challenge {
                pool_name: pool,
                user_id_for_srp: user,
                password,
                salt_hex: &ch.salt_hex,
                srp_b_hex: &ch.b_pub_hex,
                secret_block_b64: secret_block,
                timestamp: &timestamp,
            })
            .map_err(|e| anyhow!("srp client: {e}"))?;
        t_client += t.elapsed();
        let t = Instant::now();
        srp::check_claim(
            &verifier,
            &ch.b,
            &a_hex,
            pool,
            user,
            secret_block,
            &timestamp,
            &sig,
        )
        .map_err(|e| anyhow!("srp check_claim: {e}"))?;
        t_check += t.elapsed();
        n += 1;
    }
    let srp_make_verifier = measure(budget / 2, 10, || {
        timed(|| {
            std::hint::black_box(srp::make_verifier(&rng, pool, user, password));
            Ok(())
        })
    })?;

    Ok(Bounds {
        argon2_verify: Rate::of(argon2_verify.0, argon2_verify.1),
        argon2_hash: Rate::of(argon2_hash.0, argon2_hash.1),
        argon2_params,
        rsa_sign,
        rsa_verify,
        srp_start: Rate::of(n, t_start),
        srp_check: Rate::of(n, t_check),
        srp_login: Rate::of(n, t_start + t_check),
        srp_make_verifier,
        srp_client: Some(Rate::of(n, t_client)),
        load_before,
        load_after: crate::procstat::load_average(),
    })
}

/// The bound for a scenario, in operations per second on one core, and what it is.
pub fn bound_for(kind: crate::scenario::ScenarioKind, b: &Bounds) -> Option<(f64, &'static str)> {
    use crate::scenario::ScenarioKind as K;
    match kind {
        K::PasswordSignIn => Some((b.argon2_verify.per_s, "argon2id verify")),
        K::SrpSignIn => Some((b.srp_login.per_s, "SRP start+check")),
        K::Refresh => Some((b.rsa_sign.per_s / 2.0, "RSA sign / 2")),
        K::GetUser => Some((b.rsa_verify.per_s, "RSA verify")),
        K::SignUp => Some((
            1.0 / (b.argon2_hash.ms / 1000.0 + b.srp_make_verifier.ms / 1000.0),
            "argon2id hash + SRP verifier",
        )),
        K::ClientCredentials => Some((b.rsa_sign.per_s, "RSA sign")),
        K::AuthorizationCode => Some((b.rsa_sign.per_s / 2.0, "RSA sign / 2")),
        K::AdminGetUser | K::ListUsersPrefix | K::Health => None,
    }
}
