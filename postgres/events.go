package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"usercenter"
	"usercenter/sqlstore"
)

const qInsertEvents = `INSERT INTO events (` + sqlstore.EventInsertColumns + `)
	SELECT typ, app, at, who, dat
	FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[])
		WITH ORDINALITY AS e (typ, app, at, who, dat, n)
	ORDER BY n RETURNING id`

// InsertEvents appends the events with one statement, under the audit
// lock, which orders the outbox's IDs by commit as it orders the audit
// trail's (see InsertAudit): EventsAfter's readers page by ID.
func (t *txn) InsertEvents(ctx context.Context, events []*usercenter.Event) error {
	if err := t.beginBatched(ctx); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	cols, err := eventColumns(events)
	if err != nil {
		return err
	}
	if t.deferred != nil {
		t.deferred.events = append(t.deferred.events, events...)
		return nil
	}
	ids, err := t.insertNumbered(ctx, "event", len(events), qInsertEvents, cols...)
	if err != nil {
		return err
	}
	for i, e := range events {
		e.ID = ids[i]
	}
	return nil
}

// eventColumns returns the arguments of qInsertEvents for events.
func eventColumns(events []*usercenter.Event) ([]any, error) {
	n := len(events)
	types, actors, data := make([]string, n), make([]string, n), make([]string, n)
	apps, at := make([]int64, n), make([]int64, n)
	for i, e := range events {
		a, err := sqlstore.EventArgs(engine, e)
		if err != nil {
			return nil, err
		}
		types[i], apps[i], at[i], actors[i], data[i] = a[0].(string), a[1].(int64), a[2].(int64), a[3].(string), a[4].(string)
	}
	return []any{types, apps, at, actors, data}, nil
}

// EventsAfter returns up to limit events of an app after afterID, in ID
// order. Outside a transaction it takes the audit lock exclusively, as
// AuditEvents does, so that no event with a smaller ID can commit after
// the read.
func (r *reader) EventsAfter(ctx context.Context, sdkAppID uint64, afterID int64, limit int) ([]usercenter.Event, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	const q = `SELECT ` + sqlstore.EventColumns + ` FROM events WHERE sdk_app_id = $1 AND id > $2 ORDER BY id LIMIT $3::bigint`
	var lim any = limit
	if limit < 0 {
		lim = nil
	}
	args := []any{int64(sdkAppID), afterID, lim}
	if r.tx != nil {
		return sqlstore.All(ctx, (*readEngine)(r), sqlstore.ScanEvent, q, args...)
	}
	var events []usercenter.Event
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, r.s.keys.audit)
	b.Queue(q, args...).Query(func(rows pgx.Rows) error {
		var err error
		events, err = sqlstore.Collect(rows, sqlstore.ScanEvent)
		return err
	})
	if err := r.s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, r.fail(ctx, err)
	}
	return events, nil
}

// Events returns up to f.Limit events f selects, in ID order, under the
// audit lock outside a transaction, as EventsAfter.
func (r *reader) Events(ctx context.Context, f usercenter.EventFilter) ([]usercenter.Event, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	q, args := sqlstore.EventQuery(f, sqlstore.Dollar, `type = ANY(?)`, func(types []string) []string { return types })
	if r.tx != nil || !storableArgs(args) {
		return sqlstore.All(ctx, (*readEngine)(r), sqlstore.ScanEvent, q, args...)
	}
	var events []usercenter.Event
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, r.s.keys.audit)
	b.Queue(q, args...).Query(func(rows pgx.Rows) error {
		var err error
		events, err = sqlstore.Collect(rows, sqlstore.ScanEvent)
		return err
	})
	if err := r.s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, r.fail(ctx, err)
	}
	return events, nil
}

// DeleteOldEvents deletes the oldest events made before a time, up to
// limit (see sqlstore.DeleteOldEvents). It draws no event IDs, so it needs
// no audit lock: what it deletes committed long ago.
func (t *txn) DeleteOldEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	if err := sqlstore.CheckDeleteLimit(limit); err != nil {
		return 0, err
	}
	n, err := t.exec(ctx, sqlstore.DeleteOldEvents(sqlstore.Dollar), limit, sqlstore.BoundTime(before))
	return int(n), err
}

// LastEventID returns the greatest ID of the outbox, from the primary key.
// It needs no audit lock: an event not yet committed drew its ID under
// the lock after every committed one, so it is greater than this anyway.
func (r *reader) LastEventID(ctx context.Context) (int64, error) {
	if err := r.begin(ctx); err != nil {
		return 0, err
	}
	ids, err := sqlstore.All(ctx, (*readEngine)(r), scanID, `SELECT COALESCE(max(id), 0) FROM events`)
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

func scanID(row sqlstore.Scanner) (int64, error) {
	var id int64
	err := row.Scan(&id)
	return id, err
}

// EraseEventsUser turns the userId of the app's events about userID into
// the tombstone, through events_app. It draws no event IDs, so it needs
// no audit lock.
func (t *txn) EraseEventsUser(ctx context.Context, sdkAppID uint64, userID string) (int, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	if !storable(userID) {
		return 0, nil // no event can be about that ID
	}
	n, err := t.exec(ctx, `UPDATE events SET data = jsonb_set(data::jsonb, '{userId}', to_jsonb($1::text))::text
		WHERE sdk_app_id = $2 AND data::jsonb ->> 'userId' = $3`, usercenter.ErasedUserID, int64(sdkAppID), userID)
	return int(n), err
}
