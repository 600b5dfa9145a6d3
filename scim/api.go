// Package scim serves SCIM 2.0 (RFC 7643, RFC 7644) under
// /scim/v2/{sdkAppId}/, so that identity providers (Microsoft Entra ID,
// Okta, …) provision an app's users with no code. docs/scim.md is the
// user guide: what works, the mapping of attributes, and what does not
// yet.
//
// Each app has its own SCIM tokens (usercenter scim token create); a
// request bears one as a bearer token, and acts as its actor, scoped to
// the app the path names. Everything a request does goes through core's
// use cases, which rate limit it per app and audit it; errors map to
// SCIM's error schema in one table (errors.go).
package scim

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"usercenter"
	"usercenter/core"
	"usercenter/httpio"
	"usercenter/obs"
)

// Prefix is where the API is mounted.
const Prefix = "/scim/v2/"

// mediaType is SCIM's; requests may send application/json as well.
const mediaType = "application/scim+json"

// MaxBodyBytes bounds a request body: one User is a few kilobytes.
const MaxBodyBytes = httpio.SmallBody

// api holds what the handlers share.
type api struct {
	svc *core.Service
	log *slog.Logger
}

// call is what a handler knows of the request it serves.
type call struct {
	app   uint64
	actor *usercenter.Actor
	id    string // the resource's id in the path, "" for none
	base  string // the absolute URL of the app's endpoint, ending in "/"
	proj  *projection
}

// withPII reports whether the caller may see personal data in plain.
func (c *call) withPII() bool { return c.actor.Has(usercenter.PermPIIRead) }

// reveal is what the caller's reads reveal: with pii.read, every
// personal field the answer may show, so that each disclosure is
// audited; nothing without.
func (c *call) reveal() []usercenter.PIIField {
	if !c.withPII() {
		return nil
	}
	var out []usercenter.PIIField
	for _, f := range usercenter.PIIFields {
		if c.proj.returns(piiAttrs[f]) {
			out = append(out, f)
		}
	}
	return out
}

type handler func(w http.ResponseWriter, r *http.Request, c *call)

// endpoint is one path of the API, with its handler of each method.
// notYet names the methods SCIM defines there that this server does not
// implement yet: they answer 501.
type endpoint struct {
	op      string // the action is "scim." + op + "." + method
	methods map[string]handler
	notYet  []string
}

// route finds the endpoint of a path below the app: the resource and,
// for one resource, its id.
func (a *api) route(resource, id string, hasID bool) (*endpoint, *scimError) {
	switch {
	case resource == "Users" && !hasID:
		return &endpoint{op: "users", methods: map[string]handler{"GET": a.listUsers, "POST": a.createUser}}, nil
	case resource == "Users" && id == ".search":
		return &endpoint{op: "search", methods: map[string]handler{"POST": a.search}}, nil
	case resource == "Users" && id != "":
		return &endpoint{op: "user", methods: map[string]handler{"GET": a.getUser, "PUT": a.putUser, "PATCH": a.patchUser, "DELETE": a.deleteUser}}, nil
	case resource == "ServiceProviderConfig" && !hasID:
		return &endpoint{op: "config", methods: map[string]handler{"GET": a.serviceProviderConfig}}, nil
	case resource == "ResourceTypes":
		return &endpoint{op: "resourceTypes", methods: map[string]handler{"GET": a.resourceTypes}}, nil
	case resource == "Schemas":
		return &endpoint{op: "schemas", methods: map[string]handler{"GET": a.schemas}}, nil
	case resource == "Bulk" && !hasID:
		return &endpoint{op: "bulk", notYet: []string{"POST"}}, nil
	case resource == "Groups":
		return nil, &scimError{Status: http.StatusNotFound, Detail: "Groups are not supported (see ServiceProviderConfig)"}
	}
	return nil, &scimError{Status: http.StatusNotFound, Detail: "no such endpoint; see docs/scim.md"}
}

// New returns the handler of the API. Mount it at Prefix behind
// obs.Middleware, which supplies the request ID; it answers every path
// there in SCIM's error format.
func New(svc *core.Service, log *slog.Logger) http.Handler {
	a := &api{svc: svc, log: log}
	return http.HandlerFunc(a.serve)
}

func (a *api) serve(w http.ResponseWriter, r *http.Request) {
	req := obs.FromContext(r.Context())
	req.Action = "scim.unknown"
	appPart, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, Prefix), "/")
	app, ok := usercenter.ParseSdkAppID(appPart)
	if !ok {
		fail(w, r, &scimError{Status: http.StatusNotFound, Detail: "the path must be /scim/v2/{sdkAppId}/…, sdkAppId in decimal"})
		return
	}
	resource, id, hasID := strings.Cut(rest, "/")
	if hasID && strings.Contains(id, "/") {
		fail(w, r, &scimError{Status: http.StatusNotFound, Detail: "no such endpoint; see docs/scim.md"})
		return
	}
	ep, routeErr := a.route(resource, id, hasID)
	if ep != nil {
		req.Action = "scim." + ep.op + "." + strings.ToLower(r.Method)
	}
	// Authentication comes first: a stranger learns nothing of what a
	// path or method would do.
	actor, err := a.authenticate(core.WithAction(r.Context(), req.Action), r, app)
	if err != nil {
		fail(w, r, err)
		return
	}
	if routeErr != nil {
		fail(w, r, routeErr)
		return
	}
	h, ok := ep.methods[r.Method]
	if !ok {
		for _, m := range ep.notYet {
			if m == r.Method {
				fail(w, r, &scimError{Status: http.StatusNotImplemented, Detail: r.Method + " is not implemented here yet (see ServiceProviderConfig and docs/scim.md)"})
				return
			}
		}
		var allow []string
		for m := range ep.methods {
			allow = append(allow, m)
		}
		slices.Sort(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		fail(w, r, &scimError{Status: http.StatusMethodNotAllowed, Detail: r.Method + " is not allowed here"})
		return
	}
	ctx := core.WithAction(r.Context(), req.Action)
	q := r.URL.Query()
	proj := parseProjection(q["attributes"], q["excludedAttributes"])
	h(w, r.WithContext(ctx), &call{app: app, actor: actor, id: id, base: baseURL(r, app), proj: proj})
}

// authenticate reads the bearer token and resolves it for app.
func (a *api) authenticate(ctx context.Context, r *http.Request, app uint64) (*usercenter.Actor, error) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errBadToken
	}
	return a.svc.AuthenticateSCIMToken(ctx, app, strings.TrimSpace(token))
}

// baseURL is the absolute URL of the app's endpoint, for meta.location.
func baseURL(r *http.Request, app uint64) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + Prefix + strconv.FormatUint(app, 10) + "/"
}

// bodyRules read a request body. The caller is authenticated by then.
var bodyRules = httpio.BodyRules{
	Limit:      MaxBodyBytes,
	TooLarge:   &scimError{Status: http.StatusRequestEntityTooLarge, Type: typeTooMany, Detail: "the body exceeds " + strconv.Itoa(MaxBodyBytes) + " bytes"},
	Unreadable: badRequest(typeInvalidSyntax, "the body could not be read"),
	Busy:       &scimError{Status: http.StatusServiceUnavailable, Detail: "the server holds as many request bodies as it may at once; retry shortly"},
}

// readBody reads a JSON body sent as application/scim+json or
// application/json (or without a Content-Type, as some clients do).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != mediaType && mt != "application/json" {
			return nil, &scimError{Status: http.StatusUnsupportedMediaType, Detail: "send the body as application/scim+json or application/json"}
		}
	}
	return httpio.ReadBody(w, r, &bodyRules)
}

// writeJSON answers v with status, as SCIM's media type.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	obs.FromContext(r.Context()).SetResult(strconv.Itoa(status), nil)
	httpio.WriteJSON(w, status, mediaType, v)
}
