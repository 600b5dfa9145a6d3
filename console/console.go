// Package console is the web console: the operator's pages, rendered on
// the server from embedded templates, over the same core use cases as
// every facade. It holds no business rules: who may do what is core's
// (the account's role is its actor's permissions), and every sign-in,
// session and account change goes through core.
package console

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/obs"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Prefix is where the console is mounted.
const Prefix = "/console/"

// maxForm bounds a form's body: every form of the console is small.
const maxForm = 64 << 10

// cookieName is the session cookie's name.
const cookieName = "usercenter_console"

// contentSecurityPolicy allows nothing inline and nothing from elsewhere:
// every script and style is a file the console serves.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Options configures the console.
type Options struct {
	Log *slog.Logger
	// Traffic is the process's request counters over the last hour, for
	// the dashboard; nil leaves the traffic out.
	Traffic *obs.Traffic
}

// Server serves the console.
type Server struct {
	svc     *core.Service
	log     *slog.Logger
	traffic *obs.Traffic
	pages   map[string]*template.Template
}

// New builds the console over svc. It panics if a template does not parse:
// they are embedded, so that is a bug found by any test.
func New(svc *core.Service, opts Options) *Server {
	s := &Server{svc: svc, log: opts.Log, traffic: opts.Traffic, pages: map[string]*template.Template{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" {
			continue
		}
		s.pages[strings.TrimSuffix(base, ".html")] = template.Must(template.New("layout.html").Funcs(templateFuncs).
			ParseFS(templateFiles, "templates/layout.html", name))
	}
	return s
}

var templateFuncs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"roles": func() []usercenter.ConsoleRole { return usercenter.ConsoleRoles },
	// Bound for each request by render.
	"account": func() *usercenter.ConsoleAccount { return nil },
	"actor":   func() *usercenter.Actor { return nil },
	"csrf":    func() string { return "" },
	"path":    func() string { return "" },
}

// Handler serves the console under Prefix: every page, its assets, and
// on every response the security headers; every state-changing request
// must pass the CSRF check.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	return measured(mux, s.secure(s.signedIn(mux.ServeHTTP)))
}

// measured names each request for the server's metrics and log (obs's
// middleware, around the console as around every facade): its action is
// the route it matched ("GET /console/users/{user}"), a bounded set, and
// its result "ok" when it was answered below 400, else the status. Left
// unset, every page would count as an error of an unknown action on the
// dashboard's traffic table.
func measured(mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := obs.FromContext(r.Context())
		_, info.Action = mux.Handler(r)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		if info.Result == "" {
			info.Result = "ok"
			if sw.status >= 400 {
				info.Result = strconv.Itoa(sw.status)
			}
		}
	})
}

// statusWriter remembers the status a response was answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// public lists what the console serves without a session: everything
// else needs one, whichever function registered its route.
func public(path string) bool {
	switch path {
	case "/console/signin", "/console/signout":
		return true
	}
	return strings.HasPrefix(path, "/console/link/") || strings.HasPrefix(path, "/console/static/")
}

// routes registers every route of the console.
func (s *Server) routes(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", staticHandler(http.FileServerFS(static))))

	mux.HandleFunc("GET /console/signin", s.signInPage)
	mux.HandleFunc("POST /console/signin", s.signIn)
	mux.HandleFunc("GET /console/link/{token}", s.linkPage)
	mux.HandleFunc("POST /console/link/{token}", s.redeemLink)
	mux.HandleFunc("POST /console/signout", s.signOut)

	mux.Handle("GET /console/account/two-factor", s.signedIn(s.twoFactorPage))
	mux.Handle("POST /console/account/two-factor", s.signedIn(s.enrolTwoFactor))

	mux.Handle("GET /console/accounts", s.signedIn(s.accountsPage))
	mux.Handle("POST /console/accounts", s.signedIn(s.inviteAccount))
	mux.Handle("GET /console/accounts/{id}", s.signedIn(s.accountPage))
	mux.Handle("POST /console/accounts/{id}", s.signedIn(s.changeAccount))

	s.pageRoutes(mux)
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "There is no such page in the console.")
	})
}

// staticHandler lets browsers keep the console's assets for an hour.
func staticHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	accountKey ctxKey = iota
	actorKey
	csrfKey
)

// actorFrom is the signed-in account's actor, for every use case a page
// calls; nil outside signedIn.
func actorFrom(ctx context.Context) *usercenter.Actor {
	a, _ := ctx.Value(actorKey).(*usercenter.Actor)
	return a
}

// accountFrom is the signed-in console account; nil outside signedIn.
func accountFrom(ctx context.Context) *usercenter.ConsoleAccount {
	a, _ := ctx.Value(accountKey).(*usercenter.ConsoleAccount)
	return a
}

// csrfToken is the value every form of a signed-in page sends in its
// hidden field "csrf"; "" without a session.
func csrfToken(ctx context.Context) string {
	t, _ := ctx.Value(csrfKey).(string)
	return t
}

// withAccount is ctx with the signed-in account, its actor and the CSRF
// token of its session, which only the session's token gives.
func withAccount(ctx context.Context, acc *usercenter.ConsoleAccount, actor *usercenter.Actor, token string) context.Context {
	return context.WithValue(withActor(ctx, actor, core.ConsoleCSRFToken(token)), accountKey, acc)
}

// withActor is ctx with an actor and a CSRF token: what the pages need of
// a session, for tests of the pages without one.
func withActor(ctx context.Context, actor *usercenter.Actor, csrf string) context.Context {
	return context.WithValue(context.WithValue(ctx, actorKey, actor), csrfKey, csrf)
}

// secure sets the security headers on every response, loads the session
// of the cookie, if any and still valid, into the context, and refuses a
// state-changing request that fails the CSRF check.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		if c, err := r.Cookie(cookieName); err == nil && c.Value != "" {
			acc, actor, err := s.svc.ConsoleSession(r.Context(), c.Value)
			if err == nil {
				r = r.WithContext(withAccount(r.Context(), acc, actor, c.Value))
			} else if usercenter.ErrorCode(err) != usercenter.EUnauthenticated {
				s.failErr(w, r, err)
				return
			}
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if msg := s.checkCSRF(r); msg != "" {
				s.fail(w, r, http.StatusForbidden, msg)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// checkCSRF says why a state-changing request must be refused, or "".
// The browser must say that the request comes from this origin (Origin,
// or else Sec-Fetch-Site), and a signed-in request must carry its
// session's token in the form: a page of another site can do neither. The
// session cookie is SameSite=Strict besides.
func (s *Server) checkCSRF(r *http.Request) string {
	const refused = "This form was sent from another site, or from a page that is out of date: reload the page and try again."
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if origin == "null" || err != nil || !strings.EqualFold(u.Host, r.Host) {
			return refused
		}
	} else if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return refused
	}
	if want := csrfToken(r.Context()); want != "" {
		if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(want)) != 1 {
			return refused
		}
	}
	return ""
}

// signedIn serves h only to a signed-in account, but for the public
// paths; a browser that is not signed in is sent to the sign-in page, and
// back here after.
func (s *Server) signedIn(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if accountFrom(r.Context()) == nil && !public(r.URL.Path) {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/console/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, http.StatusUnauthorized, "You are signed out; sign in again.")
			return
		}
		h(w, r)
	})
}

// render writes page name (templates/<name>.html; the ".html" may be
// left out) within the layout, with data as the page's dot. The layout
// and every page also reach, as functions, what the request carries:
// account, actor, csrf (the form token) and path. It renders into a
// buffer first, so that a template error is a clean 500 and never half a
// page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	s.renderStatus(w, r, http.StatusOK, name, data)
}

func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	page := s.pages[strings.TrimSuffix(name, ".html")]
	if page == nil {
		s.log.Error("console: no such template", "template", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	t, err := page.Clone()
	if err == nil {
		ctx := r.Context()
		t.Funcs(template.FuncMap{
			"account": func() *usercenter.ConsoleAccount { return accountFrom(ctx) },
			"actor":   func() *usercenter.Actor { return actorFrom(ctx) },
			"csrf":    func() string { return csrfToken(ctx) },
			"path":    func() string { return r.URL.Path },
		})
		var buf bytes.Buffer
		if err = t.Execute(&buf, data); err == nil {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(status)
			w.Write(buf.Bytes())
			return
		}
	}
	s.log.Error("console: rendering a page failed", "template", name, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// errorPage is the data of error.html.
type errorPage struct {
	Status  int
	Title   string
	Message string
}

// fail answers with the error page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.renderStatus(w, r, status, "error.html", errorPage{Status: status, Title: http.StatusText(status), Message: msg})
}

// failErr answers a domain error through fromDomain, logging the ones
// that are the server's fault.
func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := fromDomain(err)
	if status >= 500 && !usercenter.Canceled(err) {
		s.log.Error("console: request failed", "path", r.URL.Path, "err", err)
	}
	s.fail(w, r, status, msg)
}

// clientAddr is the address sign-in attempts are counted by: the peer's,
// without its port. Behind a proxy every client shares the proxy's.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// setSession gives the browser the session cookie: HttpOnly, SameSite
// Strict, Secure when the request came over TLS, scoped to the console.
func setSession(w http.ResponseWriter, r *http.Request, in *core.ConsoleSignedIn) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: in.Token, Path: Prefix, Expires: in.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

func clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

// baseURL is the address this request reached the console at, for the
// links it shows.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// localNext is where to go after signing in: a console path only, never
// another site.
func localNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}
