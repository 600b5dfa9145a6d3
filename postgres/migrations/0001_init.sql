-- Migration 1: the whole schema, as SQLite's migrations 0001 to 0003 leave
-- it. The PostgreSQL engine numbers its migrations on its own; this file
-- reproduces the final SQLite schema in one step. The table and column
-- names, keys, constraints and indexes are a contract that other tools
-- read, so they match SQLite's one for one (INTEGER is BIGINT, TEXT is
-- TEXT, BLOB is BYTEA).
--
-- Times are BIGINT nanoseconds since the Unix epoch, in UTC, exactly as in
-- SQLite rather than TIMESTAMPTZ (which keeps only microseconds): a Go
-- time.Time then survives a round trip exactly, and both engines compare
-- and order times identically. The price is a range of the years 1678 to
-- 2262. NULL means "never" (users.last_login_at, api_keys.revoked_at,
-- codes.used_at) and maps to the zero time.Time.
--
-- Every TEXT column is COLLATE "C": SQLite compares text byte by byte, and
-- keyset paging (UsersAfter, SealedValues), ORDER BY user_id and the
-- uniqueness of IDs must follow that same order whatever the database's
-- default collation is (en_US.UTF-8, say, would sort 'a' before 'B').
--
-- SdkAppIds are uint64 in Go and stored as the int64 with the same bits.
--
-- Constraints carry the names PostgreSQL would give them anyway, spelled
-- out because the store maps a uniqueness violation to the domain field by
-- the violated constraint's name.
--
-- Secrets (apps.superapp_secret, api_keys.secret_key) and personal data
-- (users.*_enc) are vault ciphertext, and blind indexes (users.*_idx) are
-- HMACs: the store never sees plain values. NULL, never an empty value,
-- means a user has none, so lookups and rotation skip them with IS NOT
-- NULL.

CREATE TABLE apps (
    sdk_app_id        BIGINT NOT NULL,
    name              TEXT   COLLATE "C" NOT NULL,
    user_domain       TEXT   COLLATE "C" NOT NULL,
    status            BIGINT NOT NULL,
    rate_limit        BIGINT NOT NULL,
    token_ttl_seconds BIGINT NOT NULL,
    superapp_secret   BYTEA  NOT NULL,
    created_at        BIGINT NOT NULL,
    phone_region      TEXT   COLLATE "C" NOT NULL DEFAULT 'CN',
    superapp_cipher   TEXT   COLLATE "C" NOT NULL DEFAULT 'aes-ecb-hex',
    code_ttl_seconds  BIGINT NOT NULL DEFAULT 300,
    CONSTRAINT apps_pkey PRIMARY KEY (sdk_app_id),
    CONSTRAINT apps_user_domain_key UNIQUE (user_domain)
);

CREATE TABLE api_keys (
    secret_id   TEXT   COLLATE "C" NOT NULL,
    secret_key  BYTEA  NOT NULL,
    name        TEXT   COLLATE "C" NOT NULL,
    permissions TEXT   COLLATE "C" NOT NULL, -- comma-separated, e.g. 'users.read,pii.read'
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    CONSTRAINT api_keys_pkey PRIMARY KEY (secret_id)
);

CREATE TABLE api_key_apps (
    secret_id  TEXT   COLLATE "C" NOT NULL REFERENCES api_keys (secret_id) ON DELETE CASCADE,
    sdk_app_id BIGINT NOT NULL REFERENCES apps (sdk_app_id),
    CONSTRAINT api_key_apps_pkey PRIMARY KEY (secret_id, sdk_app_id)
);

-- Checks the foreign key without a full scan when an app changes.
CREATE INDEX api_key_apps_app ON api_key_apps (sdk_app_id);

CREATE TABLE users (
    user_id       TEXT   COLLATE "C" NOT NULL, -- a KSUID, so it sorts by creation time
    sdk_app_id    BIGINT NOT NULL REFERENCES apps (sdk_app_id),
    origin_id     TEXT   COLLATE "C" NOT NULL,
    nickname      TEXT   COLLATE "C" NOT NULL,
    avatar        TEXT   COLLATE "C" NOT NULL,
    status        BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    last_login_at BIGINT,
    phone_enc     BYTEA,
    phone_idx     BYTEA,
    email_enc     BYTEA,
    email_idx     BYTEA,
    address_enc   BYTEA,
    city          TEXT   COLLATE "C" NOT NULL DEFAULT '',
    province      TEXT   COLLATE "C" NOT NULL DEFAULT '',
    nationality   TEXT   COLLATE "C" NOT NULL DEFAULT '',
    lang          TEXT   COLLATE "C" NOT NULL DEFAULT '',
    timezone      TEXT   COLLATE "C" NOT NULL DEFAULT '',
    sex           TEXT   COLLATE "C" NOT NULL DEFAULT '',
    signature     TEXT   COLLATE "C" NOT NULL DEFAULT '',
    remark        TEXT   COLLATE "C" NOT NULL DEFAULT '',
    logon_mode    BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT users_pkey PRIMARY KEY (user_id),
    CONSTRAINT users_sdk_app_id_origin_id_key UNIQUE (sdk_app_id, origin_id)
);

-- ListUsers pages through one app's users in creation order; user_id breaks
-- ties between users created in the same nanosecond.
CREATE INDEX users_app_created ON users (sdk_app_id, created_at, user_id);

-- Exact lookups by blind index. Partial, because most users have no phone
-- or no email and those rows would only bloat the index; user_id comes
-- last so the index also yields the matches in UserId order.
CREATE INDEX users_app_phone ON users (sdk_app_id, phone_idx, user_id) WHERE phone_idx IS NOT NULL;
CREATE INDEX users_app_email ON users (sdk_app_id, email_idx, user_id) WHERE email_idx IS NOT NULL;

-- UsersAfter walks one app's users in UserId order (keyset pagination).
CREATE INDEX users_app_user ON users (sdk_app_id, user_id);

CREATE TABLE tokens (
    token_hash BYTEA  NOT NULL, -- SHA-256 of the token; the token itself is never stored
    user_id    TEXT   COLLATE "C" NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    sdk_app_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT tokens_pkey PRIMARY KEY (token_hash)
);

CREATE INDEX tokens_expires ON tokens (expires_at);

-- Without it, deleting a user would scan every token to cascade.
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE meta (
    name  TEXT  COLLATE "C" NOT NULL,
    value BYTEA,
    CONSTRAINT meta_pkey PRIMARY KEY (name)
);

-- A user's IDs at third-party providers, one row per provider. The primary
-- key makes a provider account belong to at most one user of an app; the
-- same account may be linked in several apps.
CREATE TABLE user_links (
    user_id          TEXT   COLLATE "C" NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    sdk_app_id       BIGINT NOT NULL, -- the user's app, copied so the key can scope by app
    provider         TEXT   COLLATE "C" NOT NULL,
    provider_user_id TEXT   COLLATE "C" NOT NULL,
    CONSTRAINT user_links_pkey PRIMARY KEY (sdk_app_id, provider, provider_user_id),
    -- Also the index that loads a user's links and lets deleting a user
    -- cascade without a full scan.
    CONSTRAINT user_links_user_id_provider_key UNIQUE (user_id, provider)
);

-- Disclosures of personal data and changes to users. user_id has no
-- foreign key on purpose: the trail of a deleted user must outlive it. An
-- identity never hands out an ID twice, like SQLite's AUTOINCREMENT:
-- callers page with "id > cursor".
CREATE TABLE audit_events (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
    sdk_app_id BIGINT NOT NULL,
    user_id    TEXT   COLLATE "C" NOT NULL,
    action     TEXT   COLLATE "C" NOT NULL,
    field      TEXT   COLLATE "C" NOT NULL,
    actor      TEXT   COLLATE "C" NOT NULL,
    request_id TEXT   COLLATE "C" NOT NULL
);

-- The trail of one app, and of one user, in ID order.
CREATE INDEX audit_events_app ON audit_events (sdk_app_id, id);
CREATE INDEX audit_events_user ON audit_events (user_id, id);

-- A super-app temporary code: one use (used_at is set when it is taken),
-- bound to one app, user and kind of value.
CREATE TABLE codes (
    code_hash  BYTEA  NOT NULL, -- SHA-256 of the code; the code itself is never stored
    sdk_app_id BIGINT NOT NULL, -- the user's app; InsertCode checks that they match
    user_id    TEXT   COLLATE "C" NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    field      TEXT   COLLATE "C" NOT NULL CHECK (field IN ('phone', 'email')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,           -- NULL until taken
    CONSTRAINT codes_pkey PRIMARY KEY (code_hash)
);

-- Purging expired codes.
CREATE INDEX codes_expires ON codes (expires_at);

-- Without it, deleting a user would scan every code to cascade.
CREATE INDEX codes_user ON codes (user_id);

-- Failed code attempts counted for a user since their last code was
-- issued. No row means none.
CREATE TABLE code_attempts (
    sdk_app_id BIGINT NOT NULL,
    user_id    TEXT   COLLATE "C" NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    attempts   BIGINT NOT NULL,
    since      BIGINT NOT NULL,
    CONSTRAINT code_attempts_pkey PRIMARY KEY (sdk_app_id, user_id)
);

-- Lets deleting a user cascade without a full scan; the primary key leads
-- with the app.
CREATE INDEX code_attempts_user ON code_attempts (user_id);

-- An access token of the enterprise API, issued to one API key.
CREATE TABLE enterprise_tokens (
    token_hash BYTEA  NOT NULL, -- SHA-256 of the token; the token itself is never stored
    secret_id  TEXT   COLLATE "C" NOT NULL REFERENCES api_keys (secret_id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT enterprise_tokens_pkey PRIMARY KEY (token_hash)
);

CREATE INDEX enterprise_tokens_expires ON enterprise_tokens (expires_at);

-- Lets deleting an API key cascade without a full scan.
CREATE INDEX enterprise_tokens_key ON enterprise_tokens (secret_id);
