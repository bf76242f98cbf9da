//! `vaxtrace cert`: EU Digital COVID Certificates issued from a citizen's signed records.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use time::OffsetDateTime;
use vaxtrace_domain::PersonalId;
use vaxtrace_server::certificates::{CertificateError, issue_certificate, qr_modules};

use crate::Db;
use crate::commands::open_store;
use crate::vaccination_commands::Passphrase;

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Issue a vaccination certificate for the citizen's latest signed dose; prints the HC1 text.
    Issue(IssueArgs),
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
    /// Print the payload JSON to stderr as well.
    #[arg(long)]
    pub show_payload: bool,
}

pub async fn run(cmd: CertCommand) -> anyhow::Result<()> {
    match cmd {
        CertCommand::Issue(args) => issue(&args).await,
    }
}

async fn issue(args: &IssueArgs) -> anyhow::Result<()> {
    let id = PersonalId::parse(&args.personal_id)
        .map_err(|e| anyhow::anyhow!("{} / {}", e.message_vi, e.message_en))?;
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
    for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
        let (mx, my) = (i % width + QUIET, i / width + QUIET);
        for y in my * SCALE..(my + 1) * SCALE {
            pixels[y * side + mx * SCALE..y * side + (mx + 1) * SCALE].fill(0);
        }
    }
    let file = File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let side = u32::try_from(side)?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(())
}
