package sqlite

import (
	"context"
	"strings"

	"usercenter"
)

const auditColumns = `id, at, sdk_app_id, user_id, action, field, actor, request_id`

// InsertAudit appends e and sets e.ID. IDs increase and are never reused,
// even after the newest events are deleted, so a caller's cursor stays
// valid.
func (t *txn) InsertAudit(ctx context.Context, e *usercenter.AuditEvent) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	at, err := encodeTime("audit_events.at", e.At)
	if err != nil {
		return err
	}
	res, err := t.run.exec(ctx, `INSERT INTO audit_events (at, sdk_app_id, user_id, action, field, actor, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		at, int64(e.SdkAppID), e.UserID, string(e.Action), e.Field, e.Actor, e.RequestID)
	if err != nil {
		return t.fail(err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return t.fail(err)
	}
	e.ID = id
	return nil
}

// AuditEvents returns up to f.Limit events, the limit core bounds, matching every non-zero field of f, in ID order. An empty but
// non-nil f.Apps matches no event.
//
// The query has only the conditions f asks for, so that SQLite can pick
// the index that suits them. Which conditions appear, not their values,
// decides the SQL text, so there are a bounded number of texts and each is
// prepared once and reused.
func (r *reader) AuditEvents(ctx context.Context, f usercenter.AuditFilter) ([]usercenter.AuditEvent, error) {
	ctx, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	if f.Apps != nil && len(f.Apps) == 0 {
		return nil, nil
	}
	if len(f.Apps) == 1 && f.Apps[0] != 0 { // a SdkAppID of 0 would match every app
		// As an equality SQLite reads audit_events_app in ID order; as an
		// IN list it would sort every event of the app for each page.
		if f.SdkAppID != 0 && f.SdkAppID != f.Apps[0] {
			return nil, nil
		}
		f.SdkAppID, f.Apps = f.Apps[0], nil
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.Apps != nil {
		add(`sdk_app_id IN (SELECT value FROM json_each(?))`, appList(f.Apps))
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
		add(`at >= ?`, boundTime(f.Since))
	}
	if !f.Until.IsZero() {
		add(`at < ?`, boundTime(f.Until))
	}
	if f.AfterID != 0 {
		add(`id > ?`, f.AfterID)
	}
	args = append(args, f.Limit)

	var q strings.Builder
	q.WriteString(`SELECT ` + auditColumns + ` FROM audit_events`)
	for i, cond := range where {
		if i == 0 {
			q.WriteString(` WHERE `)
		} else {
			q.WriteString(` AND `)
		}
		q.WriteString(cond)
	}
	q.WriteString(` ORDER BY id LIMIT ?`)

	return queryAll(ctx, r, r.run, scanAuditEvent, q.String(), args...)
}

// scanAuditEvent reads a row of auditColumns.
func scanAuditEvent(row scanner) (usercenter.AuditEvent, error) {
	var (
		e       usercenter.AuditEvent
		at, app int64
		action  string
	)
	if err := row.Scan(&e.ID, &at, &app, &e.UserID, &action, &e.Field, &e.Actor, &e.RequestID); err != nil {
		return e, err
	}
	e.At = decodeTime(at)
	e.SdkAppID = uint64(app)
	e.Action = usercenter.AuditAction(action)
	return e, nil
}
