package scim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"usercenter"
	"usercenter/core"
	"usercenter/obs"
)

// Paging of GET /Users.
const (
	// maxCount is the most users a page holds; a larger count gets a
	// page of maxCount, as RFC 7644 §3.4.2.4 allows.
	maxCount = 100
	// maxStartIndex bounds offset paging, which reads every user before
	// the page: past it, a client must filter (cursor paging is to come).
	maxStartIndex = 10000
)

// getUser answers GET /Users/{id}.
func (a *api) getUser(w http.ResponseWriter, r *http.Request, c *call) {
	u, err := a.svc.GetUser(r.Context(), c.actor, c.id, c.reveal())
	if err != nil {
		fail(w, r, err)
		return
	}
	writeUser(w, r, c, http.StatusOK, toResource(u, c.base, c.withPII()))
}

// writeUser answers one user, with its version as the ETag, and the
// attributes the call asks for.
func writeUser(w http.ResponseWriter, r *http.Request, c *call, status int, res *userResource) {
	w.Header().Set("ETag", res.Meta.Version)
	if status == http.StatusCreated {
		w.Header().Set("Location", res.Meta.Location)
	}
	writeJSON(w, r, status, c.proj.apply(res))
}

// createUser answers POST /Users.
func (a *api) createUser(w http.ResponseWriter, r *http.Request, c *call) {
	body, err := readBody(w, r)
	if err != nil {
		fail(w, r, err)
		return
	}
	var in userInput
	if err := json.Unmarshal(body, &in); err != nil {
		var se *scimError
		if errors.As(err, &se) {
			fail(w, r, se)
			return
		}
		fail(w, r, badRequest(typeInvalidSyntax, "the body must be a JSON object of the User schema"))
		return
	}
	p, err := in.patch()
	if err != nil {
		fail(w, r, err)
		return
	}
	users, err := a.svc.CreateUsers(r.Context(), c.actor, c.app, []core.UserPatch{p})
	if err != nil {
		fail(w, r, err)
		return
	}
	u := &users[0]
	if c.withPII() {
		// The answer shows what was stored, normalised: reading it back in
		// plain is a disclosure like any other, audited.
		if u, err = a.svc.GetUser(r.Context(), c.actor, u.ID, c.reveal()); err != nil {
			fail(w, r, err)
			return
		}
	}
	writeUser(w, r, c, http.StatusCreated, toResource(u, c.base, c.withPII()))
}

// deleteUser answers DELETE /Users/{id}, if the user is at the version
// If-Match names.
func (a *api) deleteUser(w http.ResponseWriter, r *http.Request, c *call) {
	if err := a.svc.DeleteUserIf(r.Context(), c.actor, c.id, ifMatch(r)); err != nil {
		fail(w, r, err)
		return
	}
	writeNoContent(w, r)
}

// putUser answers PUT /Users/{id}: the user becomes the resource sent
// (see userInput.replacement).
func (a *api) putUser(w http.ResponseWriter, r *http.Request, c *call) {
	a.update(w, r, c, func(body []byte, cur *usercenter.User) (core.UserPatch, error) {
		var in userInput
		if !isJSONObject(body) {
			return core.UserPatch{}, badRequest(typeInvalidSyntax, "the body must be a JSON object of the User schema")
		}
		if err := json.Unmarshal(body, &in); err != nil {
			var se *scimError
			if errors.As(err, &se) {
				return core.UserPatch{}, se
			}
			return core.UserPatch{}, badRequest(typeInvalidSyntax, "the body must be a JSON object of the User schema")
		}
		return in.replacement(cur, c.withPII())
	})
}

// patchUser answers PATCH /Users/{id} (see patch.go).
func (a *api) patchUser(w http.ResponseWriter, r *http.Request, c *call) {
	a.update(w, r, c, parsePatch)
}

// update answers a PUT or a PATCH: it reads the user, lets compute turn
// the body into one patch over it, and has core apply that patch whole,
// under If-Match's version, in one transaction. A patch that changes
// nothing writes nothing, so the answer keeps the ETag.
func (a *api) update(w http.ResponseWriter, r *http.Request, c *call, compute func(body []byte, cur *usercenter.User) (core.UserPatch, error)) {
	body, err := readBody(w, r)
	if err != nil {
		fail(w, r, err)
		return
	}
	// Read as a provider without pii.read would: personal data masked,
	// nothing revealed, so nothing audited. compute only needs to know
	// whether a value is there.
	cur, err := a.svc.GetUser(r.Context(), c.actor, c.id, nil)
	if err != nil {
		fail(w, r, err)
		return
	}
	p, err := compute(body, cur)
	if err != nil {
		fail(w, r, err)
		return
	}
	p.If = ifMatch(r)
	u, err := a.svc.UpdateUser(r.Context(), c.actor, c.id, p)
	if err != nil {
		fail(w, r, err)
		return
	}
	if c.withPII() {
		if u, err = a.svc.GetUser(r.Context(), c.actor, c.id, c.reveal()); err != nil {
			fail(w, r, err)
			return
		}
	}
	writeUser(w, r, c, http.StatusOK, toResource(u, c.base, c.withPII()))
}

// ifMatch reads If-Match (RFC 7232 §3.1) as core's precondition: nil for
// none or "*", else the versions it names. An entity tag that is not one
// of this server's matches no version, so the write fails with 412.
func ifMatch(r *http.Request) *core.Precondition {
	values := r.Header.Values("If-Match")
	if len(values) == 0 {
		return nil
	}
	cond := &core.Precondition{}
	for _, v := range values {
		for tag := range strings.SplitSeq(v, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" {
				return nil
			}
			if at, ok := parseVersion(tag); ok {
				cond.UpdatedAt = append(cond.UpdatedAt, at)
			}
		}
	}
	return cond
}

func writeNoContent(w http.ResponseWriter, r *http.Request) {
	obs.FromContext(r.Context()).SetResult(strconv.Itoa(http.StatusNoContent), nil)
	w.WriteHeader(http.StatusNoContent)
}

// listResponse is RFC 7644's ListResponse.
type listResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

// listUsers answers GET /Users: a page of the app's users in creation
// order, or the users a filter selects.
func (a *api) listUsers(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	start, count, err := paging(q.Get("startIndex"), q.Get("count"))
	if err != nil {
		fail(w, r, err)
		return
	}
	a.list(w, r, c, q.Get("filter"), start, count)
}

// searchRequest is RFC 7644's SearchRequest (§3.4.3), as far as this
// server answers it.
type searchRequest struct {
	Filter             string   `json:"filter"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
}

// search answers POST /Users/.search: GET /Users with its parameters in
// the body, which keeps a filter's values out of URLs and their logs.
func (a *api) search(w http.ResponseWriter, r *http.Request, c *call) {
	body, err := readBody(w, r)
	if err != nil {
		fail(w, r, err)
		return
	}
	var in searchRequest
	if err := json.Unmarshal(body, &in); err != nil {
		fail(w, r, badRequest(typeInvalidSyntax, "the body must be a JSON object of the SearchRequest schema"))
		return
	}
	itoa := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	start, count, err := paging(itoa(in.StartIndex), itoa(in.Count))
	if err != nil {
		fail(w, r, err)
		return
	}
	if len(in.Attributes) > 0 || len(in.ExcludedAttributes) > 0 {
		c.proj = parseProjection(in.Attributes, in.ExcludedAttributes)
	}
	a.list(w, r, c, in.Filter, start, count)
}

// list answers a page of the users filter selects (every user when it is
// empty).
func (a *api) list(w http.ResponseWriter, r *http.Request, c *call, filterText string, start, count int) {
	var (
		users []usercenter.User
		total int
	)
	if filterText != "" {
		f, err := parseFilter(filterText)
		if err != nil {
			fail(w, r, err)
			return
		}
		if users, err = a.filtered(r, c, f); err != nil {
			fail(w, r, err)
			return
		}
		total = len(users)
		users = users[min(start-1, len(users)):]
		users = users[:min(count, len(users))]
	} else {
		q := core.UserQuery{SdkAppID: c.app, Offset: start - 1, Limit: max(count, 1), WithTotal: true, Reveal: c.reveal()}
		if count == 0 {
			// Only the total is answered: nothing is disclosed, so nothing
			// is revealed (and audited).
			q.Reveal = nil
		}
		page, err := a.svc.ListUsers(r.Context(), c.actor, q)
		if err != nil {
			fail(w, r, err)
			return
		}
		users, total = page.Users[:min(count, len(page.Users))], page.Total
	}
	out := listResponse{Schemas: []string{schemaList}, TotalResults: total, StartIndex: start, Resources: []any{}}
	for i := range users {
		out.Resources = append(out.Resources, c.proj.apply(toResource(&users[i], c.base, c.withPII())))
	}
	out.ItemsPerPage = len(out.Resources)
	writeJSON(w, r, http.StatusOK, out)
}

// filtered finds the users a filter selects: by id, or by one exact
// lookup of the listing, narrowed by active.
func (a *api) filtered(r *http.Request, c *call, f *userFilter) ([]usercenter.User, error) {
	var users []usercenter.User
	if f.id != "" {
		u, err := a.svc.GetUser(r.Context(), c.actor, f.id, c.reveal())
		if err != nil {
			if e := usercenter.ErrorOf(err); e.Code == usercenter.ENotFound && e.Resource == usercenter.ResourceUser || e.Field == usercenter.FieldUserID {
				return nil, nil // no such user: an empty list
			}
			return nil, err
		}
		users = []usercenter.User{*u}
	} else {
		q := core.UserQuery{SdkAppID: c.app, OriginID: f.userName, ExternalID: f.externalID, Email: f.email, Phone: f.phone, Limit: maxCount, Reveal: c.reveal()}
		page, err := a.svc.ListUsers(r.Context(), c.actor, q)
		if e := usercenter.ErrorOf(err); err != nil && e.Code == usercenter.EInvalid &&
			(e.Field == usercenter.FieldOriginID || e.Field == usercenter.FieldExternalID || e.Field == usercenter.FieldEmail || e.Field == usercenter.FieldPhone) {
			// A value no user can have (Entra asks for "non-existent
			// user", with a space) finds nobody.
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		users = page.Users
	}
	if f.active != nil {
		kept := users[:0]
		for _, u := range users {
			if (u.Status == usercenter.UserActive) == *f.active {
				kept = append(kept, u)
			}
		}
		users = kept
	}
	return users, nil
}

// paging reads startIndex (from 1; less is 1) and count (0 to maxCount;
// less is 0, more is maxCount), as RFC 7644 §3.4.2.4 reads them.
func paging(startParam, countParam string) (start, count int, err error) {
	start, count = 1, maxCount
	if startParam != "" {
		n, err := strconv.Atoi(startParam)
		if err != nil {
			return 0, 0, badRequest(typeInvalidValue, "startIndex must be an integer")
		}
		if n > maxStartIndex {
			return 0, 0, badRequest(typeInvalidValue, "startIndex must be at most %d: offset paging reads every user before the page; filter instead (cursor paging is to come)", maxStartIndex)
		}
		start = max(n, 1)
	}
	if countParam != "" {
		n, err := strconv.Atoi(countParam)
		if err != nil {
			return 0, 0, badRequest(typeInvalidValue, "count must be an integer")
		}
		count = min(max(n, 0), maxCount)
	}
	return start, count, nil
}
