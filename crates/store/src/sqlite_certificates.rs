//! `SQLite` implementation of [`CertificateStore`].

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use vaxtrace_domain::PersonalId;

use crate::certificates::{
    CERTIFICATE_COLUMNS, CertificateRow, CertificateStore, ForeignDsc, NewCertificate,
    StoredCertificate,
};
use crate::{SqliteStore, StoreError, StoreResult, from_unix_micros, unix_micros};

fn certificate_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CertificateRow> {
    Ok(CertificateRow {
        uvci: r.get(0)?,
        personal_id: r.get(1)?,
        cert_type: r.get(2)?,
        record_id: r.get(3)?,
        record_version: r.get(4)?,
        dsc_key_id: r.get(5)?,
        kid: r.get(6)?,
        signature_hash: r.get(7)?,
        hc1: r.get(8)?,
        issued_at: r.get(9)?,
        expires_at: r.get(10)?,
        revoked_at: r.get(11)?,
        revocation_reason: r.get(12)?,
        reissue_pending: r.get(13)?,
        superseded_by: r.get(14)?,
    })
}

fn query_certificates(
    conn: &Connection,
    where_clause: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<StoredCertificate>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CERTIFICATE_COLUMNS} FROM dcc_certificates {where_clause}"
    ))?;
    let rows = stmt.query_map(params, certificate_row)?;
    rows.map(|r| r?.into_certificate()).collect()
}

#[async_trait]
impl CertificateStore for SqliteStore {
    async fn insert_certificate(&self, c: NewCertificate) -> StoreResult<()> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                &format!(
                    "INSERT INTO dcc_certificates ({CERTIFICATE_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, NULL, 0, NULL)"
                ),
                params![
                    c.uvci,
                    c.personal_id.as_number() as i64,
                    c.cert_type,
                    c.record_id,
                    c.record_version,
                    c.dsc_key_id,
                    c.kid,
                    c.signature_hash,
                    c.hc1,
                    unix_micros(c.issued_at),
                    unix_micros(c.expires_at)
                ],
            )?;
            for old in &c.supersedes {
                tx.execute(
                    "UPDATE dcc_certificates SET superseded_by = ?2, reissue_pending = 0 \
                     WHERE uvci = ?1",
                    params![old, c.uvci],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn supersede(&self, olds: Vec<String>, by: &str) -> StoreResult<()> {
        let by = by.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for old in &olds {
                tx.execute(
                    "UPDATE dcc_certificates SET superseded_by = ?2, reissue_pending = 0 \
                     WHERE uvci = ?1",
                    params![old, by],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn certificate(&self, uvci: &str) -> StoreResult<Option<StoredCertificate>> {
        let uvci = uvci.to_owned();
        self.read(move |conn| Ok(query_certificates(conn, "WHERE uvci = ?1", [uvci])?.pop()))
            .await
    }

    async fn certificates_for_citizen(
        &self,
        id: PersonalId,
    ) -> StoreResult<Vec<StoredCertificate>> {
        self.read(move |conn| {
            query_certificates(
                conn,
                "WHERE personal_id = ?1 ORDER BY issued_at, uvci",
                [id.as_number() as i64],
            )
        })
        .await
    }

    async fn revoke_certificate(
        &self,
        uvci: &str,
        reason: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let (uvci, reason) = (uvci.to_owned(), reason.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let revoked: Option<Option<i64>> = tx
                .query_row(
                    "SELECT revoked_at FROM dcc_certificates WHERE uvci = ?1",
                    [&uvci],
                    |r| r.get(0),
                )
                .optional()?;
            let changed = match revoked {
                None => return Err(StoreError::NotFound("certificate")),
                Some(Some(_)) => false,
                Some(None) => {
                    tx.execute(
                        "UPDATE dcc_certificates SET revoked_at = ?2, revocation_reason = ?3 \
                         WHERE uvci = ?1",
                        params![uvci, unix_micros(at), reason],
                    )?;
                    true
                }
            };
            tx.commit()?;
            Ok(changed)
        })
        .await
    }

    async fn revoked_certificates(
        &self,
        at: OffsetDateTime,
    ) -> StoreResult<Vec<StoredCertificate>> {
        self.read(move |conn| {
            query_certificates(
                conn,
                "WHERE revoked_at IS NOT NULL AND expires_at > ?1 ORDER BY kid, uvci",
                [unix_micros(at)],
            )
        })
        .await
    }

    async fn pending_reissues(&self, ids: Vec<PersonalId>) -> StoreResult<Vec<StoredCertificate>> {
        self.read(move |conn| {
            let mut out = Vec::new();
            for id in ids {
                out.extend(query_certificates(
                    conn,
                    "WHERE personal_id = ?1 AND reissue_pending = 1 ORDER BY issued_at, uvci",
                    [id.as_number() as i64],
                )?);
            }
            Ok(out)
        })
        .await
    }

    async fn upsert_foreign_dscs(&self, dscs: Vec<ForeignDsc>) -> StoreResult<u64> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut new = 0;
            for d in &dscs {
                let changed = tx.execute(
                    "INSERT INTO foreign_dscs (fingerprint, kid, country, certificate, source, imported_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (fingerprint) DO NOTHING",
                    params![d.fingerprint, d.kid, d.country, d.certificate, d.source, unix_micros(d.imported_at)],
                )?;
                new += changed as u64;
            }
            tx.commit()?;
            Ok(new)
        })
        .await
    }

    async fn foreign_dscs(&self) -> StoreResult<Vec<ForeignDsc>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT fingerprint, kid, country, certificate, source, imported_at \
                 FROM foreign_dscs ORDER BY country, fingerprint",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(ForeignDsc {
                    fingerprint: r.get(0)?,
                    kid: r.get(1)?,
                    country: r.get(2)?,
                    certificate: r.get(3)?,
                    source: r.get(4)?,
                    imported_at: from_unix_micros(r.get(5)?),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}
