package sqlite

import (
	"context"

	"usercenter"
	"usercenter/sqlstore"
)

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

// AuditEvents returns up to f.Limit events, the limit core bounds,
// matching every non-zero field of f, in ID order. An empty but non-nil
// f.Apps matches no event.
func (r *reader) AuditEvents(ctx context.Context, f usercenter.AuditFilter) ([]usercenter.AuditEvent, error) {
	ctx, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	where, args, none := sqlstore.AuditWhere(f, sqlstore.Question, `sdk_app_id IN (SELECT value FROM json_each(?))`, appList)
	if none {
		return nil, nil
	}
	return queryAll(ctx, r, r.run, scanAuditEvent, `SELECT `+sqlstore.AuditColumns+` FROM audit_events`+where+` ORDER BY id LIMIT ?`,
		append(args, f.Limit)...)
}

// scanAuditEvent is sqlstore's for queryAll, which takes this package's
// scanner.
func scanAuditEvent(row scanner) (usercenter.AuditEvent, error) { return sqlstore.ScanAuditEvent(row) }
