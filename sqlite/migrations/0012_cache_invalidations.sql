-- Migration 12: the caches' invalidation log.
--
-- SQLite cannot push, so every write transaction that changes what a
-- server may have cached (a key revoked, a user updated or deleted,
-- tokens revoked...) appends the caches' message here, in the same
-- transaction, and serve polls the table by seq (storecache.PollLog):
-- a CLI command writing the file while serve runs is heard within a
-- poll. Inserts (a registration) append nothing. Only the newest rows
-- are kept (sqlite.logKeep); a server whose last seen row was pruned
-- drops its whole cache.
--
-- AUTOINCREMENT: a seq is never handed out twice, even once the rows
-- above it were pruned, so a poller's "after seq" never skips one.

CREATE TABLE cache_invalidations (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    message TEXT NOT NULL
);
