-- EU Digital COVID Certificates as issued, and their revocation. The key leads with the personal
-- ID so the table distributes with the citizen's other rows. Times are unix microseconds.
CREATE TABLE dcc_certificates (
    personal_id       BIGINT NOT NULL,
    uvci              TEXT    NOT NULL,
    cert_type         TEXT    NOT NULL CHECK (cert_type IN ('v', 't', 'r')),
    -- The vaccination record (and its version) the certificate states.
    record_id         BIGINT REFERENCES vaccination_records (id),
    record_version    BIGINT,
    dsc_key_id        BIGINT NOT NULL REFERENCES signing_keys (id),
    kid               BYTEA    NOT NULL,
    -- First 128 bits of SHA-256 over the signature (its r half for ECDSA), for revocation lists.
    signature_hash    BYTEA    NOT NULL,
    hc1               TEXT    NOT NULL,
    issued_at         BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    revoked_at        BIGINT,
    revocation_reason TEXT,
    -- Revoked because its record changed: a new certificate is issued once the record is re-signed.
    reissue_pending   BOOLEAN NOT NULL DEFAULT FALSE,
    superseded_by     TEXT,
    PRIMARY KEY (personal_id, uvci)
);
CREATE UNIQUE INDEX dcc_certificates_uvci ON dcc_certificates (uvci);
CREATE INDEX dcc_certificates_record ON dcc_certificates (record_id) WHERE revoked_at IS NULL;
CREATE INDEX dcc_certificates_revoked ON dcc_certificates (expires_at) WHERE revoked_at IS NOT NULL;

-- Other countries' document signers, imported from their trust lists.
CREATE TABLE foreign_dscs (
    fingerprint TEXT    PRIMARY KEY,
    kid         BYTEA    NOT NULL,
    country     TEXT    NOT NULL,
    certificate BYTEA    NOT NULL,
    source      TEXT    NOT NULL,
    imported_at BIGINT NOT NULL
);
