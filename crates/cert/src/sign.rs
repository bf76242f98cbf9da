//! Signing records with an unlocked key.

use std::fmt;

use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

use crate::issue::unlock_pair;
use crate::{CertError, CertProfile, IssuedKey, SecretPassphrase};

/// A decrypted private key with its certificate. Signatures are 64-byte `r||s` (COSE ES256).
pub struct SigningKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    certificate_der: Vec<u8>,
    profile: CertProfile,
    unit_code: String,
    fingerprint: String,
}

impl SigningKey {
    /// Decrypts the key and checks that it belongs to its certificate. Any profile unlocks
    /// (e.g. to prove a CA passphrase), but [`crate::verify_chain`] accepts only signer leaves.
    pub fn unlock(key: &IssuedKey, passphrase: &SecretPassphrase) -> Result<Self, CertError> {
        let cert = key.parsed_certificate()?;
        let rng = SystemRandom::new();
        let pair = unlock_pair(
            key,
            &cert,
            passphrase,
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )?;
        Ok(Self {
            pair,
            rng,
            certificate_der: key.certificate_der.clone(),
            profile: key.profile,
            unit_code: key.unit_code.clone(),
            fingerprint: crate::fingerprint(&key.certificate_der),
        })
    }

    /// ECDSA P-256 / SHA-256 over `message`, as 64 bytes `r||s`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CertError> {
        Ok(self.pair.sign(&self.rng, message)?.as_ref().to_vec())
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    pub fn profile(&self) -> CertProfile {
        self.profile
    }

    pub fn unit_code(&self) -> &str {
        &self.unit_code
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("profile", &self.profile)
            .field("unit_code", &self.unit_code)
            .field("fingerprint", &self.fingerprint)
            .field("private_key", &"***")
            .finish_non_exhaustive()
    }
}
