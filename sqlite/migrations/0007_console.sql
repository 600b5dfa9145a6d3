-- Migration 7: the web console's accounts, one-time links, sessions and
-- sign-in attempt counts (see docs/console.md).
--
-- Secrets are never stored in plain: the password as an argon2id string,
-- the TOTP secret sealed under the master key, recovery codes, links and
-- session tokens as SHA-256 hashes. apps is a comma-separated list of
-- SdkAppIds the account is limited to; NULL: every app.
CREATE TABLE console_accounts (
    id              TEXT    PRIMARY KEY,
    email           TEXT    NOT NULL UNIQUE,
    role            TEXT    NOT NULL,
    apps            TEXT,
    status          TEXT    NOT NULL,
    password_hash   TEXT    NOT NULL,
    totp_secret     BLOB,    -- sealed; NULL without two-factor
    totp_step       INTEGER NOT NULL, -- the last TOTP time step used: its code and older ones are refused
    recovery_codes  BLOB,    -- 32-byte hashes, one after the other
    failed_sign_ins INTEGER NOT NULL,
    locked_until    INTEGER,
    created_at      INTEGER NOT NULL,
    last_sign_in_at INTEGER
) STRICT;

-- A link without an account is the first setup's.
CREATE TABLE console_links (
    link_hash  BLOB    PRIMARY KEY,
    account_id TEXT    REFERENCES console_accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

CREATE INDEX console_links_expiry ON console_links (expires_at);

CREATE TABLE console_sessions (
    session_hash BLOB    PRIMARY KEY,
    account_id   TEXT    NOT NULL REFERENCES console_accounts (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX console_sessions_account ON console_sessions (account_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- Sign-in attempts counted per key (a hashed network address) since a
-- time, for the rate limit.
CREATE TABLE console_attempts (
    attempt_key TEXT    PRIMARY KEY,
    attempts    INTEGER NOT NULL,
    since       INTEGER NOT NULL
) STRICT;
