package core

import (
	"context"
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/ksuid"

	"usercenter"
)

// Limits of listing.
const (
	// MaxPageSize caps a page of users; facades may cap lower.
	MaxPageSize = 1000
	// DefaultListLimit is the page size of the audit trail when none is
	// asked for, and MaxListLimit its cap.
	DefaultListLimit = 50
	MaxListLimit     = 500
	// maxOffset keeps an offset and the page after it within an int64;
	// facades bound their page numbers lower.
	maxOffset = math.MaxInt64 - 2*MaxPageSize
	// scanFactor bounds the rows a filtered keyset page reads: at most
	// scanFactor times its limit. A page that stops there holds fewer
	// users than asked and a cursor to go on from.
	scanFactor = 10
)

// UserQuery selects users: the one listing of every facade. Users are in
// UserId order, which is creation order (a UserId starts with its
// creation time), and a page continues after a cursor (keyset paging:
// users added while a client pages through are never listed twice, and
// none that existed throughout is skipped) or, for the facades whose
// protocol pages by number, at an offset in creation order.
type UserQuery struct {
	// The app: by SdkAppId, or by its UserDomain. Neither, with an
	// OriginID lookup, looks in every app the actor may read.
	SdkAppID   uint64
	UserDomain string

	// Exact lookups, at most one: by OriginId, by phone or email (through
	// the blind index, which needs pii.read: with the masked form in hand,
	// a few thousand yes-or-no lookups would recover a number), or by a
	// third-party ID (Provider with ProviderUserID).
	OriginID       string
	Phone          string
	Email          string
	Provider       usercenter.Provider
	ProviderUserID string
	// ExternalID finds the user an identity provider knows by this ID
	// (SCIM's externalId).
	ExternalID string

	// Filters.
	Status       *usercenter.UserStatus
	CreatedSince time.Time // inclusive
	CreatedUntil time.Time // exclusive
	// A window of the last change. Either one lists the users in order
	// of their last change, (UpdatedAt, UserId), rather than creation:
	// keyset pages of an index, whatever the app's size. A user changed
	// while a client pages through moves to the end, so it may be listed
	// again, with its change; none that stayed in the window is skipped.
	ModifiedSince time.Time // inclusive
	ModifiedUntil time.Time // exclusive

	// Paging: Cursor (a previous page's Next) or Offset, and Limit
	// (1 to MaxPageSize). WithTotal also counts the app's users, for
	// offset pages.
	Cursor    string
	Offset    int
	Limit     int
	WithTotal bool

	// Newest lists the newest users first (descending UserId), for an
	// operator's view of recent sign-ups; a cursor then continues before
	// the UserId it holds. Keyset pages only: not with an offset or total.
	Newest bool

	// Reveal lists the personal data to show in plain, each disclosure
	// audited in the transaction that reads it.
	Reveal []usercenter.PIIField
	// Reason is why they are revealed, recorded with each disclosure's
	// audit event; an actor that NeedsReason must give one.
	Reason string
}

// UserPage is one page of a listing.
type UserPage struct {
	Users []usercenter.User
	// Next is the cursor of the following page, "" after the last.
	Next string
	// Total is the app's number of users, when asked for.
	Total int
}

func (q *UserQuery) lookups() int {
	n := 0
	for _, set := range []bool{q.OriginID != "", q.Phone != "", q.Email != "", q.Provider != "" || q.ProviderUserID != "", q.ExternalID != ""} {
		if set {
			n++
		}
	}
	return n
}

// ListUsers lists the users a query selects, as the actor may see them.
func (s *Service) ListUsers(ctx context.Context, actor *usercenter.Actor, q UserQuery) (*UserPage, error) {
	if err := actor.Require(usercenter.PermUsersRead); err != nil {
		return nil, err
	}
	if q.Reason != "" {
		var err error
		if ctx, err = withReason(ctx, q.Reason); err != nil {
			return nil, err
		}
	}
	if q.lookups() > 1 {
		return nil, usercenter.Invalid(usercenter.FieldOriginID, "cannot be combined with another exact lookup")
	}
	if q.SdkAppID == 0 && q.UserDomain == "" {
		if q.OriginID == "" {
			return nil, usercenter.Invalid(usercenter.FieldSdkAppID, "is required")
		}
		return s.originAcrossApps(ctx, actor, q)
	}
	app, err := s.queryApp(ctx, actor, &q)
	if err != nil {
		return nil, err
	}
	if err := q.checkPaging(); err != nil {
		return nil, err
	}
	if (q.Phone != "" || q.Email != "") && !actor.Has(usercenter.PermPIIRead) {
		return nil, usercenter.Forbidden("looking users up by phone or email needs the %s permission", usercenter.PermPIIRead)
	}
	find, err := s.finder(ctx, app, &q)
	if err != nil {
		return nil, err
	}
	page := &UserPage{}
	users, err := s.read(ctx, actor, q.Reveal, domains{app.SdkAppID: app.UserDomain}, func(r Reader) ([]UserRecord, error) {
		recs, next, total, err := find(r)
		page.Next, page.Total = next, total
		return recs, err
	})
	if err != nil {
		return nil, err
	}
	page.Users = users
	return page, nil
}

// queryApp loads the app a query names, by SdkAppId or UserDomain. A
// domain that does not exist and one outside the actor's scope are both
// not found.
func (s *Service) queryApp(ctx context.Context, actor *usercenter.Actor, q *UserQuery) (*usercenter.App, error) {
	if q.UserDomain != "" {
		if len(q.UserDomain) > 64 {
			return nil, usercenter.NotFound(usercenter.ResourceApp)
		}
		rec, err := s.store.AppByDomain(ctx, q.UserDomain)
		if err != nil {
			return nil, err
		}
		if !actor.Scoped(rec.SdkAppID) {
			return nil, usercenter.NotFound(usercenter.ResourceApp)
		}
		q.SdkAppID = rec.SdkAppID
	}
	return s.appFor(ctx, s.store, actor, q.SdkAppID, usercenter.PermUsersRead)
}

func (q *UserQuery) checkPaging() error {
	if q.Limit < 1 || q.Limit > MaxPageSize {
		return usercenter.Invalid(usercenter.FieldPageSize, "must be between 1 and %d", MaxPageSize)
	}
	if q.Offset < 0 || q.Offset > maxOffset {
		return usercenter.Invalid(usercenter.FieldPage, "is too large")
	}
	if q.Offset > 0 && q.Cursor != "" {
		return usercenter.Invalid(usercenter.FieldCursor, "cannot be combined with an offset")
	}
	if !q.CreatedSince.IsZero() && !q.CreatedUntil.IsZero() && !q.CreatedSince.Before(q.CreatedUntil) {
		return usercenter.Invalid(usercenter.FieldCreatedUntil, "must be after createdSince")
	}
	// An empty window of the last change lists nobody: a filter may well
	// ask for one.
	if q.Newest && q.byModification() {
		return usercenter.Invalid(usercenter.FieldPage, "newest first cannot be combined with a window of the last change")
	}
	if q.Status != nil && *q.Status != usercenter.UserActive && *q.Status != usercenter.UserDisabled {
		return usercenter.Invalid(usercenter.FieldStatus, "must be 0 (disabled) or 1 (normal)")
	}
	return nil
}

// match reports whether a user passes the query's filters.
func (q *UserQuery) match(u *UserRecord) bool {
	return (q.Status == nil || u.Status == *q.Status) &&
		(q.CreatedSince.IsZero() || !u.CreatedAt.Before(q.CreatedSince)) &&
		(q.CreatedUntil.IsZero() || u.CreatedAt.Before(q.CreatedUntil)) &&
		(q.ModifiedSince.IsZero() || !u.UpdatedAt.Before(q.ModifiedSince)) &&
		(q.ModifiedUntil.IsZero() || u.UpdatedAt.Before(q.ModifiedUntil))
}

func (q *UserQuery) filtered() bool {
	return q.Status != nil || !q.CreatedSince.IsZero() || !q.CreatedUntil.IsZero() || q.byModification()
}

// byModification reports whether the query lists in order of the last
// change.
func (q *UserQuery) byModification() bool {
	return !q.ModifiedSince.IsZero() || !q.ModifiedUntil.IsZero()
}

// finder returns how to read one page of the query.
func (s *Service) finder(ctx context.Context, app *usercenter.App, q *UserQuery) (func(Reader) ([]UserRecord, string, int, error), error) {
	id := app.SdkAppID
	filter := func(recs []UserRecord) []UserRecord {
		return slices.DeleteFunc(recs, func(u UserRecord) bool { return !q.match(&u) })
	}
	lookup := func(find func(Reader) ([]UserRecord, error)) func(Reader) ([]UserRecord, string, int, error) {
		return func(r Reader) ([]UserRecord, string, int, error) {
			recs, err := find(r)
			if err != nil {
				return nil, "", 0, err
			}
			recs = filter(recs)
			return recs[:min(len(recs), q.Limit)], "", 0, nil
		}
	}
	switch {
	case q.OriginID != "":
		if err := usercenter.CheckOriginID(usercenter.FieldOriginID, q.OriginID); err != nil {
			return nil, err
		}
		return lookup(func(r Reader) ([]UserRecord, error) { return one(r.UserByOrigin(ctx, id, q.OriginID)) }), nil
	case q.ExternalID != "":
		if err := usercenter.CheckExternalID(usercenter.FieldExternalID, q.ExternalID); err != nil {
			return nil, err
		}
		return lookup(func(r Reader) ([]UserRecord, error) { return one(r.UserByExternalID(ctx, id, q.ExternalID)) }), nil
	case q.Phone != "":
		phone, err := usercenter.NormalizePhone(usercenter.FieldPhone, q.Phone, app.PhoneRegion)
		if err != nil {
			return nil, err
		}
		idx := s.pii.blindIndex(id, usercenter.FieldPhone, phone)
		return lookup(func(r Reader) ([]UserRecord, error) { return r.UsersByIndex(ctx, id, usercenter.FieldPhone, idx) }), nil
	case q.Email != "":
		find, err := s.emailLookup(ctx, id, q.Email)
		if err != nil {
			return nil, err
		}
		return lookup(find), nil
	case q.Provider != "" || q.ProviderUserID != "":
		if !q.Provider.Known() {
			return nil, usercenter.Invalid(usercenter.FieldProvider, "names an unknown third-party provider %q", usercenter.ClipName(string(q.Provider), 32))
		}
		if q.ProviderUserID == "" {
			return nil, usercenter.Invalid(usercenter.FieldProviderUserID, "is required with provider")
		}
		return lookup(func(r Reader) ([]UserRecord, error) {
			return one(r.UserByLink(ctx, id, q.Provider, q.ProviderUserID))
		}), nil
	case q.Offset > 0 || q.WithTotal:
		if q.Newest {
			return nil, usercenter.Invalid(usercenter.FieldPage, "cannot be combined with newest first; page with a cursor")
		}
		if q.filtered() {
			return nil, usercenter.Invalid(usercenter.FieldPage, "cannot be combined with filters; page with a cursor")
		}
		return func(r Reader) ([]UserRecord, string, int, error) {
			recs, total, err := r.ListUsers(ctx, id, q.Offset, q.Limit)
			return recs, "", total, err
		}, nil
	}
	if q.byModification() {
		after, err := decodeModifiedCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		if after.at.Before(q.ModifiedSince) {
			after = listKey{at: q.ModifiedSince}
		}
		return func(r Reader) ([]UserRecord, string, int, error) {
			return s.scanModified(ctx, r, id, q, after)
		}, nil
	}
	after, err := decodeCursor(q.Cursor)
	if err != nil {
		return nil, err
	}
	if q.Newest {
		before := after
		if ceil := idCeiling(q.CreatedUntil); ceil != "" && (before == "" || ceil < before) {
			before = ceil
		}
		return func(r Reader) ([]UserRecord, string, int, error) {
			return s.scan(ctx, r, id, q, before)
		}, nil
	}
	if floor := idFloor(q.CreatedSince); floor > after {
		// UserIds start with their creation second: no user created since
		// then sorts before the smallest ID of the second before.
		after = floor
	}
	return func(r Reader) ([]UserRecord, string, int, error) {
		return s.scan(ctx, r, id, q, after)
	}, nil
}

// scan reads a keyset page after the UserId after (before it, newest
// first, for q.Newest): users that pass the filters, reading at most
// scanFactor times the limit, and the cursor of the next page.
func (s *Service) scan(ctx context.Context, r Reader, sdkAppID uint64, q *UserQuery, after string) ([]UserRecord, string, int, error) {
	next := r.UsersAfter
	// past reports that u, and every user the walk reads after it, is
	// outside the query's creation window.
	past := func(u *UserRecord) bool {
		return !q.CreatedUntil.IsZero() && !u.CreatedAt.Before(q.CreatedUntil) && idTime(u.ID).After(q.CreatedUntil)
	}
	if q.Newest {
		next = r.UsersBefore
		past = func(u *UserRecord) bool {
			return !q.CreatedSince.IsZero() && u.CreatedAt.Before(q.CreatedSince) && idTime(u.ID).Before(q.CreatedSince.Add(-time.Second))
		}
	}
	var out []UserRecord
	budget := q.Limit * scanFactor
	for budget > 0 {
		n := q.Limit + 1
		if q.filtered() {
			n = min(budget, max(n, 100))
		}
		recs, err := next(ctx, sdkAppID, after, n)
		if err != nil {
			return nil, "", 0, err
		}
		budget -= len(recs)
		for i := range recs {
			u := &recs[i]
			if past(u) {
				return out, "", 0, nil // sorted by creation second: nothing further matches
			}
			if !q.match(u) {
				after = u.ID
				continue
			}
			if len(out) == q.Limit {
				return out, encodeCursor(out[len(out)-1].ID), 0, nil
			}
			out = append(out, *u)
			after = u.ID
		}
		if len(recs) < n {
			return out, "", 0, nil
		}
	}
	// The scan budget ran out: go on from the last user read.
	return out, encodeCursor(after), 0, nil
}

// listKey is a place in the order of the last change: after the users
// changed before at, and those changed at it with a UserId up to id.
type listKey struct {
	at time.Time
	id string
}

// scanModified is scan in order of the last change: a keyset page of the
// window [ModifiedSince, ModifiedUntil) after the key after, whose bounds
// the store applies, so only the other filters cost reads.
func (s *Service) scanModified(ctx context.Context, r Reader, sdkAppID uint64, q *UserQuery, after listKey) ([]UserRecord, string, int, error) {
	var out []UserRecord
	budget := q.Limit * scanFactor
	for budget > 0 {
		n := q.Limit + 1
		if q.Status != nil || !q.CreatedSince.IsZero() || !q.CreatedUntil.IsZero() {
			n = min(budget, max(n, 100))
		}
		recs, err := r.UsersModifiedAfter(ctx, sdkAppID, after.at, after.id, q.ModifiedUntil, n)
		if err != nil {
			return nil, "", 0, err
		}
		budget -= len(recs)
		for i := range recs {
			u := &recs[i]
			if !q.match(u) {
				after = listKey{at: u.UpdatedAt, id: u.ID}
				continue
			}
			if len(out) == q.Limit {
				last := &out[len(out)-1]
				return out, encodeModifiedCursor(listKey{at: last.UpdatedAt, id: last.ID}), 0, nil
			}
			out = append(out, *u)
			after = listKey{at: u.UpdatedAt, id: u.ID}
		}
		if len(recs) < n {
			return out, "", 0, nil
		}
	}
	return out, encodeModifiedCursor(after), 0, nil
}

// originAcrossApps finds the users with an OriginId in every app the
// actor may read, ordered by SdkAppId. It reports ENotFound when there
// are none.
func (s *Service) originAcrossApps(ctx context.Context, actor *usercenter.Actor, q UserQuery) (*UserPage, error) {
	if err := usercenter.CheckOriginID(usercenter.FieldOriginID, q.OriginID); err != nil {
		return nil, err
	}
	apps, err := s.actorApps(ctx, actor)
	if err != nil {
		return nil, err
	}
	recs, err := s.store.UsersByOrigin(ctx, apps, q.OriginID)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, usercenter.NotFound(usercenter.ResourceUser)
	}
	known := domains{}
	for _, u := range recs {
		if _, ok := known[u.SdkAppID]; !ok {
			app, err := s.appFor(ctx, s.store, actor, u.SdkAppID, usercenter.PermUsersRead)
			if err != nil {
				return nil, err
			}
			known[app.SdkAppID] = app.UserDomain
		}
	}
	users, err := s.read(ctx, actor, q.Reveal, known, func(Reader) ([]UserRecord, error) { return recs, nil })
	if err != nil {
		return nil, err
	}
	return &UserPage{Users: users}, nil
}

// UserCardsByOrigin returns the cards of the users ListUsers finds by an
// OriginId alone, in every app the actor may read, ordered by SdkAppId,
// under the same rules and with the same errors, for callers that show
// nothing else of them (LCIC's DescribeUser and DescribeUserDetail): no
// personal data is loaded, let alone opened.
func (s *Service) UserCardsByOrigin(ctx context.Context, actor *usercenter.Actor, originID string) ([]UserCard, error) {
	if err := actor.Require(usercenter.PermUsersRead); err != nil {
		return nil, err
	}
	if err := usercenter.CheckOriginID(usercenter.FieldOriginID, originID); err != nil {
		return nil, err
	}
	apps, err := s.actorApps(ctx, actor)
	if err != nil {
		return nil, err
	}
	cards, err := s.store.UserCardsByOrigin(ctx, apps, originID)
	if err != nil {
		return nil, err
	}
	if len(cards) == 0 {
		return nil, usercenter.NotFound(usercenter.ResourceUser)
	}
	for i, c := range cards {
		if i > 0 && cards[i-1].SdkAppID == c.SdkAppID {
			continue
		}
		if _, err := s.appFor(ctx, s.store, actor, c.SdkAppID, usercenter.PermUsersRead); err != nil {
			return nil, err
		}
	}
	return cards, nil
}

// actorApps lists the apps an actor may act on: its own, or every app.
func (s *Service) actorApps(ctx context.Context, actor *usercenter.Actor) ([]uint64, error) {
	if !actor.AllApps {
		return actor.Apps, nil
	}
	all, err := s.store.Apps(ctx)
	if err != nil {
		return nil, err
	}
	apps := make([]uint64, len(all))
	for i, a := range all {
		apps[i] = a.SdkAppID
	}
	return apps, nil
}

// one turns a single-row lookup into a list, with not found as empty.
func one(rec *UserRecord, err error) ([]UserRecord, error) {
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []UserRecord{*rec}, nil
}

// encodeCursor and decodeCursor turn the UserId a page ends with into the
// opaque cursor of the next, and back.
func encodeCursor(userID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(userID))
}

func decodeCursor(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || !usercenter.ValidUserID(string(b)) {
		return "", usercenter.Invalid(usercenter.FieldCursor, "is not a cursor returned by this API")
	}
	return string(b), nil
}

// encodeModifiedCursor and decodeModifiedCursor are encodeCursor and
// decodeCursor for the order of the last change: the key holds the
// change's time, in nanoseconds, before the UserId.
func encodeModifiedCursor(k listKey) string {
	return base64.RawURLEncoding.EncodeToString([]byte("m" + strconv.FormatInt(k.at.UnixNano(), 10) + ":" + k.id))
}

func decodeModifiedCursor(cursor string) (listKey, error) {
	if cursor == "" {
		return listKey{}, nil
	}
	bad := usercenter.Invalid(usercenter.FieldCursor, "is not a cursor returned by this API")
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return listKey{}, bad
	}
	at, id, ok := strings.Cut(strings.TrimPrefix(string(b), "m"), ":")
	if !ok || !strings.HasPrefix(string(b), "m") || !usercenter.ValidUserID(id) {
		return listKey{}, bad
	}
	ns, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return listKey{}, bad
	}
	return listKey{at: time.Unix(0, ns).UTC(), id: id}, nil
}

// idFloor is a UserId every user created at t or later sorts after: the
// smallest of the second before t. "" for the zero time.
func idFloor(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	id, err := ksuid.FromParts(t.Add(-time.Second), make([]byte, 16))
	if err != nil {
		return "" // before KSUID time began: no floor
	}
	return id.String()
}

// idCeiling is a UserId every user created before t sorts before: the
// smallest of the second after t. "" for the zero time.
func idCeiling(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	id, err := ksuid.FromParts(t.Truncate(time.Second).Add(time.Second), make([]byte, 16))
	if err != nil {
		return ""
	}
	return id.String()
}

// idTime is the creation second a UserId starts with.
func idTime(userID string) time.Time {
	id, err := ksuid.Parse(userID)
	if err != nil {
		return time.Time{}
	}
	return id.Time()
}
