package enterprise_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
)

func TestLogin(t *testing.T) {
	env := uctest.New(t)
	now := env.Clock.Now()
	username := loginUsername(env.Key.SecretID, now)
	res := get(t, env, pathLogin+"?"+loginQuery(username, env.Key.SecretKey), "").want(t, 200, "OK")
	sameSet(t, "login answer", keysOf(t, res.Body), []string{"code", "msg", "access_token", "token_type", "expires_in", "scope", "extMsg"})
	var (
		tok, typ, scope string
		expiresIn       int
	)
	res.field(t, "access_token", &tok)
	res.field(t, "token_type", &typ)
	res.field(t, "scope", &scope)
	res.field(t, "expires_in", &expiresIn)
	if !strings.HasPrefix(tok, "QJWT ") || len(tok) < 30 || typ != "jwt" || scope != "" || expiresIn != 7200 {
		t.Fatalf("login answer %s", res.Body)
	}
	// The token works, with or without its prefix.
	u := newUser(t, env, env.App.SdkAppID, ptrPatch("Alice"))
	for _, auth := range []string{tok, strings.TrimPrefix(tok, "QJWT "), "  " + tok + " "} {
		if got := userInfo(t, env, auth, u.ID); got.UID != u.ID {
			t.Fatalf("userInfo %+v", got)
		}
	}

	t.Run("fields in any order", func(t *testing.T) {
		for _, order := range [][]string{
			{"timestamp", "access_key", "sign_method", "auth_mode", "ver"},
			{"ver", "access_key", "sign_method", "auth_mode", "timestamp"}, // the guide's example order
		} {
			username := loginUsername(env.Key.SecretID, env.Clock.Now(), order...)
			get(t, env, pathLogin+"?"+loginQuery(username, env.Key.SecretKey), "").want(t, 200, "OK")
		}
	})
	t.Run("upper-case hex", func(t *testing.T) {
		username := loginUsername(env.Key.SecretID, env.Clock.Now())
		q := "grant_type=password&username=" + url.QueryEscape(username) + "&password=" + strings.ToUpper(sha256hex(username+env.Key.SecretKey))
		get(t, env, pathLogin+"?"+q, "").want(t, 200, "OK")
	})
	t.Run("optional parameters of the guide", func(t *testing.T) {
		username := loginUsername(env.Key.SecretID, env.Clock.Now())
		get(t, env, pathLogin+"?"+loginQuery(username, env.Key.SecretKey)+"&client_id=sdfasdf&scope", "").want(t, 200, "OK")
	})
	t.Run("POST with a form body", func(t *testing.T) {
		username := loginUsername(env.Key.SecretID, env.Clock.Now())
		req, _ := http.NewRequest("POST", env.URL+pathLogin, strings.NewReader(loginQuery(username, env.Key.SecretKey)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		send(t, req).want(t, 200, "OK")
	})
	t.Run("timestamp at the window's edges", func(t *testing.T) {
		for _, d := range []time.Duration{-4*time.Minute - 50*time.Second, 4*time.Minute + 50*time.Second} {
			username := loginUsername(env.Key.SecretID, env.Clock.Now().Add(d))
			get(t, env, pathLogin+"?"+loginQuery(username, env.Key.SecretKey), "").want(t, 200, "OK")
		}
	})
	t.Run("a key of several apps", func(t *testing.T) {
		other, _ := env.NewApp(t, "other", 1000)
		key := env.NewKey(t, []uint64{env.App.SdkAppID, other.SdkAppID}, usercenter.PermUsersRead)
		login(t, env, key)
	})
}

// ptrPatch is a patch that sets a nickname.
func ptrPatch(nickname string) core.UserPatch { return core.UserPatch{Nickname: &nickname} }

func TestLoginFailures(t *testing.T) {
	env := uctest.New(t)
	key := env.Key
	revoked := env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead)
	if err := env.Svc.RevokeKey(bg, usercenter.Operator(), revoked.SecretID); err != nil {
		t.Fatal(err)
	}
	now := env.Clock.Now()
	good := loginUsername(key.SecretID, now)
	sig := func(u string) string { return sha256hex(u + key.SecretKey) }
	q := func(pairs ...string) string {
		var b []string
		for i := 0; i < len(pairs); i += 2 {
			b = append(b, pairs[i]+"="+url.QueryEscape(pairs[i+1]))
		}
		return pathLogin + "?" + strings.Join(b, "&")
	}
	cases := []struct {
		name string
		path string
		code int
		msg  string
	}{
		{"unknown AccessKey", q("grant_type", "password", "username", loginUsername("AKIDnope", now), "password", sha256hex(loginUsername("AKIDnope", now)+key.SecretKey)), 90047, "AccessKey didn't exists"},
		{"revoked AccessKey", pathLogin + "?" + loginQuery(loginUsername(revoked.SecretID, now), revoked.SecretKey), 90047, "AccessKey didn't exists"},
		{"huge AccessKey", q("grant_type", "password", "username", loginUsername(strings.Repeat("A", 300), now), "password", sig(good)), 90047, ""},
		{"wrong secret", pathLogin + "?" + loginQuery(good, key.SecretKey+"x"), 401, ""},
		{"secret of another key", pathLogin + "?" + loginQuery(good, revoked.SecretKey), 401, ""},
		{"signature over the encoded username", q("grant_type", "password", "username", good, "password", sig(url.QueryEscape(good))), 401, ""},
		{"signature of another timestamp", q("grant_type", "password", "username", good, "password", sig(loginUsername(key.SecretID, now.Add(time.Second)))), 401, ""},
		{"timestamp 6 minutes old", pathLogin + "?" + loginQuery(loginUsername(key.SecretID, now.Add(-6*time.Minute)), key.SecretKey), 401, ""},
		{"timestamp 6 minutes ahead", pathLogin + "?" + loginQuery(loginUsername(key.SecretID, now.Add(6*time.Minute)), key.SecretKey), 401, ""},
		{"missing grant_type", q("username", good, "password", sig(good)), 50005, "Parameter check error"},
		{"wrong grant_type", q("grant_type", "refresh_token", "username", good, "password", sig(good)), 50005, ""},
		{"missing username", q("grant_type", "password", "password", sig(good)), 50005, ""},
		{"missing password", q("grant_type", "password", "username", good), 50005, ""},
		{"short password", q("grant_type", "password", "username", good, "password", "abc"), 50005, ""},
		{"non-hex password", q("grant_type", "password", "username", good, "password", strings.Repeat("z", 64)), 50005, ""},
		{"username not encoded", pathLogin + "?grant_type=password&username=" + good + "&password=" + sig(good), 50005, ""},
		{"username encoded twice", q("grant_type", "password", "username", url.QueryEscape(good), "password", sig(url.QueryEscape(good))), 50005, ""},
		{"malformed percent encoding", pathLogin + "?grant_type=password&username=ver%3D1%26auth_mode%zz&password=" + sig(good), 50005, ""},
		{"garbage username", q("grant_type", "password", "username", "hello", "password", sig("hello")), 50005, ""},
		{"ver 2", q("grant_type", "password", "username", strings.Replace(good, "ver=1", "ver=2", 1), "password", sig(strings.Replace(good, "ver=1", "ver=2", 1))), 50005, ""},
		{"auth_mode missing", q("grant_type", "password", "username", strings.Replace(good, "auth_mode=accessKey&", "", 1), "password", sig(strings.Replace(good, "auth_mode=accessKey&", "", 1))), 50005, ""},
		{"sign_method md5", q("grant_type", "password", "username", strings.Replace(good, "sha256", "md5", 1), "password", sig(strings.Replace(good, "sha256", "md5", 1))), 50005, ""},
		{"repeated field", q("grant_type", "password", "username", good+"&ver=1", "password", sig(good+"&ver=1")), 50005, ""},
		{"timestamp in seconds as text", q("grant_type", "password", "username", strings.Replace(good, "timestamp=", "timestamp=x", 1), "password", "0"), 50005, ""},
		{"no access_key", q("grant_type", "password", "username", "ver=1&auth_mode=accessKey&sign_method=sha256&timestamp=1", "password", sig("x")), 50005, ""},
		{"non-UTF-8 username", pathLogin + "?grant_type=password&username=%ff%fe&password=" + sig(good), 50005, ""},
		{"control character", q("grant_type", "password", "username", good+"\x00", "password", sig(good)), 50005, ""},
		{"parameter twice", pathLogin + "?" + loginQuery(good, key.SecretKey) + "&grant_type=password", 50005, ""},
		{"huge username", q("grant_type", "password", "username", good+"&pad="+strings.Repeat("p", 2000), "password", sig(good)), 50005, ""},
		{"huge query", pathLogin + "?" + loginQuery(good, key.SecretKey) + "&pad=" + strings.Repeat("p", 9000), 50005, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := get(t, env, c.path, "").want(t, c.code, c.msg)
			var errField string
			res.field(t, "error", &errField)
			if errField != res.Msg {
				t.Fatalf("error %q, msg %q", errField, res.Msg)
			}
			if _, ok := res.m["access_token"]; ok {
				t.Fatalf("a failure with a token: %s", res.Body)
			}
		})
	}
	// The bad-password answer explains the formula; the stale one the clock.
	res := get(t, env, pathLogin+"?"+loginQuery(good, "nope"), "").want(t, 401, "")
	if !strings.Contains(res.ExtMsg, "sha256hex") {
		t.Fatalf("extMsg %q", res.ExtMsg)
	}
	if strings.Contains(string(res.Body), key.SecretKey) {
		t.Fatal("the answer holds the secret")
	}
	if strings.Contains(env.Log.String(), `"level":"ERROR"`) {
		t.Fatalf("a failed login logged an error:\n%s", env.Log.String())
	}
}

func TestTokenExpiry(t *testing.T) {
	env := uctest.New(t)
	u := newUser(t, env, env.App.SdkAppID, ptrPatch("Alice"))
	tok := login(t, env, env.Key)
	env.Clock.Advance(2*time.Hour - time.Minute)
	userInfo(t, env, tok, u.ID)
	env.Clock.Advance(time.Minute)
	get(t, env, pathUserInfo+"?uid="+u.ID, tok).want(t, 5032, "Token verification failed")
	get(t, env, pathRefresh+"?grant_type=refresh_token&refresh_token="+url.QueryEscape(tok), "").want(t, 5032, "")
	// Purging removes it for good, and the service still says 5032.
	n, err := env.Svc.DeleteExpiredEnterpriseTokens(bg)
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v", n, err)
	}
	get(t, env, pathUserInfo+"?uid="+u.ID, tok).want(t, 5032, "")
}

func TestRevokedKeyStopsTokensAtOnce(t *testing.T) {
	env := uctest.New(t)
	u := newUser(t, env, env.App.SdkAppID, ptrPatch("Alice"))
	key := env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead, usercenter.PermUsersWrite)
	tok := login(t, env, key)
	userInfo(t, env, tok, u.ID)
	if err := env.Svc.RevokeKey(bg, usercenter.Operator(), key.SecretID); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		pathUserInfo + "?uid=" + u.ID,
		pathDomainList,
		pathDomainUserList + "?userDomain=" + env.App.UserDomain,
		pathSetUserStatus + "?uid=" + u.ID + "&status=0",
	} {
		get(t, env, path, tok).want(t, 5032, "Token verification failed")
	}
	get(t, env, pathRefresh+"?grant_type=refresh_token&refresh_token="+url.QueryEscape(tok), "").want(t, 5032, "")
	get(t, env, pathLogin+"?"+loginQuery(loginUsername(key.SecretID, env.Clock.Now()), key.SecretKey), "").want(t, 90047, "")
	if got := userInfo(t, env, login(t, env, env.Key), u.ID); got.Status != 1 {
		t.Fatal("the revoked key's setUserStatus went through")
	}
}

func TestRefresh(t *testing.T) {
	env := uctest.New(t)
	u := newUser(t, env, env.App.SdkAppID, ptrPatch("Alice"))
	tok := login(t, env, env.Key)
	refresh := func(token string) *result {
		return get(t, env, pathRefresh+"?grant_type=refresh_token&refresh_token="+url.QueryEscape(token), "")
	}
	tokenOf := func(res *result) (string, int) {
		var tok string
		var exp int
		res.field(t, "access_token", &tok)
		res.field(t, "expires_in", &exp)
		return tok, exp
	}

	// Within 30 minutes: the same token, its lifetime unchanged.
	env.Clock.Advance(29 * time.Minute)
	same, exp := tokenOf(refresh(tok).want(t, 200, "OK"))
	if same != tok || exp > 7200-29*60 || exp < 7200-29*60-5 {
		t.Fatalf("refresh after 29 min: %q expires in %d, want the same token", same, exp)
	}
	// Without the prefix too.
	if same, _ := tokenOf(refresh(strings.TrimPrefix(tok, "QJWT ")).want(t, 200, "OK")); same != tok {
		t.Fatalf("refresh of the bare token: %q", same)
	}

	// After 30 minutes: a new token with a full lifetime. Both work.
	env.Clock.Advance(2 * time.Minute)
	fresh, exp := tokenOf(refresh(tok).want(t, 200, "OK"))
	if fresh == tok || !strings.HasPrefix(fresh, "QJWT ") || exp != 7200 {
		t.Fatalf("refresh after 31 min: %q expires in %d", fresh, exp)
	}
	userInfo(t, env, fresh, u.ID)
	userInfo(t, env, tok, u.ID)
	// The new token is itself fresh: refreshing it returns it.
	if again, _ := tokenOf(refresh(fresh).want(t, 200, "OK")); again != fresh {
		t.Fatalf("refresh of a fresh token: %q", again)
	}
	// The old token dies at its own expiry; the new one lives on.
	env.Clock.Advance(90 * time.Minute)
	get(t, env, pathUserInfo+"?uid="+u.ID, tok).want(t, 5032, "")
	userInfo(t, env, fresh, u.ID)

	// Bad refreshes.
	for _, c := range []struct {
		name, query string
		code        int
	}{
		{"missing grant_type", "refresh_token=" + url.QueryEscape(fresh), 50005},
		{"wrong grant_type", "grant_type=password&refresh_token=" + url.QueryEscape(fresh), 50005},
		{"missing refresh_token", "grant_type=refresh_token", 50005},
		{"unknown token", "grant_type=refresh_token&refresh_token=QJWT+nope", 5032},
		{"huge token", "grant_type=refresh_token&refresh_token=" + strings.Repeat("t", 500), 5032},
		{"non-UTF-8 token", "grant_type=refresh_token&refresh_token=%ff", 50005},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := get(t, env, pathRefresh+"?"+c.query, "").want(t, c.code, "")
			var e string
			res.field(t, "error", &e)
		})
	}

	// A revoked key: the refresh fails, before and after 30 minutes.
	key := env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead)
	old := login(t, env, key)
	env.Clock.Advance(40 * time.Minute)
	young := login(t, env, key)
	refresh(young).want(t, 200, "")
	refresh(old).want(t, 200, "")
	if err := env.Svc.RevokeKey(bg, usercenter.Operator(), key.SecretID); err != nil {
		t.Fatal(err)
	}
	refresh(young).want(t, 5032, "")
	refresh(old).want(t, 5032, "")
}

func TestMethodsAndPaths(t *testing.T) {
	env := uctest.New(t)
	tok := login(t, env, env.Key)
	call(t, env, "POST", pathUserInfo+"?uid=x", tok).want(t, 405, "Method not allowed")
	call(t, env, "DELETE", pathLogin, "").want(t, 405, "")
	get(t, env, "/v2/enduser/enterpriseapi/nope", tok).want(t, 404, "Not found")
	get(t, env, "/v2/", "").want(t, 404, "")
	get(t, env, "/v2/enduser/enterpriseapi/userinfo?uid=x", tok).want(t, 404, "")
}

func TestRateLimitAndMetrics(t *testing.T) {
	env := uctest.New(t, uctest.Options{RateLimit: 1})
	u := newUser(t, env, env.App.SdkAppID, ptrPatch("Alice"))
	tok := login(t, env, env.Key)
	// The burst is the rate: a second call at once finds the bucket empty.
	// The clock stands still, so that no token refills however slowly the
	// calls go.
	env.Clock.Freeze()
	var codes []int
	for range 3 {
		codes = append(codes, get(t, env, pathUserInfo+"?uid="+u.ID, tok).Code)
	}
	if codes[0] != 200 || codes[2] != 429 {
		t.Fatalf("codes %v, want 200 then 429", codes)
	}
	res, err := http.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		`usercenter_requests_total{action="enterprise.userInfo",code="200",facade="enterprise"} 1`,
		`usercenter_requests_total{action="enterprise.userInfo",code="429",facade="enterprise"}`,
		`usercenter_requests_total{action="enterprise.accessKeyLogin",code="200",facade="enterprise"} 1`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(env.Log.String(), strings.TrimPrefix(tok, "QJWT ")) {
		t.Fatal("the token was logged")
	}
}

// A login URL carries its signature in the query string; if one leaks
// (a proxy log, a browser history) it must not buy fresh tokens for the
// rest of its five minutes.
func TestLoginReplayRefused(t *testing.T) {
	env := uctest.New(t)
	query := loginQuery(loginUsername(env.Key.SecretID, env.Clock.Now()), env.Key.SecretKey)
	get(t, env, pathLogin+"?"+query, "").want(t, 200, "OK")
	get(t, env, pathLogin+"?"+query, "").want(t, 401, "Unauthorized")
	// A new signature of the same key still logs in.
	get(t, env, pathLogin+"?"+loginQuery(loginUsername(env.Key.SecretID, env.Clock.Now()), env.Key.SecretKey), "").want(t, 200, "OK")
}
