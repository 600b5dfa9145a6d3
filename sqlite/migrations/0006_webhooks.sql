-- Migration 6: webhook endpoints and their delivery logs.
--
-- An endpoint receives the events of its app's outbox that its filters
-- select, in ID order: cursor is the last event it is done with. secret
-- is vault ciphertext (the signing key, shown once at creation). The
-- lease (lease_owner until lease_until) names the one node delivering to
-- it; a lease that ends frees it for any node, so a dead node's endpoint
-- is taken over. NULL times mean "never".
CREATE TABLE webhooks (
    id              TEXT    NOT NULL PRIMARY KEY,
    sdk_app_id      INTEGER NOT NULL REFERENCES apps (sdk_app_id),
    url             TEXT    NOT NULL,
    events          TEXT    NOT NULL, -- JSON array of filters
    secret          BLOB    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    cursor          INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    retrying_since  INTEGER,
    next_attempt_at INTEGER,
    failed_at       INTEGER,
    failed_event_id INTEGER NOT NULL,
    lease_owner     TEXT    NOT NULL,
    lease_until     INTEGER
) STRICT;

CREATE INDEX webhooks_app ON webhooks (sdk_app_id, id);

-- What each attempt at a delivery did: no body, sent or received. The
-- dispatcher keeps only the newest entries of each endpoint.
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id  TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id    INTEGER NOT NULL, -- 0: a test event
    event_type  TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status_code INTEGER NOT NULL, -- 0: no answer
    latency_ns  INTEGER NOT NULL,
    result      TEXT    NOT NULL,
    error       TEXT    NOT NULL
) STRICT;

CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
