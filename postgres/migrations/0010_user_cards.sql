-- Migration 10: an app's users' cards in one index, as SQLite's
-- migration 13 has them.
--
-- users_app_user (sdk_app_id, user_id), the index UsersAfter pages by,
-- becomes users_app_card, the same key then the card's columns: the
-- schema stays the same on both engines, and a registration writes as
-- many indexes as before. PostgreSQL's UserCardInApp still reads by the
-- primary key (see reads.UserCardInApp): an index-only scan needs pages
-- the visibility map marks all-visible, which a table taking
-- registrations has only between vacuums, and would save a heap page
-- against a round trip of tens of µs.

DROP INDEX users_app_user;
CREATE INDEX users_app_card ON users (sdk_app_id, user_id, origin_id, status, nickname, avatar);
