-- Health and travel declarations with their 72-hour passes, the commune police inboxes they are
-- routed to, checkpoints and their scans, and outbreak areas. Times are unix microseconds; all of
-- it is movement data, deleted after the retention period.
-- AUTOINCREMENT: IDs are in passes and the audit log, so a purged ID is never handed out again.
CREATE TABLE declarations (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    personal_id      INTEGER NOT NULL,
    -- Random, in the pass instead of anything personal.
    subject_ref      BLOB    NOT NULL,
    declared_by      TEXT    NOT NULL,
    -- 'vaxtrace', or the legacy app it was imported from (with that app's own key).
    source           TEXT    NOT NULL,
    source_ref       TEXT,
    submitted_at     INTEGER NOT NULL,
    -- JSON of the checked declaration: health answers and journey.
    body             TEXT    NOT NULL,
    health_risk      BOOLEAN NOT NULL,
    from_outbreak    BOOLEAN NOT NULL,
    origin_unit      TEXT    NOT NULL,
    destination_unit TEXT    NOT NULL,
    travel_date      TEXT    NOT NULL,
    pass_expires_at  INTEGER NOT NULL,
    revoked_at       INTEGER,
    UNIQUE (source, source_ref)
);
CREATE INDEX declarations_citizen ON declarations (personal_id, submitted_at);
CREATE INDEX declarations_submitted ON declarations (submitted_at);

-- One row per commune police that must follow a declaration (permanent and temporary residence,
-- destination), with the fields its filters use.
CREATE TABLE declaration_inbox (
    commune_code    TEXT    NOT NULL,
    declaration_id  INTEGER NOT NULL REFERENCES declarations (id),
    routes          TEXT    NOT NULL,
    submitted_at    INTEGER NOT NULL,
    origin_province TEXT    NOT NULL,
    health_risk     BOOLEAN NOT NULL,
    from_outbreak   BOOLEAN NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    PRIMARY KEY (commune_code, declaration_id)
);
CREATE INDEX declaration_inbox_declaration ON declaration_inbox (declaration_id);
CREATE INDEX declaration_inbox_time ON declaration_inbox (commune_code, submitted_at);

CREATE TABLE checkpoints (
    code         TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    commune_code TEXT    NOT NULL,
    latitude     REAL,
    longitude    REAL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE checkpoint_scans (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    checkpoint_code TEXT    NOT NULL REFERENCES checkpoints (code),
    officer         TEXT    NOT NULL,
    personal_id     INTEGER,
    declaration_id  INTEGER,
    method          TEXT    NOT NULL CHECK (method IN ('pass', 'chip_qr')),
    verdict         TEXT    NOT NULL,
    scanned_at      INTEGER NOT NULL
);
CREATE INDEX checkpoint_scans_citizen ON checkpoint_scans (personal_id, scanned_at);
CREATE INDEX checkpoint_scans_time ON checkpoint_scans (scanned_at);

CREATE TABLE outbreak_areas (
    unit_code   TEXT    NOT NULL,
    starts_on   TEXT    NOT NULL,
    ends_on     TEXT    NOT NULL,
    declared_by TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (unit_code, starts_on)
);
