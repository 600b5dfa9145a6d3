package usercenter

import "time"

// AuditEvent records one disclosure of personal data, one change made to
// a user, or one administrative change (apps, keys, the master key). It
// never holds the values themselves.
type AuditEvent struct {
	ID       int64 // assigned by the store, increasing
	At       time.Time
	SdkAppID uint64 // 0 for what concerns the whole instance (master_key.rotate)
	UserID   string // "" for administrative changes, which concern no user
	Action   AuditAction
	// Field is the field disclosed or changed, or the app's setting
	// changed; "" for create and delete. Key events have no field to name:
	// it holds the key's SecretId, which is no secret.
	Field     string
	Actor     string // Actor.Name
	RequestID string
	// Reason is why the actor did it, in their words, when they were asked
	// (a console operator's reveal); "" otherwise.
	Reason string
}

// AuditAction is what an audit event records.
type AuditAction string

const (
	AuditReveal  AuditAction = "reveal"  // a plain value was shown
	AuditDeliver AuditAction = "deliver" // an encrypted value was handed out
	AuditCreate  AuditAction = "create"
	AuditUpdate  AuditAction = "update"
	AuditDelete  AuditAction = "delete"
	// AuditErase records a data subject's erasure: the user was deleted
	// and the UserId of every event about them became ErasedUserID.
	AuditErase AuditAction = "erase"
	// AuditTokensRevoke records that a user's login tokens were revoked.
	AuditTokensRevoke AuditAction = "tokens.revoke"

	// Administrative changes, which concern no user.
	AuditAppCreate             AuditAction = "app.create"
	AuditAppUpdate             AuditAction = "app.update" // one per changed setting, named by Field
	AuditKeyCreate             AuditAction = "key.create" // one per app of the key
	AuditKeyRevoke             AuditAction = "key.revoke" // one per app of the key
	AuditSuperAppSecretReplace AuditAction = "superapp_secret.replace"
	AuditMasterKeyRotate       AuditAction = "master_key.rotate"

	// The console's own events, with the console account as the actor
	// (usercenter.ConsoleActorName) and the account concerned in Field.
	AuditConsoleSignIn       AuditAction = "console.sign_in"
	AuditConsoleSignInFailed AuditAction = "console.sign_in_failed"
	AuditConsoleLockout      AuditAction = "console.lockout"
	AuditConsoleSignOut      AuditAction = "console.sign_out"
	// AuditConsoleAccountCreate records an invitation (or the first
	// setup); AuditConsoleAccountUpdate one changed setting of an account,
	// named after the account's ID in Field as "<id>:<setting>" (role,
	// apps, status, password, two_factor, lock).
	AuditConsoleAccountCreate AuditAction = "console.account.create"
	AuditConsoleAccountUpdate AuditAction = "console.account.update"
	// Webhook endpoints: Field holds the endpoint's ID, which is no secret.
	AuditWebhookCreate AuditAction = "webhook.create"
	AuditWebhookUpdate AuditAction = "webhook.update"
	AuditWebhookDelete AuditAction = "webhook.delete"
	AuditWebhookReplay AuditAction = "webhook.replay"
	// SCIM tokens: Field holds the token's ID, which is no secret.
	AuditSCIMTokenCreate AuditAction = "scim_token.create"
	AuditSCIMTokenRevoke AuditAction = "scim_token.revoke"
)

// ErasedUserID is the UserId of the audit events of an erased user, and of
// the erase event itself: the tombstone that keeps the events' existence
// (when, in which app, which action on which field, by whom) but no
// longer says whom they were about.
const ErasedUserID = "erased"

// AuditActions lists every AuditAction, in the order messages name them.
var AuditActions = []AuditAction{AuditReveal, AuditDeliver, AuditCreate, AuditUpdate, AuditDelete, AuditErase, AuditTokensRevoke,
	AuditAppCreate, AuditAppUpdate, AuditKeyCreate, AuditKeyRevoke, AuditSuperAppSecretReplace, AuditMasterKeyRotate,
	AuditConsoleSignIn, AuditConsoleSignInFailed, AuditConsoleLockout, AuditConsoleSignOut,
	AuditConsoleAccountCreate, AuditConsoleAccountUpdate,
	AuditWebhookCreate, AuditWebhookUpdate, AuditWebhookDelete, AuditWebhookReplay,
	AuditSCIMTokenCreate, AuditSCIMTokenRevoke}

// Valid reports whether a is one of AuditActions.
func (a AuditAction) Valid() bool {
	for _, k := range AuditActions {
		if a == k {
			return true
		}
	}
	return false
}

// AuditFilter selects audit events. Zero fields match everything.
type AuditFilter struct {
	Apps     []uint64 // nil: every app
	SdkAppID uint64
	UserID   string
	Field    string
	Action   AuditAction
	Actor    string
	Since    time.Time
	Until    time.Time
	AfterID  int64 // keyset cursor of oldest first: events with a greater ID
	// NewestFirst orders events by descending ID instead of ascending.
	NewestFirst bool
	BeforeID    int64 // keyset cursor of newest first: events with a smaller ID
	Limit       int
}
