package console

// Click paths through the pages in a real browser: Debian's chromium,
// headless, driven by chromedp. The session is consauth's: until the two
// branches meet, the console here is served with the actor put in each
// request's context, as the session middleware will. The lead moves these
// onto consauth's harness (newBrowser, checkAccessibility) at the merge.

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
)

// newPagesBrowser starts a headless chromium for the test. Without one
// the test skips, but under CI (CI set), where .ci/run installs it, it
// fails.
func newPagesBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; .ci/run installs Debian's chromium package")
		}
		t.Skip("chromium is not installed")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(360, 800)) // the narrowest screen the pages must serve
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	// Generous: a loaded machine is slow, and a hang still ends.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// consoleAs serves the console's pages, over env's service, as actor.
func consoleAs(t *testing.T, env *uctest.Env, actor *usercenter.Actor) string {
	srv := New(env.Svc, Options{})
	h := srv.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(withTestActor(r.Context(), actor, testCSRF)))
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func step(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs an action that reads a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// textOf is the visible text of the page's main.
func textOf(t *testing.T, ctx context.Context) string {
	t.Helper()
	return get(t, ctx, "reading the page", chromedp.Text(chromedp.CSS("main")))
}

func TestBrowserClickPaths(t *testing.T) {
	ctx := newPagesBrowser(t)
	env := uctest.New(t)
	base := consoleAs(t, env, adminActor())

	t.Run("create an app and a key", func(t *testing.T) {
		var secretID, secret string
		step(t, ctx, "creating an app",
			chromedp.Navigate(base+"/console/apps"),
			chromedp.SendKeys(chromedp.ID("#name"), "Browser Shop"),
			chromedp.Click(chromedp.CSS(`form[action="/console/apps"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("code.secret")),
		)
		secret = get(t, ctx, "reading the secret", chromedp.Text(chromedp.CSS("code.secret")))
		secretID = get(t, ctx, "reading the SecretId", chromedp.Text(chromedp.CSS("dl.facts dd code")))
		if _, err := env.Svc.AuthenticateKey(bg, secretID, secret); err != nil {
			t.Fatalf("the first key shown does not authenticate: %v", err)
		}
		key, err := env.Svc.AuthenticateKey(bg, secretID, secret)
		if err != nil {
			t.Fatal(err)
		}
		appPath := "/console/apps/" + strconv.FormatUint(key.Apps[0], 10)
		step(t, ctx, "creating a key",
			chromedp.Navigate(base+appPath),
			chromedp.SendKeys(chromedp.ID("#keyName"), "reader"),
			chromedp.Click(chromedp.CSS(`input[name=permission][value="users.read"]`)),
			chromedp.Click(chromedp.CSS(`form[action="`+appPath+`/keys"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("code.secret")),
		)
		secret = get(t, ctx, "reading the secret", chromedp.Text(chromedp.CSS("code.secret")))
		secretID = get(t, ctx, "reading the SecretId", chromedp.Text(chromedp.CSS("dl.facts dd code")))
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
		for _, c := range []struct{ kind, q string }{
			{"userId", u.ID}, {"originId", origin}, {"phone", "13612346688"}, {"email", "PAT@example.com"}, {"thirdParty", wx},
		} {
			step(t, ctx, "searching by "+c.kind,
				chromedp.Navigate(base+"/console/users?app="+app),
				chromedp.SetValue(chromedp.ID("#kind"), c.kind),
				chromedp.SetValue(chromedp.ID("#provider"), string(usercenter.ProviderQQ)),
				chromedp.SendKeys(chromedp.ID("#q"), c.q),
				chromedp.Submit(chromedp.ID("#q")),
				// Only the answer to a search has this heading; the list
				// before it holds the user too.
				chromedp.WaitVisible(`//h2[text()="Users found"]`),
				chromedp.WaitVisible(chromedp.CSS(`a[href="/console/users/`+u.ID+`"]`)),
			)
			if n := get(t, ctx, "counting the users found", chromedp.Evaluate[int](`document.querySelectorAll("main table a").length`)); n != 1 {
				t.Fatalf("searching by %s found %d users, want 1", c.kind, n)
			}
		}
	})

	t.Run("reveal a phone with a reason and see the audit event", func(t *testing.T) {
		step(t, ctx, "revealing",
			chromedp.Navigate(base+"/console/users/"+u.ID),
			chromedp.Click(chromedp.CSS(`input[name=field][value=phone]`)),
			chromedp.SendKeys(chromedp.ID("#reason"), "ticket 81: the user cannot log in"),
			chromedp.Click(chromedp.CSS(`form[action$="/reveal"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("strong.revealed")),
		)
		if page := textOf(t, ctx); !strings.Contains(page, phone) || strings.Contains(page, email) {
			t.Fatalf("after revealing the phone the page reads:\n%s", page)
		}
		step(t, ctx, "the user's audit trail", chromedp.Navigate(base+"/console/audit?user="+u.ID+"&action=reveal"))
		if page := textOf(t, ctx); !strings.Contains(page, "ticket 81: the user cannot log in") || !strings.Contains(page, "console:admin1") {
			t.Fatalf("the audit trail lacks the reveal:\n%s", page)
		}
	})

	t.Run("disable a user and LCIC LoginUser is refused", func(t *testing.T) {
		sdk := env.SDK(t, env.Key.SecretID, env.Key.SecretKey, uctest.SDKOptions{})
		login := uctest.NewLoginUser()
		login.UserId = &u.ID
		if _, err := sdk.Send(login); err != nil {
			t.Fatalf("LoginUser before disabling: %v", err)
		}
		step(t, ctx, "disabling",
			chromedp.Navigate(base+"/console/users/"+u.ID),
			chromedp.Click(chromedp.CSS(`form[action$="/status"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
		)
		if page := textOf(t, ctx); !strings.Contains(page, "The user is disabled") {
			t.Fatalf("after disabling:\n%s", page)
		}
		login = uctest.NewLoginUser()
		login.UserId = &u.ID
		if _, err := sdk.Send(login); uctest.Code(err) != "FailedOperation.UserDisabled" {
			t.Fatalf("LoginUser of a disabled user: %v, want FailedOperation.UserDisabled", err)
		}
	})

	t.Run("the audit filters and the CSV download", func(t *testing.T) {
		step(t, ctx, "filtering",
			chromedp.Navigate(base+"/console/audit"),
			chromedp.SetValue(chromedp.ID("#f-action"), "update"),
			chromedp.SendKeys(chromedp.ID("#f-user"), u.ID),
			chromedp.Submit(chromedp.ID("#f-user")),
			// The answer fills the form with the filter it applied.
			chromedp.WaitVisible(`//input[@id="f-user" and @value="`+u.ID+`"]`),
		)
		page := textOf(t, ctx)
		if !strings.Contains(page, "update") || strings.Contains(page, "ticket 81") {
			t.Fatalf("the filtered trail:\n%s", page)
		}
		// What the download link gives the browser.
		body := get(t, ctx, "downloading the CSV", chromedp.Evaluate[string](`fetch(document.querySelector("a[download]").href).then(r => r.text())`,
			chromedp.EvalAwaitPromise))
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(rows) != 2 || rows[1][4] != "update" || rows[1][5] != "status" || rows[1][3] != u.ID {
			t.Fatalf("the CSV of the filter: %v %v, want the one status update", rows, err)
		}
	})

	t.Run("delete a user after typing the UserId", func(t *testing.T) {
		step(t, ctx, "deleting",
			chromedp.Navigate(base+"/console/users/"+u.ID),
			chromedp.SendKeys(chromedp.ID("#confirm"), u.ID),
			chromedp.Click(chromedp.CSS(`form[action$="/delete"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
		)
		if page := textOf(t, ctx); !strings.Contains(page, fmt.Sprintf("User %s is deleted", u.ID)) {
			t.Fatalf("after deleting:\n%s", page)
		}
		if _, err := env.Svc.GetUser(bg, usercenter.Operator(), u.ID, nil); usercenter.ErrorCode(err) != usercenter.ENotFound {
			t.Fatalf("the user after deleting: %v", err)
		}
	})
}

// Every page fits a 360 px screen: nothing makes the page itself scroll
// sideways (wide tables scroll inside their box). With
// USERCENTER_SCREENSHOTS=dir each page is also saved there as a PNG, for
// the docs (docs/console/).
func TestBrowserPagesAt360px(t *testing.T) {
	ctx := newPagesBrowser(t)
	env := uctest.New(t)
	base := consoleAs(t, env, adminActor())
	phone, email, nick := "+8613612346688", "pat@example.com", "pat"
	users, err := env.Svc.CreateUsers(bg, usercenter.Operator(), env.App.SdkAppID, []core.UserPatch{{Nickname: &nick, Phone: &phone, Email: &email}})
	if err != nil {
		t.Fatal(err)
	}
	u := users[0]
	if _, err := env.Svc.RevealUser(bg, supportActor(), u.ID, []usercenter.PIIField{usercenter.FieldPhone}, "support ticket 4711"); err != nil {
		t.Fatal(err)
	}
	app := strconv.FormatUint(env.App.SdkAppID, 10)
	dir := os.Getenv("USERCENTER_SCREENSHOTS")
	for _, p := range []struct{ name, path string }{
		{"dashboard", "/console/"}, {"apps", "/console/apps"}, {"app", "/console/apps/" + app},
		{"users", "/console/users?app=" + app}, {"user", "/console/users/" + u.ID}, {"edit", "/console/users/" + u.ID + "/edit"},
		{"audit", "/console/audit"},
	} {
		for _, width := range []int64{360, 1280} {
			step(t, ctx, "opening "+p.path, chromedp.EmulateViewport(width, 800), chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS("main h1")))
			if width == 360 {
				if w := get(t, ctx, "measuring", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 360 {
					t.Errorf("%s is %d px wide on a 360 px screen", p.path, w)
				}
				if unnamed := get(t, ctx, "naming the controls", chromedp.Evaluate[[]string](unnamedControls)); len(unnamed) > 0 {
					t.Errorf("%s has controls without an accessible name: %q", p.path, unnamed)
				}
			}
			if dir == "" {
				continue
			}
			png := get(t, ctx, "taking a screenshot", chromedp.FullScreenshot(90))
			if err := os.WriteFile(fmt.Sprintf("%s/%s-%d.png", dir, p.name, width), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// unnamedControls lists the page's controls that have no accessible name:
// no aria-label, no label, no aria-labelledby text and, for links,
// buttons and summaries, no text of their own.
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
		if get(t, ctx, "finding the focus", chromedp.Evaluate[bool](`!!document.activeElement && document.activeElement.matches(`+strconv.Quote(sel)+`)`)) {
			return
		}
		step(t, ctx, "pressing Tab", chromedp.KeyEvent(kb.Tab))
	}
	t.Fatalf("Tab never reaches %s", sel)
}

// A reveal done with the keyboard alone: Tab to each control, Space to
// tick, typing, Enter to send.
func TestBrowserKeyboardOnly(t *testing.T) {
	ctx := newPagesBrowser(t)
	env := uctest.New(t)
	base := consoleAs(t, env, supportActor())
	phone, nick := "+8613612346688", "pat"
	users, err := env.Svc.CreateUsers(bg, usercenter.Operator(), env.App.SdkAppID, []core.UserPatch{{Nickname: &nick, Phone: &phone}})
	if err != nil {
		t.Fatal(err)
	}
	u := users[0]
	step(t, ctx, "opening the user", chromedp.Navigate(base+"/console/users/"+u.ID), chromedp.WaitVisible(chromedp.CSS("main h1")))
	tabTo(t, ctx, `input[name=field][value=phone]`)
	step(t, ctx, "ticking phone", chromedp.KeyEvent(" "))
	tabTo(t, ctx, `#reason`)
	step(t, ctx, "typing the reason", chromedp.KeyEvent("asked by the user on the phone"))
	tabTo(t, ctx, `form[action$="/reveal"] button`)
	step(t, ctx, "pressing Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("strong.revealed")))
	if page := textOf(t, ctx); !strings.Contains(page, phone) {
		t.Fatalf("after the keyboard reveal:\n%s", page)
	}
	evs, _, err := env.Svc.AuditPage(bg, usercenter.Operator(), usercenter.AuditFilter{UserID: u.ID, Action: usercenter.AuditReveal})
	if err != nil || len(evs) != 1 || evs[0].Reason != "asked by the user on the phone" {
		t.Fatalf("the keyboard reveal audited as %+v (%v)", evs, err)
	}

	// Disabling, the same way.
	tabTo(t, ctx, `form[action$="/status"] button`)
	step(t, ctx, "pressing Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	got, err := env.Svc.GetUser(bg, usercenter.Operator(), u.ID, nil)
	if err != nil || got.Status != usercenter.UserDisabled {
		t.Fatalf("after disabling with the keyboard: %+v, %v", got, err)
	}
}
