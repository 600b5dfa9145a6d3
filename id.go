package usercenter

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"time"

	"github.com/segmentio/ksuid"
)

const (
	base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	base36 = "0123456789abcdefghijklmnopqrstuvwxyz"
)

// NewUserID returns a KSUID: 27 base62 characters that sort by creation
// time, with 128 random bits.
func NewUserID(now time.Time) string {
	id, err := ksuid.NewRandomWithTime(now)
	if err != nil {
		panic("usercenter: no randomness: " + err.Error())
	}
	return id.String()
}

// ValidUserID reports whether s has the shape of a UserId.
func ValidUserID(s string) bool {
	if len(s) != 27 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	_, err := ksuid.Parse(s)
	return err == nil
}

// NewSecretID returns an API key ID: "AKID" and 32 base62 characters.
func NewSecretID() string { return "AKID" + randomString(base62, 32) }

// NewSecretKey returns an API key secret: 32 base62 characters.
func NewSecretKey() string { return randomString(base62, 32) }

// NewSuperAppSecretKey returns a 32-character AES-256 key for the super-app API.
func NewSuperAppSecretKey() string { return randomString(base62, 32) }

// NewToken returns an opaque login token: 35 base36 characters (181 bits).
func NewToken() string { return randomString(base36, 35) }

// HashToken is how tokens and codes are stored: they carry enough entropy
// that a plain SHA-256 cannot be reversed.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// randomString draws n characters uniformly from alphabet.
func randomString(alphabet string, n int) string {
	out := make([]byte, n)
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the draw
	buf := make([]byte, 2*n)
	i := 0
	for i < n {
		if _, err := rand.Read(buf); err != nil {
			panic("usercenter: no randomness: " + err.Error())
		}
		for _, b := range buf {
			if int(b) < limit {
				out[i] = alphabet[int(b)%len(alphabet)]
				i++
				if i == n {
					break
				}
			}
		}
	}
	return string(out)
}
