package sqlstore

import (
	"strings"

	"usercenter"
)

// AuditInsertColumns are the columns of audit_events an insert writes, in
// the order of AuditArgs; the store assigns the ID.
const AuditInsertColumns = `at, sdk_app_id, user_id, action, field, actor, request_id, reason`

// AuditArgs returns the values of e's AuditInsertColumns.
func AuditArgs(engine string, e *usercenter.AuditEvent) ([]any, error) {
	ts := rowTimes{engine: engine}
	return ts.row(ts.at("audit_events.at", e.At), int64(e.SdkAppID), e.UserID, string(e.Action), e.Field, e.Actor, e.RequestID, e.Reason)
}

// AuditColumns are the columns of audit_events ScanAuditEvent reads.
const AuditColumns = `id, at, sdk_app_id, user_id, action, field, actor, request_id, reason`

// ScanAuditEvent reads a row of AuditColumns.
func ScanAuditEvent(row Scanner) (usercenter.AuditEvent, error) {
	var (
		e       usercenter.AuditEvent
		at, app int64
		action  string
	)
	if err := row.Scan(&e.ID, &at, &app, &e.UserID, &action, &e.Field, &e.Actor, &e.RequestID, &e.Reason); err != nil {
		return e, err
	}
	e.At = DecodeTime(at)
	e.SdkAppID = uint64(app)
	e.Action = usercenter.AuditAction(action)
	return e, nil
}

// AuditWhere returns the WHERE clause of audit_events that selects the
// events matching every non-zero field of f but Limit (" WHERE …", or ""
// for all), and its arguments, numbered from 1 in p's style. inApps is the
// engine's condition for f.Apps, with one "?" for the list, whose argument
// is apps(f.Apps). none reports that f matches no event, so that there is
// nothing to ask: an empty but non-nil f.Apps, say.
//
// The clause has only the conditions f asks for, so that the database can
// pick the index that suits them. Which conditions appear, not their
// values, decides the text, so there are a bounded number of texts, each
// prepared once and reused.
func AuditWhere[A any](f usercenter.AuditFilter, p Placeholder, inApps string, apps func([]uint64) A) (where string, args []any, none bool) {
	if f.Apps != nil && len(f.Apps) == 0 {
		return "", nil, true
	}
	if len(f.Apps) == 1 && f.Apps[0] != 0 { // a SdkAppID of 0 would match every app
		// As an equality the database reads audit_events_app in ID order;
		// as a list SQLite would sort every event of the app for each page.
		if f.SdkAppID != 0 && f.SdkAppID != f.Apps[0] {
			return "", nil, true
		}
		f.SdkAppID, f.Apps = f.Apps[0], nil
	}
	var b strings.Builder
	add := func(cond string, arg any) {
		args = append(args, arg)
		if len(args) == 1 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		b.WriteString(strings.Replace(cond, "?", p.Nth(len(args)), 1))
	}
	if f.Apps != nil {
		add(inApps, apps(f.Apps))
	}
	if f.SdkAppID != 0 {
		add(`sdk_app_id = ?`, int64(f.SdkAppID))
	}
	if f.UserID != "" {
		add(`user_id = ?`, f.UserID)
	}
	if f.Field != "" {
		add(`field = ?`, f.Field)
	}
	if f.Action != "" {
		add(`action = ?`, string(f.Action))
	}
	if f.Actor != "" {
		add(`actor = ?`, f.Actor)
	}
	if !f.Since.IsZero() {
		add(`at >= ?`, BoundTime(f.Since))
	}
	if !f.Until.IsZero() {
		add(`at < ?`, BoundTime(f.Until))
	}
	if f.AfterID != 0 {
		add(`id > ?`, f.AfterID)
	}
	if f.BeforeID != 0 {
		add(`id < ?`, f.BeforeID)
	}
	return b.String(), args, false
}

// AuditOrder is the ORDER BY of f's events: by ID, newest first when
// f.NewestFirst. The indexes on (…, id) serve either direction.
func AuditOrder(f usercenter.AuditFilter) string {
	if f.NewestFirst {
		return ` ORDER BY id DESC`
	}
	return ` ORDER BY id`
}
