package sqlstore

import (
	"encoding/json"
	"fmt"

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
