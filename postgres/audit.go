package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"usercenter"
	"usercenter/sqlstore"
)

// InsertAudit appends e and sets e.ID. IDs increase and are never reused,
// even after the newest events are deleted, so a caller's cursor stays
// valid.
//
// A cursor also needs IDs to become visible in order: a reader that saw
// event 11 must never later find an event 10 committed after it, or paging
// with "id > cursor" would skip it. SQLite gets that from its single
// writer. Here concurrent transactions draw IDs from the identity in one
// order and may commit in another. So a transaction takes the schema's
// audit lock, shared, before it draws its first ID, and holds it until it
// ends; AuditEvents takes it exclusively, which waits for every
// transaction that holds an ID it has not committed yet. Writers share the
// lock, so they never wait for each other; only a read of the trail waits
// for them (and, while it waits, holds up new writers of events).
func (t *txn) InsertAudit(ctx context.Context, e *usercenter.AuditEvent) error {
	if err := t.beginBatched(ctx); err != nil {
		return err
	}
	args, err := sqlstore.AuditArgs(engine, e)
	if err != nil {
		return err
	}
	if t.deferred != nil {
		t.deferred.audits = append(t.deferred.audits, e)
		return nil
	}
	b := &pgx.Batch{}
	if !t.auditLocked {
		b.Queue(`SELECT pg_advisory_xact_lock_shared($1)`, t.s.keys.audit)
	}
	b.Queue(`INSERT INTO audit_events (`+sqlstore.AuditInsertColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, args...)
	br := t.tx.SendBatch(ctx, b)
	if !t.auditLocked {
		_, err = br.Exec()
	}
	var id int64
	if err == nil {
		err = br.QueryRow().Scan(&id)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return t.fail(ctx, err)
	}
	t.auditLocked = true
	t.wrote = true
	e.ID = id
	return nil
}

// AuditEvents returns up to f.Limit events, the limit core bounds,
// matching every non-zero field of f, in ID order (descending when
// f.NewestFirst). An empty but non-nil
// f.Apps matches no event. pgx prepares each text of the query
// (sqlstore.AuditWhere) once per connection.
func (r *reader) AuditEvents(ctx context.Context, f usercenter.AuditFilter) ([]usercenter.AuditEvent, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	where, args, none := sqlstore.AuditWhere(f, sqlstore.Dollar, `sdk_app_id = ANY(?)`, sqlstore.Int64s)
	if none {
		return nil, nil
	}
	// SQLite reads a negative LIMIT as no limit; PostgreSQL refuses it but
	// reads NULL so.
	var limit any = f.Limit
	if f.Limit < 0 {
		limit = nil
	}
	args = append(args, limit)
	q := `SELECT ` + sqlstore.AuditColumns + ` FROM audit_events` + where + sqlstore.AuditOrder(f) + ` LIMIT ` + sqlstore.Dollar.Nth(len(args)) + `::bigint`

	if r.tx != nil || !storableArgs(args) {
		// Inside Update the transaction's snapshot is its own, and
		// serializable: waiting for writers could not show it more.
		return sqlstore.All(ctx, (*readEngine)(r), sqlstore.ScanAuditEvent, q, args...)
	}
	// The lock and the query go in one pipeline, so PostgreSQL runs them in
	// one implicit transaction, whose end releases the lock; the query's
	// snapshot is taken once the lock is held.
	var events []usercenter.AuditEvent
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, r.s.keys.audit)
	b.Queue(q, args...).Query(func(rows pgx.Rows) error {
		var err error
		events, err = sqlstore.Collect(rows, sqlstore.ScanAuditEvent)
		return err
	})
	if err := r.s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, r.fail(ctx, err)
	}
	return events, nil
}

// EraseAuditUser turns the events about userID into tombstones (see
// usercenter.ErasedUserID) through audit_events_user. It draws no event
// IDs, so it needs no audit lock.
func (t *txn) EraseAuditUser(ctx context.Context, userID string) (int, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	if !storable(userID) {
		return 0, nil // no event can be about that ID
	}
	n, err := t.exec(ctx, `UPDATE audit_events SET user_id = $1 WHERE user_id = $2`, usercenter.ErasedUserID, userID)
	return int(n), err
}
