package tcapi

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"usercenter"
	"usercenter/httpio"
	"usercenter/tcsig"
)

// admitLargeBody lets the gateway read past the first httpio.SmallBody
// bytes of a body only when the request names a live key: a TC3
// Authorization header of the right form, or a signature v1 SecretId in
// the query (GET) or within those first bytes of the form (POST). The
// signature signs the body, so it can be checked only once the body is
// read; this is the cheaper check that comes first, so that strangers
// cannot make the server hold megabytes each. Everything else is refused
// with what has been read so far, in the answer the full check would give
// where it can know it.
func (h *Handler) admitLargeBody(r *http.Request, head []byte) error {
	secretID, aerr := h.claimedSecretID(r, head)
	if aerr != nil {
		return aerr
	}
	if err := h.keyIsLive(r.Context(), secretID); err != nil {
		return fromDomain(err)
	}
	return nil
}

// keyIsLive is nil when secretID names a key that exists and is not
// revoked, ENotFound for an unknown or revoked key, and the lookup's error
// otherwise. Only existence matters here, not the secret.
func (h *Handler) keyIsLive(ctx context.Context, secretID string) error {
	live, err := h.svc.KeyExists(ctx, secretID)
	if err != nil {
		return err
	}
	if !live {
		return usercenter.NotFound(usercenter.ResourceKey)
	}
	return nil
}

// The answers to a large body that names no key.
var (
	errLargeUnsigned = &apiError{Code: "AuthFailure.InvalidAuthorization", Message: fmt.Sprintf(
		"request is not signed: a body over %d bytes is read only from a request signed with TC3-HMAC-SHA256, or with signature v1 and its SecretId within the first %d bytes of the form",
		httpio.SmallBody, httpio.SmallBody)}
	errLargeNoSecretID = &apiError{Code: "MissingParameter", Message: fmt.Sprintf(
		"the parameter SecretId is missing: in a form body over %d bytes it must come within the first %d bytes, as the SDKs, which sort the parameters, send it",
		httpio.SmallBody, httpio.SmallBody)}
	errBadSecretID = &apiError{Code: "InvalidParameter", Message: "SecretId must be 1 to 128 characters of [A-Za-z0-9._-]"}
)

// tc3Algorithm starts the Authorization header of a TC3 request; tcsig
// picks TC3 by the same test.
const tc3Algorithm = "TC3-HMAC-SHA256"

// claimedSecretID is the SecretId a request presents, its form checked as
// far as it can be without the whole body; head is the start of the body.
func (h *Handler) claimedSecretID(r *http.Request, head []byte) (string, *apiError) {
	for _, a := range r.Header.Values("Authorization") {
		if strings.HasPrefix(a, tc3Algorithm) {
			// Everything TC3 signs but the body is in the headers: parsed
			// without the body, they are checked as they will be with it
			// (the form of Authorization, the timestamp and its skew, the
			// signed headers), and only the body's hash is not.
			signed, err := tcsig.Parse(&tcsig.Request{
				Method: r.Method, Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header,
			}, h.svc.Now())
			if err != nil {
				return "", fromSignature(err)
			}
			return signed.SecretID, nil
		}
	}
	// Signature v1, where tcsig looks for it: the query of a GET, the form
	// body of a POST (a form, or a body without a Content-Type).
	var params []byte
	whole := true
	switch ct := r.Header.Get("Content-Type"); {
	case r.Method == http.MethodGet:
		params = []byte(r.URL.RawQuery)
	case ct == "" || isForm(ct):
		params, whole = head, false
	default:
		return "", errLargeUnsigned
	}
	id, found := formValue(params, "SecretId", whole)
	switch {
	case !found && hasParam(params, "Signature", whole):
		return "", errLargeNoSecretID
	case !found:
		return "", errLargeUnsigned
	case !tcsig.ValidSecretID(id):
		return "", errBadSecretID
	}
	return id, nil
}

func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// formValue finds the first value of name in a query or form string. When
// s is not whole but the start of a longer one, its last parameter may be
// cut short, and is not looked at.
func formValue(s []byte, name string, whole bool) (string, bool) {
	for len(s) > 0 {
		piece, rest, more := bytes.Cut(s, []byte("&"))
		if !more && !whole {
			break
		}
		s = rest
		k, v, _ := bytes.Cut(piece, []byte("="))
		if bytes.ContainsAny(k, "%+") {
			if key, err := url.QueryUnescape(string(k)); err != nil || key != name {
				continue
			}
		} else if string(k) != name {
			continue
		}
		val, err := url.QueryUnescape(string(v))
		if err != nil {
			return "", true // malformed: validSecretID refuses it
		}
		return val, true
	}
	return "", false
}

// hasParam reports whether s has a parameter name.
func hasParam(s []byte, name string, whole bool) bool {
	_, found := formValue(s, name, whole)
	return found
}
