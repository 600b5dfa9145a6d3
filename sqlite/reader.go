package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
)

// reader implements core.Reader, for the Store over the read pool and for a
// Tx over the writer's transaction, so that a Tx sees its own writes.
type reader struct {
	s   *Store
	run runner
	tx  *txn // nil outside Update
}

// begin returns the context to run a statement with.
func (r *reader) begin(ctx context.Context) (context.Context, error) {
	if r.tx != nil {
		return r.tx.begin(ctx)
	}
	if r.s.closed.Load() {
		return nil, errClosed()
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
		return nil, errClosed()
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
		return errClosed()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return usercenter.Internal(err)
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
func appList(apps []uint64) string {
	ids := make([]int64, len(apps))
	for i, a := range apps {
		ids[i] = int64(a)
	}
	b, _ := json.Marshal(ids) // cannot fail for []int64
	return string(b)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryAll runs query on q and returns every row it yields, each read by
// scan. The rows are closed when it returns, so that the next statement
// can run on the same connection.
func queryAll[T any](ctx context.Context, r *reader, q runner, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, r.fail(ctx, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, r.fail(ctx, err)
	}
	return out, nil
}

const appColumns = `sdk_app_id, name, user_domain, status, rate_limit, token_ttl_seconds, superapp_secret, created_at,
	phone_region, superapp_cipher, code_ttl_seconds`

var (
	qApp         = readQuery(`SELECT ` + appColumns + ` FROM apps WHERE sdk_app_id = ?`)
	qAppByDomain = readQuery(`SELECT ` + appColumns + ` FROM apps WHERE user_domain = ?`)
	qApps        = readQuery(`SELECT ` + appColumns + ` FROM apps`)
)

func scanApp(row scanner) (core.AppRecord, error) {
	var (
		a         core.AppRecord
		id        int64
		ttl       int64
		createdAt int64
		cipher    string
		codeTTL   int64
	)
	err := row.Scan(&id, &a.Name, &a.UserDomain, &a.Status, &a.RateLimit, &ttl, &a.SealedSuperAppSecret, &createdAt,
		&a.PhoneRegion, &cipher, &codeTTL)
	a.SdkAppID = uint64(id)
	a.TokenTTL = time.Duration(ttl) * time.Second
	a.SuperAppCipher = usercenter.SuperAppCipher(cipher)
	a.CodeTTL = time.Duration(codeTTL) * time.Second
	a.CreatedAt = decodeTime(createdAt)
	return a, err
}

func (r *reader) App(ctx context.Context, sdkAppID uint64) (*core.AppRecord, error) {
	return r.app(ctx, qApp, int64(sdkAppID))
}

// AppByDomain finds the app whose UserDomain is exactly userDomain.
func (r *reader) AppByDomain(ctx context.Context, userDomain string) (*core.AppRecord, error) {
	return r.app(ctx, qAppByDomain, userDomain)
}

// app reads the one app a query finds.
func (r *reader) app(ctx context.Context, query string, args ...any) (*core.AppRecord, error) {
	ctx, err := r.point(ctx)
	if err != nil {
		return nil, err
	}
	a, err := scanApp(r.run.queryRow(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, usercenter.NotFound(usercenter.ResourceApp)
	}
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	return &a, nil
}

func (r *reader) Apps(ctx context.Context) ([]core.AppRecord, error) {
	ctx, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	apps, err := queryAll(ctx, r, r.run, scanApp, qApps)
	if err != nil {
		return nil, err
	}
	// Sorted here rather than in SQL, which would order the IDs above
	// MaxInt64 first, as negative int64s.
	slices.SortFunc(apps, func(a, b core.AppRecord) int { return cmp.Compare(a.SdkAppID, b.SdkAppID) })
	return apps, nil
}

const keyColumns = `secret_id, secret_key, name, permissions, created_at, revoked_at`

// keyAppsColumn reads a key's apps beside its row, as one comma-separated
// list, so that a key is one statement: one consistent view of the
// database without a read transaction around two queries, which cost
// about twice as much.
const keyAppsColumn = `(SELECT group_concat(a.sdk_app_id) FROM api_key_apps a WHERE a.secret_id = k.secret_id)`

var (
	qKey  = readQuery(`SELECT ` + keyColumns + `, ` + keyAppsColumn + ` FROM api_keys k WHERE secret_id = ?`)
	qKeys = readQuery(`SELECT ` + keyColumns + `, ` + keyAppsColumn + ` FROM api_keys k ORDER BY created_at, secret_id`)
)

func scanKey(row scanner) (core.KeyRecord, error) {
	var (
		k         core.KeyRecord
		perms     string
		createdAt int64
		revokedAt *int64
		apps      *string
	)
	err := row.Scan(&k.SecretID, &k.SealedSecretKey, &k.Name, &perms, &createdAt, &revokedAt, &apps)
	if err != nil {
		return k, err
	}
	for _, p := range strings.Split(perms, ",") {
		if p != "" {
			k.Permissions = append(k.Permissions, usercenter.Permission(p))
		}
	}
	k.CreatedAt = decodeTime(createdAt)
	k.RevokedAt = decodeNullTime(revokedAt)
	if apps != nil {
		if k.Apps, err = parseAppList(*apps); err != nil {
			return k, err
		}
	}
	return k, nil
}

// parseAppList reads group_concat's list of SdkAppIds, which SQLite
// stores as int64 (see appList), into ascending order.
func parseAppList(list string) ([]uint64, error) {
	out := make([]uint64, 0, strings.Count(list, ",")+1)
	for f := range strings.SplitSeq(list, ",") {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("sqlite: api_key_apps lists %q: %w", f, err)
		}
		out = append(out, uint64(id))
	}
	slices.Sort(out)
	return out, nil
}

// Key returns the key with its Apps in ascending order.
func (r *reader) Key(ctx context.Context, secretID string) (*core.KeyRecord, error) {
	ctx, err := r.point(ctx)
	if err != nil {
		return nil, err
	}
	k, err := scanKey(r.run.queryRow(ctx, qKey, secretID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, usercenter.NotFound(usercenter.ResourceKey)
	}
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	return &k, nil
}

// Keys returns every key in creation order, each with its Apps in
// ascending order.
func (r *reader) Keys(ctx context.Context) ([]core.KeyRecord, error) {
	ctx, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, r, r.run, scanKey, qKeys)
}

var qToken = readQuery(`SELECT token_hash, user_id, sdk_app_id, created_at, expires_at
	FROM tokens WHERE token_hash = ?`)

// Token returns the token with that hash, expired or not.
func (r *reader) Token(ctx context.Context, hash []byte) (*core.Token, error) {
	ctx, err := r.point(ctx)
	if err != nil {
		return nil, err
	}
	var (
		t                    core.Token
		app                  int64
		createdAt, expiresAt int64
	)
	err = r.run.queryRow(ctx, qToken, hash).Scan(&t.Hash, &t.UserID, &app, &createdAt, &expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errTokenNotFound()
	}
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	t.SdkAppID = uint64(app)
	t.CreatedAt = decodeTime(createdAt)
	t.ExpiresAt = decodeTime(expiresAt)
	return &t, nil
}

var qMeta = readQuery(`SELECT value FROM meta WHERE name = ?`)

// Meta returns the value set for name: nil if it never was, and a non-nil
// slice (perhaps empty) if it was.
func (r *reader) Meta(ctx context.Context, name string) ([]byte, error) {
	ctx, err := r.point(ctx)
	if err != nil {
		return nil, err
	}
	var value []byte
	err = r.run.queryRow(ctx, qMeta, name).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	if value == nil {
		value = []byte{}
	}
	return value, nil
}
