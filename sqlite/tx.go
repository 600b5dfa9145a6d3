package sqlite

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/sqlstore"
)

// txn is the core.Tx handed to an Update's fn. It writes, and reads,
// through the writer's transaction.
type txn struct {
	reader
	sqlstore.ConsoleTx // the console's writes (see bindConsole)

	finished atomic.Bool // fn has returned; the Tx must not be used again

	// unjournaled: fn runs without a savepoint of its own (see
	// Store.commitUnjournaled). writes counts the statements it ran that
	// may have changed the database; dirty says that a method failed
	// after writing, which only a rollback of the whole transaction can
	// undo. Only the writer goroutine touches them.
	unjournaled bool
	writes      int64
	dirty       bool

	mu   sync.Mutex
	lost error // an error after which SQLite may have rolled back the transaction
}

// errSpoiled fails the calls of an fn whose unjournaled run is already
// spoiled: the writer throws that run away and runs it again.
var errSpoiled = usercenter.Internal(errors.New("sqlite: this run of the Update is undone and will run again"))

var _ core.Tx = (*txn)(nil)

// begin checks that the Tx may still be used and returns the context to
// run its statements with. That is never the caller's ctx: its end would
// interrupt the shared connection and roll back every Update in the batch
// (see Store.wexec). A canceled ctx instead fails the call up front.
func (t *txn) begin(ctx context.Context) (context.Context, error) {
	if t.finished.Load() {
		return nil, usercenter.Internal(errors.New("sqlite: Tx used after its Update returned"))
	}
	if err := t.lostErr(); err != nil {
		return nil, unexpected(err)
	}
	if t.dirty {
		return nil, errSpoiled
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.Background(), nil
}

// fail maps an unexpected error, noting whether it cost the transaction.
func (t *txn) fail(err error) error {
	if losesTx(err) {
		t.mu.Lock()
		if t.lost == nil {
			t.lost = err
		}
		t.mu.Unlock()
	}
	return unexpected(err)
}

func (t *txn) lostErr() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lost
}

// failWrite maps the error of a statement that writes: a constraint
// violation as sqlstore.WriteError does (parent, if not "", names the
// resource a foreign key refers to), anything else as fail.
func (t *txn) failWrite(err error, parent string) error {
	if e := sqlstore.WriteError(err, violation(err), uniqueFields, parent); e != nil {
		return e
	}
	return t.fail(err)
}

// exec runs one statement and returns how many rows it changed.
func (t *txn) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.run.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// execFound runs a statement that must change a row: one that updates or
// deletes the row of an ID, or inserts what it selects from the row of
// one. Changing none means that row does not exist: NotFound (resource).
// Errors are mapped by failWrite.
func (t *txn) execFound(ctx context.Context, resource, query string, args ...any) error {
	n, err := t.exec(ctx, query, args...)
	if err != nil {
		return t.failWrite(err, "")
	}
	if n == 0 {
		return usercenter.NotFound(resource)
	}
	return nil
}

// deleteExpired runs stmt, a DELETE of the rows that expire before its one
// parameter, with now, and returns how many it removed.
func (t *txn) deleteExpired(ctx context.Context, stmt string, now time.Time) (int, error) {
	ctx, err := t.begin(ctx)
	if err != nil {
		return 0, err
	}
	cutoff, err := sqlstore.EncodeTime(engine, "now", now)
	if err != nil {
		return 0, err
	}
	n, err := t.exec(ctx, stmt, cutoff)
	if err != nil {
		return 0, t.fail(err)
	}
	return int(n), nil
}

// atomically runs f inside a nested savepoint, so that a method made of
// several statements leaves nothing behind when it fails, even if fn
// ignores the error and carries on.
//
// Unjournaled, there is no savepoint to go back to: a failure after f
// wrote marks the run dirty, and the writer rolls the transaction back
// and runs the batch again with savepoints. A failure before f wrote
// anything (the usual conflict, found by the first statement) needs no
// undoing.
func (t *txn) atomically(ctx context.Context, f func() error) error {
	if t.unjournaled {
		n := t.writes
		err := f()
		if err != nil && t.writes != n {
			t.dirty = true
		}
		return err
	}
	if _, err := t.exec(ctx, "SAVEPOINT method"); err != nil {
		return t.fail(err)
	}
	err := f()
	if err != nil {
		if _, rerr := t.exec(ctx, "ROLLBACK TO method"); rerr != nil {
			return t.fail(rerr)
		}
	}
	if _, rerr := t.exec(ctx, "RELEASE method"); rerr != nil {
		return t.fail(rerr)
	}
	return err
}

var appPlaceholders = sqlstore.Question.List(1, strings.Count(sqlstore.AppColumns, ",")+1)

func (t *txn) InsertApp(ctx context.Context, app *core.AppRecord) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	args, err := sqlstore.AppArgs(engine, app, true)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `INSERT INTO apps (`+sqlstore.AppColumns+`) VALUES (`+appPlaceholders+`)`, args...); err != nil {
		return t.failWrite(err, "")
	}
	return nil
}

// UpdateApp writes every column of the app but sdk_app_id, user_domain and
// created_at, with the defaults of InsertApp; app.SdkAppID finds it.
func (t *txn) UpdateApp(ctx context.Context, app *core.AppRecord) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	args, err := sqlstore.AppUpdateArgs(engine, app)
	if err != nil {
		return err
	}
	return t.execFound(ctx, usercenter.ResourceApp, `UPDATE apps SET name = ?, status = ?, rate_limit = ?, token_ttl_seconds = ?,
		superapp_secret = ?, phone_region = ?, superapp_cipher = ?, code_ttl_seconds = ?
		WHERE sdk_app_id = ?`, args...)
}

// InsertKey stores the key and its apps; it fails with NotFound (app) if
// one of key.Apps does not exist, and then stores nothing.
func (t *txn) InsertKey(ctx context.Context, key *core.KeyRecord) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	args, err := sqlstore.KeyArgs(engine, key)
	if err != nil {
		return err
	}
	return t.atomically(ctx, func() error {
		_, err := t.exec(ctx, `INSERT INTO api_keys (`+sqlstore.KeyColumns+`) VALUES (?, ?, ?, ?, ?, ?)`, args...)
		if err != nil {
			return t.failWrite(err, "")
		}
		for _, app := range key.Apps {
			// OR IGNORE: an app listed twice is still one scope.
			_, err := t.exec(ctx, `INSERT OR IGNORE INTO api_key_apps (secret_id, sdk_app_id) VALUES (?, ?)`,
				key.SecretID, int64(app))
			if err != nil {
				return t.failWrite(err, usercenter.ResourceApp)
			}
		}
		return nil
	})
}

// RevokeKey sets the key's RevokedAt; a zero at clears it.
func (t *txn) RevokeKey(ctx context.Context, secretID string, at time.Time) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	revokedAt, err := sqlstore.EncodeNullTime(engine, "api_keys.revoked_at", at)
	if err != nil {
		return err
	}
	return t.execFound(ctx, usercenter.ResourceKey, `UPDATE api_keys SET revoked_at = ? WHERE secret_id = ?`, revokedAt, secretID)
}

// InsertToken stores t; it fails with NotFound (user) if the token's user
// does not exist.
func (t *txn) InsertToken(ctx context.Context, tok *core.Token) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	args, err := sqlstore.TokenArgs(engine, tok)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO tokens (`+sqlstore.TokenColumns+`) VALUES (?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return t.failWrite(err, usercenter.ResourceUser)
	}
	return nil
}

// DeleteUserTokens removes a user's tokens through tokens_user.
func (t *txn) DeleteUserTokens(ctx context.Context, userID string) (int, error) {
	ctx, err := t.begin(ctx)
	if err != nil {
		return 0, err
	}
	n, err := t.exec(ctx, `DELETE FROM tokens WHERE user_id = ?`, userID)
	if err != nil {
		return 0, t.fail(err)
	}
	return int(n), nil
}

// DeleteExpiredTokens removes the tokens whose ExpiresAt is before now.
func (t *txn) DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	return t.deleteExpired(ctx, `DELETE FROM tokens WHERE expires_at < ?`, now)
}

// SetMeta sets name to value; a nil value is stored as empty, so Meta
// still reports it as set.
func (t *txn) SetMeta(ctx context.Context, name string, value []byte) error {
	ctx, err := t.begin(ctx)
	if err != nil {
		return err
	}
	if value == nil {
		value = []byte{}
	}
	_, err = t.exec(ctx, `INSERT INTO meta (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return t.fail(err)
	}
	return nil
}
