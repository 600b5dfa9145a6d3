package core_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

const (
	phone1   = "+8613612346688"
	email1   = "muzhiming@tencent.com"
	address1 = "北京市海淀区中关村大街1号"
)

// GetUser, and GetUserLatest as it, audit each disclosure once and mask
// what they do not reveal.
func TestGetUserRevealAudit(t *testing.T) {
	env := uctest.New(t)
	key := env.Key.Actor()
	app := env.App.SdkAppID
	u := mustUser(t, env.Svc, key, app, personal("mu", phone1, email1, "")) // no address
	reveal := func(a usercenter.AuditAction, f string) eventKey {
		return eventKey{app, u.ID, a, f, "key:" + env.Key.SecretID, "req-get"}
	}

	for _, read := range []struct {
		name string
		get  func(context.Context, *usercenter.Actor, string, []usercenter.PIIField) (*usercenter.User, error)
	}{{"GetUser", env.Svc.GetUser}, {"GetUserLatest", env.Svc.GetUserLatest}} {
		for _, tc := range []struct {
			name   string
			fields []usercenter.PIIField
			want   []eventKey
		}{
			{"no reveal", nil, nil},
			{"empty reveal", []usercenter.PIIField{}, nil},
			{"phone", []usercenter.PIIField{usercenter.FieldPhone}, []eventKey{reveal("reveal", "phone")}},
			{"email", []usercenter.PIIField{usercenter.FieldEmail}, []eventKey{reveal("reveal", "email")}},
			{"phone and email", []usercenter.PIIField{usercenter.FieldPhone, usercenter.FieldEmail},
				[]eventKey{reveal("reveal", "phone"), reveal("reveal", "email")}},
			{"empty address", []usercenter.PIIField{usercenter.FieldAddress}, nil},
			{"all", usercenter.PIIFields, []eventKey{reveal("reveal", "phone"), reveal("reveal", "email")}},
		} {
			t.Run(read.name+"/"+tc.name, func(t *testing.T) {
				before := lastEventID(t, env.Store)
				got, err := read.get(reqCtx("req-get"), key, u.ID, tc.fields)
				if err != nil {
					t.Fatal(err)
				}
				wantEvents(t, eventsAfter(t, env.Store, before), tc.want...)
				shown := map[usercenter.PIIField]bool{}
				for _, f := range tc.fields {
					shown[f] = true
				}
				for _, c := range []struct {
					f          usercenter.PIIField
					got, plain string
					masked     string
				}{
					{usercenter.FieldPhone, got.Phone, phone1, usercenter.MaskPhone(phone1)},
					{usercenter.FieldEmail, got.Email, email1, usercenter.MaskEmail(email1)},
					{usercenter.FieldAddress, got.Address, "", ""},
				} {
					want := c.masked
					if shown[c.f] {
						want = c.plain
					}
					if c.got != want {
						t.Errorf("%s = %q, want %q", c.f, c.got, want)
					}
				}
			})
		}
	}
}

func TestRevealEventContents(t *testing.T) {
	env := uctest.New(t)
	u := mustUser(t, env.Svc, env.Key.Actor(), env.App.SdkAppID, personal("mu", phone1, email1, address1))

	for _, tc := range []struct {
		actor *usercenter.Actor
		name  string
	}{
		{env.Key.Actor(), "key:" + env.Key.SecretID},
		{usercenter.Operator(), "operator"},
	} {
		before := lastEventID(t, env.Store)
		t0 := env.Clock.Now().Add(-time.Second)
		if _, err := env.Svc.GetUser(reqCtx("req-"+tc.name), tc.actor, u.ID, []usercenter.PIIField{usercenter.FieldAddress}); err != nil {
			t.Fatal(err)
		}
		evs := eventsAfter(t, env.Store, before)
		if len(evs) != 1 {
			t.Fatalf("%s: %d events, want 1: %+v", tc.name, len(evs), evs)
		}
		e := evs[0]
		want := usercenter.AuditEvent{ID: e.ID, At: e.At, SdkAppID: env.App.SdkAppID, UserID: u.ID,
			Action: usercenter.AuditReveal, Field: "address", Actor: tc.name, RequestID: "req-" + tc.name}
		if e != want {
			t.Errorf("event %+v, want %+v", e, want)
		}
		if e.ID <= before {
			t.Errorf("event ID %d not after %d", e.ID, before)
		}
		if e.At.Before(t0) || e.At.After(env.Clock.Now().Add(time.Second)) {
			t.Errorf("event at %v, not around the service clock %v", e.At, env.Clock.Now())
		}
	}

	// No request ID in the context: the event still is written, with "".
	before := lastEventID(t, env.Store)
	if _, err := env.Svc.GetUser(bg, env.Key.Actor(), u.ID, []usercenter.PIIField{usercenter.FieldPhone}); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, eventsAfter(t, env.Store, before),
		eventKey{env.App.SdkAppID, u.ID, usercenter.AuditReveal, "phone", "key:" + env.Key.SecretID, ""})
}

// Asking for a field twice is still one disclosure of it.
func TestRevealDuplicateFieldAuditedOnce(t *testing.T) {
	env := uctest.New(t)
	u := mustUser(t, env.Svc, env.Key.Actor(), env.App.SdkAppID, personal("mu", phone1, "", ""))
	before := lastEventID(t, env.Store)
	if _, err := env.Svc.GetUser(reqCtx("r"), usercenter.Operator(), u.ID, []usercenter.PIIField{usercenter.FieldPhone, usercenter.FieldPhone}); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, eventsAfter(t, env.Store, before),
		eventKey{env.App.SdkAppID, u.ID, usercenter.AuditReveal, "phone", "operator", "r"})
}

func TestFindUsersRevealAudit(t *testing.T) {
	env := uctest.New(t)
	key := env.Key.Actor()
	app := env.App.SdkAppID
	actor := "key:" + env.Key.SecretID
	// Two users share a phone; one has an email, neither an address.
	u1 := mustUser(t, env.Svc, key, app, personal("one", phone1, email1, ""))
	u2 := mustUser(t, env.Svc, key, app, personal("two", phone1, "", ""))
	mustUser(t, env.Svc, key, app, personal("other", "+8613900001111", "other@example.com", address1))

	before := lastEventID(t, env.Store)
	users, err := svctest.FindUsers(env.Svc, reqCtx("find"), key, app, core.UserQuery{Phone: phone1}, usercenter.PIIFields)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 {
		t.Fatalf("found %d users, want 2", len(users))
	}
	for _, u := range users {
		if u.Phone != phone1 {
			t.Errorf("user %s phone %q, want it revealed", u.ID, u.Phone)
		}
	}
	wantEvents(t, eventsAfter(t, env.Store, before),
		eventKey{app, u1.ID, "reveal", "phone", actor, "find"},
		eventKey{app, u1.ID, "reveal", "email", actor, "find"},
		eventKey{app, u2.ID, "reveal", "phone", actor, "find"},
	)

	// Without reveal: no event, values masked.
	before = lastEventID(t, env.Store)
	users, err = svctest.FindUsers(env.Svc, reqCtx("find2"), key, app, core.UserQuery{Phone: phone1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Phone != usercenter.MaskPhone(phone1) {
			t.Errorf("user %s phone %q, want it masked", u.ID, u.Phone)
		}
	}
	wantEvents(t, eventsAfter(t, env.Store, before))

	// A lookup that finds nobody discloses nothing.
	before = lastEventID(t, env.Store)
	users, err = svctest.FindUsers(env.Svc, reqCtx("find3"), key, app, core.UserQuery{Email: "nobody@example.com"}, usercenter.PIIFields)
	if err != nil || len(users) != 0 {
		t.Fatalf("FindUsers = %v, %v; want none", users, err)
	}
	wantEvents(t, eventsAfter(t, env.Store, before))
}

func TestUsersPageRevealAudit(t *testing.T) {
	env := uctest.New(t)
	key := env.Key.Actor()
	app := env.App.SdkAppID
	actor := "key:" + env.Key.SecretID
	u1 := mustUser(t, env.Svc, key, app, personal("one", phone1, email1, address1))
	u2 := mustUser(t, env.Svc, key, app, personal("two", "", "two@example.com", ""))
	u3 := mustUser(t, env.Svc, key, app, personal("three", "", "", ""))

	before := lastEventID(t, env.Store)
	var all []usercenter.User
	cursor := ""
	for page := 0; ; page++ {
		users, next, err := svctest.UsersPage(env.Svc, reqCtx("page"), key, app, cursor, 2, []usercenter.PIIField{usercenter.FieldPhone, usercenter.FieldEmail})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, users...)
		if next == "" {
			break
		}
		if page > 3 {
			t.Fatal("too many pages")
		}
		cursor = next
	}
	if len(all) != 3 {
		t.Fatalf("listed %d users, want 3", len(all))
	}
	wantEvents(t, eventsAfter(t, env.Store, before),
		eventKey{app, u1.ID, "reveal", "phone", actor, "page"},
		eventKey{app, u1.ID, "reveal", "email", actor, "page"},
		eventKey{app, u2.ID, "reveal", "email", actor, "page"},
	)
	for _, u := range all {
		if u.ID == u1.ID && (u.Phone != phone1 || u.Email != email1 || u.Address != usercenter.MaskAddress(address1)) {
			t.Errorf("user 1 listed as %q %q %q", u.Phone, u.Email, u.Address)
		}
	}
	_ = u3

	before = lastEventID(t, env.Store)
	users, _, err := svctest.UsersPage(env.Svc, reqCtx("page2"), key, app, "", 10, nil)
	if err != nil || len(users) != 3 {
		t.Fatalf("UsersPage = %d users, %v", len(users), err)
	}
	wantEvents(t, eventsAfter(t, env.Store, before))
}

func TestRevealNeedsPIIRead(t *testing.T) {
	env := uctest.New(t)
	app := env.App.SdkAppID
	u := mustUser(t, env.Svc, env.Key.Actor(), app, personal("mu", phone1, email1, address1))
	reader := env.NewKey(t, []uint64{app}, usercenter.PermUsersRead, usercenter.PermUsersWrite).Actor()
	phone := []usercenter.PIIField{usercenter.FieldPhone}

	before := lastEventID(t, env.Store)
	got, err := env.Svc.GetUser(bg, reader, u.ID, phone)
	wantCode(t, err, usercenter.EForbidden)
	if got != nil {
		t.Errorf("GetUser returned %+v with its error", got)
	}
	_, err = svctest.FindUsers(env.Svc, bg, reader, app, core.UserQuery{Phone: phone1}, phone)
	wantCode(t, err, usercenter.EForbidden)
	_, _, err = svctest.UsersPage(env.Svc, bg, reader, app, "", 10, phone)
	wantCode(t, err, usercenter.EForbidden)
	// Even a field without a value, or an unknown one, needs pii.read.
	_, err = env.Svc.GetUser(bg, reader, u.ID, []usercenter.PIIField{"nickname"})
	wantCode(t, err, usercenter.EForbidden)
	wantEvents(t, eventsAfter(t, env.Store, before))

	// The same key reads masked values.
	got, err = env.Svc.GetUser(bg, reader, u.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Phone != usercenter.MaskPhone(phone1) || got.Email != usercenter.MaskEmail(email1) || got.Address != usercenter.MaskAddress(address1) {
		t.Errorf("masked read gave %q %q %q", got.Phone, got.Email, got.Address)
	}
}

func TestUpdateAudit(t *testing.T) {
	env := uctest.New(t)
	key := env.Key.Actor()
	app := env.App.SdkAppID
	actor := "key:" + env.Key.SecretID
	ev := func(u string, a usercenter.AuditAction, f, req string) eventKey {
		return eventKey{app, u, a, f, actor, req}
	}

	before := lastEventID(t, env.Store)
	u, err := svctest.CreateUser(env.Svc, reqCtx("create"), key, app, personal("mu", phone1, email1, ""))
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, eventsAfter(t, env.Store, before), ev(u.ID, "create", "", "create"))

	for _, tc := range []struct {
		name  string
		patch core.UserPatch
		want  []string
	}{
		{"empty patch", core.UserPatch{}, nil},
		{"same values", core.UserPatch{Nickname: ptr("mu"), Phone: ptr(phone1), Email: ptr(email1), Address: ptr("")}, nil},
		{"same phone in national form", core.UserPatch{Phone: ptr("136 1234 6688")}, nil},
		{"same email in upper case", core.UserPatch{Email: ptr("MuZhiMing@Tencent.COM")}, nil},
		{"three fields", core.UserPatch{Nickname: ptr("mu2"), Phone: ptr("+8613900001111"), City: ptr("Shenzhen")}, []string{"nickname", "phone", "city"}},
		{"address", core.UserPatch{Address: ptr(address1)}, []string{"address"}},
		{"clear email", core.UserPatch{Email: ptr("")}, []string{"email"}},
		{"status", core.UserPatch{Status: ptr(usercenter.UserDisabled)}, []string{"status"}},
		{"same status", core.UserPatch{Status: ptr(usercenter.UserDisabled)}, nil},
		{"logon mode", core.UserPatch{LogonMode: ptr(usercenter.LogonWeChat)}, []string{"logonMode"}},
		{"link", core.UserPatch{ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderQQ: ptr("10001")}}, []string{"thirdPartyIds.qq"}},
		{"same link", core.UserPatch{ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderQQ: ptr("10001")}}, nil},
		{"unlink", core.UserPatch{ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderQQ: nil}}, []string{"thirdPartyIds.qq"}},
		{"unlink absent", core.UserPatch{ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderApple: nil}}, nil},
		{"every text field", core.UserPatch{
			OriginID: ptr("origin-2"), Avatar: ptr("https://example.com/b.png"), Province: ptr("Guangdong"),
			Nationality: ptr("CN"), Lang: ptr("zh-CN"), Timezone: ptr("Asia/Shanghai"), Sex: ptr("f"),
			Signature: ptr("hi"), Remark: ptr("vip"),
		}, []string{"originId", "avatar", "province", "nationality", "lang", "timezone", "sex", "signature", "remark"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := lastEventID(t, env.Store)
			req := "upd-" + tc.name
			if _, err := env.Svc.UpdateUser(reqCtx(req), key, u.ID, tc.patch); err != nil {
				t.Fatal(err)
			}
			var want []eventKey
			for _, f := range tc.want {
				want = append(want, ev(u.ID, "update", f, req))
			}
			wantEvents(t, eventsAfter(t, env.Store, before), want...)
		})
	}

	// An invalid patch changes nothing and writes nothing.
	before = lastEventID(t, env.Store)
	_, err = env.Svc.UpdateUser(bg, key, u.ID, core.UserPatch{Nickname: ptr("new"), Phone: ptr("12345")})
	wantCode(t, err, usercenter.EInvalid)
	wantEvents(t, eventsAfter(t, env.Store, before))
	cur, err := env.Svc.GetUser(bg, key, u.ID, nil)
	if err != nil || cur.Nickname != "mu2" {
		t.Fatalf("after a failed update: %+v, %v", cur, err)
	}
}

func TestDeleteAuditOutlivesUser(t *testing.T) {
	env := uctest.New(t)
	key := env.Key.Actor()
	app := env.App.SdkAppID
	actor := "key:" + env.Key.SecretID
	u, err := svctest.CreateUser(env.Svc, reqCtx("c"), key, app, personal("mu", phone1, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Svc.UpdateUser(reqCtx("u"), key, u.ID, core.UserPatch{City: ptr("Beijing")}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Svc.GetUser(reqCtx("g"), key, u.ID, []usercenter.PIIField{usercenter.FieldPhone}); err != nil {
		t.Fatal(err)
	}
	other := mustUser(t, env.Svc, key, app, personal("other", "", "", ""))

	if err := env.Svc.DeleteUser(reqCtx("d"), key, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = env.Svc.GetUser(bg, key, u.ID, nil)
	wantCode(t, err, usercenter.ENotFound)

	evs, err := svctest.AuditEvents(env.Svc, bg, key, usercenter.AuditFilter{UserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, evs,
		eventKey{app, u.ID, "create", "", actor, "c"},
		eventKey{app, u.ID, "update", "city", actor, "u"},
		eventKey{app, u.ID, "reveal", "phone", actor, "g"},
		eventKey{app, u.ID, "delete", "", actor, "d"},
	)
	for i := 1; i < len(evs); i++ {
		if evs[i].ID <= evs[i-1].ID {
			t.Errorf("events not in ID order: %d then %d", evs[i-1].ID, evs[i].ID)
		}
	}
	if evs[len(evs)-1].Action != usercenter.AuditDelete {
		t.Errorf("last event is %q, want delete", evs[len(evs)-1].Action)
	}

	// Deleting again is not found and writes nothing; the other user is untouched.
	before := lastEventID(t, env.Store)
	wantCode(t, env.Svc.DeleteUser(bg, key, u.ID), usercenter.ENotFound)
	wantEvents(t, eventsAfter(t, env.Store, before))
	if _, err := env.Svc.GetUser(bg, key, other.ID, nil); err != nil {
		t.Fatal(err)
	}
}

// failingAuditStore hands Update's fn a Tx whose InsertAudit fails.
type failingAuditStore struct {
	core.Store
}

var errAuditDown = errors.New("audit storage unavailable")

func (s failingAuditStore) Update(ctx context.Context, fn func(core.Tx) error) error {
	return s.Store.Update(ctx, func(tx core.Tx) error { return fn(failingAuditTx{tx}) })
}

type failingAuditTx struct{ core.Tx }

func (failingAuditTx) InsertAudit(context.Context, *usercenter.AuditEvent) error { return errAuditDown }

func TestFailedAuditWriteFailsDisclosure(t *testing.T) {
	mk := vault.NewKey()
	in := newInstance(t, mk)
	app, key, err := in.svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "audit"})
	if err != nil {
		t.Fatal(err)
	}
	actor := key.Actor()
	u := mustUser(t, in.svc, actor, app.SdkAppID, personal("mu", phone1, email1, address1))

	broken, err := core.NewService(bg, failingAuditStore{in.store}, mustRing(t, mk))
	if err != nil {
		t.Fatal(err)
	}
	before := lastEventID(t, in.store)
	leaks := func(t *testing.T, err error) {
		t.Helper()
		for _, s := range []string{phone1, "13612346688", email1, address1} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains %q", err, s)
			}
		}
	}

	for _, fields := range [][]usercenter.PIIField{{usercenter.FieldPhone}, usercenter.PIIFields} {
		got, err := broken.GetUser(bg, actor, u.ID, fields)
		if err == nil {
			t.Fatalf("GetUser revealing %v succeeded without an audit event: %+v", fields, got)
		}
		if got != nil {
			t.Errorf("GetUser returned %+v with its error", got)
		}
		if !errors.Is(err, errAuditDown) {
			t.Errorf("error %v does not wrap the audit failure", err)
		}
		leaks(t, err)
	}

	users, err := svctest.FindUsers(broken, bg, actor, app.SdkAppID, core.UserQuery{Phone: phone1}, []usercenter.PIIField{usercenter.FieldEmail})
	if err == nil || len(users) != 0 {
		t.Errorf("FindUsers revealing email = %d users, %v; want an error and none", len(users), err)
	} else {
		leaks(t, err)
	}
	users, next, err := svctest.UsersPage(broken, bg, actor, app.SdkAppID, "", 10, []usercenter.PIIField{usercenter.FieldAddress})
	if err == nil || len(users) != 0 || next != "" {
		t.Errorf("UsersPage revealing address = %d users, %v; want an error and none", len(users), err)
	} else {
		leaks(t, err)
	}

	// Reads that disclose nothing do not need the audit trail.
	got, err := broken.GetUser(bg, actor, u.ID, nil)
	if err != nil {
		t.Fatalf("GetUser without reveal: %v", err)
	}
	if got.Phone != usercenter.MaskPhone(phone1) || got.Email != usercenter.MaskEmail(email1) || got.Address != usercenter.MaskAddress(address1) {
		t.Errorf("GetUser without reveal gave %q %q %q", got.Phone, got.Email, got.Address)
	}
	if users, err := svctest.FindUsers(broken, bg, actor, app.SdkAppID, core.UserQuery{Phone: phone1}, nil); err != nil || len(users) != 1 {
		t.Errorf("FindUsers without reveal = %d users, %v", len(users), err)
	}

	// Changes need their audit event too: nothing is written without it.
	_, err = broken.UpdateUser(bg, actor, u.ID, core.UserPatch{Nickname: ptr("changed")})
	if err == nil {
		t.Error("UpdateUser succeeded without its audit event")
	}
	if err := broken.DeleteUser(bg, actor, u.ID); err == nil {
		t.Error("DeleteUser succeeded without its audit event")
	}
	if _, err := svctest.CreateUser(broken, bg, actor, app.SdkAppID, personal("new", "", "", "")); err == nil {
		t.Error("CreateUser succeeded without its audit event")
	}
	cur, err := in.svc.GetUser(bg, actor, u.ID, nil)
	if err != nil || cur.Nickname != "mu" {
		t.Errorf("after failed writes the user is %+v, %v", cur, err)
	}
	wantEvents(t, eventsAfter(t, in.store, before))
}

// Disclosures that share one group commit still each write their own
// event, and only their own.
func TestConcurrentRevealsAuditedOnceEach(t *testing.T) {
	env := uctest.New(t)
	key := env.Key.Actor()
	app := env.App.SdkAppID
	var users []*usercenter.User
	for i := 0; i < 4; i++ {
		users = append(users, mustUser(t, env.Svc, key, app, personal("u", fmt.Sprintf("+8613900000%03d", i), "", "")))
	}
	before := lastEventID(t, env.Store)
	const per = 25
	var wg sync.WaitGroup
	errs := make(chan error, per*len(users))
	for i, u := range users {
		for j := 0; j < per; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := env.Svc.GetUser(reqCtx(fmt.Sprintf("r%d-%d", i, j)), key, u.ID, []usercenter.PIIField{usercenter.FieldPhone, usercenter.FieldAddress})
				if err == nil && got.Phone != fmt.Sprintf("+8613900000%03d", i) {
					err = fmt.Errorf("user %d got phone %q", i, got.Phone)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	evs := eventsAfter(t, env.Store, before)
	if len(evs) != per*len(users) {
		t.Fatalf("%d events for %d disclosures", len(evs), per*len(users))
	}
	reqs := map[string]bool{}
	for _, e := range evs {
		if e.Action != usercenter.AuditReveal || e.Field != "phone" || reqs[e.RequestID] {
			t.Errorf("unexpected or duplicate event %+v", e)
		}
		reqs[e.RequestID] = true
		var i, j int
		if _, err := fmt.Sscanf(e.RequestID, "r%d-%d", &i, &j); err != nil || users[i].ID != e.UserID {
			t.Errorf("event %+v names the wrong user", e)
		}
	}
}

func TestRegisterAudit(t *testing.T) {
	env := uctest.New(t)
	key := env.Key.Actor()
	app := env.App.SdkAppID
	actor := "key:" + env.Key.SecretID

	before := lastEventID(t, env.Store)
	sess, err := svctest.RegisterUser(env.Svc, reqCtx("reg"), key, svctest.Registration{SdkAppID: app, Name: "mu", OriginID: "o1"})
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, eventsAfter(t, env.Store, before), eventKey{app, sess.User.ID, "create", "", actor, "reg"})

	before = lastEventID(t, env.Store)
	out, err := svctest.BatchRegister(env.Svc, reqCtx("batch"), key, []svctest.Registration{
		{SdkAppID: app, Name: "mu2", OriginID: "o1"}, // exists: nickname changes
		{SdkAppID: app, Name: "new", OriginID: "o2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, eventsAfter(t, env.Store, before),
		eventKey{app, sess.User.ID, "update", "nickname", actor, "batch"},
		eventKey{app, out[1].ID, "create", "", actor, "batch"},
	)

	// The same batch again changes nothing and says so.
	before = lastEventID(t, env.Store)
	if _, err := svctest.BatchRegister(env.Svc, reqCtx("batch2"), key, []svctest.Registration{{SdkAppID: app, Name: "mu2", OriginID: "o1"}}); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, eventsAfter(t, env.Store, before))
}

func TestAuditPage(t *testing.T) {
	env := uctest.New(t)
	key := env.Key.Actor()
	app := env.App.SdkAppID
	for i := range 5 {
		mustUser(t, env.Svc, key, app, personal(fmt.Sprintf("p%d", i), "", "", ""))
	}
	all, err := svctest.AuditEvents(env.Svc, bg, key, usercenter.AuditFilter{Action: usercenter.AuditCreate})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("%d create events, want 5", len(all))
	}
	f := usercenter.AuditFilter{Action: usercenter.AuditCreate, Limit: 2}
	var got []usercenter.AuditEvent
	var nexts []int64
	for {
		page, next, err := env.Svc.AuditPage(bg, key, f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		nexts = append(nexts, next)
		if next == 0 {
			break
		}
		if next != page[len(page)-1].ID {
			t.Fatalf("next = %d, want the last event's ID %d", next, page[len(page)-1].ID)
		}
		f.AfterID = next
	}
	if len(nexts) != 3 || len(got) != 5 {
		t.Fatalf("%d pages, %d events; want 3 pages, 5 events", len(nexts), len(got))
	}
	for i := range got {
		if got[i].ID != all[i].ID {
			t.Errorf("event %d: ID %d, want %d", i, got[i].ID, all[i].ID)
		}
	}
	// A page that exactly ends the matching events is the last.
	page, next, err := env.Svc.AuditPage(bg, key, usercenter.AuditFilter{Action: usercenter.AuditCreate, Limit: 5})
	if err != nil || len(page) != 5 || next != 0 {
		t.Errorf("AuditPage(limit 5) = %d events, next %d, %v; want 5, 0, nil", len(page), next, err)
	}
	_, _, err = env.Svc.AuditPage(bg, key, usercenter.AuditFilter{Limit: core.MaxListLimit + 1})
	wantCode(t, err, usercenter.EInvalid)

	// Newest first, paging with BeforeID, reads the same events backwards.
	f = usercenter.AuditFilter{Action: usercenter.AuditCreate, Limit: 2, NewestFirst: true}
	got = nil
	for pages := 0; ; pages++ {
		page, next, err := env.Svc.AuditPage(bg, key, f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if next == 0 || pages > 5 {
			break
		}
		f.BeforeID = next
	}
	if len(got) != len(all) {
		t.Fatalf("newest first: %d events, want %d", len(got), len(all))
	}
	for i := range got {
		if got[i].ID != all[len(all)-1-i].ID {
			t.Errorf("newest first, event %d: ID %d, want %d", i, got[i].ID, all[len(all)-1-i].ID)
		}
	}
	// A cursor of the other order is refused, not misread.
	_, _, err = env.Svc.AuditPage(bg, key, usercenter.AuditFilter{NewestFirst: true, AfterID: all[0].ID})
	wantCode(t, err, usercenter.EInvalid)
	_, _, err = env.Svc.AuditPage(bg, key, usercenter.AuditFilter{BeforeID: all[0].ID})
	wantCode(t, err, usercenter.EInvalid)
}
