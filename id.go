package usercenter

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/ksuid"
)

const (
	base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	base36 = "0123456789abcdefghijklmnopqrstuvwxyz"
)

// NewUserID returns a KSUID: 27 base62 characters that sort by creation
// time. Its payload starts with the nanosecond within the second, followed
// by 96 random bits, so that IDs made one after the other also sort in
// that order within a second. Every index that leads with a UserId (the
// users' primary key, their audit trail, their tokens) then grows at its
// right edge instead of at random places in the second's range: a group
// commit of a few dozen registrations writes a handful of index pages
// instead of one or more per registration per index. With TokenKey's
// ordered keys, that halved the SQLite writer's time per registration
// and cut what it writes from 30 KiB to 9 (sqlite.BenchmarkRegister).
func NewUserID(now time.Time) string {
	return orderedKSUID(now).String()
}

func orderedKSUID(now time.Time) ksuid.KSUID {
	var payload [16]byte
	binary.BigEndian.PutUint32(payload[:4], uint32(now.Nanosecond()))
	if _, err := rand.Read(payload[4:]); err != nil {
		panic("usercenter: no randomness: " + err.Error())
	}
	id, err := ksuid.FromParts(now, payload[:])
	if err != nil {
		panic("usercenter: " + err.Error())
	}
	return id
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
	// What ksuid.Parse checks beyond that, without its base-62 arithmetic
	// on every request: base-62 digits sort as their ASCII characters, so
	// at a fixed length comparing strings compares the numbers.
	return s <= maxKSUID
}

// maxKSUID is the largest KSUID, in base 62.
const maxKSUID = "aWgEPTl1tmebfsQzFP4bxwgy80V"

// NewSecretID returns an API key ID: "AKID" and 32 base62 characters.
func NewSecretID() string { return "AKID" + randomString(base62, 32) }

// NewSecretKey returns an API key secret: 32 base62 characters.
func NewSecretKey() string { return randomString(base62, 32) }

// NewSuperAppSecretKey returns a 32-character AES-256 key for the super-app API.
func NewSuperAppSecretKey() string { return randomString(base62, 32) }

// NewToken returns an opaque login token: 35 base36 characters (181 bits).
// Enterprise access tokens and super-app codes are such tokens too; login
// tokens are made by NewLoginToken.
func NewToken() string { return randomString(base36, 35) }

// loginTokenLen is the length of a NewLoginToken: a 27-character KSUID
// and a NewToken.
const loginTokenLen = 27 + 35

// NewLoginToken returns an opaque login token issued at now: a KSUID that
// sorts by issue time (as NewUserID's do) followed by 35 random base36
// characters (181 bits). The KSUID is not secret: it only lets TokenKey
// give tokens keys in issue order; see TokenKey.
func NewLoginToken(now time.Time) string {
	return orderedKSUID(now).String() + NewToken()
}

// TokenKey is what a login token is stored and found under: for a token
// of NewLoginToken, the 8 time bytes of its KSUID followed by the SHA-256
// of the whole token, and for any other (a token issued before login
// tokens carried a KSUID) its SHA-256 alone, as those were stored.
//
// Stored under a bare hash, every new token lands at a random place in
// the tokens' primary-key index, so each registration of a group commit
// dirties (and the commit writes) a page of its own; under time-ordered
// keys they all land at the index's right edge. The key stays unguessable
// and unique: the hash covers the random part.
func TokenKey(token string) []byte {
	if len(token) == loginTokenLen {
		if id, err := ksuid.Parse(token[:27]); err == nil {
			h := sha256.Sum256([]byte(token))
			return append(id.Bytes()[:8:8], h[:]...)
		}
	}
	return HashToken(token)
}

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

// ParseSdkAppID reads an SdkAppId as it appears in a path: canonical
// decimal, that is digits only, without sign or leading zeros, and not 0.
// "01491231270" and "+1491231270" name no app: a URL names one app one
// way, so that caches, logs and access rules keyed by path cannot be
// fooled by another spelling of the same ID.
func ParseSdkAppID(s string) (uint64, bool) {
	if s == "" || s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseUint(s, 10, 64)
	return id, err == nil
}
