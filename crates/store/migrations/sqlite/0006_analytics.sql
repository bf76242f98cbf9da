-- Live coverage and supervision counters, what each vaccinated citizen contributes to them,
-- analytics settings, and citizens' requests to correct a vaccination record.
-- A counter row: unit (commune, district or province), grain (0 all time, 1 year, 2 month, 3 day),
-- bucket (yyyymmdd, yyyymm00, yyyy0000, or 0), series name. Values are sums of deltas.
CREATE TABLE coverage_counts (
    unit   TEXT    NOT NULL,
    grain  INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    series TEXT    NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (unit, grain, bucket, series)
) WITHOUT ROWID;

-- The last contribution of each citizen with a signed dose; days are yyyymmdd.
CREATE TABLE coverage_members (
    personal_id  INTEGER PRIMARY KEY,
    unit         TEXT    NOT NULL,
    band         INTEGER NOT NULL,
    sex          TEXT    NOT NULL,
    alive        INTEGER NOT NULL,
    dose1_day    INTEGER,
    full_day     INTEGER,
    booster_day  INTEGER,
    next_due_day INTEGER,
    doses        TEXT    NOT NULL
);
CREATE INDEX coverage_members_due ON coverage_members (unit, next_due_day) WHERE next_due_day IS NOT NULL;

CREATE TABLE analytics_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE correction_requests (
    id           INTEGER PRIMARY KEY,
    record_id    INTEGER NOT NULL REFERENCES vaccination_records (id),
    personal_id  INTEGER,
    queue_unit   TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    requested_by TEXT    NOT NULL,
    requested_at INTEGER NOT NULL,
    handled_at   INTEGER,
    handled_by   TEXT
);
CREATE INDEX correction_requests_open ON correction_requests (queue_unit) WHERE handled_at IS NULL;
CREATE INDEX correction_requests_record ON correction_requests (record_id);

-- Movement flows group declarations by travel day.
CREATE INDEX declarations_travel_date ON declarations (travel_date);
