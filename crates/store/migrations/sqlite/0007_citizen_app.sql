-- The citizen app: accounts bound to a registry citizen and a phone, one-time codes, the people
-- an account manages (its household), and health-insurance cards. Times are unix microseconds.
-- Every table is keyed by a personal ID, the distribution key of the scale-out plan.

-- user_id: the session machinery's users row (role citizen, no usable password).
CREATE TABLE citizen_accounts (
    personal_id    INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    phone          TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    phone_bound_at INTEGER NOT NULL
);
CREATE INDEX citizen_accounts_phone ON citizen_accounts (phone);

-- Only the code's SHA-256 is kept; a challenge is spent once (used_at) or locked by attempts.
CREATE TABLE otp_challenges (
    id          TEXT    PRIMARY KEY,
    purpose     TEXT    NOT NULL CHECK (purpose IN ('signup', 'login')),
    personal_id INTEGER NOT NULL,
    phone       TEXT    NOT NULL,
    code_hash   BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    used_at     INTEGER
) WITHOUT ROWID;
CREATE INDEX otp_challenges_person ON otp_challenges (personal_id, created_at);
CREATE INDEX otp_challenges_phone ON otp_challenges (phone, created_at);

CREATE TABLE account_people (
    owner_id    INTEGER NOT NULL REFERENCES citizen_accounts (personal_id) ON DELETE CASCADE,
    personal_id INTEGER NOT NULL,
    relation    TEXT    NOT NULL,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (owner_id, personal_id)
) WITHOUT ROWID;
CREATE INDEX account_people_person ON account_people (personal_id);

CREATE TABLE health_insurance_cards (
    personal_id INTEGER PRIMARY KEY,
    card_number TEXT    NOT NULL,
    valid_from  TEXT,
    valid_to    TEXT,
    source      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);
