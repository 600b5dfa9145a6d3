package sqlstore

import (
	"encoding/json"
	"fmt"
	"strings"

	"usercenter"
)

// EventInsertColumns are the columns of events an insert writes, in the
// order of EventArgs; the store assigns the ID.
const EventInsertColumns = `type, sdk_app_id, at, actor, data`

// EventArgs returns the values of e's EventInsertColumns; data is JSON text.
func EventArgs(engine string, e *usercenter.Event) ([]any, error) {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return nil, fmt.Errorf("%s: event data: %w", engine, err)
	}
	ts := rowTimes{engine: engine}
	return ts.row(string(e.Type), int64(e.SdkAppID), ts.at("events.at", e.At), e.Actor, string(data))
}

// EventColumns are the columns of events ScanEvent reads.
const EventColumns = `id, type, sdk_app_id, at, actor, data`

// ScanEvent reads a row of EventColumns.
func ScanEvent(row Scanner) (usercenter.Event, error) {
	var (
		e         usercenter.Event
		typ, data string
		app, at   int64
	)
	if err := row.Scan(&e.ID, &typ, &app, &at, &e.Actor, &data); err != nil {
		return e, err
	}
	if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
		return e, fmt.Errorf("event %d: data: %w", e.ID, err)
	}
	e.Type = usercenter.EventType(typ)
	e.SdkAppID = uint64(app)
	e.At = DecodeTime(at)
	return e, nil
}

// EventQuery returns the query of the events f selects, in ID order, and
// its arguments, numbered from 1 in p's style. inTypes is the engine's
// condition for f.Types, with one "?" for the list, whose argument is
// types(f.Types). The limit is the last argument, as given.
//
// An app's events are read through events_app, every app's through the
// primary key; either way from the cursor on, in ID order.
func EventQuery[A any](f usercenter.EventFilter, p Placeholder, inTypes string, types func([]string) A) (string, []any) {
	var (
		b    strings.Builder
		args []any
	)
	add := func(cond string, arg any) {
		args = append(args, arg)
		if len(args) == 1 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		b.WriteString(strings.Replace(cond, "?", p.Nth(len(args)), 1))
	}
	if !f.EveryApp {
		add(`sdk_app_id = ?`, int64(f.SdkAppID))
	}
	add(`id > ?`, f.AfterID)
	if len(f.Types) > 0 {
		names := make([]string, len(f.Types))
		for i, t := range f.Types {
			names[i] = string(t)
		}
		add(inTypes, types(names))
	}
	args = append(args, f.Limit)
	return `SELECT ` + EventColumns + ` FROM events` + b.String() + ` ORDER BY id LIMIT ` + p.Nth(len(args)), args
}

// DeleteOldEvents is the statement that deletes, in ID order, up to a
// limit of the oldest events that come before the first event at or after
// a cutoff. Its arguments, in p's style, are the limit and the cutoff
// (BoundTime).
//
// It reads the primary key from its start and stops at the first event
// young enough to keep, so it reads no more than it deletes, and needs no
// index on the time. Because IDs follow commit order, not the time an
// event was made, an event a little older than one before it may outlive
// the cutoff until a later purge; none younger is ever deleted, and what
// stays is always every event after some ID: a purge never deletes an
// event behind one it keeps.
func DeleteOldEvents(p Placeholder) string {
	return `WITH oldest AS (SELECT id, at FROM events ORDER BY id LIMIT ` + p.Nth(1) + `)
	DELETE FROM events WHERE id < COALESCE(
		(SELECT min(id) FROM oldest WHERE at >= ` + p.Nth(2) + `),
		(SELECT max(id) + 1 FROM oldest))`
}

// CheckDeleteLimit refuses a negative number of events to delete
// (DeleteOldEvents), which SQLite would read as no limit at all.
func CheckDeleteLimit(limit int) error {
	if limit < 0 {
		return misuse("the number of events to delete must not be negative")
	}
	return nil
}
