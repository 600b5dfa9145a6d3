// Package superapp serves the user API that Tencent Cloud Super App as a
// Service (the mini-program platform) calls on a super-app's backend:
// checkUser, getUserAvatar, getUserNick, getUserInfoTemporaryCode,
// getUserPhoneNumber and getUserEmail. docs/superapp.md is the operator's
// guide.
//
// Every endpoint answers under three path forms, /superapp/user/<name>,
// /superapp/inner/user/<name> and /user/<name>, to POST with a JSON body
// and to GET with query parameters. The unprefixed paths serve the
// instance's default app; the same paths under /apps/{SdkAppId} serve that
// app. The platform authenticates with TC-Timestamp and TC-Signature,
// keyed with the app's SuperAppSecretKey.
//
// Every endpoint is one row of the endpoints table, and every path form
// one row of pathForms: the mux is built from the two.
package superapp

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/obs"
)

// Limits on a request.
const (
	MaxBodyBytes  = 64 << 10
	MaxQueryBytes = 8 << 10
)

// pathForms are the paths the platform's documents have used; each
// endpoint answers under all of them.
var pathForms = []string{"/superapp/user/", "/superapp/inner/user/", "/user/"}

// appPrefix puts a path form under one app.
const appPrefix = "/apps/{sdkAppId}"

// Mounts are the patterns to route to the handler New returns.
var Mounts = []string{"/superapp/", "/user/", appPrefix + "/superapp/", appPrefix + "/user/"}

// call is what an endpoint's handler gets: the platform's actor, which
// acts for one app, and the request's parameters.
type call struct {
	actor  *usercenter.Actor
	params params
}

// handler runs one endpoint and returns its Data.
type handler func(ctx context.Context, c *call) (any, error)

// endpoint is one row of the endpoints table.
type endpoint struct {
	name    string // the last path segment; the action is "superapp." + name
	handler handler
}

// endpoints is the table of every endpoint of the API.
func (a *api) endpoints() []endpoint {
	return []endpoint{
		{"checkUser", a.checkUser()},
		{"getUserAvatar", a.getUserAvatar()},
		{"getUserNick", a.getUserNick()},
		{"getUserInfoTemporaryCode", a.getUserInfoTemporaryCode()},
		{"getUserPhoneNumber", a.deliver(usercenter.FieldPhone)},
		{"getUserEmail", a.deliver(usercenter.FieldEmail)},
	}
}

// Config configures the facade.
type Config struct {
	// DefaultApp is the SdkAppId the unprefixed paths serve. 0 means the
	// instance's only app, while there is exactly one; with none or
	// several, the unprefixed paths answer 404 and only the /apps/{SdkAppId}
	// paths serve.
	DefaultApp uint64
}

// api holds what the handlers share.
type api struct {
	svc *core.Service
	log *slog.Logger
	cfg Config
	// sole caches the only app for a second, so that the unprefixed paths
	// do not list the apps on every request.
	sole atomic.Pointer[soleApp]
}

// soleApp is one look at the instance's apps.
type soleApp struct {
	id  uint64 // 0: none or several
	n   int    // how many apps there were
	at  time.Time
	err error
}

// soleTTL is how long one look at the apps is trusted.
const soleTTL = time.Second

// New returns the handler of every super-app path. Mount it at each of
// Mounts behind obs.Middleware, which supplies the request ID.
func New(svc *core.Service, log *slog.Logger, cfg Config) http.Handler {
	a := &api{svc: svc, log: log, cfg: cfg}
	mux := http.NewServeMux()
	for _, ep := range a.endpoints() {
		for _, form := range pathForms {
			mux.Handle(form+ep.name, a.operation(ep, false))
			mux.Handle(appPrefix+form+ep.name, a.operation(ep, true))
		}
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, errNoRoute)
	}))
	return mux
}

// operation wraps an endpoint's handler with what every call does: name
// the action, check the method, find and authenticate the app, and read
// the parameters, in that order. Nothing about a user is read before the
// caller is authenticated.
func (a *api) operation(ep endpoint, prefixed bool) http.Handler {
	action := "superapp." + ep.name
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obs.FromContext(r.Context()).Action = action
		if r.Method != http.MethodPost && r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET, POST")
			a.fail(w, r, errMethod)
			return
		}
		var sdkAppID uint64
		if prefixed {
			id, ok := usercenter.ParseSdkAppID(r.PathValue("sdkAppId"))
			if !ok {
				// No app can have that ID, so no signature can be right.
				a.fail(w, r, authFailed("malformed SdkAppId in the path", msgBadSignature))
				return
			}
			sdkAppID = id
		} else {
			id, err := a.defaultApp(r.Context())
			if err != nil {
				a.fail(w, r, err)
				return
			}
			sdkAppID = id
		}
		actor, err := a.authenticate(r, sdkAppID)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		p, err := readParams(w, r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		ctx := core.WithAction(r.Context(), action)
		data, err := ep.handler(ctx, &call{actor: actor, params: p})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		respond(w, r, data)
	})
}

// defaultApp is the app the unprefixed paths serve.
func (a *api) defaultApp(ctx context.Context) (uint64, error) {
	if a.cfg.DefaultApp != 0 {
		return a.cfg.DefaultApp, nil
	}
	now := a.svc.Now()
	s := a.sole.Load()
	if s == nil || now.Before(s.at) || now.Sub(s.at) >= soleTTL {
		apps, err := a.svc.Apps(ctx)
		s = &soleApp{n: len(apps), at: now, err: err}
		if err == nil && len(apps) == 1 {
			s.id = apps[0].SdkAppID
		}
		a.sole.Store(s)
	}
	switch {
	case s.err != nil:
		return 0, s.err
	case s.id == 0:
		return 0, noDefaultApp(s.n)
	}
	return s.id, nil
}
