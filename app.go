package usercenter

import (
	"slices"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// App is one tenant: an application whose users usercenter keeps. Users,
// tokens and codes of one app are never visible through another.
type App struct {
	SdkAppID   uint64
	Name       string
	UserDomain string // unique; the enterprise API addresses apps by it
	Status     AppStatus
	// RateLimit is the sustained requests per second allowed for each
	// action of the app; the burst equals the rate.
	RateLimit int
	TokenTTL  time.Duration
	// SuperAppSecretKey signs and encrypts the super-app API. It is kept
	// encrypted at rest and only ever decrypted in memory.
	SuperAppSecretKey string
	// PhoneRegion is the ISO 3166 region of national phone numbers, "CN"
	// unless set.
	PhoneRegion string
	// SuperAppCipher is how the super-app API encrypts the phone numbers
	// and emails it hands out.
	SuperAppCipher SuperAppCipher
	// CodeTTL is how long a super-app temporary code lives.
	CodeTTL   time.Duration
	CreatedAt time.Time
}

// SuperAppCipher names an encryption of values handed to the super-app
// platform, all keyed with the app's SuperAppSecretKey.
type SuperAppCipher string

const (
	CipherAESECBHex    SuperAppCipher = "aes-ecb-hex"    // PKCS7, lowercase hex: mirrors TC-Signature
	CipherAESCBCBase64 SuperAppCipher = "aes-cbc-base64" // PKCS7, IV = the key's first 16 bytes
	CipherAESGCMBase64 SuperAppCipher = "aes-gcm-base64" // a random 12-byte nonce before the ciphertext
)

// Valid reports whether c is a known cipher.
func (c SuperAppCipher) Valid() bool {
	return c == CipherAESECBHex || c == CipherAESCBCBase64 || c == CipherAESGCMBase64
}

// AppStatus says whether an app serves requests.
type AppStatus int

const (
	AppDisabled AppStatus = 0
	AppActive   AppStatus = 1
)

// Defaults for new apps.
const (
	DefaultRateLimit = 20
	DefaultTokenTTL  = 7 * 24 * time.Hour
	DefaultCodeTTL   = 5 * time.Minute
)

// Validate checks the rules every stored app obeys.
func (a *App) Validate() error {
	if err := checkText(FieldAppName, a.Name, 1, 128); err != nil {
		return err
	}
	if !validUserDomain(a.UserDomain) {
		return Invalid(FieldUserDomain, "must be 1 to 64 characters of a-z, 0-9, '.', '_' or '-'")
	}
	if a.RateLimit < 1 || a.RateLimit > 100000 {
		return Invalid(FieldRateLimit, "must be between 1 and 100000 requests per second")
	}
	if a.TokenTTL < time.Minute || a.TokenTTL > 366*24*time.Hour {
		return Invalid(FieldTokenTTL, "must be between 1 minute and 366 days")
	}
	if len(a.PhoneRegion) != 2 || strings.ToUpper(a.PhoneRegion) != a.PhoneRegion || phonenumbers.GetCountryCodeForRegion(a.PhoneRegion) == 0 {
		return Invalid(FieldPhoneRegion, "must be a two-letter ISO 3166 region code with a phone numbering plan, such as CN")
	}
	if !a.SuperAppCipher.Valid() {
		return Invalid(FieldSuperAppCipher, "must be aes-ecb-hex, aes-cbc-base64 or aes-gcm-base64")
	}
	if a.CodeTTL < 30*time.Second || a.CodeTTL > time.Hour {
		return Invalid(FieldCodeTTL, "must be between 30 seconds and 1 hour")
	}
	switch len(a.SuperAppSecretKey) {
	case 16, 24, 32:
	default:
		return Invalid(FieldSuperAppSecretKey, "must be 16, 24 or 32 characters")
	}
	return nil
}

func validUserDomain(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Permission is one right an API key may carry.
type Permission string

const (
	PermUsersRead  Permission = "users.read"
	PermUsersWrite Permission = "users.write"
	PermPIIRead    Permission = "pii.read"
	// PermWebhooksManage creates, changes, tests and replays the app's
	// webhook endpoints.
	PermWebhooksManage Permission = "webhooks.manage"
)

// AllPermissions lists every permission, in their canonical order.
var AllPermissions = []Permission{PermUsersRead, PermUsersWrite, PermPIIRead, PermWebhooksManage}

// knownPermissions lists AllPermissions for messages.
var knownPermissions = func() string {
	names := make([]string, len(AllPermissions))
	for i, p := range AllPermissions {
		names[i] = string(p)
	}
	return strings.Join(names, ", ")
}()

// ParsePermissions reads a comma-separated list such as "users.read,pii.read".
func ParsePermissions(s string) ([]Permission, error) {
	var out []Permission
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !slices.Contains(AllPermissions, Permission(p)) {
			return nil, Invalid(FieldPermissions, "names an unknown permission %q (known: %s)", p, knownPermissions)
		}
		if !slices.Contains(out, Permission(p)) {
			out = append(out, Permission(p))
		}
	}
	if len(out) == 0 {
		return nil, Invalid(FieldPermissions, "must name at least one permission")
	}
	return out, nil
}

// APIKey is a SecretId/SecretKey pair that signs calls for one or more apps.
type APIKey struct {
	SecretID    string
	SecretKey   string // plaintext only in memory; encrypted at rest
	Name        string
	Apps        []uint64
	Permissions []Permission
	CreatedAt   time.Time
	RevokedAt   time.Time // zero while the key is live
}

// Revoked reports whether the key has been revoked.
func (k *APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }
