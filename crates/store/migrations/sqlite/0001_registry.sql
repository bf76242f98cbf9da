-- Population registry, users, sessions and the hash-chained audit log.
-- personal_id is the 12-digit number stored as an integer: the table's B-tree key, no extra index.
CREATE TABLE citizens (
    personal_id       INTEGER PRIMARY KEY,
    full_name         TEXT    NOT NULL,
    name_key          TEXT    NOT NULL,
    birth_date        TEXT    NOT NULL,
    sex               TEXT    NOT NULL CHECK (sex IN ('M', 'F')),
    permanent_unit    TEXT    NOT NULL,
    permanent_address TEXT    NOT NULL,
    temporary_unit    TEXT,
    temporary_address TEXT,
    phone             TEXT,
    legacy_id         TEXT,
    household_id      TEXT,
    status            TEXT    NOT NULL DEFAULT 'alive' CHECK (status IN ('alive', 'deceased')),
    updated_at        INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    jurisdiction  TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    role      TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    subject   TEXT,
    purpose   TEXT    NOT NULL,
    detail    TEXT,
    prev_hash BLOB    NOT NULL,
    hash      BLOB    NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject) WHERE subject IS NOT NULL;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
