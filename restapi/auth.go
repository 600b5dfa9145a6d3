package restapi

import (
	"net/http"
	"strings"

	"usercenter"
)

// errBadKey is the one answer to every failed key authentication: missing
// or malformed credentials, an unknown or revoked SecretId, a wrong
// SecretKey. Telling them apart would help whoever guesses.
var errBadKey = &problem{Code: "unauthenticated", Detail: "authenticate with HTTP Basic: an API key's SecretId as user name and its SecretKey as password"}

// authenticateKey has core check HTTP Basic credentials (a key's SecretId
// and SecretKey) and returns the actor the key acts as.
func (a *api) authenticateKey(r *http.Request) (*usercenter.Actor, error) {
	id, secret, ok := r.BasicAuth()
	if !ok || id == "" {
		return nil, errBadKey
	}
	// An unknown or revoked key and a wrong secret map to errBadKey; a
	// store failure stays a 500 or 503.
	return a.svc.AuthenticateKey(r.Context(), id, secret)
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
