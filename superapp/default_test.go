package superapp_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/server"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

// TestDefaultApp checks which app the unprefixed paths serve: the only
// app while there is one, none (a clear 404) once there are several, and
// the configured one whatever the count. The prefixed paths always serve
// their app, and a user of another app is unknown.
func TestDefaultApp(t *testing.T) {
	env := uctest.New(t) // one app, served as uctest serves it: no --superapp-app
	u, err := svctest.CreateUser(env.Svc, bg, usercenter.Operator(), env.App.SdkAppID, core.UserPatch{Nickname: ptr("solo")})
	if err != nil {
		t.Fatal(err)
	}
	nick := func(base, path, key, user string) *answer {
		return send(t, env, base, req{method: "POST", path: path, key: key, params: map[string]string{"UserId": user}})
	}
	for _, form := range forms {
		if got := nick(env.URL, form+"getUserNick", env.App.SuperAppSecretKey, u.ID).want(t, 200, "0").str(t); got != "solo" {
			t.Fatalf("%s: %q", form, got)
		}
	}

	// A second app: the unprefixed paths no longer know which app is meant.
	b, _ := env.NewApp(t, "second", 1000)
	ub, err := svctest.CreateUser(env.Svc, bg, usercenter.Operator(), b.SdkAppID, core.UserPatch{Nickname: ptr("bee")})
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(2 * time.Second) // past the one-second cache of the app list
	for _, form := range forms {
		a := nick(env.URL, form+"getUserNick", env.App.SuperAppSecretKey, u.ID).want(t, 404, "404")
		if !strings.Contains(a.ReturnMessage, "--superapp-app") || !strings.Contains(a.ReturnMessage, "/apps/") || strings.Contains(string(a.Raw), "solo") {
			t.Fatalf("no-default answer does not say what to do, or says too much: %s", a.Raw)
		}
	}
	// The prefixed paths serve each app, and only its users.
	for _, form := range forms {
		pa, pb := "/apps/"+jsonNum(env.App.SdkAppID)+form+"getUserNick", "/apps/"+jsonNum(b.SdkAppID)+form+"getUserNick"
		nick(env.URL, pa, env.App.SuperAppSecretKey, u.ID).want(t, 200, "0")
		nick(env.URL, pb, b.SuperAppSecretKey, ub.ID).want(t, 200, "0")
		nick(env.URL, pb, b.SuperAppSecretKey, u.ID).want(t, 200, "200002")
		nick(env.URL, pa, b.SuperAppSecretKey, u.ID).want(t, 401, "401")
	}

	// --superapp-app names the default.
	srv := httptest.NewServer(server.NewHandler(env.Svc, slog.New(slog.NewJSONHandler(io.Discard, nil)), server.NewRegistry(), server.WithSuperAppDefault(b.SdkAppID)))
	defer srv.Close()
	for _, form := range forms {
		if got := nick(srv.URL, form+"getUserNick", b.SuperAppSecretKey, ub.ID).want(t, 200, "0").str(t); got != "bee" {
			t.Fatalf("%s: %q", form, got)
		}
		nick(srv.URL, form+"getUserNick", b.SuperAppSecretKey, u.ID).want(t, 200, "200002")
		nick(srv.URL, form+"getUserNick", env.App.SuperAppSecretKey, u.ID).want(t, 401, "401")
	}
}

// TestNoApps checks the unprefixed paths of an instance with no app yet,
// and a configured default that does not exist.
func TestNoApps(t *testing.T) {
	store := svctest.OpenStore(t)
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := core.NewService(bg, store, ring)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for _, def := range []uint64{0, 12345} {
		srv := httptest.NewServer(server.NewHandler(svc, log, server.NewRegistry(), server.WithSuperAppDefault(def)))
		defer srv.Close()
		hr, _ := http.NewRequest("POST", srv.URL+"/superapp/user/checkUser", strings.NewReader(`{"UserId":"x"}`))
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		hr.Header.Set("TC-Timestamp", ts)
		hr.Header.Set("TC-Signature", sign(t, "0123456789abcdef", ts))
		res, err := client.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		want, wantMsg := 404, "app create"
		if def != 0 {
			want, wantMsg = 401, "authentication failed"
		}
		if res.StatusCode != want || !strings.Contains(string(body), `"ReturnCode":"`+strconv.Itoa(want)+`"`) || !strings.Contains(string(body), wantMsg) {
			t.Fatalf("default %d: %d %s", def, res.StatusCode, body)
		}
	}
}
