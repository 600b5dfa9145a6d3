-- Migration 8: per-app daily user counts, for the console's dashboard,
-- and the reason an operator gave for a disclosure.
--
-- The dashboard must not scan an app's users to count them. user_stats
-- holds, per app and UTC day of creation (Unix days), how many of the
-- app's users were created that day, and how many of them are active and
-- disabled: an app's totals are the sums over its rows. A deleted user
-- leaves the counts of their day, so that the counts follow from the
-- users alone (a data move rebuilds them).
-- Triggers keep it in the transaction of every insert, status change and
-- delete of a user, whichever path (one user, a batch import, an erasure,
-- a data move) writes it. shard spreads concurrent writers of one app and
-- day over several rows in PostgreSQL; SQLite has one writer and always
-- writes shard 0.
CREATE TABLE user_stats (
    sdk_app_id INTEGER NOT NULL,
    day        INTEGER NOT NULL, -- Unix days (UTC) of the users' created_at
    shard      INTEGER NOT NULL,
    created    INTEGER NOT NULL,
    active     INTEGER NOT NULL,
    disabled   INTEGER NOT NULL,
    PRIMARY KEY (sdk_app_id, day, shard)
) STRICT;

INSERT INTO user_stats (sdk_app_id, day, shard, created, active, disabled)
SELECT sdk_app_id, created_at / 86400000000000, 0, count(*),
       sum(CASE WHEN status = 1 THEN 1 ELSE 0 END), sum(CASE WHEN status = 1 THEN 0 ELSE 1 END)
FROM users GROUP BY sdk_app_id, created_at / 86400000000000;

CREATE TRIGGER users_stats_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_stats (sdk_app_id, day, shard, created, active, disabled)
    VALUES (NEW.sdk_app_id, NEW.created_at / 86400000000000, 0, 1,
            CASE WHEN NEW.status = 1 THEN 1 ELSE 0 END, CASE WHEN NEW.status = 1 THEN 0 ELSE 1 END)
    ON CONFLICT (sdk_app_id, day, shard) DO UPDATE SET
        created = created + 1, active = active + excluded.active, disabled = disabled + excluded.disabled;
END;

CREATE TRIGGER users_stats_status AFTER UPDATE OF status ON users
WHEN (OLD.status = 1) IS NOT (NEW.status = 1) BEGIN
    INSERT INTO user_stats (sdk_app_id, day, shard, created, active, disabled)
    VALUES (NEW.sdk_app_id, NEW.created_at / 86400000000000, 0, 0,
            CASE WHEN NEW.status = 1 THEN 1 ELSE -1 END, CASE WHEN NEW.status = 1 THEN -1 ELSE 1 END)
    ON CONFLICT (sdk_app_id, day, shard) DO UPDATE SET
        active = active + excluded.active, disabled = disabled + excluded.disabled;
END;

CREATE TRIGGER users_stats_delete AFTER DELETE ON users BEGIN
    INSERT INTO user_stats (sdk_app_id, day, shard, created, active, disabled)
    VALUES (OLD.sdk_app_id, OLD.created_at / 86400000000000, 0, -1,
            CASE WHEN OLD.status = 1 THEN -1 ELSE 0 END, CASE WHEN OLD.status = 1 THEN 0 ELSE -1 END)
    ON CONFLICT (sdk_app_id, day, shard) DO UPDATE SET
        created = created - 1, active = active + excluded.active, disabled = disabled + excluded.disabled;
END;

-- The reason an operator gave for what an event records (a console
-- disclosure); '' when none was asked for.
ALTER TABLE audit_events ADD COLUMN reason TEXT NOT NULL DEFAULT '';
