package console

// This file stands in for what consauth's branch builds (console.go,
// errors.go, the layout and the session middleware), with the names and
// signatures that branch gives them, so that the pages build and are
// tested before the two branches meet. The lead deletes it, with
// templates/failure.html, at the merge.

import (
	"context"
	"embed"
	"html/template"
	"net/http"

	"usercenter"
	"usercenter/core"
	"usercenter/obs"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Options configures the console.
type Options struct {
	// Traffic is the process's request counters over the last hour, for
	// the dashboard; nil shows none.
	Traffic *obs.Traffic
}

// Server is the admin console.
type Server struct {
	svc     *core.Service
	traffic *obs.Traffic
}

// New builds the console over svc.
func New(svc *core.Service, opts Options) *Server {
	return &Server{svc: svc, traffic: opts.Traffic}
}

// Handler serves the console's pages.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /console/static/", http.StripPrefix("/console/", http.FileServerFS(staticFiles)))
	s.pageRoutes(mux)
	return mux
}

type ctxKey int

const (
	accountKey ctxKey = iota
	actorKey
	tokenKey
)

// standinAccount stands in for usercenter.ConsoleAccount.
type standinAccount struct{ ID string }

func withAccount(ctx context.Context, acc *standinAccount, actor *usercenter.Actor, token string) context.Context {
	ctx = context.WithValue(ctx, accountKey, acc)
	ctx = context.WithValue(ctx, actorKey, actor)
	return context.WithValue(ctx, tokenKey, token)
}

func actorFrom(ctx context.Context) *usercenter.Actor {
	a, _ := ctx.Value(actorKey).(*usercenter.Actor)
	return a
}

func accountFrom(ctx context.Context) *standinAccount {
	a, _ := ctx.Value(accountKey).(*standinAccount)
	return a
}

func csrfToken(ctx context.Context) string {
	t, _ := ctx.Value(tokenKey).(string)
	return t
}

// signedIn serves h only to a signed-in account.
func (s *Server) signedIn(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if accountFrom(r.Context()) == nil {
			s.fail(w, r, http.StatusUnauthorized, "You are signed out; sign in again.")
			return
		}
		h(w, r)
	})
}

var standinLayout = template.Must(template.New("layout").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{template "title" .}} · usercenter console</title><link rel="stylesheet" href="/console/static/pages.css"></head>
<body><a class="skip" href="#main">Skip to content</a>
<header><nav aria-label="Console"><a href="/console/">Dashboard</a> <a href="/console/apps">Apps</a> <a href="/console/users">Users</a> <a href="/console/audit">Audit trail</a></nav></header>
<main id="main"><h1>{{template "title" .}}</h1>{{template "content" .}}</main></body></html>`))

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	s.renderStatus(w, r, http.StatusOK, name, data)
}

// renderStatus writes page name (templates/<name>.html) in the layout.
func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t := template.Must(template.Must(standinLayout.Clone()).ParseFS(templateFiles, "templates/"+name+".html"))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout", data); err != nil {
		panic(err) // a template bug, found by any test
	}
}

type errorPage struct {
	Status  int
	Title   string
	Message string
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.renderStatus(w, r, status, "failure", errorPage{Status: status, Title: http.StatusText(status), Message: msg})
}

func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := fromDomain(err)
	s.fail(w, r, status, msg)
}

// fromDomain maps a domain error to a status and a message to show.
func fromDomain(err error) (int, string) {
	e := usercenter.ErrorOf(err)
	msg := e.Message
	if e.Field != "" {
		msg = string(e.Field) + " " + msg
	}
	switch e.Code {
	case usercenter.EInvalid:
		return http.StatusBadRequest, msg
	case usercenter.EForbidden, usercenter.EDisabled:
		return http.StatusForbidden, msg
	case usercenter.ENotFound:
		return http.StatusNotFound, e.Resource + " not found"
	case usercenter.EConflict:
		return http.StatusConflict, msg
	case usercenter.EUnavailable:
		return http.StatusServiceUnavailable, e.Message
	}
	return http.StatusInternalServerError, "Something went wrong on the server; the error is in its log."
}
