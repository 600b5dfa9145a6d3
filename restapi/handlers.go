package restapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/httpio"
	"usercenter/obs"
)

// respond writes a JSON answer.
func respond(w http.ResponseWriter, r *http.Request, status int, v any) {
	obs.FromContext(r.Context()).Result = "ok"
	httpio.WriteJSON(w, status, "application/json", v)
}

func (a *api) handleCreateUser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		appID, err := parseAppID(r.PathValue("sdkAppId"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		patch, err := decodeUserBody(w, r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		users, err := a.svc.CreateUsers(r.Context(), actorFrom(r.Context()), appID, []core.UserPatch{patch})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		u := &users[0]
		w.Header().Set("Location", "/v1/users/"+url.PathEscape(u.ID))
		respond(w, r, http.StatusCreated, toUserJSON(u))
	})
}

func (a *api) handleGetUser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fields, err := parseReveal(r.URL.Query())
		if err != nil {
			a.fail(w, r, err)
			return
		}
		u, err := a.svc.GetUser(r.Context(), actorFrom(r.Context()), r.PathValue("userId"), fields)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		respond(w, r, http.StatusOK, toUserJSON(u))
	})
}

func (a *api) handleUpdateUser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		patch, err := decodeUserBody(w, r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		u, err := a.svc.UpdateUser(r.Context(), actorFrom(r.Context()), r.PathValue("userId"), patch)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		respond(w, r, http.StatusOK, toUserJSON(u))
	})
}

func (a *api) handleDeleteUser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.svc.DeleteUser(r.Context(), actorFrom(r.Context()), r.PathValue("userId")); err != nil {
			a.fail(w, r, err)
			return
		}
		obs.FromContext(r.Context()).Result = "ok"
		w.WriteHeader(http.StatusNoContent)
	})
}

// subjectExport is the answer of GET /v1/users/{userId}/subject-export.
type subjectExport struct {
	User        userJSON    `json:"user"`
	AuditEvents []auditJSON `json:"auditEvents"`
	LiveTokens  int         `json:"liveTokens"`
	ExportedAt  string      `json:"exportedAt"`
}

func (a *api) handleExportSubject() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x, err := a.svc.ExportSubject(r.Context(), actorFrom(r.Context()), r.PathValue("userId"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		out := subjectExport{User: toUserJSON(&x.User), AuditEvents: make([]auditJSON, len(x.AuditEvents)), LiveTokens: x.LiveTokens, ExportedAt: timeJSON(x.ExportedAt)}
		for i := range x.AuditEvents {
			out.AuditEvents[i] = toAuditJSON(&x.AuditEvents[i])
		}
		respond(w, r, http.StatusOK, out)
	})
}

// erasure is the answer of POST /v1/users/{userId}:erase.
type erasure struct {
	ErasedAuditEvents int `json:"erasedAuditEvents"`
}

func (a *api) handleEraseUser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := a.svc.EraseUser(r.Context(), actorFrom(r.Context()), r.PathValue("userId"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		respond(w, r, http.StatusOK, erasure{ErasedAuditEvents: n})
	})
}

// lookupParams are the query parameters of an exact lookup.
var lookupParams = []string{"originId", "phone", "email", "provider", "providerUserId"}

func (a *api) handleListUsers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		appID, err := parseAppID(r.PathValue("sdkAppId"))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		q := r.URL.Query()
		fields, err := parseReveal(q)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		actor := actorFrom(r.Context())
		if slices.ContainsFunc(lookupParams, q.Has) {
			l, err := parseLookup(q)
			if err != nil {
				a.fail(w, r, err)
				return
			}
			l.SdkAppID, l.Reveal, l.Limit = appID, fields, core.MaxPageSize
			page, err := a.svc.ListUsers(r.Context(), actor, l)
			if err != nil {
				a.fail(w, r, err)
				return
			}
			respond(w, r, http.StatusOK, userList{Users: toUserList(page.Users)})
			return
		}
		limit, err := parseLimit(q)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		cursor, err := single(q, "next")
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if q.Has("next") && cursor == "" {
			a.fail(w, r, invalidParam("next", "next must be a cursor returned by this API; leave it out for the first page"))
			return
		}
		page, err := a.svc.ListUsers(r.Context(), actor, core.UserQuery{SdkAppID: appID, Cursor: cursor, Limit: limit, Reveal: fields})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		out := userList{Users: toUserList(page.Users)}
		if page.Next != "" {
			out.Next = &page.Next
		}
		respond(w, r, http.StatusOK, out)
	})
}

// handleMe answers the user the bearer token authenticated.
func (a *api) handleMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respond(w, r, http.StatusOK, toUserJSON(userFrom(r.Context())))
	})
}

func (a *api) handleListAudit() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := parseAuditFilter(r.URL.Query())
		if err != nil {
			a.fail(w, r, err)
			return
		}
		events, next, err := a.svc.AuditPage(r.Context(), actorFrom(r.Context()), f)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		out := auditList{Events: make([]auditJSON, len(events))}
		for i := range events {
			out.Events[i] = toAuditJSON(&events[i])
		}
		if next != 0 {
			cursor := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(next, 10)))
			out.Next = &cursor
		}
		respond(w, r, http.StatusOK, out)
	})
}

// Parameter parsing. Every failure names the parameter in Field.

func invalidParam(name, detail string) *problem {
	return &problem{Code: "invalid_field", Field: name, Detail: detail}
}

// parseQuery parses a raw query strictly.
func parseQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, &problem{Code: "invalid_field", Detail: "the query string is malformed: use name=value pairs joined by &, percent-encoded"}
	}
	return q, nil
}

// single returns the one value of a parameter, "" if absent.
func single(q url.Values, name string) (string, error) {
	switch v := q[name]; len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	}
	return "", invalidParam(name, name+" must be given at most once")
}

func parseAppID(s string) (uint64, error) {
	id, ok := usercenter.ParseSdkAppID(s)
	if !ok {
		return 0, invalidParam("sdkAppId", "sdkAppId must be a positive integer in decimal, without sign or leading zeros")
	}
	return id, nil
}

// parseLimit reads a page size between 1 and core.MaxListLimit, by
// default core.DefaultListLimit.
func parseLimit(q url.Values) (int, error) {
	s, err := single(q, "limit")
	if err != nil || !q.Has("limit") {
		return core.DefaultListLimit, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > core.MaxListLimit || strings.HasPrefix(s, "+") {
		return 0, invalidParam("limit", "limit must be an integer between 1 and "+strconv.Itoa(core.MaxListLimit))
	}
	return n, nil
}

// parseReveal reads ?reveal=phone,email,address; it may be repeated.
func parseReveal(q url.Values) ([]usercenter.PIIField, error) {
	var out []usercenter.PIIField
	for _, v := range q["reveal"] {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			f := usercenter.PIIField(name)
			if !slices.Contains(usercenter.PIIFields, f) {
				return nil, invalidParam("reveal", "cannot reveal "+quote(name)+": reveal lists phone, email and address, separated by commas")
			}
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// parseLookup reads the parameters of an exact lookup, which take no
// pagination: a lookup returns every match.
func parseLookup(q url.Values) (core.UserQuery, error) {
	var l core.UserQuery
	for _, name := range []string{"limit", "next"} {
		if q.Has(name) {
			return l, invalidParam(name, name+" cannot be combined with a lookup by "+strings.Join(lookupParams, ", "))
		}
	}
	dst := map[string]*string{"originId": &l.OriginID, "phone": &l.Phone, "email": &l.Email, "providerUserId": &l.ProviderUserID}
	for _, name := range lookupParams {
		if !q.Has(name) {
			continue
		}
		v, err := single(q, name)
		if err != nil {
			return l, err
		}
		if strings.TrimSpace(v) == "" {
			return l, invalidParam(name, name+" must not be empty")
		}
		if name == "provider" {
			l.Provider = usercenter.Provider(v)
		} else {
			*dst[name] = v
		}
	}
	n := 0
	for _, set := range []bool{l.OriginID != "", l.Phone != "", l.Email != "", l.Provider != "" || l.ProviderUserID != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return l, invalidParam("lookup", "give exactly one of originId, phone, email, or provider with providerUserId")
	}
	return l, nil
}

// auditActionList names every audit action: "reveal, deliver, …".
func auditActionList() string {
	names := make([]string, len(usercenter.AuditActions))
	for i, a := range usercenter.AuditActions {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

// maxFilterLen bounds the free-text audit filters.
const maxFilterLen = 256

func parseAuditFilter(q url.Values) (usercenter.AuditFilter, error) {
	var f usercenter.AuditFilter
	get := func(name string) (string, error) {
		v, err := single(q, name)
		switch {
		case err != nil:
		case q.Has(name) && v == "":
			err = invalidParam(name, name+" must not be empty; leave it out to match any")
		case len(v) > maxFilterLen:
			err = invalidParam(name, name+" is too long")
		}
		return v, err
	}
	if s, err := get("sdkAppId"); err != nil {
		return f, err
	} else if s != "" {
		if f.SdkAppID, err = parseAppID(s); err != nil {
			return f, err
		}
	}
	var err error
	if f.UserID, err = get("userId"); err != nil {
		return f, err
	}
	if f.Field, err = get("field"); err != nil {
		return f, err
	}
	if f.Actor, err = get("actor"); err != nil {
		return f, err
	}
	s, err := get("action")
	if err != nil {
		return f, err
	}
	if s != "" {
		if !usercenter.AuditAction(s).Valid() {
			return f, invalidParam("action", "action must be one of "+auditActionList())
		}
		f.Action = usercenter.AuditAction(s)
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		name, dst := t.name, t.dst
		s, err := get(name)
		if err != nil {
			return f, err
		}
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return f, invalidParam(name, name+" must be an RFC 3339 time such as 2025-01-31T08:00:00Z")
		}
		*dst = t
	}
	switch order, err := get("order"); {
	case err != nil:
		return f, err
	case order == "" || order == "newest":
		f.NewestFirst = true
	case order != "oldest":
		return f, invalidParam("order", "order must be newest or oldest")
	}
	if f.Limit, err = parseLimit(q); err != nil {
		return f, err
	}
	if s, err := get("next"); err != nil {
		return f, err
	} else if s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		id, perr := strconv.ParseInt(string(b), 10, 64)
		if err != nil || perr != nil || id < 1 || strconv.FormatInt(id, 10) != string(b) {
			return f, invalidParam("next", "next must be a cursor returned by this API")
		}
		// The cursor is the last ID of the page before, in the order
		// asked for: the client repeats its order with it.
		if f.NewestFirst {
			f.BeforeID = id
		} else {
			f.AfterID = id
		}
	}
	return f, nil
}
