-- Migration 6: per-app daily user counts and the reason of an audit
-- event, as SQLite's migration 8 (see there).
--
-- Every writer of users updates a counter row of its app and day in its
-- transaction; at SERIALIZABLE isolation two concurrent writers of one row
-- conflict and one of them runs again. The trigger gives each database
-- session its own row of the app and day (the shard, its backend's PID
-- modulo 64): concurrent transactions run in different sessions, so
-- concurrent registrations of one app rarely meet on a row. A reader sums
-- the shards.
CREATE TABLE user_stats (
    sdk_app_id BIGINT NOT NULL,
    day        BIGINT NOT NULL, -- Unix days (UTC) of the users' created_at
    shard      BIGINT NOT NULL,
    created    BIGINT NOT NULL,
    active     BIGINT NOT NULL,
    disabled   BIGINT NOT NULL,
    CONSTRAINT user_stats_pkey PRIMARY KEY (sdk_app_id, day, shard)
);

INSERT INTO user_stats (sdk_app_id, day, shard, created, active, disabled)
SELECT sdk_app_id, created_at / 86400000000000, 0, count(*),
       count(*) FILTER (WHERE status = 1), count(*) FILTER (WHERE status <> 1)
FROM users GROUP BY sdk_app_id, created_at / 86400000000000;

CREATE FUNCTION user_stats_add(app BIGINT, created_at BIGINT, n_created BIGINT, n_active BIGINT, n_disabled BIGINT)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO user_stats AS s (sdk_app_id, day, shard, created, active, disabled)
    VALUES (app, created_at / 86400000000000, pg_backend_pid() % 64, n_created, n_active, n_disabled)
    ON CONFLICT (sdk_app_id, day, shard) DO UPDATE SET
        created = s.created + excluded.created, active = s.active + excluded.active, disabled = s.disabled + excluded.disabled
$$;

CREATE FUNCTION users_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM user_stats_add(NEW.sdk_app_id, NEW.created_at, 1,
            CASE WHEN NEW.status = 1 THEN 1 ELSE 0 END, CASE WHEN NEW.status = 1 THEN 0 ELSE 1 END);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM user_stats_add(OLD.sdk_app_id, OLD.created_at, -1,
            CASE WHEN OLD.status = 1 THEN -1 ELSE 0 END, CASE WHEN OLD.status = 1 THEN 0 ELSE -1 END);
    ELSIF (OLD.status = 1) IS DISTINCT FROM (NEW.status = 1) THEN
        PERFORM user_stats_add(NEW.sdk_app_id, NEW.created_at, 0,
            CASE WHEN NEW.status = 1 THEN 1 ELSE -1 END, CASE WHEN NEW.status = 1 THEN -1 ELSE 1 END);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_stats AFTER INSERT OR DELETE OR UPDATE OF status ON users
    FOR EACH ROW EXECUTE FUNCTION users_stats();

ALTER TABLE audit_events ADD COLUMN reason TEXT COLLATE "C" NOT NULL DEFAULT '';
