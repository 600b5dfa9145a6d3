package core_test

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

var bg = context.Background()

func ptr[T any](v T) *T { return &v }

// reqCtx is a context carrying a request ID, as the facades set it.
func reqCtx(id string) context.Context { return usercenter.WithRequestID(bg, id) }

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code usercenter.Code) {
	t.Helper()
	if got := usercenter.ErrorCode(err); got != code {
		t.Fatalf("got error %v (code %q), want code %q", err, got, code)
	}
}

// mustUser creates a user through the service.
func mustUser(t *testing.T, svc *core.Service, actor *usercenter.Actor, sdkAppID uint64, p core.UserPatch) *usercenter.User {
	t.Helper()
	u, err := svctest.CreateUser(svc, bg, actor, sdkAppID, p)
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// personal is a patch with the three personal-data fields set.
func personal(nickname, phone, email, address string) core.UserPatch {
	p := core.UserPatch{Nickname: &nickname}
	if phone != "" {
		p.Phone = &phone
	}
	if email != "" {
		p.Email = &email
	}
	if address != "" {
		p.Address = &address
	}
	return p
}

// auditStore is what the audit helpers read from.
type auditStore interface {
	AuditEvents(ctx context.Context, f usercenter.AuditFilter) ([]usercenter.AuditEvent, error)
}

// allEvents returns every event matching f straight from the store.
func allEvents(t *testing.T, s auditStore, f usercenter.AuditFilter) []usercenter.AuditEvent {
	t.Helper()
	var out []usercenter.AuditEvent
	for {
		f.Limit = 1000
		page, err := s.AuditEvents(bg, f)
		if err != nil {
			t.Fatalf("AuditEvents: %v", err)
		}
		out = append(out, page...)
		if len(page) < f.Limit {
			return out
		}
		f.AfterID = page[len(page)-1].ID
	}
}

// lastEventID is the ID of the newest event, a cursor for eventsAfter.
func lastEventID(t *testing.T, s auditStore) int64 {
	t.Helper()
	evs := allEvents(t, s, usercenter.AuditFilter{})
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].ID
}

// eventsAfter returns the events written since cursor.
func eventsAfter(t *testing.T, s auditStore, cursor int64) []usercenter.AuditEvent {
	t.Helper()
	return allEvents(t, s, usercenter.AuditFilter{AfterID: cursor})
}

// eventKey is the part of an event a test compares.
type eventKey struct {
	App    uint64
	User   string
	Action usercenter.AuditAction
	Field  string
	Actor  string
	Req    string
}

func keyOf(e usercenter.AuditEvent) eventKey {
	return eventKey{e.SdkAppID, e.UserID, e.Action, e.Field, e.Actor, e.RequestID}
}

func compareKeys(a, b eventKey) int {
	return cmp.Or(strings.Compare(a.User+"\x00"+string(a.Action)+"\x00"+a.Field, b.User+"\x00"+string(b.Action)+"\x00"+b.Field), cmp.Compare(a.App, b.App))
}

// wantEvents compares events with want, ignoring order, IDs and times.
func wantEvents(t *testing.T, got []usercenter.AuditEvent, want ...eventKey) {
	t.Helper()
	g := make([]eventKey, len(got))
	for i, e := range got {
		g[i] = keyOf(e)
	}
	w := slices.Clone(want)
	slices.SortFunc(g, compareKeys)
	slices.SortFunc(w, compareKeys)
	if !slices.Equal(g, w) {
		t.Fatalf("audit events:\n got  %+v\n want %+v", g, w)
	}
}

// instance is a service over a database of the test engine with a
// keyring the test holds, which uctest does not expose.
type instance struct {
	db    string
	store core.Store
	svc   *core.Service
}

// openInstance opens db, from svctest.NewDatabase, under ring; opening it
// again is what a restart does.
func openInstance(t *testing.T, db string, ring *vault.Keyring) (*instance, error) {
	t.Helper()
	store := svctest.OpenDatabase(t, db)
	svc, err := core.NewService(bg, store, ring)
	if err != nil {
		store.Close()
		return nil, err
	}
	return &instance{db: db, store: store, svc: svc}, nil
}

func mustRing(t *testing.T, keys ...[]byte) *vault.Keyring {
	t.Helper()
	r, err := vault.New(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newInstance(t *testing.T, key []byte) *instance {
	t.Helper()
	in, err := openInstance(t, svctest.NewDatabase(t), mustRing(t, key))
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	return in
}

// newEnv is uctest.New with a second app and a key for it.
func newEnv(t *testing.T) (env *uctest.Env, appB *usercenter.App, keyB *usercenter.APIKey) {
	t.Helper()
	env = uctest.New(t)
	appB, keyB = env.NewApp(t, "second", 1000)
	return env, appB, keyB
}
