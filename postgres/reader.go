package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"usercenter/core"
	"usercenter/sqlstore"
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
// over its transaction, so that a Tx sees its own writes. The reads that
// differ from SQLite's only in their SQL are sqlstore's, run through
// readEngine.
type reader struct {
	sqlstore.Reader
	s  *Store
	tx *txn // nil outside Update
}

// bind makes r the engine of its sqlstore.Reader; r must not move after.
func (r *reader) bind() {
	r.Reader = sqlstore.NewReader(&reads, (*readEngine)(r))
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
		return sqlstore.ErrClosed()
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

// noRows is the answer to a query by a value that no row can hold.
type noRows struct{}

func (noRows) Scan(...any) error { return pgx.ErrNoRows }
func (noRows) Next() bool        { return false }
func (noRows) Err() error        { return nil }
func (noRows) Close()            {}

// queryRow runs a query for at most one row.
func (r *reader) queryRow(ctx context.Context, query string, args ...any) sqlstore.Scanner {
	if !storableArgs(args) {
		return noRows{}
	}
	return r.q().QueryRow(ctx, query, args...)
}

// readEngine is a reader as the sqlstore.Engine of its shared reads, a type
// of its own so that its methods are not the Store's.
type readEngine reader

func (e *readEngine) Begin(ctx context.Context) (context.Context, error) {
	return ctx, (*reader)(e).begin(ctx)
}

func (e *readEngine) Row(ctx context.Context, query string, key sqlstore.Key) (context.Context, sqlstore.Scanner, error) {
	r := (*reader)(e)
	if err := r.begin(ctx); err != nil {
		return nil, nil, err
	}
	return ctx, r.queryRow(ctx, query, key.Args()...), nil
}

func (e *readEngine) NoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

func (e *readEngine) Fail(ctx context.Context, err error) error { return (*reader)(e).fail(ctx, err) }

func (e *readEngine) Query(ctx context.Context, query string, args []any) (sqlstore.Rows, error) {
	if !storableArgs(args) {
		return noRows{}, nil // a value that no row can hold is not asked for
	}
	return (*reader)(e).q().Query(ctx, query, args...)
}

func (e *readEngine) FindUser(ctx context.Context, query string, key sqlstore.Key) (*core.UserRecord, error) {
	return (*reader)(e).user(ctx, query, key.Args()...)
}

func (e *readEngine) FindUsers(ctx context.Context, query string, args ...any) ([]core.UserRecord, error) {
	return (*reader)(e).users(ctx, query, args...)
}

// A key's apps come in the same statement as the key, as an array, so that
// they belong to the key as read without a transaction around two queries.
const keyApps = `ARRAY(SELECT a.sdk_app_id FROM api_key_apps a WHERE a.secret_id = k.secret_id)`

// reads are the SQL of sqlstore's reads.
var reads = sqlstore.Reads{
	Placeholder: sqlstore.Dollar,

	App:         `SELECT ` + sqlstore.AppColumns + ` FROM apps WHERE sdk_app_id = $1`,
	AppByDomain: `SELECT ` + sqlstore.AppColumns + ` FROM apps WHERE user_domain = $1`,
	Apps:        `SELECT ` + sqlstore.AppColumns + ` FROM apps`,

	Key:  `SELECT ` + sqlstore.KeyColumns + `, ` + keyApps + ` FROM api_keys k WHERE secret_id = $1`,
	Keys: `SELECT ` + sqlstore.KeyColumns + `, ` + keyApps + ` FROM api_keys k ORDER BY created_at, secret_id`,

	Token:           `SELECT ` + sqlstore.TokenColumns + ` FROM tokens WHERE token_hash = $1`,
	EnterpriseToken: `SELECT ` + sqlstore.EnterpriseTokenColumns + ` FROM enterprise_tokens WHERE token_hash = $1`,
	Meta:            `SELECT value FROM meta WHERE name = $1`,
	SCIMToken:       `SELECT ` + sqlstore.SCIMTokenColumns + ` FROM scim_tokens WHERE token_hash = $1`,
	SCIMTokenByID:   `SELECT ` + sqlstore.SCIMTokenColumns + ` FROM scim_tokens WHERE token_id = $1`,
	SCIMTokens:      `SELECT ` + sqlstore.SCIMTokenColumns + ` FROM scim_tokens WHERE sdk_app_id = $1 ORDER BY created_at, token_id`,
	LiveTokens:      `SELECT count(*) FROM tokens WHERE user_id = $1 AND expires_at > $2`,
	UserStats: `SELECT day, sum(created)::bigint, sum(active)::bigint, sum(disabled)::bigint FROM user_stats
		WHERE sdk_app_id = $1 GROUP BY day ORDER BY day`,

	User:     usersQuery(`u.user_id = $1`, "", ""),
	UserCard: `SELECT ` + sqlstore.UserCardColumns + ` FROM users WHERE user_id = $1`,
	// By the primary key, then the app: given both, the planner may take
	// an index that leads with sdk_app_id and walk the app's users.
	UserCardInApp: `WITH c AS MATERIALIZED (SELECT ` + sqlstore.UserCardColumns + ` FROM users WHERE user_id = $2)
		SELECT ` + sqlstore.UserCardColumns + ` FROM c WHERE sdk_app_id = $1`,
	UserCardsByOrigin: `SELECT ` + sqlstore.UserCardColumns + ` FROM users
		WHERE origin_id = $1 AND sdk_app_id = ANY($2)`,
	UserByOrigin: usersQuery(`u.sdk_app_id = $1 AND u.origin_id = $2`, "", ""),
	// "external_id = $2" implies external_id IS NOT NULL, which lets the
	// planner use the partial unique index.
	UserByExternalID: usersQuery(`u.sdk_app_id = $1 AND u.external_id = $2`, "", ""),
	UserByLink: usersQuery(`u.user_id =
		(SELECT user_id FROM user_links WHERE sdk_app_id = $1 AND provider = $2 AND provider_user_id = $3)`, "", ""),
	// The apps go in as one array, so that a list of any length is one
	// parameter and one prepared statement.
	UsersByOrigin: usersQuery(`u.origin_id = $1 AND u.sdk_app_id = ANY($2)`, "", ""),
	// "phone_idx = $2" implies phone_idx IS NOT NULL, which lets the
	// planner use the partial index.
	UsersByPhone: usersQuery(`u.sdk_app_id = $1 AND u.phone_idx = $2`, ` ORDER BY u.user_id`, ""),
	UsersByEmail: usersQuery(`u.sdk_app_id = $1 AND u.email_idx = $2`, ` ORDER BY u.user_id`, ""),
	UsersAfter:   usersQuery(`u.sdk_app_id = $1 AND u.user_id > $2`, ` ORDER BY u.user_id`, ` LIMIT $3`),
	UsersBefore:  usersQuery(`u.sdk_app_id = $1 AND u.user_id < $2`, ` ORDER BY u.user_id DESC`, ` LIMIT $3`),
	UsersModifiedAfter: usersQuery(`u.sdk_app_id = $1 AND u.updated_at >= $2 AND (u.updated_at > $3 OR u.user_id > $4) AND u.updated_at < $5`,
		` ORDER BY u.updated_at, u.user_id`, ` LIMIT $6`),
	UsersLast: usersQuery(`u.sdk_app_id = $1`, ` ORDER BY u.user_id DESC`, ` LIMIT $2`),

	ScanKey: func(row sqlstore.Scanner) (core.KeyRecord, error) {
		return sqlstore.ScanKey(row, func(apps []int64) ([]uint64, error) { return sqlstore.Uint64s(apps), nil })
	},
	AppList:    func(apps []uint64) any { return sqlstore.Int64s(apps) },
	SealedApps: sealedApps,
}
