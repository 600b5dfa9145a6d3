-- Migration 1: the initial schema.
--
-- Times are INTEGER nanoseconds since the Unix epoch, in UTC. Nanoseconds
-- make a Go time.Time survive a round trip exactly (apart from its
-- location and monotonic reading); the price is a range of the years 1678
-- to 2262. NULL means "never" (users.last_login_at, api_keys.revoked_at) and
-- maps to the zero time.Time.
--
-- Secrets (apps.superapp_secret, api_keys.secret_key) are vault ciphertext:
-- the store never sees them in plaintext.
--
-- SdkAppIds are uint64 in Go and stored as the int64 with the same bits.

CREATE TABLE apps (
    sdk_app_id        INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL,
    user_domain       TEXT    NOT NULL UNIQUE,
    status            INTEGER NOT NULL,
    rate_limit        INTEGER NOT NULL,
    token_ttl_seconds INTEGER NOT NULL,
    superapp_secret   BLOB    NOT NULL,
    created_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    secret_id   TEXT    PRIMARY KEY,
    secret_key  BLOB    NOT NULL,
    name        TEXT    NOT NULL,
    permissions TEXT    NOT NULL, -- comma-separated, e.g. 'users.read,pii.read'
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;

CREATE TABLE api_key_apps (
    secret_id  TEXT    NOT NULL REFERENCES api_keys (secret_id) ON DELETE CASCADE,
    sdk_app_id INTEGER NOT NULL REFERENCES apps (sdk_app_id),
    PRIMARY KEY (secret_id, sdk_app_id)
) STRICT, WITHOUT ROWID;

-- Lets SQLite check the foreign key without a full scan when an app changes.
CREATE INDEX api_key_apps_app ON api_key_apps (sdk_app_id);

CREATE TABLE users (
    user_id       TEXT    PRIMARY KEY, -- a KSUID, so it sorts by creation time
    sdk_app_id    INTEGER NOT NULL REFERENCES apps (sdk_app_id),
    origin_id     TEXT    NOT NULL,
    nickname      TEXT    NOT NULL,
    avatar        TEXT    NOT NULL,
    status        INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_login_at INTEGER,
    UNIQUE (sdk_app_id, origin_id)
) STRICT;

-- ListUsers pages through one app's users in creation order; user_id breaks
-- ties between users created in the same nanosecond.
CREATE INDEX users_app_created ON users (sdk_app_id, created_at, user_id);

CREATE TABLE tokens (
    token_hash BLOB    PRIMARY KEY, -- SHA-256 of the token; the token itself is never stored
    user_id    TEXT    NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    sdk_app_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX tokens_expires ON tokens (expires_at);

-- Without it, deleting a user would scan every token to cascade.
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value BLOB
) STRICT;
