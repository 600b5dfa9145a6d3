package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"usercenter"
	"usercenter/core"
)

// Users: the newest first, a page at a time (keyset: a cursor, never an
// offset, so a page costs the same deep into a million users), filtered
// by status; exact search by UserId, OriginId, phone, email or
// third-party ID; a user's page, edit, disable and enable, revoke their
// tokens, delete, and reveal with a written reason. Personal data is
// masked everywhere but on the page that answers a reveal.

// usersPageSize is how many users a page lists.
const usersPageSize = 50

// searchKinds are what the search box can look for, in the order offered.
var searchKinds = []struct{ Value, Label string }{
	{"userId", "UserId"}, {"originId", "OriginId"}, {"phone", "Phone"}, {"email", "Email"}, {"thirdParty", "Third-party ID"},
}

type usersData struct {
	page
	Apps      []usercenter.App
	App       uint64
	Status    string // "", "1" or "0"
	Kind, Q   string
	Provider  string
	Kinds     any
	Providers []usercenter.Provider
	Searched  bool
	Users     []usercenter.User
	Next      string // the URL of the next page, "" on the last
}

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	ctx, actor := r.Context(), actorFrom(r.Context())
	apps, err := s.svc.VisibleApps(ctx, actor)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	q := r.URL.Query()
	d := usersData{page: s.page(r), Apps: apps, Status: q.Get("status"), Kind: q.Get("kind"), Q: strings.TrimSpace(q.Get("q")),
		Provider: q.Get("provider"), Kinds: searchKinds, Providers: usercenter.Providers}
	if v := q.Get("app"); v != "" {
		if d.App, err = appID(v); err != nil {
			s.failErr(w, r, err)
			return
		}
	} else if len(apps) > 0 {
		d.App = apps[0].SdkAppID
	}
	switch {
	case d.Q != "":
		d.Searched = true
		d.Users, err = s.search(r, d.App, d.Kind, d.Q, usercenter.Provider(d.Provider))
	case d.App != 0:
		d.Users, d.Next, err = s.listNewest(r, d.App, d.Status, q.Get("cursor"))
	}
	if err != nil {
		if code := usercenter.ErrorCode(err); code != usercenter.EInvalid && code != usercenter.EForbidden {
			s.failErr(w, r, err)
			return
		}
		d.failed(err)
	}
	s.show(w, r, d.page, "users", d)
}

// listNewest reads one page of an app's users, newest first.
func (s *Server) listNewest(r *http.Request, app uint64, status, cursor string) ([]usercenter.User, string, error) {
	query := core.UserQuery{SdkAppID: app, Newest: true, Limit: usersPageSize, Cursor: cursor}
	switch status {
	case "":
	case "0", "1":
		st := usercenter.UserStatus(status[0] - '0')
		query.Status = &st
	default:
		return nil, "", usercenter.Invalid(usercenter.FieldStatus, "must be active or disabled")
	}
	pg, err := s.svc.ListUsers(r.Context(), actorFrom(r.Context()), query)
	if err != nil || pg.Next == "" {
		return pageUsers(pg), "", err
	}
	next := url.Values{"app": {strconv.FormatUint(app, 10)}, "cursor": {pg.Next}}
	if status != "" {
		next.Set("status", status)
	}
	return pg.Users, "/console/users?" + next.Encode(), nil
}

func pageUsers(pg *core.UserPage) []usercenter.User {
	if pg == nil {
		return nil
	}
	return pg.Users
}

// search finds the users a value names exactly: by UserId in any app the
// actor may read, by OriginId in the chosen app (or every app when none
// is chosen), by phone, email or third-party ID in the chosen app
// through the blind index.
func (s *Server) search(r *http.Request, app uint64, kind, q string, provider usercenter.Provider) ([]usercenter.User, error) {
	ctx, actor := r.Context(), actorFrom(r.Context())
	if kind == "userId" {
		u, err := s.svc.GetUser(ctx, actor, q, nil)
		if usercenter.ErrorCode(err) == usercenter.ENotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []usercenter.User{*u}, nil
	}
	query := core.UserQuery{SdkAppID: app, Limit: usersPageSize}
	switch kind {
	case "originId":
		query.OriginID = q
	case "phone":
		query.Phone = q
	case "email":
		query.Email = q
	case "thirdParty":
		query.Provider, query.ProviderUserID = provider, q
	default:
		return nil, usercenter.Invalid(usercenter.FieldValueKind, "must be UserId, OriginId, phone, email or third-party ID")
	}
	pg, err := s.svc.ListUsers(ctx, actor, query)
	if usercenter.ErrorCode(err) == usercenter.ENotFound && kind == "originId" {
		return nil, nil
	}
	return pageUsers(pg), err
}

type userData struct {
	page
	User       *usercenter.User
	Providers  []usercenter.Provider // the user's, sorted
	LiveTokens int
	Events     []usercenter.AuditEvent
	// Revealed names the fields shown in plain, after a reveal.
	Revealed []usercenter.PIIField
	Reason   string
	PII      []usercenter.PIIField
}

// userEventsShown is how many of a user's audit events their page shows.
const userEventsShown = 20

func (s *Server) userPage(w http.ResponseWriter, r *http.Request) {
	p := s.page(r)
	switch r.URL.Query().Get("done") {
	case "saved":
		p.Notice = "The changes are saved."
	case "disabled":
		p.Notice = "The user is disabled: they cannot log in, and their tokens no longer work."
	case "enabled":
		p.Notice = "The user is enabled."
	case "revoked":
		// Only a number comes back from the query, never text to show.
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err == nil && n >= 0 {
			p.Notice = fmt.Sprintf("%d live login tokens are revoked: the user must log in again.", n)
		}
	}
	s.renderUser(w, r, p, nil, "")
}

// renderUser shows a user, with the fields of revealed in plain.
func (s *Server) renderUser(w http.ResponseWriter, r *http.Request, p page, revealed []usercenter.PIIField, reason string) {
	ctx, actor := r.Context(), actorFrom(r.Context())
	id := r.PathValue("user")
	var (
		u   *usercenter.User
		err error
	)
	if len(revealed) > 0 {
		u, err = s.svc.RevealUser(ctx, actor, id, revealed, reason)
	} else {
		u, err = s.svc.GetUser(ctx, actor, id, nil)
	}
	if err != nil {
		if len(revealed) > 0 && usercenter.ErrorCode(err) == usercenter.EInvalid {
			s.formFailed(w, r, err, func(p page) { s.renderUser(w, r, p, nil, "") })
			return
		}
		s.failErr(w, r, err)
		return
	}
	d := userData{page: p, User: u, Revealed: revealed, Reason: reason, PII: usercenter.PIIFields}
	for prov := range u.ThirdParty {
		d.Providers = append(d.Providers, prov)
	}
	slices.Sort(d.Providers)
	if d.LiveTokens, err = s.svc.LiveTokens(ctx, actor, id); err != nil {
		s.failErr(w, r, err)
		return
	}
	if d.Events, _, err = s.svc.AuditPage(ctx, actor, usercenter.AuditFilter{UserID: id, NewestFirst: true, Limit: userEventsShown}); err == nil {
		err = s.withAccountNames(r, &d.page)
	}
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if len(revealed) > 0 {
		w.Header().Set("Cache-Control", "no-store")
	}
	s.show(w, r, p, "user", d)
}

func (s *Server) revealUser(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r) {
		return
	}
	var fields []usercenter.PIIField
	for _, f := range r.PostForm["field"] {
		if !slices.Contains(usercenter.PIIFields, usercenter.PIIField(f)) {
			s.failErr(w, r, &usercenter.Error{Code: usercenter.EInvalid, Message: "only a phone, email or address can be revealed, not " + strconv.Quote(usercenter.ClipName(f, 32))})
			return
		}
		fields = append(fields, usercenter.PIIField(f))
	}
	if len(fields) == 0 {
		p := s.page(r)
		p.Error, p.status = "Choose what to reveal: phone, email or address.", http.StatusBadRequest
		s.renderUser(w, r, p, nil, "")
		return
	}
	s.renderUser(w, r, s.page(r), fields, r.PostFormValue("reason"))
}

type editData struct {
	page
	User *usercenter.User
}

func (s *Server) editUserPage(w http.ResponseWriter, r *http.Request) {
	s.renderEdit(w, r, s.page(r))
}

func (s *Server) renderEdit(w http.ResponseWriter, r *http.Request, p page) {
	u, err := s.svc.GetUser(r.Context(), actorFrom(r.Context()), r.PathValue("user"), nil)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.show(w, r, p, "edit", editData{page: p, User: u})
}

// editFields are the profile fields the edit form sends as they are; the
// personal data (phone, email, address) changes only when a new value is
// typed, since the form never holds the stored one.
var editFields = []struct {
	name string
	set  func(*core.UserPatch, *string)
}{
	{"nickname", func(p *core.UserPatch, v *string) { p.Nickname = v }},
	{"avatar", func(p *core.UserPatch, v *string) { p.Avatar = v }},
	{"city", func(p *core.UserPatch, v *string) { p.City = v }},
	{"province", func(p *core.UserPatch, v *string) { p.Province = v }},
	{"nationality", func(p *core.UserPatch, v *string) { p.Nationality = v }},
	{"lang", func(p *core.UserPatch, v *string) { p.Lang = v }},
	{"timezone", func(p *core.UserPatch, v *string) { p.Timezone = v }},
	{"sex", func(p *core.UserPatch, v *string) { p.Sex = v }},
	{"signature", func(p *core.UserPatch, v *string) { p.Signature = v }},
	{"remark", func(p *core.UserPatch, v *string) { p.Remark = v }},
}

func (s *Server) editUser(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r) {
		return
	}
	var p core.UserPatch
	for _, f := range editFields {
		if vs, ok := r.PostForm[f.name]; ok {
			v := vs[0]
			f.set(&p, &v)
		}
	}
	for name, dst := range map[string]**string{"phone": &p.Phone, "email": &p.Email, "address": &p.Address} {
		if v := strings.TrimSpace(r.PostFormValue(name)); v != "" {
			*dst = &v
		}
	}
	id := r.PathValue("user")
	if _, err := s.svc.UpdateUser(r.Context(), actorFrom(r.Context()), id, p); err != nil {
		s.formFailed(w, r, err, func(p page) { s.renderEdit(w, r, p) })
		return
	}
	seeOther(w, r, "/console/users/"+url.PathEscape(id)+"?done=saved")
}

func (s *Server) setUserStatus(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r) {
		return
	}
	var st usercenter.UserStatus
	done := ""
	switch r.PostFormValue("status") {
	case "0":
		st, done = usercenter.UserDisabled, "disabled"
	case "1":
		st, done = usercenter.UserActive, "enabled"
	default:
		s.failErr(w, r, usercenter.Invalid(usercenter.FieldStatus, "must be active or disabled"))
		return
	}
	id := r.PathValue("user")
	if _, err := s.svc.UpdateUser(r.Context(), actorFrom(r.Context()), id, core.UserPatch{Status: &st}); err != nil {
		s.failErr(w, r, err)
		return
	}
	seeOther(w, r, "/console/users/"+url.PathEscape(id)+"?done="+done)
}

// revokeUserTokens ends every login token of the user at once; the page
// then says how many were live.
func (s *Server) revokeUserTokens(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r) {
		return
	}
	id := r.PathValue("user")
	n, err := s.svc.RevokeUserTokens(r.Context(), actorFrom(r.Context()), id)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	seeOther(w, r, "/console/users/"+url.PathEscape(id)+"?done=revoked&n="+strconv.Itoa(n))
}

type deletedData struct {
	page
	UserID string
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	if !s.form(w, r) {
		return
	}
	id := r.PathValue("user")
	if r.PostFormValue("confirm") != id {
		p := s.page(r)
		p.Error, p.status = "To delete the user, type their UserId exactly in the box.", http.StatusBadRequest
		s.renderUser(w, r, p, nil, "")
		return
	}
	if err := s.svc.DeleteUser(r.Context(), actorFrom(r.Context()), id); err != nil {
		s.failErr(w, r, err)
		return
	}
	p := s.page(r)
	s.show(w, r, p, "deleted", deletedData{page: p, UserID: id})
}

// Shows reports whether field f is shown in plain.
func (d userData) Shows(f usercenter.PIIField) bool { return slices.Contains(d.Revealed, f) }

// Value is the user's value of a personal-data field, masked unless
// revealed.
func (d userData) Value(f usercenter.PIIField) string {
	switch f {
	case usercenter.FieldPhone:
		return d.User.Phone
	case usercenter.FieldEmail:
		return d.User.Email
	}
	return d.User.Address
}
