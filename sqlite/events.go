package sqlite

import (
	"context"

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
