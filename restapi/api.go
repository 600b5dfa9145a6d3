// Package restapi serves usercenter's native REST API under /v1: JSON
// bodies, HTTP Basic authentication with an API key (SecretId:SecretKey),
// Bearer user tokens for /v1/me, and RFC 9457 problem details for errors.
// docs/api.md is the user guide; restapi/openapi.json the contract.
//
// Every route is one row of the routes table: the mux is built from it,
// and a test checks it against the OpenAPI document in both directions.
package restapi

import (
	"context"
	_ "embed"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"usercenter"
	"usercenter/core"
	"usercenter/obs"
)

// MaxBodyBytes caps a request body.
const MaxBodyBytes = 1 << 20

//go:embed openapi.json
var openAPIDoc []byte

// authScheme is how a route authenticates its caller.
type authScheme int

const (
	authNone   authScheme = iota // public
	authKey                      // HTTP Basic SecretId:SecretKey
	authBearer                   // Authorization: Bearer <user token>
)

// route is one row of the routes table.
type route struct {
	method  string
	path    string // a ServeMux path pattern, e.g. /v1/users/{userId}
	op      string // the OpenAPI operationId; the action is "v1." + op
	auth    authScheme
	query   []string // the query parameters it accepts; any other is refused
	handler http.Handler
}

// pattern is the ServeMux pattern of the route. A custom method
// ("/v1/users/{userId}:erase") ends in a wildcard followed by a verb,
// which ServeMux cannot match: its pattern ends at the wildcard, and
// operation checks and strips the verb.
func (rt route) pattern() string {
	path, _, _ := rt.customMethod()
	return rt.method + " " + path
}

// customMethod splits a path ending in "{name}:verb" into the path up to
// the wildcard, the wildcard's name and the verb; other paths have no
// verb.
func (rt route) customMethod() (path, wildcard, verb string) {
	i := strings.LastIndex(rt.path, "}:")
	if i < 0 {
		return rt.path, "", ""
	}
	start := strings.LastIndex(rt.path[:i], "{")
	return rt.path[:i+1], rt.path[start+1 : i], rt.path[i+2:]
}

// api holds what the handlers share.
type api struct {
	svc *core.Service
	log *slog.Logger
	// noRoute answers what no route serves; custom methods hand it a
	// path whose verb they do not know.
	noRoute http.Handler
}

// Query parameters shared by several routes.
var (
	revealParam = []string{"reveal"}
	listParams  = []string{"limit", "next", "reveal", "originId", "phone", "email", "provider", "providerUserId"}
	auditParams = []string{"sdkAppId", "userId", "field", "action", "actor", "since", "until", "order", "limit", "next"}
)

// routes is the table of every route of the API.
func (a *api) routes() []route {
	return []route{
		{"POST", "/v1/apps/{sdkAppId}/users", "createUser", authKey, nil, a.handleCreateUser()},
		{"POST", "/v1/apps/{sdkAppId}/users:import", "importUsers", authKey, nil, a.handleImportUsers()},
		{"GET", "/v1/apps/{sdkAppId}/users", "listUsers", authKey, listParams, a.handleListUsers()},
		{"GET", "/v1/users/{userId}", "getUser", authKey, revealParam, a.handleGetUser()},
		{"PATCH", "/v1/users/{userId}", "updateUser", authKey, nil, a.handleUpdateUser()},
		{"DELETE", "/v1/users/{userId}", "deleteUser", authKey, nil, a.handleDeleteUser()},
		{"GET", "/v1/users/{userId}/subject-export", "exportSubject", authKey, nil, a.handleExportSubject()},
		{"POST", "/v1/users/{userId}:erase", "eraseUser", authKey, nil, a.handleEraseUser()},
		{"POST", "/v1/users/{userId}:revoke-tokens", "revokeUserTokens", authKey, nil, a.handleRevokeUserTokens()},
		{"GET", "/v1/me", "getMe", authBearer, nil, a.handleMe()},
		{"GET", "/v1/audit", "listAuditEvents", authKey, auditParams, a.handleListAudit()},
		{"GET", "/v1/apps/{sdkAppId}/events", "listEvents", authKey, eventParams, a.handleListEvents()},
		{"POST", "/v1/apps/{sdkAppId}/webhooks", "createWebhook", authKey, nil, a.handleCreateWebhook()},
		{"GET", "/v1/apps/{sdkAppId}/webhooks", "listWebhooks", authKey, nil, a.handleListWebhooks()},
		{"GET", "/v1/apps/{sdkAppId}/webhooks/{webhookId}", "getWebhook", authKey, nil, a.handleGetWebhook()},
		{"PATCH", "/v1/apps/{sdkAppId}/webhooks/{webhookId}", "updateWebhook", authKey, nil, a.handleUpdateWebhook()},
		{"DELETE", "/v1/apps/{sdkAppId}/webhooks/{webhookId}", "deleteWebhook", authKey, nil, a.handleDeleteWebhook()},
		{"POST", "/v1/apps/{sdkAppId}/webhooks/{webhookId}:test", "testWebhook", authKey, nil, a.handleTestWebhook()},
		{"POST", "/v1/apps/{sdkAppId}/webhooks/{webhookId}:replay", "replayWebhook", authKey, nil, a.handleReplayWebhook()},
		{"GET", "/v1/apps/{sdkAppId}/webhooks/{webhookId}/deliveries", "listWebhookDeliveries", authKey, []string{"limit"}, a.handleListDeliveries()},
		{"GET", "/v1/openapi.json", "getOpenAPI", authNone, nil, a.handleOpenAPI()},
	}
}

// New returns the handler of every /v1 route. Mount it at "/v1/" behind
// obs.Middleware, which supplies the request ID.
func New(svc *core.Service, log *slog.Logger) http.Handler {
	a := &api{svc: svc, log: log}
	mux := http.NewServeMux()
	// known maps the pattern of every route to the verbs of its custom
	// methods, "" for a route without one. Custom methods of one path
	// share its pattern, and one handler that picks by verb.
	known := map[string][]string{}
	byVerb := map[string]map[string]http.Handler{}
	for _, rt := range a.routes() {
		_, wildcard, verb := rt.customMethod()
		known[rt.pattern()] = append(known[rt.pattern()], verb)
		if verb == "" {
			mux.Handle(rt.pattern(), a.operation(rt))
			continue
		}
		handlers, ok := byVerb[rt.pattern()]
		if !ok {
			handlers = map[string]http.Handler{}
			byVerb[rt.pattern()] = handlers
			mux.Handle(rt.pattern(), a.customMethods(wildcard, handlers))
		}
		handlers[verb] = a.operation(rt)
	}
	// Whatever no route matches lands here, including a known path with
	// the wrong method: a more specific pattern always wins in ServeMux,
	// so this sees only the leftovers.
	a.noRoute = a.handleNoRoute(mux, known)
	mux.Handle("/", a.noRoute)
	return mux
}

// customMethods serves the custom methods of one pattern, each by the
// verb after the last ":" of its wildcard; a verb none has is no route.
func (a *api) customMethods(wildcard string, handlers map[string]http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.PathValue(wildcard)
		if i := strings.LastIndex(v, ":"); i >= 0 {
			if h, ok := handlers[v[i+1:]]; ok {
				h.ServeHTTP(w, r)
				return
			}
		}
		a.noRoute.ServeHTTP(w, r)
	})
}

type actorKey struct{}

// actorFrom returns the authenticated caller of a key-authenticated route.
func actorFrom(ctx context.Context) *usercenter.Actor {
	return ctx.Value(actorKey{}).(*usercenter.Actor)
}

type userKey struct{}

// userFrom returns the user whose token authenticated a bearer route.
func userFrom(ctx context.Context) *usercenter.User {
	return ctx.Value(userKey{}).(*usercenter.User)
}

type schemeKey struct{}

// opContext is an operation's context: its authentication scheme and,
// once the caller is authenticated, its actor or user, in one allocation
// rather than a context.WithValue and a request copy each.
type opContext struct {
	context.Context
	scheme authScheme
	actor  *usercenter.Actor // a key's caller, nil until authenticated
	user   *usercenter.User  // a token's user, nil until authenticated
}

func (c *opContext) Value(key any) any {
	switch key.(type) {
	case schemeKey:
		return c.scheme
	case actorKey:
		if c.actor != nil {
			return c.actor
		}
	case userKey:
		if c.user != nil {
			return c.user
		}
	}
	return c.Context.Value(key)
}

// operation wraps a route's handler with what every operation does: name
// the action for logs, metrics and rate limits, refuse unknown query
// parameters and authenticate the caller.
func (a *api) operation(rt route) http.Handler {
	action := "v1." + rt.op
	_, wildcard, verb := rt.customMethod()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if verb != "" {
			v, ok := strings.CutSuffix(r.PathValue(wildcard), ":"+verb)
			if !ok {
				a.noRoute.ServeHTTP(w, r)
				return
			}
			r.SetPathValue(wildcard, v)
		}
		obs.FromContext(r.Context()).Action = action
		oc := &opContext{Context: core.WithAction(r.Context(), action), scheme: rt.auth}
		r = r.WithContext(oc)
		switch rt.auth {
		case authKey:
			actor, err := a.authenticateKey(r)
			if err != nil {
				a.fail(w, r, err)
				return
			}
			oc.actor = actor // before anything reads it: r carries oc already
		case authBearer:
			user, err := a.authenticateToken(r)
			if err != nil {
				a.fail(w, r, err)
				return
			}
			oc.user = user
		}
		// Only after authentication, so that an anonymous caller learns
		// nothing about what a route accepts.
		if err := checkQuery(r, rt.query); err != nil {
			a.fail(w, r, err)
			return
		}
		rt.handler.ServeHTTP(w, r)
	})
}

// checkQuery refuses query parameters the route does not know, so that a
// misspelt ?revael=phone or ?limt=10 fails loudly instead of being ignored.
func checkQuery(r *http.Request, allowed []string) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		values := q[name]
		if !slices.Contains(allowed, name) {
			return &problem{Code: "unknown_field", Field: clipName(name), Detail: "unknown query parameter " + quote(name)}
		}
		for _, v := range values {
			if !utf8.ValidString(v) {
				return &problem{Code: "invalid_field", Field: name, Detail: name + " must be valid UTF-8, percent-encoded"}
			}
		}
	}
	return nil
}

// handleNoRoute answers 405 when the path is known under another method,
// and 404 otherwise.
//
// known maps the pattern of every route to its custom methods' verbs, ""
// for none: a custom method's pattern matches its path only with a verb.
func (a *api) handleNoRoute(mux *http.ServeMux, known map[string][]string) http.Handler {
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range methods {
			probe := r.Clone(r.Context())
			probe.Method = m
			// A GET pattern also serves HEAD, and is reported for it.
			_, pattern := mux.Handler(probe)
			verbs, ok := known[pattern]
			if ok && slices.ContainsFunc(verbs, func(verb string) bool { return verb == "" || strings.HasSuffix(r.URL.Path, ":"+verb) }) {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			a.fail(w, r, &problem{Code: "not_found", Detail: "no route matches " + r.Method + " " + clipName(r.URL.Path) + "; see /v1/openapi.json"})
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		a.fail(w, r, &problem{Code: "method_not_allowed", Detail: r.Method + " is not allowed here; allowed: " + strings.Join(allow, ", ")})
	})
}

func (a *api) handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obs.FromContext(r.Context()).Result = "ok"
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(openAPIDoc)
	})
}
