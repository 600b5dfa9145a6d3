package console

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"usercenter/core"
)

// serveBinary builds usercenter for a test that runs `serve` as an
// operator would; the binary goes with the test's temporary directory.
func serveBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "usercenter")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goTool, "build", "-o", bin, "./cmd/usercenter")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building usercenter: %v\n%s", err, out)
	}
	return bin
}

var setupLinkRE = regexp.MustCompile(`(http://\S+/console/link/[A-Za-z0-9_-]+)`)

// startServe runs `usercenter serve` on a free loopback port with a fresh
// data directory and returns the setup link it prints on stderr.
func startServe(t *testing.T, extra ...string) (link string) {
	t.Helper()
	bin := serveBinary(t)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, extra...)
	cmd := exec.Command(bin, args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "USERCENTER_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			<-done
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if m := setupLinkRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		close(found)
	}()
	select {
	case link, ok := <-found:
		if !ok {
			t.Fatal("serve ended without printing a setup link")
		}
		return link
	case <-time.After(2 * time.Minute):
		t.Fatal("serve printed no setup link within two minutes")
	}
	return ""
}

// totpCode is the authenticator's code for secret that the server takes
// next: a code works once, so each one is of a later 30-second step than
// the one before (last), the current one when it can be, else the next,
// which the server also takes. Should both be used, it waits for the
// clock to reach a step that is free.
func totpCode(t *testing.T, secret string, last *int64) string {
	t.Helper()
	for {
		current := time.Now().Unix() / 30
		step := max(*last+1, current)
		if step <= current+1 {
			code, err := core.ConsoleSecretCode(secret, time.Unix(step*30, 0))
			if err != nil {
				t.Fatal(err)
			}
			*last = step
			return code
		}
		time.Sleep(time.Second)
	}
}

// TestBrowserSignInPaths drives the console as an operator would, from
// the link a fresh `serve` prints: the first setup, two-factor enrolment
// with the secret the page shows, sign-in with a TOTP code and with a
// recovery code, inviting a viewer who signs in without two-factor, the
// viewer refused the accounts (a forged request included), and a
// lockout after repeated failures, which the admin sees and lifts. Every
// page goes through axe-core and the 360 px check.
func TestBrowserSignInPaths(t *testing.T) {
	ctx := newBrowser(t)
	link := startServe(t)
	base := link[:strings.Index(link, "/console/")]

	// First setup through the printed link.
	run(t, ctx, chromedp.Navigate(link))
	waitHeading(t, ctx, "Set up the console")
	checkPage(t, ctx, "setup")
	run(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#email"), "root@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), testPassword+"\r"), // Enter submits: no mouse needed
	)
	waitHeading(t, ctx, "Two-factor sign-in")
	checkPage(t, ctx, "two-factor-enrol")

	// The link worked once: opening it again fails.
	tab2, cancel := chromedp.NewContext(ctx)
	run(t, tab2, chromedp.Navigate(link))
	waitHeading(t, tab2, "Unauthorized")
	checkPage(t, tab2, "")
	cancel()

	// Enrol TOTP with the secret shown as text.
	secret := text(t, ctx, "#totp-secret")
	var lastStep int64
	run(t, ctx, chromedp.SendKeys(chromedp.CSS("#code"), totpCode(t, secret, &lastStep)+"\r"))
	waitFor(t, ctx, "#recovery-codes")
	codes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#recovery-codes code")].map(c => c.textContent)`))
	if err != nil || len(codes) != core.ConsoleRecoveryCodes {
		t.Fatalf("recovery codes: %v, %v", codes, err)
	}
	checkPage(t, ctx, "recovery-codes")
	run(t, ctx, chromedp.Navigate(base+"/console/account/two-factor"))
	waitHeading(t, ctx, "Two-factor sign-in")
	checkPage(t, ctx, "")

	signOut := func(ctx context.Context) {
		t.Helper()
		run(t, ctx, chromedp.Click(chromedp.CSS(".signout button")))
		waitHeading(t, ctx, "Sign in")
	}
	signIn := func(ctx context.Context, email, password string) {
		t.Helper()
		run(t, ctx, chromedp.Navigate(base+"/console/signin"))
		waitHeading(t, ctx, "Sign in")
		run(t, ctx,
			chromedp.SendKeys(chromedp.CSS("#email"), email),
			chromedp.SendKeys(chromedp.CSS("#password"), password+"\r"),
		)
	}

	// Sign-in with TOTP: the password, then the code.
	signOut(ctx)
	checkPage(t, ctx, "signin")
	signIn(ctx, "root@example.com", testPassword)
	waitHeading(t, ctx, "Two-factor code")
	checkPage(t, ctx, "two-factor-code")
	run(t, ctx, chromedp.SendKeys(chromedp.CSS("#code"), totpCode(t, secret, &lastStep)+"\r"))
	waitHeading(t, ctx, "Dashboard")
	checkPage(t, ctx, "") // pages_browser_test.go shows it with an app and its users

	// A recovery code signs in once.
	for i, want := range []string{"Dashboard", "Two-factor code"} {
		signOut(ctx)
		signIn(ctx, "root@example.com", testPassword)
		waitHeading(t, ctx, "Two-factor code")
		run(t, ctx, chromedp.SendKeys(chromedp.CSS("#code"), codes[0]+"\r"))
		if i == 1 {
			waitFor(t, ctx, "#code-error")
		}
		waitHeading(t, ctx, want)
		if i == 1 && !strings.Contains(text(t, ctx, "#code-error"), "wrong") {
			t.Errorf("a used recovery code says %q", text(t, ctx, "#code-error"))
		}
	}
	run(t, ctx, chromedp.SendKeys(chromedp.CSS("#code"), codes[1]+"\r"))
	waitHeading(t, ctx, "Dashboard")

	// Invite a viewer; the link is shown once.
	run(t, ctx, chromedp.Click(chromedp.CSS(`nav a[href="/console/accounts"]`)))
	waitHeading(t, ctx, "Console accounts")
	run(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#invite-email"), "viewer@example.com"),
		chromedp.SetValue(chromedp.CSS("#invite-role"), "viewer"),
		chromedp.Click(chromedp.CSS(`form[action="/console/accounts"] button`)),
	)
	waitFor(t, ctx, "#invite-link")
	invite := text(t, ctx, "#invite-link")
	if !strings.HasPrefix(invite, base+"/console/link/") {
		t.Fatalf("the invitation link is %q", invite)
	}
	checkPage(t, ctx, "accounts")

	// The viewer sets a password, skips two-factor, and signs in without it.
	viewer, cancelViewer := chromedp.NewContext(ctx) // a tab of the same browser shares cookies: sign out first
	defer cancelViewer()
	signOut(ctx)
	run(t, viewer, chromedp.Navigate(invite))
	waitHeading(t, viewer, "Set your password")
	checkPage(t, viewer, "invite")
	run(t, viewer,
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), testPassword+"\r"),
	)
	waitHeading(t, viewer, "Two-factor sign-in")
	run(t, viewer, chromedp.Click(chromedp.CSS(`main a[href="/console/"]`)))
	waitHeading(t, viewer, "Dashboard")
	signOut(viewer)
	signIn(viewer, "viewer@example.com", testPassword)
	waitHeading(t, viewer, "Dashboard")

	// The viewer has no accounts link, and the server refuses the page
	// and a forged invitation with the viewer's own CSRF token.
	if n, _ := chromedp.Run(viewer, chromedp.Evaluate[int](`document.querySelectorAll('a[href="/console/accounts"]').length`)); n != 0 {
		t.Error("the viewer's page links to the accounts")
	}
	forged, err := chromedp.Run(viewer, chromedp.Evaluate[int](`fetch("/console/accounts", {method: "POST", body: new URLSearchParams({
		csrf: document.querySelector('input[name="csrf"]').value, email: "evil@example.com", role: "admin"})}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	if err != nil || forged != 403 {
		t.Errorf("the viewer's forged invitation: %d, %v", forged, err)
	}
	run(t, viewer, chromedp.Navigate(base+"/console/accounts"))
	waitHeading(t, viewer, "Forbidden")
	checkPage(t, viewer, "")
	signOut(viewer)

	// Lockout: ConsoleLockoutFailures wrong passwords lock the viewer out.
	for range core.ConsoleLockoutFailures - 1 {
		signIn(viewer, "viewer@example.com", "not the password")
		waitFor(t, viewer, "#signin-error")
	}
	signIn(viewer, "viewer@example.com", "not the password")
	waitFor(t, viewer, "#signin-error")
	if msg := text(t, viewer, "#signin-error"); !strings.Contains(msg, "locked") {
		t.Fatalf("after %d failures the page says %q", core.ConsoleLockoutFailures, msg)
	}
	checkPage(t, viewer, "lockout")
	signIn(viewer, "viewer@example.com", testPassword)
	waitFor(t, viewer, "#signin-error")
	if msg := text(t, viewer, "#signin-error"); !strings.Contains(msg, "locked") {
		t.Errorf("the right password while locked: %q", msg)
	}

	// The admin sees the lock and lifts it; the viewer signs in.
	signIn(ctx, "root@example.com", testPassword)
	waitHeading(t, ctx, "Two-factor code")
	run(t, ctx, chromedp.SendKeys(chromedp.CSS("#code"), codes[2]+"\r"))
	waitHeading(t, ctx, "Dashboard")
	run(t, ctx, chromedp.Navigate(base+"/console/accounts"))
	waitHeading(t, ctx, "Console accounts")
	if row := text(t, ctx, "tbody tr:nth-child(2)"); !strings.Contains(row, "locked until") {
		t.Errorf("the accounts page does not show the lock: %q", row)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS(`a[href^="/console/accounts/"]:not([href="/console/accounts"])`)))
	waitHeading(t, ctx, "Console account root@example.com")
	run(t, ctx, chromedp.Navigate(base+"/console/accounts"))
	waitHeading(t, ctx, "Console accounts")
	run(t, ctx, chromedp.Click(chromedp.CSS(`tbody tr:nth-child(2) a`)))
	waitHeading(t, ctx, "Console account viewer@example.com")
	if st := text(t, ctx, "#status"); !strings.Contains(st, "locked until") {
		t.Errorf("the account page's status: %q", st)
	}
	checkPage(t, ctx, "account")
	run(t, ctx, chromedp.Click(chromedp.CSS(`button[value="unlock"]`)))
	waitFor(t, ctx, "#done")
	if done := text(t, ctx, "#done"); !strings.Contains(done, "Lifted") {
		t.Errorf("after unlocking: %q", done)
	}
	signOut(ctx)
	signIn(viewer, "viewer@example.com", testPassword)
	waitHeading(t, viewer, "Dashboard")
}
