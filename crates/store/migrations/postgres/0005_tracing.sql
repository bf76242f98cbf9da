-- Venue check-in, test results, F0 cases, traced contacts, quarantine orders and break-glass
-- reviews. Check-in times are unix seconds (the largest table); other times unix microseconds.

CREATE TABLE venues (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    commune_code TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    latitude     DOUBLE PRECISION,
    longitude    DOUBLE PRECISION,
    stay_minutes INTEGER NOT NULL,
    owner        TEXT    NOT NULL,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   BIGINT NOT NULL
);
CREATE INDEX venues_owner ON venues (owner);

-- Partitioned by the UTC day of the check-in (partitions checkins_d<day number>, created ahead by
-- the server and dropped whole by the retention purge). The key makes a repeated check-in a no-op
-- and includes the partition key, as PostgreSQL requires.
CREATE TABLE checkins (
    venue_id      BIGINT  NOT NULL,
    checked_in_at BIGINT  NOT NULL,
    personal_id   BIGINT  NOT NULL,
    ends_at       BIGINT  NOT NULL,
    checked_out   BOOLEAN NOT NULL,
    method        TEXT    NOT NULL,
    PRIMARY KEY (venue_id, checked_in_at, personal_id)
) PARTITION BY RANGE (checked_in_at);
CREATE INDEX checkins_person ON checkins (personal_id, checked_in_at);

CREATE TABLE test_results (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    personal_id BIGINT NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('pcr', 'rapid_antigen')),
    sampled_at  BIGINT NOT NULL,
    result      TEXT    NOT NULL CHECK (result IN ('positive', 'negative', 'invalid')),
    lab         TEXT    NOT NULL,
    lab_ref     TEXT    NOT NULL,
    recorded_by TEXT    NOT NULL,
    recorded_at BIGINT NOT NULL,
    UNIQUE (lab, lab_ref)
);
CREATE INDEX test_results_citizen ON test_results (personal_id, sampled_at);

-- number: the sequence behind the case ID (F0-<province>-<number>).
CREATE TABLE cases (
    number        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       TEXT    NOT NULL UNIQUE,
    personal_id   BIGINT NOT NULL,
    test_id       BIGINT NOT NULL REFERENCES test_results (id),
    sampled_at    BIGINT NOT NULL,
    onset_on      TEXT,
    isolated_at   BIGINT,
    confirmed_by  TEXT    NOT NULL,
    confirmed_at  BIGINT NOT NULL,
    recovered_on  TEXT,
    province_code TEXT    NOT NULL,
    district_code TEXT    NOT NULL,
    commune_code  TEXT    NOT NULL
);
-- One open case per person.
CREATE UNIQUE INDEX cases_open ON cases (personal_id) WHERE recovered_on IS NULL;
CREATE INDEX cases_citizen ON cases (personal_id);

-- The contacts a trace found, routed by the contact's commune of residence.
CREATE TABLE contacts (
    case_id       TEXT    NOT NULL REFERENCES cases (case_id),
    personal_id   BIGINT NOT NULL,
    level         SMALLINT NOT NULL CHECK (level IN (1, 2)),
    via           BIGINT,
    kind          TEXT    NOT NULL CHECK (kind IN ('venue', 'household')),
    exposed_at    BIGINT NOT NULL,
    overlap_secs  BIGINT NOT NULL,
    -- JSON list of the overlaps (venue, times) that make the contact.
    evidence      TEXT    NOT NULL,
    province_code TEXT    NOT NULL,
    district_code TEXT    NOT NULL,
    commune_code  TEXT    NOT NULL,
    traced_at     BIGINT NOT NULL,
    PRIMARY KEY (case_id, personal_id)
);
CREATE INDEX contacts_commune ON contacts (commune_code, traced_at);
CREATE INDEX contacts_district ON contacts (district_code, traced_at);
CREATE INDEX contacts_province ON contacts (province_code, traced_at);

CREATE TABLE quarantines (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    personal_id   BIGINT NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('home', 'facility')),
    place         TEXT,
    starts_on     TEXT    NOT NULL,
    ends_on       TEXT    NOT NULL,
    case_id       TEXT,
    ordered_by    TEXT    NOT NULL,
    ordered_at    BIGINT NOT NULL,
    released_on   TEXT,
    province_code TEXT    NOT NULL,
    district_code TEXT    NOT NULL,
    commune_code  TEXT    NOT NULL
);
CREATE INDEX quarantines_citizen ON quarantines (personal_id, starts_on);
CREATE INDEX quarantines_commune ON quarantines (commune_code, ends_on);
CREATE INDEX quarantines_district ON quarantines (district_code, ends_on);
CREATE INDEX quarantines_province ON quarantines (province_code, ends_on);

-- Movement reads without a case ID; each waits for an administrator's review.
CREATE TABLE break_glass (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor       TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    personal_id BIGINT NOT NULL,
    reason      TEXT    NOT NULL,
    at          BIGINT NOT NULL,
    reviewed_by TEXT,
    reviewed_at BIGINT,
    verdict     TEXT CHECK (verdict IN ('justified', 'unjustified'))
);
CREATE INDEX break_glass_pending ON break_glass (id) WHERE reviewed_at IS NULL;
