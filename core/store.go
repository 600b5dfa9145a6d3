package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"usercenter"
)

// ErrStorage marks a store's errors that say its storage fails: its disk
// is full, or it reports an I/O error. They are EUnavailable, and the
// Service is not ready while writes fail with one (see Service.Ready).
var ErrStorage = errors.New("the database's storage fails")

// Store persists apps, keys, users, tokens, audit events and the outbox
// of events. Implementations
// (such as SQLite; a PostgreSQL store is to follow) hold no business rules: they store what the Service
// hands them, encrypted values included, and report uniqueness violations
// as EConflict errors.
//
// Every lookup of a single row that finds nothing returns
// usercenter.NotFound with the matching Resource.
type Store interface {
	Reader
	// Update runs fn in one write transaction and commits it before
	// returning. If fn returns an error nothing it wrote is kept.
	// Implementations may batch several Updates into one commit (group
	// commit), but each one still succeeds or fails on its own.
	//
	// fn may run more than once: when its transaction loses a race with a
	// concurrent one (PostgreSQL's serialization failures and deadlocks),
	// an implementation rolls it back and runs fn again in a new one, and
	// only the last run's writes and result count. So fn must have no
	// effect outside the Tx that it cannot repeat (no sending, no
	// appending to a caller's slice without resetting it first), and must
	// compute everything it decides from what it reads through the Tx.
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

	// User and the other user reads return records with their
	// third-party links filled in.
	User(ctx context.Context, userID string) (*UserRecord, error)
	// UserCard reads only a user's UserCard columns: for the reads that
	// answer none of the personal data or links that User loads. It
	// fails as User does (NotFound, Resource "user").
	UserCard(ctx context.Context, userID string) (*UserCard, error)
	// UserCardInApp is UserCard for a user of one app: a user of another
	// app is not found, as one that is not there. It is the cheaper read
	// where the app is known (one index, on SQLite, rather than an index
	// and the table).
	UserCardInApp(ctx context.Context, sdkAppID uint64, userID string) (*UserCard, error)
	// UserCardsByOrigin reads the cards of the users UsersByOrigin finds,
	// in the same order.
	UserCardsByOrigin(ctx context.Context, apps []uint64, originID string) ([]UserCard, error)
	UserByOrigin(ctx context.Context, sdkAppID uint64, originID string) (*UserRecord, error)
	// UsersByOrigin finds the users with originID in any of apps, ordered by SdkAppId.
	UsersByOrigin(ctx context.Context, apps []uint64, originID string) ([]UserRecord, error)
	// UsersByIndex finds an app's users whose blind index for field
	// (phone or email) equals index, ordered by UserId.
	UsersByIndex(ctx context.Context, sdkAppID uint64, field usercenter.PIIField, index []byte) ([]UserRecord, error)
	// UserByExternalID finds the user of an app whose ExternalID (SCIM's
	// externalId) is externalID, which is not "".
	UserByExternalID(ctx context.Context, sdkAppID uint64, externalID string) (*UserRecord, error)
	// UserByLink finds the user linked to a third-party account.
	UserByLink(ctx context.Context, sdkAppID uint64, provider usercenter.Provider, providerUserID string) (*UserRecord, error)
	// ListUsers returns one page of an app's users in creation order, and
	// the number of users the app has.
	ListUsers(ctx context.Context, sdkAppID uint64, offset, limit int) ([]UserRecord, int, error)
	// UsersAfter returns up to limit of an app's users with a UserId
	// greater than afterUserID ("" for the start), ordered by UserId.
	UsersAfter(ctx context.Context, sdkAppID uint64, afterUserID string, limit int) ([]UserRecord, error)
	// UsersBefore returns up to limit of an app's users with a UserId
	// less than beforeUserID ("" for the end), newest UserId first.
	UsersBefore(ctx context.Context, sdkAppID uint64, beforeUserID string, limit int) ([]UserRecord, error)
	// UsersModifiedAfter returns up to limit of an app's users in order of
	// their last change, (UpdatedAt, UserId): those after the key (after,
	// afterUserID) and changed before until (no bound for the zero time).
	// A zero after with "" starts at the beginning.
	UsersModifiedAfter(ctx context.Context, sdkAppID uint64, after time.Time, afterUserID string, until time.Time, limit int) ([]UserRecord, error)

	Token(ctx context.Context, hash []byte) (*Token, error)
	// LiveTokens counts a user's login tokens that expire after now.
	LiveTokens(ctx context.Context, userID string, now time.Time) (int, error)

	// UserStats returns an app's user counts, kept by the store in the
	// transaction of every insert, status change and delete of a user, so
	// that reading them never scans the users: the app's active and
	// disabled totals, and the users created on each UTC day from since's
	// day on, oldest first, days without users left out. A deleted user
	// leaves the counts of their day.
	UserStats(ctx context.Context, sdkAppID uint64, since time.Time) (*UserStats, error)

	// Meta returns a named instance-wide value, or nil if it was never set.
	Meta(ctx context.Context, name string) ([]byte, error)

	// AuditEvents returns events matching f in ID order, or in descending
	// ID order when f.NewestFirst. Either way a reader that pages with
	// the last ID it saw (AfterID, or BeforeID newest first) misses none.
	AuditEvents(ctx context.Context, f usercenter.AuditFilter) ([]usercenter.AuditEvent, error)

	// EventsAfter returns up to limit events of the outbox of app sdkAppID
	// (0: the events of the whole instance) with an ID greater than
	// afterID, in ID order. An event never becomes visible after one with
	// a greater ID, so a reader that pages with the last ID it saw misses
	// none.
	EventsAfter(ctx context.Context, sdkAppID uint64, afterID int64, limit int) ([]usercenter.Event, error)
	// Events returns up to f.Limit events that f selects, in ID order,
	// with EventsAfter's guarantee: f.EveryApp reads every app's events
	// and the instance's as one sequence.
	Events(ctx context.Context, f usercenter.EventFilter) ([]usercenter.Event, error)
	// LastEventID returns the greatest ID of the outbox's events, 0 when
	// it has none. Every event that becomes visible later has a greater
	// ID, so a reader that starts after it misses none of them.
	LastEventID(ctx context.Context) (int64, error)

	// SealedValues returns up to limit encrypted values of one kind with a
	// RowKey greater than after, ordered by RowKey, for master-key rotation.
	SealedValues(ctx context.Context, kind SealedKind, after string, limit int) ([]SealedValue, error)

	// EmailIndexes returns up to limit users that have an email, with a
	// UserId greater than afterUserID ("" for the start), ordered by
	// UserId: their sealed email and its blind index, for re-indexing.
	EmailIndexes(ctx context.Context, afterUserID string, limit int) ([]IndexedEmail, error)

	// AppByDomain finds an app by its UserDomain.
	AppByDomain(ctx context.Context, userDomain string) (*AppRecord, error)

	// EnterpriseToken finds an enterprise API access token by its hash
	// (NotFound Resource "token" when absent; expired tokens are returned).
	EnterpriseToken(ctx context.Context, hash []byte) (*EnterpriseToken, error)

	// ConsoleAccount finds a console account by ID, ConsoleAccountByEmail
	// by its email (NotFound Resource "console_account" when absent).
	ConsoleAccount(ctx context.Context, id string) (*ConsoleAccountRecord, error)
	ConsoleAccountByEmail(ctx context.Context, email string) (*ConsoleAccountRecord, error)
	// ConsoleAccounts returns every console account, oldest first.
	ConsoleAccounts(ctx context.Context) ([]ConsoleAccountRecord, error)
	// ConsoleLink finds a one-time link by its hash, used or not
	// (NotFound Resource "token" when absent).
	ConsoleLink(ctx context.Context, hash []byte) (*ConsoleLink, error)
	// ConsoleSession finds a console session by its hash, expired or not
	// (NotFound Resource "token" when absent).
	ConsoleSession(ctx context.Context, hash []byte) (*ConsoleSession, error)
	// ConsoleAttempts returns the sign-in attempts counted under key since
	// the count started; 0 and the zero time when none are.
	ConsoleAttempts(ctx context.Context, key string) (int, time.Time, error)
	WebhookReader
	// SCIMToken finds a SCIM token by the hash of its token, revoked or
	// not (NotFound Resource "token" when absent).
	SCIMToken(ctx context.Context, hash []byte) (*SCIMTokenRecord, error)
	// SCIMTokenByID finds a SCIM token by its ID, revoked or not
	// (NotFound Resource "token" when absent).
	SCIMTokenByID(ctx context.Context, id string) (*SCIMTokenRecord, error)
	// SCIMTokens lists an app's SCIM tokens, revoked ones included, by
	// CreatedAt and then ID.
	SCIMTokens(ctx context.Context, sdkAppID uint64) ([]SCIMTokenRecord, error)
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

	// InsertUser stores a user and their third-party links. It fails with
	// EConflict (Field "OriginId") when the app already has a user with
	// that OriginId, (Field "UserId") on a duplicate UserId, and (Field
	// "thirdPartyIds.<provider>") when a link belongs to another user.
	InsertUser(ctx context.Context, u *UserRecord) error
	// InsertUsers stores users, with their links, as InsertUser stores
	// each in turn, but all or nothing and with as few statements as the
	// engine allows, for bulk imports. When a user cannot be stored none
	// is, and the error is an *ItemError naming the first user, in order,
	// that InsertUser would have refused after storing the ones before it,
	// around the error it would have returned (conflicts within users
	// included).
	InsertUsers(ctx context.Context, users []*UserRecord) error
	// UpdateUser writes every mutable field of u and replaces its links,
	// with the same conflicts as InsertUser.
	UpdateUser(ctx context.Context, u *UserRecord) error
	// DeleteUser removes the user and everything that hangs off it
	// (tokens, links, codes, code attempts); audit events stay.
	DeleteUser(ctx context.Context, userID string) error

	InsertToken(ctx context.Context, t *Token) error
	// DeleteUserTokens removes every login token of a user, expired or
	// not, and reports how many.
	DeleteUserTokens(ctx context.Context, userID string) (int, error)
	// DeleteExpiredTokens removes tokens that expired before now and
	// reports how many.
	DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error)

	SetMeta(ctx context.Context, name string, value []byte) error

	// InsertAudit appends an event; the store assigns its ID, which is
	// set in e by the time Update returns (an engine that writes the
	// events of a batch of Updates together sets it only then).
	InsertAudit(ctx context.Context, e *usercenter.AuditEvent) error
	// EraseAuditUser replaces the UserId of every audit event about
	// userID by usercenter.ErasedUserID, keeping the events, and reports
	// how many it changed.
	EraseAuditUser(ctx context.Context, userID string) (int, error)
	// InsertAudits appends events as InsertAudit appends each in turn,
	// with as few statements as the engine allows; their IDs increase in
	// the order given.
	InsertAudits(ctx context.Context, events []*usercenter.AuditEvent) error

	// InsertEvents appends events to the outbox and sets their IDs, which
	// increase in the order given, by the time Update returns (as
	// InsertAudit).
	InsertEvents(ctx context.Context, events []*usercenter.Event) error
	// EraseEventsUser replaces the UserId in the data of every event of
	// the outbox of app sdkAppID about userID by usercenter.ErasedUserID,
	// keeping the events, and reports how many it changed: an erasure
	// must not leave the UserId in the event stream either.
	EraseEventsUser(ctx context.Context, sdkAppID uint64, userID string) (int, error)
	// DeleteOldEvents deletes up to limit of the outbox's oldest events,
	// in ID order, stopping at the first event made at or after before,
	// and reports how many it deleted. An event never goes while one with
	// a smaller ID stays, so readers paging by ID see no gaps; an event
	// made before the cutoff but after its successor's time may stay
	// until a later purge.
	DeleteOldEvents(ctx context.Context, before time.Time, limit int) (int, error)

	// UpdateSealed replaces one encrypted value found by SealedValues.
	UpdateSealed(ctx context.Context, v SealedValue) error

	// SetEmailIndex replaces the blind index of a user's email, leaving
	// the sealed email as it is. It fails with NotFound (user) when the
	// user is gone or no longer has an email, so that no index outlives
	// the value it finds.
	SetEmailIndex(ctx context.Context, userID string, index []byte) error

	// UpdateApp writes every mutable field of an app: Name, Status,
	// RateLimit, TokenTTL, PhoneRegion, SuperAppCipher, CodeTTL and the
	// sealed SuperApp secret (SdkAppId and UserDomain stay).
	UpdateApp(ctx context.Context, app *AppRecord) error

	// InsertCode stores a super-app temporary code.
	InsertCode(ctx context.Context, c *Code) error
	// TakeCode marks the unused code with this hash used and returns it;
	// NotFound (Resource "code") when there is no such unused code. Two
	// transactions can never take the same code.
	TakeCode(ctx context.Context, hash []byte, at time.Time) (*Code, error)
	// CodeAttempts returns the failed code attempts counted for a user
	// since their last code was issued, and when the count started.
	CodeAttempts(ctx context.Context, sdkAppID uint64, userID string) (int, time.Time, error)
	// SetCodeAttempts sets that count (0 clears it).
	SetCodeAttempts(ctx context.Context, sdkAppID uint64, userID string, n int, since time.Time) error
	// DeleteExpiredCodes removes codes that expired before now, used or not.
	DeleteExpiredCodes(ctx context.Context, now time.Time) (int, error)

	InsertEnterpriseToken(ctx context.Context, t *EnterpriseToken) error
	// DeleteExpiredEnterpriseTokens removes tokens that expired before now.
	DeleteExpiredEnterpriseTokens(ctx context.Context, now time.Time) (int, error)
	// TrimEnterpriseTokens deletes the oldest enterprise tokens of the API
	// key secretID, by CreatedAt and then by hash (bytewise), so that at
	// most keep remain, and reports how many it deleted. Expired tokens
	// count until they are purged. A SecretId without tokens has nothing
	// to trim; a negative keep fails with EInvalid (Field "keep").
	TrimEnterpriseTokens(ctx context.Context, secretID string, keep int) (int, error)

	// InsertConsoleAccount fails with EConflict (Field "email") when
	// another account has the email.
	InsertConsoleAccount(ctx context.Context, a *ConsoleAccountRecord) error
	// UpdateConsoleAccount writes every field of a but its ID and
	// CreatedAt (NotFound when it does not exist; EConflict as Insert).
	UpdateConsoleAccount(ctx context.Context, a *ConsoleAccountRecord) error
	// InsertConsoleLink stores a one-time link; its account, if it names
	// one, must exist (NotFound).
	InsertConsoleLink(ctx context.Context, l *ConsoleLink) error
	// TakeConsoleLink marks the unused link with this hash used and
	// returns it; NotFound (Resource "token") when there is no such unused
	// link. Two transactions can never take the same link.
	TakeConsoleLink(ctx context.Context, hash []byte, at time.Time) (*ConsoleLink, error)
	// InsertConsoleSession stores a session of an existing account.
	InsertConsoleSession(ctx context.Context, s *ConsoleSession) error
	// TouchConsoleSession sets a session's LastSeenAt (NotFound, Resource
	// "token", when it is gone).
	TouchConsoleSession(ctx context.Context, hash []byte, at time.Time) error
	// DeleteConsoleSession ends one session; an absent one is no error.
	DeleteConsoleSession(ctx context.Context, hash []byte) error
	// DeleteConsoleSessions ends every session of an account and reports
	// how many.
	DeleteConsoleSessions(ctx context.Context, accountID string) (int, error)
	// SetConsoleAttempts sets the count of sign-in attempts under key (0
	// removes it).
	SetConsoleAttempts(ctx context.Context, key string, n int, since time.Time) error
	// DeleteExpiredConsole removes the console sessions and links that
	// expired before now, and attempt counts begun before now minus a day.
	DeleteExpiredConsole(ctx context.Context, now time.Time) (int, error)

	// InsertSCIMToken stores a SCIM token. It fails with NotFound (app)
	// when its app does not exist, and EConflict (Field "token") on a
	// duplicate ID or hash.
	InsertSCIMToken(ctx context.Context, t *SCIMTokenRecord) error
	// RevokeSCIMToken sets the token's RevokedAt (a zero at clears it);
	// NotFound (token) when there is no such token.
	RevokeSCIMToken(ctx context.Context, id string, at time.Time) error

	WebhookTx
}

// ConsoleAccountRecord is a console account as stored, with its secrets:
// the password only as an argon2id hash, the TOTP secret sealed by the
// vault, the unused recovery codes only as SHA-256 hashes.
type ConsoleAccountRecord struct {
	usercenter.ConsoleAccount
	PasswordHash string // PHC-style argon2id string; "" until a password is set
	SealedTOTP   []byte // vault ciphertext; nil without two-factor
	// TOTPStep is the time step (Unix time / 30 s) of the last TOTP code
	// that signed in: a code is good once, so only a later step's is.
	TOTPStep      int64
	RecoveryCodes [][]byte // SHA-256 hashes (32 bytes each) of the unused recovery codes
}

// ConsoleLink is a one-time sign-in link as stored: only its SHA-256 hash.
// A link without an account is the first setup's, which creates an admin.
type ConsoleLink struct {
	Hash      []byte
	AccountID string // "" for the first setup
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until taken
}

// ConsoleSession is a signed-in console session as stored: only the
// SHA-256 hash of the cookie's token. ExpiresAt is its absolute end; it
// also ends when idle too long after LastSeenAt.
type ConsoleSession struct {
	Hash       []byte
	AccountID  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// ItemError is the error of one item of a batch (Tx.InsertUsers).
type ItemError struct {
	Index int   // the item's position in the batch, from 0
	Err   error // what went wrong with it
}

func (e *ItemError) Error() string { return fmt.Sprintf("item %d: %v", e.Index, e.Err) }

func (e *ItemError) Unwrap() error { return e.Err }

// Code is a super-app temporary code as stored: only its SHA-256 hash,
// bound to one app, user and kind of value.
type Code struct {
	Hash      []byte
	SdkAppID  uint64
	UserID    string
	Field     usercenter.PIIField // phone or email
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until taken
}

// EnterpriseToken is an access token of the enterprise API as stored:
// only its hash, and the API key it was issued to. Revoking the key ends
// it at once, because every use checks the key.
type EnterpriseToken struct {
	Hash      []byte
	SecretID  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SCIMTokenRecord is a SCIM token as stored: only the SHA-256 hash of its
// token, which the embedded SCIMToken leaves empty.
type SCIMTokenRecord struct {
	usercenter.SCIMToken
	Hash []byte
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

// UserRecord is a user as stored: Phone, Email and Address of the
// embedded User are empty, and live sealed by the vault in SealedPhone,
// SealedEmail and SealedAddress, with blind indexes of the phone and email
// for exact lookups.
type UserRecord struct {
	usercenter.User
	SealedPhone, SealedEmail, SealedAddress []byte // vault ciphertext; nil when empty
	PhoneIndex, EmailIndex                  []byte // HMAC-SHA256 blind indexes; nil when empty
}

// UserCard is the part of a user that reads which show no personal data
// need: who the user is, whether they are active, and their public name
// and picture. It holds no sealed value and no third-party link, so
// reading it opens nothing and loads a few short columns of one row
// (LCIC DescribeUser, the super-app's getUserNick, getUserAvatar and
// checkUser read only this).
type UserCard struct {
	ID       string
	SdkAppID uint64
	OriginID string
	Status   usercenter.UserStatus
	Nickname string
	Avatar   string
}

// UserStats are an app's user counts (see Reader.UserStats).
type UserStats struct {
	Active, Disabled int
	Days             []DayCount
}

// DayCount is how many users were created on one UTC day.
type DayCount struct {
	Day     time.Time // midnight UTC
	Created int
}

// Token is a login token as stored: only its SHA-256 hash.
type Token struct {
	Hash      []byte
	UserID    string
	SdkAppID  uint64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SealedKind names a column of encrypted values.
type SealedKind string

const (
	SealedAppSecret     SealedKind = "app.superapp_secret"  // RowKey: SdkAppId in decimal, zero-padded to 20 digits
	SealedKeySecret     SealedKind = "key.secret_key"       // RowKey: SecretId
	SealedMeta          SealedKind = "meta.value"           // RowKey: name
	SealedUserPhone     SealedKind = "user.phone"           // RowKey: UserId
	SealedUserEmail     SealedKind = "user.email"           // RowKey: UserId
	SealedUserAddress   SealedKind = "user.address"         // RowKey: UserId
	SealedConsoleTOTP   SealedKind = "console_account.totp" // RowKey: the account's ID
	SealedWebhookSecret SealedKind = "webhook.secret"       // RowKey: the endpoint's ID
)

// SealedKinds lists every kind, for rotation.
var SealedKinds = []SealedKind{SealedAppSecret, SealedKeySecret, SealedMeta, SealedUserPhone, SealedUserEmail, SealedUserAddress, SealedConsoleTOTP, SealedWebhookSecret}

// SealedValue is one encrypted value and where it lives. Rows whose value
// is NULL are never returned.
type SealedValue struct {
	Kind   SealedKind
	RowKey string
	Value  []byte
}

// IndexedEmail is one user's sealed email and the blind index it is found
// by, as EmailIndexes lists them.
type IndexedEmail struct {
	UserID   string
	SdkAppID uint64
	Sealed   []byte
	Index    []byte // nil when the user has an email but no index
}
