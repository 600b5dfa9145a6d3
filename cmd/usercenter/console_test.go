package main

import (
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"usercenter/postgres/pgtest"
)

var (
	setupLinkRE = regexp.MustCompile(`(http://\S+/console/link/[A-Za-z0-9_-]+)`)
	consoleCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

const consolePassword = "correct horse battery"

// setupLink waits, up to a minute, for the setup link serve prints on
// stderr after it starts listening.
func (p *proc) setupLink() string {
	p.t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := setupLinkRE.FindStringSubmatch(p.stderr.String()); m != nil {
			return m[1]
		}
	}
	p.t.Fatalf("serve printed no setup link:\n%s", p.stderr)
	return ""
}

// consoleRequest sends a request to the console as a browser at addr
// would: its own origin, the session cookie, and no redirects followed.
func consoleRequest(t *testing.T, method, addr, path, session string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, "http://"+addr+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://"+addr)
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: "usercenter_console", Value: session})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// redeem sets the first admin's password through a setup link and
// returns the session cookie's value.
func redeem(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := consoleRequest(t, "POST", u.Host, u.Path, "", url.Values{
		"email": {"root@example.com"}, "password": {consolePassword}, "confirm": {consolePassword}})
	for _, c := range resp.Cookies() {
		if c.Name == "usercenter_console" && c.Value != "" {
			return c.Value
		}
	}
	t.Fatalf("redeeming the setup link: %d, no session cookie\n%s", resp.StatusCode, body)
	return ""
}

func signedIn(t *testing.T, addr, session string) bool {
	t.Helper()
	resp, body := consoleRequest(t, "GET", addr, "/console/", session, nil)
	switch {
	case resp.StatusCode == http.StatusOK && strings.Contains(body, "root@example.com"):
		return true
	case resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/console/signin"):
		return false
	}
	t.Fatalf("GET /console/ on %s: %d\n%s", addr, resp.StatusCode, body)
	return false
}

// TestConsoleAcrossNodes: console sessions live in the database, so two
// nodes on one PostgreSQL share them: a session begun on one works on
// the other, and signing out on either ends it on both at once. The
// first setup link used ends the others.
func TestConsoleAcrossNodes(t *testing.T) {
	skipShort(t)
	dsn := pgtest.DSN(t)
	keyFile := filepath.Join(t.TempDir(), "master.key")
	(&nodes{dsn: dsn, keyFile: keyFile}).cli(t, "migrate")
	ns := startNodes(t, 2, dsn, keyFile)
	linkA, linkB := ns.procs[0].setupLink(), ns.procs[1].setupLink()

	session := redeem(t, linkA)
	for i := range 2 {
		if !signedIn(t, ns.addr(i), session) {
			t.Fatalf("node %d does not know the session begun on node 0", i)
		}
	}
	// Node 1's setup link died with the first setup.
	u, _ := url.Parse(linkB)
	if resp, _ := consoleRequest(t, "GET", u.Host, u.Path, "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the other node's setup link after the setup: %d", resp.StatusCode)
	}

	// Sign out on node 1; node 0 refuses the cookie at once.
	_, page := consoleRequest(t, "GET", ns.addr(1), "/console/", session, nil)
	m := consoleCSRF.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field on the dashboard:\n%s", page)
	}
	resp, _ := consoleRequest(t, "POST", ns.addr(1), "/console/signout", session, url.Values{"csrf": {m[1]}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	for i := range 2 {
		if signedIn(t, ns.addr(i), session) {
			t.Errorf("node %d still takes the signed-out session", i)
		}
		// Every page refuses it, and every form.
		for _, path := range []string{"/console/apps", "/console/users", "/console/audit", "/console/audit.csv", "/console/accounts"} {
			resp, _ := consoleRequest(t, "GET", ns.addr(i), path, session, nil)
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin") {
				t.Errorf("node %d, GET %s with the signed-out session: %d %s", i, path, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		resp, _ := consoleRequest(t, "POST", ns.addr(i), "/console/apps", session, url.Values{"csrf": {m[1]}, "name": {"After sign-out"}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("node %d, creating an app with the signed-out session: %d", i, resp.StatusCode)
		}
	}
	ns.stop(t)
}

// TestServeConsoleLink: a fresh instance prints a setup link on stderr,
// never inside a JSON log line nor on stdout;
// once it has an account it prints none; serve --console=false serves no
// console and prints no link.
func TestServeConsoleLink(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	p := startServer(t, dir)
	link := p.setupLink()
	redeem(t, link)
	p.stop()
	if strings.Contains(p.stdout.String(), "/console/link/") {
		t.Errorf("the setup link is on stdout:\n%s", p.stdout)
	}
	// The link's token, that is: a request log line names the route it
	// matched, "POST /console/link/{token}", never the path.
	token := link[strings.LastIndex(link, "/")+1:]
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		if strings.HasPrefix(line, "{") && strings.Contains(line, token) {
			t.Errorf("the setup link is in a log line: %s", line)
		}
	}

	p = startServer(t, dir)
	if _, body := consoleRequest(t, "GET", p.addr, "/console/signin", "", nil); !strings.Contains(body, "Sign in") {
		t.Errorf("the sign-in page:\n%s", body)
	}
	p.stop()
	if strings.Contains(p.stdout.String()+p.stderr.String(), "/console/link/") || !strings.Contains(p.stdout.String(), "/console/") {
		t.Errorf("a second start with an account:\nstdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
	}

	fresh := startServer(t, t.TempDir(), "--console=false")
	resp, _ := consoleRequest(t, "GET", fresh.addr, "/console/signin", "", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("--console=false: /console/signin answers %d", resp.StatusCode)
	}
	fresh.stop()
	if strings.Contains(fresh.stderr.String(), "/console/") || strings.Contains(fresh.stdout.String(), "/console/") {
		t.Errorf("--console=false printed a console link:\n%s\n%s", fresh.stdout, fresh.stderr)
	}
}
