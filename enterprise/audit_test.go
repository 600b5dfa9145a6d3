package enterprise_test

import (
	"fmt"
	"slices"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// revealsSince returns the reveal events written after cursor.
func revealsSince(t *testing.T, env *uctest.Env, cursor int64) []usercenter.AuditEvent {
	t.Helper()
	events, err := svctest.AuditEvents(env.Svc, bg, usercenter.Operator(), usercenter.AuditFilter{AfterID: cursor, Action: usercenter.AuditReveal, Limit: core.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func lastEvent(t *testing.T, env *uctest.Env) int64 {
	t.Helper()
	var last int64
	for {
		events, err := svctest.AuditEvents(env.Svc, bg, usercenter.Operator(), usercenter.AuditFilter{AfterID: last, Limit: core.MaxListLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 {
			return last
		}
		last = events[len(events)-1].ID
	}
}

// TestPlainPIIAudited: each phone or email answered in plain is exactly
// one reveal event, naming the key and the request; masked answers and
// failures write none.
func TestPlainPIIAudited(t *testing.T) {
	env := uctest.New(t)
	s := func(v string) *string { return &v }
	both := newUser(t, env, env.App.SdkAppID, core.UserPatch{Phone: s("+8613612346688"), Email: s("both@example.com"), Address: s("secret street 1")})
	phoneOnly := newUser(t, env, env.App.SdkAppID, core.UserPatch{Phone: s("+8613612346689")})
	none := newUser(t, env, env.App.SdkAppID, ptrPatch("nobody"))
	pii := env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead, usercenter.PermPIIRead)
	plain := login(t, env, pii)
	masked := login(t, env, env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead))

	check := func(name string, token, uid string, wantFields ...string) {
		t.Helper()
		cursor := lastEvent(t, env)
		res := get(t, env, pathUserInfo+"?uid="+uid, token)
		events := revealsSince(t, env, cursor)
		var fields []string
		for _, e := range events {
			fields = append(fields, e.Field)
			if e.UserID != uid || e.SdkAppID != env.App.SdkAppID || e.Actor != "key:"+pii.SecretID || e.RequestID != res.Header.Get("X-Request-Id") {
				t.Fatalf("%s: event %+v (request %s)", name, e, res.Header.Get("X-Request-Id"))
			}
		}
		slices.Sort(fields)
		slices.Sort(wantFields)
		if !slices.Equal(fields, wantFields) {
			t.Fatalf("%s: reveal events for %v, want %v", name, fields, wantFields)
		}
	}
	check("phone and email", plain, both.ID, "email", "phone")
	check("again", plain, both.ID, "email", "phone")
	check("phone only", plain, phoneOnly.ID, "phone")
	check("nothing to reveal", plain, none.ID)
	check("masked", masked, both.ID)
	check("unknown user", plain, "0ujsswThIGTUYm2K8FjOOfXtY1K")
	// Address is never revealed through this API.
	if got := userInfo(t, env, plain, both.ID); got.Address != usercenter.MaskAddress("secret street 1") || got.Phone != "+8613612346688" {
		t.Fatalf("plain view %+v", got)
	}

	// A listing answered in plain: one event per value of each user on
	// the page, and none for a masked listing.
	other, _ := env.NewApp(t, "listing", 1000)
	for i := range 3 {
		newUser(t, env, other.SdkAppID, core.UserPatch{Email: s(fmt.Sprintf("u%d@example.com", i))})
	}
	lister := env.NewKey(t, []uint64{other.SdkAppID}, usercenter.PermUsersRead, usercenter.PermPIIRead)
	cursor := lastEvent(t, env)
	p := userList(t, env, login(t, env, lister), other.UserDomain, 1, 2)
	if events := revealsSince(t, env, cursor); len(events) != 2 || p.Size != 2 || p.List[0].Email != "u0@example.com" {
		t.Fatalf("plain listing of 2: %d events, %+v", len(events), p.List)
	}
	cursor = lastEvent(t, env)
	p = userList(t, env, login(t, env, env.NewKey(t, []uint64{other.SdkAppID}, usercenter.PermUsersRead)), other.UserDomain, 1, 10)
	if events := revealsSince(t, env, cursor); len(events) != 0 || p.List[0].Email != usercenter.MaskEmail("u0@example.com") {
		t.Fatalf("masked listing: %d events, %+v", len(events), p.List)
	}
}
