//! Secrets at rest (client secrets, signing keys, SRP verifiers) and the server's own tokens
//! (challenge sessions, hosted-UI cookies) are sealed with AES-256-GCM, so a copy of the
//! database alone reveals none of them.
//!
//! Each kind of value is sealed under a key of its own, derived from the master key with HKDF
//! for the purpose its context names (`client-secret:<id>` is sealed for `client-secret`), and
//! the whole context is the associated data. One kind therefore never opens as another, and
//! the random 96-bit nonces of values anyone can make the server seal (CSRF cookies, SRP
//! starts) are spread over their own key rather than the key of every secret at rest.
//!
//! Sealed values start with a version byte (1). Values sealed before it existed (a bare nonce
//! and ciphertext under the master key itself) still open, so a database written by an
//! older version keeps working; whatever is sealed from now on takes the new form.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::rng::Rng;

pub const MASTER_KEY_LEN: usize = 32;

/// Fixed HKDF salt for subkeys: a domain separator, not a secret.
const SUBKEY_SALT: &[u8] = b"portcullis subkeys v1";

/// The first byte of a value sealed under a purpose's key.
const VERSION_PURPOSE_KEYED: u8 = 1;
/// Purposes are a handful of constants in the code; a map grown past this is not caching.
const MAX_CACHED_PURPOSES: usize = 64;

pub struct Sealer {
    /// The master key itself: opens values sealed before purpose keys existed.
    legacy: LessSafeKey,
    /// HKDF's pseudo-random key from the master key: the root of every derived subkey.
    subkeys: hkdf::Hkdf<sha2::Sha256>,
    /// Sealing keys derived so far, by purpose.
    purpose_keys: Mutex<HashMap<String, Arc<LessSafeKey>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("master key must be {MASTER_KEY_LEN} bytes")]
    BadKey,
    #[error("sealed value is malformed or was sealed under another key")]
    Open,
}

impl Sealer {
    pub fn new(master_key: &[u8]) -> Result<Self, SealError> {
        if master_key.len() != MASTER_KEY_LEN {
            return Err(SealError::BadKey);
        }
        let key = UnboundKey::new(&AES_256_GCM, master_key).map_err(|_| SealError::BadKey)?;
        Ok(Self {
            legacy: LessSafeKey::new(key),
            subkeys: hkdf::Hkdf::<sha2::Sha256>::new(Some(SUBKEY_SALT), master_key),
            purpose_keys: Mutex::new(HashMap::new()),
        })
    }

    /// The sealing key of the purpose `context` names: its text before the first `:`.
    fn purpose_key(&self, context: &str) -> Result<Arc<LessSafeKey>, SealError> {
        let purpose = context.split(':').next().unwrap_or(context);
        let mut cache = self
            .purpose_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = cache.get(purpose) {
            return Ok(key.clone());
        }
        let mut bytes = self.subkey(&format!("seal:{purpose}"));
        // A 32-byte key is always a valid AES-256 key.
        let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| SealError::BadKey);
        bytes.fill(0);
        let key = Arc::new(LessSafeKey::new(key?));
        if cache.len() < MAX_CACHED_PURPOSES {
            cache.insert(purpose.to_owned(), key.clone());
        }
        Ok(key)
    }

    /// A 32-byte key for one purpose (`"code-hmac"`, `"srp-decoy-salt"`, ...), derived from the
    /// master key with HKDF-SHA256. Stable across restarts and nodes that share the master
    /// key; keys of different purposes are independent, so one never stands in for another.
    pub fn subkey(&self, purpose: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        // HKDF-Expand refuses only outputs longer than 255 hash lengths; 32 bytes never is.
        if self.subkeys.expand(purpose.as_bytes(), &mut out).is_err() {
            out = [0u8; 32];
        }
        out
    }

    /// `context` is `<purpose>:<owner>` (e.g. `client-secret:<client id>`): the purpose
    /// picks the key, and the whole context binds the ciphertext to its owner, so a sealed
    /// value copied into another row, or offered as another kind of value, will not open.
    pub fn seal(&self, rng: &dyn Rng, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let mut buf = plaintext.to_vec();
        // Sealing only fails for inputs larger than GCM's limit (64 GiB); ours are tiny. A
        // failure leaves a value that never opens.
        let sealed = self.purpose_key(context).and_then(|key| {
            key.seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| SealError::Open)
        });
        if sealed.is_err() {
            buf.clear();
        }
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        out.push(VERSION_PURPOSE_KEYED);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        out
    }

    /// Opens a value [`Sealer::seal`] made for `context`, or one an older version sealed
    /// under the master key itself.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if let Some((&VERSION_PURPOSE_KEYED, rest)) = sealed.split_first()
            && let Ok(key) = self.purpose_key(context)
            && let Ok(plain) = open_with(&key, context, rest)
        {
            return Ok(plain);
        }
        // A legacy value begins with a random nonce, whose first byte may happen to be 1: it
        // is tried as legacy whenever it did not open as versioned. GCM's tag decides either
        // way, so no value opens under the wrong reading.
        open_with(&self.legacy, context, sealed)
    }

    /// Seals as versions before purpose keys did; for tests of reading old databases.
    #[cfg(test)]
    fn seal_legacy(&self, rng: &dyn Rng, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let mut buf = plaintext.to_vec();
        let sealed = self.legacy.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(context.as_bytes()),
            &mut buf,
        );
        assert!(sealed.is_ok());
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        out
    }
}

fn open_with(key: &LessSafeKey, context: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
    if sealed.len() < NONCE_LEN {
        return Err(SealError::Open);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
    let mut buf = body.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
        .map_err(|_| SealError::Open)?;
    Ok(plain.to_vec())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;

    #[test]
    fn round_trip_and_context_binding() {
        let rng = SeededRng::new(1);
        let s = Sealer::new(&[7u8; 32]).unwrap();
        let sealed = s.seal(&rng, "client:abc", b"secret");
        assert_eq!(s.open("client:abc", &sealed).unwrap(), b"secret");
        assert!(s.open("client:xyz", &sealed).is_err());
        let other = Sealer::new(&[8u8; 32]).unwrap();
        assert!(other.open("client:abc", &sealed).is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(s.open("client:abc", &tampered).is_err());
    }

    #[test]
    fn subkeys_are_stable_per_purpose_and_master_key() {
        let a = Sealer::new(&[7u8; 32]).unwrap();
        let b = Sealer::new(&[7u8; 32]).unwrap();
        let c = Sealer::new(&[8u8; 32]).unwrap();
        assert_eq!(a.subkey("code-hmac"), b.subkey("code-hmac"));
        assert_ne!(a.subkey("code-hmac"), a.subkey("srp-decoy-salt"));
        assert_ne!(a.subkey("code-hmac"), c.subkey("code-hmac"));
        assert_ne!(a.subkey("code-hmac"), [7u8; 32]);
    }

    #[test]
    fn each_purpose_seals_under_its_own_key() {
        let rng = SeededRng::new(3);
        let s = Sealer::new(&[7u8; 32]).unwrap();
        let sealed = s.seal(&rng, "client-secret:abc", b"secret");
        assert_eq!(sealed[0], VERSION_PURPOSE_KEYED);
        // Not under the master key: a pre-versioning reader could not open it even with the
        // right context.
        assert!(open_with(&s.legacy, "client-secret:abc", &sealed[1..]).is_err());
        // Nor under another purpose's key with the same associated data.
        let other = s.purpose_key("signing-key:abc").unwrap();
        assert!(open_with(&other, "client-secret:abc", &sealed[1..]).is_err());
        // One kind is never accepted as another, even for the same owner.
        for kind in [
            "signing-key:abc",
            "srp-verifier:abc",
            "hosted-ui-cookie:abc",
        ] {
            assert!(s.open(kind, &sealed).is_err(), "{kind}");
        }
        let csrf = s.seal(&rng, "hosted-ui-cookie:csrf", b"{}");
        assert!(s.open("hosted-ui-cookie:session", &csrf).is_err());
        assert_eq!(s.open("hosted-ui-cookie:csrf", &csrf).unwrap(), b"{}");
        // The keys agree across restarts (a new Sealer on the same master key).
        let again = Sealer::new(&[7u8; 32]).unwrap();
        assert_eq!(again.open("client-secret:abc", &sealed).unwrap(), b"secret");
    }

    #[test]
    fn values_sealed_before_purpose_keys_still_open() {
        let rng = SeededRng::new(4);
        let s = Sealer::new(&[7u8; 32]).unwrap();
        // Many, so that some legacy nonces begin with the version byte.
        let mut began_like_a_version = 0;
        for n in 0..2000u32 {
            let plain = n.to_le_bytes();
            let old = s.seal_legacy(&rng, "srp-verifier:pool:sub", &plain);
            began_like_a_version += usize::from(old[0] == VERSION_PURPOSE_KEYED);
            assert_eq!(s.open("srp-verifier:pool:sub", &old).unwrap(), plain);
            assert!(s.open("srp-verifier:pool:other", &old).is_err());
        }
        assert!(began_like_a_version > 0);
    }

    #[test]
    fn rejects_short_keys() {
        assert!(Sealer::new(&[0u8; 16]).is_err());
    }
}
