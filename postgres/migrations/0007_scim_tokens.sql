-- Migration 7: SCIM tokens, as SQLite's migration 9 adds them.
--
-- A bearer token with which an identity provider provisions one app's
-- users over SCIM 2.0. Only the SHA-256 of the token is stored; requests
-- find their token by it. Revoked tokens stay, with revoked_at set.

CREATE TABLE scim_tokens (
    token_id    TEXT   COLLATE "C" NOT NULL,
    token_hash  BYTEA  NOT NULL, -- SHA-256 of the token; the token itself is never stored
    sdk_app_id  BIGINT NOT NULL REFERENCES apps (sdk_app_id),
    permissions TEXT   COLLATE "C" NOT NULL, -- comma-separated, e.g. 'users.read,users.write'
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    CONSTRAINT scim_tokens_pkey PRIMARY KEY (token_id),
    CONSTRAINT scim_tokens_token_hash_key UNIQUE (token_hash)
);

CREATE INDEX scim_tokens_app ON scim_tokens (sdk_app_id, created_at, token_id);
