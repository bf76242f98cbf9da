//! The key hierarchy's one error type. Messages never carry key material or passphrases.
//!
//! Certificates are named by `index` in a chain: 0 is the leaf, and the trusted root that anchors a
//! chain (when the chain does not include it) comes right after the chain's last certificate.

use crate::CertProfile;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// A passphrase shorter than [`crate::SecretPassphrase::MIN_CHARS`].
    #[error("passphrase must be at least {min_chars} characters long")]
    PassphraseTooShort { min_chars: usize },
    /// AES-GCM refused the stored key: the passphrase is wrong (or the ciphertext was altered).
    #[error("wrong passphrase for this private key")]
    WrongPassphrase,
    /// The stored private key blob is not in the `VXK1` format.
    #[error("stored private key is malformed: {0}")]
    CorruptKey(&'static str),
    /// The decrypted private key does not match the public key in its certificate.
    #[error("the private key does not belong to its certificate")]
    KeyMismatch,
    /// A unit code of the wrong shape for the profile ("VN", 2 or 5 digits).
    #[error("'{code}' is not a valid unit code for a {profile}")]
    InvalidUnitCode { profile: CertProfile, code: String },
    /// An empty or oversized common name.
    #[error("invalid common name: {0}")]
    InvalidName(&'static str),
    /// Validity dates out of order, or outside the issuer's.
    #[error("invalid validity period: {0}")]
    InvalidValidity(&'static str),
    /// The issuer's profile may not issue that profile (e.g. the root issuing a commune signer).
    #[error("a {issuer} may not issue a {subject}")]
    ProfileMismatch {
        issuer: CertProfile,
        subject: CertProfile,
    },
    /// The unit is not under the issuer's unit (e.g. a commune of another province).
    #[error("unit {unit} is not under issuer unit {issuer_unit}")]
    UnitOutsideIssuer { unit: String, issuer_unit: String },
    /// Not DER, not an X.509 v3 certificate, or not one of this hierarchy's certificates.
    #[error("certificate {index} is malformed: {reason}")]
    MalformedCertificate { index: usize, reason: String },
    /// A trusted root that cannot be parsed: a configuration problem, not a bad signature.
    #[error("trusted root {index} is malformed: {reason}")]
    MalformedTrustedRoot { index: usize, reason: String },
    /// Anything but ECDSA P-256 with SHA-256.
    #[error("certificate {index} uses an unsupported algorithm (only ECDSA P-256 with SHA-256)")]
    UnsupportedAlgorithm { index: usize },
    /// An empty chain, or a longer one than [`crate::MAX_CHAIN_LEN`].
    #[error("a chain must hold 1 to {max} certificates, not {len}")]
    ChainLength { len: usize, max: usize },
    /// The leaf is a CA, lacks digitalSignature, or is not a signer profile.
    #[error("the leaf certificate is not a record signer")]
    NotASigner,
    /// The signature is not the leaf key's signature over the message.
    #[error("the signature does not match the message and the signer's key")]
    BadSignature,
    /// A certificate's issuer name or signature does not match the next certificate.
    #[error("certificate {index} is not issued by the certificate after it")]
    BrokenChain { index: usize },
    /// An issuing certificate without CA basic constraints or keyCertSign.
    #[error("certificate {index} is not a CA allowed to sign certificates")]
    IssuerNotCa { index: usize },
    /// A CA's path length constraint is exceeded by the CAs below it.
    #[error("the path length constraint of certificate {index} is exceeded")]
    PathLenExceeded { index: usize },
    /// The chain stops below the level a root issues (e.g. a province CA is missing).
    #[error("the chain is incomplete: an intermediate CA is missing")]
    IncompleteChain,
    /// The chain's last certificate is neither a trusted root nor signed by one.
    #[error("the chain does not lead to a trusted root")]
    UntrustedRoot,
    /// A certificate is expired or not yet valid at the time asked about.
    #[error("certificate {index} is not valid at the given time")]
    NotValidAt { index: usize },
    /// The certificate encoder refused the parameters.
    #[error("could not create the certificate: {0}")]
    Generate(String),
    /// A vaccination certificate's content that the DCC schema or the HCERT format refuses.
    #[error("invalid DCC content: {0}")]
    InvalidDcc(String),
    /// HCERTs are signed by a DCC document signer key only.
    #[error("the key is not a DCC document signer")]
    NotADocumentSigner,
    /// The system random generator or a key operation failed.
    #[error("cryptographic operation failed")]
    Crypto,
}

impl From<ring::error::Unspecified> for CertError {
    fn from(_: ring::error::Unspecified) -> Self {
        Self::Crypto
    }
}

impl From<rcgen::Error> for CertError {
    fn from(e: rcgen::Error) -> Self {
        Self::Generate(e.to_string())
    }
}
