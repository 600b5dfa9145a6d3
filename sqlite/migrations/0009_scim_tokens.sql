-- Migration 9: SCIM tokens.
--
-- A bearer token with which an identity provider provisions one app's
-- users over SCIM 2.0. Only the SHA-256 of the token is stored; requests
-- find their token by it. Revoked tokens stay, with revoked_at set, so
-- that the list shows them and the audit trail's "scim:<token_id>" actors
-- keep a name.

CREATE TABLE scim_tokens (
    token_id    TEXT    PRIMARY KEY,
    token_hash  BLOB    NOT NULL UNIQUE, -- SHA-256 of the token; the token itself is never stored
    sdk_app_id  INTEGER NOT NULL REFERENCES apps (sdk_app_id),
    permissions TEXT    NOT NULL, -- comma-separated, e.g. 'users.read,users.write'
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;

-- Lists an app's tokens in creation order, and lets SQLite check the
-- foreign key without a full scan when an app changes.
CREATE INDEX scim_tokens_app ON scim_tokens (sdk_app_id, created_at, token_id);
