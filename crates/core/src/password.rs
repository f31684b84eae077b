//! Password policy, temporary passwords, and argon2id hashing.
//!
//! Hashing is deliberately slow (milliseconds of CPU and 19 MiB per hash), so it runs on the
//! fixed set of [`HashThreads`]: a burst of sign-ins can neither stall the event loop nor
//! exhaust memory.

use std::sync::Arc;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Params, Version};
use portcullis_proto::PasswordPolicyType;
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ErrorCode};
use crate::hash_threads::{HashError, HashThreads, WorkingMemory};
use crate::rng::{Rng, random_string};

/// Characters Cognito counts as symbols.
pub const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";

/// Cognito's defaults when a pool gives no policy.
pub fn default_policy() -> PasswordPolicyType {
    PasswordPolicyType {
        minimum_length: Some(8),
        require_uppercase: Some(true),
        require_lowercase: Some(true),
        require_numbers: Some(true),
        require_symbols: Some(true),
        password_history_size: None,
        temporary_password_validity_days: Some(7),
    }
}

/// Fills the gaps of a policy given at creation with Cognito's defaults where Cognito does.
pub fn complete_policy(given: Option<&PasswordPolicyType>) -> PasswordPolicyType {
    let Some(p) = given else {
        return default_policy();
    };
    PasswordPolicyType {
        minimum_length: Some(p.minimum_length.unwrap_or(8)),
        require_uppercase: Some(p.require_uppercase.unwrap_or(false)),
        require_lowercase: Some(p.require_lowercase.unwrap_or(false)),
        require_numbers: Some(p.require_numbers.unwrap_or(false)),
        require_symbols: Some(p.require_symbols.unwrap_or(false)),
        password_history_size: p.password_history_size,
        temporary_password_validity_days: Some(match p.temporary_password_validity_days {
            None | Some(0) => 7,
            Some(d) => d,
        }),
    }
}

/// Cognito's bound on PasswordHistorySize. Each remembered password costs one argon2
/// verification when a new one is set, so the bound is also a bound on that work.
pub const MAX_PASSWORD_HISTORY: u32 = 24;

/// How many earlier passwords a user may not reuse, the current one included (0: none).
pub fn history_size(policy: Option<&PasswordPolicyType>) -> u32 {
    policy
        .and_then(|p| p.password_history_size)
        .map_or(0, |n| u32::try_from(n.max(0)).unwrap_or(0))
        .min(MAX_PASSWORD_HISTORY)
}

/// Checks a password against the policy with Cognito's messages.
pub fn check_policy(policy: &PasswordPolicyType, password: &str) -> Result<(), ApiError> {
    let fail = |why: &str| {
        Err(ApiError::new(
            ErrorCode::InvalidPasswordException,
            format!("Password did not conform with password policy: {why}"),
        ))
    };
    let min = policy.minimum_length.unwrap_or(8);
    if (password.chars().count() as i64) < min {
        return fail("Password not long enough");
    }
    if policy.require_lowercase.unwrap_or(false) && !password.chars().any(|c| c.is_lowercase()) {
        return fail("Password must have lowercase characters");
    }
    if policy.require_uppercase.unwrap_or(false) && !password.chars().any(|c| c.is_uppercase()) {
        return fail("Password must have uppercase characters");
    }
    if policy.require_numbers.unwrap_or(false) && !password.chars().any(|c| c.is_ascii_digit()) {
        return fail("Password must have numeric characters");
    }
    if policy.require_symbols.unwrap_or(false) && !password.chars().any(|c| SYMBOLS.contains(c)) {
        return fail("Password must have symbol characters");
    }
    Ok(())
}

/// A random password that satisfies the policy: one character of each required class, the
/// rest from all classes, shuffled so the classes sit at no fixed position.
pub fn temporary_password(rng: &dyn Rng, policy: &PasswordPolicyType) -> String {
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SYM: &[u8] = b"^$*.!@#%&?-_=+";
    let len = usize::try_from(policy.minimum_length.unwrap_or(8).max(12)).unwrap_or(12);
    let mut chars: Vec<char> = Vec::with_capacity(len);
    for class in [LOWER, UPPER, DIGIT, SYM] {
        chars.extend(random_string(rng, class, 1).chars());
    }
    let all: Vec<u8> = [LOWER, UPPER, DIGIT, SYM].concat();
    chars.extend(random_string(rng, &all, len.saturating_sub(chars.len())).chars());
    // Fisher-Yates with the injected RNG.
    for i in (1..chars.len()).rev() {
        let mut b = [0u8; 4];
        rng.fill(&mut b);
        let j = (u32::from_le_bytes(b) as usize) % (i + 1);
        chars.swap(i, j);
    }
    chars.into_iter().collect()
}

/// argon2id hashing on [`HashThreads`], as many at a time as there are threads.
#[derive(Clone)]
pub struct PasswordHasher {
    threads: Arc<HashThreads>,
    params: Params,
    rng: Arc<dyn Rng>,
    /// A hash of a random password at the same parameters, checked when a sign-in names no
    /// user so that the answer takes as long as for a real one.
    dummy: Arc<tokio::sync::OnceCell<String>>,
}

/// Runs argon2 into `out` with the hashing thread's working memory (19 MiB at the default
/// parameters). Reusing it matters: a fresh allocation per hash was kept by the allocator per
/// thread, and resident memory grew to hundreds of MiB under sign-in load.
fn argon2_into(
    argon: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut WorkingMemory,
) -> Result<(), argon2::Error> {
    let blocks = memory
        .blocks(params.block_count())
        .ok_or(argon2::Error::MemoryTooMuch)?;
    argon.hash_password_into_with_memory(password, salt, out, blocks)
}

impl PasswordHasher {
    pub fn new(rng: Arc<dyn Rng>, concurrency: usize) -> Self {
        Self::with_params(rng, concurrency, Params::default())
    }

    /// Like [`PasswordHasher::new`], with at most `queue` hashes waiting for a thread.
    pub fn bounded(rng: Arc<dyn Rng>, concurrency: usize, queue: usize) -> Self {
        Self {
            threads: Arc::new(HashThreads::start_bounded(concurrency, queue)),
            params: Params::default(),
            rng,
            dummy: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// Tests use cheap parameters; production uses argon2's recommended defaults.
    pub fn with_params(rng: Arc<dyn Rng>, concurrency: usize, params: Params) -> Self {
        Self {
            threads: Arc::new(HashThreads::start(concurrency)),
            params,
            rng,
            dummy: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// Cheap parameters for unit and integration tests only.
    pub fn insecure_for_tests(rng: Arc<dyn Rng>) -> Self {
        let params = Params::new(256, 1, 1, None).unwrap_or_default();
        Self::with_params(rng, 4, params)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Runs argon2 over `password` and `salt` on a hashing thread into an output of
    /// `out_len` bytes, which `finish` turns into the answer there.
    async fn compute<T: Send + 'static>(
        &self,
        argon: Argon2<'static>,
        params: Params,
        password: &str,
        salt: Vec<u8>,
        out_len: usize,
        finish: impl FnOnce(Result<&[u8], argon2::Error>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let password = password.to_owned();
        self.threads
            .run(move |memory| {
                let mut out = vec![0u8; out_len];
                let done = argon2_into(
                    &argon,
                    &params,
                    password.as_bytes(),
                    &salt,
                    &mut out,
                    memory,
                );
                finish(done.map(|()| out.as_slice()))
            })
            .await
            .map_err(hash_error)
    }

    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let mut salt = [0u8; 16];
        self.rng.fill(&mut salt);
        let params = self.params.clone();
        let finish = move |out: Result<&[u8], argon2::Error>| {
            phc_string(&params, &salt, out.map_err(ApiError::internal)?)
        };
        self.compute(
            self.argon2(),
            self.params.clone(),
            password,
            salt.to_vec(),
            32,
            finish,
        )
        .await?
    }

    /// Spends the time of a real verification against a hash no password matches.
    pub async fn verify_dummy(&self, password: &str) -> Result<(), ApiError> {
        let hash = self
            .dummy
            .get_or_try_init(|| async {
                let mut random = [0u8; 24];
                self.rng.fill(&mut random);
                self.hash(&hex::encode(random)).await
            })
            .await?;
        self.verify(password, hash).await.map(|_| ())
    }

    /// Recomputes the stored hash and compares in constant time; a malformed stored hash
    /// simply fails to verify.
    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, ApiError> {
        let Some((argon, params, salt, expected)) = parse_phc(hash) else {
            return Ok(false);
        };
        let out_len = expected.len();
        let matches = move |out: Result<&[u8], argon2::Error>| {
            out.is_ok_and(|out| bool::from(out.ct_eq(&expected)))
        };
        self.compute(argon, params, password, salt, out_len, matches)
            .await
    }
}

/// A full hashing queue is Cognito's throttling answer: the SDKs back off and retry
/// `TooManyRequestsException`, which is what an overloaded server wants from them; a 500
/// would read as a fault of the server.
fn hash_error(e: HashError) -> ApiError {
    match e {
        HashError::Busy => ApiError::new(ErrorCode::TooManyRequestsException, "Rate exceeded"),
        HashError::NoThreads => ApiError::internal("no password-hashing thread is running"),
    }
}

fn phc_string(params: &Params, salt: &[u8], out: &[u8]) -> Result<String, ApiError> {
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(ApiError::internal)?,
        salt: Some(Salt::new(salt).map_err(ApiError::internal)?),
        hash: Some(Output::new(out).map_err(ApiError::internal)?),
    };
    Ok(hash.to_string())
}

/// The argon2 instance, salt and expected output a stored PHC string describes.
fn parse_phc(hash: &str) -> Option<(Argon2<'static>, Params, Vec<u8>, Vec<u8>)> {
    let phc = PasswordHash::new(hash).ok()?;
    let algorithm = Algorithm::try_from(phc.algorithm.as_str()).ok()?;
    let version = match phc.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&phc).ok()?;
    let salt = phc.salt.as_ref()?.as_ref().to_vec();
    let expected = phc.hash.as_ref()?.as_ref().to_vec();
    Some((
        Argon2::new(algorithm, version, params.clone()),
        params,
        salt,
        expected,
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;

    #[test]
    fn policy_messages() {
        let p = default_policy();
        let msg = |pw: &str| check_policy(&p, pw).unwrap_err().message;
        assert!(msg("Ab1!").ends_with("Password not long enough"));
        assert!(msg("ABCDEFG1!").ends_with("lowercase characters"));
        assert!(msg("abcdefg1!").ends_with("uppercase characters"));
        assert!(msg("Abcdefgh!").ends_with("numeric characters"));
        assert!(msg("Abcdefgh1").ends_with("symbol characters"));
        assert!(check_policy(&p, "Abcdefg1!").is_ok());
        let lax = complete_policy(Some(&PasswordPolicyType {
            minimum_length: Some(6),
            ..Default::default()
        }));
        assert!(check_policy(&lax, "aaaaaa").is_ok());
        assert_eq!(lax.temporary_password_validity_days, Some(7));
    }

    #[test]
    fn temporary_passwords_satisfy_the_policy() {
        let rng = SeededRng::new(9);
        let mut p = default_policy();
        p.minimum_length = Some(20);
        for _ in 0..200 {
            let pw = temporary_password(&rng, &p);
            assert_eq!(pw.chars().count(), 20);
            check_policy(&p, &pw).unwrap();
        }
    }

    #[tokio::test]
    async fn hashes_are_standard_phc_strings() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let params = Params::new(256, 1, 1, None).unwrap();
        let h = PasswordHasher::with_params(Arc::new(SeededRng::new(2)), 2, params.clone());
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        // Ours verifies with the argon2 crate's own verifier...
        let ours = h.hash("Correct1!").await.unwrap();
        assert!(argon.verify_password(b"Correct1!", ours.as_str()).is_ok());
        assert!(argon.verify_password(b"Wrong1!", ours.as_str()).is_err());
        // ...and a hash made by the argon2 crate (other parameters, too) verifies with ours.
        let theirs = Argon2::default()
            .hash_password_with_salt(b"Other1!", b"0123456789abcdef")
            .unwrap()
            .to_string();
        assert!(h.verify("Other1!", &theirs).await.unwrap());
        assert!(!h.verify("Other2!", &theirs).await.unwrap());
    }

    #[test]
    fn a_full_hashing_queue_is_throttling() {
        let e = hash_error(HashError::Busy);
        assert_eq!(e.code, ErrorCode::TooManyRequestsException);
        assert_eq!(e.code.status(), 400);
        assert_eq!(hash_error(HashError::NoThreads).code.status(), 500);
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = PasswordHasher::insecure_for_tests(Arc::new(SeededRng::new(1)));
        let hash = h.hash("Correct1!").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(h.verify("Correct1!", &hash).await.unwrap());
        assert!(!h.verify("Wrong1!", &hash).await.unwrap());
        assert!(!h.verify("Correct1!", "not a hash").await.unwrap());
    }
}
