package sqlstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"usercenter"
	"usercenter/core"
)

// Reads are an engine's SQL for the reads Reader makes, and what it does
// differently about them: how it passes and aggregates lists of SdkAppIds,
// and how it pages app secrets in uint64 order over int64 columns. Each
// query selects the columns that its Scan function, or the engine's user
// reads, expect.
type Reads struct {
	Placeholder

	App, AppByDomain, Apps string // AppColumns
	Key, Keys              string // KeyColumns and the key's apps; see ScanKey
	Token                  string // TokenColumns
	EnterpriseToken        string // EnterpriseTokenColumns
	// SCIMToken (by hash), SCIMTokenByID and SCIMTokens (by app, in
	// created_at and token_id order) select SCIMTokenColumns.
	SCIMToken, SCIMTokenByID, SCIMTokens string
	Meta                                 string // value
	// LiveTokens counts a user's tokens; its parameters are the UserId
	// and BoundTime of now, tokens expiring after it counting.
	LiveTokens string
	// UserStats sums an app's user_stats by day; its parameter is the
	// SdkAppId.
	UserStats string

	// The user reads run through Engine.FindUser and FindUsers, which
	// know what these select. UsersByOrigin's parameters are the OriginId and
	// AppList's list; every other's are the arguments of its method.
	User, UserByOrigin, UserByLink string
	// UserCard selects a card of the user with a UserId, and
	// UserCardsByOrigin those of the users UsersByOrigin finds, with its
	// parameters: UserCardColumns, or what ScanUserCard reads.
	UserCard, UserCardsByOrigin string
	// UserCardInApp selects the card of the user with an SdkAppId and a
	// UserId, in that order.
	UserCardInApp              string
	UserByExternalID           string
	UsersByOrigin              string
	UsersByPhone, UsersByEmail string
	UsersAfter                 string
	// UsersBefore and UsersLast page backwards, newest UserId first:
	// before a UserId, and from the end.
	UsersBefore, UsersLast string
	// UsersModifiedAfter pages by (updated_at, user_id): its parameters
	// are the SdkAppId, the key to continue after (updated_at twice, then
	// user_id), the exclusive bound on updated_at, and the limit.
	UsersModifiedAfter string

	// ScanKey reads a row of Key or Keys: ScanKey with the engine's
	// decoding of the apps column.
	ScanKey func(Scanner) (core.KeyRecord, error)
	// ScanUserCard reads a row of UserCard or UserCardsByOrigin; nil is
	// the package's ScanUserCard, of UserCardColumns.
	ScanUserCard func(Scanner) (core.UserCard, error)
	// AppList passes a list of SdkAppIds as one parameter.
	AppList func([]uint64) any
	// SealedApps returns the query for app secrets from SdkAppId from on,
	// and its arguments but the limit, which goes last (see SealedList).
	SealedApps func(from uint64) (string, []any)
}

// Engine is how an engine runs Reader's reads: its connections, its
// transactions, its driver and its errors.
type Engine interface {
	// Begin checks that a read may run (the store is open, the Tx still
	// usable), and returns the context to run it with.
	Begin(ctx context.Context) (context.Context, error)
	// Row begins a read of the one row a lookup by key finds, runs query
	// with key, and returns the row and the context that Fail wants.
	Row(ctx context.Context, query string, key Key) (context.Context, Scanner, error)
	// NoRows reports whether err is the driver's "no row" from Row's row.
	NoRows(err error) bool
	// Fail maps an unexpected error of a read to the domain.
	Fail(ctx context.Context, err error) error
	// Query runs query in a read that Begin began. Its errors, and those
	// of its rows, are the driver's, for Fail.
	Query(ctx context.Context, query string, args []any) (Rows, error)
	// FindUser and FindUsers begin a read of users with their third-party
	// links, by one of the user queries of Reads. FindUser fails with
	// NotFound (user) when there is none.
	FindUser(ctx context.Context, query string, key Key) (*core.UserRecord, error)
	FindUsers(ctx context.Context, query string, args ...any) ([]core.UserRecord, error)
}

// Key is the parameters of a point read, up to three, held by value: a
// slice handed to Engine, an interface, would take its array to the heap,
// an allocation on every read (BenchmarkPointRead).
type Key struct {
	n int
	v [3]any
}

func keyOf(args ...any) Key {
	var k Key
	if len(args) > len(k.v) {
		panic("sqlstore: a point read has more parameters than Key holds")
	}
	k.n = copy(k.v[:], args)
	return k
}

// Args returns the parameters, for a query.
func (k *Key) Args() []any { return k.v[:k.n] }

// Reader makes the reads of core.Reader that differ between the engines
// only in their SQL and how it runs: an engine's reader embeds one, and
// adds the reads it makes its own way.
type Reader struct {
	reads  *Reads
	engine Engine
}

// NewReader returns the Reader of an engine's reads.
func NewReader(r *Reads, e Engine) Reader { return Reader{reads: r, engine: e} }

func notFound(resource string) func() error {
	return func() error { return usercenter.NotFound(resource) }
}

var (
	appNotFound  = notFound(usercenter.ResourceApp)
	keyNotFound  = notFound(usercenter.ResourceKey)
	userNotFound = notFound(usercenter.ResourceUser)
)

// one reads the one row a lookup by key finds with scan, or fails with
// notFound.
func one[T any](ctx context.Context, e Engine, scan func(Scanner) (T, error), notFound func() error, query string, args ...any) (*T, error) {
	ctx, row, err := e.Row(ctx, query, keyOf(args...))
	if err != nil {
		return nil, err
	}
	v, err := scan(row)
	if e.NoRows(err) {
		return nil, notFound()
	}
	if err != nil {
		return nil, e.Fail(ctx, err)
	}
	return &v, nil
}

// All runs query through e, in a read that Begin began, and reads every
// row it yields with scan. Every error is e's Fail's. The rows are closed
// when it returns, so that the next statement can run on the same
// connection (SQLite's writer has only the one).
func All[T any](ctx context.Context, e Engine, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := e.Query(ctx, query, args)
	if err != nil {
		return nil, e.Fail(ctx, err)
	}
	defer rows.Close()
	out, err := Collect(rows, scan)
	if err != nil {
		return nil, e.Fail(ctx, err)
	}
	return out, nil
}

func (r Reader) App(ctx context.Context, sdkAppID uint64) (*core.AppRecord, error) {
	return one(ctx, r.engine, ScanApp, appNotFound, r.reads.App, int64(sdkAppID))
}

// AppByDomain finds the app whose UserDomain is exactly userDomain.
func (r Reader) AppByDomain(ctx context.Context, userDomain string) (*core.AppRecord, error) {
	return one(ctx, r.engine, ScanApp, appNotFound, r.reads.AppByDomain, userDomain)
}

// Apps returns every app in SdkAppId order.
func (r Reader) Apps(ctx context.Context) ([]core.AppRecord, error) {
	ctx, err := r.engine.Begin(ctx)
	if err != nil {
		return nil, err
	}
	apps, err := All(ctx, r.engine, ScanApp, r.reads.Apps)
	if err != nil {
		return nil, err
	}
	SortApps(apps)
	return apps, nil
}

// Key returns the key with its Apps in ascending order.
func (r Reader) Key(ctx context.Context, secretID string) (*core.KeyRecord, error) {
	return one(ctx, r.engine, r.reads.ScanKey, keyNotFound, r.reads.Key, secretID)
}

// Keys returns every key in the order of the engine's query, each with
// its Apps in ascending order.
func (r Reader) Keys(ctx context.Context) ([]core.KeyRecord, error) {
	ctx, err := r.engine.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return All(ctx, r.engine, r.reads.ScanKey, r.reads.Keys)
}

// Token returns the login token with that hash, expired or not.
func (r Reader) Token(ctx context.Context, hash []byte) (*core.Token, error) {
	return one(ctx, r.engine, ScanToken, ErrTokenNotFound, r.reads.Token, hash)
}

// LiveTokens counts the login tokens of userID that expire after now.
func (r Reader) LiveTokens(ctx context.Context, userID string, now time.Time) (int, error) {
	ctx, err := r.engine.Begin(ctx)
	if err != nil {
		return 0, err
	}
	n, err := All(ctx, r.engine, scanInt, r.reads.LiveTokens, userID, BoundTime(now))
	if err != nil || len(n) == 0 {
		return 0, err
	}
	return n[0], nil
}

// UserStats sums an app's counts of every day, a row per day of every
// year it has had users: a few thousand rows at most, never its users.
func (r Reader) UserStats(ctx context.Context, sdkAppID uint64, since time.Time) (*core.UserStats, error) {
	ctx, err := r.engine.Begin(ctx)
	if err != nil {
		return nil, err
	}
	type dayRow struct{ day, created, active, disabled int64 }
	rows, err := All(ctx, r.engine, func(row Scanner) (dayRow, error) {
		var d dayRow
		err := row.Scan(&d.day, &d.created, &d.active, &d.disabled)
		return d, err
	}, r.reads.UserStats, int64(sdkAppID))
	if err != nil {
		return nil, err
	}
	from := UnixDay(since)
	st := &core.UserStats{}
	for _, d := range rows {
		st.Active += int(d.active)
		st.Disabled += int(d.disabled)
		if d.day >= from && d.created > 0 {
			st.Days = append(st.Days, core.DayCount{Day: time.Unix(d.day*86400, 0).UTC(), Created: int(d.created)})
		}
	}
	return st, nil
}

// UnixDay is the day of user_stats that t falls on: whole UTC days since
// 1970, as the migrations compute it from created_at.
func UnixDay(t time.Time) int64 { return BoundTime(t) / (86400 * int64(time.Second)) }

// EnterpriseToken returns the enterprise token with that hash, expired or
// not.
func (r Reader) EnterpriseToken(ctx context.Context, hash []byte) (*core.EnterpriseToken, error) {
	return one(ctx, r.engine, ScanEnterpriseToken, ErrTokenNotFound, r.reads.EnterpriseToken, hash)
}

// Meta returns the value set for name: nil if it never was, and a non-nil
// slice (perhaps empty) if it was.
func (r Reader) Meta(ctx context.Context, name string) ([]byte, error) {
	ctx, row, err := r.engine.Row(ctx, r.reads.Meta, keyOf(name))
	if err != nil {
		return nil, err
	}
	var value []byte
	err = row.Scan(&value)
	if r.engine.NoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, r.engine.Fail(ctx, err)
	}
	if value == nil {
		value = []byte{}
	}
	return value, nil
}

func (r Reader) User(ctx context.Context, userID string) (*core.UserRecord, error) {
	return r.engine.FindUser(ctx, r.reads.User, keyOf(userID))
}

// UserCard reads the one row, and none of the user's links.
func (r Reader) UserCard(ctx context.Context, userID string) (*core.UserCard, error) {
	return one(ctx, r.engine, r.scanUserCard(), userNotFound, r.reads.UserCard, userID)
}

// UserCardInApp reads the one row of that app's user, and none of its
// links.
func (r Reader) UserCardInApp(ctx context.Context, sdkAppID uint64, userID string) (*core.UserCard, error) {
	return one(ctx, r.engine, r.scanUserCard(), userNotFound, r.reads.UserCardInApp, int64(sdkAppID), userID)
}

func (r Reader) scanUserCard() func(Scanner) (core.UserCard, error) {
	if r.reads.ScanUserCard != nil {
		return r.reads.ScanUserCard
	}
	return ScanUserCard
}

// UserCardsByOrigin returns the cards in SdkAppId order.
func (r Reader) UserCardsByOrigin(ctx context.Context, apps []uint64, originID string) ([]core.UserCard, error) {
	ctx, err := r.engine.Begin(ctx)
	if err != nil || len(apps) == 0 {
		return nil, err
	}
	cards, err := All(ctx, r.engine, r.scanUserCard(), r.reads.UserCardsByOrigin, originID, r.reads.AppList(apps))
	if err != nil {
		return nil, err
	}
	slices.SortFunc(cards, func(a, b core.UserCard) int { return cmp.Compare(a.SdkAppID, b.SdkAppID) })
	return cards, nil
}

func (r Reader) UserByOrigin(ctx context.Context, sdkAppID uint64, originID string) (*core.UserRecord, error) {
	return r.engine.FindUser(ctx, r.reads.UserByOrigin, keyOf(int64(sdkAppID), originID))
}

func (r Reader) UserByExternalID(ctx context.Context, sdkAppID uint64, externalID string) (*core.UserRecord, error) {
	return r.engine.FindUser(ctx, r.reads.UserByExternalID, keyOf(int64(sdkAppID), externalID))
}

func (r Reader) UserByLink(ctx context.Context, sdkAppID uint64, provider usercenter.Provider, providerUserID string) (*core.UserRecord, error) {
	return r.engine.FindUser(ctx, r.reads.UserByLink, keyOf(int64(sdkAppID), string(provider), providerUserID))
}

// UsersByOrigin returns the users in SdkAppId order.
func (r Reader) UsersByOrigin(ctx context.Context, apps []uint64, originID string) ([]core.UserRecord, error) {
	if len(apps) == 0 {
		_, err := r.engine.Begin(ctx)
		return nil, err
	}
	users, err := r.engine.FindUsers(ctx, r.reads.UsersByOrigin, originID, r.reads.AppList(apps))
	if err != nil {
		return nil, err
	}
	SortUsers(users)
	return users, nil
}

// UsersByIndex fails with EInvalid (Field "field") for a field that has
// no blind index.
func (r Reader) UsersByIndex(ctx context.Context, sdkAppID uint64, field usercenter.PIIField, index []byte) ([]core.UserRecord, error) {
	query, err := IndexQuery(field, r.reads.UsersByPhone, r.reads.UsersByEmail)
	if err != nil {
		return nil, err
	}
	if len(index) == 0 {
		// No user has an empty index: empty is stored as NULL.
		_, err := r.engine.Begin(ctx)
		return nil, err
	}
	return r.engine.FindUsers(ctx, query, int64(sdkAppID), index)
}

// UsersAfter pages by keyset rather than offset, so that a walk over every
// user costs the same per page however far it has got, and users inserted
// or deleted meanwhile neither shift pages nor cause repeats.
func (r Reader) UsersAfter(ctx context.Context, sdkAppID uint64, afterUserID string, limit int) ([]core.UserRecord, error) {
	if limit <= 0 {
		_, err := r.engine.Begin(ctx)
		return nil, err
	}
	return r.engine.FindUsers(ctx, r.reads.UsersAfter, int64(sdkAppID), afterUserID, limit)
}

// UsersModifiedAfter is UsersAfter in order of the last change: a walk of
// what changed in a window, each page a range of the index on
// (sdk_app_id, updated_at, user_id).
func (r Reader) UsersModifiedAfter(ctx context.Context, sdkAppID uint64, after time.Time, afterUserID string, until time.Time, limit int) ([]core.UserRecord, error) {
	if limit <= 0 {
		_, err := r.engine.Begin(ctx)
		return nil, err
	}
	from := minTime.UnixNano()
	if !after.IsZero() {
		from = clampTime(after)
	}
	to := maxTime.UnixNano()
	if !until.IsZero() {
		to = clampTime(until)
	}
	return r.engine.FindUsers(ctx, r.reads.UsersModifiedAfter, int64(sdkAppID), from, from, afterUserID, to, limit)
}

// clampTime is t in the nanoseconds the time columns hold, a time
// beyond their range as the nearest they hold: a bound of a query, not a
// value stored.
func clampTime(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return minTime.UnixNano()
	case t.After(maxTime):
		return maxTime.UnixNano()
	}
	return t.UnixNano()
}

// UsersBefore is UsersAfter backwards: the newest users first, for
// listings that show them so without reading the whole app.
func (r Reader) UsersBefore(ctx context.Context, sdkAppID uint64, beforeUserID string, limit int) ([]core.UserRecord, error) {
	if limit <= 0 {
		_, err := r.engine.Begin(ctx)
		return nil, err
	}
	if beforeUserID == "" {
		return r.engine.FindUsers(ctx, r.reads.UsersLast, int64(sdkAppID), limit)
	}
	return r.engine.FindUsers(ctx, r.reads.UsersBefore, int64(sdkAppID), beforeUserID, limit)
}

// SealedValues returns no values for a limit of 0 or less. It fails with
// EInvalid for an unknown kind, and for kind SealedAppSecret with an after
// that is neither "" nor 20 digits.
func (r Reader) SealedValues(ctx context.Context, kind core.SealedKind, after string, limit int) ([]core.SealedValue, error) {
	ctx, err := r.engine.Begin(ctx)
	if err != nil {
		return nil, err
	}
	query, args, none, err := SealedList(kind, after, limit, r.reads.Placeholder, r.reads.SealedApps)
	if err != nil || none {
		return nil, err
	}
	scan := func(row Scanner) (core.SealedValue, error) { return ScanSealed(row, kind) }
	return All(ctx, r.engine, scan, query, args...)
}

// EmailIndexes returns no users for a limit of 0 or less.
func (r Reader) EmailIndexes(ctx context.Context, afterUserID string, limit int) ([]core.IndexedEmail, error) {
	ctx, err := r.engine.Begin(ctx)
	if err != nil || limit <= 0 {
		return nil, err
	}
	return All(ctx, r.engine, scanIndexedEmail, EmailIndexList(r.reads.Placeholder), afterUserID, limit)
}

func scanInt(row Scanner) (int, error) {
	var n int
	err := row.Scan(&n)
	return n, err
}

// Ping reports whether the database answers a query.
func (r Reader) Ping(ctx context.Context) error {
	ctx, err := r.engine.Begin(ctx)
	if err != nil {
		return err
	}
	_, err = All(ctx, r.engine, scanInt, `SELECT 1`)
	return err
}

// SchemaVersion returns the highest migration version applied to the
// database, or 0 for none.
func (r Reader) SchemaVersion(ctx context.Context) (int, error) {
	ctx, err := r.engine.Begin(ctx)
	if err != nil {
		return 0, err
	}
	v, err := All(ctx, r.engine, scanInt, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`)
	if err != nil || len(v) == 0 {
		return 0, err
	}
	return v[0], nil
}
