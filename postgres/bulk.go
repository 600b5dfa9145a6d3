package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

// The bulk inserts send one array per column and let unnest turn them
// back into rows: one statement, and one round trip with its savepoint,
// for any number of rows, with a constant text that pgx prepares once per
// connection, and no limit on parameters to chunk around.
const (
	qInsertUsers = `INSERT INTO users (` + sqlstore.UserColumns + `)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
			$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
			$18::bigint[], $19::bytea[], $20::bytea[], $21::bytea[], $22::bytea[], $23::bytea[], $24::text[], $25::text[])`
	// A link's app is the user's, taken from the record the user's row is
	// written from in the same call; the foreign key checks that the user
	// exists.
	qInsertLinks = `INSERT INTO user_links (user_id, sdk_app_id, provider, provider_user_id)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])`
	// The identity hands out IDs in the order rows are inserted, which
	// ORDER BY makes the order given.
	qInsertAudits = `INSERT INTO audit_events (` + sqlstore.AuditInsertColumns + `)
		SELECT at, app, usr, act, fld, who, req, why
		FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
			WITH ORDINALITY AS e (at, app, usr, act, fld, who, req, why, n)
		ORDER BY n RETURNING id`
)

var userWidth = strings.Count(sqlstore.UserColumns, ",") + 1

// InsertUsers stores every user, and then every link, with one statement
// each, in one savepoint. If a statement fails on a constraint or a value
// the users run again one by one, as InsertUser would store them, inside
// an outer savepoint, to name the first user that cannot be stored; its
// failure undoes them all.
func (t *txn) InsertUsers(ctx context.Context, users []*core.UserRecord) error {
	if err := t.beginBatched(ctx); err != nil {
		return err
	}
	if len(users) == 0 {
		return nil
	}
	// One array per column of sqlstore.UserColumns, of the type UserArgs gives its
	// values (last_login_at and the sealed values may be NULL).
	n := len(users)
	cols := make([]any, 0, userWidth)
	for i := range userWidth {
		switch i {
		case 0, 2, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 24:
			cols = append(cols, make([]string, n))
		case 6:
			cols = append(cols, make([]*int64, n))
		case 18, 19, 20, 21, 22:
			cols = append(cols, make([][]byte, n))
		case 23:
			cols = append(cols, make([]*string, n))
		default:
			cols = append(cols, make([]int64, n))
		}
	}
	var lUser, lProv, lID []string
	var lApp []int64
	for r, u := range users {
		args, err := sqlstore.UserArgs(engine, u)
		if err != nil {
			return &core.ItemError{Index: r, Err: err}
		}
		for i, a := range args {
			switch c := cols[i].(type) {
			case []string:
				c[r] = a.(string)
			case []int64:
				c[r] = a.(int64)
			case []*int64:
				if a != nil {
					v := a.(int64)
					c[r] = &v
				}
			case [][]byte:
				if a != nil {
					c[r] = a.([]byte)
				}
			case []*string:
				if a != nil {
					v := a.(string)
					c[r] = &v
				}
			}
		}
		for p, id := range sqlstore.Links(u.ThirdParty) {
			lUser, lApp, lProv, lID = append(lUser, u.ID), append(lApp, int64(u.SdkAppID)), append(lProv, string(p)), append(lID, id)
		}
	}
	steps := []step{{qInsertUsers, cols}}
	if len(lUser) > 0 {
		steps = append(steps, step{qInsertLinks, []any{lUser, lApp, lProv, lID}})
	}
	_, failed, err := t.atomically(ctx, steps...)
	if err == nil {
		return nil
	}
	if failed < 0 || t.lostErr() != nil {
		return t.failWrite(ctx, err, "")
	}
	return t.insertUsersOneByOne(ctx, users)
}

// insertUsersOneByOne stores users with InsertUser each, all or nothing,
// and names the first that fails.
func (t *txn) insertUsersOneByOne(ctx context.Context, users []*core.UserRecord) error {
	if _, err := t.exec(ctx, `SAVEPOINT bulk`); err != nil {
		return err
	}
	for i, u := range users {
		err := t.InsertUser(ctx, u)
		if err == nil {
			continue
		}
		if t.lostErr() != nil {
			return err
		}
		if _, rerr := t.exec(ctx, `ROLLBACK TO SAVEPOINT bulk; RELEASE SAVEPOINT bulk`); rerr != nil {
			return rerr
		}
		return &core.ItemError{Index: i, Err: err}
	}
	_, err := t.exec(ctx, `RELEASE SAVEPOINT bulk`)
	return err
}

// InsertAudits appends the events with one statement, under the audit
// lock InsertAudit takes (see there).
func (t *txn) InsertAudits(ctx context.Context, events []*usercenter.AuditEvent) error {
	if err := t.beginBatched(ctx); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	cols, err := auditColumns(events)
	if err != nil {
		return err
	}
	if t.deferred != nil {
		t.deferred.audits = append(t.deferred.audits, events...)
		return nil
	}
	ids, err := t.insertNumbered(ctx, "audit", len(events), qInsertAudits, cols...)
	if err != nil {
		return err
	}
	for i, e := range events {
		e.ID = ids[i]
	}
	return nil
}

// auditColumns returns the arguments of qInsertAudits for events.
func auditColumns(events []*usercenter.AuditEvent) ([]any, error) {
	n := len(events)
	at, apps := make([]int64, n), make([]int64, n)
	users, actions, fields, actors, reqs, reasons := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range events {
		v, err := sqlstore.EncodeTime(engine, "audit_events.at", e.At)
		if err != nil {
			return nil, err
		}
		at[i], apps[i], users[i], actions[i], fields[i], actors[i], reqs[i] = v, int64(e.SdkAppID), e.UserID, string(e.Action), e.Field, e.Actor, e.RequestID
		reasons[i] = e.Reason
	}
	return []any{at, apps, users, actions, fields, actors, reqs, reasons}, nil
}

// insertNumbered runs an INSERT … RETURNING id of n rows under the audit
// lock (taken in the same round trip unless this transaction holds it)
// and returns their IDs in increasing order, which is the order the rows
// were given in: the lock makes IDs visible in commit order.
func (t *txn) insertNumbered(ctx context.Context, what string, n int, query string, args ...any) ([]int64, error) {
	b := &pgx.Batch{}
	if !t.auditLocked {
		b.Queue(`SELECT pg_advisory_xact_lock_shared($1)`, t.s.keys.audit)
	}
	b.Queue(query, args...)
	br := t.tx.SendBatch(ctx, b)
	var err error
	if !t.auditLocked {
		_, err = br.Exec()
	}
	ids := make([]int64, 0, n)
	if err == nil {
		var rows pgx.Rows
		if rows, err = br.Query(); err == nil {
			ids, err = pgx.AppendRows(ids, rows, pgx.RowTo[int64])
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, t.fail(ctx, err)
	}
	t.auditLocked = true
	t.wrote = true
	if len(ids) != n {
		return nil, t.fail(ctx, fmt.Errorf("postgres: the %s insert returned another number of IDs than it was given rows", what))
	}
	slices.Sort(ids)
	return ids, nil
}
