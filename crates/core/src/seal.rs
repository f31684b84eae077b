//! Secrets at rest (client secrets, later signing keys and SRP verifiers) are sealed with
//! AES-256-GCM under the master key, so a copy of the database alone reveals none of them.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::rng::Rng;

pub const MASTER_KEY_LEN: usize = 32;

/// Fixed HKDF salt for subkeys: a domain separator, not a secret.
const SUBKEY_SALT: &[u8] = b"portcullis subkeys v1";

pub struct Sealer {
    key: LessSafeKey,
    /// HKDF's pseudo-random key from the master key: the root of every derived subkey.
    subkeys: hkdf::Hkdf<sha2::Sha256>,
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
            key: LessSafeKey::new(key),
            subkeys: hkdf::Hkdf::<sha2::Sha256>::new(Some(SUBKEY_SALT), master_key),
        })
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

    /// `context` binds the ciphertext to its purpose and owner (e.g. the client id), so a
    /// sealed value copied into another row will not open.
    pub fn seal(&self, rng: &dyn Rng, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce);
        let mut buf = plaintext.to_vec();
        // Sealing only fails for inputs larger than GCM's limit (64 GiB); ours are tiny.
        if self
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .is_err()
        {
            buf.clear();
        }
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        out
    }

    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut buf = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf)
            .map_err(|_| SealError::Open)?;
        Ok(plain.to_vec())
    }
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
    fn rejects_short_keys() {
        assert!(Sealer::new(&[0u8; 16]).is_err());
    }
}
