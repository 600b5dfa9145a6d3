package console

import (
	"net/http"
	"strconv"
	"time"

	"usercenter"
)

// The console's pages: the dashboard, apps and their keys, users, reveal
// and the audit trail. Each handler reads the actor the session put in the
// request's context and calls core's use cases, which decide what the
// actor may see and do: a page hides a button the actor cannot use, but
// the refusal is core's, so a hand-made POST is refused just the same.

// pageRoutes registers the pages; routes() calls it.
func (s *Server) pageRoutes(mux *http.ServeMux) {
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /console/{$}":                                s.dashboard,
		"GET /console/apps":                               s.appsPage,
		"POST /console/apps":                              s.createApp,
		"GET /console/apps/{app}":                         s.appPage,
		"POST /console/apps/{app}":                        s.updateApp,
		"POST /console/apps/{app}/keys":                   s.createKey,
		"POST /console/apps/{app}/keys/{secretId}/revoke": s.revokeKey,
		"POST /console/apps/{app}/superapp-secret":        s.replaceSuperAppSecret,
		"GET /console/apps/{app}/scim":                    s.scimPage,
		"POST /console/apps/{app}/scim":                   s.createSCIMToken,
		"POST /console/apps/{app}/scim/{token}/revoke":    s.revokeSCIMToken,
		"GET /console/users":                              s.usersPage,
		"GET /console/users/{user}":                       s.userPage,
		"GET /console/users/{user}/edit":                  s.editUserPage,
		"POST /console/users/{user}/edit":                 s.editUser,
		"POST /console/users/{user}/status":               s.setUserStatus,
		"POST /console/users/{user}/revoke-tokens":        s.revokeUserTokens,
		"POST /console/users/{user}/delete":               s.deleteUser,
		"POST /console/users/{user}/reveal":               s.revealUser,
		"GET /console/audit":                              s.auditPage,
		"GET /console/audit.csv":                          s.auditCSV,
	} {
		mux.Handle(pattern, s.signedIn(h))
	}
}

// page is what every page's template reads besides its own data.
type page struct {
	CSRF  string
	Actor *usercenter.Actor
	// Notice is a line of feedback after an action ("The user is
	// disabled.").
	Notice string
	// Error is what went wrong with the form just sent, shown above it.
	Error string
	// status is the page's HTTP status; 0 is 200.
	status int
	// accounts maps console actors to their accounts' emails, on the pages
	// that show audit events (AccountEmail).
	accounts map[string]string
}

// AccountEmail is the email of the console account an audit event's
// actor names, or "" for any other actor: the events name accounts by
// ID, which tells an operator nothing.
func (p page) AccountEmail(actor string) string { return p.accounts[actor] }

// withAccountNames loads what AccountEmail reads.
func (s *Server) withAccountNames(r *http.Request, p *page) error {
	var err error
	p.accounts, err = s.svc.ConsoleAccountNames(r.Context(), actorFrom(r.Context()))
	return err
}

// failed records a refusal of the form or query just sent, to show above
// the page with its status.
func (p *page) failed(err error) {
	p.status, p.Error = fromDomain(err)
}

// show renders page name with data, whose page is p, with p's status.
func (s *Server) show(w http.ResponseWriter, r *http.Request, p page, name string, data any) {
	status := p.status
	if status == 0 {
		status = http.StatusOK
	}
	s.renderStatus(w, r, status, name, data)
}

func (s *Server) page(r *http.Request) page {
	return page{CSRF: csrfToken(r.Context()), Actor: actorFrom(r.Context())}
}

// CanManage, CanWrite and CanReveal tell templates which controls to
// offer; core refuses what they leave out anyway.
func (p page) CanManage() bool { return p.Actor != nil && p.Actor.ManagesApps }
func (p page) CanWrite() bool  { return p.Actor != nil && p.Actor.Has(usercenter.PermUsersWrite) }
func (p page) CanReveal() bool { return p.Actor != nil && p.Actor.Has(usercenter.PermPIIRead) }

// form parses a POSTed form within maxForm (secure bounds it too, before
// the CSRF check reads it); false when it answered.
func (s *Server) form(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.failErr(w, r, &usercenter.Error{Code: usercenter.EInvalid, Message: "the form could not be read (too large?)"})
		return false
	}
	return true
}

// appID reads an SdkAppId of a path or a query.
func appID(v string) (uint64, error) {
	id, err := strconv.ParseUint(v, 10, 64)
	if err != nil || id == 0 {
		return 0, usercenter.Invalid(usercenter.FieldSdkAppID, "must be a positive number")
	}
	return id, nil
}

// formTime formats a time for the pages: UTC, to the second.
func formTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// seeOther sends the browser on after a form (POST, redirect, GET).
func seeOther(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}
