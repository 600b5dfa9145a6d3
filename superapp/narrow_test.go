package superapp_test

import (
	"errors"
	"strconv"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// TestProfileReadsNoPersonalData: getUserNick, getUserAvatar and
// checkUser answer from the user's card alone. Every read of a whole user
// (the rows that carry the sealed phone and email) fails here, so none of
// them loads personal data, let alone opens it; and they answer as
// before, for a disabled user, a user of another app and a missing one.
func TestProfileReadsNoPersonalData(t *testing.T) {
	var guard *uctest.UserGuard
	env := uctest.New(t, uctest.Options{Wrap: func(s core.Store) core.Store {
		guard = uctest.NewUserGuard(s)
		return guard
	}})
	other, _ := env.NewApp(t, "other", 1000)
	create := func(app uint64, p core.UserPatch) string {
		t.Helper()
		u, err := svctest.CreateUser(env.Svc, bg, usercenter.Operator(), app, p)
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	full := core.UserPatch{Nickname: ptr(nickname), Avatar: ptr(avatar), Phone: ptr(phone), Email: ptr(email)}
	alice := create(env.App.SdkAppID, full)
	bare := create(env.App.SdkAppID, core.UserPatch{Phone: ptr(phone)})
	disabled := full
	disabled.Status = ptr(usercenter.UserDisabled)
	off := create(env.App.SdkAppID, disabled)
	foreign := create(other.SdkAppID, full)

	guard.On.Store(true)
	if _, err := env.Svc.GetUser(bg, usercenter.Operator(), alice, nil); !errors.Is(err, uctest.ErrWholeUserRead) {
		t.Fatalf("GetUser through the guard: %v, want the guard's refusal", err)
	}
	refusedBefore := guard.Refused.Load()

	for _, c := range []struct {
		endpoint, user, code, data string
	}{
		{"getUserNick", alice, "0", quote(nickname)},
		{"getUserNick", bare, "200000", ""},
		{"getUserNick", off, "200001", ""},
		{"getUserNick", foreign, "200002", ""},
		{"getUserNick", unknownUID, "200002", ""},
		{"getUserAvatar", alice, "0", quote(avatar)},
		{"getUserAvatar", bare, "200000", ""},
		{"getUserAvatar", off, "200001", ""},
		{"getUserAvatar", foreign, "200002", ""},
		{"checkUser", alice, "0", "true"},
		{"checkUser", off, "200001", ""},
		{"checkUser", foreign, "0", "false"},
		{"checkUser", unknownUID, "0", "false"},
	} {
		a := send(t, env, env.URL, req{method: "POST", path: "/apps/" + strconv.FormatUint(env.App.SdkAppID, 10) + "/superapp/user/" + c.endpoint, key: env.App.SuperAppSecretKey,
			params: map[string]string{"UserId": c.user}}).want(t, 200, c.code)
		if c.data != "" && string(a.Data) != c.data {
			t.Fatalf("%s(%s) Data = %s, want %s", c.endpoint, c.user, a.Data, c.data)
		}
	}
	if n := guard.Refused.Load() - refusedBefore; n != 0 {
		t.Fatalf("%d reads of whole users", n)
	}
}
