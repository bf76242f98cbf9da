//! Verifying an HCERT QR text step by step.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::Value as Json;
use time::OffsetDateTime;

use super::base45;
use super::decode::{
    self, CoseParts, CwtClaims, DccType, KidSource, MAX_INFLATED_BYTES, MAX_QR_BYTES,
};
use super::dsc::Dsc;
use super::trust::{PreparedDsc, RevocationCheck, RevocationQuery, TrustStore};

/// The steps of verification, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Length cap and the `HC1:` prefix.
    Prefix,
    Base45,
    Zlib,
    /// `COSE_Sign1` structure, algorithm and kid.
    Cose,
    /// CWT claims and the HCERT claim.
    Cwt,
    /// The DCC payload's basic schema shape (one of v/t/r, names, dates as strings).
    Payload,
    /// A trusted DSC for the kid.
    KidLookup,
    Signature,
    /// The DSC's extended key usage allows the payload's type.
    KeyUsage,
    /// `iat ≤ at ≤ exp`, and the DSC valid at `at`.
    Expiry,
    Revocation,
}

impl Step {
    pub const ALL: [Self; 11] = [
        Self::Prefix,
        Self::Base45,
        Self::Zlib,
        Self::Cose,
        Self::Cwt,
        Self::Payload,
        Self::KidLookup,
        Self::Signature,
        Self::KeyUsage,
        Self::Expiry,
        Self::Revocation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Prefix => "prefix",
            Self::Base45 => "base45",
            Self::Zlib => "zlib",
            Self::Cose => "cose",
            Self::Cwt => "cwt",
            Self::Payload => "payload",
            Self::KidLookup => "kid lookup",
            Self::Signature => "signature",
            Self::KeyUsage => "key usage",
            Self::Expiry => "expiry",
            Self::Revocation => "revocation",
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed(String),
    /// Not run: an earlier step it needs failed, or (revocation) no check was configured.
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepResult {
    pub step: Step,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Everything [`verify_hc1`] found out.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// One entry per [`Step`], in [`Step::ALL`] order.
    pub steps: Vec<StepResult>,
    pub claims: Option<CwtClaims>,
    /// The DCC payload (`-260 → 1`) as JSON.
    pub payload: Option<Json>,
    pub dcc_type: Option<DccType>,
    /// Base64 kid, as trust lists write it.
    pub kid: Option<String>,
    pub kid_source: Option<KidSource>,
    /// Hex SHA-256 of the DSC whose key verified the signature.
    pub dsc_fingerprint: Option<String>,
}

impl Verification {
    /// Valid when every step passed; only revocation may be skipped (no list configured).
    pub fn is_valid(&self) -> bool {
        self.steps.iter().all(|s| match s.outcome {
            Outcome::Passed => true,
            Outcome::Skipped(_) => s.step == Step::Revocation,
            Outcome::Failed(_) => false,
        })
    }

    /// The first failed step and its reason.
    pub fn first_failure(&self) -> Option<(Step, &str)> {
        self.steps.iter().find_map(|s| match &s.outcome {
            Outcome::Failed(reason) => Some((s.step, reason.as_str())),
            _ => None,
        })
    }

    pub fn outcome(&self, step: Step) -> Option<&Outcome> {
        self.steps
            .iter()
            .find(|s| s.step == step)
            .map(|s| &s.outcome)
    }

    /// Records `result` for `step`, returning the value on success.
    fn record<T>(&mut self, step: Step, result: Result<T, String>) -> Option<T> {
        let (outcome, value) = match result {
            Ok(v) => (Outcome::Passed, Some(v)),
            Err(reason) => (Outcome::Failed(reason), None),
        };
        self.steps.push(StepResult { step, outcome });
        value
    }

    fn skip(&mut self, step: Step, reason: &str) {
        self.steps.push(StepResult {
            step,
            outcome: Outcome::Skipped(reason.to_owned()),
        });
    }

    /// Runs `f` on `input` when the step's input is there, else records a skip.
    fn run<I, T>(
        &mut self,
        step: Step,
        input: Option<I>,
        needs: &str,
        f: impl FnOnce(I) -> Result<T, String>,
    ) -> Option<T> {
        if let Some(input) = input {
            self.record(step, f(input))
        } else {
            self.skip(step, needs);
            None
        }
    }
}

/// Verifies an HCERT QR text against `trust` at time `at`, without a revocation check.
pub fn verify_hc1(qr: &str, trust: &dyn TrustStore, at: OffsetDateTime) -> Verification {
    verify_hc1_with(qr, trust, at, None)
}

/// Verifies an HCERT QR text; `revocation`, when given, is asked about the verified certificate.
pub fn verify_hc1_with(
    qr: &str,
    trust: &dyn TrustStore,
    at: OffsetDateTime,
    revocation: Option<&dyn RevocationCheck>,
) -> Verification {
    let mut v = Verification {
        steps: Vec::with_capacity(Step::ALL.len()),
        claims: None,
        payload: None,
        dcc_type: None,
        kid: None,
        kid_source: None,
        dsc_fingerprint: None,
    };

    let text = v.record(Step::Prefix, {
        if qr.len() > MAX_QR_BYTES {
            Err(format!(
                "the text has {} bytes, more than the {MAX_QR_BYTES} accepted",
                qr.len()
            ))
        } else {
            decode::unprefix(qr)
        }
    });
    let compressed = v.run(Step::Base45, text, "no HC1: text", |t| {
        base45::decode(t).map_err(|e| e.to_string())
    });
    let raw = v.run(Step::Zlib, compressed, "no Base45 data", |c| {
        decode::inflate(&c, MAX_INFLATED_BYTES)
    });
    let cose = v.run(Step::Cose, raw, "no inflated data", |r| decode::cose(&r));
    let cwt = v.run(Step::Cwt, cose.as_ref(), "no COSE_Sign1", |c| {
        decode::claims(&c.payload)
    });
    let (claims, payload) = cwt.unzip();
    v.run(
        Step::Payload,
        payload.as_ref(),
        "no CWT claims",
        decode::basic_shape,
    );
    let dcc_type = payload.as_ref().and_then(|p| decode::dcc_type(p).ok());

    let kid = cose.as_ref().map(|c| c.kid.as_ref());
    let candidates = v.run(Step::KidLookup, kid, "no COSE_Sign1", |kid| {
        let (kid, _) = kid.ok_or("no kid in the COSE headers")?;
        let found = match trust.lookup_prepared(kid) {
            Some(prepared) => Candidates::Prepared(prepared),
            None => Candidates::Der(trust.lookup(kid)),
        };
        if found.is_empty() {
            return Err(format!("no trusted DSC has kid {}", STANDARD.encode(kid)));
        }
        Ok(found)
    });
    let inputs = cose.as_ref().zip(candidates.as_ref());
    let signer = v.run(
        Step::Signature,
        inputs,
        "no DSC for the kid",
        |(cose, candidates)| candidates.verify(cose),
    );

    let inputs = signer.as_ref().zip(dcc_type);
    v.run(
        Step::KeyUsage,
        inputs,
        "no verified DSC or no payload type",
        |(signer, kind)| signer.dsc.allows(kind),
    );
    v.run(Step::Expiry, claims.as_ref(), "no CWT claims", |claims| {
        cwt_window(claims, at)?;
        match &signer {
            Some(signer) => signer.dsc.valid_at(at),
            None => Ok(()),
        }
    });
    let revocation_inputs = cose.as_ref().zip(signer.as_ref().map(|s| s.der));
    check_revocation(
        &mut v,
        revocation,
        revocation_inputs,
        claims.as_ref(),
        payload.as_ref(),
    );

    if let Some((kid, source)) = cose.as_ref().and_then(|c| c.kid.as_ref()) {
        v.kid = Some(STANDARD.encode(kid));
        v.kid_source = Some(*source);
    }
    v.dsc_fingerprint = signer.map(|s| {
        s.fingerprint
            .map_or_else(|| crate::fingerprint(s.der), str::to_owned)
    });
    v.claims = claims;
    v.payload = payload;
    v.dcc_type = dcc_type;
    v
}

/// The DSCs a trust store holds for a kid: parsed when it keeps them so, else DER to parse.
enum Candidates<'a> {
    Prepared(&'a [PreparedDsc]),
    Der(Vec<Cow<'a, [u8]>>),
}

/// The DSC whose key verified the signature.
struct Signer<'a> {
    der: &'a [u8],
    dsc: Cow<'a, Dsc>,
    /// Known when the trust store computed it beforehand.
    fingerprint: Option<&'a str>,
}

impl Candidates<'_> {
    fn is_empty(&self) -> bool {
        match self {
            Self::Prepared(dscs) => dscs.is_empty(),
            Self::Der(ders) => ders.is_empty(),
        }
    }

    /// The first candidate whose key verifies the signature, else every candidate's reason.
    fn verify(&self, cose: &CoseParts) -> Result<Signer<'_>, String> {
        let mut reasons = Vec::new();
        match self {
            Self::Prepared(dscs) => {
                for prepared in *dscs {
                    let verified = prepared
                        .dsc()
                        .map_err(str::to_owned)
                        .and_then(|dsc| dsc.verify(cose).map(|()| dsc));
                    match verified {
                        Ok(dsc) => {
                            return Ok(Signer {
                                der: prepared.der(),
                                dsc: Cow::Borrowed(dsc),
                                fingerprint: Some(prepared.fingerprint()),
                            });
                        }
                        Err(reason) => reasons.push(reason),
                    }
                }
            }
            Self::Der(ders) => {
                for der in ders {
                    match Dsc::parse(der).and_then(|dsc| dsc.verify(cose).map(|()| dsc)) {
                        Ok(dsc) => {
                            return Ok(Signer {
                                der: der.as_ref(),
                                dsc: Cow::Owned(dsc),
                                fingerprint: None,
                            });
                        }
                        Err(reason) => reasons.push(reason),
                    }
                }
            }
        }
        Err(reasons.join("; "))
    }
}

/// The revocation step: skipped without a check, else asked about the verified certificate.
fn check_revocation(
    v: &mut Verification,
    revocation: Option<&dyn RevocationCheck>,
    inputs: Option<(&CoseParts, &[u8])>,
    claims: Option<&CwtClaims>,
    payload: Option<&Json>,
) {
    let Some(check) = revocation else {
        v.skip(Step::Revocation, "no revocation list configured");
        return;
    };
    v.run(
        Step::Revocation,
        inputs,
        "no verified signature",
        |(cose, dsc)| {
            let entry = payload.and_then(first_entry);
            let field = |k: &str| entry.and_then(|e| e.get(k)).and_then(Json::as_str);
            check.check(&RevocationQuery {
                kid: cose.kid.as_ref().map_or(&[][..], |(k, _)| k),
                dsc,
                issuer: claims.and_then(|c| c.iss.as_deref()),
                uci: field("ci"),
                country: field("co"),
                signature: &cose.signature,
            })
        },
    );
}

/// `iat ≤ at ≤ exp`, both bounds inclusive, both claims required.
pub(crate) fn cwt_window(claims: &CwtClaims, at: OffsetDateTime) -> Result<(), String> {
    let now = at.unix_timestamp();
    let iat = claims.iat.ok_or("no iat claim")?;
    let exp = claims.exp.ok_or("no exp claim")?;
    if now < iat {
        return Err(format!("issued in the future (iat {})", show_time(iat)));
    }
    if now > exp {
        return Err(format!("expired (exp {})", show_time(exp)));
    }
    Ok(())
}

fn show_time(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| seconds.to_string())
}

/// The first entry of the payload's v/t/r array.
fn first_entry(payload: &Json) -> Option<&serde_json::Map<String, Json>> {
    DccType::ALL
        .iter()
        .find_map(|(_, key)| payload.get(*key))
        .and_then(|a| a.get(0))
        .and_then(Json::as_object)
}

/// An HCERT's `Sig_structure` and ES256 signature with the P-256 key of the DSC that signed it:
/// what a bare signature check works on. For measuring what [`verify_hc1`] costs beyond the
/// signature check itself (`vaxtrace bench cert`); building one verifies nothing.
#[derive(Debug, Clone)]
pub struct BareSignature {
    public_key: Vec<u8>,
    message: Vec<u8>,
    signature: Vec<u8>,
}

impl BareSignature {
    /// Decodes `qr` (prefix, Base45, zlib, `COSE_Sign1`, no other check) and takes the key of
    /// `dsc_der`, which must be an EC P-256 key.
    pub fn from_hc1(qr: &str, dsc_der: &[u8]) -> Result<Self, String> {
        let text = decode::unprefix(qr)?;
        let compressed = base45::decode(text).map_err(|e| e.to_string())?;
        let cose = decode::cose(&decode::inflate(&compressed, MAX_INFLATED_BYTES)?)?;
        let dsc = Dsc::parse(dsc_der)?;
        let public_key = dsc.p256_key().ok_or("the DSC has no P-256 key")?.to_vec();
        Ok(Self {
            public_key,
            message: cose.to_be_signed(),
            signature: cose.signature,
        })
    }

    /// ring's ECDSA P-256 / SHA-256 verification of the signature over the `Sig_structure`, and
    /// nothing else.
    pub fn verify(&self) -> bool {
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            &self.public_key,
        )
        .verify(&self.message, &self.signature)
        .is_ok()
    }

    /// The uncompressed P-256 point of the DSC.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// The COSE `Sig_structure` `["Signature1", protected, h'', payload]`, as signed.
    pub fn message(&self) -> &[u8] {
        &self.message
    }

    /// The 64-byte `r||s` signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}
