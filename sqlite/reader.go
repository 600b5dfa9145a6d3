package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"usercenter/core"
	"usercenter/sqlstore"
)

// reader implements core.Reader, for the Store over the read pool and for a
// Tx over the writer's transaction, so that a Tx sees its own writes. The
// reads that differ from PostgreSQL's only in their SQL are sqlstore's,
// run through readEngine.
type reader struct {
	sqlstore.Reader
	s   *Store
	run runner
	tx  *txn // nil outside Update
}

// bind makes r the engine of its sqlstore.Reader; r must not move after.
func (r *reader) bind() {
	r.Reader = sqlstore.NewReader(&reads, (*readEngine)(r))
}

// readEngine is a reader as the sqlstore.Engine of its shared reads, a type
// of its own so that its methods are not the Store's.
type readEngine reader

func (e *readEngine) Begin(ctx context.Context) (context.Context, error) {
	return (*reader)(e).begin(ctx)
}

func (e *readEngine) Row(ctx context.Context, query string, key sqlstore.Key) (context.Context, sqlstore.Scanner, error) {
	r := (*reader)(e)
	ctx, err := r.point(ctx)
	if err != nil {
		return nil, nil, err
	}
	return ctx, r.run.queryRow(ctx, query, key.Args()...), nil
}

func (e *readEngine) NoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func (e *readEngine) Fail(ctx context.Context, err error) error { return (*reader)(e).fail(ctx, err) }

func (e *readEngine) Query(ctx context.Context, query string, args []any) (sqlstore.Rows, error) {
	rows, err := e.run.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

// sqlRows are *sql.Rows as sqlstore.Rows, whose Close drops the error:
// what went wrong reading them, Err has said.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

func (e *readEngine) FindUser(ctx context.Context, query string, key sqlstore.Key) (*core.UserRecord, error) {
	return (*reader)(e).user(ctx, query, key.Args()...)
}

func (e *readEngine) FindUsers(ctx context.Context, query string, args ...any) ([]core.UserRecord, error) {
	return (*reader)(e).userList(ctx, query, args...)
}

// begin returns the context to run a statement with.
func (r *reader) begin(ctx context.Context) (context.Context, error) {
	if r.tx != nil {
		return r.tx.begin(ctx)
	}
	if r.s.closed.Load() {
		return nil, sqlstore.ErrClosed()
	}
	return ctx, nil
}

// point returns the context to run a read of one row by key with: a
// context that never ends. Under a context that can end, modernc.org/sqlite
// and database/sql each start a goroutine per query to watch it, which
// costs a point read about as much as the read itself (BenchmarkPointRead:
// 11 µs against 20 µs for a user). Such a read takes microseconds and has
// nothing to wait for in SQLite (WAL readers never wait for the writer);
// its wait for a pooled connection lasts until some other read returns,
// and the reads that can run long (lists, scans) keep the caller's context
// and end with it. A context that has already ended still fails the read
// before it starts.
func (r *reader) point(ctx context.Context) (context.Context, error) {
	if r.tx != nil {
		return r.tx.begin(ctx)
	}
	if r.s.closed.Load() {
		return nil, sqlstore.ErrClosed()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.Background(), nil
}

// fail maps an unexpected database error to the domain.
func (r *reader) fail(ctx context.Context, err error) error {
	if r.tx != nil {
		return r.tx.fail(err)
	}
	if r.s.closed.Load() {
		return sqlstore.ErrClosed()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return unexpected(err)
}

// snapshot runs f against one consistent view of the database, for reads
// made of several queries.
func (r *reader) snapshot(ctx context.Context, f func(ctx context.Context, q runner) error) error {
	ctx, err := r.begin(ctx)
	if err != nil {
		return err
	}
	if r.tx != nil {
		return f(ctx, r.run)
	}
	tx, err := r.s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return r.fail(ctx, err)
	}
	defer tx.Rollback()
	return f(ctx, runner{stmts: r.run.stmts, tx: tx})
}

// readQueries lists every query of the readers, for Open to prepare up
// front; see runner.stmt.
var readQueries []string

func readQuery(q string) string {
	readQueries = append(readQueries, q)
	return q
}

// appList encodes SdkAppIds as one JSON array for json_each, so that a
// list of any length is one bound parameter: the query stays one prepared
// statement and never meets SQLite's limit on parameters.
func appList(apps []uint64) any {
	b, _ := json.Marshal(sqlstore.Int64s(apps)) // cannot fail for []int64
	return string(b)
}

// on returns the engine of r's reads that runs them on q, a snapshot.
func (r *reader) on(q runner) *readEngine {
	e := readEngine(*r)
	e.run = q
	return &e
}

// keyAppsColumn reads a key's apps beside its row, as one comma-separated
// list, so that a key is one statement: one consistent view of the
// database without a read transaction around two queries, which cost
// about twice as much.
const keyAppsColumn = `(SELECT group_concat(a.sdk_app_id) FROM api_key_apps a WHERE a.secret_id = k.secret_id)`

// reads are the SQL of sqlstore's reads. Open prepares every one.
var reads = sqlstore.Reads{
	Placeholder: sqlstore.Question,

	App:         readQuery(`SELECT ` + sqlstore.AppColumns + ` FROM apps WHERE sdk_app_id = ?`),
	AppByDomain: readQuery(`SELECT ` + sqlstore.AppColumns + ` FROM apps WHERE user_domain = ?`),
	Apps:        readQuery(`SELECT ` + sqlstore.AppColumns + ` FROM apps`),

	Key:  readQuery(`SELECT ` + sqlstore.KeyColumns + `, ` + keyAppsColumn + ` FROM api_keys k WHERE secret_id = ?`),
	Keys: readQuery(`SELECT ` + sqlstore.KeyColumns + `, ` + keyAppsColumn + ` FROM api_keys k ORDER BY created_at, secret_id`),

	Token:           readQuery(`SELECT ` + sqlstore.TokenColumns + ` FROM tokens WHERE token_hash = ?`),
	EnterpriseToken: readQuery(`SELECT ` + sqlstore.EnterpriseTokenColumns + ` FROM enterprise_tokens WHERE token_hash = ?`),
	Meta:            readQuery(`SELECT value FROM meta WHERE name = ?`),
	SCIMToken:       readQuery(`SELECT ` + sqlstore.SCIMTokenColumns + ` FROM scim_tokens WHERE token_hash = ?`),
	SCIMTokenByID:   readQuery(`SELECT ` + sqlstore.SCIMTokenColumns + ` FROM scim_tokens WHERE token_id = ?`),
	SCIMTokens:      readQuery(`SELECT ` + sqlstore.SCIMTokenColumns + ` FROM scim_tokens WHERE sdk_app_id = ? ORDER BY created_at, token_id`),
	LiveTokens:      readQuery(`SELECT count(*) FROM tokens WHERE user_id = ? AND expires_at > ?`),
	UserStats: readQuery(`SELECT day, sum(created), sum(active), sum(disabled) FROM user_stats
		WHERE sdk_app_id = ? GROUP BY day ORDER BY day`),

	User:     qUser,
	UserCard: readQuery(`SELECT ` + userCardColumn + ` FROM users WHERE user_id = ?`),
	// users_app_card holds every column it selects: one B-tree descent
	// instead of the primary key's then the table's (migration 13). The
	// planner would pick the unique primary key's index.
	UserCardInApp: readQuery(`SELECT ` + userCardColumn + ` FROM users INDEXED BY users_app_card
		WHERE sdk_app_id = ? AND user_id = ?`),
	UserCardsByOrigin: readQuery(`SELECT ` + userCardColumn + ` FROM users
		WHERE origin_id = ? AND sdk_app_id IN (SELECT value FROM json_each(?))`),
	UserByOrigin:     qUserByOrigin,
	UserByLink:       qUserByLink,
	UserByExternalID: qUserByExternalID,
	// The apps go in as one JSON array; see appList.
	UsersByOrigin: readQuery(`SELECT ` + userReadColumns + ` FROM users u
		WHERE origin_id = ? AND sdk_app_id IN (SELECT value FROM json_each(?))`),
	// "phone_idx = ?" implies phone_idx IS NOT NULL, which lets SQLite use
	// the partial index.
	UsersByPhone: readQuery(`SELECT ` + userReadColumns + ` FROM users u
		WHERE sdk_app_id = ? AND phone_idx = ? ORDER BY user_id`),
	UsersByEmail: readQuery(`SELECT ` + userReadColumns + ` FROM users u
		WHERE sdk_app_id = ? AND email_idx = ? ORDER BY user_id`),
	UsersAfter: readQuery(`SELECT ` + userReadColumns + ` FROM users u
		WHERE sdk_app_id = ? AND user_id > ? ORDER BY user_id LIMIT ?`),
	UsersBefore: readQuery(`SELECT ` + userReadColumns + ` FROM users u
		WHERE sdk_app_id = ? AND user_id < ? ORDER BY user_id DESC LIMIT ?`),
	// The key comparison is spelled out rather than as a row value, so
	// that SQLite bounds the index range by updated_at.
	UsersModifiedAfter: readQuery(`SELECT ` + userReadColumns + ` FROM users u
		WHERE sdk_app_id = ? AND updated_at >= ? AND (updated_at > ? OR user_id > ?) AND updated_at < ?
		ORDER BY updated_at, user_id LIMIT ?`),
	UsersLast: readQuery(`SELECT ` + userReadColumns + ` FROM users u
		WHERE sdk_app_id = ? ORDER BY user_id DESC LIMIT ?`),

	ScanKey:      func(row sqlstore.Scanner) (core.KeyRecord, error) { return sqlstore.ScanKey(row, parseAppList) },
	ScanUserCard: scanUserCard,
	AppList:      appList,
	SealedApps:   sealedApps,
}

// parseAppList reads group_concat's list of SdkAppIds, which SQLite
// stores as int64 (see appList), into ascending order; NULL, for a key
// without apps, is none.
func parseAppList(list *string) ([]uint64, error) {
	if list == nil {
		return nil, nil
	}
	out := make([]uint64, 0, strings.Count(*list, ",")+1)
	for f := range strings.SplitSeq(*list, ",") {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("sqlite: api_key_apps lists %q: %w", f, err)
		}
		out = append(out, uint64(id))
	}
	slices.Sort(out)
	return out, nil
}
