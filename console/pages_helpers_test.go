package console

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"usercenter"
	"usercenter/core"
	"usercenter/obs"
	"usercenter/uctest/svctest"
)

// withTestActor is what the session middleware does for a signed-in
// account: the account, its actor and its CSRF token in the request's
// context.
func withTestActor(ctx context.Context, a *usercenter.Actor, csrf string) context.Context {
	return context.WithValue(withActor(ctx, a, csrf), accountKey, testAccount(a))
}

func testAccount(a *usercenter.Actor) *usercenter.ConsoleAccount {
	return &usercenter.ConsoleAccount{ID: strings.TrimPrefix(a.Name, "console:")}
}

// The actors of the three roles, as the session middleware makes them
// from a console account (core's roles → actor).
func adminActor() *usercenter.Actor {
	return &usercenter.Actor{Name: "console:admin1", AllApps: true, Permissions: usercenter.AllPermissions, ManagesApps: true, NeedsReason: true}
}

func supportActor() *usercenter.Actor {
	return &usercenter.Actor{Name: "console:support1", AllApps: true, NeedsReason: true,
		Permissions: []usercenter.Permission{usercenter.PermUsersRead, usercenter.PermUsersWrite, usercenter.PermPIIRead}}
}

func viewerActor() *usercenter.Actor {
	return &usercenter.Actor{Name: "console:viewer1", AllApps: true, NeedsReason: true, Permissions: []usercenter.Permission{usercenter.PermUsersRead}}
}

// pagesEnv is a console over a fresh service, with the pages reached as
// the session middleware would hand them a request: the actor and the
// CSRF token in the context.
type pagesEnv struct {
	t     *testing.T
	svc   *core.Service
	store core.Store
	srv   *Server
	mux   *http.ServeMux
	app   *usercenter.App
	key   *usercenter.APIKey
}

const testCSRF = "csrf-token-of-the-session"

func newPagesEnv(t *testing.T, opts Options) *pagesEnv {
	t.Helper()
	svc, store := svctest.New(t)
	e := &pagesEnv{t: t, svc: svc, store: store, srv: New(svc, opts), mux: http.NewServeMux()}
	e.srv.pageRoutes(e.mux)
	var err error
	if e.app, e.key, err = svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "Shop"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// response is a page as the browser got it.
type response struct {
	Status int
	Header http.Header
	Body   string
}

// get and post send a request as actor.
func (e *pagesEnv) get(actor *usercenter.Actor, path string) response {
	e.t.Helper()
	return e.do(actor, httptest.NewRequest("GET", path, nil))
}

func (e *pagesEnv) post(actor *usercenter.Actor, path string, form url.Values) response {
	e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", testCSRF)
	r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(actor, r)
}

func (e *pagesEnv) do(actor *usercenter.Actor, r *http.Request) response {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r.WithContext(withTestActor(r.Context(), actor, testCSRF)))
	body, _ := io.ReadAll(w.Result().Body)
	return response{Status: w.Code, Header: w.Header(), Body: string(body)}
}

// want fails unless the response has status and contains every part.
func (res response) want(t *testing.T, status int, parts ...string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %d, want %d; body:\n%s", res.Status, status, res.Body)
	}
	for _, p := range parts {
		if !strings.Contains(res.Body, p) {
			t.Fatalf("the page lacks %q:\n%s", p, res.Body)
		}
	}
}

// user creates a user with personal data derived from n.
func (e *pagesEnv) user(n int, app uint64) *usercenter.User {
	e.t.Helper()
	phone, email, address := testPhone(n), testEmail(n), fmt.Sprintf("%d Secret Street", n)
	nick, origin := fmt.Sprintf("nick%d", n), fmt.Sprintf("origin-%d", n)
	wx := fmt.Sprintf("wx-%d", n)
	users, err := e.svc.CreateUsers(bg, usercenter.Operator(), app, []core.UserPatch{{OriginID: &origin, Nickname: &nick, Phone: &phone,
		Email: &email, Address: &address, ThirdParty: map[usercenter.Provider]*string{usercenter.ProviderWeChatUnion: &wx}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return &users[0]
}

func testPhone(n int) string { return fmt.Sprintf("+86136%08d", 10000000+n) }
func testEmail(n int) string { return fmt.Sprintf("person.%d@example.com", n) }

// trafficOf is a Traffic over a registry whose metrics counted requests.
func trafficOf(t *testing.T) (*obs.Traffic, http.Handler) {
	reg := prometheus.NewRegistry()
	m := obs.NewMetrics(reg)
	h := obs.Middleware("restapi", discardLog(), m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := obs.FromContext(r.Context())
		info.Action = "GetUser"
		if r.URL.Path == "/fail" {
			info.SetResult("not_found", nil)
			w.WriteHeader(404)
			return
		}
		info.Result = "ok"
	}))
	return obs.NewTraffic(reg, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), h
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
