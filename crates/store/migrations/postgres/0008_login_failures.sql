-- Failed password logins, counted per username to throttle guessing. The username is kept only as
-- its SHA-256 (a citizen's username holds the personal ID). Times are unix microseconds; rows older
-- than a day go with the expired sessions.
CREATE TABLE login_failures (
    username_hash BYTEA  NOT NULL,
    failed_at     BIGINT NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username_hash, failed_at);
