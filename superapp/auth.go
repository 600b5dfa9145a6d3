package superapp

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"usercenter"
	"usercenter/core"
)

// MaxSkew is how far TC-Timestamp may be from the server's clock, either
// way. The signature covers only the timestamp, not the body, so this
// window is also how long a captured request can be replayed.
const MaxSkew = 5 * time.Minute

// maxSignatureLen bounds TC-Signature: a 19-digit timestamp pads to two
// AES blocks, 64 hex digits.
const maxSignatureLen = 128

// authenticate checks the request's TC-Timestamp and TC-Signature against
// app sdkAppID and returns the app, its SuperAppSecretKey decrypted.
//
// TC-Signature is the hex of AES-ECB with PKCS7 padding over the
// TC-Timestamp string, keyed with the raw bytes of the app's
// SuperAppSecretKey; it is compared in constant time. Every failure is a
// 401 that names what to fix and nothing about the app or its users: an
// unknown app fails like a wrong key.
func (a *api) authenticate(r *http.Request, sdkAppID uint64) (*usercenter.App, error) {
	// Canonical spellings of TC-Timestamp and TC-Signature, which Get would
	// otherwise allocate to canonicalize.
	ts, sig := r.Header.Get("Tc-Timestamp"), r.Header.Get("Tc-Signature")
	if ts == "" || sig == "" {
		return nil, authFailed("missing headers", msgMissingHeaders)
	}
	ms, ok := parseMillis(ts)
	if !ok {
		return nil, authFailed("malformed TC-Timestamp", msgBadTimestamp)
	}
	if len(sig) > maxSignatureLen || len(sig)%2 != 0 || !isHex(sig) {
		return nil, authFailed("malformed TC-Signature", msgNotHex)
	}
	now := a.svc.Now().UnixMilli()
	if d := now - ms; d > MaxSkew.Milliseconds() || d < -MaxSkew.Milliseconds() {
		return nil, authFailed("stale TC-Timestamp", msgStale)
	}
	app, err := a.svc.App(r.Context(), sdkAppID)
	if usercenter.ErrorCode(err) == usercenter.ENotFound {
		return nil, authFailed("unknown app", msgBadSignature)
	}
	if err != nil {
		return nil, err
	}
	want, err := Signature(app.SuperAppSecretKey, ts)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(sig)), []byte(want)) != 1 {
		return nil, authFailed("wrong signature", msgBadSignature)
	}
	return app, nil
}

// Signature is the TC-Signature of a TC-Timestamp under key: the
// lowercase hex of AES-ECB with PKCS7 padding over the timestamp string,
// keyed with the raw bytes of the SuperAppSecretKey.
func Signature(key, timestamp string) (string, error) {
	return core.SuperAppEncrypt(usercenter.CipherAESECBHex, key, timestamp)
}

// parseMillis reads a TC-Timestamp: 1 to 19 decimal digits.
//
// Leading zeros are refused. TC-Signature is AES-ECB of the timestamp
// under the same key that encrypts delivered values, and a 16-digit
// "000…" timestamp fills a whole block, which a delivered email chosen by
// a user could contain; a canonical 13-digit timestamp needs padding
// bytes no phone or email can hold.
func parseMillis(s string) (int64, bool) {
	if len(s) > 19 || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	return ms, err == nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
