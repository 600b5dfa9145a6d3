package uctest

import (
	"context"
	"errors"
	"sync/atomic"

	"usercenter"
	"usercenter/core"
)

// ErrWholeUserRead is what a UserGuard's guarded reads fail with.
var ErrWholeUserRead = errors.New("uctest: a whole user was read while the guard was on")

// UserGuard is a store whose reads of whole users (core.UserRecord, which
// carry the sealed phone, email and address) fail while On is set, in
// Update's Tx as outside, and whose every other read and write passes
// through. A use case that answers through it has loaded no one's
// personal data, so it has opened none either: that is what a test of a
// narrow read (core.Reader.UserCard) checks with it. Set On after the
// test's setup, which creates users through reads of whole users.
type UserGuard struct {
	core.Store
	On atomic.Bool
	// Refused counts the reads refused, so that a test can also tell that
	// the guard bites.
	Refused atomic.Int64
}

// NewUserGuard wraps s, off.
func NewUserGuard(s core.Store) *UserGuard { return &UserGuard{Store: s} }

func (g *UserGuard) refuse() error {
	if !g.On.Load() {
		return nil
	}
	g.Refused.Add(1)
	return ErrWholeUserRead
}

// Update runs fn with a Tx whose reads of whole users are guarded too.
func (g *UserGuard) Update(ctx context.Context, fn func(core.Tx) error) error {
	return g.Store.Update(ctx, func(tx core.Tx) error { return fn(&guardedTx{Tx: tx, g: g}) })
}

func (g *UserGuard) User(ctx context.Context, userID string) (*core.UserRecord, error) {
	if err := g.refuse(); err != nil {
		return nil, err
	}
	return g.Store.User(ctx, userID)
}

func (g *UserGuard) UserByOrigin(ctx context.Context, sdkAppID uint64, originID string) (*core.UserRecord, error) {
	if err := g.refuse(); err != nil {
		return nil, err
	}
	return g.Store.UserByOrigin(ctx, sdkAppID, originID)
}

func (g *UserGuard) UsersByOrigin(ctx context.Context, apps []uint64, originID string) ([]core.UserRecord, error) {
	if err := g.refuse(); err != nil {
		return nil, err
	}
	return g.Store.UsersByOrigin(ctx, apps, originID)
}

func (g *UserGuard) UsersByIndex(ctx context.Context, sdkAppID uint64, field usercenter.PIIField, index []byte) ([]core.UserRecord, error) {
	if err := g.refuse(); err != nil {
		return nil, err
	}
	return g.Store.UsersByIndex(ctx, sdkAppID, field, index)
}

func (g *UserGuard) UserByLink(ctx context.Context, sdkAppID uint64, provider usercenter.Provider, providerUserID string) (*core.UserRecord, error) {
	if err := g.refuse(); err != nil {
		return nil, err
	}
	return g.Store.UserByLink(ctx, sdkAppID, provider, providerUserID)
}

func (g *UserGuard) ListUsers(ctx context.Context, sdkAppID uint64, offset, limit int) ([]core.UserRecord, int, error) {
	if err := g.refuse(); err != nil {
		return nil, 0, err
	}
	return g.Store.ListUsers(ctx, sdkAppID, offset, limit)
}

func (g *UserGuard) UsersAfter(ctx context.Context, sdkAppID uint64, afterUserID string, limit int) ([]core.UserRecord, error) {
	if err := g.refuse(); err != nil {
		return nil, err
	}
	return g.Store.UsersAfter(ctx, sdkAppID, afterUserID, limit)
}

func (g *UserGuard) UsersBefore(ctx context.Context, sdkAppID uint64, beforeUserID string, limit int) ([]core.UserRecord, error) {
	if err := g.refuse(); err != nil {
		return nil, err
	}
	return g.Store.UsersBefore(ctx, sdkAppID, beforeUserID, limit)
}

// guardedTx is the Tx of a UserGuard's Update.
type guardedTx struct {
	core.Tx
	g *UserGuard
}

func (t *guardedTx) User(ctx context.Context, userID string) (*core.UserRecord, error) {
	if err := t.g.refuse(); err != nil {
		return nil, err
	}
	return t.Tx.User(ctx, userID)
}

func (t *guardedTx) UserByOrigin(ctx context.Context, sdkAppID uint64, originID string) (*core.UserRecord, error) {
	if err := t.g.refuse(); err != nil {
		return nil, err
	}
	return t.Tx.UserByOrigin(ctx, sdkAppID, originID)
}

func (t *guardedTx) UsersByOrigin(ctx context.Context, apps []uint64, originID string) ([]core.UserRecord, error) {
	if err := t.g.refuse(); err != nil {
		return nil, err
	}
	return t.Tx.UsersByOrigin(ctx, apps, originID)
}

func (t *guardedTx) UsersByIndex(ctx context.Context, sdkAppID uint64, field usercenter.PIIField, index []byte) ([]core.UserRecord, error) {
	if err := t.g.refuse(); err != nil {
		return nil, err
	}
	return t.Tx.UsersByIndex(ctx, sdkAppID, field, index)
}

func (t *guardedTx) UserByLink(ctx context.Context, sdkAppID uint64, provider usercenter.Provider, providerUserID string) (*core.UserRecord, error) {
	if err := t.g.refuse(); err != nil {
		return nil, err
	}
	return t.Tx.UserByLink(ctx, sdkAppID, provider, providerUserID)
}

func (t *guardedTx) ListUsers(ctx context.Context, sdkAppID uint64, offset, limit int) ([]core.UserRecord, int, error) {
	if err := t.g.refuse(); err != nil {
		return nil, 0, err
	}
	return t.Tx.ListUsers(ctx, sdkAppID, offset, limit)
}

func (t *guardedTx) UsersAfter(ctx context.Context, sdkAppID uint64, afterUserID string, limit int) ([]core.UserRecord, error) {
	if err := t.g.refuse(); err != nil {
		return nil, err
	}
	return t.Tx.UsersAfter(ctx, sdkAppID, afterUserID, limit)
}

func (t *guardedTx) UsersBefore(ctx context.Context, sdkAppID uint64, beforeUserID string, limit int) ([]core.UserRecord, error) {
	if err := t.g.refuse(); err != nil {
		return nil, err
	}
	return t.Tx.UsersBefore(ctx, sdkAppID, beforeUserID, limit)
}
