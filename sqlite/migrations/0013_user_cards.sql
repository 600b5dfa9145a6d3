-- Migration 13: an app's users' cards in one B-tree.
--
-- A card (core.UserCard: what DescribeUser and the super-app's nick,
-- avatar and checkUser answers show) read through the primary key is two
-- descents, the key's index to the rowid then the table, each missing the
-- page cache on most reads of a large user base. users_app_user, the
-- index UsersAfter pages by, becomes users_app_card: the same key, then
-- the card's columns, so that a read of one app's user by UserId
-- (UserCardInApp, which names it with INDEXED BY: the planner would pick
-- the primary key's unique index) is one descent and never touches the
-- table. Widening an index every registration writes anyway costs it a
-- few bytes an entry, where a sixth index on users cost it about 5% of
-- the store's CPU and 11% more bytes written (BenchmarkRegister;
-- docs/performance.md).

DROP INDEX users_app_user;
CREATE INDEX users_app_card ON users (sdk_app_id, user_id, origin_id, status, nickname, avatar);
