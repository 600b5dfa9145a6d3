-- Migration 11: users in order of their last change.
--
-- SCIM's filters on meta.lastModified (a provider asking what changed
-- since its last sync) walk an app's users by (updated_at, user_id), a
-- keyset order: each page is a range of this index, whatever the app's
-- size, and never a scan of the table.

CREATE INDEX users_app_updated ON users (sdk_app_id, updated_at, user_id);
