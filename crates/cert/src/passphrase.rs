//! Passphrases that unlock private keys, and the cost of turning them into keys.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::CertError;

/// argon2id cost. Only used when encrypting: each stored key records the cost it was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub(crate) m_kib: u32,
    /// Passes.
    pub(crate) t: u32,
    /// Lanes.
    pub(crate) p: u32,
}

impl KdfParams {
    /// 64 MiB, 3 passes, 1 lane (RFC 9106's second recommendation, well above OWASP's 19 MiB,
    /// t=2): keys are unlocked rarely, so guessing should be costly.
    pub const fn production() -> Self {
        Self {
            m_kib: 64 * 1024,
            t: 3,
            p: 1,
        }
    }

    /// argon2's minimum cost: for tests and throwaway keys only, never for real keys.
    pub const fn insecure_fast() -> Self {
        Self {
            m_kib: 8,
            t: 1,
            p: 1,
        }
    }

    pub const fn memory_kib(self) -> u32 {
        self.m_kib
    }

    pub const fn passes(self) -> u32 {
        self.t
    }

    pub const fn lanes(self) -> u32 {
        self.p
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::production()
    }
}

/// A passphrase for a private key. Normalised to NFC (Vietnamese input methods differ in NFC/NFD),
/// wiped from memory on drop, never printed.
#[derive(Clone)]
pub struct SecretPassphrase {
    text: Zeroizing<String>,
    kdf: KdfParams,
}

impl SecretPassphrase {
    /// Fewer characters than this are refused.
    pub const MIN_CHARS: usize = 12;

    /// Takes the passphrase with [`KdfParams::production`] cost for keys it encrypts.
    pub fn new(text: impl Into<String>) -> Result<Self, CertError> {
        let raw = Zeroizing::new(text.into());
        let text = Zeroizing::new(raw.nfc().collect::<String>());
        if text.chars().count() < Self::MIN_CHARS {
            return Err(CertError::PassphraseTooShort {
                min_chars: Self::MIN_CHARS,
            });
        }
        Ok(Self {
            text,
            kdf: KdfParams::production(),
        })
    }

    /// Uses `kdf` for keys encrypted under this passphrase from now on.
    #[must_use]
    pub fn with_kdf(mut self, kdf: KdfParams) -> Self {
        self.kdf = kdf;
        self
    }

    pub fn kdf(&self) -> KdfParams {
        self.kdf
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }
}

impl fmt::Debug for SecretPassphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretPassphrase(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passphrases_are_refused_by_characters_not_bytes() {
        let err = SecretPassphrase::new("đường dài").unwrap_err();
        assert!(matches!(
            err,
            CertError::PassphraseTooShort { min_chars: 12 }
        ));
        assert!(err.to_string().contains("at least 12 characters"));
        // 12 characters, more bytes than that.
        assert!(SecretPassphrase::new("Hà Nội mùa t").is_ok());
    }

    #[test]
    fn nfd_and_nfc_input_are_the_same_passphrase() {
        let nfc = SecretPassphrase::new("Tiêm chủng an toàn").unwrap();
        let nfd = SecretPassphrase::new("Tiêm chủng an toàn".nfd().collect::<String>()).unwrap();
        assert_eq!(nfc.as_bytes(), nfd.as_bytes());
    }

    #[test]
    fn debug_hides_the_passphrase() {
        let p = SecretPassphrase::new("correct horse battery").unwrap();
        assert_eq!(format!("{p:?}"), "SecretPassphrase(***)");
    }

    #[test]
    fn production_cost_is_strong() {
        let p = KdfParams::default();
        assert!(p.memory_kib() >= 19 * 1024 && p.passes() >= 2);
    }
}
