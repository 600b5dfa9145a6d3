package core_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

// outboxKey is the part of an outbox event a test compares.
type outboxKey struct {
	Type       usercenter.EventType
	App        uint64
	Actor      string
	UserID     string
	SecretID   string
	Fields     string // sorted, comma-separated
	Field      string
	Disclosure string
	Tokens     int
}

func outboxKeyOf(e usercenter.Event) outboxKey {
	fields := slices.Clone(e.Data.Fields)
	slices.Sort(fields)
	return outboxKey{e.Type, e.SdkAppID, e.Actor, e.Data.UserID, e.Data.SecretID, strings.Join(fields, ","), e.Data.Field, e.Data.Disclosure, e.Data.Tokens}
}

// outbox reads every event of apps (0: the instance's) after cursor, in
// ID order.
func outbox(t *testing.T, s core.Reader, cursor int64, apps ...uint64) []usercenter.Event {
	t.Helper()
	var out []usercenter.Event
	for _, app := range append([]uint64{0}, apps...) {
		for after := cursor; ; {
			page, err := s.EventsAfter(bg, app, after, 1000)
			if err != nil {
				t.Fatalf("EventsAfter: %v", err)
			}
			out = append(out, page...)
			if len(page) < 1000 {
				break
			}
			after = page[len(page)-1].ID
		}
	}
	slices.SortFunc(out, func(a, b usercenter.Event) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func lastOutboxID(t *testing.T, s core.Reader, apps ...uint64) int64 {
	t.Helper()
	evs := outbox(t, s, 0, apps...)
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].ID
}

func wantOutbox(t *testing.T, got []usercenter.Event, want ...outboxKey) {
	t.Helper()
	g := make([]outboxKey, len(got))
	for i, e := range got {
		g[i] = outboxKeyOf(e)
	}
	order := func(a, b outboxKey) int {
		return cmp.Or(strings.Compare(string(a.Type)+"\x00"+a.UserID+"\x00"+a.SecretID+"\x00"+a.Field, string(b.Type)+"\x00"+b.UserID+"\x00"+b.SecretID+"\x00"+b.Field), cmp.Compare(a.App, b.App))
	}
	w := slices.Clone(want)
	slices.SortFunc(g, order)
	slices.SortFunc(w, order)
	if !slices.Equal(g, w) {
		t.Fatalf("outbox events:\n got  %+v\n want %+v", g, w)
	}
}

// TestEveryChangeWritesItsEvents runs every use case that changes
// something or discloses personal data, and checks that each writes
// exactly its audit events and outbox events, with its actor.
func TestEveryChangeWritesItsEvents(t *testing.T) {
	mk := vault.NewKey()
	in := newInstance(t, mk)
	admin := usercenter.OperatorAs("cli:alice")
	app, first, err := in.svc.CreateApp(bg, admin, core.NewApp{Name: "events"})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := in.svc.CreateApp(bg, admin, core.NewApp{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	id, otherID := app.SdkAppID, other.SdkAppID
	key := first.Actor()
	keyName := key.Name
	u := mustUser(t, in.svc, key, id, personal("mu", phone1, email1, address1))
	var (
		twoApps *usercenter.APIKey // created by one case, revoked by a later one
		created []usercenter.User
	)
	superApp := svctest.SuperAppActor(id)

	type want struct {
		audits []eventKey
		events []outboxKey
	}
	adminAudit := func(app uint64, action usercenter.AuditAction, field string) eventKey {
		return eventKey{app, "", action, field, "cli:alice", "req"}
	}
	cases := []struct {
		name string
		run  func(t *testing.T) want
	}{
		{"create app", func(t *testing.T) want {
			a, k, err := in.svc.CreateApp(reqCtx("req"), admin, core.NewApp{Name: "third"})
			if err != nil {
				t.Fatal(err)
			}
			return want{
				[]eventKey{adminAudit(a.SdkAppID, usercenter.AuditAppCreate, ""), adminAudit(a.SdkAppID, usercenter.AuditKeyCreate, k.SecretID)},
				[]outboxKey{{Type: usercenter.EventAppCreated, App: a.SdkAppID, Actor: "cli:alice"}, {Type: usercenter.EventKeyCreated, App: a.SdkAppID, Actor: "cli:alice", SecretID: k.SecretID}},
			}
		}},
		{"update app settings", func(t *testing.T) want {
			cipher := usercenter.CipherAESCBCBase64
			if _, err := in.svc.UpdateApp(reqCtx("req"), admin, id, core.AppPatch{Name: ptr("renamed"), RateLimit: ptr(77), SuperAppCipher: &cipher, PhoneRegion: ptr(app.PhoneRegion)}); err != nil {
				t.Fatal(err)
			}
			// The phone region did not change: it is not named.
			return want{
				[]eventKey{adminAudit(id, usercenter.AuditAppUpdate, "appName"), adminAudit(id, usercenter.AuditAppUpdate, "rateLimit"), adminAudit(id, usercenter.AuditAppUpdate, "superAppCipher")},
				[]outboxKey{{Type: usercenter.EventAppUpdated, App: id, Actor: "cli:alice", Fields: "appName,rateLimit,superAppCipher"}},
			}
		}},
		{"update app to the same settings", func(t *testing.T) want {
			if _, err := in.svc.UpdateApp(reqCtx("req"), admin, id, core.AppPatch{Name: ptr("renamed")}); err != nil {
				t.Fatal(err)
			}
			return want{}
		}},
		{"replace SuperApp secret", func(t *testing.T) want {
			if _, err := in.svc.UpdateApp(reqCtx("req"), admin, id, core.AppPatch{SuperAppSecretKey: ptr("0123456789abcdefFEDCBA9876543210")}); err != nil {
				t.Fatal(err)
			}
			return want{
				[]eventKey{adminAudit(id, usercenter.AuditSuperAppSecretReplace, "superAppSecretKey")},
				[]outboxKey{{Type: usercenter.EventSuperAppSecretReplaced, App: id, Actor: "cli:alice"}},
			}
		}},
		{"create key", func(t *testing.T) want {
			twoApps, err = in.svc.CreateKey(reqCtx("req"), admin, "two", []uint64{otherID, id}, []usercenter.Permission{usercenter.PermUsersRead})
			if err != nil {
				t.Fatal(err)
			}
			s := twoApps.SecretID
			return want{
				[]eventKey{adminAudit(id, usercenter.AuditKeyCreate, s), adminAudit(otherID, usercenter.AuditKeyCreate, s)},
				[]outboxKey{{Type: usercenter.EventKeyCreated, App: id, Actor: "cli:alice", SecretID: s}, {Type: usercenter.EventKeyCreated, App: otherID, Actor: "cli:alice", SecretID: s}},
			}
		}},
		{"revoke key", func(t *testing.T) want {
			if err := in.svc.RevokeKey(reqCtx("req"), admin, twoApps.SecretID); err != nil {
				t.Fatal(err)
			}
			s := twoApps.SecretID
			return want{
				[]eventKey{adminAudit(id, usercenter.AuditKeyRevoke, s), adminAudit(otherID, usercenter.AuditKeyRevoke, s)},
				[]outboxKey{{Type: usercenter.EventKeyRevoked, App: id, Actor: "cli:alice", SecretID: s}, {Type: usercenter.EventKeyRevoked, App: otherID, Actor: "cli:alice", SecretID: s}},
			}
		}},
		{"create user", func(t *testing.T) want {
			v, err := svctest.CreateUser(in.svc, reqCtx("req"), key, id, personal("new", "", email1, ""))
			if err != nil {
				t.Fatal(err)
			}
			return want{
				[]eventKey{{id, v.ID, usercenter.AuditCreate, "", keyName, "req"}},
				[]outboxKey{{Type: usercenter.EventUserCreated, App: id, Actor: keyName, UserID: v.ID}},
			}
		}},
		{"create users in a batch", func(t *testing.T) want {
			created, err = in.svc.CreateUsers(reqCtx("req"), key, id, []core.UserPatch{{OriginID: ptr("b1")}, {OriginID: ptr("b2")}})
			if err != nil {
				t.Fatal(err)
			}
			var w want
			for _, v := range created {
				w.audits = append(w.audits, eventKey{id, v.ID, usercenter.AuditCreate, "", keyName, "req"})
				w.events = append(w.events, outboxKey{Type: usercenter.EventUserCreated, App: id, Actor: keyName, UserID: v.ID})
			}
			return w
		}},
		{"update user", func(t *testing.T) want {
			if _, err := in.svc.UpdateUser(reqCtx("req"), key, u.ID, core.UserPatch{Nickname: ptr("changed"), Phone: ptr("+8613800000000")}); err != nil {
				t.Fatal(err)
			}
			return want{
				[]eventKey{{id, u.ID, usercenter.AuditUpdate, "nickname", keyName, "req"}, {id, u.ID, usercenter.AuditUpdate, "phone", keyName, "req"}},
				[]outboxKey{{Type: usercenter.EventUserUpdated, App: id, Actor: keyName, UserID: u.ID, Fields: "nickname,phone"}},
			}
		}},
		{"update user to the same values", func(t *testing.T) want {
			if _, err := in.svc.UpdateUser(reqCtx("req"), key, u.ID, core.UserPatch{Nickname: ptr("changed")}); err != nil {
				t.Fatal(err)
			}
			return want{}
		}},
		{"change user status", func(t *testing.T) want {
			if err := svctest.SetUserStatus(in.svc, reqCtx("req"), key, created[0].ID, usercenter.UserDisabled); err != nil {
				t.Fatal(err)
			}
			v := created[0].ID
			return want{
				[]eventKey{{id, v, usercenter.AuditUpdate, "status", keyName, "req"}},
				[]outboxKey{{Type: usercenter.EventUserUpdated, App: id, Actor: keyName, UserID: v, Fields: "status"}, {Type: usercenter.EventUserStatusChanged, App: id, Actor: keyName, UserID: v}},
			}
		}},
		{"reveal", func(t *testing.T) want {
			if _, err := in.svc.GetUser(reqCtx("req"), key, u.ID, []usercenter.PIIField{usercenter.FieldEmail, usercenter.FieldAddress}); err != nil {
				t.Fatal(err)
			}
			return want{
				[]eventKey{{id, u.ID, usercenter.AuditReveal, "email", keyName, "req"}, {id, u.ID, usercenter.AuditReveal, "address", keyName, "req"}},
				[]outboxKey{{Type: usercenter.EventPIIDisclosed, App: id, Actor: keyName, UserID: u.ID, Field: "email", Disclosure: "reveal"}, {Type: usercenter.EventPIIDisclosed, App: id, Actor: keyName, UserID: u.ID, Field: "address", Disclosure: "reveal"}},
			}
		}},
		{"deliver to the super-app platform", func(t *testing.T) want {
			code, err := in.svc.SuperAppIssueCode(bg, superApp, u.ID, "email")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := in.svc.SuperAppDeliver(reqCtx("req"), superApp, u.ID, usercenter.FieldEmail, code.Code); err != nil {
				t.Fatal(err)
			}
			return want{
				[]eventKey{{id, u.ID, usercenter.AuditDeliver, "email", superApp.Name, "req"}},
				[]outboxKey{{Type: usercenter.EventPIIDisclosed, App: id, Actor: superApp.Name, UserID: u.ID, Field: "email", Disclosure: "deliver"}},
			}
		}},
		{"revoke a user's tokens", func(t *testing.T) want {
			for range 2 {
				if _, err := svctest.LoginUser(in.svc, bg, key, u.ID); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := in.svc.RevokeUserTokens(reqCtx("req"), admin, u.ID); err != nil || n != 2 {
				t.Fatalf("RevokeUserTokens = %d, %v; want 2", n, err)
			}
			return want{
				[]eventKey{{id, u.ID, usercenter.AuditTokensRevoke, "", "cli:alice", "req"}},
				[]outboxKey{{Type: usercenter.EventUserTokensRevoked, App: id, Actor: "cli:alice", UserID: u.ID, Tokens: 2}},
			}
		}},
		{"revoke a user's tokens when none is left", func(t *testing.T) want {
			if n, err := in.svc.RevokeUserTokens(reqCtx("req"), key, u.ID); err != nil || n != 0 {
				t.Fatalf("RevokeUserTokens = %d, %v; want 0", n, err)
			}
			return want{}
		}},
		{"delete user", func(t *testing.T) want {
			if err := in.svc.DeleteUser(reqCtx("req"), key, created[1].ID); err != nil {
				t.Fatal(err)
			}
			v := created[1].ID
			return want{
				[]eventKey{{id, v, usercenter.AuditDelete, "", keyName, "req"}},
				[]outboxKey{{Type: usercenter.EventUserDeleted, App: id, Actor: keyName, UserID: v}},
			}
		}},
		{"rotate the master key", func(t *testing.T) want {
			if _, err := core.Reseal(reqCtx("req"), in.store, mustRing(t, vault.NewKey(), mk), admin); err != nil {
				t.Fatal(err)
			}
			return want{
				[]eventKey{adminAudit(0, usercenter.AuditMasterKeyRotate, "")},
				[]outboxKey{{Type: usercenter.EventMasterKeyRotated, Actor: "cli:alice"}},
			}
		}},
	}
	apps := func() []uint64 {
		all, err := in.svc.Apps(bg)
		if err != nil {
			t.Fatal(err)
		}
		var ids []uint64
		for _, a := range all {
			ids = append(ids, a.SdkAppID)
		}
		return ids
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			auditBefore, outboxBefore := lastEventID(t, in.store), lastOutboxID(t, in.store, apps()...)
			w := c.run(t)
			wantEvents(t, eventsAfter(t, in.store, auditBefore), w.audits...)
			wantOutbox(t, outbox(t, in.store, outboxBefore, apps()...), w.events...)
		})
	}
}

// failingEventsStore hands Update's fn a Tx whose InsertEvents fails.
type failingEventsStore struct{ core.Store }

var errOutboxDown = errors.New("outbox unavailable")

func (s failingEventsStore) Update(ctx context.Context, fn func(core.Tx) error) error {
	return s.Store.Update(ctx, func(tx core.Tx) error { return fn(failingEventsTx{tx}) })
}

type failingEventsTx struct{ core.Tx }

func (failingEventsTx) InsertEvents(context.Context, []*usercenter.Event) error { return errOutboxDown }

// TestFailedChangeLeavesNoEvent: when a change's transaction fails (here
// on writing its event) neither the change, nor its audit event, nor any
// event is kept.
func TestFailedChangeLeavesNoEvent(t *testing.T) {
	mk := vault.NewKey()
	in := newInstance(t, mk)
	admin := usercenter.OperatorAs("cli:alice")
	app, first, err := in.svc.CreateApp(bg, admin, core.NewApp{Name: "events"})
	if err != nil {
		t.Fatal(err)
	}
	key := first.Actor()
	u := mustUser(t, in.svc, key, app.SdkAppID, personal("mu", phone1, email1, address1))
	session, err := svctest.LoginUser(in.svc, bg, key, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	broken, err := core.NewService(bg, failingEventsStore{in.store}, mustRing(t, mk))
	if err != nil {
		t.Fatal(err)
	}
	auditBefore, outboxBefore := lastEventID(t, in.store), lastOutboxID(t, in.store, app.SdkAppID)
	appsBefore, _ := in.svc.Apps(bg)
	keysBefore, _ := in.svc.Keys(bg)

	for name, change := range map[string]func() error{
		"CreateApp": func() error { _, _, err := broken.CreateApp(bg, admin, core.NewApp{Name: "lost"}); return err },
		"UpdateApp": func() error {
			_, err := broken.UpdateApp(bg, admin, app.SdkAppID, core.AppPatch{Name: ptr("lost")})
			return err
		},
		"replace SuperApp secret": func() error {
			_, err := broken.UpdateApp(bg, admin, app.SdkAppID, core.AppPatch{SuperAppSecretKey: ptr("0123456789abcdefFEDCBA9876543210")})
			return err
		},
		"CreateKey": func() error {
			_, err := broken.CreateKey(bg, admin, "lost", []uint64{app.SdkAppID}, usercenter.AllPermissions)
			return err
		},
		"RevokeKey": func() error { return broken.RevokeKey(bg, admin, first.SecretID) },
		"CreateUser": func() error {
			_, err := svctest.CreateUser(broken, bg, key, app.SdkAppID, personal("lost", "", "", ""))
			return err
		},
		"CreateUsers": func() error {
			_, err := broken.CreateUsers(bg, key, app.SdkAppID, []core.UserPatch{{OriginID: ptr("l1")}, {OriginID: ptr("l2")}})
			return err
		},
		"UpdateUser": func() error {
			_, err := broken.UpdateUser(bg, key, u.ID, core.UserPatch{Nickname: ptr("lost")})
			return err
		},
		"DeleteUser": func() error { return broken.DeleteUser(bg, key, u.ID) },
		"RevokeUserTokens": func() error {
			_, err := broken.RevokeUserTokens(bg, key, u.ID)
			return err
		},
		"reveal": func() error { _, err := broken.GetUser(bg, key, u.ID, usercenter.PIIFields); return err },
		"rotate": func() error {
			_, err := core.Reseal(bg, failingEventsStore{in.store}, mustRing(t, mk), admin)
			return err
		},
	} {
		if err := change(); !errors.Is(err, errOutboxDown) {
			t.Errorf("%s without its event: %v, want the outbox's failure", name, err)
		}
	}
	wantEvents(t, eventsAfter(t, in.store, auditBefore))
	wantOutbox(t, outbox(t, in.store, outboxBefore, app.SdkAppID))
	appsAfter, _ := in.svc.Apps(bg)
	keysAfter, _ := in.svc.Keys(bg)
	if len(appsAfter) != len(appsBefore) || appsAfter[0].Name != "events" || len(keysAfter) != len(keysBefore) || !keysAfter[0].RevokedAt.IsZero() {
		t.Errorf("failed changes were kept: apps %+v, keys %+v", appsAfter, keysAfter)
	}
	cur, err := in.svc.GetUser(bg, key, u.ID, nil)
	if err != nil || cur.Nickname != "mu" {
		t.Errorf("after failed changes the user is %+v, %v", cur, err)
	}
	if _, err := in.svc.Me(bg, session.Token); err != nil {
		t.Errorf("a failed revocation ended the token: %v", err)
	}
}

// TestEventsHoldNoPersonalData seeds personal data and secrets, runs the
// use cases that write events, and finds none of the values in any event.
func TestEventsHoldNoPersonalData(t *testing.T) {
	mk := vault.NewKey()
	in := newInstance(t, mk)
	admin := usercenter.OperatorAs("cli:alice")
	app, first, err := in.svc.CreateApp(bg, admin, core.NewApp{Name: "events"})
	if err != nil {
		t.Fatal(err)
	}
	key := first.Actor()
	const (
		phone2, email2, address2 = "+8613712345678", "second@example.org", "上海市浦东新区世纪大道100号"
		secret                   = "S3cretSuperAppKey0123456789ABCDE"
	)
	u := mustUser(t, in.svc, key, app.SdkAppID, personal("mu", phone1, email1, address1))
	if _, err := in.svc.UpdateUser(bg, key, u.ID, core.UserPatch{Phone: ptr(phone2), Email: ptr(email2), Address: ptr(address2)}); err != nil {
		t.Fatal(err)
	}
	session, err := svctest.LoginUser(in.svc, bg, key, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.svc.GetUser(bg, key, u.ID, usercenter.PIIFields); err != nil {
		t.Fatal(err)
	}
	if _, err := in.svc.UpdateApp(bg, admin, app.SdkAppID, core.AppPatch{SuperAppSecretKey: ptr(secret)}); err != nil {
		t.Fatal(err)
	}
	k, err := in.svc.CreateKey(bg, admin, "k", []uint64{app.SdkAppID}, usercenter.AllPermissions)
	if err != nil {
		t.Fatal(err)
	}
	superApp := svctest.SuperAppActor(app.SdkAppID)
	code, err := in.svc.SuperAppIssueCode(bg, superApp, u.ID, "phone")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.svc.SuperAppDeliver(bg, superApp, u.ID, usercenter.FieldPhone, code.Code); err != nil {
		t.Fatal(err)
	}
	if _, err := in.svc.RevokeUserTokens(bg, key, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := in.svc.DeleteUser(bg, key, u.ID); err != nil {
		t.Fatal(err)
	}

	events := outbox(t, in.store, 0, app.SdkAppID)
	types := map[usercenter.EventType]bool{}
	for _, e := range events {
		types[e.Type] = true
	}
	for _, typ := range []usercenter.EventType{usercenter.EventUserCreated, usercenter.EventUserUpdated, usercenter.EventPIIDisclosed, usercenter.EventSuperAppSecretReplaced, usercenter.EventKeyCreated, usercenter.EventUserTokensRevoked, usercenter.EventUserDeleted} {
		if !types[typ] {
			t.Errorf("no %s event was written: the scan would prove nothing", typ)
		}
	}
	raw, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{phone1, "13612346688", email1, address1, phone2, "13712345678", email2, address2,
		secret, k.SecretKey, first.SecretKey, session.Token, code.Code} {
		if strings.Contains(string(raw), v) {
			t.Errorf("an event holds %q", v)
		}
	}
}
