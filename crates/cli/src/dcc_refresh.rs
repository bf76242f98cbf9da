//! `vaxtrace dcc refresh`: a verifier's download of the signed lists. A list replaces the local
//! copy only when the pinned CSCA signed it and it is not older than that copy, so neither a
//! forged list nor a replayed old one (which could un-revoke a certificate) gets in.

use std::path::Path;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vaxtrace_cert::hcert::{REVOCATION_LIST_FORMAT, TRUST_LIST_FORMAT, open_list};

/// Largest list accepted over the network.
const MAX_LIST_BYTES: usize = 64 * 1024 * 1024;

/// `(server path, local file, envelope format)` of each list.
const LISTS: [(&str, &str, &str); 2] = [
    ("/api/v1/trust-list", "trust-list.json", TRUST_LIST_FORMAT),
    (
        "/api/v1/revocation-list",
        "revocation-list.json",
        REVOCATION_LIST_FORMAT,
    ),
];

pub async fn refresh(from: &str, anchors: &[Vec<u8>], out_dir: &Path) -> anyhow::Result<()> {
    let authority = from
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|a| !a.is_empty() && !a.contains('/'))
        .with_context(|| format!("--from {from:?} must look like http://HOST:PORT"))?;
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    for (path, file, format) in LISTS {
        let text = get(authority, path).await?;
        let issued = issued_at(&text, format, anchors)
            .with_context(|| format!("{from}{path} is not a genuine list"))?;
        let target = out_dir.join(file);
        if let Ok(old) = std::fs::read_to_string(&target)
            && let Ok(old_issued) = issued_at(&old, format, anchors)
            && issued < old_issued
        {
            bail!(
                "{from}{path} was issued {} , before the copy in {} ({}): kept the newer one",
                issued.format(&Rfc3339)?,
                target.display(),
                old_issued.format(&Rfc3339)?
            );
        }
        let partial = out_dir.join(format!(".{file}.partial"));
        std::fs::write(&partial, &text)
            .with_context(|| format!("cannot write {}", partial.display()))?;
        std::fs::rename(&partial, &target)
            .with_context(|| format!("cannot replace {}", target.display()))?;
        println!("{}: issued {}", target.display(), issued.format(&Rfc3339)?);
    }
    Ok(())
}

/// Checks the signature and returns the list's `issued_at`.
pub(crate) fn issued_at(
    text: &str,
    format: &str,
    anchors: &[Vec<u8>],
) -> anyhow::Result<OffsetDateTime> {
    let content = open_list(text, format, anchors)?;
    let content: serde_json::Value = serde_json::from_slice(&content)?;
    let issued = content["issued_at"]
        .as_str()
        .context("the list has no issued_at")?;
    Ok(OffsetDateTime::parse(issued, &Rfc3339)?)
}

async fn get(authority: &str, path: &str) -> anyhow::Result<String> {
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .with_context(|| format!("cannot connect to {authority}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let req = hyper::Request::get(path)
        .header("host", authority)
        .body(Empty::<Bytes>::new())?;
    let res = sender.send_request(req).await?;
    let status = res.status();
    let body = Limited::new(res.into_body(), MAX_LIST_BYTES)
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("reading {path}: {e}"))?
        .to_bytes();
    if !status.is_success() {
        bail!(
            "{path}: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(300)
                .collect::<String>()
        );
    }
    String::from_utf8(body.to_vec()).with_context(|| format!("{path} is not UTF-8"))
}
