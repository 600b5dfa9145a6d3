// Package enterprise serves the end-user part of the Acceleronix
// enterprise API (the Acceleronix / Quectel Developer Center SaaS
// OpenAPI): an AccessKey login that issues "QJWT " access tokens, and the
// enterpriseapi user queries, so that back-office tools written for that
// platform work against usercenter with only their base URL changed.
// docs/enterprise.md is the user guide.
//
// Every answer is HTTP 200 with the outcome in the body's code, as the
// platform does; errors map to codes in one table (errors.go). Every route
// is one row of the routes table.
package enterprise

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"usercenter"
	"usercenter/core"
	"usercenter/httpio"
	"usercenter/obs"
)

// Limits on what a request may carry.
const (
	MaxQueryBytes = 8 << 10
	MaxBodyBytes  = 8 << 10
)

// authScheme is how a route authenticates its caller.
type authScheme int

const (
	authNone  authScheme = iota // the login itself
	authToken                   // Authorization: [QJWT ]<access token>
)

// route is one row of the routes table.
type route struct {
	methods []string
	path    string
	op      string // the action is "enterprise." + op
	auth    authScheme
	// quecauth routes answer in the OAuth-like shape of the login.
	quecauth bool
	handler  func(w http.ResponseWriter, r *http.Request, q url.Values)
}

// api holds what the handlers share.
type api struct {
	svc *core.Service
	log *slog.Logger
}

// Paths of the API.
const (
	pathLogin          = "/v2/quecauth/accessKeyAuthrize/accessKeyLogin"
	pathRefresh        = "/v2/quecauth/accessKeyAuthrize/refreshToken"
	pathUserInfo       = "/v2/enduser/enterpriseapi/userInfo"
	pathDomainList     = "/v2/enduser/enterpriseapi/entUserDomainList"
	pathDomainUserList = "/v2/enduser/enterpriseapi/userDomainUserList"
	pathSetUserStatus  = "/v2/enduser/enterpriseapi/setUserStatus"
)

// routes is the table of every route of the API. The platform documents
// GET and POST for its two quecauth endpoints and GET for the others.
func (a *api) routes() []route {
	getPost, get := []string{"GET", "POST"}, []string{"GET"}
	return []route{
		{getPost, pathLogin, "accessKeyLogin", authNone, true, a.handleLogin()},
		{getPost, pathRefresh, "refreshToken", authNone, true, a.handleRefresh()},
		{get, pathUserInfo, "userInfo", authToken, false, a.handleUserInfo()},
		{get, pathDomainList, "entUserDomainList", authToken, false, a.handleDomainList()},
		{get, pathDomainUserList, "userDomainUserList", authToken, false, a.handleDomainUserList()},
		{get, pathSetUserStatus, "setUserStatus", authToken, false, a.handleSetUserStatus()},
	}
}

// New returns the handler of every enterprise route. Mount it at "/v2/"
// behind obs.Middleware, which supplies the request ID; it answers
// unknown paths and methods there in its own envelope.
func New(svc *core.Service, log *slog.Logger) http.Handler {
	a := &api{svc: svc, log: log}
	byPath := map[string]route{}
	for _, rt := range a.routes() {
		byPath[rt.path] = rt
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, ok := byPath[r.URL.Path]
		if !ok {
			obs.FromContext(r.Context()).Action = "enterprise.unknown"
			a.fail(w, r, &apiError{Code: codeNotFound, ExtMsg: "no such API; see docs/enterprise.md"})
			return
		}
		a.operation(rt).ServeHTTP(w, r)
	})
}

type routeKey struct{}

// routeFrom returns the route being served.
func routeFrom(ctx context.Context) route {
	rt, _ := ctx.Value(routeKey{}).(route)
	return rt
}

type actorKey struct{}

// actorFrom returns the caller of a token-authenticated route.
func actorFrom(ctx context.Context) *usercenter.Actor {
	return ctx.Value(actorKey{}).(*usercenter.Actor)
}

// opContext is an operation's context: its route and, once the caller is
// authenticated, its actor, in one allocation rather than a
// context.WithValue and a request copy each.
type opContext struct {
	context.Context
	route any               // the route, boxed once for all its requests
	actor *usercenter.Actor // nil until authenticated
}

func (c *opContext) Value(key any) any {
	switch key.(type) {
	case routeKey:
		return c.route
	case actorKey:
		if c.actor != nil {
			return c.actor
		}
	}
	return c.Context.Value(key)
}

// operation wraps a route's handler with what every operation does: name
// the action, check the method, authenticate, and parse the parameters.
func (a *api) operation(rt route) http.Handler {
	action := "enterprise." + rt.op
	boxed := any(rt)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obs.FromContext(r.Context()).Action = action
		oc := &opContext{Context: core.WithAction(r.Context(), action), route: boxed}
		r = r.WithContext(oc)
		if !slices.Contains(rt.methods, r.Method) {
			w.Header().Set("Allow", strings.Join(rt.methods, ", "))
			a.fail(w, r, &apiError{Code: codeMethodNotAllowed, ExtMsg: r.Method + " is not allowed here; use " + strings.Join(rt.methods, " or ")})
			return
		}
		if rt.auth == authToken {
			actor, err := a.authenticate(r)
			if err != nil {
				a.fail(w, r, err)
				return
			}
			oc.actor = actor // before anything reads it: r carries oc already
		}
		// Parameters only after authentication, so that an anonymous
		// caller learns nothing about what a route accepts.
		q, err := params(w, r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		rt.handler(w, r, q)
	})
}

// authenticate resolves the access token of the Authorization header,
// sent bare or with its "QJWT " prefix, to the actor of its key.
func (a *api) authenticate(r *http.Request) (*usercenter.Actor, error) {
	header := r.Header.Get("Authorization")
	if hasScheme(header, "Bearer") {
		// The habit of OAuth APIs, and of usercenter's own /v1/me: the
		// platform's clients send the token bare, or after "QJWT ".
		return nil, &apiError{Code: codeBadToken, ExtMsg: `drop "Bearer ": send the access_token of accessKeyLogin bare, or as "QJWT <token>", in the Authorization header`}
	}
	token := bareToken(header)
	if token == "" {
		return nil, &apiError{Code: codeNoToken, ExtMsg: "send the access_token of accessKeyLogin in the Authorization header"}
	}
	return a.svc.AuthenticateAccessToken(r.Context(), token)
}

// tokenPrefix is how the platform spells its tokens on the wire.
const tokenPrefix = "QJWT "

// bareToken strips spaces and the "QJWT " prefix from a token; the prefix
// alone is no token.
func bareToken(s string) string {
	s = strings.TrimSpace(s)
	scheme := strings.TrimSpace(tokenPrefix)
	if hasScheme(s, scheme) {
		s = strings.TrimSpace(s[len(scheme):])
	}
	return s
}

// hasScheme reports whether the Authorization header value s starts with
// the authentication scheme, in any case, alone or before a space.
func hasScheme(s, scheme string) bool {
	s = strings.TrimSpace(s)
	return len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) && (len(s) == len(scheme) || s[len(scheme)] == ' ')
}

// formBody is how a form body is read. The login that sends one cannot
// authenticate before reading it, which is why the form is held to
// MaxBodyBytes, well under httpio.SmallBody.
var formBody = func() httpio.BodyRules {
	unreadable := paramError("the form body could not be read or exceeds %d bytes", MaxBodyBytes)
	return httpio.BodyRules{
		Limit: MaxBodyBytes, TooLarge: unreadable, Unreadable: unreadable,
		Busy: &apiError{Code: codeUnavailable, ExtMsg: "the server holds as many request bodies as it may at once; retry shortly"},
	}
}()

// params parses the query strictly, and for a POST the form body as well:
// a malformed encoding, a parameter given twice or a value that is not
// UTF-8 is a parameter check error.
func params(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if len(r.URL.RawQuery) > MaxQueryBytes {
		return nil, paramError("the query string exceeds %d bytes", MaxQueryBytes)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, paramError("the query string is malformed: use name=value pairs joined by &, each value URI-encoded")
	}
	if r.Method == http.MethodPost {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt == "application/x-www-form-urlencoded" {
			body, err := httpio.ReadBody(w, r, &formBody)
			if err != nil {
				return nil, err
			}
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, paramError("the form body is malformed: use name=value pairs joined by &, each value URI-encoded")
			}
			for k, v := range form {
				q[k] = append(q[k], v...)
			}
		}
	}
	for name, values := range q {
		if len(values) > 1 {
			return nil, paramError("%s must be given once", quoteName(name))
		}
		if !validText(name) || !validText(values[0]) {
			return nil, paramError("%s must be valid UTF-8 without control characters, URI-encoded", quoteName(name))
		}
	}
	return q, nil
}
