package core

import (
	"context"
	"errors"
	"strings"
	"time"

	"usercenter"
)

// Limits of the batch use cases.
const (
	// MaxBatchUsers is the most users one CreateUsers or BatchRegister
	// call takes.
	MaxBatchUsers = 1000
)

// Session is a user with a freshly issued login token.
type Session struct {
	User      usercenter.User
	Token     string
	ExpiresAt time.Time
}

// ErrUserDisabled is returned when a disabled user tries to log in.
var ErrUserDisabled = &usercenter.Error{Code: usercenter.EDisabled, Resource: usercenter.ResourceUser, Message: "the user is disabled"}

// ErrAppDisabled is returned for any request to a disabled app.
var ErrAppDisabled = &usercenter.Error{Code: usercenter.EDisabled, Resource: usercenter.ResourceApp, Message: "the app is disabled"}

// appFor loads an app the actor wants to act on with permission perm, in
// the order callers observe: the app must exist, the actor must be scoped
// to it and carry the permission, the app must be active and its rate
// limit must allow one more request. Then the request is admitted: what
// the actor's authentication left to do once admitted (remembering a
// signed request against replays) runs.
func (s *Service) appFor(ctx context.Context, r Reader, actor *usercenter.Actor, sdkAppID uint64, perm usercenter.Permission) (*usercenter.App, error) {
	rec, err := r.App(ctx, sdkAppID)
	if err != nil {
		return nil, err
	}
	if err := actor.Authorize(sdkAppID, perm); err != nil {
		return nil, err
	}
	if rec.Status != usercenter.AppActive {
		return nil, ErrAppDisabled
	}
	if err := s.admit(ctx, &rec.App); err != nil {
		return nil, err
	}
	if err := actor.Admitted(ctx); err != nil {
		return nil, err
	}
	return &rec.App, nil
}

// checkUserIDParam rejects an empty or absurdly long UserId as invalid
// input; any other string that is not a stored user is simply not found.
func checkUserIDParam(userID string) error {
	if userID == "" {
		return usercenter.Invalid(usercenter.FieldUserID, "must not be empty")
	}
	if len(userID) > 64 {
		return usercenter.Invalid(usercenter.FieldUserID, "must be at most 64 bytes")
	}
	if !usercenter.ValidUserID(userID) {
		return usercenter.NotFound(usercenter.ResourceUser)
	}
	return nil
}

// userFor loads a user the actor wants to act on with permission perm. A
// user of an app outside the actor's scope is reported as not found, so
// that one tenant cannot learn which user IDs exist in another.
func (s *Service) userFor(ctx context.Context, r Reader, actor *usercenter.Actor, userID string, perm usercenter.Permission) (*UserRecord, *usercenter.App, error) {
	if err := checkUserRead(actor, userID, perm); err != nil {
		return nil, nil, err
	}
	u, err := r.User(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	app, err := s.userApp(ctx, r, actor, u.SdkAppID, perm)
	if err != nil {
		return nil, nil, err
	}
	return u, app, nil
}

// cardFor is userFor for the reads that need only the user's card, under
// the same rules and with the same answers.
func (s *Service) cardFor(ctx context.Context, r Reader, actor *usercenter.Actor, userID string, perm usercenter.Permission) (*UserCard, error) {
	if err := checkUserRead(actor, userID, perm); err != nil {
		return nil, err
	}
	c, err := cardInScope(ctx, r, actor, userID)
	if err != nil {
		return nil, err
	}
	if _, err := s.userApp(ctx, r, actor, c.SdkAppID, perm); err != nil {
		return nil, err
	}
	return c, nil
}

// cardInScope reads the card of userID for actor: of its one app, the
// cheaper read, when it has one (an app's API key, the super-app), and by
// UserId alone otherwise, for userApp to check. A user outside the one app
// is not found either way.
func cardInScope(ctx context.Context, r Reader, actor *usercenter.Actor, userID string) (*UserCard, error) {
	if !actor.AllApps && len(actor.Apps) == 1 {
		return r.UserCardInApp(ctx, actor.Apps[0], userID)
	}
	return r.UserCard(ctx, userID)
}

// checkUserRead is what userFor and cardFor check before they read.
func checkUserRead(actor *usercenter.Actor, userID string, perm usercenter.Permission) error {
	if err := actor.Require(perm); err != nil {
		return err
	}
	return checkUserIDParam(userID)
}

// userApp is the app of a user that userFor or cardFor read, if the actor
// may act on it with perm; a user outside the actor's scope is not found.
func (s *Service) userApp(ctx context.Context, r Reader, actor *usercenter.Actor, sdkAppID uint64, perm usercenter.Permission) (*usercenter.App, error) {
	if !actor.Scoped(sdkAppID) {
		return nil, usercenter.NotFound(usercenter.ResourceUser)
	}
	return s.appFor(ctx, r, actor, sdkAppID, perm)
}

// newUsers is the one way users come to be: each from a patch over an
// empty profile, validated and normalised for app, active, with OriginId
// defaulting to the UserId, and sealed for the store. Users of one batch
// that share an OriginId or a third-party ID conflict as they would with
// stored users. Their CreatedAt increase by a nanosecond each, so that
// creation order, and UserId order, is the order given. An error about
// one user of several names it (usercenter.AtItem).
func (s *Service) newUsers(app *usercenter.App, in []UserPatch, now time.Time) ([]usercenter.User, []*UserRecord, error) {
	at := func(i int, err error) error {
		if len(in) == 1 {
			return err
		}
		return usercenter.AtItem(i, err)
	}
	type linkKey struct {
		p  usercenter.Provider
		id string
	}
	origins := make(map[string]bool, len(in))
	var links map[linkKey]bool
	users := make([]usercenter.User, len(in))
	ptrs := make([]*usercenter.User, len(in))
	for i := range in {
		t := now.Add(time.Duration(i))
		u := &users[i]
		*u = usercenter.User{ID: usercenter.NewUserID(t), SdkAppID: app.SdkAppID, Status: usercenter.UserActive, CreatedAt: t, UpdatedAt: t}
		u.LogonMode = usercenter.LogonAPI
		if _, err := in[i].apply(u, app); err != nil {
			return nil, nil, at(i, err)
		}
		if u.OriginID == "" {
			u.OriginID = u.ID
		}
		if origins[u.OriginID] {
			return nil, nil, at(i, usercenter.Conflict(usercenter.FieldOriginID, "is the same as another user's of this batch"))
		}
		origins[u.OriginID] = true
		for prov, id := range u.ThirdParty {
			if links == nil {
				links = make(map[linkKey]bool)
			}
			k := linkKey{prov, id}
			if links[k] {
				return nil, nil, at(i, usercenter.Conflict(usercenter.ThirdPartyField(prov), "is the same as another user's of this batch"))
			}
			links[k] = true
		}
		ptrs[i] = u
	}
	return users, s.pii.seal(ptrs...), nil
}

// insertUsers stores new users and their create events in tx: one user
// through the store's single-row path, the write path of registrations,
// several through its bulk path.
func (s *Service) insertUsers(ctx context.Context, tx Tx, actor *usercenter.Actor, recs []*UserRecord) error {
	if len(recs) == 1 {
		if err := tx.InsertUser(ctx, recs[0]); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, &recs[0].User, usercenter.AuditCreate, "")
	}
	if err := tx.InsertUsers(ctx, recs); err != nil {
		var ie *ItemError
		if errors.As(err, &ie) {
			return usercenter.AtItem(ie.Index, ie.Err)
		}
		return err
	}
	return s.auditCreates(ctx, tx, actor, recs)
}

// CreateUsers creates 1 to MaxBatchUsers users in an app, all or none, in
// one transaction, each with its create event. Everything is checked
// before anything is written. It returns the users as stored, personal
// data masked.
func (s *Service) CreateUsers(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, in []UserPatch) ([]usercenter.User, error) {
	app, err := s.appFor(ctx, s.store, actor, sdkAppID, usercenter.PermUsersWrite)
	if err != nil {
		return nil, err
	}
	if err := checkBatch(len(in)); err != nil {
		return nil, err
	}
	_, recs, err := s.newUsers(app, in, s.now().UTC())
	if err != nil {
		return nil, err
	}
	if err := s.store.Update(ctx, func(tx Tx) error { return s.insertUsers(ctx, tx, actor, recs) }); err != nil {
		return nil, err
	}
	out := make([]usercenter.User, len(recs))
	for i, rec := range recs {
		u, err := s.pii.masked(rec, app.UserDomain)
		if err != nil {
			return nil, err
		}
		out[i] = *u
	}
	return out, nil
}

func checkBatch(n int) error {
	if n == 0 {
		return usercenter.Invalid(usercenter.FieldUsers, "must list at least one user")
	}
	if n > MaxBatchUsers {
		return usercenter.Invalid(usercenter.FieldUsers, "must list at most %d users; send more in several requests", MaxBatchUsers)
	}
	return nil
}

// RegisterUser creates a user and logs them in, in one transaction. An
// OriginId already taken in the app fails with EConflict on
// FieldOriginID, also under a race: the store's unique index decides.
func (s *Service) RegisterUser(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, p UserPatch) (*Session, error) {
	app, err := s.appFor(ctx, s.store, actor, sdkAppID, usercenter.PermUsersWrite)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	users, recs, err := s.newUsers(app, []UserPatch{p}, now)
	if err != nil {
		return nil, err
	}
	sess, tok := s.newSession(users[0], app, now)
	recs[0].LastLoginAt = now // registering logs the user in
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := s.insertUsers(ctx, tx, actor, recs); err != nil {
			return err
		}
		return tx.InsertToken(ctx, tok)
	})
	if err != nil {
		return nil, err
	}
	sess.User.Phone, sess.User.Email, sess.User.Address = "", "", ""
	sess.User.UserDomain = app.UserDomain
	return sess, nil
}

// BatchRegister creates or overwrites 1 to MaxBatchUsers users, matching
// existing users by (SdkAppId, OriginId): new ones are created as
// CreateUsers creates them, existing ones get the nickname and avatar
// given, one update event per changed field; an existing user they would
// not change is answered as stored, unwritten. Nothing is written unless
// every user is valid and allowed.
func (s *Service) BatchRegister(ctx context.Context, actor *usercenter.Actor, in []RegisterItem) ([]usercenter.User, error) {
	if err := checkBatch(len(in)); err != nil {
		return nil, err
	}
	apps := map[uint64]*usercenter.App{}
	for i := range in {
		if apps[in[i].SdkAppID] == nil {
			app, err := s.appFor(ctx, s.store, actor, in[i].SdkAppID, usercenter.PermUsersWrite)
			if err != nil {
				return nil, err
			}
			apps[in[i].SdkAppID] = app
		}
		// Validated as a new user would be, whether or not one exists.
		if _, _, err := s.newUsers(apps[in[i].SdkAppID], []UserPatch{in[i].UserPatch}, time.Time{}); err != nil {
			return nil, usercenter.AtItem(i, err)
		}
	}
	now := s.now().UTC()
	var out []usercenter.User
	err := s.store.Update(ctx, func(tx Tx) error {
		out = make([]usercenter.User, 0, len(in))
		for i, r := range in {
			var existing *UserRecord
			if r.OriginID != nil {
				u, err := tx.UserByOrigin(ctx, r.SdkAppID, *r.OriginID)
				if err != nil && usercenter.ErrorCode(err) != usercenter.ENotFound {
					return err
				}
				existing = u
			}
			if existing != nil {
				u := existing.User
				changed, err := (&UserPatch{Nickname: r.Nickname, Avatar: r.Avatar}).apply(&u, apps[r.SdkAppID])
				if err != nil {
					return usercenter.AtItem(i, err)
				}
				if len(changed) == 0 {
					out = append(out, u)
					continue
				}
				u.UpdatedAt = nextVersion(u.UpdatedAt, now)
				existing.User = u
				if err := tx.UpdateUser(ctx, existing); err != nil {
					return usercenter.AtItem(i, err)
				}
				if err := s.auditChanges(ctx, tx, actor, &u, changed); err != nil {
					return err
				}
				out = append(out, u)
				continue
			}
			users, recs, err := s.newUsers(apps[r.SdkAppID], []UserPatch{r.UserPatch}, now)
			if err != nil {
				return usercenter.AtItem(i, err)
			}
			if err := s.insertUsers(ctx, tx, actor, recs); err != nil {
				return usercenter.AtItem(i, err)
			}
			out = append(out, users[0])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].UserDomain = apps[out[i].SdkAppID].UserDomain
	}
	return out, nil
}

// nextVersion is the UpdatedAt of a user changed at now whose version was
// prev. UpdatedAt is the user's version (SCIM's ETag, If-Match) and the
// key of the meta.lastModified walk, so every change must move it
// forward: within one tick of a coarse clock, or on a node whose clock is
// behind the one that wrote prev, now alone would keep it or take it
// back, letting a stale If-Match apply and a cursor skip the user.
func nextVersion(prev, now time.Time) time.Time {
	if now.After(prev) {
		return now
	}
	return prev.Add(time.Nanosecond)
}

// RegisterItem is one user of a BatchRegister: a patch for an app.
type RegisterItem struct {
	SdkAppID uint64
	UserPatch
}

// UpdateUser applies a patch to a user, writing one audit event per field
// that changed, in the same transaction. A patch that changes nothing
// writes nothing: no UpdatedAt, no event. It returns the user as stored,
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
		if err := p.If.check(&rec.User); err != nil {
			return err
		}
		u, err := s.pii.open(tx, rec)
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
		u.UpdatedAt = nextVersion(rec.UpdatedAt, s.now().UTC())
		out = s.pii.seal(u)[0]
		if err := tx.UpdateUser(ctx, out); err != nil {
			return err
		}
		return s.auditChanges(ctx, tx, actor, u, changed)
	})
	if err != nil {
		return nil, err
	}
	return s.pii.masked(out, app.UserDomain)
}

// DeleteUser deletes a user with their tokens, codes and links. Their
// audit events stay, and one more records the deletion.
func (s *Service) DeleteUser(ctx context.Context, actor *usercenter.Actor, userID string) error {
	return s.DeleteUserIf(ctx, actor, userID, nil)
}

// DeleteUserIf deletes a user as DeleteUser does, if cond (nil: always)
// holds in the deleting transaction.
func (s *Service) DeleteUserIf(ctx context.Context, actor *usercenter.Actor, userID string, cond *Precondition) error {
	if _, _, err := s.userFor(ctx, s.store, actor, userID, usercenter.PermUsersWrite); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		if err := cond.check(&u.User); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, userID); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, &u.User, usercenter.AuditDelete, "")
	})
}

// GetUser returns one user, with the fields in reveal in plain text, each
// disclosure audited in the transaction that reads it.
func (s *Service) GetUser(ctx context.Context, actor *usercenter.Actor, userID string, fields []usercenter.PIIField) (*usercenter.User, error) {
	return s.getUser(ctx, actor, userID, fields, false)
}

// GetUserLatest is GetUser reading the user in a transaction, so as the
// store has it committed now rather than as a node's copy may still have
// it: for a caller whose write under a Precondition was refused as stale
// (usercenter.EStale) after a GetUser, to read the version to write over
// before it tries again. It costs a transaction, where GetUser may cost
// nothing.
func (s *Service) GetUserLatest(ctx context.Context, actor *usercenter.Actor, userID string, fields []usercenter.PIIField) (*usercenter.User, error) {
	return s.getUser(ctx, actor, userID, fields, true)
}

func (s *Service) getUser(ctx context.Context, actor *usercenter.Actor, userID string, fields []usercenter.PIIField, inTx bool) (*usercenter.User, error) {
	known := domains{}
	users, err := s.readIn(ctx, actor, fields, known, func(r Reader) ([]UserRecord, error) {
		rec, app, err := s.userFor(ctx, r, actor, userID, usercenter.PermUsersRead)
		if err != nil {
			return nil, err
		}
		known[app.SdkAppID] = app.UserDomain
		return []UserRecord{*rec}, nil
	}, inTx)
	if err != nil {
		return nil, err
	}
	return &users[0], nil
}

// UserCard returns the card of one user the actor may read, under
// GetUser's rules (a user outside the actor's scope is not found, a
// disabled one is returned), for callers that show nothing else of the
// user, such as LCIC's user actions: it reads a few columns, and no
// personal data is loaded, let alone opened.
func (s *Service) UserCard(ctx context.Context, actor *usercenter.Actor, userID string) (*UserCard, error) {
	return s.cardFor(ctx, s.store, actor, userID, usercenter.PermUsersRead)
}

// knownProviders lists usercenter.Providers for messages.
var knownProviders = func() string {
	names := make([]string, len(usercenter.Providers))
	for i, p := range usercenter.Providers {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}()
