// Package svctest builds a bare usercenter service over a fresh store, for
// tests. The tests inside a facade's own package use it: they cannot
// import uctest, which reaches every facade through the server.
//
// The store is SQLite in a temporary directory unless
// USERCENTER_TEST_ENGINE=postgres, which puts it in a fresh schema of the
// database USERCENTER_TEST_POSTGRES names (see package pgtest), so that
// the same tests prove core and the facades on either engine.
package svctest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
	"usercenter"

	"usercenter/core"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
	"usercenter/replay"
	"usercenter/sqlite"
	"usercenter/storecache"
	"usercenter/vault"
)

// EngineVar names the variable that picks the engine.
const EngineVar = "USERCENTER_TEST_ENGINE"

// The engines a test can run on.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Engine is the engine tests run on: SQLite unless EngineVar says
// otherwise.
func Engine() string {
	if e := os.Getenv(EngineVar); e != "" {
		return e
	}
	return SQLite
}

// NewDatabase returns where a fresh, empty database of the engine is, for
// OpenDatabase: a file path in a temporary directory for SQLite, a DSN of
// a new schema (dropped when tb ends) for PostgreSQL. Tests that reopen a
// database, as a restart would, open it more than once.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	switch e := Engine(); e {
	case SQLite:
		return filepath.Join(tb.TempDir(), "usercenter.db")
	case Postgres:
		return pgtest.DSN(tb)
	default:
		tb.Fatalf("%s=%q: want %q or %q", EngineVar, e, SQLite, Postgres)
		return ""
	}
}

// OpenDatabase opens the database NewDatabase returned, and closes the
// store when tb ends.
func OpenDatabase(tb testing.TB, db string) core.Store {
	tb.Helper()
	// A bound, so that an unreachable server fails the test instead of
	// hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		store core.Store
		err   error
	)
	switch e := Engine(); e {
	case SQLite:
		store, err = sqlite.Open(ctx, db)
	case Postgres:
		store, err = postgres.Open(ctx, db, postgres.Options{})
	default:
		tb.Fatalf("%s=%q: want %q or %q", EngineVar, e, SQLite, Postgres)
	}
	if err != nil {
		tb.Fatalf("opening the %s store: %v", Engine(), err)
	}
	tb.Cleanup(func() { store.Close() })
	return store
}

// OpenStore opens a fresh, empty store of the engine that closes when tb
// ends.
func OpenStore(tb testing.TB) core.Store {
	tb.Helper()
	return OpenDatabase(tb, NewDatabase(tb))
}

// New opens a fresh store under a fresh random master key and builds a
// service over it; both close when the test ends. Logs are discarded and
// AccessKey logins are remembered in memory, as by one server, unless an
// option says otherwise.
func New(tb testing.TB, opts ...core.Option) (*core.Service, core.Store) {
	tb.Helper()
	// Cached as serve caches it; see uctest.New.
	var store core.Store = storecache.New(OpenStore(tb), storecache.DefaultLimits)
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		tb.Fatal(err)
	}
	opts = append([]core.Option{
		core.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		// Begun long ago: no earlier process accepted this test's requests.
		core.WithReplayMemory(replay.NewSince(time.Time{}, core.ReplayWindow, replay.DefaultShare)),
	}, opts...)
	svc, err := core.NewService(context.Background(), store, ring, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return svc, store
}

// CreateUser creates one user through the one create path, as the REST
// API's single create does.
func CreateUser(svc *core.Service, ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, p core.UserPatch) (*usercenter.User, error) {
	users, err := svc.CreateUsers(ctx, actor, sdkAppID, []core.UserPatch{p})
	if err != nil {
		return nil, err
	}
	return &users[0], nil
}

// The helpers below call the use cases as tests most often need them:
// one user, one lookup, one page. Each is a thin adapter over the one use
// case of its capability, so a test through them exercises that use case.

// Registration is one user LCIC registers.
type Registration struct {
	SdkAppID uint64
	Name     string
	OriginID string
	Avatar   string
}

func (r Registration) patch() core.UserPatch {
	name, origin, avatar := r.Name, r.OriginID, r.Avatar
	p := core.UserPatch{Nickname: &name, Avatar: &avatar}
	if origin != "" {
		p.OriginID = &origin
	}
	return p
}

// RegisterUser registers and logs in one user, as LCIC's RegisterUser does.
func RegisterUser(svc *core.Service, ctx context.Context, actor *usercenter.Actor, r Registration) (*core.Session, error) {
	return svc.RegisterUser(ctx, actor, r.SdkAppID, r.patch())
}

// BatchRegister registers users as LCIC's BatchRegister does.
func BatchRegister(svc *core.Service, ctx context.Context, actor *usercenter.Actor, regs []Registration) ([]usercenter.User, error) {
	items := make([]core.RegisterItem, len(regs))
	for i, r := range regs {
		items[i] = core.RegisterItem{SdkAppID: r.SdkAppID, UserPatch: r.patch()}
	}
	return svc.BatchRegister(ctx, actor, items)
}

// Imported is a user an import created.
type Imported struct {
	UserID   string
	OriginID string
}

// ImportUsers creates users as the REST import does.
func ImportUsers(svc *core.Service, ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, in []core.UserPatch) ([]Imported, error) {
	users, err := svc.CreateUsers(ctx, actor, sdkAppID, in)
	if err != nil {
		return nil, err
	}
	out := make([]Imported, len(users))
	for i, u := range users {
		out[i] = Imported{UserID: u.ID, OriginID: u.OriginID}
	}
	return out, nil
}

// LoginUser logs a user in by UserId.
func LoginUser(svc *core.Service, ctx context.Context, actor *usercenter.Actor, userID string) (*core.Session, error) {
	return svc.Login(ctx, actor, core.UserRef{UserID: userID})
}

// LoginOriginID logs a user in by (SdkAppId, OriginId).
func LoginOriginID(svc *core.Service, ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, originID string) (*core.Session, error) {
	return svc.Login(ctx, actor, core.UserRef{SdkAppID: sdkAppID, OriginID: originID})
}

// SetUserStatus enables or disables a user.
func SetUserStatus(svc *core.Service, ctx context.Context, actor *usercenter.Actor, userID string, status usercenter.UserStatus) error {
	_, err := svc.UpdateUser(ctx, actor, userID, core.UserPatch{Status: &status})
	return err
}

// FindUsers runs an exact lookup in one app.
func FindUsers(svc *core.Service, ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, q core.UserQuery, reveal []usercenter.PIIField) ([]usercenter.User, error) {
	q.SdkAppID, q.Reveal, q.Limit = sdkAppID, reveal, core.MaxPageSize
	page, err := svc.ListUsers(ctx, actor, q)
	if err != nil {
		return nil, err
	}
	return page.Users, nil
}

// UsersByOrigin finds the users with an OriginId in every app the actor
// may read.
func UsersByOrigin(svc *core.Service, ctx context.Context, actor *usercenter.Actor, originID string) ([]usercenter.User, error) {
	page, err := svc.ListUsers(ctx, actor, core.UserQuery{OriginID: originID, Limit: core.MaxPageSize})
	if err != nil {
		return nil, err
	}
	return page.Users, nil
}

// UsersPage reads a keyset page, as the REST list does (limit 0: 50).
func UsersPage(svc *core.Service, ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, cursor string, limit int, reveal []usercenter.PIIField) ([]usercenter.User, string, error) {
	if limit == 0 {
		limit = core.DefaultListLimit
	}
	page, err := svc.ListUsers(ctx, actor, core.UserQuery{SdkAppID: sdkAppID, Cursor: cursor, Limit: limit, Reveal: reveal})
	if err != nil {
		return nil, "", err
	}
	return page.Users, page.Next, nil
}

// ListUsers reads page (from 1) of an app's users with their count, as
// LCIC's DescribeSdkAppIdUsers does.
func ListUsers(svc *core.Service, ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, page, limit int) ([]usercenter.User, int, error) {
	res, err := svc.ListUsers(ctx, actor, core.UserQuery{SdkAppID: sdkAppID, Offset: (page - 1) * limit, Limit: limit, WithTotal: true})
	if err != nil {
		return nil, 0, err
	}
	return res.Users, res.Total, nil
}

// AuditEvents reads the first page of the audit trail.
func AuditEvents(svc *core.Service, ctx context.Context, actor *usercenter.Actor, f usercenter.AuditFilter) ([]usercenter.AuditEvent, error) {
	events, _, err := svc.AuditPage(ctx, actor, f)
	return events, err
}

// SuperAppActor is the actor AuthenticateSuperApp answers for app
// sdkAppID, for tests that call the super-app use cases directly.
func SuperAppActor(sdkAppID uint64) *usercenter.Actor {
	return &usercenter.Actor{Name: "facade:superapp", Apps: []uint64{sdkAppID}, Permissions: []usercenter.Permission{usercenter.PermUsersRead, usercenter.PermPIIRead}}
}

// AppWithSecret reads an app with its SuperApp secret, as an operator may.
func AppWithSecret(svc *core.Service, ctx context.Context, sdkAppID uint64) (*usercenter.App, error) {
	app, err := svc.App(ctx, usercenter.Operator(), sdkAppID)
	if err != nil {
		return nil, err
	}
	if app.SuperAppSecretKey, err = svc.RevealSuperAppSecret(ctx, usercenter.Operator(), sdkAppID); err != nil {
		return nil, err
	}
	return app, nil
}
