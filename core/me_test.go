package core_test

import (
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

func register(t *testing.T, env *uctest.Env, name string) *core.Session {
	t.Helper()
	sess, err := svctest.RegisterUser(env.Svc, bg, env.Key.Actor(), svctest.Registration{SdkAppID: env.App.SdkAppID, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

func TestMe(t *testing.T) {
	env := uctest.New(t)
	sess := register(t, env, "mu")
	if _, err := env.Svc.UpdateUser(bg, env.Key.Actor(), sess.User.ID, core.UserPatch{Phone: ptr(phone1)}); err != nil {
		t.Fatal(err)
	}
	u, err := env.Svc.Me(bg, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != sess.User.ID || u.Nickname != "mu" || u.UserDomain != env.App.UserDomain {
		t.Errorf("Me = %+v", u)
	}
	if u.Phone != usercenter.MaskPhone(phone1) {
		t.Errorf("Me phone %q, want it masked", u.Phone)
	}
	if want := env.App.TokenTTL; sess.ExpiresAt.Sub(env.Clock.Now()) > want || sess.ExpiresAt.Sub(env.Clock.Now()) < want-time.Minute {
		t.Errorf("token expires at %v, want about %v from now", sess.ExpiresAt, want)
	}

	for _, bad := range []string{"", "nope", strings.Repeat("a", 35), strings.Repeat("a", 129), sess.Token + "x", strings.ToUpper(sess.Token)} {
		_, err := env.Svc.Me(bg, bad)
		wantCode(t, err, usercenter.EUnauthenticated)
	}
}

func TestMeExpiredToken(t *testing.T) {
	env := uctest.New(t)
	sess := register(t, env, "mu")
	env.Clock.Advance(usercenter.DefaultTokenTTL - time.Minute)
	if _, err := env.Svc.Me(bg, sess.Token); err != nil {
		t.Fatalf("a minute before expiry: %v", err)
	}
	env.Clock.Advance(2 * time.Minute)
	u, err := env.Svc.Me(bg, sess.Token)
	wantCode(t, err, usercenter.EUnauthenticated)
	if u != nil {
		t.Errorf("Me returned %+v for an expired token", u)
	}
	// A fresh login works again.
	s2, err := svctest.LoginUser(env.Svc, bg, env.Key.Actor(), sess.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Svc.Me(bg, s2.Token); err != nil {
		t.Fatalf("new token: %v", err)
	}
}

func TestMeDeletedUser(t *testing.T) {
	env := uctest.New(t)
	sess := register(t, env, "mu")
	other := register(t, env, "other")
	if err := env.Svc.DeleteUser(bg, env.Key.Actor(), sess.User.ID); err != nil {
		t.Fatal(err)
	}
	_, err := env.Svc.Me(bg, sess.Token)
	wantCode(t, err, usercenter.EUnauthenticated)
	if _, err := env.Svc.Me(bg, other.Token); err != nil {
		t.Fatalf("another user's token after a deletion: %v", err)
	}
}

func TestMeDisabledUser(t *testing.T) {
	env := uctest.New(t)
	sess := register(t, env, "mu")
	if _, err := env.Svc.UpdateUser(bg, env.Key.Actor(), sess.User.ID, core.UserPatch{Status: ptr(usercenter.UserDisabled)}); err != nil {
		t.Fatal(err)
	}
	u, err := env.Svc.Me(bg, sess.Token)
	wantCode(t, err, usercenter.EDisabled)
	if u != nil {
		t.Errorf("Me returned %+v for a disabled user", u)
	}
	if e := usercenter.ErrorOf(err); e.Resource != usercenter.ResourceUser {
		t.Errorf("resource %q, want user", e.Resource)
	}
	// Re-enabled, the same token works again.
	if _, err := env.Svc.UpdateUser(bg, env.Key.Actor(), sess.User.ID, core.UserPatch{Status: ptr(usercenter.UserActive)}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Svc.Me(bg, sess.Token); err != nil {
		t.Fatalf("re-enabled user: %v", err)
	}
}
