package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/obs"
	"usercenter/server"
	"usercenter/uctest/svctest"
)

var bg = context.Background()

const testPassword = "correct horse battery"

// testConsole is the whole server, the console mounted, on a loopback
// port.
type testConsole struct {
	t     *testing.T
	svc   *core.Service
	store core.Store
	url   string
}

func newTestConsole(t *testing.T, tls bool) *testConsole {
	t.Helper()
	svc, store := svctest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := server.NewHandler(svc, log, server.NewRegistry(), server.WithConsole(New(svc, Options{Log: log}).Handler()))
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return &testConsole{t: t, svc: svc, store: store, url: srv.URL}
}

// setup creates the first admin through the setup link and returns its
// session token.
func (c *testConsole) setup(email string) string {
	c.t.Helper()
	link, err := c.svc.ConsoleSetupLink(bg)
	if err != nil {
		c.t.Fatal(err)
	}
	in, err := c.svc.RedeemConsoleLink(bg, link, email, testPassword)
	if err != nil {
		c.t.Fatal(err)
	}
	return in.Token
}

// invite creates an account of role and returns its session token.
func (c *testConsole) invite(admin *usercenter.Actor, email string, role usercenter.ConsoleRole) (string, *usercenter.ConsoleAccount) {
	c.t.Helper()
	acc, link, err := c.svc.CreateConsoleAccount(bg, admin, email, role, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	in, err := c.svc.RedeemConsoleLink(bg, link, "", testPassword)
	if err != nil {
		c.t.Fatal(err)
	}
	return in.Token, acc
}

func (c *testConsole) actor(token string) *usercenter.Actor {
	c.t.Helper()
	_, a, err := c.svc.ConsoleSession(bg, token)
	if err != nil {
		c.t.Fatal(err)
	}
	return a
}

// appAndUser creates an app and a user of it with a phone and an email,
// for tests that reach the pages.
func (c *testConsole) appAndUser() (app string, user *usercenter.User) {
	c.t.Helper()
	a, _, err := c.svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "Shop"})
	if err != nil {
		c.t.Fatal(err)
	}
	phone, email, nick := "+8613612346688", "pat@example.com", "pat"
	users, err := c.svc.CreateUsers(bg, usercenter.Operator(), a.SdkAppID, []core.UserPatch{{Nickname: &nick, Phone: &phone, Email: &email}})
	if err != nil {
		c.t.Fatal(err)
	}
	return strconv.FormatUint(a.SdkAppID, 10), &users[0]
}

// pagePaths are the pages of an app and a user, for tests that go
// through every page.
func pagePaths(app string, u *usercenter.User) []string {
	return []string{"/console/apps", "/console/apps/" + app, "/console/users", "/console/users?app=" + app,
		"/console/users?app=" + app + "&kind=userId&q=" + u.ID, "/console/users/" + u.ID, "/console/users/" + u.ID + "/edit",
		"/console/audit", "/console/audit?user=" + u.ID, "/console/audit.csv"}
}

// pagePosts are the state-changing forms of the pages, for tests that
// send each.
func pagePosts(app string, u *usercenter.User) map[string]url.Values {
	return map[string]url.Values{
		"/console/apps":                             {"name": {"Another"}},
		"/console/apps/" + app + "/keys":            {"keyName": {"k"}, "permission": {"users.read"}},
		"/console/apps/" + app + "/superapp-secret": {},
		"/console/users/" + u.ID + "/reveal":        {"field": {"phone"}, "reason": {"a reason"}},
		"/console/users/" + u.ID + "/status":        {"status": {"0"}},
		"/console/users/" + u.ID + "/edit":          {"nickname": {"changed"}},
		"/console/users/" + u.ID + "/revoke-tokens": {},
		"/console/users/" + u.ID + "/delete":        {"confirm": {u.ID}},
	}
}

// unchanged fails the test if the user was changed or the app renamed,
// or an event other than the console's own sign-ins was audited.
func (c *testConsole) unchanged(what string, u *usercenter.User) {
	c.t.Helper()
	got, err := c.svc.GetUser(bg, usercenter.Operator(), u.ID, nil)
	if err != nil || got.Status != usercenter.UserActive || got.Nickname != u.Nickname {
		c.t.Errorf("%s: the user is now %+v (%v)", what, got, err)
	}
	evs, _, err := c.svc.AuditPage(bg, usercenter.Operator(), usercenter.AuditFilter{UserID: u.ID})
	if err != nil {
		c.t.Fatal(err)
	}
	for _, e := range evs {
		if e.Action != usercenter.AuditCreate {
			c.t.Errorf("%s: the user's audit trail has %+v", what, e)
		}
	}
	apps, err := c.svc.Apps(bg)
	if err != nil || len(apps) != 1 {
		c.t.Errorf("%s: the apps are %+v (%v)", what, apps, err)
	}
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends a request with the session token (if any) and headers, and
// returns the response and its body.
func (c *testConsole) do(method, path, token string, form url.Values, header map[string]string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.url+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: token})
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := noRedirects
	if strings.HasPrefix(c.url, "https:") {
		client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), CheckRedirect: noRedirects.CheckRedirect}
		client.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify = true
	}
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// sameOrigin is what a browser sends with a form of the console.
func (c *testConsole) sameOrigin() map[string]string {
	return map[string]string{"Origin": c.url, "Sec-Fetch-Site": "same-origin"}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf reads the CSRF token of the first form of a page.
func (c *testConsole) csrfOf(path, token string) string {
	c.t.Helper()
	_, body := c.do("GET", path, token, nil, nil)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("%s has no csrf field:\n%s", path, body)
	}
	return m[1]
}

func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": contentSecurityPolicy,
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
		"X-Content-Type-Options":  "nosniff",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s is %q, want %q", what, k, got, v)
		}
	}
}

// TestSecurityHeaders: every page, signed in or not, found or not, and
// every asset carries the security headers; the CSP allows no inline
// script and nothing from elsewhere.
func TestSecurityHeaders(t *testing.T) {
	c := newTestConsole(t, false)
	token := c.setup("root@example.com")
	_, link, _ := c.svc.CreateConsoleAccount(bg, c.actor(token), "new@example.com", usercenter.RoleViewer, nil)
	acc, _ := c.svc.ConsoleAccountByEmail(bg, c.actor(token), "new@example.com")
	for _, p := range []struct{ path, token string }{
		{"/console/signin", ""}, {"/console/link/" + link, ""}, {"/console/link/not-a-link", ""},
		{"/console/", ""}, {"/console/nothing-here", ""}, {"/console/static/console.css", ""},
		{"/console/", token}, {"/console/accounts", token}, {"/console/accounts/" + acc.ID, token},
		{"/console/account/two-factor", token}, {"/console/nothing-here", token},
	} {
		resp, _ := c.do("GET", p.path, p.token, nil, nil)
		checkSecurityHeaders(t, p.path, resp.Header)
	}
	app, u := c.appAndUser()
	for _, path := range append(pagePaths(app, u), "/console/users/not-a-user", "/console/apps/0") {
		resp, _ := c.do("GET", path, token, nil, nil)
		checkSecurityHeaders(t, path, resp.Header)
	}
	// The pages a form answers with: a secret shown once, a reveal.
	csrf := c.csrfOf("/console/", token)
	for path, form := range map[string]url.Values{"/console/apps": {"name": {"Keys"}}, "/console/users/" + u.ID + "/reveal": {"field": {"phone"}, "reason": {"a test"}}} {
		form.Set("csrf", csrf)
		resp, body := c.do("POST", path, token, form, c.sameOrigin())
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d\n%s", path, resp.StatusCode, body)
		}
		checkSecurityHeaders(t, "POST "+path, resp.Header)
	}
	resp, _ := c.do("POST", "/console/signin", "", url.Values{"email": {"x@example.com"}}, map[string]string{"Origin": "https://evil.example"})
	checkSecurityHeaders(t, "a refused POST", resp.Header)
	if !strings.Contains(contentSecurityPolicy, "script-src 'self'") || strings.Contains(contentSecurityPolicy, "unsafe-inline") {
		t.Errorf("the CSP allows inline script: %s", contentSecurityPolicy)
	}
}

// TestCSRF: a state-changing request from another site fails, signed in
// or not; one from the console's own page without the session's token
// fails too; only the console's own form goes through.
func TestCSRF(t *testing.T) {
	c := newTestConsole(t, false)
	token := c.setup("root@example.com")
	csrf := c.csrfOf("/console/accounts", token)
	invite := func(email string, form url.Values, header map[string]string) int {
		form.Set("email", email)
		form.Set("role", "viewer")
		resp, _ := c.do("POST", "/console/accounts", token, form, header)
		return resp.StatusCode
	}
	exists := func(email string) bool {
		_, err := c.svc.ConsoleAccountByEmail(bg, usercenter.Operator(), email)
		return err == nil
	}
	cases := []struct {
		name   string
		form   url.Values
		header map[string]string
	}{
		{"another origin, with the token", url.Values{"csrf": {csrf}}, map[string]string{"Origin": "https://evil.example"}},
		{"an opaque origin", url.Values{"csrf": {csrf}}, map[string]string{"Origin": "null"}},
		{"cross-site, no Origin", url.Values{"csrf": {csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"same origin, no token", url.Values{}, c.sameOrigin()},
		{"same origin, a wrong token", url.Values{"csrf": {"x" + csrf}}, c.sameOrigin()},
	}
	for i, tc := range cases {
		email := "csrf" + string(rune('a'+i)) + "@example.com"
		if got := invite(email, tc.form, tc.header); got != http.StatusForbidden || exists(email) {
			t.Errorf("%s: %d, account created: %v", tc.name, got, exists(email))
		}
	}
	if got := invite("ok@example.com", url.Values{"csrf": {csrf}}, c.sameOrigin()); got != http.StatusOK || !exists("ok@example.com") {
		t.Errorf("the console's own form: %d", got)
	}

	// The pages' forms likewise: from another site, with the session's
	// token, each is refused and changes nothing.
	app, u := c.appAndUser()
	for path, form := range pagePosts(app, u) {
		form.Set("csrf", csrf)
		for _, header := range []map[string]string{{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}} {
			if resp, _ := c.do("POST", path, token, form, header); resp.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s from another site (%v): %d", path, header, resp.StatusCode)
			}
		}
		form.Del("csrf")
		if resp, _ := c.do("POST", path, token, form, c.sameOrigin()); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without the token: %d", path, resp.StatusCode)
		}
	}
	c.unchanged("after the cross-site forms", u)

	// Sign-in from another site (login CSRF) fails before any check.
	resp, _ := c.do("POST", "/console/signin", "", url.Values{"email": {"root@example.com"}, "password": {testPassword}},
		map[string]string{"Origin": "https://evil.example"})
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("a sign-in from another site: %d %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	// Sign-out from another site does not end the session.
	c.do("POST", "/console/signout", token, url.Values{"csrf": {csrf}}, map[string]string{"Origin": "https://evil.example"})
	if _, _, err := c.svc.ConsoleSession(bg, token); err != nil {
		t.Errorf("a cross-site sign-out ended the session: %v", err)
	}
}

// TestViewerCannotManage: the server refuses a viewer's forged requests
// to manage accounts, not just the page hiding the forms.
func TestViewerCannotManage(t *testing.T) {
	c := newTestConsole(t, false)
	admin := c.setup("root@example.com")
	viewer, vAcc := c.invite(c.actor(admin), "viewer@example.com", usercenter.RoleViewer)
	csrf := c.csrfOf("/console/", viewer) // the sign-out form's token: the viewer's own

	_, home := c.do("GET", "/console/", viewer, nil, nil)
	if strings.Contains(home, `href="/console/accounts"`) {
		t.Error("a viewer's page links to the accounts")
	}
	if resp, _ := c.do("GET", "/console/accounts", viewer, nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's GET /console/accounts: %d", resp.StatusCode)
	}
	resp, _ := c.do("POST", "/console/accounts", viewer, url.Values{"csrf": {csrf}, "email": {"evil@example.com"}, "role": {"admin"}}, c.sameOrigin())
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's forged invite: %d", resp.StatusCode)
	}
	if _, err := c.svc.ConsoleAccountByEmail(bg, usercenter.Operator(), "evil@example.com"); err == nil {
		t.Error("the viewer's invite created an account")
	}
	resp, _ = c.do("POST", "/console/accounts/"+vAcc.ID, viewer, url.Values{"csrf": {csrf}, "action": {"save"}, "role": {"admin"}}, c.sameOrigin())
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's forged promotion: %d", resp.StatusCode)
	}
	if acc, _ := c.svc.ConsoleAccount(bg, usercenter.Operator(), vAcc.ID); acc.Role != usercenter.RoleViewer {
		t.Errorf("the viewer promoted itself to %s", acc.Role)
	}
}

// TestSessionCookie: the cookie is HttpOnly and SameSite=Strict, Secure
// over TLS only; signing out deletes the session, so the old cookie fails.
func TestSessionCookie(t *testing.T) {
	for _, tls := range []bool{false, true} {
		c := newTestConsole(t, tls)
		c.setup("root@example.com")
		header := c.sameOrigin()
		resp, _ := c.do("POST", "/console/signin", "", url.Values{"email": {"root@example.com"}, "password": {testPassword}}, header)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", resp.StatusCode)
		}
		var cookie *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == cookieName {
				cookie = ck
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Secure != tls || cookie.Path != "/console/" {
			t.Fatalf("TLS %v: the session cookie is %+v", tls, cookie)
		}
		if resp, _ := c.do("GET", "/console/", cookie.Value, nil, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("signed in: %d", resp.StatusCode)
		}
		csrf := c.csrfOf("/console/", cookie.Value)
		resp, _ = c.do("POST", "/console/signout", cookie.Value, url.Values{"csrf": {csrf}}, header)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", resp.StatusCode)
		}
		app, u := c.appAndUser()
		for _, path := range append(pagePaths(app, u), "/console/", "/console/accounts") {
			resp, _ = c.do("GET", path, cookie.Value, nil, nil)
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin") {
				t.Errorf("TLS %v: the signed-out cookie at %s: %d %s", tls, path, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		for path, form := range pagePosts(app, u) {
			form.Set("csrf", csrf)
			if resp, _ := c.do("POST", path, cookie.Value, form, header); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("TLS %v: POST %s with the signed-out cookie: %d", tls, path, resp.StatusCode)
			}
		}
		c.unchanged("after the signed-out cookie's forms", u)
	}
}

// TestSignedOutSeesNothing: every path but the sign-in page, the links
// and the assets needs a session, whatever registered it.
func TestSignedOutSeesNothing(t *testing.T) {
	c := newTestConsole(t, false)
	app, u := c.appAndUser()
	for _, path := range append(pagePaths(app, u), "/console/", "/console/accounts", "/console/account/two-factor", "/console/no-such-page") {
		resp, body := c.do("GET", path, "", nil, nil)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin?next=") {
			t.Errorf("GET %s signed out: %d %s\n%s", path, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	posts := pagePosts(app, u)
	posts["/console/accounts"] = url.Values{"email": {"x@example.com"}}
	for path, form := range posts {
		if resp, _ := c.do("POST", path, "", form, c.sameOrigin()); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s signed out: %d", path, resp.StatusCode)
		}
	}
	c.unchanged("after the signed-out forms", u)
	for _, path := range []string{"/console/signin", "/console/static/console.css"} {
		if resp, _ := c.do("GET", path, "", nil, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s signed out: %d", path, resp.StatusCode)
		}
	}
}

// TestRootPointsToConsole: a browser at / is pointed to the console.
func TestRootPointsToConsole(t *testing.T) {
	c := newTestConsole(t, false)
	_, body := c.do("GET", "/", "", nil, map[string]string{"Accept": "text/html"})
	if !strings.Contains(body, `<a href="/console/">`) {
		t.Errorf("the root page does not link to the console:\n%s", body)
	}
	resp, _ := c.do("GET", "/console", "", nil, nil)
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/console/" {
		t.Errorf("/console: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestSignInForm: wrong credentials answer the form again with one
// message, and the redirect after sign-in stays in the console.
func TestSignInForm(t *testing.T) {
	c := newTestConsole(t, false)
	c.setup("root@example.com")
	resp, body := c.do("POST", "/console/signin", "", url.Values{"email": {"root@example.com"}, "password": {"wrong password"}}, c.sameOrigin())
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "The email, password or code is wrong") && !strings.Contains(body, "the email, password or code is wrong") {
		t.Errorf("a wrong password: %d\n%s", resp.StatusCode, body)
	}
	for next, want := range map[string]string{"/console/accounts": "/console/accounts", "https://evil.example/": "/console/", "//evil.example/console/": "/console/"} {
		resp, _ := c.do("POST", "/console/signin", "", url.Values{"email": {"root@example.com"}, "password": {testPassword}, "next": {next}}, c.sameOrigin())
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("next %q: redirected to %q, want %q", next, got, want)
		}
	}
}

// TestConsoleTraffic: the console's requests are counted, like every
// facade's, by the route they matched, and only a refusal or a failure
// counts as an error: the dashboard's traffic table does not show every
// page as an error of an unknown action.
func TestConsoleTraffic(t *testing.T) {
	svc, _ := svctest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := server.NewRegistry()
	start := time.Now()
	traffic := obs.NewTraffic(reg, start)
	srv := httptest.NewServer(server.NewHandler(svc, log, reg, server.WithConsole(New(svc, Options{Log: log, Traffic: traffic}).Handler())))
	t.Cleanup(srv.Close)
	c := &testConsole{t: t, svc: svc, url: srv.URL}
	token := c.setup("root@example.com")
	for range 3 {
		c.do("GET", "/console/", token, nil, nil)
	}
	c.do("GET", "/console/users/not-a-user", token, nil, nil)
	got, _, err := traffic.LastHour(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]obs.ActionTraffic{
		"GET /console/{$}":          {Facade: "console", Action: "GET /console/{$}", Requests: 3},
		"GET /console/users/{user}": {Facade: "console", Action: "GET /console/users/{user}", Requests: 1, Errors: 1},
	}
	for _, a := range got {
		if w, ok := want[a.Action]; ok {
			if a != w {
				t.Errorf("the traffic of %s: %+v, want %+v", a.Action, a, w)
			}
			delete(want, a.Action)
		} else if a.Facade == "console" {
			t.Errorf("unexpected console traffic: %+v", a)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing from the traffic: %+v (got %+v)", want, got)
	}
}

// TestAuditNamesAccounts: the audit events name a console account by its
// ID; the pages that show them give its email beside it, and the CSV
// keeps the ID, as the API does.
func TestAuditNamesAccounts(t *testing.T) {
	c := newTestConsole(t, false)
	token := c.setup("root@example.com")
	id := strings.TrimPrefix(c.actor(token).Name, "console:")
	app, u := c.appAndUser()
	csrf := c.csrfOf("/console/", token)
	if resp, body := c.do("POST", "/console/users/"+u.ID+"/reveal", token, url.Values{"csrf": {csrf}, "field": {"phone"}, "reason": {"ticket 9"}}, c.sameOrigin()); resp.StatusCode != http.StatusOK {
		t.Fatalf("reveal: %d\n%s", resp.StatusCode, body)
	}
	named := regexp.MustCompile(`<td>root@example\.com <span class="muted">console:` + id + `</span></td>`)
	for _, path := range []string{"/console/audit?app=" + app, "/console/users/" + u.ID} {
		if _, body := c.do("GET", path, token, nil, nil); !named.MatchString(body) {
			t.Errorf("%s does not name the account by email:\n%s", path, body)
		}
	}
	if _, body := c.do("GET", "/console/audit.csv?action=reveal", token, nil, nil); !strings.Contains(body, ",console:"+id+",") || strings.Contains(body, "root@example.com") {
		t.Errorf("the CSV's actor:\n%s", body)
	}
}
