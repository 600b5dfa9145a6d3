package superapp

import (
	"net/http"
	"strconv"

	"usercenter"
)

// maxSignatureLen bounds TC-Signature: a 19-digit timestamp pads to two
// AES blocks, 64 hex digits.
const maxSignatureLen = 128

// authenticate reads the request's TC-Timestamp and TC-Signature and has
// core check them against app sdkAppID: TC-Signature is the hex of
// AES-ECB with PKCS7 padding over the TC-Timestamp string, keyed with the
// raw bytes of the app's SuperAppSecretKey (sacipher.Signature). Every
// failure is a 401 that names what to fix and nothing about the app or its
// users: an unknown app fails like a wrong key.
func (a *api) authenticate(r *http.Request, sdkAppID uint64) (*usercenter.Actor, error) {
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
	return a.svc.AuthenticateSuperApp(r.Context(), sdkAppID, ts, ms, sig)
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
