-- Migration 8: externalId and name.formatted, as SQLite's migration 10
-- adds them.
--
-- external_id is the user's ID in the identity provider that provisions
-- them (SCIM's externalId), stored exactly as sent: NULL when there is
-- none, unique per app when there is one. full_name is SCIM's
-- name.formatted, the user's whole name for display.

ALTER TABLE users ADD COLUMN external_id TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN full_name   TEXT COLLATE "C" NOT NULL DEFAULT '';

CREATE UNIQUE INDEX users_sdk_app_id_external_id_key ON users (sdk_app_id, external_id)
    WHERE external_id IS NOT NULL;
