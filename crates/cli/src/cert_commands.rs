//! `vaxtrace cert`: EU Digital COVID Certificates issued from a citizen's signed records.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use time::OffsetDateTime;
use vaxtrace_cert::hcert::{
    ISSUER_COUNTRY, REVOCATION_LIST_FORMAT, TRUST_LIST_FORMAT, read_trust_list,
};
use vaxtrace_domain::PersonalId;
use vaxtrace_server::certificate_page::{self, Styles};
use vaxtrace_server::certificates::{CertificateError, issue_certificate, qr_modules};
use vaxtrace_server::dcc_lists;
use vaxtrace_server::venue_poster::{gray_png, paint_modules};
use vaxtrace_store::ForeignDsc;

use crate::Db;
use crate::commands::open_store;
use crate::vaccination_commands::Passphrase;

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Issue a vaccination certificate for the citizen's latest signed dose; prints the HC1 text.
    /// While that dose's record is unchanged, the current certificate is returned again.
    Issue(IssueArgs),
    /// Revoke a certificate by its UVCI; the revocation list carries it from then on.
    Revoke(RevokeArgs),
    /// List a citizen's certificates: UVCI, issued, expires, revoked (why), replaced by.
    List(ListArgs),
    /// The signed trust list (this country's DSCs and imported ones), as `/api/v1/trust-list`.
    ExportTrustList(ExportArgs),
    /// The signed revocation list, as `/api/v1/revocation-list`.
    ExportRevocationList(ExportArgs),
    /// Import another country's document signers from its trust list (EU gateway JSON, or a
    /// signed list with --trust-anchor); verification on this server trusts them from then on.
    ImportTrustList(ImportArgs),
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The certificate's UVCI, e.g. `URN:UVCI:01:VN:…#X`.
    pub uvci: String,
    /// Why: `wrong_data`, `fraud`, `holder_request`, …
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub db: Db,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The citizen's 12-digit personal ID.
    pub personal_id: String,
    #[command(flatten)]
    pub db: Db,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output file (JSON).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub db: Db,
    #[command(flatten)]
    pub passphrase: Passphrase,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The trust list file.
    pub file: PathBuf,
    /// CSCA certificate (DER) that must have signed the list; repeat for several. Without it the
    /// file is read as the EU gateway's unsigned JSON, so take it only from a trusted channel.
    #[arg(long, value_name = "CSCA.der")]
    pub trust_anchor: Vec<PathBuf>,
    #[command(flatten)]
    pub db: Db,
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The citizen's 12-digit personal ID.
    pub personal_id: String,
    #[command(flatten)]
    pub db: Db,
    #[command(flatten)]
    pub passphrase: Passphrase,
    /// Also write the QR code as SVG.
    #[arg(long)]
    pub out_svg: Option<PathBuf>,
    /// Also write the QR code as PNG.
    #[arg(long)]
    pub out_png: Option<PathBuf>,
    /// Also write the printable bilingual certificate page (HTML, stands alone).
    #[arg(long)]
    pub out_html: Option<PathBuf>,
    /// Print the payload JSON to stderr as well.
    #[arg(long)]
    pub show_payload: bool,
}

pub async fn run(cmd: CertCommand) -> anyhow::Result<()> {
    match cmd {
        CertCommand::Issue(args) => issue(&args).await,
        CertCommand::Revoke(args) => revoke(&args).await,
        CertCommand::List(args) => list(&args).await,
        CertCommand::ExportTrustList(args) => export_list(&args, TRUST_LIST_FORMAT).await,
        CertCommand::ExportRevocationList(args) => export_list(&args, REVOCATION_LIST_FORMAT).await,
        CertCommand::ImportTrustList(args) => import_trust_list(&args).await,
    }
}

fn parse_id(raw: &str) -> anyhow::Result<PersonalId> {
    PersonalId::parse(raw).map_err(|e| anyhow::anyhow!("{} / {}", e.message_vi, e.message_en))
}

async fn revoke(args: &RevokeArgs) -> anyhow::Result<()> {
    let Some(reason) = vaxtrace_server::certificates::revocation_reason(&args.reason) else {
        bail!("cần lý do thu hồi, tối đa 200 ký tự / --reason must be 1 to 200 characters");
    };
    let store = open_store(&args.db).await?;
    let cert = store.certificate(&args.uvci).await?.with_context(|| {
        format!(
            "không có chứng nhận {} / no certificate {}",
            args.uvci, args.uvci
        )
    })?;
    let revoked = store
        .revoke_certificate(&args.uvci, reason, OffsetDateTime::now_utc())
        .await?;
    store
        .append_audit(vec![crate::commands::cli_audit(
            "certificate.revoke",
            Some(cert.personal_id.to_string()),
            "dcc_revocation",
            format!("{} {reason}", args.uvci),
        )])
        .await?;
    if revoked {
        println!("revoked {}", args.uvci);
    } else {
        println!("{} was revoked already", args.uvci);
    }
    Ok(())
}

async fn list(args: &ListArgs) -> anyhow::Result<()> {
    let id = parse_id(&args.personal_id)?;
    let store = open_store(&args.db).await?;
    let certs = store.certificates_for_citizen(id).await?;
    store
        .append_audit(vec![crate::commands::cli_audit(
            "certificate.list",
            Some(id.to_string()),
            "dcc_certificate",
            format!("{} certificate(s)", certs.len()),
        )])
        .await?;
    let day = |t: OffsetDateTime| t.date().to_string();
    for c in certs {
        let revoked = c.revoked_at.map_or_else(
            || "current".to_owned(),
            |at| {
                format!(
                    "revoked {} ({})",
                    day(at),
                    c.revocation_reason.as_deref().unwrap_or("-")
                )
            },
        );
        let replaced = c
            .superseded_by
            .map(|u| format!(", replaced by {u}"))
            .unwrap_or_default();
        println!(
            "{}  {}  issued {}  expires {}  {revoked}{replaced}",
            c.uvci,
            c.cert_type,
            day(c.issued_at),
            day(c.expires_at)
        );
    }
    Ok(())
}

async fn export_list(args: &ExportArgs, format: &str) -> anyhow::Result<()> {
    let store = open_store(&args.db).await?;
    let now = OffsetDateTime::now_utc();
    let content = if format == TRUST_LIST_FORMAT {
        dcc_lists::trust_list_content(store.as_ref(), now).await?
    } else {
        dcc_lists::revocation_list_content(store.as_ref(), now).await?
    };
    let secret = args.passphrase.secret()?;
    let text =
        dcc_lists::sign_with_csca(store.as_ref(), Some(&secret), format, content, now).await?;
    std::fs::write(&args.out, text)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!("wrote {format} to {}", args.out.display());
    Ok(())
}

async fn import_trust_list(args: &ImportArgs) -> anyhow::Result<()> {
    let anchors = crate::dcc_commands::read_anchors(&args.trust_anchor)?;
    let text = crate::dcc_commands::read_limited(&args.file, "trust list")?;
    let listed = read_trust_list(&text, &anchors)
        .with_context(|| format!("trust list {}", args.file.display()))?;
    let store = open_store(&args.db).await?;
    // This country's own DSCs are trusted from the key store; importing them again would let a
    // foreign list decide about them.
    let own: Vec<Vec<u8>> = store
        .keys()
        .await?
        .into_iter()
        .map(|k| k.certificate)
        .collect();
    let now = OffsetDateTime::now_utc();
    let source = args.file.display().to_string();
    let mut skipped = 0;
    let mut dscs = Vec::new();
    for dsc in listed {
        let Some(country) = dsc.country.filter(|c| c != ISSUER_COUNTRY) else {
            skipped += 1;
            continue;
        };
        if own.contains(&dsc.der) {
            skipped += 1;
            continue;
        }
        dscs.push(ForeignDsc {
            fingerprint: vaxtrace_cert::fingerprint(&dsc.der),
            kid: dsc.kid,
            country,
            certificate: dsc.der,
            source: source.clone(),
            imported_at: now,
        });
    }
    let offered = dscs.len();
    let new = store.upsert_foreign_dscs(dscs).await?;
    store
        .append_audit(vec![crate::commands::cli_audit(
            "trust_list.import",
            None,
            "dcc_verification",
            format!("{new} new of {offered}, {skipped} skipped"),
        )])
        .await?;
    println!(
        "imported {new} new DSC(s) of {offered} ({} known already); skipped {skipped} without a foreign country code",
        offered as u64 - new
    );
    Ok(())
}

async fn issue(args: &IssueArgs) -> anyhow::Result<()> {
    let id = parse_id(&args.personal_id)?;
    let store = open_store(&args.db).await?;
    let citizen = store
        .citizen(id)
        .await?
        .with_context(|| format!("không tìm thấy công dân {id} / no citizen {id}"))?;
    let secret = args.passphrase.secret()?;
    let issued = match issue_certificate(
        store.as_ref(),
        &citizen,
        &secret,
        OffsetDateTime::now_utc(),
    )
    .await
    {
        Ok(issued) => issued,
        Err(CertificateError::NoSignedDose) => bail!(
            "công dân {id} chưa có mũi tiêm nào đã được xã ký / citizen {id} has no signed vaccination record"
        ),
        Err(CertificateError::NoSigner) => bail!(
            "chưa có khóa DSC đang hoạt động / no active DCC document signer: run `vaxtrace keys csca` and `vaxtrace keys dsc` first"
        ),
        Err(e) => return Err(e.into()),
    };
    store
        .append_audit(vec![crate::commands::cli_audit(
            "certificate.issue",
            Some(id.to_string()),
            "dcc_certificate",
            issued.uvci.clone(),
        )])
        .await?;
    if let Some(path) = &args.out_svg {
        std::fs::write(path, &issued.svg)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.out_html {
        std::fs::write(path, certificate_page::render(&issued, Styles::Inline))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.out_png {
        write_png(path, &issued.hc1)?;
    }
    if args.show_payload {
        eprintln!("{}", serde_json::to_string_pretty(&issued.payload)?);
    }
    eprintln!("UVCI {}", issued.uvci);
    println!("{}", issued.hc1);
    Ok(())
}

/// The QR code as a grey-scale PNG: 8 pixels a module, the 4-module quiet zone the spec asks.
fn write_png(path: &Path, text: &str) -> anyhow::Result<()> {
    const SCALE: usize = 8;
    const QUIET: usize = 4;
    let (width, dark) = qr_modules(text)?;
    let side = (width + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    let quiet = QUIET * SCALE;
    paint_modules(&mut pixels, side, (width, &dark), (quiet, quiet), SCALE);
    let side = u32::try_from(side)?;
    std::fs::write(path, gray_png(side, side, &pixels)?)
        .with_context(|| format!("cannot write {}", path.display()))
}
