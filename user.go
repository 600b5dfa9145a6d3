package usercenter

import (
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// User is one end user of one app.
type User struct {
	ID       string // instance-wide unique, 27 characters of base62
	SdkAppID uint64
	OriginID string // the user's ID in the app's own system; unique per app
	// ExternalID is the user's ID in an identity provider that provisions
	// them (SCIM's externalId), as the provider gave it: unique per app
	// when set, empty when not.
	ExternalID  string
	Status      UserStatus
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastLoginAt time.Time // zero until the first login
	// UserDomain is the user domain of the user's app; it is not stored
	// with the user but filled in when a user is read.
	UserDomain string
	Profile
}

// UserStatus says whether a user may log in and be served.
type UserStatus int

const (
	UserDisabled UserStatus = 0
	UserActive   UserStatus = 1
)

// Limits on user fields.
const (
	MaxOriginIDLen = 128
	MaxNicknameLen = 128 // characters
	MaxAvatarLen   = 1024
	// MaxExternalIDLen bounds an externalId, in bytes: providers send
	// GUIDs, their own IDs or email addresses.
	MaxExternalIDLen = 256
)

// CheckExternalID validates an externalId; empty means none. It is text
// kept exactly as sent, so only control characters and absurd lengths
// are refused.
func CheckExternalID(field Field, s string) error {
	if len(s) > MaxExternalIDLen {
		return Invalid(field, "must be at most %d bytes", MaxExternalIDLen)
	}
	return checkText(field, s, 0, MaxExternalIDLen)
}

// CheckOriginID validates an OriginId; empty means "use the UserId".
func CheckOriginID(field Field, s string) error {
	if s == "" {
		return nil
	}
	if len(s) > MaxOriginIDLen {
		return Invalid(field, "must be at most %d bytes", MaxOriginIDLen)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == utf8.RuneError {
			return Invalid(field, "must be printable characters without spaces")
		}
	}
	return nil
}

// CheckNickname validates a nickname; empty is allowed.
func CheckNickname(field Field, s string) error {
	return checkText(field, s, 0, MaxNicknameLen)
}

// CheckAvatar validates an avatar URL; empty is allowed.
func CheckAvatar(field Field, s string) error {
	if s == "" {
		return nil
	}
	if len(s) > MaxAvatarLen {
		return Invalid(field, "must be at most %d bytes", MaxAvatarLen)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(s, " \t\r\n") {
		return Invalid(field, "must be an absolute http or https URL")
	}
	return nil
}

// CheckUserID validates the shape of a UserId.
func CheckUserID(field Field, s string) error {
	if !ValidUserID(s) {
		return Invalid(field, "must be a 27-character user ID")
	}
	return nil
}

// checkText validates free text: valid UTF-8, no control characters, and a
// length in characters between min and max.
func checkText(field Field, s string, min, max int) error {
	if !utf8.ValidString(s) {
		return Invalid(field, "must be valid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	if n < min {
		return Invalid(field, "must not be empty")
	}
	if n > max {
		return Invalid(field, "must be at most %d characters", max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return Invalid(field, "must not contain control characters")
		}
	}
	return nil
}
