package core

import (
	"context"
	"fmt"
	"time"

	"usercenter"
)

// Registration is one user to register.
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
// the order callers observe: the app must exist, the key must be scoped to
// it and carry the permission, and the app's rate limit must allow it.
func (s *Service) appFor(ctx context.Context, actor *usercenter.APIKey, sdkAppID uint64, perm usercenter.Permission) (*usercenter.App, error) {
	rec, err := s.store.App(ctx, sdkAppID)
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

// userFor loads a user the actor wants to act on with permission perm. A
// user of an app outside the key's scope is reported as not found, so that
// one tenant cannot learn which user IDs exist in another.
func (s *Service) userFor(ctx context.Context, r Reader, actor *usercenter.APIKey, userID string, perm usercenter.Permission) (*usercenter.User, *usercenter.App, error) {
	if !actor.Has(perm) {
		return nil, nil, usercenter.Forbidden("the key lacks the %s permission", perm)
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
	app, err := s.appFor(ctx, actor, u.SdkAppID, perm)
	if err != nil {
		return nil, nil, err
	}
	return u, app, nil
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

// RegisterUser creates a user and logs them in. An OriginId already taken
// in the app fails with EConflict on field OriginId, also under a race:
// the store's unique index decides.
func (s *Service) RegisterUser(ctx context.Context, actor *usercenter.APIKey, in Registration) (*Session, error) {
	app, err := s.appFor(ctx, actor, in.SdkAppID, usercenter.PermUsersWrite)
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
		if err := tx.InsertUser(ctx, &sess.User); err != nil {
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
		Nickname:  in.Name,
		Avatar:    in.Avatar,
		Status:    usercenter.UserActive,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if u.OriginID == "" {
		u.OriginID = u.ID
	}
	return u
}

// newSession issues a token for u; the caller stores the returned Token
// row in the same transaction as any change to the user.
func (s *Service) newSession(u usercenter.User, app *usercenter.App, now time.Time) (*Session, *Token) {
	token := usercenter.NewToken()
	u.LastLoginAt = now
	sess := &Session{User: u, Token: token, ExpiresAt: now.Add(app.TokenTTL)}
	return sess, &Token{Hash: usercenter.HashToken(token), UserID: u.ID, SdkAppID: u.SdkAppID, CreatedAt: now, ExpiresAt: sess.ExpiresAt}
}

// BatchRegister creates or overwrites up to MaxBatchRegister users in one
// transaction, matching existing users by (SdkAppId, OriginId). Nothing is
// written unless every user is valid and allowed.
func (s *Service) BatchRegister(ctx context.Context, actor *usercenter.APIKey, in []Registration) ([]usercenter.User, error) {
	if len(in) == 0 {
		return nil, usercenter.Invalid("Users", "Users must list at least one user")
	}
	if len(in) > MaxBatchRegister {
		return nil, usercenter.Invalid("Users", "Users must list at most %d users", MaxBatchRegister)
	}
	seen := map[uint64]bool{}
	for i := range in {
		if !seen[in[i].SdkAppID] {
			if _, err := s.appFor(ctx, actor, in[i].SdkAppID, usercenter.PermUsersWrite); err != nil {
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
			var existing *usercenter.User
			if r.OriginID != "" {
				u, err := tx.UserByOrigin(ctx, r.SdkAppID, r.OriginID)
				if err != nil && usercenter.ErrorCode(err) != usercenter.ENotFound {
					return err
				}
				existing = u
			}
			if existing != nil {
				existing.Nickname, existing.Avatar, existing.UpdatedAt = r.Name, r.Avatar, now
				if err := tx.UpdateUser(ctx, existing); err != nil {
					return err
				}
				out = append(out, *existing)
				continue
			}
			u := s.newUser(r, now)
			if err := tx.InsertUser(ctx, &u); err != nil {
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
func (s *Service) LoginUser(ctx context.Context, actor *usercenter.APIKey, userID string) (*Session, error) {
	u, app, err := s.userFor(ctx, s.store, actor, userID, usercenter.PermUsersWrite)
	if err != nil {
		return nil, err
	}
	return s.login(ctx, u, app)
}

// LoginOriginID issues a new token for a user found by (SdkAppId, OriginId).
func (s *Service) LoginOriginID(ctx context.Context, actor *usercenter.APIKey, sdkAppID uint64, originID string) (*Session, error) {
	app, err := s.appFor(ctx, actor, sdkAppID, usercenter.PermUsersWrite)
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

func (s *Service) login(ctx context.Context, u *usercenter.User, app *usercenter.App) (*Session, error) {
	if u.Status != usercenter.UserActive {
		return nil, ErrUserDisabled
	}
	now := s.now().UTC()
	sess, tok := s.newSession(*u, app, now)
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
		sess.User = *cur
		return tx.InsertToken(ctx, tok)
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

// User returns one user the actor may read.
func (s *Service) User(ctx context.Context, actor *usercenter.APIKey, userID string) (*usercenter.User, error) {
	u, _, err := s.userFor(ctx, s.store, actor, userID, usercenter.PermUsersRead)
	return u, err
}

// UsersByOrigin finds the users with originID in the apps the actor may
// read. It reports ENotFound when there are none.
func (s *Service) UsersByOrigin(ctx context.Context, actor *usercenter.APIKey, originID string) ([]usercenter.User, error) {
	if !actor.Has(usercenter.PermUsersRead) {
		return nil, usercenter.Forbidden("the key lacks the %s permission", usercenter.PermUsersRead)
	}
	if err := usercenter.CheckOriginID("OriginId", originID); err != nil {
		return nil, err
	}
	users, err := s.store.UsersByOrigin(ctx, actor.Apps, originID)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, usercenter.NotFound(usercenter.ResourceUser)
	}
	charged := map[uint64]bool{}
	for _, u := range users {
		if !charged[u.SdkAppID] {
			if _, err := s.appFor(ctx, actor, u.SdkAppID, usercenter.PermUsersRead); err != nil {
				return nil, err
			}
			charged[u.SdkAppID] = true
		}
	}
	return users, nil
}

// ProfileChange lists the profile fields to change; nil fields stay.
type ProfileChange struct {
	Nickname *string
	Avatar   *string
}

// UpdateProfile changes a user's profile.
func (s *Service) UpdateProfile(ctx context.Context, actor *usercenter.APIKey, userID string, ch ProfileChange) (*usercenter.User, error) {
	if ch.Nickname != nil {
		if err := usercenter.CheckNickname("Nickname", *ch.Nickname); err != nil {
			return nil, err
		}
	}
	if ch.Avatar != nil {
		if err := usercenter.CheckAvatar("Avatar", *ch.Avatar); err != nil {
			return nil, err
		}
	}
	if _, _, err := s.userFor(ctx, s.store, actor, userID, usercenter.PermUsersWrite); err != nil {
		return nil, err
	}
	var out *usercenter.User
	err := s.store.Update(ctx, func(tx Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		if ch.Nickname != nil {
			u.Nickname = *ch.Nickname
		}
		if ch.Avatar != nil {
			u.Avatar = *ch.Avatar
		}
		u.UpdatedAt = s.now().UTC()
		out = u
		return tx.UpdateUser(ctx, u)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteUser deletes a user with their tokens.
func (s *Service) DeleteUser(ctx context.Context, actor *usercenter.APIKey, userID string) error {
	if _, _, err := s.userFor(ctx, s.store, actor, userID, usercenter.PermUsersWrite); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error { return tx.DeleteUser(ctx, userID) })
}

// ListUsers returns page (from 1) of an app's users, limit per page, in
// creation order, with the app's user count.
func (s *Service) ListUsers(ctx context.Context, actor *usercenter.APIKey, sdkAppID uint64, page, limit int) ([]usercenter.User, int, error) {
	if _, err := s.appFor(ctx, actor, sdkAppID, usercenter.PermUsersRead); err != nil {
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
	return s.store.ListUsers(ctx, sdkAppID, (page-1)*limit, limit)
}

// PurgeExpired deletes expired tokens every interval until ctx ends.
func (s *Service) PurgeExpired(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var n int
		err := s.store.Update(ctx, func(tx Tx) error {
			var err error
			n, err = tx.DeleteExpiredTokens(ctx, s.now().UTC())
			return err
		})
		if err != nil && ctx.Err() == nil {
			s.log.Error("purging expired tokens", "err", err)
		} else if n > 0 {
			s.log.Info("purged expired tokens", "count", n)
		}
	}
}
