//! Issuing vaccination HCERTs: the DCC 1.3.0 payload, UVCIs with their checksum, ICAO 9303
//! transliteration of names, and `HC1:` + `base45(zlib(COSE_Sign1(CWT)))` signed by a DSC.

use flate2::Compression;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value as Json, json};
use time::Date;
use time::macros::format_description;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::base45;
use super::decode::{self, CoseParts, MAX_QR_BYTES, PREFIX};
use super::dsc::{KID_LEN, kid_of};
use crate::{CertError, CertProfile, SigningKey};

/// The DCC schema version the payload follows.
pub const DCC_SCHEMA_VERSION: &str = "1.3.0";
/// Issuing country (CWT `iss`, `co`, and the UVCI's country part).
pub const ISSUER_COUNTRY: &str = "VN";
/// `is`: who issued the certificate. ASCII, so every verifier app displays it.
pub const CERTIFICATE_ISSUER: &str = "Ministry of Health of Viet Nam";
/// SNOMED CT code of COVID-19 (`disease-agent-targeted`).
pub const COVID_19: &str = "840539006";
/// Longest `fn`/`gn`/`fnt`/`gnt`, `is` and `ci` the schema allows.
const MAX_FIELD_CHARS: usize = 80;
/// Luhn mod N alphabet of the UVCI checksum (eHealth Network UVCI guidelines, Annex 2).
const UVCI_CHARSET: &[u8; 38] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:";

/// What a vaccination certificate states; `ver`, `tg`, `co` and `is` are fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaccinationDcc {
    /// Full name in Vietnamese order: family name first.
    pub full_name: String,
    /// `YYYY-MM-DD`, `YYYY-MM`, `YYYY` or empty when unknown.
    pub date_of_birth: String,
    /// `vp`, `mp`, `ma`: EU value-set codes.
    pub prophylaxis: String,
    pub product: String,
    pub manufacturer: String,
    pub dose_number: u8,
    pub series_doses: u8,
    pub vaccinated_on: Date,
    /// From [`uvci`] or [`new_uvci`].
    pub uvci: String,
}

/// A name split into the DCC's surname and forename parts, with their ICAO transliterations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DccName {
    pub family: String,
    pub family_icao: String,
    /// Empty when the name is one word.
    pub given: String,
    pub given_icao: String,
}

/// Splits a Vietnamese name: the first word is the family name, the rest the given names.
pub fn split_name(full_name: &str) -> Result<DccName, CertError> {
    let name: String = full_name.nfc().collect();
    let mut words = name.split_whitespace();
    let family = words
        .next()
        .ok_or_else(|| invalid("the name is empty / the name is empty"))?
        .to_owned();
    let given = words.collect::<Vec<_>>().join(" ");
    let out = DccName {
        family_icao: icao_transliterate(&family),
        given_icao: icao_transliterate(&given),
        family,
        given,
    };
    if out.family_icao.is_empty() {
        return Err(invalid(
            "họ không chuyển tự được sang ký tự Latin / the family name has no Latin transliteration",
        ));
    }
    if out.family.chars().count() > MAX_FIELD_CHARS || out.given.chars().count() > MAX_FIELD_CHARS {
        return Err(invalid(
            "tên dài quá 80 ký tự / a name part is longer than 80 characters",
        ));
    }
    Ok(out)
}

/// ICAO 9303 machine-readable form: diacritics dropped, Đ → D, uppercase A–Z, word separators
/// as `<`, anything else left out, at most 80 characters.
pub fn icao_transliterate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut push = |s: &str| {
        for c in s.chars() {
            if c == '<' {
                // One filler between words, none leading.
                if !out.is_empty() && !out.ends_with('<') {
                    out.push('<');
                }
            } else {
                out.push(c);
            }
        }
    };
    for c in text.nfc() {
        // Letters that do not decompose into a base letter and marks (ICAO 9303-3 table).
        let mapped = match c {
            'Đ' | 'đ' | 'Ð' | 'ð' => "D",
            'Æ' | 'æ' => "AE",
            'Ø' | 'ø' | 'Œ' | 'œ' => "OE",
            'ß' => "SS",
            'Þ' | 'þ' => "TH",
            'Ł' | 'ł' => "L",
            'Ħ' | 'ħ' => "H",
            'ı' => "I",
            c if c.is_whitespace() || c == '-' || c == ',' => "<",
            _ => "",
        };
        if mapped.is_empty() {
            for d in c.nfd().filter(|d| !is_combining_mark(*d)) {
                if d.is_ascii_alphabetic() {
                    let upper = d.to_ascii_uppercase();
                    push(upper.encode_utf8(&mut [0; 4]));
                }
            }
        } else {
            push(mapped);
        }
    }
    while out.ends_with('<') {
        out.pop();
    }
    if out.len() > MAX_FIELD_CHARS {
        out.truncate(MAX_FIELD_CHARS);
        while out.ends_with('<') {
            out.pop();
        }
    }
    out
}

/// The Luhn mod 38 check character of a UVCI (including its `URN:UVCI:` prefix), or `None` when
/// it holds a character outside `A-Z 0-9 / :`.
pub fn uvci_checksum(uvci: &str) -> Option<char> {
    let n = UVCI_CHARSET.len();
    let mut factor = 2;
    let mut sum = 0;
    for b in uvci.bytes().rev() {
        let code = UVCI_CHARSET.iter().position(|&c| c == b)?;
        let addend = factor * code;
        factor = 3 - factor;
        sum += addend / n + addend % n;
    }
    Some(char::from(UVCI_CHARSET[(n - sum % n) % n]))
}

/// Whether `uvci` ends in `#` and the right check character.
pub fn uvci_checksum_is_valid(uvci: &str) -> bool {
    uvci.rsplit_once('#').is_some_and(|(body, check)| {
        check.chars().count() == 1 && uvci_checksum(body).is_some_and(|c| check.starts_with(c))
    })
}

/// `URN:UVCI:01:VN:<opaque>#<check>`; `opaque` may hold `A-Z 0-9 /`.
pub fn uvci(opaque: &str) -> Result<String, CertError> {
    let ok = !opaque.is_empty()
        && opaque
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'/');
    if !ok {
        return Err(invalid(
            "mã chứng nhận chỉ gồm A-Z, 0-9, / / the UVCI's opaque part may hold A-Z, 0-9, / only",
        ));
    }
    let body = format!("URN:UVCI:01:{ISSUER_COUNTRY}:{opaque}");
    let check = uvci_checksum(&body).ok_or_else(|| invalid("UVCI charset"))?;
    let full = format!("{body}#{check}");
    if full.len() > MAX_FIELD_CHARS {
        return Err(invalid(
            "mã chứng nhận quá dài / the UVCI is longer than 80 characters",
        ));
    }
    Ok(full)
}

/// A fresh UVCI with 128 random bits (26 Base32 characters): unguessable, and unlinkable to the
/// person, unlike one derived from the personal ID.
pub fn new_uvci() -> Result<String, CertError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new().fill(&mut bytes)?;
    uvci(&base32(&bytes))
}

/// RFC 4648 Base32 without padding.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The holder part every DCC shares: `ver`, `nam` and `dob`, checked, plus one `v`/`t`/`r` entry.
fn dcc_payload(
    full_name: &str,
    date_of_birth: &str,
    key: &str,
    entry: &Json,
) -> Result<Json, CertError> {
    let name = split_name(full_name)?;
    let dob_ok = matches!(date_of_birth.len(), 0 | 4 | 7 | 10)
        && date_of_birth.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
        && (date_of_birth.is_empty()
            || date_of_birth.starts_with("19")
            || date_of_birth.starts_with("20"));
    if !dob_ok {
        return Err(invalid(
            "ngày sinh không đúng dạng YYYY-MM-DD / the date of birth is not YYYY-MM-DD",
        ));
    }
    let uvci = entry["ci"].as_str().unwrap_or_default();
    if !uvci_checksum_is_valid(uvci) || uvci.len() > MAX_FIELD_CHARS {
        return Err(invalid("mã chứng nhận không hợp lệ / invalid UVCI"));
    }
    let mut nam = json!({ "fn": name.family, "fnt": name.family_icao });
    if !name.given.is_empty() {
        nam["gn"] = json!(name.given);
        nam["gnt"] = json!(name.given_icao);
    }
    Ok(json!({
        "ver": DCC_SCHEMA_VERSION,
        "nam": nam,
        "dob": date_of_birth,
        key: [entry],
    }))
}

fn day(date: Date) -> Result<String, CertError> {
    date.format(format_description!("[year]-[month]-[day]"))
        .map_err(|_| invalid("ngày không hợp lệ / invalid date"))
}

fn codes_present(codes: &[&str]) -> Result<(), CertError> {
    if codes
        .iter()
        .any(|c| c.is_empty() || c.chars().count() > MAX_FIELD_CHARS)
    {
        return Err(invalid("thiếu mã danh mục / missing value-set code"));
    }
    Ok(())
}

impl VaccinationDcc {
    /// The DCC JSON payload (schema 1.3.0).
    pub fn payload(&self) -> Result<Json, CertError> {
        if self.dose_number == 0 || self.series_doses == 0 {
            return Err(invalid("số mũi phải từ 1 / dose numbers start at 1"));
        }
        codes_present(&[&self.prophylaxis, &self.product, &self.manufacturer])?;
        let entry = json!({
            "tg": COVID_19,
            "vp": self.prophylaxis,
            "mp": self.product,
            "ma": self.manufacturer,
            "dn": self.dose_number,
            "sd": self.series_doses,
            "dt": day(self.vaccinated_on)?,
            "co": ISSUER_COUNTRY,
            "is": CERTIFICATE_ISSUER,
            "ci": self.uvci,
        });
        dcc_payload(&self.full_name, &self.date_of_birth, "v", &entry)
    }
}

/// `tt` of a NAAT (PCR) test, from the EU value set `test-type`.
pub const TEST_TYPE_NAAT: &str = "LP6464-4";
/// `tt` of a rapid antigen test.
pub const TEST_TYPE_RAT: &str = "LP217198-3";
/// `tr`: SARS-CoV-2 not detected / detected (EU value set `test-result`).
pub const TEST_NOT_DETECTED: &str = "260415000";
pub const TEST_DETECTED: &str = "260373001";

/// What a test certificate states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestDcc {
    pub full_name: String,
    pub date_of_birth: String,
    /// [`TEST_TYPE_NAAT`] or [`TEST_TYPE_RAT`].
    pub test_type: String,
    /// `nm`: the NAAT test's name, if known.
    pub test_name: Option<String>,
    /// `ma`: the rapid antigen device's code (EU value set), required for RATs.
    pub device: Option<String>,
    pub sampled_at: time::OffsetDateTime,
    /// [`TEST_NOT_DETECTED`] or [`TEST_DETECTED`].
    pub result: String,
    /// `tc`: the testing centre.
    pub centre: String,
    pub uvci: String,
}

impl TestDcc {
    pub fn payload(&self) -> Result<Json, CertError> {
        if ![TEST_TYPE_NAAT, TEST_TYPE_RAT].contains(&self.test_type.as_str()) {
            return Err(invalid("loại xét nghiệm không hợp lệ / unknown test type"));
        }
        if ![TEST_NOT_DETECTED, TEST_DETECTED].contains(&self.result.as_str()) {
            return Err(invalid(
                "kết quả xét nghiệm không hợp lệ / unknown test result",
            ));
        }
        codes_present(&[&self.centre])?;
        let sc = self
            .sampled_at
            .to_offset(time::UtcOffset::UTC)
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .map_err(|_| invalid("thời điểm lấy mẫu / sample time"))?;
        let mut entry = json!({
            "tg": COVID_19,
            "tt": self.test_type,
            "sc": sc,
            "tr": self.result,
            "tc": self.centre,
            "co": ISSUER_COUNTRY,
            "is": CERTIFICATE_ISSUER,
            "ci": self.uvci,
        });
        match (&self.device, self.test_type.as_str()) {
            (Some(device), _) => entry["ma"] = json!(device),
            (None, TEST_TYPE_RAT) => {
                return Err(invalid(
                    "xét nghiệm nhanh cần mã thiết bị / a RAT needs its device code",
                ));
            }
            (None, _) => {}
        }
        if let Some(name) = &self.test_name {
            entry["nm"] = json!(name);
        }
        dcc_payload(&self.full_name, &self.date_of_birth, "t", &entry)
    }
}

/// What a recovery certificate states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryDcc {
    pub full_name: String,
    pub date_of_birth: String,
    /// `fr`: the first positive test.
    pub first_positive: Date,
    /// `df`, `du`: the certificate's validity (at most 180 days after `fr` in the EU rules).
    pub valid_from: Date,
    pub valid_until: Date,
    pub uvci: String,
}

impl RecoveryDcc {
    pub fn payload(&self) -> Result<Json, CertError> {
        if !(self.first_positive <= self.valid_from && self.valid_from <= self.valid_until) {
            return Err(invalid(
                "ngày khỏi bệnh không hợp lệ / recovery dates out of order",
            ));
        }
        let entry = json!({
            "tg": COVID_19,
            "fr": day(self.first_positive)?,
            "co": ISSUER_COUNTRY,
            "is": CERTIFICATE_ISSUER,
            "df": day(self.valid_from)?,
            "du": day(self.valid_until)?,
            "ci": self.uvci,
        });
        dcc_payload(&self.full_name, &self.date_of_birth, "r", &entry)
    }
}

/// Signs `payload` (a DCC JSON object) as an HCERT valid from `iat` to `exp` (Unix seconds) with
/// a document signer's key; returns the `HC1:` QR text.
pub fn issue_hcert(
    payload: &Json,
    key: &SigningKey,
    iat: i64,
    exp: i64,
) -> Result<String, CertError> {
    issue_hcert_signed(payload, key, iat, exp).map(|(qr, _)| qr)
}

/// [`issue_hcert`], also returning the COSE signature (`r||s`), which revocation lists hash.
pub fn issue_hcert_signed(
    payload: &Json,
    key: &SigningKey,
    iat: i64,
    exp: i64,
) -> Result<(String, Vec<u8>), CertError> {
    if key.profile() != CertProfile::DocumentSigner {
        return Err(CertError::NotADocumentSigner);
    }
    if iat >= exp {
        return Err(CertError::InvalidValidity("iat must be before exp"));
    }
    // Refuse what verifiers would refuse rather than sign it.
    decode::basic_shape(payload).map_err(CertError::InvalidDcc)?;
    // The CBOR is written by hand (shortest heads, claims in key order): it is the issuing hot
    // path, and these few fixed structures need no value tree.
    let mut cwt = Vec::with_capacity(512);
    cwt.push(0xA4); // map(4)
    cwt.push(0x01); // 1: iss
    push_text(&mut cwt, ISSUER_COUNTRY);
    cwt.push(0x04); // 4: exp
    push_int(&mut cwt, exp);
    cwt.push(0x06); // 6: iat
    push_int(&mut cwt, iat);
    cwt.extend_from_slice(&[0x39, 0x01, 0x03]); // -260: hcert
    cwt.extend_from_slice(&[0xA1, 0x01]); // {1: the EU DCC}
    ciborium::ser::into_writer(payload, &mut cwt).map_err(|e| encoding(&e))?;

    // Protected header {1: -7 (ES256), 4: kid}.
    let mut protected = vec![0xA2, 0x01, 0x26, 0x04];
    decode::push_head(&mut protected, 2, KID_LEN as u64);
    protected.extend_from_slice(&kid_of(key.certificate_der()));
    let parts = CoseParts {
        protected,
        alg: Ok(decode::Algorithm::Es256),
        kid: None,
        payload: cwt,
        signature: Vec::new(),
    };
    let signature = key.sign(&parts.to_be_signed())?;
    let mut cose = Vec::with_capacity(parts.payload.len() + 128);
    cose.extend_from_slice(&[0xD2, 0x84]); // tag 18 (COSE_Sign1), array(4)
    decode::push_head(&mut cose, 2, parts.protected.len() as u64);
    cose.extend_from_slice(&parts.protected);
    cose.push(0xA0); // unprotected: {}
    decode::push_head(&mut cose, 2, parts.payload.len() as u64);
    cose.extend_from_slice(&parts.payload);
    decode::push_head(&mut cose, 2, signature.len() as u64);
    cose.extend_from_slice(&signature);
    let compressed = compress(&cose)?;
    let qr = format!("{PREFIX}{}", base45::encode(&compressed));
    if qr.len() > MAX_QR_BYTES {
        return Err(CertError::InvalidDcc(format!(
            "the certificate would need {} characters, more than a QR code holds",
            qr.len()
        )));
    }
    Ok((qr, signature))
}

fn push_text(out: &mut Vec<u8>, text: &str) {
    decode::push_head(out, 3, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// A CBOR integer: major type 0 for `n ≥ 0`, 1 (encoding `-1 - n`) below.
fn push_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        decode::push_head(out, 0, n as u64);
    } else {
        decode::push_head(out, 1, (-1 - n) as u64);
    }
}

/// zlib at level 1: on certificate-sized input higher levels save a few bytes for twice the time.
/// The compressor is kept per thread, since setting one up costs more than compressing.
fn compress(data: &[u8]) -> Result<Vec<u8>, CertError> {
    use std::cell::RefCell;

    use flate2::{Compress, FlushCompress, Status};
    thread_local! {
        static DEFLATER: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), true));
    }
    DEFLATER.with(|cell| {
        let mut deflater = cell.borrow_mut();
        deflater.reset();
        // A stored block's worst case: the input, plus headers and the Adler-32 trailer.
        let mut out = Vec::with_capacity(data.len() + data.len() / 16 + 64);
        match deflater.compress_vec(data, &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => Ok(out),
            _ => Err(CertError::Generate("HCERT encoding: zlib".to_owned())),
        }
    })
}

fn invalid(reason: &str) -> CertError {
    CertError::InvalidDcc(reason.to_owned())
}

fn encoding(e: &dyn std::fmt::Display) -> CertError {
    CertError::Generate(format!("HCERT encoding: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::PathBuf;

    use time::macros::{date, datetime};

    use super::*;
    use crate::hcert::{SchemaSet, TrustList, verify_hc1};
    use crate::{IssuedKey, KdfParams, SecretPassphrase, create_csca, create_root, issue};

    fn pass() -> SecretPassphrase {
        SecretPassphrase::new("dcc issuing passphrase")
            .unwrap()
            .with_kdf(KdfParams::insecure_fast())
    }

    fn dsc() -> (IssuedKey, IssuedKey) {
        let (nb, na) = (
            datetime!(2021-01-01 0:00 UTC),
            datetime!(2031-01-01 0:00 UTC),
        );
        let csca = create_csca("CSCA Việt Nam", nb, na, &pass()).unwrap();
        let dsc = issue(
            &csca,
            &pass(),
            CertProfile::DocumentSigner,
            "VN",
            "DSC Bộ Y tế",
            nb,
            na,
            &pass(),
            &|_| None,
        )
        .unwrap();
        (csca, dsc)
    }

    fn sample() -> VaccinationDcc {
        VaccinationDcc {
            full_name: "Nguyễn Thị Đào".to_owned(),
            date_of_birth: "1990-05-17".to_owned(),
            prophylaxis: "1119349007".to_owned(),
            product: "EU/1/20/1528".to_owned(),
            manufacturer: "ORG-100030215".to_owned(),
            dose_number: 2,
            series_doses: 2,
            vaccinated_on: date!(2021 - 09 - 14),
            uvci: new_uvci().unwrap(),
        }
    }

    #[test]
    fn vietnamese_names_split_and_transliterate() {
        let n = split_name("  Nguyễn Thị  Đào ").unwrap();
        assert_eq!(
            (n.family.as_str(), n.family_icao.as_str()),
            ("Nguyễn", "NGUYEN")
        );
        assert_eq!(
            (n.given.as_str(), n.given_icao.as_str()),
            ("Thị Đào", "THI<DAO")
        );
        assert_eq!(
            icao_transliterate("Trần Đức Ánh-Dương"),
            "TRAN<DUC<ANH<DUONG"
        );
        assert_eq!(icao_transliterate("Lê Văn Ưởng"), "LE<VAN<UONG");
        assert_eq!(
            icao_transliterate("d'Červenková Panklová"),
            "DCERVENKOVA<PANKLOVA"
        );
        assert_eq!(icao_transliterate("Ærøskøbing"), "AEROESKOEBING");
        assert_eq!(icao_transliterate(&"A ".repeat(60)).len(), 79);
        let one = split_name("Mỹ").unwrap();
        assert_eq!((one.family_icao.as_str(), one.given.as_str()), ("MY", ""));
        assert!(split_name("   ").is_err());
        assert!(split_name("王").is_err());
    }

    #[test]
    fn uvci_checksums_match_issued_certificates() {
        // Real UVCIs from the dgc-testdata cases (AT and DK issuers).
        for known in [
            "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B",
            "URN:UVCI:01:DK:0EF88044F7935DF2B4A938A38C14C97C#C",
            "URN:UVCI:01:AT:71EE2559DE38C6BF7304FB65A1A451EC#3",
        ] {
            assert!(uvci_checksum_is_valid(known), "{known}");
        }
        assert!(!uvci_checksum_is_valid(
            "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#C"
        ));
        assert!(!uvci_checksum_is_valid(
            "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813"
        ));
        assert_eq!(uvci_checksum("urn"), None);
        let id = uvci("ABC/123").unwrap();
        assert!(id.starts_with("URN:UVCI:01:VN:ABC/123#"));
        assert!(uvci_checksum_is_valid(&id));
        assert!(uvci("abc").is_err() && uvci("").is_err() && uvci("A#B").is_err());
        let fresh = new_uvci().unwrap();
        assert_eq!(fresh.len(), "URN:UVCI:01:VN:".len() + 26 + 2);
        assert!(uvci_checksum_is_valid(&fresh));
    }

    #[test]
    fn payload_follows_the_schema() {
        let schema_dir =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dcc/schema");
        let schemas = SchemaSet::load(&schema_dir).unwrap();
        let payload = sample().payload().unwrap();
        assert_eq!(schemas.pick(DCC_SCHEMA_VERSION), DCC_SCHEMA_VERSION);
        let errors = schemas.validate(&payload, DCC_SCHEMA_VERSION);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(payload["nam"]["fn"], "Nguyễn");
        assert_eq!(payload["nam"]["gnt"], "THI<DAO");
        assert_eq!(payload["v"][0]["dt"], "2021-09-14");
        assert_eq!(payload["v"][0]["dn"], 2);

        for bad in [
            VaccinationDcc {
                date_of_birth: "17/05/1990".into(),
                ..sample()
            },
            VaccinationDcc {
                dose_number: 0,
                ..sample()
            },
            VaccinationDcc {
                uvci: "URN:UVCI:01:VN:X#A".into(),
                ..sample()
            },
            VaccinationDcc {
                product: String::new(),
                ..sample()
            },
        ] {
            assert!(
                matches!(bad.payload(), Err(CertError::InvalidDcc(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn test_and_recovery_payloads_share_the_holder_part_and_follow_the_schema() {
        let schema_dir =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dcc/schema");
        let schemas = SchemaSet::load(&schema_dir).unwrap();
        let base = sample();
        let test = TestDcc {
            full_name: base.full_name.clone(),
            date_of_birth: base.date_of_birth.clone(),
            test_type: TEST_TYPE_RAT.into(),
            test_name: None,
            device: Some("1232".into()),
            sampled_at: datetime!(2021-08-20 08:30 +07:00),
            result: TEST_NOT_DETECTED.into(),
            centre: "Trung tâm Y tế TP Rạch Giá".into(),
            uvci: base.uvci.clone(),
        };
        let payload = test.payload().unwrap();
        let errors = schemas.validate(&payload, DCC_SCHEMA_VERSION);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(payload["t"][0]["sc"], "2021-08-20T01:30:00Z");
        assert_eq!(payload["nam"], base.payload().unwrap()["nam"]);
        let no_device = TestDcc {
            device: None,
            ..test.clone()
        };
        assert!(matches!(no_device.payload(), Err(CertError::InvalidDcc(_))));
        let pcr = TestDcc {
            test_type: TEST_TYPE_NAAT.into(),
            device: None,
            ..test
        };
        assert!(pcr.payload().is_ok());

        let recovery = RecoveryDcc {
            full_name: base.full_name.clone(),
            date_of_birth: base.date_of_birth.clone(),
            first_positive: date!(2021 - 07 - 01),
            valid_from: date!(2021 - 07 - 12),
            valid_until: date!(2021 - 12 - 28),
            uvci: base.uvci.clone(),
        };
        let payload = recovery.payload().unwrap();
        let errors = schemas.validate(&payload, DCC_SCHEMA_VERSION);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(payload["r"][0]["du"], "2021-12-28");
        let backwards = RecoveryDcc {
            valid_until: date!(2021 - 06 - 01),
            ..recovery
        };
        assert!(matches!(backwards.payload(), Err(CertError::InvalidDcc(_))));
    }

    #[test]
    fn issued_hcert_passes_every_verification_step() {
        let (_, dsc) = dsc();
        let key = SigningKey::unlock(&dsc, &pass()).unwrap();
        let payload = sample().payload().unwrap();
        let iat = datetime!(2024-01-01 0:00 UTC).unix_timestamp();
        let exp = datetime!(2025-01-01 0:00 UTC).unix_timestamp();
        let qr = issue_hcert(&payload, &key, iat, exp).unwrap();
        assert!(qr.starts_with("HC1:"));

        let mut trust = TrustList::new();
        trust.add(dsc.certificate_der.clone());
        let v = verify_hc1(&qr, &trust, datetime!(2024-06-01 0:00 UTC));
        assert!(v.is_valid(), "{:?}", v.steps);
        assert_eq!(v.payload.as_ref(), Some(&payload));
        let claims = v.claims.unwrap();
        assert_eq!(
            (claims.iss.as_deref(), claims.iat, claims.exp),
            (Some("VN"), Some(iat), Some(exp))
        );

        // After exp, and with an empty trust list, verification fails.
        assert!(!verify_hc1(&qr, &trust, datetime!(2025-06-01 0:00 UTC)).is_valid());
        assert!(!verify_hc1(&qr, &TrustList::new(), datetime!(2024-06-01 0:00 UTC)).is_valid());
    }

    #[test]
    fn signed_lists_pin_the_csca_and_revocation_refuses_the_certificate() {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;

        use crate::hcert::{
            HashType, REVOCATION_LIST_FORMAT, RevocationBatch, RevocationContent, RevocationEntry,
            RevocationList, Step, TRUST_LIST_FORMAT, revocation_hash, sign_list, verify_hc1_with,
        };
        let (other_csca, _) = dsc();
        let (csca, dsc) = dsc();
        let csca_key = SigningKey::unlock(&csca, &pass()).unwrap();
        let listed = crate::hcert::ListedDsc {
            kid: crate::hcert::kid_of(&dsc.certificate_der).to_vec(),
            country: Some("VN".to_owned()),
            der: dsc.certificate_der.clone(),
        };
        let content = TrustList::gateway_content(&[listed], "2024-01-01T00:00:00Z");
        let signed = sign_list(TRUST_LIST_FORMAT, &content, &csca_key).unwrap();
        let anchors = [csca.certificate_der.clone()];
        let trust = TrustList::from_signed(&signed, &anchors).unwrap();
        assert_eq!(trust.len(), 1);

        // Another CSCA, a trust list offered as a revocation list, one changed byte: refused.
        assert!(TrustList::from_signed(&signed, &[other_csca.certificate_der]).is_err());
        assert!(RevocationList::from_signed(&signed, &anchors).is_err());
        let mut envelope: serde_json::Value = serde_json::from_str(&signed).unwrap();
        let mut bytes = STANDARD
            .decode(envelope["content"].as_str().unwrap())
            .unwrap();
        let near_end = bytes.len() - 2;
        bytes[near_end] ^= 0x01;
        envelope["content"] = json!(STANDARD.encode(&bytes));
        let err = TrustList::from_signed(&envelope.to_string(), &anchors).unwrap_err();
        assert!(err.to_string().contains("signature"), "{err}");
        // Only a CSCA signs lists.
        let dsc_key = SigningKey::unlock(&dsc, &pass()).unwrap();
        assert!(sign_list(TRUST_LIST_FORMAT, &content, &dsc_key).is_err());

        let holder = sample();
        let payload = holder.payload().unwrap();
        let at = datetime!(2024-06-01 0:00 UTC);
        let qr = issue_hcert(
            &payload,
            &dsc_key,
            at.unix_timestamp() - 10,
            at.unix_timestamp() + 1000,
        )
        .unwrap();
        let empty = RevocationList::default();
        let ok = verify_hc1_with(&qr, &trust, at, Some(&empty));
        assert!(ok.is_valid(), "{:?}", ok.steps);
        assert_eq!(
            ok.outcome(Step::Revocation),
            Some(&crate::hcert::Outcome::Passed)
        );

        let uci = holder.uvci;
        let revoked = RevocationContent {
            country: "VN".into(),
            issued_at: "2024-06-01T00:00:00Z".into(),
            batches: vec![RevocationBatch {
                country: "VN".into(),
                expires: "2031-01-01T00:00:00Z".into(),
                kid: STANDARD.encode(crate::hcert::kid_of(&dsc.certificate_der)),
                hash_type: HashType::Uci,
                entries: vec![RevocationEntry {
                    hash: STANDARD
                        .encode(revocation_hash(HashType::Uci, Some(&uci), None, &[]).unwrap()),
                }],
            }],
        };
        let signed = sign_list(
            REVOCATION_LIST_FORMAT,
            &serde_json::to_value(&revoked).unwrap(),
            &csca_key,
        )
        .unwrap();
        let list = RevocationList::from_signed(&signed, &anchors).unwrap();
        let v = verify_hc1_with(&qr, &trust, at, Some(&list));
        assert!(!v.is_valid());
        assert_eq!(v.first_failure().map(|(s, _)| s), Some(Step::Revocation));
    }

    #[test]
    fn the_hand_written_cose_is_what_coset_reads() {
        use coset::TaggedCborSerializable;
        let (_, dsc) = dsc();
        let key = SigningKey::unlock(&dsc, &pass()).unwrap();
        let payload = sample().payload().unwrap();
        let (qr, signature) =
            issue_hcert_signed(&payload, &key, 1_700_000_000, 1_731_536_000).unwrap();
        let compressed = base45::decode(&qr[PREFIX.len()..]).unwrap();
        let cose = decode::inflate(&compressed, decode::MAX_INFLATED_BYTES).unwrap();
        let sign1 = coset::CoseSign1::from_tagged_slice(&cose).unwrap();
        assert_eq!(
            sign1.protected.header.alg,
            Some(coset::Algorithm::Assigned(coset::iana::Algorithm::ES256))
        );
        assert_eq!(
            sign1.protected.header.key_id,
            kid_of(&dsc.certificate_der).to_vec()
        );
        assert!(sign1.unprotected.is_empty());
        assert_eq!(sign1.signature, signature);
        // The claims decode as ciborium reads them, with the payload intact.
        let claims: ciborium::value::Value =
            ciborium::de::from_reader(sign1.payload.as_deref().unwrap()).unwrap();
        let map = claims.as_map().unwrap();
        let get = |k: i64| {
            map.iter()
                .find(|(key, _)| key.as_integer() == Some(k.into()))
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get(1).unwrap().as_text(), Some("VN"));
        assert_eq!(get(4).unwrap().as_integer(), Some(1_731_536_000.into()));
        assert_eq!(get(6).unwrap().as_integer(), Some(1_700_000_000.into()));
        let dcc: serde_json::Value = get(-260).unwrap().as_map().unwrap()[0]
            .1
            .deserialized()
            .unwrap();
        assert_eq!(dcc, payload);
        // Re-encoding with coset gives the same bytes: the encoding is canonical.
        assert_eq!(sign1.to_tagged_vec().unwrap(), cose);
    }

    #[test]
    fn dsc_carries_the_dcc_key_usages_and_stays_in_its_hierarchy() {
        use x509_parser::prelude::{FromDer, X509Certificate};
        let (csca, dsc) = dsc();
        let (_, cert) = X509Certificate::from_der(&dsc.certificate_der).unwrap();
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        let oids: Vec<String> = eku.other.iter().map(ToString::to_string).collect();
        for kind in 1..=3 {
            assert!(
                oids.contains(&format!("1.3.6.1.4.1.1847.2021.1.{kind}")),
                "{oids:?}"
            );
        }
        let bc = cert.basic_constraints().unwrap().unwrap().value;
        assert!(!bc.ca);
        assert!(cert.key_usage().unwrap().unwrap().value.digital_signature());
        let (_, ca) = X509Certificate::from_der(&csca.certificate_der).unwrap();
        let bc = ca.basic_constraints().unwrap().unwrap().value;
        assert_eq!((bc.ca, bc.path_len_constraint), (true, Some(0)));
        assert!(ca.key_usage().unwrap().unwrap().value.key_cert_sign());

        let (nb, na) = (
            datetime!(2021-01-01 0:00 UTC),
            datetime!(2031-01-01 0:00 UTC),
        );
        let commune = issue(
            &csca,
            &pass(),
            CertProfile::CommuneSigner,
            "00004",
            "UBND",
            nb,
            na,
            &pass(),
            &|_| Some("VN".to_owned()),
        );
        assert!(
            matches!(commune, Err(CertError::ProfileMismatch { .. })),
            "{commune:?}"
        );
        let root = create_root("Gốc", nb, na, &pass()).unwrap();
        let from_root = issue(
            &root,
            &pass(),
            CertProfile::DocumentSigner,
            "VN",
            "DSC",
            nb,
            na,
            &pass(),
            &|_| None,
        );
        assert!(
            matches!(from_root, Err(CertError::ProfileMismatch { .. })),
            "{from_root:?}"
        );
        // A DSC cannot sign records, even chained to a trusted CSCA.
        let key = SigningKey::unlock(&dsc, &pass()).unwrap();
        let sig = key.sign(b"record").unwrap();
        let chain = [dsc.certificate_der.clone()];
        let err =
            crate::verify_chain(b"record", &sig, &chain, &[csca.certificate_der], nb).unwrap_err();
        assert!(matches!(err, CertError::NotASigner), "{err:?}");
    }

    #[test]
    fn only_a_document_signer_issues() {
        let (nb, na) = (
            datetime!(2021-01-01 0:00 UTC),
            datetime!(2031-01-01 0:00 UTC),
        );
        let (csca, _) = dsc();
        let payload = sample().payload().unwrap();
        let csca_key = SigningKey::unlock(&csca, &pass()).unwrap();
        assert!(matches!(
            issue_hcert(&payload, &csca_key, 1, 2),
            Err(CertError::NotADocumentSigner)
        ));
        let root = create_root("Gốc", nb, na, &pass()).unwrap();
        let root_key = SigningKey::unlock(&root, &pass()).unwrap();
        assert!(issue_hcert(&payload, &root_key, 1, 2).is_err());
        let (_, dsc) = dsc();
        let key = SigningKey::unlock(&dsc, &pass()).unwrap();
        assert!(issue_hcert(&payload, &key, 2, 1).is_err());
        assert!(issue_hcert(&json!({"ver": "1.3.0"}), &key, 1, 2).is_err());
    }
}
