-- EU Digital COVID Certificates as issued, and their revocation. The key leads with the personal
-- ID so the table distributes with the citizen's other rows. Times are unix microseconds.
CREATE TABLE dcc_certificates (
    personal_id       INTEGER NOT NULL,
    uvci              TEXT    NOT NULL,
    cert_type         TEXT    NOT NULL CHECK (cert_type IN ('v', 't', 'r')),
    -- The vaccination record (and its version) the certificate states.
    record_id         INTEGER REFERENCES vaccination_records (id),
    record_version    INTEGER,
    dsc_key_id        INTEGER NOT NULL REFERENCES signing_keys (id),
    kid               BLOB    NOT NULL,
    -- First 128 bits of SHA-256 over the signature (its r half for ECDSA), for revocation lists.
    signature_hash    BLOB    NOT NULL,
    hc1               TEXT    NOT NULL,
    issued_at         INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    revoked_at        INTEGER,
    revocation_reason TEXT,
    -- Revoked because its record changed: a new certificate is issued once the record is re-signed.
    reissue_pending   INTEGER NOT NULL DEFAULT 0,
    superseded_by     TEXT,
    PRIMARY KEY (personal_id, uvci)
);
CREATE UNIQUE INDEX dcc_certificates_uvci ON dcc_certificates (uvci);
CREATE INDEX dcc_certificates_record ON dcc_certificates (record_id) WHERE revoked_at IS NULL;
CREATE INDEX dcc_certificates_revoked ON dcc_certificates (expires_at) WHERE revoked_at IS NOT NULL;

-- Other countries' document signers, imported from their trust lists.
CREATE TABLE foreign_dscs (
    fingerprint TEXT    PRIMARY KEY,
    kid         BLOB    NOT NULL,
    country     TEXT    NOT NULL,
    certificate BLOB    NOT NULL,
    source      TEXT    NOT NULL,
    imported_at INTEGER NOT NULL
);
