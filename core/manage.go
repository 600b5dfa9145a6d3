package core

import (
	"context"
	"encoding/base64"
	"strings"

	"usercenter"
)

// knownProviders lists usercenter.Providers for messages.
var knownProviders = func() string {
	names := make([]string, len(usercenter.Providers))
	for i, p := range usercenter.Providers {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}()

// UserPatch lists the fields to set on a user; nil fields stay as they
// are, and a pointer to "" clears a text field. In ThirdParty a nil value
// removes the link to that provider.
type UserPatch struct {
	OriginID    *string
	Status      *usercenter.UserStatus
	Nickname    *string
	Avatar      *string
	Phone       *string
	Email       *string
	Address     *string
	City        *string
	Province    *string
	Nationality *string
	Lang        *string
	Timezone    *string
	Sex         *string
	Signature   *string
	Remark      *string
	LogonMode   *usercenter.LogonMode
	ThirdParty  map[usercenter.Provider]*string
}

// apply sets the patch on u, normalising phone and email for the app, and
// returns the names of the fields whose value changed.
func (p *UserPatch) apply(u *usercenter.User, app *usercenter.App) ([]string, error) {
	var changed []string
	setText := func(name string, dst *string, v *string) {
		if v != nil && *dst != *v {
			*dst = *v
			changed = append(changed, name)
		}
	}
	if p.OriginID != nil {
		if *p.OriginID == "" {
			return nil, usercenter.Invalid("originId", "originId must not be empty")
		}
		if err := usercenter.CheckOriginID("originId", *p.OriginID); err != nil {
			return nil, err
		}
		setText("originId", &u.OriginID, p.OriginID)
	}
	if p.Status != nil {
		if *p.Status != usercenter.UserActive && *p.Status != usercenter.UserDisabled {
			return nil, usercenter.Invalid("status", "status must be 0 (disabled) or 1 (normal)")
		}
		if u.Status != *p.Status {
			u.Status = *p.Status
			changed = append(changed, "status")
		}
	}
	if p.Phone != nil {
		phone, err := usercenter.NormalizePhone("phone", *p.Phone, app.PhoneRegion)
		if err != nil {
			return nil, err
		}
		setText("phone", &u.Phone, &phone)
	}
	if p.Email != nil {
		email, err := usercenter.NormalizeEmail("email", *p.Email)
		if err != nil {
			return nil, err
		}
		setText("email", &u.Email, &email)
	}
	setText("nickname", &u.Nickname, p.Nickname)
	setText("avatar", &u.Avatar, p.Avatar)
	setText("address", &u.Address, p.Address)
	setText("city", &u.City, p.City)
	setText("province", &u.Province, p.Province)
	setText("nationality", &u.Nationality, p.Nationality)
	setText("lang", &u.Lang, p.Lang)
	setText("timezone", &u.Timezone, p.Timezone)
	setText("sex", &u.Sex, p.Sex)
	setText("signature", &u.Signature, p.Signature)
	setText("remark", &u.Remark, p.Remark)
	if p.LogonMode != nil && u.LogonMode != *p.LogonMode {
		u.LogonMode = *p.LogonMode
		changed = append(changed, "logonMode")
	}
	for prov, id := range p.ThirdParty {
		if !prov.Known() {
			return nil, usercenter.Invalid("thirdPartyIds", "unknown third-party provider %q; known: %s", usercenter.ClipName(string(prov), 32), knownProviders)
		}
		cur, linked := u.ThirdParty[prov]
		switch {
		case id == nil || *id == "":
			if linked {
				delete(u.ThirdParty, prov)
				changed = append(changed, "thirdPartyIds."+string(prov))
			}
		case !linked || cur != *id:
			if u.ThirdParty == nil {
				u.ThirdParty = map[usercenter.Provider]string{}
			}
			u.ThirdParty[prov] = *id
			changed = append(changed, "thirdPartyIds."+string(prov))
		}
	}
	for _, f := range changed {
		if err := u.Profile.ValidateField(f); err != nil {
			return nil, err
		}
	}
	return changed, nil
}

// CreateUser creates a user in an app from a patch over an empty profile.
// An absent OriginId defaults to the UserId, and an absent status to 1.
func (s *Service) CreateUser(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, p UserPatch) (*usercenter.User, error) {
	app, err := s.appFor(ctx, s.store, actor, sdkAppID, usercenter.PermUsersWrite)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	u := &usercenter.User{ID: usercenter.NewUserID(now), SdkAppID: sdkAppID, Status: usercenter.UserActive, CreatedAt: now, UpdatedAt: now}
	u.LogonMode = usercenter.LogonAPI
	if _, err := p.apply(u, app); err != nil {
		return nil, err
	}
	if u.OriginID == "" {
		u.OriginID = u.ID
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.InsertUser(ctx, s.record(u)); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, u, usercenter.AuditCreate, "")
	})
	if err != nil {
		return nil, err
	}
	return s.view(ctx, app, s.record(u), nil)
}

// UpdateUser applies a patch to a user, writing one audit event per field
// that changed, in the same transaction. It returns the user as stored,
// personal data masked.
func (s *Service) UpdateUser(ctx context.Context, actor *usercenter.Actor, userID string, p UserPatch) (*usercenter.User, error) {
	_, app, err := s.userFor(ctx, s.store, actor, userID, usercenter.PermUsersWrite)
	if err != nil {
		return nil, err
	}
	var out *UserRecord
	err = s.store.Update(ctx, func(tx Tx) error {
		rec, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		u, err := s.plain(rec)
		if err != nil {
			return err
		}
		changed, err := p.apply(u, app)
		if err != nil {
			return err
		}
		if len(changed) == 0 {
			out = rec
			return nil
		}
		u.UpdatedAt = s.now().UTC()
		out = s.record(u)
		if err := tx.UpdateUser(ctx, out); err != nil {
			return err
		}
		for _, f := range changed {
			if err := s.audit(ctx, tx, actor, u, usercenter.AuditUpdate, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.view(ctx, app, out, nil)
}

// reveal checks that the actor may see plain personal data.
func reveal(actor *usercenter.Actor, fields []usercenter.PIIField) error {
	if len(fields) > 0 && !actor.Has(usercenter.PermPIIRead) {
		return usercenter.Forbidden("revealing personal data needs the %s permission", usercenter.PermPIIRead)
	}
	return nil
}

// read runs a lookup and returns the users it finds as the actor may see
// them. When fields are revealed the lookup runs in a write transaction
// that also records each disclosure: if the audit event cannot be written,
// nothing is disclosed.
// find returns the users and the app they belong to.
func (s *Service) read(ctx context.Context, actor *usercenter.Actor, fields []usercenter.PIIField, find func(Reader) ([]UserRecord, *usercenter.App, error)) ([]usercenter.User, error) {
	if err := reveal(actor, fields); err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		recs, app, err := find(s.store)
		if err != nil {
			return nil, err
		}
		return s.views(ctx, s.store, recs, nil, app)
	}
	var out []usercenter.User
	err := s.store.Update(ctx, func(tx Tx) error {
		recs, app, err := find(tx)
		if err != nil {
			return err
		}
		for i := range recs {
			if err := s.disclose(ctx, tx, actor, &recs[i], fields); err != nil {
				return err
			}
		}
		out, err = s.views(ctx, tx, recs, fields, app)
		return err
	})
	return out, err
}

// GetUser returns one user, with the fields in reveal in plain text.
func (s *Service) GetUser(ctx context.Context, actor *usercenter.Actor, userID string, fields []usercenter.PIIField) (*usercenter.User, error) {
	users, err := s.read(ctx, actor, fields, func(r Reader) ([]UserRecord, *usercenter.App, error) {
		rec, app, err := s.userFor(ctx, r, actor, userID, usercenter.PermUsersRead)
		if err != nil {
			return nil, nil, err
		}
		return []UserRecord{*rec}, app, nil
	})
	if err != nil {
		return nil, err
	}
	return &users[0], nil
}

// Lookup is an exact search within one app; set exactly one criterion.
type Lookup struct {
	OriginID       string
	Phone          string
	Email          string
	Provider       usercenter.Provider
	ProviderUserID string
}

// FindUsers returns the app's users matching an exact lookup.
func (s *Service) FindUsers(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, l Lookup, fields []usercenter.PIIField) ([]usercenter.User, error) {
	app, err := s.appFor(ctx, s.store, actor, sdkAppID, usercenter.PermUsersRead)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, set := range []bool{l.OriginID != "", l.Phone != "", l.Email != "", l.Provider != "" || l.ProviderUserID != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, usercenter.Invalid("lookup", "give exactly one of originId, phone, email, or provider with providerUserId")
	}
	// A lookup by value is a yes-or-no question about that value: with
	// the masked form in hand (136****6688) a few thousand of them would
	// recover a number. So looking up by phone or email needs the same
	// permission as reading one.
	if (l.Phone != "" || l.Email != "") && !actor.Has(usercenter.PermPIIRead) {
		return nil, usercenter.Forbidden("looking users up by phone or email needs the %s permission", usercenter.PermPIIRead)
	}
	var find func(Reader) ([]UserRecord, error)
	switch {
	case l.OriginID != "":
		if err := usercenter.CheckOriginID("originId", l.OriginID); err != nil {
			return nil, err
		}
		find = func(r Reader) ([]UserRecord, error) { return one(r.UserByOrigin(ctx, sdkAppID, l.OriginID)) }
	case l.Phone != "":
		phone, err := usercenter.NormalizePhone("phone", l.Phone, app.PhoneRegion)
		if err != nil {
			return nil, err
		}
		idx := s.blindIndex(sdkAppID, usercenter.FieldPhone, phone)
		find = func(r Reader) ([]UserRecord, error) { return r.UsersByIndex(ctx, sdkAppID, usercenter.FieldPhone, idx) }
	case l.Email != "":
		email, err := usercenter.NormalizeEmail("email", l.Email)
		if err != nil {
			return nil, err
		}
		idx := s.blindIndex(sdkAppID, usercenter.FieldEmail, email)
		find = func(r Reader) ([]UserRecord, error) { return r.UsersByIndex(ctx, sdkAppID, usercenter.FieldEmail, idx) }
	default:
		if !l.Provider.Known() {
			return nil, usercenter.Invalid("provider", "unknown third-party provider %q", usercenter.ClipName(string(l.Provider), 32))
		}
		if l.ProviderUserID == "" {
			return nil, usercenter.Invalid("providerUserId", "providerUserId is required with provider")
		}
		find = func(r Reader) ([]UserRecord, error) {
			return one(r.UserByLink(ctx, sdkAppID, l.Provider, l.ProviderUserID))
		}
	}
	return s.read(ctx, actor, fields, func(r Reader) ([]UserRecord, *usercenter.App, error) {
		recs, err := find(r)
		return recs, app, err
	})
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

// DefaultListLimit is the page size of UsersPage when none is asked for.
const DefaultListLimit = 50

// MaxListLimit caps UsersPage.
const MaxListLimit = 500

// UsersPage lists an app's users in UserId order after an opaque cursor
// ("" for the first page). It returns the cursor of the next page, or ""
// after the last. Users added while a client pages through are never
// listed twice, and no user that existed throughout is skipped.
func (s *Service) UsersPage(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, cursor string, limit int, fields []usercenter.PIIField) ([]usercenter.User, string, error) {
	app, err := s.appFor(ctx, s.store, actor, sdkAppID, usercenter.PermUsersRead)
	if err != nil {
		return nil, "", err
	}
	if limit == 0 {
		limit = DefaultListLimit
	}
	if limit < 1 || limit > MaxListLimit {
		return nil, "", usercenter.Invalid("limit", "limit must be between 1 and %d", MaxListLimit)
	}
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !usercenter.ValidUserID(string(b)) {
			return nil, "", usercenter.Invalid("next", "next is not a cursor returned by this API")
		}
		after = string(b)
	}
	var more bool
	users, err := s.read(ctx, actor, fields, func(r Reader) ([]UserRecord, *usercenter.App, error) {
		recs, err := r.UsersAfter(ctx, sdkAppID, after, limit+1)
		if err != nil {
			return nil, nil, err
		}
		more = len(recs) > limit
		return recs[:min(len(recs), limit)], app, nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		next = base64.RawURLEncoding.EncodeToString([]byte(users[len(users)-1].ID))
	}
	return users, next, nil
}

// ErrBadToken means a user token is unknown, expired, or its user gone.
var ErrBadToken = &usercenter.Error{Code: usercenter.EUnauthenticated, Message: "the token is invalid or has expired"}

// Me returns the user a login token belongs to, personal data masked. It
// is the session check apps make on every request: one token read, one
// user read and one read of the user's app, which must be active.
func (s *Service) Me(ctx context.Context, token string) (*usercenter.User, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrBadToken
	}
	t, err := s.store.Token(ctx, usercenter.TokenKey(token))
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	if !s.now().Before(t.ExpiresAt) {
		return nil, ErrBadToken
	}
	rec, err := s.store.User(ctx, t.UserID)
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	app, err := s.store.App(ctx, rec.SdkAppID)
	if err != nil {
		return nil, err
	}
	if app.Status != usercenter.AppActive {
		return nil, ErrAppDisabled
	}
	if rec.Status != usercenter.UserActive {
		return nil, ErrUserDisabled
	}
	return s.view(ctx, &app.App, rec, nil)
}

// AuditEvents lists audit events of the apps the actor may read.
func (s *Service) AuditEvents(ctx context.Context, actor *usercenter.Actor, f usercenter.AuditFilter) ([]usercenter.AuditEvent, error) {
	f, err := auditFilterFor(actor, f)
	if err != nil {
		return nil, err
	}
	return s.store.AuditEvents(ctx, f)
}

// AuditPage lists one page of audit events of the apps the actor may read,
// as AuditEvents does. next is the ID of the page's last event when more
// events match, to pass as AfterID for the following page, and 0 when the
// page is the last.
func (s *Service) AuditPage(ctx context.Context, actor *usercenter.Actor, f usercenter.AuditFilter) (events []usercenter.AuditEvent, next int64, err error) {
	f, err = auditFilterFor(actor, f)
	if err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	f.Limit = limit + 1 // one more than the page tells whether another follows
	events, err = s.store.AuditEvents(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	if len(events) > limit {
		events = events[:limit]
		next = events[limit-1].ID
	}
	return events, next, nil
}

// auditFilterFor checks f for the actor, limits it to the apps the actor
// may read and fills in the default page size.
func auditFilterFor(actor *usercenter.Actor, f usercenter.AuditFilter) (usercenter.AuditFilter, error) {
	if err := actor.Require(usercenter.PermUsersRead); err != nil {
		return f, err
	}
	if f.SdkAppID != 0 && !actor.Scoped(f.SdkAppID) {
		return f, usercenter.Forbidden("the key is not scoped to SdkAppId %d", f.SdkAppID)
	}
	if !actor.AllApps {
		// Never nil: to the store a nil list means every app.
		f.Apps = append([]uint64{}, actor.Apps...)
	}
	if f.Limit == 0 {
		f.Limit = DefaultListLimit
	}
	if f.Limit < 1 || f.Limit > MaxListLimit {
		return f, usercenter.Invalid("limit", "limit must be between 1 and %d", MaxListLimit)
	}
	if !f.Until.IsZero() && !f.Since.IsZero() && f.Until.Before(f.Since) {
		return f, usercenter.Invalid("until", "until must not be before since")
	}
	return f, nil
}
