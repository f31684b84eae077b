//! `base^exponent mod n` in constant time, for SRP-6a's 3072-bit group, by aws-lc's
//! `BN_mod_exp_mont_consttime` (the routine behind its RSA and DH).
//!
//! Why not the pure-Rust big integers the rest of SRP uses: on x86-64 aws-lc multiplies with
//! MULX/ADX assembly, which made a server-side SRP login 2.6 times cheaper (`portcullis-bench
//! bounds`: 104 -> 276 logins/s on one core), and SRP sign-in is bounded by these
//! exponentiations (three on the server per sign-in, two on the client).
//!
//! Constant time: aws-lc's routine uses a fixed window over every bit stored in the exponent
//! (its width in words, not its highest set bit) and scatter/gather table lookups. Callers pass
//! exponents of a fixed byte length, so their leading zeros stay hidden too.

#![allow(unsafe_code)] // This crate's purpose; every block says why it is sound.

use std::ptr;

use aws_lc_sys as sys;

/// An owned aws-lc `BIGNUM`, wiped and freed on drop.
struct Bn(ptr::NonNull<sys::BIGNUM>);

impl Bn {
    /// An empty BIGNUM, or None if aws-lc cannot allocate.
    fn new() -> Option<Bn> {
        // SAFETY: BN_new has no preconditions; it returns NULL or a fresh, owned BIGNUM.
        ptr::NonNull::new(unsafe { sys::BN_new() }).map(Bn)
    }

    /// The unsigned big-endian number in `be`, keeping `be.len()` bytes' worth of words as the
    /// width (leading zeros are not trimmed away).
    fn from_be(be: &[u8]) -> Option<Bn> {
        let bn = Bn::new()?;
        // SAFETY: `be` is a valid slice for `be.len()` bytes; `bn` is a valid BIGNUM we own,
        // which BN_bin2bn fills and returns (or returns NULL on allocation failure).
        let out = unsafe { sys::BN_bin2bn(be.as_ptr(), be.len(), bn.0.as_ptr()) };
        (!out.is_null()).then_some(bn)
    }

    /// Big-endian, left-padded with zeros to exactly `len` bytes; None if it does not fit.
    fn to_be(&self, len: usize) -> Option<Vec<u8>> {
        let mut out = vec![0u8; len];
        // SAFETY: `out` is writable for `len` bytes; `self` is a valid BIGNUM.
        let ok = unsafe { sys::BN_bn2bin_padded(out.as_mut_ptr(), len, self.0.as_ptr()) };
        (ok == 1).then_some(out)
    }

    fn as_ptr(&self) -> *const sys::BIGNUM {
        self.0.as_ptr()
    }
}

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: we own this BIGNUM and drop it once; BN_clear_free zeroes it before freeing,
        // since some of ours (exponents, shared secrets) are secret.
        unsafe { sys::BN_clear_free(self.0.as_ptr()) }
    }
}

/// An aws-lc `BN_CTX` (scratch space), freed on drop.
struct Ctx(ptr::NonNull<sys::BN_CTX>);

impl Ctx {
    fn new() -> Option<Ctx> {
        // SAFETY: no preconditions; NULL or a fresh, owned BN_CTX.
        ptr::NonNull::new(unsafe { sys::BN_CTX_new() }).map(Ctx)
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: we own this BN_CTX and free it once.
        unsafe { sys::BN_CTX_free(self.0.as_ptr()) }
    }
}

/// An odd modulus with its Montgomery constants, ready for [`Modulus::pow`].
pub struct Modulus {
    n: Bn,
    mont: ptr::NonNull<sys::BN_MONT_CTX>,
    len: usize,
}

impl Drop for Modulus {
    fn drop(&mut self) {
        // SAFETY: we own this BN_MONT_CTX and free it once (before `n`, which it copied).
        unsafe { sys::BN_MONT_CTX_free(self.mont.as_ptr()) }
    }
}

impl Modulus {
    /// The modulus given big-endian. None unless it is odd and greater than one (Montgomery
    /// arithmetic needs an odd modulus), or if aws-lc cannot allocate.
    pub fn new(n_be: &[u8]) -> Option<Modulus> {
        let (&last, high) = n_be.split_last()?;
        let is_one = last == 1 && high.iter().all(|&b| b == 0);
        if last & 1 == 0 || is_one {
            return None;
        }
        let n = Bn::from_be(n_be)?;
        let ctx = Ctx::new()?;
        // SAFETY: `n` is a valid odd BIGNUM > 1 and `ctx` a valid BN_CTX; the result is NULL or
        // a fresh BN_MONT_CTX we own, holding its own copy of `n`.
        let mont = unsafe { sys::BN_MONT_CTX_new_for_modulus(n.as_ptr(), ctx.0.as_ptr()) };
        let mont = ptr::NonNull::new(mont)?;
        Some(Modulus {
            n,
            mont,
            len: n_be.len(),
        })
    }

    /// `base^exponent mod n`, big-endian, padded to the modulus's byte length.
    ///
    /// `base` must be below the modulus (None otherwise). The time taken depends on the
    /// exponent's byte length, never on its value.
    pub fn pow(&self, base_be: &[u8], exponent_be: &[u8]) -> Option<Vec<u8>> {
        let base = Bn::from_be(base_be)?;
        // SAFETY: both are valid BIGNUMs.
        if unsafe { sys::BN_cmp(base.as_ptr(), self.n.as_ptr()) } >= 0 {
            return None;
        }
        // An empty exponent is zero: x^0 = 1.
        let exponent = Bn::from_be(if exponent_be.is_empty() {
            &[0]
        } else {
            exponent_be
        })?;
        let out = Bn::new()?;
        let ctx = Ctx::new()?;
        // SAFETY: every pointer is a valid object we own for the duration of the call; `base`
        // is reduced (checked above), `n` is odd, and `mont` was built for `n`. `out` is not
        // aliased with any input.
        let ok = unsafe {
            sys::BN_mod_exp_mont_consttime(
                out.0.as_ptr(),
                base.as_ptr(),
                exponent.as_ptr(),
                self.n.as_ptr(),
                ctx.0.as_ptr(),
                self.mont.as_ptr(),
            )
        };
        if ok != 1 {
            return None;
        }
        out.to_be(self.len)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
    use crypto_bigint::{Odd, U256, U3072};

    #[test]
    fn small_numbers() {
        let m = Modulus::new(&[0x00, 0x65]).unwrap(); // 101
        assert_eq!(m.pow(&[3], &[5]).unwrap(), vec![0, 243 % 101]);
        assert_eq!(m.pow(&[7], &[]).unwrap(), vec![0, 1]);
        assert_eq!(m.pow(&[0], &[9]).unwrap(), vec![0, 0]);
        // 2^100 mod 101 = 1 (Fermat).
        assert_eq!(m.pow(&[2], &[100]).unwrap(), vec![0, 1]);
    }

    #[test]
    fn bad_inputs_are_refused() {
        assert!(Modulus::new(&[]).is_none());
        assert!(Modulus::new(&[0x64]).is_none(), "even");
        assert!(Modulus::new(&[0x00, 0x01]).is_none(), "one");
        let m = Modulus::new(&[0x65]).unwrap();
        assert!(m.pow(&[0x65], &[1]).is_none(), "base not reduced");
        assert!(m.pow(&[0xff], &[1]).is_none(), "base not reduced");
    }

    /// Against crypto-bigint's own constant-time exponentiation, on 3072-bit numbers.
    #[test]
    fn agrees_with_crypto_bigint() {
        // An odd 3072-bit modulus from a fixed pattern, and bases and exponents from an LCG:
        // deterministic, and unrelated to any structure of the modulus.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state
        };
        let mut n_bytes = [0u8; 384];
        for b in n_bytes.iter_mut() {
            *b = (next() >> 56) as u8;
        }
        n_bytes[0] |= 0x80;
        n_bytes[383] |= 1;
        let n = U3072::from_be_slice(&n_bytes);
        let params = FixedMontyParams::new(Odd::new(n).unwrap());
        let m = Modulus::new(&n_bytes).unwrap();
        for _ in 0..4 {
            let mut base_bytes = [0u8; 384];
            for b in base_bytes.iter_mut() {
                *b = (next() >> 56) as u8;
            }
            base_bytes[0] &= 0x7f; // below n
            let mut exp_bytes = [0u8; 32];
            for b in exp_bytes.iter_mut() {
                *b = (next() >> 56) as u8;
            }
            let base = U3072::from_be_slice(&base_bytes);
            let exp = U256::from_be_slice(&exp_bytes);
            let expected = FixedMontyForm::new(&base, &params).pow(&exp).retrieve();
            let got = m.pow(&base_bytes, &exp_bytes).unwrap();
            assert_eq!(U3072::from_be_slice(&got), expected);
        }
    }
}
