//! Key hierarchy and record signatures of vaxtrace.
//!
//! Owns the national root CA, the province CAs and the commune signers: their ECDSA P-256 keys,
//! their X.509 certificates, the encryption of private keys at rest (argon2id + AES-256-GCM),
//! record signing (64-byte `r||s`, the form COSE ES256 uses) and verification of a signature up a
//! chain to a trusted root, and decoding and verification of EU Digital COVID Certificates
//! ([`hcert`]). This crate knows nothing of SQL, HTTP or the CLI: callers store
//! [`IssuedKey`]s, pass passphrases in, and pass "now" in when checking validity.

mod error;
pub mod hcert;
mod issue;
mod keyfile;
mod parse;
pub mod pass;
mod passphrase;
mod profile;
mod sign;
mod verify;

pub use error::CertError;
pub use issue::{IssuedKey, create_csca, create_root, issue};
pub use passphrase::{KdfParams, SecretPassphrase};
pub use profile::{CertProfile, UnknownProfile};
pub use sign::SigningKey;
pub use verify::{CertSummary, MAX_CHAIN_LEN, VerifiedSigner, certificate_summary, verify_chain};

use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of a certificate's DER: the name stores and logs use for a certificate.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}
