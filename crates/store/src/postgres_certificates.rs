//! `PostgreSQL` implementation of [`CertificateStore`].

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use vaxtrace_domain::PersonalId;

use crate::certificates::{
    CERTIFICATE_COLUMNS, CertificateRow, CertificateStore, ForeignDsc, NewCertificate,
    StoredCertificate,
};
use crate::{PostgresStore, StoreError, StoreResult, from_unix_micros, unix_micros};

fn certificate_row(r: &Row) -> CertificateRow {
    CertificateRow {
        uvci: r.get(0),
        personal_id: r.get(1),
        cert_type: r.get(2),
        record_id: r.get(3),
        record_version: r.get(4),
        dsc_key_id: r.get(5),
        kid: r.get(6),
        signature_hash: r.get(7),
        hc1: r.get(8),
        issued_at: r.get(9),
        expires_at: r.get(10),
        revoked_at: r.get(11),
        revocation_reason: r.get(12),
        reissue_pending: r.get(13),
        superseded_by: r.get(14),
    }
}

impl PostgresStore {
    async fn query_certificates(
        &self,
        where_clause: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Vec<StoredCertificate>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!("SELECT {CERTIFICATE_COLUMNS} FROM dcc_certificates {where_clause}"),
                params,
            )
            .await?;
        rows.iter()
            .map(|r| certificate_row(r).into_certificate())
            .collect()
    }
}

#[async_trait]
impl CertificateStore for PostgresStore {
    async fn insert_certificate(&self, c: NewCertificate) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(
            &format!(
                "INSERT INTO dcc_certificates ({CERTIFICATE_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, FALSE, NULL)"
            ),
            &[
                &c.uvci,
                &(c.personal_id.as_number() as i64),
                &c.cert_type,
                &c.record_id,
                &c.record_version,
                &c.dsc_key_id,
                &c.kid,
                &c.signature_hash,
                &c.hc1,
                &unix_micros(c.issued_at),
                &unix_micros(c.expires_at),
            ],
        )
        .await?;
        for old in &c.supersedes {
            tx.execute(
                "UPDATE dcc_certificates SET superseded_by = $2, reissue_pending = FALSE \
                 WHERE uvci = $1",
                &[old, &c.uvci],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn supersede(&self, olds: Vec<String>, by: &str) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "UPDATE dcc_certificates SET superseded_by = $2, reissue_pending = FALSE \
                 WHERE uvci = ANY($1)",
                &[&olds, &by],
            )
            .await?;
        Ok(())
    }

    async fn certificate(&self, uvci: &str) -> StoreResult<Option<StoredCertificate>> {
        Ok(self
            .query_certificates("WHERE uvci = $1", &[&uvci])
            .await?
            .pop())
    }

    async fn certificates_for_citizen(
        &self,
        id: PersonalId,
    ) -> StoreResult<Vec<StoredCertificate>> {
        self.query_certificates(
            "WHERE personal_id = $1 ORDER BY issued_at, uvci",
            &[&(id.as_number() as i64)],
        )
        .await
    }

    async fn revoke_certificate(
        &self,
        uvci: &str,
        reason: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT revoked_at FROM dcc_certificates WHERE uvci = $1 FOR UPDATE",
                &[&uvci],
            )
            .await?
            .ok_or(StoreError::NotFound("certificate"))?;
        if row.get::<_, Option<i64>>(0).is_some() {
            return Ok(false);
        }
        tx.execute(
            "UPDATE dcc_certificates SET revoked_at = $2, revocation_reason = $3 WHERE uvci = $1",
            &[&uvci, &unix_micros(at), &reason],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn revoked_certificates(
        &self,
        at: OffsetDateTime,
    ) -> StoreResult<Vec<StoredCertificate>> {
        self.query_certificates(
            "WHERE revoked_at IS NOT NULL AND expires_at > $1 ORDER BY kid, uvci",
            &[&unix_micros(at)],
        )
        .await
    }

    async fn pending_reissues(&self, ids: Vec<PersonalId>) -> StoreResult<Vec<StoredCertificate>> {
        let ids: Vec<i64> = ids.iter().map(|id| id.as_number() as i64).collect();
        self.query_certificates(
            "WHERE personal_id = ANY($1) AND reissue_pending ORDER BY issued_at, uvci",
            &[&ids],
        )
        .await
    }

    async fn upsert_foreign_dscs(&self, dscs: Vec<ForeignDsc>) -> StoreResult<u64> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut new = 0;
        for d in &dscs {
            new += tx
                .execute(
                    "INSERT INTO foreign_dscs (fingerprint, kid, country, certificate, source, imported_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (fingerprint) DO NOTHING",
                    &[
                        &d.fingerprint,
                        &d.kid,
                        &d.country,
                        &d.certificate,
                        &d.source,
                        &unix_micros(d.imported_at),
                    ],
                )
                .await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    async fn foreign_dscs(&self) -> StoreResult<Vec<ForeignDsc>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT fingerprint, kid, country, certificate, source, imported_at \
                 FROM foreign_dscs ORDER BY country, fingerprint",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| ForeignDsc {
                fingerprint: r.get(0),
                kid: r.get(1),
                country: r.get(2),
                certificate: r.get(3),
                source: r.get(4),
                imported_at: from_unix_micros(r.get(5)),
            })
            .collect())
    }
}
