// Package tcsig verifies Tencent Cloud API 3.0 request signatures on the
// server side: TC3-HMAC-SHA256 and the older signature v1 (HmacSHA1 and
// HmacSHA256), in the exact variants the official SDKs produce.
//
// Verification happens in two steps because the secret is not known until the
// SecretId has been read from the request: Parse extracts and checks
// everything that does not need the secret (shape, timestamp skew), the
// caller looks the SecretId up, and Signed.Verify recomputes the signature.
// The package does no I/O and never reads the clock, so callers and tests
// control time.
//
// What a valid signature does NOT cover, as the official SDKs sign: with
// TC3 the Go SDK signs only content-type and host, so X-TC-Action,
// X-TC-Version, X-TC-Region, X-TC-Language and X-TC-Token can be altered in
// transit (within the skew window) without breaking the signature; the
// SecretId is bound only through the key the caller looks up; the path is
// not bound ("/" is always accepted); and with UNSIGNED-PAYLOAD the body is
// not bound either. TC3 carries no nonce, so two identical calls in the same
// second carry identical signatures.
package tcsig

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxSkew is how far X-TC-Timestamp / Timestamp may be from the server's
// clock, in either direction; Tencent Cloud documents five minutes.
const MaxSkew = 5 * time.Minute

// Request is what verification needs from an HTTP request.
type Request struct {
	Method   string // "GET" or "POST"
	Host     string // the Host header as received, e.g. "127.0.0.1:8080"
	Path     string // URL path as received, e.g. "/"
	RawQuery string // raw URL query
	Header   http.Header
	Body     []byte
}

// Scheme is the signature scheme a request used.
type Scheme int

const (
	// SchemeTC3 is TC3-HMAC-SHA256, carried in the Authorization header.
	SchemeTC3 Scheme = iota + 1
	// SchemeV1 is signature v1, carried in the query or form parameters.
	SchemeV1
)

func (s Scheme) String() string {
	switch s {
	case SchemeTC3:
		return "TC3-HMAC-SHA256"
	case SchemeV1:
		return "v1"
	}
	return fmt.Sprintf("Scheme(%d)", int(s))
}

// ErrorKind classifies failures; the caller maps them to its API error
// codes.
type ErrorKind int

const (
	// InvalidAuthorization: no signature at all, a malformed TC3
	// Authorization header, a bad credential scope, a missing or malformed
	// X-TC-Timestamp, a missing signed header.
	InvalidAuthorization ErrorKind = iota + 1
	// MissingParameter: a v1 signing parameter (SecretId, Signature,
	// Timestamp, Nonce) is absent or empty; Error.Param names it.
	MissingParameter
	// InvalidParameter: a malformed value, such as a non-numeric v1
	// Timestamp or Nonce, an unknown SignatureMethod, a duplicated v1
	// parameter, an undecodable query, an unsupported HTTP method.
	InvalidParameter
	// SignatureExpire: the timestamp is more than MaxSkew from now.
	SignatureExpire
	// SignatureFailure: the recomputed signature differs.
	SignatureFailure
)

func (k ErrorKind) String() string {
	switch k {
	case InvalidAuthorization:
		return "InvalidAuthorization"
	case MissingParameter:
		return "MissingParameter"
	case InvalidParameter:
		return "InvalidParameter"
	case SignatureExpire:
		return "SignatureExpire"
	case SignatureFailure:
		return "SignatureFailure"
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// Error is the only error type Parse and Verify return. Msg is safe to show
// to API callers: it never contains the secret or the expected signature.
type Error struct {
	Kind  ErrorKind
	Param string // the offending parameter, for MissingParameter / InvalidParameter
	Msg   string
}

func (e *Error) Error() string { return "tcsig: " + e.Kind.String() + ": " + e.Msg }

func errorf(kind ErrorKind, param, format string, args ...any) *Error {
	return &Error{Kind: kind, Param: param, Msg: fmt.Sprintf(format, args...)}
}

// Signed is what was parsed from a request before the secret is known.
type Signed struct {
	Scheme    Scheme
	SecretID  string
	Timestamp int64 // seconds
	// Service is, for TC3, the credential-scope service exactly as the
	// client signed it (e.g. "lcic", "127", "uc"): the Node.js SDKs derive
	// it from the endpoint's first label, so it need not name a product.
	Service string
	Nonce   string // v1 only, as sent
	// UnsignedPayload reports that a TC3 client sent
	// X-TC-Content-SHA256: UNSIGNED-PAYLOAD, so the body is NOT covered by
	// the signature; callers that cannot accept that should refuse.
	UnsignedPayload bool
	// Params holds the request's API parameters: for v1, the form (POST) or
	// query (GET) values minus the signing parameters (Signature,
	// SignatureMethod, SecretId, Timestamp, Nonce) but including Action,
	// Version, Region, Language, Token, RequestClient and the action's own
	// parameters; for TC3 GET, the query values; for TC3 POST, nil (the body
	// is JSON).
	Params url.Values

	tc3 *tc3State
	v1  *v1State
}

// ReplayKey identifies a v1 request for replay detection: its SecretId,
// Nonce and signature. The Node.js SDKs draw the Nonce from only 65,536
// values, so the Nonce alone would flag honest requests as replays; an
// identical signature means an identical signed request.
//
// TC3 requests have none: TC3 carries no nonce, and as the official SDKs
// sign only content-type and host, two honest calls of different actions
// with the same body in the same second carry the same signature, so a
// repeated signature proves nothing.
func (s *Signed) ReplayKey() string {
	if s.v1 == nil {
		return ""
	}
	return s.SecretID + "\x00" + s.Nonce + "\x00" + string(s.v1.sig)
}

// KeyID is the SecretId the request names.
func (s *Signed) KeyID() string { return s.SecretID }

// SignedAt is the request's signed timestamp.
func (s *Signed) SignedAt() time.Time { return time.Unix(s.Timestamp, 0) }

// Parse detects the signature scheme of r, checks the shape of everything
// signed and the timestamp skew against now. It does not check the
// signature itself: see Verify.
//
// An Authorization header starting with "TC3-HMAC-SHA256" selects TC3;
// otherwise a Signature or SecretId parameter (query for GET, form body for
// POST) selects v1; otherwise the request is unsigned (InvalidAuthorization).
func Parse(r *Request, now time.Time) (*Signed, error) {
	if r == nil {
		return nil, errorf(InvalidAuthorization, "", "request is not signed")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, errorf(InvalidParameter, "", "only GET and POST requests are supported")
	}
	auth := r.Header.Values("Authorization")
	for _, a := range auth {
		if strings.HasPrefix(a, tc3Algorithm) {
			if len(auth) != 1 {
				return nil, errorf(InvalidAuthorization, "", "more than one Authorization header")
			}
			return parseTC3(r, a, now)
		}
	}
	s, err := parseV1(r, now)
	if err != nil {
		return nil, err
	}
	if s == nil {
		if len(auth) > 0 {
			return nil, errorf(InvalidAuthorization, "", "unsupported Authorization algorithm, expected %s", tc3Algorithm)
		}
		return nil, errorf(InvalidAuthorization, "", "request is not signed")
	}
	return s, nil
}

// Verify recomputes the signature with secretKey and compares it in constant
// time with the one presented. It returns an *Error of kind
// SignatureFailure on mismatch, and always for an empty secretKey.
func (s *Signed) Verify(secretKey string) error {
	// An empty key is refused outright: a key store that answers "" for an
	// unknown or disabled SecretId must not let through requests signed with
	// the empty key.
	if s == nil || secretKey == "" {
		return errSignature()
	}
	var ok bool
	switch {
	case s.Scheme == SchemeTC3 && s.tc3 != nil:
		ok = s.tc3.verify(secretKey)
	case s.Scheme == SchemeV1 && s.v1 != nil:
		ok = s.v1.verify(secretKey)
	}
	if !ok {
		return errSignature()
	}
	return nil
}

func errSignature() *Error {
	return errorf(SignatureFailure, "", "the provided credentials could not be validated; check that the signature is computed correctly")
}

// checkSkew rejects timestamps more than MaxSkew away from now. It works in
// whole seconds because that is what clients send. ts is never negative
// (only digits are accepted); the case split keeps the arithmetic from
// overflowing for any now.
func checkSkew(ts int64, now time.Time) *Error {
	const max = int64(MaxSkew / time.Second)
	n := now.Unix()
	var far bool
	if n < 0 {
		far = ts > n+max
	} else {
		d := n - ts
		far = d > max || d < -max
	}
	if far {
		return errorf(SignatureExpire, "", "signature expired: timestamp and server time differ by more than five minutes")
	}
	return nil
}

// hostCandidates lists the host strings a client may have signed. The Go SDK
// signs the Host header it sends (with the port); the Node.js SDKs sign the
// bare hostname while sending host:port. For an IPv6 literal the bare form
// is tried with and without brackets, since clients differ on that too.
func hostCandidates(host string) []string {
	return appendHostCandidates(make([]string, 0, 3), host)
}

// appendHostCandidates appends hostCandidates(host) to out, an empty
// slice with room for three.
func appendHostCandidates(out []string, host string) []string {
	out = append(out, host)
	if strings.IndexByte(host, ':') < 0 {
		return out // no port: SplitHostPort would fail, building an error
	}
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		return out
	}
	add := func(c string) {
		for _, o := range out {
			if o == c {
				return
			}
		}
		out = append(out, c)
	}
	add(h)
	if strings.Contains(h, ":") {
		add("[" + h + "]")
	}
	return out
}

// appendPathCandidates appends the paths a client may have signed: the Go SDK uses
// "/" for TC3 even when the endpoint has a path, but the real path for v1;
// other clients may do either, so both are tried.
func appendPathCandidates(out []string, path string) []string {
	if path == "" || path == "/" {
		return append(out, "/")
	}
	return append(out, "/", path)
}

func requestHost(r *Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.Header.Get("Host")
}

// isDigits reports whether s is a non-empty run of ASCII digits of at most
// max characters; strconv alone would also accept signs.
func isDigits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isToken reports whether s is 1..max characters of [A-Za-z0-9._-]; used for
// SecretIds and services so they can be echoed and split on "/" safely.
func isToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidSecretID reports whether s has the form of a SecretId as this
// package accepts one: so a caller that finds a SecretId before the
// signature is parsed (a form's first bytes) looks up nothing absurd.
func ValidSecretID(s string) bool { return isToken(s, 128) }

// isService accepts what the SDKs put in the credential scope. The Node.js
// SDKs take the first dot-separated label of the endpoint, so an endpoint
// "localhost:8080" signs service "localhost:8080" and "[::1]:8080" signs
// "[::1]:8080": ports and IPv6 brackets are legitimate there.
func isService(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._-:[]", c) >= 0) {
			return false
		}
	}
	return true
}

// parseQuery splits a query or form string. Unlike url.ParseQuery it keeps
// ';' as an ordinary character (the SDKs escape it anyway) and reports
// duplicated keys, which make a v1 string to sign ambiguous.
func parseQuery(raw string) (vals url.Values, dup string, err *Error) {
	vals = url.Values{}
	for raw != "" {
		var piece string
		piece, raw, _ = strings.Cut(raw, "&")
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, "", errorf(InvalidParameter, "", "malformed percent-encoding in query or form")
		}
		if _, ok := vals[key]; ok && dup == "" {
			dup = key
		}
		vals[key] = append(vals[key], val)
	}
	return vals, dup, nil
}

// quoteParam renders an attacker-chosen parameter name for an error message,
// bounded so that messages stay short.
func quoteParam(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Sprintf("%q", s)
}
