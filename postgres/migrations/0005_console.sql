-- Migration 5: the web console's accounts, one-time links, sessions and
-- sign-in attempt counts, as SQLite's migration 7.
CREATE TABLE console_accounts (
    id              TEXT   COLLATE "C" PRIMARY KEY,
    email           TEXT   COLLATE "C" NOT NULL UNIQUE,
    role            TEXT   COLLATE "C" NOT NULL,
    apps            TEXT   COLLATE "C",
    status          TEXT   COLLATE "C" NOT NULL,
    password_hash   TEXT   COLLATE "C" NOT NULL,
    totp_secret     BYTEA,
    totp_step       BIGINT NOT NULL,
    recovery_codes  BYTEA,
    failed_sign_ins BIGINT NOT NULL,
    locked_until    BIGINT,
    created_at      BIGINT NOT NULL,
    last_sign_in_at BIGINT
);

CREATE TABLE console_links (
    link_hash  BYTEA  PRIMARY KEY,
    account_id TEXT   COLLATE "C" REFERENCES console_accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE INDEX console_links_expiry ON console_links (expires_at);

CREATE TABLE console_sessions (
    session_hash BYTEA  PRIMARY KEY,
    account_id   TEXT   COLLATE "C" NOT NULL REFERENCES console_accounts (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

CREATE INDEX console_sessions_account ON console_sessions (account_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

CREATE TABLE console_attempts (
    attempt_key TEXT   COLLATE "C" PRIMARY KEY,
    attempts    BIGINT NOT NULL,
    since       BIGINT NOT NULL
);
