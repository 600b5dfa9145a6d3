-- Migration 2: user profiles, third-party links, audit events, and each
-- app's phone region.
--
-- Every new column has a default, so rows written by migration 1's code
-- stay valid and read back as an app in region CN and a user with an empty
-- profile.
--
-- Phone, email and address are personal data. Only vault ciphertext
-- (*_enc) and HMAC blind indexes (*_idx) of them are stored, never the
-- plain values, and NULL (not an empty blob) means the user has none, so
-- that lookups and rotation can skip such users with IS NOT NULL.

ALTER TABLE apps ADD COLUMN phone_region TEXT NOT NULL DEFAULT 'CN';

ALTER TABLE users ADD COLUMN phone_enc   BLOB;
ALTER TABLE users ADD COLUMN phone_idx   BLOB;
ALTER TABLE users ADD COLUMN email_enc   BLOB;
ALTER TABLE users ADD COLUMN email_idx   BLOB;
ALTER TABLE users ADD COLUMN address_enc BLOB;
ALTER TABLE users ADD COLUMN city        TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN province    TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN nationality TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN lang        TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN timezone    TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN sex         TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN signature   TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN remark      TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN logon_mode  INTEGER NOT NULL DEFAULT 0;

-- Exact lookups by blind index. Partial, because most users have no phone
-- or no email and those rows would only bloat the index. user_id comes
-- last so the index also yields the matches in UserId order; without it
-- SQLite prefers walking users_app_user in that order over sorting the
-- few matches, which reads every user of the app.
CREATE INDEX users_app_phone ON users (sdk_app_id, phone_idx, user_id) WHERE phone_idx IS NOT NULL;
CREATE INDEX users_app_email ON users (sdk_app_id, email_idx, user_id) WHERE email_idx IS NOT NULL;

-- UsersAfter walks one app's users in UserId order (keyset pagination);
-- without this it would sort the whole app for every page.
CREATE INDEX users_app_user ON users (sdk_app_id, user_id);

-- A user's IDs at third-party providers, one row per provider, so that a
-- new provider needs no schema change. The primary key makes a provider
-- account belong to at most one user of an app; the same account may be
-- linked in several apps.
CREATE TABLE user_links (
    user_id          TEXT    NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    sdk_app_id       INTEGER NOT NULL, -- the user's app, copied so the key can scope by app
    provider         TEXT    NOT NULL,
    provider_user_id TEXT    NOT NULL,
    PRIMARY KEY (sdk_app_id, provider, provider_user_id),
    -- Also the index that loads a user's links and lets deleting a user
    -- cascade without a full scan.
    UNIQUE (user_id, provider)
) STRICT, WITHOUT ROWID;

-- Disclosures of personal data and changes to users. user_id has no
-- foreign key on purpose: the trail of a deleted user must outlive it.
-- AUTOINCREMENT so that an ID is never handed out twice, even after the
-- newest events are deleted: callers page with "id > cursor".
CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    sdk_app_id INTEGER NOT NULL,
    user_id    TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    field      TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    request_id TEXT    NOT NULL
) STRICT;

-- The trail of one app, and of one user, in ID order.
CREATE INDEX audit_events_app ON audit_events (sdk_app_id, id);
CREATE INDEX audit_events_user ON audit_events (user_id, id);
