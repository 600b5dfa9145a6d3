package console

// Click paths through the pages in a real browser, on the harness of
// browser_test.go: Debian's chromium, headless, driven by chromedp, with
// axe-core and the 360 px check (checkPage) on every page. The console is
// the whole server's, over the test's service, and the browser signs in
// through the sign-in page: every request goes through the real session,
// CSRF check and security headers.

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"usercenter"
	"usercenter/core"
	"usercenter/obs"
	"usercenter/server"
	"usercenter/uctest"
)

// consoleOver serves the whole server, the console mounted, over env's
// service, and creates its first admin (adminEmail, testPassword) through
// the setup link. It returns the server's address.
func consoleOver(t *testing.T, env *uctest.Env) string {
	t.Helper()
	log, reg := discardLog(), server.NewRegistry()
	traffic := obs.NewTraffic(reg, time.Now())
	if err := traffic.Sample(time.Now()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.NewHandler(env.Svc, log, reg, server.WithConsole(New(env.Svc, Options{Log: log, Traffic: traffic}).Handler())))
	t.Cleanup(ts.Close)
	link, err := env.Svc.ConsoleSetupLink(bg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Svc.RedeemConsoleLink(bg, link, adminEmail, testPassword); err != nil {
		t.Fatal(err)
	}
	return ts.URL
}

const adminEmail = "root@example.com"

// consoleAccount creates an account of role with testPassword, as
// `usercenter admin create` does, and returns its actor name (console:<ID>).
func consoleAccount(t *testing.T, env *uctest.Env, email string, role usercenter.ConsoleRole) string {
	t.Helper()
	acc, link, err := env.Svc.CreateConsoleAccount(bg, usercenter.Operator(), email, role, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Svc.RedeemConsoleLink(bg, link, "", testPassword); err != nil {
		t.Fatal(err)
	}
	return "console:" + acc.ID
}

// signInAs signs in through the sign-in page, as an account without
// two-factor, and waits for the dashboard.
func signInAs(t *testing.T, ctx context.Context, base, email string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(base+"/console/signin"))
	waitHeading(t, ctx, "Sign in")
	run(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword+"\r"),
	)
	waitHeading(t, ctx, "Dashboard")
}

// open navigates to path and waits for the page's heading.
func open(t *testing.T, ctx context.Context, base, path, heading string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(base+path))
	waitHeading(t, ctx, heading)
}

// mainText is the visible text of the page's main.
func mainText(t *testing.T, ctx context.Context) string {
	t.Helper()
	return text(t, ctx, "main")
}

// postStatus sends a form to path from the page, as a hand-made request
// of the signed-in browser would (same origin, the session's own CSRF
// token, read from the sign-out form), and returns the HTTP status.
func postStatus(t *testing.T, ctx context.Context, path string, form url.Values) int {
	t.Helper()
	js := fmt.Sprintf(`(() => { const f = new URLSearchParams(%s); f.set("csrf", document.querySelector('input[name="csrf"]').value);
		return fetch(%s, {method: "POST", body: f}).then(r => r.status) })()`, strconv.Quote(form.Encode()), strconv.Quote(path))
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("posting %s: %v", path, err)
	}
	return status
}

// TestBrowserClickPaths: an admin signed in creates an app and a key,
// finds a user by each kind of search, reveals a phone with a reason and
// sees the audit event, edits and disables the user (LCIC LoginUser is
// then refused), filters the audit trail and downloads it as CSV, and
// deletes the user; then a viewer finds no control to change anything,
// and the server refuses each change the viewer forges. Every page on
// the way passes axe-core and the 360 px check.
func TestBrowserClickPaths(t *testing.T) {
	ctx := newBrowser(t)
	env := uctest.New(t)
	base := consoleOver(t, env)
	adminAcc, err := env.Svc.ConsoleAccountByEmail(bg, usercenter.Operator(), adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	viewer := consoleAccount(t, env, "viewer@example.com", usercenter.RoleViewer)
	signInAs(t, ctx, base, adminEmail)

	t.Run("create an app and a key", func(t *testing.T) {
		open(t, ctx, base, "/console/apps", "Apps")
		checkPage(t, ctx, "apps")
		run(t, ctx,
			chromedp.SendKeys(chromedp.ID("#name"), "Browser Shop"),
			chromedp.Click(chromedp.CSS(`form[action="/console/apps"] button[type=submit]`)),
		)
		waitFor(t, ctx, "code.secret")
		checkPage(t, ctx, "secret")
		secret, secretID := text(t, ctx, "code.secret"), text(t, ctx, "dl.facts dd code")
		key, err := env.Svc.AuthenticateKey(bg, secretID, secret)
		if err != nil {
			t.Fatalf("the first key shown does not authenticate: %v", err)
		}
		appPath := "/console/apps/" + strconv.FormatUint(key.Apps[0], 10)
		open(t, ctx, base, appPath, "App Browser Shop")
		checkPage(t, ctx, "app")
		run(t, ctx,
			chromedp.SendKeys(chromedp.ID("#keyName"), "reader"),
			chromedp.Click(chromedp.CSS(`input[name=permission][value="users.read"]`)),
			chromedp.Click(chromedp.CSS(`form[action="`+appPath+`/keys"] button[type=submit]`)),
		)
		waitFor(t, ctx, "code.secret")
		secret, secretID = text(t, ctx, "code.secret"), text(t, ctx, "dl.facts dd code")
		reader, err := env.Svc.AuthenticateKey(bg, secretID, secret)
		if err != nil || !reader.Has(usercenter.PermUsersRead) || reader.Has(usercenter.PermUsersWrite) {
			t.Fatalf("the new key: %+v, %v; want users.read only", reader, err)
		}
	})

	phone, email := "+8613612346688", "pat@example.com"
	nick, origin, wx := "pat", "shop-pat", "wx-pat"
	users, err := env.Svc.CreateUsers(bg, usercenter.Operator(), env.App.SdkAppID, []core.UserPatch{{Nickname: &nick, OriginID: &origin,
		Phone: &phone, Email: &email, ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderQQ: &wx}}})
	if err != nil {
		t.Fatal(err)
	}
	u := users[0]
	app := strconv.FormatUint(env.App.SdkAppID, 10)

	t.Run("find a user by each kind of search", func(t *testing.T) {
		open(t, ctx, base, "/console/users?app="+app, "Users")
		checkPage(t, ctx, "users")
		for i, c := range []struct{ kind, q string }{
			{"userId", u.ID}, {"originId", origin}, {"phone", "13612346688"}, {"email", "PAT@example.com"}, {"thirdParty", wx},
		} {
			open(t, ctx, base, "/console/users?app="+app, "Users")
			run(t, ctx,
				chromedp.SetValue(chromedp.ID("#kind"), c.kind),
				chromedp.SetValue(chromedp.ID("#provider"), string(usercenter.ProviderQQ)),
				chromedp.SendKeys(chromedp.ID("#q"), c.q),
				chromedp.Submit(chromedp.ID("#q")),
				// Only the answer to a search has this heading; the list
				// before it holds the user too.
				chromedp.WaitVisible(`//h2[text()="Users found"]`),
				chromedp.WaitVisible(chromedp.CSS(`a[href="/console/users/`+u.ID+`"]`)),
			)
			if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("main table a").length`)); err != nil || n != 1 {
				t.Fatalf("searching by %s found %d users (%v), want 1", c.kind, n, err)
			}
			if i == 0 {
				checkPage(t, ctx, "search")
			}
		}
	})

	t.Run("the dashboard counts the users", func(t *testing.T) {
		open(t, ctx, base, "/console/", "Dashboard")
		if got := text(t, ctx, `a[href="/console/users?app=`+app+`&status=1"]`); got != "1" {
			t.Errorf("the dashboard counts %s active users of the first app, want 1", got)
		}
		checkPage(t, ctx, "dashboard")
	})

	t.Run("reveal a phone with a reason and see the audit event", func(t *testing.T) {
		open(t, ctx, base, "/console/users/"+u.ID, "User pat")
		checkPage(t, ctx, "user")
		run(t, ctx,
			chromedp.Click(chromedp.CSS(`input[name=field][value=phone]`)),
			chromedp.SendKeys(chromedp.ID("#reason"), "ticket 81: the user cannot log in"),
			chromedp.Click(chromedp.CSS(`form[action$="/reveal"] button[type=submit]`)),
		)
		waitFor(t, ctx, "strong.revealed")
		if page := mainText(t, ctx); !strings.Contains(page, phone) || strings.Contains(page, email) {
			t.Fatalf("after revealing the phone the page reads:\n%s", page)
		}
		checkPage(t, ctx, "reveal")
		open(t, ctx, base, "/console/audit?user="+u.ID+"&action=reveal", "Audit trail")
		if page := mainText(t, ctx); !strings.Contains(page, "ticket 81: the user cannot log in") || !strings.Contains(page, adminEmail+" console:"+adminAcc.ID) {
			t.Fatalf("the audit trail lacks the reveal by console:%s:\n%s", adminAcc.ID, page)
		}
	})

	t.Run("edit the profile", func(t *testing.T) {
		open(t, ctx, base, "/console/users/"+u.ID+"/edit", "Edit pat")
		checkPage(t, ctx, "edit")
		run(t, ctx, chromedp.SendKeys(chromedp.ID("#city"), "Hangzhou"), chromedp.Submit(chromedp.ID("#city")))
		waitFor(t, ctx, "p.notice")
		if got, err := env.Svc.GetUser(bg, usercenter.Operator(), u.ID, nil); err != nil || got.City != "Hangzhou" || got.Phone != "136****6688" {
			t.Fatalf("after the edit: %+v, %v", got, err)
		}
	})

	t.Run("disable a user and LCIC LoginUser is refused", func(t *testing.T) {
		sdk := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{})
		login := uctest.NewLoginUser()
		login.UserId = &u.ID
		if _, err := sdk.Send(login); err != nil {
			t.Fatalf("LoginUser before disabling: %v", err)
		}
		open(t, ctx, base, "/console/users/"+u.ID, "User pat")
		run(t, ctx, chromedp.Click(chromedp.CSS(`form[action$="/status"] button[type=submit]`)))
		waitFor(t, ctx, "p.notice")
		if page := mainText(t, ctx); !strings.Contains(page, "The user is disabled") {
			t.Fatalf("after disabling:\n%s", page)
		}
		checkPage(t, ctx, "")
		login = uctest.NewLoginUser()
		login.UserId = &u.ID
		if _, err := sdk.Send(login); uctest.Code(err) != "FailedOperation.UserDisabled" {
			t.Fatalf("LoginUser of a disabled user: %v, want FailedOperation.UserDisabled", err)
		}
	})

	t.Run("the audit filters and the CSV download", func(t *testing.T) {
		open(t, ctx, base, "/console/audit", "Audit trail")
		run(t, ctx,
			chromedp.SetValue(chromedp.ID("#f-action"), "update"),
			chromedp.SendKeys(chromedp.ID("#f-user"), u.ID),
			chromedp.SendKeys(chromedp.ID("#f-field"), "status"),
			chromedp.Submit(chromedp.ID("#f-user")),
			// The answer fills the form with the filter it applied.
			chromedp.WaitVisible(`//input[@id="f-user" and @value="`+u.ID+`"]`),
		)
		checkPage(t, ctx, "audit")
		page := mainText(t, ctx)
		if !strings.Contains(page, "update") || strings.Contains(page, "ticket 81") || strings.Contains(page, "Hangzhou") {
			t.Fatalf("the filtered trail:\n%s", page)
		}
		// What the download link gives the browser.
		body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector("a[download]").href).then(r => r.text())`,
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(rows) != 2 || rows[1][4] != "update" || rows[1][5] != "status" || rows[1][3] != u.ID || rows[1][6] != "console:"+adminAcc.ID {
			t.Fatalf("the CSV of the filter: %v %v, want the one status update", rows, err)
		}
	})

	t.Run("a missing user is the error page", func(t *testing.T) {
		open(t, ctx, base, "/console/users/0000000000000000000000000000000", "Not Found")
		checkPage(t, ctx, "error")
	})

	t.Run("delete a user after typing the UserId", func(t *testing.T) {
		open(t, ctx, base, "/console/users/"+u.ID, "User pat")
		run(t, ctx,
			chromedp.SendKeys(chromedp.ID("#confirm"), u.ID),
			chromedp.Click(chromedp.CSS(`form[action$="/delete"] button[type=submit]`)),
		)
		waitHeading(t, ctx, "User deleted")
		if page := mainText(t, ctx); !strings.Contains(page, fmt.Sprintf("User %s is deleted", u.ID)) {
			t.Fatalf("after deleting:\n%s", page)
		}
		checkPage(t, ctx, "deleted")
		if _, err := env.Svc.GetUser(bg, usercenter.Operator(), u.ID, nil); usercenter.ErrorCode(err) != usercenter.ENotFound {
			t.Fatalf("the user after deleting: %v", err)
		}
	})

	t.Run("a viewer cannot reveal or change anything", func(t *testing.T) {
		run(t, ctx, chromedp.Click(chromedp.CSS(".signout button")))
		waitHeading(t, ctx, "Sign in")
		signInAs(t, ctx, base, "viewer@example.com")
		nick2, phone2 := "sam", "+8613612347799"
		users, err := env.Svc.CreateUsers(bg, usercenter.Operator(), env.App.SdkAppID, []core.UserPatch{{Nickname: &nick2, Phone: &phone2}})
		if err != nil {
			t.Fatal(err)
		}
		v := users[0]
		open(t, ctx, base, "/console/users/"+v.ID, "User sam")
		checkPage(t, ctx, "")
		if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("main form[method=post]").length`)); err != nil || n != 0 {
			t.Errorf("the viewer's user page has %d forms that change something (%v)", n, err)
		}
		if page := mainText(t, ctx); strings.Contains(page, phone2) || strings.Contains(page, phone2[3:]) {
			t.Errorf("the viewer sees the phone:\n%s", page)
		}
		forged := []struct {
			path string
			form url.Values
		}{
			{"/console/users/" + v.ID + "/reveal", url.Values{"field": {"phone"}, "reason": {"curious"}}},
			{"/console/users/" + v.ID + "/status", url.Values{"status": {"0"}}},
			{"/console/users/" + v.ID + "/edit", url.Values{"nickname": {"changed"}}},
			{"/console/users/" + v.ID + "/revoke-tokens", nil},
			{"/console/users/" + v.ID + "/delete", url.Values{"confirm": {v.ID}}},
			{"/console/apps", url.Values{"name": {"Viewer's app"}}},
			// A whole settings form: the only thing wrong is who sends it.
			{"/console/apps/" + app, url.Values{"name": {"renamed"}, "status": {"1"}, "rateLimit": {"1000"}, "tokenTtl": {"168h"},
				"codeTtl": {"5m"}, "phoneRegion": {"CN"}, "superAppCipher": {string(usercenter.CipherAESECBHex)}}},
			{"/console/apps/" + app + "/keys", url.Values{"keyName": {"mine"}, "permission": {"users.write"}}},
			{"/console/apps/" + app + "/superapp-secret", nil},
		}
		for _, f := range forged {
			if got := postStatus(t, ctx, f.path, f.form); got != 403 {
				t.Errorf("the viewer's POST %s: %d, want 403", f.path, got)
			}
		}
		got, err := env.Svc.GetUser(bg, usercenter.Operator(), v.ID, nil)
		if err != nil || got.Status != usercenter.UserActive || got.Nickname != "sam" {
			t.Errorf("the user after the viewer's requests: %+v, %v", got, err)
		}
		a, err := env.Svc.App(bg, usercenter.Operator(), env.App.SdkAppID)
		if err != nil || a.Name != env.App.Name {
			t.Errorf("the app after the viewer's requests: %+v, %v", a, err)
		}
		evs, _, err := env.Svc.AuditPage(bg, usercenter.Operator(), usercenter.AuditFilter{Actor: viewer})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if !strings.HasPrefix(string(e.Action), "console.") {
				t.Errorf("the viewer's requests left the event %+v", e)
			}
		}
	})
}

// unnamedControls lists the page's controls that have no accessible name:
// no aria-label, no label, no aria-labelledby text and, for links,
// buttons and summaries, no text of their own. checkPage runs it beside
// axe-core, which leaves some of these to a person's judgement.
const unnamedControls = `[...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')].filter(e => {
	const text = s => (s || '').trim();
	const byIDs = ids => ids.split(/\s+/).map(id => (document.getElementById(id) || {}).textContent || '').join('');
	const own = ['A', 'BUTTON', 'SUMMARY'].includes(e.tagName) ? e.textContent : '';
	const labels = e.labels ? [...e.labels].map(l => l.textContent).join('') : '';
	return !text(e.getAttribute('aria-label')) && !text(labels) && !text(own) && !text(byIDs(e.getAttribute('aria-labelledby') || ''));
}).map(e => e.outerHTML.slice(0, 120))`

// tabTo presses Tab until the element sel matches has the focus, as a
// keyboard user would reach it, and fails if it never does.
func tabTo(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	for range 200 {
		focused, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.activeElement && document.activeElement.matches(`+strconv.Quote(sel)+`)`))
		if err != nil {
			t.Fatalf("finding the focus: %v", err)
		}
		if focused {
			return
		}
		run(t, ctx, chromedp.KeyEvent(kb.Tab))
	}
	t.Fatalf("Tab never reaches %s", sel)
}

// A reveal done with the keyboard alone, by a support account: Tab to
// each control, Space to tick, typing, Enter to send; then disabling the
// same way.
func TestBrowserKeyboardOnly(t *testing.T) {
	ctx := newBrowser(t)
	env := uctest.New(t)
	base := consoleOver(t, env)
	support := consoleAccount(t, env, "support@example.com", usercenter.RoleSupport)
	phone, nick := "+8613612346688", "pat"
	users, err := env.Svc.CreateUsers(bg, usercenter.Operator(), env.App.SdkAppID, []core.UserPatch{{Nickname: &nick, Phone: &phone}})
	if err != nil {
		t.Fatal(err)
	}
	u := users[0]
	signInAs(t, ctx, base, "support@example.com")
	open(t, ctx, base, "/console/users/"+u.ID, "User pat")
	tabTo(t, ctx, `input[name=field][value=phone]`)
	run(t, ctx, chromedp.KeyEvent(" "))
	tabTo(t, ctx, `#reason`)
	run(t, ctx, chromedp.KeyEvent("asked by the user on the phone"))
	tabTo(t, ctx, `form[action$="/reveal"] button`)
	run(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "strong.revealed")
	if page := mainText(t, ctx); !strings.Contains(page, phone) {
		t.Fatalf("after the keyboard reveal:\n%s", page)
	}
	evs, _, err := env.Svc.AuditPage(bg, usercenter.Operator(), usercenter.AuditFilter{UserID: u.ID, Action: usercenter.AuditReveal})
	if err != nil || len(evs) != 1 || evs[0].Reason != "asked by the user on the phone" || evs[0].Actor != support {
		t.Fatalf("the keyboard reveal audited as %+v (%v), want by %s", evs, err, support)
	}

	// Disabling, the same way.
	tabTo(t, ctx, `form[action$="/status"] button`)
	run(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, "p.notice")
	got, err := env.Svc.GetUser(bg, usercenter.Operator(), u.ID, nil)
	if err != nil || got.Status != usercenter.UserDisabled {
		t.Fatalf("after disabling with the keyboard: %+v, %v", got, err)
	}
}
