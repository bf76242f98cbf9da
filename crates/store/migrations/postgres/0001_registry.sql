-- Population registry, users, sessions and the hash-chained audit log.
-- citizens is keyed by personal_id so it can be distributed by it (Citus create_distributed_table).
CREATE TABLE citizens (
    personal_id       BIGINT PRIMARY KEY,
    full_name         TEXT   NOT NULL,
    name_key          TEXT   NOT NULL,
    birth_date        TEXT   NOT NULL,
    sex               TEXT   NOT NULL CHECK (sex IN ('M', 'F')),
    permanent_unit    TEXT   NOT NULL,
    permanent_address TEXT   NOT NULL,
    temporary_unit    TEXT,
    temporary_address TEXT,
    phone             TEXT,
    legacy_id         TEXT,
    household_id      TEXT,
    status            TEXT   NOT NULL DEFAULT 'alive' CHECK (status IN ('alive', 'deceased')),
    updated_at        BIGINT NOT NULL
);

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    jurisdiction  TEXT    NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    token_hash BYTEA  PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT   NOT NULL,
    role      TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    subject   TEXT,
    purpose   TEXT   NOT NULL,
    detail    TEXT,
    prev_hash BYTEA  NOT NULL,
    hash      BYTEA  NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject) WHERE subject IS NOT NULL;
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
