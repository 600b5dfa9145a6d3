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
	args, err := sqlstore.AuditArgs(engine, e)
	if err != nil {
		return err
	}
	res, err := t.run.exec(ctx, `INSERT INTO audit_events (`+sqlstore.AuditInsertColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, args...)
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
// matching every non-zero field of f, in ID order (descending when
// f.NewestFirst). An empty but non-nil
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
	return sqlstore.All(ctx, (*readEngine)(r), sqlstore.ScanAuditEvent, `SELECT `+sqlstore.AuditColumns+` FROM audit_events`+where+sqlstore.AuditOrder(f)+` LIMIT ?`,
		append(args, f.Limit)...)
}

// EraseAuditUser turns the events about userID into tombstones (see
// usercenter.ErasedUserID) through audit_events_user.
func (t *txn) EraseAuditUser(ctx context.Context, userID string) (int, error) {
	ctx, err := t.begin(ctx)
	if err != nil {
		return 0, err
	}
	n, err := t.exec(ctx, `UPDATE audit_events SET user_id = ? WHERE user_id = ?`, usercenter.ErasedUserID, userID)
	if err != nil {
		return 0, t.fail(err)
	}
	return int(n), nil
}
