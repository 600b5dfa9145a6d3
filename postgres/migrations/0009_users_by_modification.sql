-- Migration 9: users in order of their last change, as SQLite's
-- migration 11 adds it.
--
-- SCIM's filters on meta.lastModified walk an app's users by
-- (updated_at, user_id), a keyset order: each page is a range of this
-- index, whatever the app's size, and never a scan of the table.

CREATE INDEX users_app_updated ON users (sdk_app_id, updated_at, user_id);
