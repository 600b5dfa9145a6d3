package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"usercenter"
	"usercenter/core"
)

// querier is what reads run on: the pool outside Update, the transaction
// inside.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// reader implements core.Reader, for the Store over the pool and for a Tx
// over its transaction, so that a Tx sees its own writes.
type reader struct {
	s  *Store
	tx *txn // nil outside Update
}

func (r *reader) q() querier {
	if r.tx != nil {
		return r.tx.tx
	}
	return r.s.pool
}

// begin checks that a read may run.
func (r *reader) begin(ctx context.Context) error {
	if r.tx != nil {
		return r.tx.begin(ctx)
	}
	if r.s.closed.Load() {
		return errClosed()
	}
	return nil
}

// fail maps an unexpected database error to the domain; inside Update it
// also notes that the transaction is lost, which any error of PostgreSQL's
// makes it.
func (r *reader) fail(ctx context.Context, err error) error {
	if r.tx != nil {
		return r.tx.fail(ctx, err)
	}
	return r.s.fail(ctx, err)
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// noRow is the answer to a lookup by a value that no row can hold.
type noRow struct{}

func (noRow) Scan(...any) error { return pgx.ErrNoRows }

// queryRow runs a query for at most one row.
func (r *reader) queryRow(ctx context.Context, query string, args ...any) scanner {
	if !storableArgs(args) {
		return noRow{}
	}
	return r.q().QueryRow(ctx, query, args...)
}

// queryAll runs query and returns every row it yields, each read by scan.
func queryAll[T any](ctx context.Context, r *reader, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	if !storableArgs(args) {
		return nil, nil
	}
	rows, err := r.q().Query(ctx, query, args...)
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

// uint64s converts stored SdkAppIds back, sorted as uint64s; none is nil.
func uint64s(ids []int64) []uint64 {
	if len(ids) == 0 {
		return nil
	}
	out := make([]uint64, len(ids))
	for i, id := range ids {
		out[i] = uint64(id)
	}
	slices.Sort(out)
	return out
}

// int64s stores SdkAppIds as the int64s with the same bits.
func int64s(ids []uint64) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}

const appColumns = `sdk_app_id, name, user_domain, status, rate_limit, token_ttl_seconds, superapp_secret, created_at,
	phone_region, superapp_cipher, code_ttl_seconds`

const (
	qApp         = `SELECT ` + appColumns + ` FROM apps WHERE sdk_app_id = $1`
	qAppByDomain = `SELECT ` + appColumns + ` FROM apps WHERE user_domain = $1`
	qApps        = `SELECT ` + appColumns + ` FROM apps`
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

func (r *reader) app(ctx context.Context, query string, args ...any) (*core.AppRecord, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	a, err := scanApp(r.queryRow(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, usercenter.NotFound(usercenter.ResourceApp)
	}
	if err != nil {
		return nil, r.fail(ctx, err)
	}
	return &a, nil
}

func (r *reader) Apps(ctx context.Context) ([]core.AppRecord, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	apps, err := queryAll(ctx, r, scanApp, qApps)
	if err != nil {
		return nil, err
	}
	// Sorted here rather than in SQL, which would order the IDs above
	// MaxInt64 first, as negative int64s.
	slices.SortFunc(apps, func(a, b core.AppRecord) int { return cmp.Compare(a.SdkAppID, b.SdkAppID) })
	return apps, nil
}

// A key's apps come in the same statement as the key, as an array, so that
// they belong to the key as read without a transaction around two queries.
const keyColumns = `secret_id, secret_key, name, permissions, created_at, revoked_at`

const (
	keyApps = `ARRAY(SELECT a.sdk_app_id FROM api_key_apps a WHERE a.secret_id = k.secret_id)`
	qKey    = `SELECT ` + keyColumns + `, ` + keyApps + ` FROM api_keys k WHERE secret_id = $1`
	qKeys   = `SELECT ` + keyColumns + `, ` + keyApps + ` FROM api_keys k ORDER BY created_at, secret_id`
)

func scanKey(row scanner) (core.KeyRecord, error) {
	var (
		k         core.KeyRecord
		perms     string
		createdAt int64
		revokedAt *int64
		apps      []int64
	)
	err := row.Scan(&k.SecretID, &k.SealedSecretKey, &k.Name, &perms, &createdAt, &revokedAt, &apps)
	for _, p := range strings.Split(perms, ",") {
		if p != "" {
			k.Permissions = append(k.Permissions, usercenter.Permission(p))
		}
	}
	k.CreatedAt = decodeTime(createdAt)
	k.RevokedAt = decodeNullTime(revokedAt)
	k.Apps = uint64s(apps)
	return k, err
}

// Key returns the key with its Apps in ascending order.
func (r *reader) Key(ctx context.Context, secretID string) (*core.KeyRecord, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	k, err := scanKey(r.queryRow(ctx, qKey, secretID))
	if errors.Is(err, pgx.ErrNoRows) {
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
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	return queryAll(ctx, r, scanKey, qKeys)
}

const qToken = `SELECT token_hash, user_id, sdk_app_id, created_at, expires_at FROM tokens WHERE token_hash = $1`

// Token returns the token with that hash, expired or not.
func (r *reader) Token(ctx context.Context, hash []byte) (*core.Token, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	var (
		t                    core.Token
		app                  int64
		createdAt, expiresAt int64
	)
	err := r.queryRow(ctx, qToken, hash).Scan(&t.Hash, &t.UserID, &app, &createdAt, &expiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
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

const qMeta = `SELECT value FROM meta WHERE name = $1`

// Meta returns the value set for name: nil if it never was, and a non-nil
// slice (perhaps empty) if it was.
func (r *reader) Meta(ctx context.Context, name string) ([]byte, error) {
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	var value []byte
	err := r.queryRow(ctx, qMeta, name).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
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
