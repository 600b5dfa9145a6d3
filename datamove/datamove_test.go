package datamove_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"usercenter"
	"usercenter/aksig"
	"usercenter/core"
	"usercenter/datamove"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
	"usercenter/replay"
	"usercenter/sqlite"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

var bg = context.Background()

// plainUser is what the test wrote for one user, to compare with what the
// destination reveals.
type plainUser struct {
	id, app, phone, email, address, wechat string
}

// source is a SQLite instance filled through core.Service with every kind
// of row there is.
type source struct {
	path    string
	ring    *vault.Keyring
	store   *sqlite.Store
	svc     *core.Service
	apps    []*usercenter.App
	liveKey *usercenter.APIKey
	revoked string
	users   []plainUser
	deleted string
	tokens  []string // login tokens, all live
	unused  *core.TemporaryCode
	unusedU string // whose the unused code is
	entTok  string
}

func mustRing(t *testing.T) *vault.Keyring {
	t.Helper()
	r, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ptr[T any](v T) *T { return &v }

// newSource builds the instance and leaves its store open; call close
// before moving it unless the test wants a server's store on it.
func newSource(t *testing.T, nUsers int) *source {
	t.Helper()
	s := &source{path: filepath.Join(t.TempDir(), "usercenter.db"), ring: mustRing(t)}
	var err error
	if s.store, err = sqlite.Open(bg, s.path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.store.Close() })
	if s.svc, err = core.NewService(bg, s.store, s.ring, core.WithReplayMemory(replay.New(core.ReplayWindow, replay.DefaultShare))); err != nil {
		t.Fatal(err)
	}
	op := usercenter.Operator()

	a1, k1, err := s.svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "alpha"})
	if err != nil {
		t.Fatal(err)
	}
	a2, _, err := s.svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "beta", PhoneRegion: "US"})
	if err != nil {
		t.Fatal(err)
	}
	cipher := usercenter.CipherAESGCMBase64
	if a2, err = s.svc.UpdateApp(bg, usercenter.Operator(), a2.SdkAppID, core.AppPatch{SuperAppSecretKey: ptr("0123456789abcdef0123456789abcdef"), SuperAppCipher: &cipher}); err != nil {
		t.Fatal(err)
	}
	s.apps = []*usercenter.App{a1, a2}
	if s.liveKey, err = s.svc.CreateKey(bg, usercenter.Operator(), "both", []uint64{a1.SdkAppID, a2.SdkAppID}, usercenter.AllPermissions); err != nil {
		t.Fatal(err)
	}
	s.revoked = k1.SecretID
	if err := s.svc.RevokeKey(bg, usercenter.Operator(), k1.SecretID); err != nil {
		t.Fatal(err)
	}

	for i := range nUsers {
		app := s.apps[i%2]
		u := plainUser{
			phone:   fmt.Sprintf("+86 138 %04d %04d", i/10000, i%10000),
			email:   fmt.Sprintf("user%d@example.com", i),
			address: fmt.Sprintf("%d Test Road", i),
			wechat:  fmt.Sprintf("wx-%d", i),
		}
		if app == a2 {
			u.phone = fmt.Sprintf("+1 415 555 %04d", i%10000)
		}
		p := core.UserPatch{
			Nickname: ptr(fmt.Sprintf("user %d", i)), OriginID: ptr(fmt.Sprintf("origin-%d", i)),
			Phone: &u.phone, Email: &u.email, Address: &u.address, City: ptr("Shenzhen"),
			ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderWeChatUnion: &u.wechat},
		}
		if i%5 == 4 { // some users have no personal data at all
			p.Phone, p.Email, p.Address = nil, nil, nil
			u.phone, u.email, u.address = "", "", ""
		}
		created, err := svctest.CreateUser(s.svc, bg, op, app.SdkAppID, p)
		if err != nil {
			t.Fatalf("CreateUser %d: %v", i, err)
		}
		u.id, u.app = created.ID, fmt.Sprint(app.SdkAppID)
		u.phone, u.email = created.Phone, created.Email // as normalised; masked unless empty
		s.users = append(s.users, u)
	}
	// The plain values as stored (normalised), through a revealing read.
	for i := range s.users {
		got, err := s.svc.GetUser(bg, op, s.users[i].id, []usercenter.PIIField{usercenter.FieldPhone, usercenter.FieldEmail, usercenter.FieldAddress})
		if err != nil {
			t.Fatal(err)
		}
		s.users[i].phone, s.users[i].email, s.users[i].address = got.Phone, got.Email, got.Address
	}
	for i := range min(10, len(s.users)) {
		sess, err := svctest.LoginUser(s.svc, bg, op, s.users[i].id)
		if err != nil {
			t.Fatal(err)
		}
		s.tokens = append(s.tokens, sess.Token)
	}

	// Codes: one taken, one left unused, and a failed attempt counted.
	if len(s.users) >= 2 {
		u0, u1 := s.users[0], s.users[1]
		appOf := func(u plainUser) *usercenter.App {
			for _, a := range s.apps {
				if fmt.Sprint(a.SdkAppID) == u.app {
					return a
				}
			}
			t.Fatal("no app")
			return nil
		}
		c0, err := s.svc.SuperAppIssueCode(bg, svctest.SuperAppActor(appOf(u0).SdkAppID), u0.id, "phone")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.SuperAppDeliver(bg, svctest.SuperAppActor(appOf(u0).SdkAppID), u0.id, usercenter.FieldPhone, c0.Code); err != nil {
			t.Fatal(err)
		}
		if s.unused, err = s.svc.SuperAppIssueCode(bg, svctest.SuperAppActor(appOf(u1).SdkAppID), u1.id, "email"); err != nil {
			t.Fatal(err)
		}
		s.unusedU = u1.id
		if _, err := s.svc.SuperAppDeliver(bg, svctest.SuperAppActor(appOf(u0).SdkAppID), u0.id, usercenter.FieldPhone, "wrong-code"); !errors.Is(err, core.ErrBadCode) {
			t.Fatalf("wrong code: %v", err)
		}
	}

	username := fmt.Sprintf("ver=1&auth_mode=accessKey&sign_method=sha256&access_key=%s&timestamp=%d", s.liveKey.SecretID, time.Now().UnixMilli())
	sess, err := s.svc.AccessKeyLogin(bg, username, aksig.Password(username, s.liveKey.SecretKey))
	if err != nil {
		t.Fatal(err)
	}
	s.entTok = sess.Token

	// A deleted user leaves audit events behind.
	if len(s.users) >= 3 {
		last := s.users[len(s.users)-1]
		if err := s.svc.DeleteUser(bg, op, last.id); err != nil {
			t.Fatal(err)
		}
		s.deleted = last.id
		s.users = s.users[:len(s.users)-1]
	}
	return s
}

func (s *source) close(t *testing.T) {
	t.Helper()
	if err := s.store.Close(); err != nil {
		t.Fatal(err)
	}
}

// dest opens the destination as a server would.
type dest struct {
	store *postgres.Store
	svc   *core.Service
}

func openDest(t *testing.T, dsn string, ring *vault.Keyring) (*dest, error) {
	t.Helper()
	store, err := postgres.Open(bg, dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := core.NewService(bg, store, ring)
	if err != nil {
		store.Close()
		return nil, err
	}
	return &dest{store: store, svc: svc}, nil
}

func migrate(t *testing.T, src *source, dsn string, opts datamove.Options) *datamove.Report {
	t.Helper()
	if opts.Keyring == nil {
		opts.Keyring = src.ring
	}
	rep, err := datamove.Migrate(bg, src.path, dsn, opts)
	if err != nil {
		if rep != nil {
			t.Fatalf("Migrate: %v\nproblems: %q", err, rep.Problems)
		}
		t.Fatalf("Migrate: %v", err)
	}
	if !rep.Verified {
		t.Fatalf("not verified: %+v", rep)
	}
	return rep
}

func tableReport(t *testing.T, rep *datamove.Report, name string) datamove.TableReport {
	t.Helper()
	for _, r := range rep.Tables {
		if r.Table == name {
			return r
		}
	}
	t.Fatalf("no report for %s", name)
	return datamove.TableReport{}
}

// pgCount counts a destination table's rows.
func pgCount(t *testing.T, dsn, table string) int64 {
	t.Helper()
	c, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(bg)
	var n int64
	if err := c.QueryRow(bg, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func pgExec(t *testing.T, dsn, sql string, args ...any) {
	t.Helper()
	c, err := pgx.Connect(bg, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(bg)
	if _, err := c.Exec(bg, sql, args...); err != nil {
		t.Fatal(err)
	}
}

func allEvents(t *testing.T, r interface {
	AuditEvents(context.Context, usercenter.AuditFilter) ([]usercenter.AuditEvent, error)
}) []usercenter.AuditEvent {
	t.Helper()
	var out []usercenter.AuditEvent
	f := usercenter.AuditFilter{Limit: 1000}
	for {
		page, err := r.AuditEvents(bg, f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if len(page) < f.Limit {
			return out
		}
		f.AfterID = page[len(page)-1].ID
	}
}

// TestMigrateData moves a small instance and then uses the destination as a
// server would: everything the source could do, it can.
func TestMigrateData(t *testing.T) {
	dsn := pgtest.DSN(t)
	src := newSource(t, 25)
	srcEvents := allEvents(t, src.store)
	src.close(t)

	rep := migrate(t, src, dsn, datamove.Options{Batch: 7})
	for _, name := range []string{"meta", "apps", "api_keys", "api_key_apps", "users", "user_links", "tokens", "codes", "code_attempts", "enterprise_tokens", "audit_events", "events"} {
		r := tableReport(t, rep, name)
		if r.Source == 0 {
			t.Errorf("%s: the fixture has no rows", name)
		}
		if r.Inserted != r.Source || r.Destination != r.Source || r.Updated != 0 || r.Removed != 0 {
			t.Errorf("%s: %+v", name, r)
		}
		if r.Sampled != int(r.Source) {
			t.Errorf("%s: sampled %d of %d", name, r.Sampled, r.Source)
		}
	}
	if d := rep.Decrypted; d == nil || d.Apps != 2 || d.Keys != 3 || d.Users != len(src.users) {
		t.Errorf("decrypted %+v, want 2 apps, 3 keys, %d users", rep.Decrypted, len(src.users))
	}
	if want := srcEvents[len(srcEvents)-1].ID + 1; rep.AuditNextID != want {
		t.Errorf("AuditNextID = %d, want %d", rep.AuditNextID, want)
	}

	d, err := openDest(t, dsn, src.ring)
	if err != nil {
		t.Fatalf("the destination does not open with the source's master key: %v", err)
	}
	op := usercenter.Operator()
	reveal := []usercenter.PIIField{usercenter.FieldPhone, usercenter.FieldEmail, usercenter.FieldAddress}

	// Audit events, before the reveals below add some.
	if got := allEvents(t, d.store); !slices.EqualFunc(got, srcEvents, func(a, b usercenter.AuditEvent) bool {
		return a.ID == b.ID && a.At.Equal(b.At) && a.SdkAppID == b.SdkAppID && a.UserID == b.UserID &&
			a.Action == b.Action && a.Field == b.Field && a.Actor == b.Actor && a.RequestID == b.RequestID
	}) {
		t.Fatalf("audit events differ:\n got %v\nwant %v", got, srcEvents)
	}

	for _, u := range src.users {
		got, err := d.svc.GetUser(bg, op, u.id, reveal)
		if err != nil {
			t.Fatalf("GetUser %s: %v", u.id, err)
		}
		if got.Phone != u.phone || got.Email != u.email || got.Address != u.address || got.ThirdParty[usercenter.ProviderWeChatUnion] != u.wechat {
			t.Errorf("user %s: got %q %q %q %q, want %+v", u.id, got.Phone, got.Email, got.Address, got.ThirdParty, u)
		}
		var app uint64
		fmt.Sscan(u.app, &app)
		if u.phone != "" {
			found, err := svctest.FindUsers(d.svc, bg, op, app, core.UserQuery{Phone: u.phone}, nil)
			if err != nil || len(found) != 1 || found[0].ID != u.id {
				t.Errorf("lookup by phone of %s: %v %v", u.id, found, err)
			}
			found, err = svctest.FindUsers(d.svc, bg, op, app, core.UserQuery{Email: u.email}, nil)
			if err != nil || len(found) != 1 || found[0].ID != u.id {
				t.Errorf("lookup by email of %s: %v %v", u.id, found, err)
			}
		}
		found, err := svctest.FindUsers(d.svc, bg, op, app, core.UserQuery{Provider: usercenter.ProviderWeChatUnion, ProviderUserID: u.wechat}, nil)
		if err != nil || len(found) != 1 || found[0].ID != u.id {
			t.Errorf("lookup by link of %s: %v %v", u.id, found, err)
		}
	}
	if _, err := d.svc.GetUser(bg, op, src.deleted, nil); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Errorf("the deleted user: %v", err)
	}
	for _, tok := range src.tokens {
		if _, err := d.svc.Me(bg, tok); err != nil {
			t.Errorf("a login token of the source does not authenticate: %v", err)
		}
	}
	if _, err := d.svc.AuthenticateKey(bg, src.revoked, "any secret"); usercenter.ErrorCode(err) != usercenter.ENotFound {
		t.Errorf("the revoked key: %v, want not found", err)
	}
	if _, err := d.svc.AuthenticateKey(bg, src.liveKey.SecretID, src.liveKey.SecretKey); err != nil {
		t.Errorf("the live key: %v", err)
	}
	for _, a := range src.apps {
		got, err := d.svc.App(bg, usercenter.Operator(), a.SdkAppID)
		if err != nil {
			t.Fatalf("app %d: %v", a.SdkAppID, err)
		}
		if got.SuperAppSecretKey, err = d.svc.RevealSuperAppSecret(bg, usercenter.Operator(), a.SdkAppID); err != nil {
			t.Fatalf("app %d: %v", a.SdkAppID, err)
		}
		if got.SuperAppSecretKey != a.SuperAppSecretKey || got.SuperAppCipher != a.SuperAppCipher || got.PhoneRegion != a.PhoneRegion {
			t.Errorf("app %d: %+v %v, want %+v", a.SdkAppID, got, err, a)
		}
	}
	if _, err := d.svc.AuthenticateAccessToken(bg, src.entTok); err != nil {
		t.Errorf("the enterprise token: %v", err)
	}
	// The unused code still delivers, once.
	u1 := src.users[1]
	var app *usercenter.App
	for _, a := range src.apps {
		if fmt.Sprint(a.SdkAppID) == u1.app {
			app = a
		}
	}
	if _, err := d.svc.SuperAppDeliver(bg, svctest.SuperAppActor(app.SdkAppID), u1.id, usercenter.FieldEmail, src.unused.Code); err != nil {
		t.Errorf("the unused code: %v", err)
	}

	// New audit events (the reveals above) come after the copied ones.
	after := allEvents(t, d.store)
	if len(after) <= len(srcEvents) {
		t.Fatal("the reveals wrote no audit events")
	}
	for _, e := range after[len(srcEvents):] {
		if e.ID <= srcEvents[len(srcEvents)-1].ID {
			t.Errorf("new audit event %d does not follow the copied ones (last %d)", e.ID, srcEvents[len(srcEvents)-1].ID)
		}
	}
}
