package console

import (
	"net/http"
	"strconv"
	"strings"

	"usercenter"
	"usercenter/core"
)

// SCIM tokens of an app: the list, creation with its permissions, and
// revocation, through core's SCIM token use cases, which only an
// operator (an admin of every app) may use. A new token is shown once,
// on the page that answers the POST which made it, sent with no-store;
// afterwards the list names it by its ID only.

type scimData struct {
	page
	App         *usercenter.App
	Tokens      []usercenter.SCIMToken
	Permissions []usercenter.Permission
	// New is the token just created, shown this once; nil otherwise.
	New *usercenter.SCIMToken
	// Endpoint is the path of the app's SCIM endpoint, for the
	// provider's settings.
	Endpoint string
}

func (s *Server) scimPage(w http.ResponseWriter, r *http.Request) {
	p := s.page(r)
	if r.URL.Query().Get("done") == "revoked" {
		p.Notice = "The token is revoked: requests bearing it are refused from now on."
	}
	s.renderSCIM(w, r, p, nil)
}

func (s *Server) renderSCIM(w http.ResponseWriter, r *http.Request, p page, created *usercenter.SCIMToken) {
	ctx, actor := r.Context(), actorFrom(r.Context())
	id, err := appID(r.PathValue("app"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	app, err := s.svc.App(ctx, actor, id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	tokens, err := s.svc.SCIMTokens(ctx, actor, id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	data := scimData{page: p, App: app, Tokens: tokens, Permissions: core.SCIMTokenPermissions, New: created,
		Endpoint: "/scim/v2/" + strconv.FormatUint(id, 10) + "/"}
	if created != nil {
		w.Header().Set("Cache-Control", "no-store")
	}
	s.show(w, r, p, "scim", data)
}

func (s *Server) createSCIMToken(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r) {
		return
	}
	id, err := appID(r.PathValue("app"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	// The boxes' values, checked as the CLI's --perms are; core refuses
	// a permission a SCIM token may not have.
	perms, err := usercenter.ParsePermissions(strings.Join(r.PostForm["permission"], ","))
	var tok *usercenter.SCIMToken
	if err == nil {
		tok, err = s.svc.CreateSCIMToken(r.Context(), actorFrom(r.Context()), id, perms)
	}
	if err != nil {
		s.formFailed(w, r, err, func(p page) { s.renderSCIM(w, r, p, nil) })
		return
	}
	p := s.page(r)
	p.Notice = "The token is created. Copy it now: it is shown this once and cannot be shown again."
	s.renderSCIM(w, r, p, tok)
}

func (s *Server) revokeSCIMToken(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r) {
		return
	}
	ctx, actor := r.Context(), actorFrom(r.Context())
	id, err := appID(r.PathValue("app"))
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	// Revoke only a token of the app the page is about: a token ID under
	// another app's path is not found, as on the API.
	tokens, err := s.svc.SCIMTokens(ctx, actor, id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	tokenID := r.PathValue("token")
	found := false
	for _, t := range tokens {
		found = found || t.ID == tokenID
	}
	if !found {
		s.failErr(w, r, usercenter.NotFound(usercenter.ResourceToken))
		return
	}
	if err := s.svc.RevokeSCIMToken(ctx, actor, tokenID); err != nil {
		s.failErr(w, r, err)
		return
	}
	seeOther(w, r, "/console/apps/"+strconv.FormatUint(id, 10)+"/scim?done=revoked")
}
