package console

import (
	"net/http"
	"strconv"
	"strings"

	"usercenter"
	"usercenter/core"
)

// The console accounts' pages, for an admin of every app. core refuses
// everyone else (core.ChangeConsoleAccount and the others check
// Actor.ManagesConsole); the pages only spare them a form they cannot use.

// accountsView is the data of accounts.html.
type accountsView struct {
	Accounts []usercenter.ConsoleAccount
	Locked   map[string]bool // by account ID
	// Invited and Link are the account just invited and its one-time
	// link, shown once.
	Invited *usercenter.ConsoleAccount
	Link    string
	Email   string
	Role    string
	Apps    string
	Error   string
}

func (s *Server) accountsView(r *http.Request) (*accountsView, error) {
	list, err := s.svc.ConsoleAccounts(r.Context(), actorFrom(r.Context()))
	if err != nil {
		return nil, err
	}
	v := &accountsView{Accounts: list, Locked: map[string]bool{}, Role: string(usercenter.RoleViewer)}
	now := s.svc.Now()
	for _, a := range list {
		v.Locked[a.ID] = a.Locked(now)
	}
	return v, nil
}

func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.accountsView(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.render(w, r, "accounts.html", v)
}

// parseApps reads a comma-separated list of SdkAppIds; "" is every app.
func parseApps(s string) ([]uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []uint64
	for f := range strings.SplitSeq(s, ",") {
		id, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, usercenter.Invalid(usercenter.FieldKeyApps, "must be SdkAppIds separated by commas, or empty for every app")
		}
		out = append(out, id)
	}
	return out, nil
}

func (s *Server) inviteAccount(w http.ResponseWriter, r *http.Request) {
	v, err := s.accountsView(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	v.Email, v.Role, v.Apps = r.PostFormValue("email"), r.PostFormValue("role"), r.PostFormValue("apps")
	apps, err := parseApps(v.Apps)
	if err == nil {
		var acc *usercenter.ConsoleAccount
		var token string
		acc, token, err = s.svc.CreateConsoleAccount(r.Context(), actorFrom(r.Context()), v.Email, usercenter.ConsoleRole(v.Role), apps)
		if err == nil {
			v, err = s.accountsView(r)
			if err != nil {
				s.failErr(w, r, err)
				return
			}
			v.Invited, v.Link = acc, baseURL(r)+"/console/link/"+token
			s.render(w, r, "accounts.html", v)
			return
		}
	}
	status, msg := fromDomain(err)
	if status >= 500 || status == http.StatusForbidden {
		s.failErr(w, r, err)
		return
	}
	v.Error = msg
	s.renderStatus(w, r, status, "accounts.html", v)
}

// accountView is the data of account.html.
type accountView struct {
	Account usercenter.ConsoleAccount
	Locked  bool
	Apps    string
	Link    string // a new one-time link, shown once
	Done    string
	Error   string
}

func (s *Server) loadAccount(r *http.Request) (*accountView, error) {
	acc, err := s.svc.ConsoleAccount(r.Context(), actorFrom(r.Context()), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	v := &accountView{Account: *acc, Locked: acc.Locked(s.svc.Now())}
	if acc.Apps != nil {
		ids := make([]string, len(acc.Apps))
		for i, id := range acc.Apps {
			ids[i] = strconv.FormatUint(id, 10)
		}
		v.Apps = strings.Join(ids, ",")
	}
	return v, nil
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.loadAccount(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	s.render(w, r, "account.html", v)
}

// changeAccount applies one of the account page's forms, named by its
// button's "action".
func (s *Server) changeAccount(w http.ResponseWriter, r *http.Request) {
	ctx, actor, id := r.Context(), actorFrom(r.Context()), r.PathValue("id")
	var (
		change core.ConsoleAccountChange
		done   string
		link   string
		err    error
	)
	switch r.PostFormValue("action") {
	case "save":
		role := usercenter.ConsoleRole(r.PostFormValue("role"))
		var apps []uint64
		apps, err = parseApps(r.PostFormValue("apps"))
		change.Role, change.Apps, done = &role, &apps, "Saved the role and apps."
	case "disable":
		change.Disable, done = true, "Disabled the account; its sessions have ended."
	case "enable":
		change.Enable, done = true, "Enabled the account."
	case "reset-2fa":
		change.ResetTwoFactor, done = true, "Removed two-factor: the password alone signs in until it enrols again."
	case "unlock":
		change.Unlock, done = true, "Lifted the lock."
	case "link":
		var token string
		token, err = s.svc.NewConsoleLink(ctx, actor, id)
		link, done = baseURL(r)+"/console/link/"+token, "Made a new one-time link."
	default:
		s.fail(w, r, http.StatusBadRequest, "The form named no action this page knows.")
		return
	}
	if err == nil && link == "" {
		_, err = s.svc.ChangeConsoleAccount(ctx, actor, id, change)
	}
	if err != nil {
		status, msg := fromDomain(err)
		if status != http.StatusBadRequest {
			s.failErr(w, r, err)
			return
		}
		v, lerr := s.loadAccount(r)
		if lerr != nil {
			s.failErr(w, r, lerr)
			return
		}
		v.Error = msg
		s.renderStatus(w, r, status, "account.html", v)
		return
	}
	v, err := s.loadAccount(r)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	v.Done, v.Link = done, link
	s.render(w, r, "account.html", v)
}
