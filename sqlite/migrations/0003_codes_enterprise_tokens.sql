-- Migration 3: each app's super-app cipher and code lifetime, super-app
-- temporary codes and the attempts to guess them, and access tokens of the
-- enterprise API.
--
-- The new app columns have defaults, so apps written before this migration
-- read back with the cipher they have always used (aes-ecb-hex) and codes
-- that live five minutes.
--
-- Codes and tokens are stored only as their SHA-256 hash, like the login
-- tokens of migration 1.

ALTER TABLE apps ADD COLUMN superapp_cipher  TEXT    NOT NULL DEFAULT 'aes-ecb-hex';
ALTER TABLE apps ADD COLUMN code_ttl_seconds INTEGER NOT NULL DEFAULT 300;

-- A super-app temporary code: one use (used_at is set when it is taken),
-- bound to one app, user and kind of value.
CREATE TABLE codes (
    code_hash  BLOB    PRIMARY KEY, -- SHA-256 of the code; the code itself is never stored
    sdk_app_id INTEGER NOT NULL,    -- the user's app; InsertCode checks that they match
    user_id    TEXT    NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    field      TEXT    NOT NULL CHECK (field IN ('phone', 'email')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER            -- NULL until taken
) STRICT;

-- Purging expired codes.
CREATE INDEX codes_expires ON codes (expires_at);

-- Without it, deleting a user would scan every code to cascade.
CREATE INDEX codes_user ON codes (user_id);

-- Failed code attempts counted for a user since their last code was
-- issued. No row means none.
CREATE TABLE code_attempts (
    sdk_app_id INTEGER NOT NULL,
    user_id    TEXT    NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    attempts   INTEGER NOT NULL,
    since      INTEGER NOT NULL,
    PRIMARY KEY (sdk_app_id, user_id)
) STRICT, WITHOUT ROWID;

-- Lets deleting a user cascade without a full scan; the primary key leads
-- with the app.
CREATE INDEX code_attempts_user ON code_attempts (user_id);

-- An access token of the enterprise API, issued to one API key.
CREATE TABLE enterprise_tokens (
    token_hash BLOB    PRIMARY KEY, -- SHA-256 of the token; the token itself is never stored
    secret_id  TEXT    NOT NULL REFERENCES api_keys (secret_id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX enterprise_tokens_expires ON enterprise_tokens (expires_at);

-- Lets deleting an API key cascade without a full scan.
CREATE INDEX enterprise_tokens_key ON enterprise_tokens (secret_id);
