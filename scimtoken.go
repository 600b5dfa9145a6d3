package usercenter

import (
	"slices"
	"time"
)

// SCIMToken is a bearer token with which an identity provider provisions
// the users of one app over SCIM 2.0. It always reads the app's users;
// Permissions adds what more it may do (users.write, pii.read). Like a
// login token it is shown once, when created, and stored only as a hash.
type SCIMToken struct {
	ID          string // "scim" and 20 base62 characters; not secret
	Token       string // plaintext only in the answer to its creation
	SdkAppID    uint64
	Permissions []Permission // users.read always, and users.write or pii.read as granted
	CreatedAt   time.Time
	RevokedAt   time.Time // zero while the token is live
}

// NewSCIMTokenID returns a SCIM token's ID: "scim" and 20 base62 characters.
func NewSCIMTokenID() string { return "scim" + randomString(base62, 20) }

// Revoked reports whether the token has been revoked.
func (t *SCIMToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// Actor returns the actor the token acts as: "scim:<ID>", scoped to its
// one app.
func (t *SCIMToken) Actor() *Actor {
	return &Actor{Name: "scim:" + t.ID, Apps: []uint64{t.SdkAppID}, Permissions: slices.Clone(t.Permissions)}
}
