-- Migration 10: what SCIM keeps of a user beyond the profile so far.
--
-- external_id is the user's ID in the identity provider that provisions
-- them (SCIM's externalId), stored exactly as sent: NULL when there is
-- none, unique per app when there is one. full_name is SCIM's
-- name.formatted, the user's whole name for display.

ALTER TABLE users ADD COLUMN external_id TEXT;
ALTER TABLE users ADD COLUMN full_name   TEXT NOT NULL DEFAULT '';

CREATE UNIQUE INDEX users_sdk_app_id_external_id_key ON users (sdk_app_id, external_id)
    WHERE external_id IS NOT NULL;
