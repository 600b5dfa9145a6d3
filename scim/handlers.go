package scim

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

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
	// the page: past it, a client pages by cursor.
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
// in one transaction, to the version read: a write that slipped in
// between would make the patch wrong (a link removed that was not seen),
// so then it starts again, up to maxUpdateAttempts times. If-Match must
// name the version read. A patch that changes nothing writes nothing, so
// the answer keeps the ETag.
//
// The first read may be of this node's copy of the user (GetUser), which
// can be older than the store's until another node's write reaches it;
// once the version read has proved stale (core refused it, or it is not
// the one If-Match names), the user is read as committed (GetUserLatest),
// else every attempt would read the same old copy.
func (a *api) update(w http.ResponseWriter, r *http.Request, c *call, compute func(body []byte, cur *usercenter.User) (core.UserPatch, error)) {
	body, err := readBody(w, r)
	if err != nil {
		fail(w, r, err)
		return
	}
	client := ifMatch(r)
	read := a.svc.GetUser
	var u *usercenter.User
	for attempt := 1; ; attempt++ {
		// Read as a provider without pii.read would: personal data
		// masked, nothing revealed, so nothing audited. compute only
		// needs to know whether a value is there.
		cur, err := read(r.Context(), c.actor, c.id, nil)
		if err != nil {
			fail(w, r, err)
			return
		}
		if client != nil && !slices.ContainsFunc(client.UpdatedAt, cur.UpdatedAt.Equal) {
			if attempt == 1 {
				read = a.svc.GetUserLatest
				continue
			}
			fail(w, r, core.ErrStale)
			return
		}
		p, err := compute(body, cur)
		if err != nil {
			fail(w, r, err)
			return
		}
		p.If = &core.Precondition{UpdatedAt: []time.Time{cur.UpdatedAt}}
		u, err = a.svc.UpdateUser(r.Context(), c.actor, c.id, p)
		if usercenter.ErrorCode(err) == usercenter.EStale && client == nil {
			if attempt < maxUpdateAttempts {
				read = a.svc.GetUserLatest
				continue
			}
			err = errBusyUser
		}
		if err != nil {
			fail(w, r, err)
			return
		}
		break
	}
	if c.withPII() {
		if u, err = a.svc.GetUser(r.Context(), c.actor, c.id, c.reveal()); err != nil {
			fail(w, r, err)
			return
		}
	}
	writeUser(w, r, c, http.StatusOK, toResource(u, c.base, c.withPII()))
}

// maxUpdateAttempts bounds how often update starts again because the user
// changed under it; each attempt is a read and a write of the one user.
const maxUpdateAttempts = 3

var errBusyUser = &scimError{Status: http.StatusConflict, Detail: "the user kept changing while this request was applied; retry it"}

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

// listResponse is RFC 7644's ListResponse, with RFC 9865's nextCursor.
// A cursor page has no startIndex, and no totalResults: counting would
// read every user of the app for each page of a walk.
type listResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults *int     `json:"totalResults,omitempty"`
	StartIndex   *int     `json:"startIndex,omitempty"`
	ItemsPerPage int      `json:"itemsPerPage"`
	NextCursor   string   `json:"nextCursor,omitempty"`
	Resources    []any    `json:"Resources"`
}

// pageRequest is how a client pages: by index (RFC 7644 §3.4.2.4) or by
// cursor (RFC 9865).
type pageRequest struct {
	start int // from 1, index paging
	count int
	// cursor is nil for index paging, and for cursor paging the cursor
	// sent: "" for the first page.
	cursor *string
}

// listUsers answers GET /Users: a page of the app's users in creation
// order, or the users a filter selects.
func (a *api) listUsers(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	var cursor *string
	if q.Has("cursor") {
		cursor = new(string)
		*cursor = q.Get("cursor")
	}
	pg, err := paging(q.Get("startIndex"), q.Get("count"), cursor)
	if err != nil {
		fail(w, r, err)
		return
	}
	a.list(w, r, c, q.Get("filter"), pg)
}

// searchRequest is RFC 7644's SearchRequest (§3.4.3), with RFC 9865's
// cursor, as far as this server answers it.
type searchRequest struct {
	Filter             string   `json:"filter"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
	Cursor             *string  `json:"cursor"`
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
	pg, err := paging(itoa(in.StartIndex), itoa(in.Count), in.Cursor)
	if err != nil {
		fail(w, r, err)
		return
	}
	if len(in.Attributes) > 0 || len(in.ExcludedAttributes) > 0 {
		c.proj = parseProjection(in.Attributes, in.ExcludedAttributes)
	}
	a.list(w, r, c, in.Filter, pg)
}

// list answers a page of the users filter selects (every user when it is
// empty). A filter with an exact lookup selects a few users, answered
// from memory whichever way the client pages; the others page through
// the keyset listing, by cursor; offset paging serves only the whole
// app.
func (a *api) list(w http.ResponseWriter, r *http.Request, c *call, filterText string, pg pageRequest) {
	f := &userFilter{}
	if filterText != "" {
		var err error
		if f, err = parseFilter(filterText); err != nil {
			fail(w, r, err)
			return
		}
	}
	switch {
	case f.lookups() > 0:
		a.listLookup(w, r, c, f, pg)
	case pg.cursor != nil:
		a.listByCursor(w, r, c, f, pg)
	case f.active != nil || f.byModification():
		fail(w, r, badRequest(typeInvalidValue, "a filter on active or meta.lastModified alone pages by cursor (RFC 9865): send cursor= (empty for the first page) and follow each page's nextCursor"))
	default:
		a.listByIndex(w, r, c, pg)
	}
}

// listLookup answers the users of a filter with an exact lookup.
func (a *api) listLookup(w http.ResponseWriter, r *http.Request, c *call, f *userFilter, pg pageRequest) {
	if pg.cursor != nil && *pg.cursor != "" {
		// Such a filter's answer is one page: no cursor continues it.
		fail(w, r, badRequest(typeInvalidCursor, "this filter's answer is one page, which no cursor continues; send an empty cursor"))
		return
	}
	users, err := a.filtered(r, c, f)
	if err != nil {
		fail(w, r, err)
		return
	}
	total := len(users)
	out := listResponse{TotalResults: &total}
	if pg.cursor == nil {
		users = users[min(pg.start-1, len(users)):]
		out.StartIndex = &pg.start
	}
	writeList(w, r, c, out, users[:min(pg.count, len(users))])
}

// listByIndex answers a page of the app's users by offset, in creation
// order.
func (a *api) listByIndex(w http.ResponseWriter, r *http.Request, c *call, pg pageRequest) {
	q := core.UserQuery{SdkAppID: c.app, Offset: pg.start - 1, Limit: max(pg.count, 1), WithTotal: true, Reveal: c.reveal()}
	if pg.count == 0 {
		// Only the total is answered: nothing is disclosed, so nothing
		// is revealed (and audited).
		q.Reveal = nil
	}
	page, err := a.svc.ListUsers(r.Context(), c.actor, q)
	if err != nil {
		fail(w, r, err)
		return
	}
	writeList(w, r, c, listResponse{TotalResults: &page.Total, StartIndex: &pg.start}, page.Users[:min(pg.count, len(page.Users))])
}

// listByCursor answers a cursor page of the users the filter selects:
// in creation order, or in order of the last change for a filter on
// meta.lastModified.
func (a *api) listByCursor(w http.ResponseWriter, r *http.Request, c *call, f *userFilter, pg pageRequest) {
	binding := f.binding()
	after, err := a.cursors.open(c.app, binding, *pg.cursor)
	if err != nil {
		fail(w, r, err)
		return
	}
	if pg.count == 0 {
		// No users, and the same place to go on from.
		writeList(w, r, c, listResponse{NextCursor: a.cursors.seal(c.app, binding, after)}, nil)
		return
	}
	q := core.UserQuery{
		SdkAppID: c.app, Cursor: after, Limit: pg.count, Reveal: c.reveal(),
		ModifiedSince: f.modifiedSince, ModifiedUntil: f.modifiedUntil,
	}
	if f.active != nil {
		status := usercenter.UserDisabled
		if *f.active {
			status = usercenter.UserActive
		}
		q.Status = &status
	}
	page, err := a.svc.ListUsers(r.Context(), c.actor, q)
	if err != nil {
		fail(w, r, err)
		return
	}
	out := listResponse{}
	if page.Next != "" {
		out.NextCursor = a.cursors.seal(c.app, binding, page.Next)
	}
	writeList(w, r, c, out, page.Users)
}

// writeList answers a ListResponse of users.
func writeList(w http.ResponseWriter, r *http.Request, c *call, out listResponse, users []usercenter.User) {
	out.Schemas = []string{schemaList}
	out.Resources = []any{}
	for i := range users {
		out.Resources = append(out.Resources, c.proj.apply(toResource(&users[i], c.base, c.withPII())))
	}
	out.ItemsPerPage = len(out.Resources)
	writeJSON(w, r, http.StatusOK, out)
}

// filtered finds the users a filter with an exact lookup selects: by id,
// or by one lookup of the listing, narrowed by active and lastModified.
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
	return slices.DeleteFunc(users, func(u usercenter.User) bool { return !f.keeps(&u) }), nil
}

// paging reads startIndex (from 1; less is 1) and count (0 to maxCount;
// less is 0, more is maxCount), as RFC 7644 §3.4.2.4 reads them, and the
// cursor of RFC 9865, which startIndex does not go with.
func paging(startParam, countParam string, cursor *string) (pg pageRequest, err error) {
	pg = pageRequest{start: 1, count: maxCount, cursor: cursor}
	if startParam != "" {
		if cursor != nil {
			return pg, badRequest(typeInvalidValue, "startIndex and cursor cannot be combined: page by index or by cursor")
		}
		n, err := strconv.Atoi(startParam)
		if err != nil {
			return pg, badRequest(typeInvalidValue, "startIndex must be an integer")
		}
		if n > maxStartIndex {
			return pg, badRequest(typeInvalidValue, "startIndex must be at most %d: offset paging reads every user before the page; page by cursor instead (RFC 9865): send cursor= (empty for the first page) and follow each page's nextCursor", maxStartIndex)
		}
		pg.start = max(n, 1)
	}
	if countParam != "" {
		n, err := strconv.Atoi(countParam)
		if err != nil {
			return pg, badRequest(typeInvalidValue, "count must be an integer")
		}
		pg.count = min(max(n, 0), maxCount)
	}
	return pg, nil
}
