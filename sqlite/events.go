package sqlite

import (
	"context"
	"encoding/json"
	"time"

	"usercenter"
	"usercenter/sqlstore"
)

const insertEventsHead = `INSERT INTO events (` + sqlstore.EventInsertColumns + `) VALUES `

var eventWidth = 5

// InsertEvents appends the events with a few multi-row INSERTs, whose rows
// take consecutive IDs in VALUES order (see InsertAudits).
func (t *txn) InsertEvents(ctx context.Context, events []*usercenter.Event) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	args := make([]any, 0, eventWidth*len(events))
	for _, e := range events {
		a, err := sqlstore.EventArgs(engine, e)
		if err != nil {
			return err
		}
		args = append(args, a...)
	}
	err = t.insertRows(ctx, insertEventsHead, eventWidth, args, numbered(func(i int, id int64) { events[i].ID = id }))
	if err != nil {
		return t.fail(err)
	}
	return nil
}

// EventsAfter returns up to limit events of an app after afterID, in ID
// order. The single writer makes IDs visible in order.
func (r *reader) EventsAfter(ctx context.Context, sdkAppID uint64, afterID int64, limit int) ([]usercenter.Event, error) {
	ctx, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	return sqlstore.All(ctx, (*readEngine)(r), sqlstore.ScanEvent,
		`SELECT `+sqlstore.EventColumns+` FROM events WHERE sdk_app_id = ? AND id > ? ORDER BY id LIMIT ?`,
		int64(sdkAppID), afterID, limit)
}

// Events returns up to f.Limit events f selects, in ID order.
func (r *reader) Events(ctx context.Context, f usercenter.EventFilter) ([]usercenter.Event, error) {
	ctx, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	q, args := sqlstore.EventQuery(f, sqlstore.Question, `type IN (SELECT value FROM json_each(?))`, typeList)
	return sqlstore.All(ctx, (*readEngine)(r), sqlstore.ScanEvent, q, args...)
}

// typeList encodes event types as one JSON array for json_each.
func typeList(types []string) any {
	b, _ := json.Marshal(types) // cannot fail for []string
	return string(b)
}

// DeleteOldEvents deletes the oldest events made before a time, up to
// limit (see sqlstore.DeleteOldEvents).
func (t *txn) DeleteOldEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	ctx, err := t.begin(ctx)
	if err != nil {
		return 0, err
	}
	if err := sqlstore.CheckDeleteLimit(limit); err != nil {
		return 0, err
	}
	n, err := t.exec(ctx, sqlstore.DeleteOldEvents(sqlstore.Question), limit, sqlstore.BoundTime(before))
	if err != nil {
		return 0, t.fail(err)
	}
	return int(n), nil
}

// LastEventID returns the greatest ID of the outbox, from the primary key.
func (r *reader) LastEventID(ctx context.Context) (int64, error) {
	ctx, err := r.begin(ctx)
	if err != nil {
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
// the tombstone, through events_app.
func (t *txn) EraseEventsUser(ctx context.Context, sdkAppID uint64, userID string) (int, error) {
	ctx, err := t.begin(ctx)
	if err != nil {
		return 0, err
	}
	n, err := t.exec(ctx, `UPDATE events SET data = json_set(data, '$.userId', ?)
		WHERE sdk_app_id = ? AND json_extract(data, '$.userId') = ?`, usercenter.ErasedUserID, int64(sdkAppID), userID)
	if err != nil {
		return 0, t.fail(err)
	}
	return int(n), nil
}
