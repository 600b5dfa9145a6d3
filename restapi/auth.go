package restapi

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"usercenter"
)

// errBadKey is the one answer to every failed key authentication: missing
// or malformed credentials, an unknown or revoked SecretId, a wrong
// SecretKey. Telling them apart would help whoever guesses.
var errBadKey = &problem{Code: "unauthenticated", Detail: "authenticate with HTTP Basic: an API key's SecretId as user name and its SecretKey as password"}

// maxSecretIDLen bounds what is looked up; real SecretIds have 36 bytes.
const maxSecretIDLen = 128

// authenticateKey checks HTTP Basic credentials against the key store and
// returns the actor the key acts as.
func (a *api) authenticateKey(r *http.Request) (*usercenter.Actor, error) {
	id, secret, ok := r.BasicAuth()
	if !ok || id == "" || len(id) > maxSecretIDLen {
		return nil, errBadKey
	}
	key, err := a.svc.Key(r.Context(), id)
	if err != nil {
		// ENotFound (unknown or revoked) maps to errBadKey; a store
		// failure stays a 500 or 503.
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(key.SecretKey)) != 1 {
		return nil, errBadKey
	}
	return key.Actor(), nil
}

// authenticateToken checks a user's login token and returns its user,
// personal data masked: for a token, authenticating is the whole of the
// session check.
func (a *api) authenticateToken(r *http.Request) (*usercenter.User, error) {
	token, ok := bearerToken(r)
	if !ok {
		return nil, &problem{Code: "unauthenticated", Detail: "send the user's login token as Authorization: Bearer <token>"}
	}
	return a.svc.Me(r.Context(), token)
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
