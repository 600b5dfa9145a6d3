package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

// maxRowsPerInsert bounds the rows of one multi-row INSERT of the bulk
// methods. 64 users are 1,472 parameters, far below SQLite's limit of
// 32,766; beyond a few dozen rows a statement's fixed cost (the
// database/sql call, binding's set-up, opening the statement journal) is
// already spread thin, and a longer VALUES list only costs parsing once.
// A variable so that a benchmark can compare sizes.
var maxRowsPerInsert = 64

// rowsText caches the text of "head (?, …), (?, …)" for each head and
// row count.
var rowsText sync.Map // rowsKey → string

type rowsKey struct {
	head     string
	width, n int
}

func multiRowInsert(head string, width, n int) string {
	k := rowsKey{head: head, width: width, n: n}
	if q, ok := rowsText.Load(k); ok {
		return q.(string)
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	q := head + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
	rowsText.Store(k, q)
	return q
}

// insertRows inserts the rows of args, width values each, with one
// multi-row INSERT (head is "INSERT INTO t (columns) VALUES ") per chunk
// of rows. Chunks are powers of two up to maxRowsPerInsert, so that a
// handful of statement texts per table covers every count, each prepared
// once on the writer's connection and kept. done, if not nil, sees each
// chunk's result and where its rows start.
func (t *txn) insertRows(ctx context.Context, head string, width int, args []any, done func(res sql.Result, from, n int) error) error {
	rows := len(args) / width
	for from := 0; from < rows; {
		n := maxRowsPerInsert
		for n > rows-from {
			n /= 2
		}
		res, err := t.run.exec(ctx, multiRowInsert(head, width, n), args[from*width:(from+n)*width]...)
		if err != nil {
			return err
		}
		if done != nil {
			if err := done(res, from, n); err != nil {
				return err
			}
		}
		from += n
	}
	return nil
}

var userWidth = strings.Count(sqlstore.UserColumns, ",") + 1

var auditWidth = strings.Count(sqlstore.AuditInsertColumns, ",") + 1

const (
	insertUsersHead = `INSERT INTO users (` + sqlstore.UserColumns + `) VALUES `
	// A link's app is the user's, taken from the same record the user's
	// row is written from in the same call; the foreign key checks that
	// the user exists.
	insertLinksHead = `INSERT INTO user_links (user_id, sdk_app_id, provider, provider_user_id) VALUES `
	insertAuditHead = `INSERT INTO audit_events (` + sqlstore.AuditInsertColumns + `) VALUES `
)

// InsertUsers stores every user and link with a few multi-row INSERTs,
// all or nothing (see atomically). If one of them hits a constraint, the
// users go again one by one, as InsertUser would store them, to name the
// first that cannot be stored; the rows of either attempt are undone when
// it fails.
func (t *txn) InsertUsers(ctx context.Context, users []*core.UserRecord) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	args := make([]any, 0, len(users)*userWidth)
	var links []any
	for i, u := range users {
		a, err := sqlstore.UserArgs(engine, u)
		if err != nil {
			return &core.ItemError{Index: i, Err: err}
		}
		args = append(args, a...)
		for p, id := range sqlstore.Links(u.ThirdParty) {
			links = append(links, u.ID, int64(u.SdkAppID), string(p), id)
		}
	}
	err = t.atomically(ctx, func() error {
		if err := t.insertRows(ctx, insertUsersHead, userWidth, args, nil); err != nil {
			return err
		}
		return t.insertRows(ctx, insertLinksHead, 4, links, nil)
	})
	if err == nil {
		return nil
	}
	if errors.As(err, new(*usercenter.Error)) {
		return err // atomically could not undo the attempt, and said so
	}
	if _, unique := uniqueColumns(err); !unique && !isForeignKey(err) {
		return t.fail(err)
	}
	if t.dirty {
		return errSpoiled // the batch runs again with savepoints, where the slow way can undo itself
	}
	return t.atomically(ctx, func() error {
		for i, u := range users {
			if err := t.insertUser(ctx, u, args[i*userWidth:(i+1)*userWidth]); err != nil {
				return &core.ItemError{Index: i, Err: err}
			}
		}
		return nil
	})
}

// InsertAudits appends the events with a few multi-row INSERTs. A
// statement's rows take consecutive IDs in VALUES order (the single writer
// and AUTOINCREMENT see to that), the last of which SQLite reports.
//
// No savepoint: nothing about an event can violate a constraint, and any
// other failure costs the whole transaction anyway.
func (t *txn) InsertAudits(ctx context.Context, events []*usercenter.AuditEvent) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	args := make([]any, 0, auditWidth*len(events))
	for _, e := range events {
		a, err := sqlstore.AuditArgs(engine, e)
		if err != nil {
			return err
		}
		args = append(args, a...)
	}
	err = t.insertRows(ctx, insertAuditHead, auditWidth, args, numbered(func(i int, id int64) { events[i].ID = id }))
	if err != nil {
		return t.fail(err)
	}
	return nil
}

// numbered is insertRows' callback for rows whose IDs SQLite assigns in
// order, one statement at a time: the statement's last ID is its last
// row's, so row from+k of n has last-(n-1-k).
func numbered(set func(i int, id int64)) func(res sql.Result, from, n int) error {
	return func(res sql.Result, from, n int) error {
		last, err := res.LastInsertId()
		if err != nil {
			return err
		}
		for k := range n {
			set(from+k, last-int64(n-1-k))
		}
		return nil
	}
}
