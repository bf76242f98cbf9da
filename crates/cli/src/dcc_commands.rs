//! `vaxtrace dcc`: verify an EU Digital COVID Certificate, run the conformance suite.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vaxtrace_cert::hcert::{self, Outcome, RevocationList, TrustList, Verdict};

/// Largest trust list read (the EU gateway's full DSC list is a few MiB).
const MAX_TRUST_LIST_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Subcommand)]
pub enum DccCommand {
    /// Verify one QR text (`HC1:…`) against a trust list; exit 0 only when it is valid.
    Verify(VerifyArgs),
    /// Run the dgc-testdata conformance cases under DIR; exit 0 only when none fails.
    CheckSuite(CheckSuiteArgs),
    /// Download the trust list and revocation list from a vaxtrace server, check their CSCA
    /// signatures, and replace the local copies only with genuine lists no older than them.
    Refresh(RefreshArgs),
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// The server, e.g. `http://127.0.0.1:8080`. Plain HTTP is enough for integrity: a list is
    /// kept only when the pinned CSCA signed it.
    #[arg(long, value_name = "URL")]
    from: String,
    /// CSCA certificate (DER) the lists must be signed by; repeat for several.
    #[arg(long, value_name = "CSCA.der", required = true)]
    trust_anchor: Vec<PathBuf>,
    /// Folder for `trust-list.json` and `revocation-list.json`.
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The QR code's text, starting with `HC1:`; `-` reads it from standard input.
    qr: String,
    /// Trust list: the EU gateway's JSON shape
    /// `{"certificates":[{"kid":"base64","country":"VN","certificate_type":"DSC","raw_data":"base64 DER"}]}`,
    /// or a signed list as `/api/v1/trust-list` publishes it (then give --trust-anchor).
    #[arg(long, value_name = "FILE")]
    trust_list: PathBuf,
    /// CSCA certificate (DER) that signed the trust and revocation lists; repeat for several.
    /// Without it the trust list is read as unsigned gateway JSON.
    #[arg(long, value_name = "CSCA.der")]
    trust_anchor: Vec<PathBuf>,
    /// Signed revocation list as `/api/v1/revocation-list` publishes it (needs --trust-anchor).
    #[arg(long, value_name = "FILE")]
    revocation_list: Option<PathBuf>,
    /// Verify as of this instant (RFC 3339, e.g. 2021-06-01T12:00:00Z) instead of now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct CheckSuiteArgs {
    /// Folder of case files (`*.json`, searched recursively), e.g. testdata/dcc/cases; the DCC
    /// schemas are taken from a `schema/` folder in it or up to two levels above.
    dir: PathBuf,
}

pub async fn run(command: DccCommand) -> anyhow::Result<()> {
    match command {
        DccCommand::Verify(args) => verify(&args),
        DccCommand::CheckSuite(args) => check_suite(&args),
        DccCommand::Refresh(args) => {
            crate::dcc_refresh::refresh(
                &args.from,
                &read_anchors(&args.trust_anchor)?,
                &args.out_dir,
            )
            .await
        }
    }
}

pub(crate) fn read_anchors(paths: &[PathBuf]) -> anyhow::Result<Vec<Vec<u8>>> {
    paths
        .iter()
        .map(|p| {
            std::fs::read(p).with_context(|| format!("cannot read trust anchor {}", p.display()))
        })
        .collect()
}

fn verify(args: &VerifyArgs) -> anyhow::Result<()> {
    let qr = if args.qr == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(hcert::MAX_QR_BYTES as u64 + 1)
            .read_to_string(&mut text)
            .context("cannot read the QR text from standard input")?;
        text.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        args.qr.clone()
    };
    let anchors = args
        .trust_anchor
        .iter()
        .map(|p| {
            std::fs::read(p).with_context(|| format!("cannot read trust anchor {}", p.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let revocation = match &args.revocation_list {
        None => None,
        Some(_) if anchors.is_empty() => {
            bail!(
                "--revocation-list needs --trust-anchor: a revocation list is only as good as its signature"
            )
        }
        Some(path) => Some(
            RevocationList::from_signed(&read_limited(path, "revocation list")?, &anchors)
                .with_context(|| format!("revocation list {}", path.display()))?,
        ),
    };
    let trust = read_trust_list(&args.trust_list, &anchors)?;
    let at = match &args.at {
        Some(text) => OffsetDateTime::parse(text, &Rfc3339)
            .or_else(|_| hcert::parse_instant(text))
            .map_err(|_| anyhow::anyhow!("--at {text:?} is not an RFC 3339 instant"))?,
        None => OffsetDateTime::now_utc(),
    };

    let v = hcert::verify_hc1_with(
        &qr,
        &trust,
        at,
        revocation
            .as_ref()
            .map(|r| r as &dyn hcert::RevocationCheck),
    );
    if args.json {
        let mut out = serde_json::to_value(&v)?;
        if let Some(map) = out.as_object_mut() {
            map.insert("valid".to_owned(), v.is_valid().into());
            map.insert("at".to_owned(), at.format(&Rfc3339)?.into());
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_verification(&v, at)?;
    }
    if let Some((step, reason)) = v.first_failure() {
        bail!("the certificate is not valid: {step}: {reason}");
    }
    if !v.is_valid() {
        bail!("the certificate is not valid");
    }
    Ok(())
}

/// A list file's text, refusing absurd sizes before reading.
pub(crate) fn read_limited(path: &std::path::Path, what: &str) -> anyhow::Result<String> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?
        .len();
    if size > MAX_TRUST_LIST_BYTES {
        bail!(
            "{what} {} is larger than {MAX_TRUST_LIST_BYTES} bytes",
            path.display()
        );
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

fn read_trust_list(path: &std::path::Path, anchors: &[Vec<u8>]) -> anyhow::Result<TrustList> {
    let text = read_limited(path, "trust list")?;
    let listed = hcert::read_trust_list(&text, anchors).with_context(|| {
        format!(
            "trust list {} (a signed list needs --trust-anchor CSCA.der)",
            path.display()
        )
    })?;
    let trust = TrustList::from_listed(listed);
    if trust.is_empty() {
        bail!("trust list {} holds no DSC", path.display());
    }
    Ok(trust)
}

fn print_verification(v: &hcert::Verification, at: OffsetDateTime) -> anyhow::Result<()> {
    let show = |seconds: Option<i64>| {
        seconds
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| "-".to_owned())
    };
    if let Some(claims) = &v.claims {
        println!(
            "issuer {}, issued {}, expires {}",
            claims.iss.as_deref().unwrap_or("-"),
            show(claims.iat),
            show(claims.exp)
        );
    }
    if let Some(kid) = &v.kid {
        let source = v
            .kid_source
            .map(|s| format!(" ({s} header)"))
            .unwrap_or_default();
        println!("kid {kid}{source}");
    }
    if let Some(payload) = &v.payload {
        println!("{}", serde_json::to_string_pretty(payload)?);
    }
    for s in &v.steps {
        match &s.outcome {
            Outcome::Passed => println!("✓ {}", s.step),
            Outcome::Failed(reason) => println!("✗ {}: {reason}", s.step),
            Outcome::Skipped(reason) => println!("- {}: skipped ({reason})", s.step),
        }
    }
    let verdict = if v.is_valid() { "VALID" } else { "NOT VALID" };
    println!("{verdict} at {}", at.format(&Rfc3339)?);
    Ok(())
}

fn check_suite(args: &CheckSuiteArgs) -> anyhow::Result<()> {
    if !args.dir.is_dir() {
        bail!("{} is not a folder", args.dir.display());
    }
    let report = hcert::run_suite(&args.dir);
    if let Some(problem) = &report.schema_problem {
        println!("note: {problem}; schema steps checked only the basic payload shape");
    }
    for case in &report.cases {
        let file = case.file.display();
        if let Some(error) = &case.error {
            println!("FAIL {file}: {error}");
        }
        for check in case.failures() {
            if let Verdict::Failed { reason } = &check.verdict {
                println!(
                    "FAIL {file}: {} ({}): {reason}",
                    check.flag,
                    check.flag.key()
                );
            }
        }
    }
    let disputed: Vec<_> = report.disputed().collect();
    if !disputed.is_empty() {
        println!("disputed expectations (not counted as failures):");
        for case in disputed {
            for check in &case.checks {
                if let Verdict::Disputed { reason, decision } = &check.verdict {
                    println!(
                        "DISPUTED {}: {} ({}): {reason}; decision: {decision}",
                        case.file.display(),
                        check.flag,
                        check.flag.key()
                    );
                }
            }
        }
    }
    let skipped = report
        .cases
        .iter()
        .flat_map(|c| &c.checks)
        .filter(|c| matches!(c.verdict, Verdict::Skipped { .. }))
        .count();
    if skipped > 0 {
        println!("{skipped} assertion(s) skipped: the case lacks the fields the step needs");
    }
    println!("{}", report.summary());
    let failed = report.failed();
    if failed > 0 {
        bail!("{failed} conformance case(s) failed");
    }
    if report.cases.is_empty() {
        bail!("no case files under {}", args.dir.display());
    }
    Ok(())
}
