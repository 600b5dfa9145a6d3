package core

import (
	"context"
	"time"

	"usercenter"
)

// Store persists apps, keys, users and tokens. Implementations (SQLite,
// PostgreSQL) hold no business rules: they store what the Service hands
// them and report uniqueness violations as EConflict errors.
//
// Every lookup of a single row that finds nothing returns
// usercenter.NotFound with the matching Resource.
type Store interface {
	Reader
	// Update runs fn in one write transaction and commits it before
	// returning. If fn returns an error nothing it wrote is kept.
	// Implementations may batch several Updates into one commit (group
	// commit), but each one still succeeds or fails on its own.
	Update(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	Close() error
}

// Reader reads committed state.
type Reader interface {
	App(ctx context.Context, sdkAppID uint64) (*AppRecord, error)
	Apps(ctx context.Context) ([]AppRecord, error)
	Key(ctx context.Context, secretID string) (*KeyRecord, error)
	Keys(ctx context.Context) ([]KeyRecord, error)

	User(ctx context.Context, userID string) (*usercenter.User, error)
	UserByOrigin(ctx context.Context, sdkAppID uint64, originID string) (*usercenter.User, error)
	// UsersByOrigin finds the users with originID in any of apps, ordered by SdkAppId.
	UsersByOrigin(ctx context.Context, apps []uint64, originID string) ([]usercenter.User, error)
	// ListUsers returns one page of an app's users in creation order, and
	// the number of users the app has.
	ListUsers(ctx context.Context, sdkAppID uint64, offset, limit int) ([]usercenter.User, int, error)

	Token(ctx context.Context, hash []byte) (*Token, error)

	// Meta returns a named instance-wide value, or nil if it was never set.
	Meta(ctx context.Context, name string) ([]byte, error)
}

// Tx is a write transaction.
type Tx interface {
	Reader
	// InsertApp fails with EConflict (Field "SdkAppId" or "UserDomain").
	InsertApp(ctx context.Context, app *AppRecord) error
	// InsertKey fails with EConflict (Field "SecretId"); every app in
	// key.Apps must exist.
	InsertKey(ctx context.Context, key *KeyRecord) error
	RevokeKey(ctx context.Context, secretID string, at time.Time) error

	// InsertUser fails with EConflict (Field "OriginId") when the app
	// already has a user with that OriginId, and (Field "UserId") on a
	// duplicate UserId.
	InsertUser(ctx context.Context, u *usercenter.User) error
	// UpdateUser writes every mutable field of u (OriginID, Nickname,
	// Avatar, Status, UpdatedAt, LastLoginAt).
	UpdateUser(ctx context.Context, u *usercenter.User) error
	// DeleteUser removes the user and everything that hangs off it.
	DeleteUser(ctx context.Context, userID string) error

	InsertToken(ctx context.Context, t *Token) error
	// DeleteExpiredTokens removes tokens that expired before now and
	// reports how many.
	DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error)

	SetMeta(ctx context.Context, name string, value []byte) error
}

// AppRecord is an app as stored: its SuperApp secret sealed by the vault.
type AppRecord struct {
	usercenter.App              // SuperAppSecretKey is empty here
	SealedSuperAppSecret []byte // vault ciphertext
}

// KeyRecord is an API key as stored: its secret sealed by the vault.
type KeyRecord struct {
	usercenter.APIKey        // SecretKey is empty here
	SealedSecretKey   []byte // vault ciphertext
}

// Token is a login token as stored: only its SHA-256 hash.
type Token struct {
	Hash      []byte
	UserID    string
	SdkAppID  uint64
	CreatedAt time.Time
	ExpiresAt time.Time
}
