package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"usercenter"
)

const auditColumns = `id, at, sdk_app_id, user_id, action, field, actor, request_id`

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
	if err := t.begin(ctx); err != nil {
		return err
	}
	at, err := encodeTime("audit_events.at", e.At)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	if !t.auditLocked {
		b.Queue(`SELECT pg_advisory_xact_lock_shared($1)`, t.s.keys.audit)
	}
	b.Queue(`INSERT INTO audit_events (at, sdk_app_id, user_id, action, field, actor, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		at, int64(e.SdkAppID), e.UserID, string(e.Action), e.Field, e.Actor, e.RequestID)
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
	e.ID = id
	return nil
}

// AuditEvents returns up to f.Limit events, the limit core bounds,
// matching every non-zero field of f, in ID order. An empty but non-nil
// f.Apps matches no event.
//
// The query has only the conditions f asks for, so that the planner can
// pick the index that suits them. Which conditions appear, not their
// values, decides the SQL text, so there are a bounded number of texts
// and pgx prepares each once per connection.
func (r *reader) AuditEvents(ctx context.Context, f usercenter.AuditFilter) ([]usercenter.AuditEvent, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	if f.Apps != nil && len(f.Apps) == 0 {
		return nil, nil
	}
	if len(f.Apps) == 1 && f.Apps[0] != 0 { // a SdkAppID of 0 would match every app
		// As an equality the planner reads audit_events_app in ID order.
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
		args = append(args, arg)
		where = append(where, strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1))
	}
	if f.Apps != nil {
		add(`sdk_app_id = ANY(?)`, int64s(f.Apps))
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
	// SQLite reads a negative LIMIT as no limit; PostgreSQL refuses it but
	// reads NULL so.
	var limit any = f.Limit
	if f.Limit < 0 {
		limit = nil
	}
	args = append(args, limit)

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
	q.WriteString(` ORDER BY id LIMIT $` + strconv.Itoa(len(args)) + `::bigint`)

	if r.tx != nil || !storableArgs(args) {
		// Inside Update the transaction's snapshot is its own, and
		// serializable: waiting for writers could not show it more.
		return queryAll(ctx, r, scanAuditEvent, q.String(), args...)
	}
	// The lock and the query go in one pipeline, so PostgreSQL runs them in
	// one implicit transaction, whose end releases the lock; the query's
	// snapshot is taken once the lock is held.
	var events []usercenter.AuditEvent
	b := &pgx.Batch{}
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, r.s.keys.audit)
	b.Queue(q.String(), args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			e, err := scanAuditEvent(rows)
			if err != nil {
				return err
			}
			events = append(events, e)
		}
		return rows.Err()
	})
	if err := r.s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, r.fail(ctx, err)
	}
	return events, nil
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
