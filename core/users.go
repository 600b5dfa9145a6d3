package core

import (
	"context"
	"fmt"
	"slices"
	"time"

	"usercenter"
)

// Registration is one user to register through LCIC.
type Registration struct {
	SdkAppID uint64
	Name     string
	OriginID string // "": the new UserId
	Avatar   string
}

func (r *Registration) validate(prefix string) error {
	if err := usercenter.CheckNickname(prefix+"Name", r.Name); err != nil {
		return err
	}
	if err := usercenter.CheckOriginID(prefix+"OriginId", r.OriginID); err != nil {
		return err
	}
	return usercenter.CheckAvatar(prefix+"Avatar", r.Avatar)
}

// Session is a user with a freshly issued login token.
type Session struct {
	User      usercenter.User
	Token     string
	ExpiresAt time.Time
}

// Limits of the list and batch use cases.
const (
	MaxBatchRegister = 1000
	MaxPageSize      = 1000
)

// ErrUserDisabled is returned when a disabled user tries to log in.
var ErrUserDisabled = &usercenter.Error{Code: usercenter.EDisabled, Resource: usercenter.ResourceUser, Message: "the user is disabled"}

// ErrAppDisabled is returned for any request to a disabled app.
var ErrAppDisabled = &usercenter.Error{Code: usercenter.EDisabled, Resource: usercenter.ResourceApp, Message: "the app is disabled"}

// appFor loads an app the actor wants to act on with permission perm, in
// the order callers observe: the app must exist, the actor must be scoped
// to it and carry the permission, and the app's rate limit must allow it.
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
	return &rec.App, nil
}

// checkUserIDParam rejects an empty or absurdly long UserId as invalid
// input; any other string that is not a stored user is simply not found.
func checkUserIDParam(userID string) error {
	if userID == "" {
		return usercenter.Invalid("UserId", "UserId must not be empty")
	}
	if len(userID) > 64 {
		return usercenter.Invalid("UserId", "UserId must be at most 64 bytes")
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
	if err := actor.Require(perm); err != nil {
		return nil, nil, err
	}
	if err := checkUserIDParam(userID); err != nil {
		return nil, nil, err
	}
	u, err := r.User(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	if !actor.Scoped(u.SdkAppID) {
		return nil, nil, usercenter.NotFound(usercenter.ResourceUser)
	}
	app, err := s.appFor(ctx, r, actor, u.SdkAppID, perm)
	if err != nil {
		return nil, nil, err
	}
	return u, app, nil
}

// RegisterUser creates a user and logs them in. An OriginId already taken
// in the app fails with EConflict on field OriginId, also under a race:
// the store's unique index decides.
func (s *Service) RegisterUser(ctx context.Context, actor *usercenter.Actor, in Registration) (*Session, error) {
	app, err := s.appFor(ctx, s.store, actor, in.SdkAppID, usercenter.PermUsersWrite)
	if err != nil {
		return nil, err
	}
	if err := in.validate(""); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	u := s.newUser(in, now)
	sess, tok := s.newSession(u, app, now)
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.InsertUser(ctx, s.record(&sess.User)); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor, &sess.User, usercenter.AuditCreate, ""); err != nil {
			return err
		}
		return tx.InsertToken(ctx, tok)
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

func (s *Service) newUser(in Registration, now time.Time) usercenter.User {
	u := usercenter.User{
		ID:        usercenter.NewUserID(now),
		SdkAppID:  in.SdkAppID,
		OriginID:  in.OriginID,
		Status:    usercenter.UserActive,
		CreatedAt: now,
		UpdatedAt: now,
		Profile:   usercenter.Profile{Nickname: in.Name, Avatar: in.Avatar, LogonMode: usercenter.LogonAPI},
	}
	if u.OriginID == "" {
		u.OriginID = u.ID
	}
	return u
}

// newSession issues a token for u; the caller stores the returned Token
// row in the same transaction as any change to the user.
func (s *Service) newSession(u usercenter.User, app *usercenter.App, now time.Time) (*Session, *Token) {
	token := usercenter.NewLoginToken(now)
	u.LastLoginAt = now
	sess := &Session{User: u, Token: token, ExpiresAt: now.Add(app.TokenTTL)}
	return sess, &Token{Hash: usercenter.TokenKey(token), UserID: u.ID, SdkAppID: u.SdkAppID, CreatedAt: now, ExpiresAt: sess.ExpiresAt}
}

// BatchRegister creates or overwrites up to MaxBatchRegister users in one
// transaction, matching existing users by (SdkAppId, OriginId). Nothing is
// written unless every user is valid and allowed.
func (s *Service) BatchRegister(ctx context.Context, actor *usercenter.Actor, in []Registration) ([]usercenter.User, error) {
	if len(in) == 0 {
		return nil, usercenter.Invalid("Users", "Users must list at least one user")
	}
	if len(in) > MaxBatchRegister {
		return nil, usercenter.Invalid("Users", "Users must list at most %d users", MaxBatchRegister)
	}
	seen := map[uint64]bool{}
	for i := range in {
		if !seen[in[i].SdkAppID] {
			if _, err := s.appFor(ctx, s.store, actor, in[i].SdkAppID, usercenter.PermUsersWrite); err != nil {
				return nil, err
			}
			seen[in[i].SdkAppID] = true
		}
		if err := in[i].validate(fmt.Sprintf("Users.%d.", i)); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	var out []usercenter.User
	err := s.store.Update(ctx, func(tx Tx) error {
		out = make([]usercenter.User, 0, len(in))
		for _, r := range in {
			var existing *UserRecord
			if r.OriginID != "" {
				u, err := tx.UserByOrigin(ctx, r.SdkAppID, r.OriginID)
				if err != nil && usercenter.ErrorCode(err) != usercenter.ENotFound {
					return err
				}
				existing = u
			}
			if existing != nil {
				var changed []string
				if existing.Nickname != r.Name {
					changed = append(changed, "nickname")
				}
				if existing.Avatar != r.Avatar {
					changed = append(changed, "avatar")
				}
				existing.Nickname, existing.Avatar, existing.UpdatedAt = r.Name, r.Avatar, now
				if err := tx.UpdateUser(ctx, existing); err != nil {
					return err
				}
				for _, f := range changed {
					if err := s.audit(ctx, tx, actor, &existing.User, usercenter.AuditUpdate, f); err != nil {
						return err
					}
				}
				out = append(out, existing.User)
				continue
			}
			u := s.newUser(r, now)
			if err := tx.InsertUser(ctx, s.record(&u)); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, actor, &u, usercenter.AuditCreate, ""); err != nil {
				return err
			}
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LoginUser issues a new token for a user found by UserId.
func (s *Service) LoginUser(ctx context.Context, actor *usercenter.Actor, userID string) (*Session, error) {
	u, app, err := s.userFor(ctx, s.store, actor, userID, usercenter.PermUsersWrite)
	if err != nil {
		return nil, err
	}
	return s.login(ctx, u, app)
}

// LoginOriginID issues a new token for a user found by (SdkAppId, OriginId).
func (s *Service) LoginOriginID(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, originID string) (*Session, error) {
	app, err := s.appFor(ctx, s.store, actor, sdkAppID, usercenter.PermUsersWrite)
	if err != nil {
		return nil, err
	}
	if originID == "" {
		return nil, usercenter.Invalid("OriginId", "OriginId must not be empty")
	}
	if err := usercenter.CheckOriginID("OriginId", originID); err != nil {
		return nil, err
	}
	u, err := s.store.UserByOrigin(ctx, sdkAppID, originID)
	if err != nil {
		return nil, err
	}
	return s.login(ctx, u, app)
}

func (s *Service) login(ctx context.Context, u *UserRecord, app *usercenter.App) (*Session, error) {
	if u.Status != usercenter.UserActive {
		return nil, ErrUserDisabled
	}
	now := s.now().UTC()
	sess, tok := s.newSession(u.User, app, now)
	err := s.store.Update(ctx, func(tx Tx) error {
		// Re-read inside the transaction: the user may have been deleted
		// or disabled since the check above.
		cur, err := tx.User(ctx, u.ID)
		if err != nil {
			return err
		}
		if cur.Status != usercenter.UserActive {
			return ErrUserDisabled
		}
		cur.LastLoginAt = now
		if err := tx.UpdateUser(ctx, cur); err != nil {
			return err
		}
		sess.User = cur.User
		return tx.InsertToken(ctx, tok)
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// UsersByOrigin finds the users with originID in the apps the actor may
// read. It reports ENotFound when there are none.
func (s *Service) UsersByOrigin(ctx context.Context, actor *usercenter.Actor, originID string) ([]usercenter.User, error) {
	if err := actor.Require(usercenter.PermUsersRead); err != nil {
		return nil, err
	}
	if err := usercenter.CheckOriginID("OriginId", originID); err != nil {
		return nil, err
	}
	apps := actor.Apps
	if actor.AllApps {
		all, err := s.store.Apps(ctx)
		if err != nil {
			return nil, err
		}
		apps = make([]uint64, len(all))
		for i, a := range all {
			apps[i] = a.SdkAppID
		}
	}
	recs, err := s.store.UsersByOrigin(ctx, apps, originID)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, usercenter.NotFound(usercenter.ResourceUser)
	}
	var charged []*usercenter.App
	for _, u := range recs {
		if !slices.ContainsFunc(charged, func(a *usercenter.App) bool { return a.SdkAppID == u.SdkAppID }) {
			app, err := s.appFor(ctx, s.store, actor, u.SdkAppID, usercenter.PermUsersRead)
			if err != nil {
				return nil, err
			}
			charged = append(charged, app)
		}
	}
	return s.views(ctx, s.store, recs, nil, charged...)
}

// DeleteUser deletes a user with their tokens, codes and links. Their
// audit events stay, and one more records the deletion.
func (s *Service) DeleteUser(ctx context.Context, actor *usercenter.Actor, userID string) error {
	if _, _, err := s.userFor(ctx, s.store, actor, userID, usercenter.PermUsersWrite); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, userID); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, &u.User, usercenter.AuditDelete, "")
	})
}

// ListUsers returns page (from 1) of an app's users, limit per page, in
// creation order, with the app's user count.
func (s *Service) ListUsers(ctx context.Context, actor *usercenter.Actor, sdkAppID uint64, page, limit int) ([]usercenter.User, int, error) {
	app, err := s.appFor(ctx, s.store, actor, sdkAppID, usercenter.PermUsersRead)
	if err != nil {
		return nil, 0, err
	}
	if page < 1 {
		return nil, 0, usercenter.Invalid("Page", "Page must be at least 1")
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, 0, usercenter.Invalid("Limit", "Limit must be between 1 and %d", MaxPageSize)
	}
	if page > (1<<31)/limit {
		return nil, 0, usercenter.Invalid("Page", "Page is too large")
	}
	recs, total, err := s.store.ListUsers(ctx, sdkAppID, (page-1)*limit, limit)
	if err != nil {
		return nil, 0, err
	}
	users, err := s.views(ctx, s.store, recs, nil, app)
	return users, total, err
}
