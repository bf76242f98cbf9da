-- Replaced by citizens_permanent_unit_birth (record linkage blocks on commune + birth date).
DROP INDEX IF EXISTS citizens_permanent_unit;

-- Vaccination records matched to the registry, their correction history, commune signing keys,
-- and each citizen's derived status. Times are unix microseconds.
CREATE TABLE signing_keys (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    profile               TEXT    NOT NULL,
    unit_code             TEXT    NOT NULL,
    fingerprint           TEXT    NOT NULL UNIQUE,
    certificate           BYTEA    NOT NULL,
    encrypted_private_key BYTEA    NOT NULL,
    issuer_id             BIGINT REFERENCES signing_keys (id),
    not_before            BIGINT NOT NULL,
    not_after             BIGINT NOT NULL,
    active                BOOLEAN NOT NULL DEFAULT TRUE,
    created_at            BIGINT NOT NULL
);
CREATE INDEX signing_keys_unit ON signing_keys (unit_code, active);

CREATE TABLE vaccination_records (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source              TEXT    NOT NULL,
    source_record_id    TEXT    NOT NULL,
    fingerprint         TEXT    NOT NULL,
    received_at         BIGINT NOT NULL,
    claimed_personal_id BIGINT,
    full_name           TEXT    NOT NULL,
    birth_date          TEXT,
    sex                 TEXT,
    phone               TEXT,
    commune_code        TEXT,
    vaccine_code        TEXT    NOT NULL,
    dose_number         INTEGER NOT NULL,
    administered_at     BIGINT NOT NULL,
    site_code           TEXT    NOT NULL,
    lot                 TEXT,
    input_flags         TEXT    NOT NULL DEFAULT '',
    decision            TEXT    NOT NULL CHECK (decision IN ('auto', 'review', 'confirmed', 'rejected', 'unmatched', 'duplicate')),
    personal_id         BIGINT,
    score               DOUBLE PRECISION,
    evidence            TEXT    NOT NULL DEFAULT '[]',
    queue_unit          TEXT,
    duplicate_of        BIGINT REFERENCES vaccination_records (id),
    version             BIGINT NOT NULL DEFAULT 1,
    updated_at          BIGINT NOT NULL,
    signed_version      BIGINT,
    signature           BYTEA,
    signing_key_id      BIGINT REFERENCES signing_keys (id),
    signed_at           BIGINT,
    signed_by           TEXT,
    UNIQUE (source, source_record_id)
);
CREATE INDEX vaccination_records_citizen ON vaccination_records (personal_id) WHERE personal_id IS NOT NULL;
CREATE INDEX vaccination_records_queue ON vaccination_records (queue_unit, decision, id);

-- Every change to a record: the state before it, who, when and why. Never updated or deleted.
CREATE TABLE vaccination_record_versions (
    record_id  BIGINT NOT NULL REFERENCES vaccination_records (id),
    version    BIGINT NOT NULL,
    changed_at BIGINT NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    before     TEXT    NOT NULL,
    PRIMARY KEY (record_id, version)
);

-- A replayed source key with different content: kept, never applied.
CREATE TABLE vaccination_conflicts (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    record_id        BIGINT NOT NULL REFERENCES vaccination_records (id),
    received_at      BIGINT NOT NULL,
    fingerprint      TEXT    NOT NULL,
    payload          TEXT    NOT NULL
);

CREATE TABLE citizen_status (
    personal_id  BIGINT PRIMARY KEY,
    colour       TEXT    NOT NULL CHECK (colour IN ('green', 'yellow', 'none')),
    rule_version TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE FUNCTION vaccination_record_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'vaccination_record_versions is append-only'; END $$;
CREATE TRIGGER vaccination_record_versions_append_only BEFORE UPDATE OR DELETE ON vaccination_record_versions
FOR EACH ROW EXECUTE FUNCTION vaccination_record_versions_append_only();
