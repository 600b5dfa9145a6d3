package core_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

// fullPatch sets every writable field, phone and email in forms that
// normalisation changes.
func fullPatch(i int) core.UserPatch {
	status, mode := usercenter.UserDisabled, usercenter.LogonPhoneSMS
	return core.UserPatch{
		OriginID:    ptr(fmt.Sprint("crm-", i)),
		Status:      &status,
		Nickname:    ptr(fmt.Sprint("用户 ", i)),
		Avatar:      ptr("https://example.com/a.png"),
		Phone:       ptr(fmt.Sprintf("136 1234 %04d", i)),
		Email:       ptr(fmt.Sprintf("User%d@Example.com", i)),
		Address:     ptr("北京市海淀区中关村大街1号"),
		City:        ptr("Beijing"),
		Province:    ptr("Beijing"),
		Nationality: ptr("CN"),
		Lang:        ptr("zh-CN"),
		Timezone:    ptr("Asia/Shanghai"),
		Sex:         ptr("female"),
		Signature:   ptr("sig"),
		Remark:      ptr("remark"),
		LogonMode:   &mode,
		ThirdParty: map[usercenter.Provider]*string{
			usercenter.ProviderQQ:     ptr(fmt.Sprint("qq-", i)),
			usercenter.ProviderApple:  ptr(""), // no link, as in CreateUser
			usercenter.ProviderAlipay: nil,
		},
	}
}

// sameUser compares what CreateUser and ImportUsers made of the same
// patch: everything but what identifies the user or dates it.
func sameUser(t *testing.T, got, want *usercenter.User) {
	t.Helper()
	g, w := *got, *want
	g.ID, w.ID = "", ""
	g.CreatedAt, g.UpdatedAt = w.CreatedAt, w.UpdatedAt
	if g.OriginID == got.ID && w.OriginID == want.ID {
		g.OriginID, w.OriginID = "", ""
	}
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Fatalf("imported user\n%+v\nCreateUser's\n%+v", g, w)
	}
}

func TestImportUsers(t *testing.T) {
	env := uctest.New(t)
	key, app := env.Key.Actor(), env.App.SdkAppID
	actor := "key:" + env.Key.SecretID
	reveal := usercenter.PIIFields

	// The reference: what CreateUser makes of the same patches, in
	// another app of the same region.
	appB, keyB := env.NewApp(t, "reference", 1000)
	patches := []core.UserPatch{fullPatch(1), {}, fullPatch(3), {Nickname: ptr("only a nickname")}}

	before := lastEventID(t, env.Store)
	out, err := svctest.ImportUsers(env.Svc, reqCtx("imp"), key, app, patches)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(patches) {
		t.Fatalf("%d users imported, want %d", len(out), len(patches))
	}
	var want []eventKey
	for i, p := range patches {
		ref, err := svctest.CreateUser(env.Svc, bg, keyB.Actor(), appB.SdkAppID, p)
		if err != nil {
			t.Fatal(err)
		}
		ref, err = env.Svc.GetUser(bg, keyB.Actor(), ref.ID, reveal)
		if err != nil {
			t.Fatal(err)
		}
		got, err := env.Svc.GetUser(bg, key, out[i].UserID, reveal)
		if err != nil {
			t.Fatalf("user %d: %v", i, err)
		}
		if got.OriginID != out[i].OriginID {
			t.Fatalf("user %d: stored originId %q, answered %q", i, got.OriginID, out[i].OriginID)
		}
		ref.SdkAppID, ref.UserDomain = got.SdkAppID, got.UserDomain
		sameUser(t, got, ref)
		want = append(want, eventKey{app, out[i].UserID, "create", "", actor, "imp"})
	}
	if out[1].OriginID != out[1].UserID {
		t.Fatalf("a user without originId got %q, want its userId %q", out[1].OriginID, out[1].UserID)
	}
	// The audit trail is CreateUser's: one create event per user, with the
	// request's actor and ID (GetUser's reveals came after).
	var events []usercenter.AuditEvent
	for _, e := range eventsAfter(t, env.Store, before) {
		if e.SdkAppID == app && e.Action == usercenter.AuditCreate {
			events = append(events, e)
		}
	}
	wantEvents(t, events, want...)

	// Creation order, and so list order, is the order given.
	page, _, err := svctest.UsersPage(env.Svc, bg, key, app, "", 10, nil)
	if err != nil || len(page) != len(patches) {
		t.Fatalf("UsersPage = %d users, %v", len(page), err)
	}
	for i := range page {
		if page[i].ID != out[i].UserID {
			t.Fatalf("page[%d] is %s, want %s (import order)", i, page[i].ID, out[i].UserID)
		}
		if i > 0 && !page[i].CreatedAt.After(page[i-1].CreatedAt) && page[i].CreatedAt != page[i-1].CreatedAt {
			t.Fatalf("CreatedAt out of order")
		}
	}
	// Phones and emails are found as CreateUser's are.
	found, err := svctest.FindUsers(env.Svc, bg, key, app, core.UserQuery{Phone: "+8613612340003"}, nil)
	if err != nil || len(found) != 1 || found[0].ID != out[2].UserID {
		t.Fatalf("FindUsers by phone = %+v, %v", found, err)
	}
	found, err = svctest.FindUsers(env.Svc, bg, key, app, core.UserQuery{Email: "user1@example.com"}, nil)
	if err != nil || len(found) != 1 || found[0].ID != out[0].UserID {
		t.Fatalf("FindUsers by email = %+v, %v", found, err)
	}
}

func TestImportUsersLimits(t *testing.T) {
	env := uctest.New(t)
	key, app := env.Key.Actor(), env.App.SdkAppID
	for _, n := range []int{0, core.MaxBatchUsers + 1} {
		_, err := svctest.ImportUsers(env.Svc, bg, key, app, make([]core.UserPatch, n))
		wantField(t, err, usercenter.EInvalid, "users")
	}
	patches := make([]core.UserPatch, core.MaxBatchUsers)
	for i := range patches {
		patches[i] = core.UserPatch{
			OriginID: ptr(fmt.Sprint("o", i)),
			Phone:    ptr(fmt.Sprintf("+86139%08d", i)),
			Email:    ptr(fmt.Sprintf("u%d@example.com", i)),
		}
	}
	out, err := svctest.ImportUsers(env.Svc, bg, key, app, patches)
	if err != nil || len(out) != core.MaxBatchUsers {
		t.Fatalf("ImportUsers(%d) = %d, %v", core.MaxBatchUsers, len(out), err)
	}
	if _, total, err := svctest.ListUsers(env.Svc, bg, key, app, 1, 1); err != nil || total != core.MaxBatchUsers {
		t.Fatalf("the app has %d users, %v", total, err)
	}
}

// wantField checks err's code and its field, written as a REST path:
// "users.<index>.<field>" wants the error placed at that item of the
// batch, about that field; "users" or a bare field wants no item.
func wantField(t *testing.T, err error, code usercenter.Code, field string) {
	t.Helper()
	wantCode(t, err, code)
	e := usercenter.ErrorOf(err)
	wantItem, wantField := -1, field
	if parts := strings.SplitN(field, ".", 3); len(parts) >= 2 && parts[0] == "users" {
		n, convErr := strconv.Atoi(parts[1])
		if convErr != nil {
			t.Fatalf("bad want %q", field)
		}
		wantItem, wantField = n, ""
		if len(parts) == 3 {
			wantField = parts[2]
		}
	}
	item, ok := e.ItemIndex()
	if !ok {
		item = -1
	}
	if item != wantItem || string(e.Field) != wantField {
		t.Fatalf("item %d field %q (%v), want item %d field %q", item, e.Field, err, wantItem, wantField)
	}
}

func TestImportUsersRefusesWholeBatch(t *testing.T) {
	env := uctest.New(t)
	key, app := env.Key.Actor(), env.App.SdkAppID
	stored := mustUser(t, env.Svc, key, app, core.UserPatch{OriginID: ptr("stored"), ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderWeChatUnion: ptr("wx-stored")}})
	good := func(i int) core.UserPatch {
		return core.UserPatch{OriginID: ptr(fmt.Sprint("ok", i)), Phone: ptr("13612346688"), ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderQQ: ptr(fmt.Sprint("qq", i))}}
	}
	batch := func(n int, bad int, p core.UserPatch) []core.UserPatch {
		out := make([]core.UserPatch, n)
		for i := range out {
			out[i] = good(i)
		}
		out[bad] = p
		return out
	}
	for _, c := range []struct {
		name  string
		in    []core.UserPatch
		code  usercenter.Code
		field string
	}{
		{"bad phone", batch(5, 2, core.UserPatch{Phone: ptr("12")}), usercenter.EInvalid, "users.2.phone"},
		{"bad email", batch(5, 0, core.UserPatch{Email: ptr("not an email")}), usercenter.EInvalid, "users.0.email"},
		{"empty originId", batch(5, 4, core.UserPatch{OriginID: ptr("")}), usercenter.EInvalid, "users.4.originId"},
		{"bad status", batch(5, 1, core.UserPatch{Status: ptr(usercenter.UserStatus(7))}), usercenter.EInvalid, "users.1.status"},
		{"bad timezone", batch(5, 3, core.UserPatch{Timezone: ptr("Mars/Base")}), usercenter.EInvalid, "users.3.timezone"},
		{"unknown provider", batch(5, 3, core.UserPatch{ThirdParty: map[usercenter.Provider]*string{"myspace": ptr("x")}}), usercenter.EInvalid, "users.3.thirdPartyIds"},
		{"stored originId", batch(5, 3, core.UserPatch{OriginID: ptr("stored")}), usercenter.EConflict, "users.3.originId"},
		{"stored link", batch(5, 1, core.UserPatch{ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderWeChatUnion: ptr("wx-stored")}}), usercenter.EConflict, "users.1.thirdPartyIds.wechatUnion"},
		{"originId twice", batch(5, 3, core.UserPatch{OriginID: ptr("ok1")}), usercenter.EConflict, "users.3.originId"},
		{"link twice", batch(5, 4, core.UserPatch{ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderQQ: ptr("qq0")}}), usercenter.EConflict, "users.4.thirdPartyIds.qq"},
		// A default originId (the new userId) never conflicts, but a
		// later user may not take another's explicit one.
		{"later user", append(batch(2, 0, good(0)), core.UserPatch{OriginID: ptr("ok0")}), usercenter.EConflict, "users.2.originId"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := lastEventID(t, env.Store)
			out, err := svctest.ImportUsers(env.Svc, bg, key, app, c.in)
			if out != nil {
				t.Fatalf("ImportUsers returned %d users with its error", len(out))
			}
			wantField(t, err, c.code, c.field)
			if _, total, err := svctest.ListUsers(env.Svc, bg, key, app, 1, 1); err != nil || total != 1 {
				t.Fatalf("after a refused import the app has %d users, %v; want only the stored one", total, err)
			}
			wantEvents(t, eventsAfter(t, env.Store, before))
		})
	}
	if got, err := env.Svc.GetUser(bg, key, stored.ID, nil); err != nil || got.ThirdParty[usercenter.ProviderWeChatUnion] != "wx-stored" {
		t.Fatalf("stored user: %+v, %v", got, err)
	}
}

func TestImportUsersPermissions(t *testing.T) {
	env, appB, keyB := newEnv(t)
	app := env.App.SdkAppID
	in := []core.UserPatch{{Phone: ptr("13612346688"), Email: ptr("a@example.com")}}
	reader := env.NewKey(t, []uint64{app}, usercenter.PermUsersRead, usercenter.PermPIIRead)
	writer := env.NewKey(t, []uint64{app}, usercenter.PermUsersWrite)

	_, err := svctest.ImportUsers(env.Svc, bg, reader.Actor(), app, in)
	wantCode(t, err, usercenter.EForbidden)
	_, err = svctest.ImportUsers(env.Svc, bg, keyB.Actor(), app, in) // another app's key
	wantCode(t, err, usercenter.EForbidden)
	_, err = svctest.ImportUsers(env.Svc, bg, env.Key.Actor(), 424242, in)
	wantCode(t, err, usercenter.ENotFound)
	disabled := usercenter.AppDisabled
	if _, err := env.Svc.UpdateApp(bg, usercenter.Operator(), appB.SdkAppID, core.AppPatch{Status: &disabled}); err != nil {
		t.Fatal(err)
	}
	_, err = svctest.ImportUsers(env.Svc, bg, keyB.Actor(), appB.SdkAppID, in)
	wantCode(t, err, usercenter.EDisabled)

	// users.write is all CreateUser needs, phone and email included, and
	// so all an import needs.
	if _, err := svctest.ImportUsers(env.Svc, bg, writer.Actor(), app, in); err != nil {
		t.Fatal(err)
	}
	if _, err := svctest.CreateUser(env.Svc, bg, writer.Actor(), app, in[0]); err != nil {
		t.Fatal(err)
	}
}

// failingAuditTx fails InsertAudits too.
func (failingAuditTx) InsertAudits(context.Context, []*usercenter.AuditEvent) error {
	return errAuditDown
}

func TestImportUsersNeedsItsAuditEvents(t *testing.T) {
	mk := vault.NewKey()
	in := newInstance(t, mk)
	app, key, err := in.svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "audit"})
	if err != nil {
		t.Fatal(err)
	}
	broken, err := core.NewService(bg, failingAuditStore{in.store}, mustRing(t, mk))
	if err != nil {
		t.Fatal(err)
	}
	_, err = svctest.ImportUsers(broken, bg, key.Actor(), app.SdkAppID, []core.UserPatch{{Nickname: ptr("a")}, {Nickname: ptr("b")}})
	if err == nil {
		t.Fatal("ImportUsers succeeded without its audit events")
	}
	if _, total, err := svctest.ListUsers(in.svc, bg, key.Actor(), app.SdkAppID, 1, 1); err != nil || total != 0 {
		t.Fatalf("the app has %d users after a failed import, %v", total, err)
	}
}
