-- Migration 5: the outbox of events, and audit events that concern no
-- user (administrative changes: their user_id is '').
--
-- Each event is written in the transaction of the change it announces, so
-- an event exists if and only if its change committed. AUTOINCREMENT so
-- that an ID is never handed out twice: readers page with "id > cursor".
-- data is JSON (usercenter.EventData): IDs and names of fields, never
-- values.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    type       TEXT    NOT NULL,
    sdk_app_id INTEGER NOT NULL, -- 0: the whole instance
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    data       TEXT    NOT NULL
) STRICT;

-- The outbox of one app, in ID order.
CREATE INDEX events_app ON events (sdk_app_id, id);
