-- Replaced by citizens_permanent_unit_birth (record linkage blocks on commune + birth date).
DROP INDEX IF EXISTS citizens_permanent_unit;

-- Vaccination records matched to the registry, their correction history, commune signing keys,
-- and each citizen's derived status. Times are unix microseconds.
CREATE TABLE signing_keys (
    id                    INTEGER PRIMARY KEY,
    profile               TEXT    NOT NULL,
    unit_code             TEXT    NOT NULL,
    fingerprint           TEXT    NOT NULL UNIQUE,
    certificate           BLOB    NOT NULL,
    encrypted_private_key BLOB    NOT NULL,
    issuer_id             INTEGER REFERENCES signing_keys (id),
    not_before            INTEGER NOT NULL,
    not_after             INTEGER NOT NULL,
    active                INTEGER NOT NULL DEFAULT 1,
    created_at            INTEGER NOT NULL
);
CREATE INDEX signing_keys_unit ON signing_keys (unit_code, active);

CREATE TABLE vaccination_records (
    id                  INTEGER PRIMARY KEY,
    source              TEXT    NOT NULL,
    source_record_id    TEXT    NOT NULL,
    fingerprint         TEXT    NOT NULL,
    received_at         INTEGER NOT NULL,
    claimed_personal_id INTEGER,
    full_name           TEXT    NOT NULL,
    birth_date          TEXT,
    sex                 TEXT,
    phone               TEXT,
    commune_code        TEXT,
    vaccine_code        TEXT    NOT NULL,
    dose_number         INTEGER NOT NULL,
    administered_at     INTEGER NOT NULL,
    site_code           TEXT    NOT NULL,
    lot                 TEXT,
    input_flags         TEXT    NOT NULL DEFAULT '',
    decision            TEXT    NOT NULL CHECK (decision IN ('auto', 'review', 'confirmed', 'rejected', 'unmatched', 'duplicate')),
    personal_id         INTEGER,
    score               REAL,
    evidence            TEXT    NOT NULL DEFAULT '[]',
    queue_unit          TEXT,
    duplicate_of        INTEGER REFERENCES vaccination_records (id),
    version             INTEGER NOT NULL DEFAULT 1,
    updated_at          INTEGER NOT NULL,
    signed_version      INTEGER,
    signature           BLOB,
    signing_key_id      INTEGER REFERENCES signing_keys (id),
    signed_at           INTEGER,
    signed_by           TEXT,
    UNIQUE (source, source_record_id)
);
CREATE INDEX vaccination_records_citizen ON vaccination_records (personal_id) WHERE personal_id IS NOT NULL;
CREATE INDEX vaccination_records_queue ON vaccination_records (queue_unit, decision, id);

-- Every change to a record: the state before it, who, when and why. Never updated or deleted.
CREATE TABLE vaccination_record_versions (
    record_id  INTEGER NOT NULL REFERENCES vaccination_records (id),
    version    INTEGER NOT NULL,
    changed_at INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    before     TEXT    NOT NULL,
    PRIMARY KEY (record_id, version)
) WITHOUT ROWID;
CREATE TRIGGER vaccination_record_versions_no_update BEFORE UPDATE ON vaccination_record_versions
BEGIN SELECT RAISE(ABORT, 'vaccination_record_versions is append-only'); END;
CREATE TRIGGER vaccination_record_versions_no_delete BEFORE DELETE ON vaccination_record_versions
BEGIN SELECT RAISE(ABORT, 'vaccination_record_versions is append-only'); END;

-- A replayed source key with different content: kept, never applied.
CREATE TABLE vaccination_conflicts (
    id               INTEGER PRIMARY KEY,
    record_id        INTEGER NOT NULL REFERENCES vaccination_records (id),
    received_at      INTEGER NOT NULL,
    fingerprint      TEXT    NOT NULL,
    payload          TEXT    NOT NULL
);

CREATE TABLE citizen_status (
    personal_id  INTEGER PRIMARY KEY,
    colour       TEXT    NOT NULL CHECK (colour IN ('green', 'yellow', 'none')),
    rule_version TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL
);
