package tcsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	tc3Algorithm   = "TC3-HMAC-SHA256"
	tc3Terminator  = "tc3_request"
	unsignedMarker = "UNSIGNED-PAYLOAD"
	dateLayout     = "2006-01-02"

	// Bounds that keep the work per request small whatever a client sends;
	// real clients sign two or three headers.
	maxAuthorizationLen = 4096
	maxSignedHeaders    = 32
)

// authHeader is a parsed TC3 Authorization header.
type authHeader struct {
	SecretID      string
	Date          string // YYYY-MM-DD
	Service       string
	SignedHeaders []string // lowercase, strictly sorted
	Signature     string   // 64 lowercase hex digits
}

// String renders a in the form the SDKs send; parseAuthorization(a.String())
// gives a back.
func (a authHeader) String() string {
	return tc3Algorithm + " Credential=" + a.SecretID + "/" + a.Date + "/" + a.Service + "/" + tc3Terminator +
		", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
}

func badAuth(msg string) *Error { return errorf(InvalidAuthorization, "", "%s", msg) }

// parseAuthorization parses
//
//	TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=<a;b>, Signature=<hex>
//
// It tolerates any number of spaces after the commas (clients differ) and
// nothing else: a lax parser here is where signature bypasses come from.
func parseAuthorization(s string) (authHeader, *Error) {
	var a authHeader
	if len(s) > maxAuthorizationLen {
		return a, badAuth("Authorization header is too long")
	}
	rest, ok := strings.CutPrefix(s, tc3Algorithm+" ")
	if !ok {
		return a, badAuth("Authorization must start with \"" + tc3Algorithm + " \"")
	}
	parts := strings.Split(rest, ",")
	if len(parts) != 3 {
		return a, badAuth("Authorization must have exactly the fields Credential, SignedHeaders and Signature")
	}
	cred, ok1 := strings.CutPrefix(parts[0], "Credential=")
	signed, ok2 := strings.CutPrefix(strings.TrimLeft(parts[1], " "), "SignedHeaders=")
	sig, ok3 := strings.CutPrefix(strings.TrimLeft(parts[2], " "), "Signature=")
	if !ok1 || !ok2 || !ok3 {
		return a, badAuth("Authorization must have exactly the fields Credential, SignedHeaders and Signature, in that order")
	}

	scope := strings.Split(cred, "/")
	if len(scope) != 4 {
		return a, badAuth("Credential must be <SecretId>/<date>/<service>/tc3_request")
	}
	a.SecretID, a.Date, a.Service = scope[0], scope[1], scope[2]
	if !ValidSecretID(a.SecretID) {
		return a, badAuth("Credential has an invalid SecretId")
	}
	if _, err := parseDate(a.Date); err != nil {
		return a, badAuth("credential scope date must be YYYY-MM-DD")
	}
	if !isService(a.Service) {
		return a, badAuth("credential scope service must be 1 to 64 characters of [A-Za-z0-9._-:[]]")
	}
	if scope[3] != tc3Terminator {
		return a, badAuth("credential scope must end with tc3_request")
	}

	names, msg := parseSignedHeaders(signed)
	if msg != "" {
		return a, badAuth(msg)
	}
	a.SignedHeaders = names

	if !isLowerHex(sig, sha256.Size*2) {
		return a, badAuth("Signature must be 64 lowercase hexadecimal digits")
	}
	a.Signature = sig
	return a, nil
}

func parseDate(s string) (time.Time, error) {
	// Every request carries one; time.Parse and the Format that checks it
	// cost a microsecond, and a well-formed date needs neither.
	if t, ok := quickDate(s); ok {
		return t, nil
	}
	t, err := time.Parse(dateLayout, s)
	if err == nil && t.Format(dateLayout) != s {
		err = &time.ParseError{Layout: dateLayout, Value: s}
	}
	return t, err
}

// quickDate reads a canonical YYYY-MM-DD that names a real day, as
// parseDate would; anything else is left to parseDate.
func quickDate(s string) (time.Time, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	num := func(p string) (int, bool) {
		n := 0
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return 0, false
			}
			n = n*10 + int(p[i]-'0')
		}
		return n, true
	}
	y, ok1 := num(s[:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m {
		return time.Time{}, false // Feb 30 and the like
	}
	return t, true
}

// parseSignedHeaders checks the list the way the canonical request needs
// it: sorted and unique, since the client concatenated the headers in that
// order, and containing content-type and host, which Tencent requires.
func parseSignedHeaders(s string) ([]string, string) {
	if s == "" {
		return nil, "SignedHeaders is empty"
	}
	names := strings.Split(s, ";")
	if len(names) > maxSignedHeaders {
		return nil, "SignedHeaders lists too many headers"
	}
	var hasCT, hasHost bool
	for i, n := range names {
		if !isHeaderName(n) {
			return nil, "SignedHeaders must be lowercase header names separated by ';'"
		}
		if i > 0 && n <= names[i-1] {
			return nil, "SignedHeaders must be sorted and without duplicates"
		}
		switch n {
		case "content-type":
			hasCT = true
		case "host":
			hasHost = true
		case "authorization":
			return nil, "SignedHeaders cannot include authorization"
		}
	}
	if !hasCT || !hasHost {
		return nil, "SignedHeaders must include content-type and host"
	}
	return names, ""
}

func isHeaderName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// tc3State is everything Verify needs to rebuild the canonical request.
type tc3State struct {
	method        string
	paths         []string
	query         string
	names         []string // signed header names
	values        []string // their trimmed values; the host entry is filled per candidate
	hostIdx       int
	hosts         []string
	signedHeaders string
	payloadHash   string
	timestamp     string // X-TC-Timestamp exactly as sent: it is signed as text
	date, service string
	sig           []byte
}

func parseTC3(r *Request, authz string, now time.Time) (*Signed, error) {
	a, aerr := parseAuthorization(authz)
	if aerr != nil {
		return nil, aerr
	}

	tsv := r.Header.Values("X-Tc-Timestamp") // canonical, so that the lookup allocates nothing
	if len(tsv) == 0 {
		return nil, badAuth("missing X-TC-Timestamp header")
	}
	if len(tsv) > 1 {
		return nil, badAuth("more than one X-TC-Timestamp header")
	}
	if !isDigits(tsv[0], 19) {
		return nil, badAuth("X-TC-Timestamp must be a decimal number of seconds")
	}
	ts, err := strconv.ParseInt(tsv[0], 10, 64)
	if err != nil {
		return nil, badAuth("X-TC-Timestamp must be a decimal number of seconds")
	}
	// Compared as a range rather than by formatting ts, so absurd
	// timestamps cannot produce odd year strings.
	day, _ := parseDate(a.Date) // already validated
	if start := day.Unix(); ts < start || ts-start >= 24*60*60 {
		return nil, badAuth("credential scope date does not match X-TC-Timestamp")
	}
	if e := checkSkew(ts, now); e != nil {
		return nil, e
	}

	st := &tc3State{
		method:        r.Method,
		paths:         pathCandidates(r.Path),
		names:         a.SignedHeaders,
		values:        make([]string, len(a.SignedHeaders)),
		hostIdx:       -1,
		hosts:         hostCandidates(requestHost(r)),
		signedHeaders: strings.Join(a.SignedHeaders, ";"),
		timestamp:     tsv[0],
		date:          a.Date,
		service:       a.Service,
	}
	st.sig, _ = hex.DecodeString(a.Signature) // already validated
	for i, n := range a.SignedHeaders {
		if n == "host" {
			// net/http moves Host out of the header map, and the value the
			// client signed may differ from it (port), so it is per candidate.
			st.hostIdx = i
			continue
		}
		vs := r.Header.Values(canonicalName(n))
		if len(vs) == 0 {
			return nil, badAuth("signed header " + n + " is missing from the request")
		}
		if len(vs) > 1 {
			return nil, badAuth("signed header " + n + " appears more than once")
		}
		st.values[i] = strings.TrimSpace(vs[0])
	}

	s := &Signed{
		Scheme:    SchemeTC3,
		SecretID:  a.SecretID,
		Timestamp: ts,
		Service:   a.Service,
		tc3:       st,
	}
	body := r.Body
	if r.Header.Get("X-Tc-Content-Sha256") == unsignedMarker {
		s.UnsignedPayload = true
		body = []byte(unsignedMarker)
	}
	sum := sha256.Sum256(body)
	st.payloadHash = hex.EncodeToString(sum[:])

	if r.Method == http.MethodGet {
		// The Go SDK sends exactly the string it signed (url.Values.Encode),
		// so the raw query is used untouched rather than re-encoded.
		st.query = r.RawQuery
		vals, _, perr := parseQuery(r.RawQuery)
		if perr != nil {
			return nil, perr
		}
		s.Params = vals
	}
	return s, nil
}

// canonicalName is textproto.CanonicalMIMEHeaderKey(n) for a signed
// header's lowercase name, without allocating for the two every client
// signs.
func canonicalName(n string) string {
	switch n {
	case "content-type":
		return "Content-Type"
	case "x-tc-action":
		return "X-Tc-Action"
	}
	return textproto.CanonicalMIMEHeaderKey(n)
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// signingKeys caches derived TC3 signing keys. Deriving one takes three
// HMACs, a third of the cost of checking a signature, and a client signs a
// whole day's requests to one service with the same key.
var signingKeys = newKeyCache(4096)

func (st *tc3State) verify(secretKey string) bool {
	kSigning := signingKeys.get(secretKey, st.date, st.service)
	scope := st.date + "/" + st.service + "/" + tc3Terminator

	for _, path := range st.paths {
		for _, host := range st.hosts {
			// The documented rule lowercases header values, but the Go and
			// Python SDKs sign them as they are; the two differ only when a
			// value (typically an endpoint host) has capitals.
			// The second form is built only when the first fails: with
			// lowercase values, as nearly every client sends, they are one.
			lower := st.canonicalHeaders(host, true)
			if st.matches(kSigning, scope, path, lower) {
				return true
			}
			if asIs := st.canonicalHeaders(host, false); asIs != lower && st.matches(kSigning, scope, path, asIs) {
				return true
			}
		}
	}
	return false
}

// matches reports whether the request's signature is the one of its
// canonical request with path and canonical headers ch.
func (st *tc3State) matches(kSigning []byte, scope, path, ch string) bool {
	cr := st.method + "\n" + path + "\n" + st.query + "\n" + ch + "\n" + st.signedHeaders + "\n" + st.payloadHash
	crHash := sha256.Sum256([]byte(cr))
	sts := tc3Algorithm + "\n" + st.timestamp + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])
	return hmac.Equal(hmacSHA256(kSigning, sts), st.sig)
}

func (st *tc3State) canonicalHeaders(host string, lower bool) string {
	var b strings.Builder
	for i, n := range st.names {
		v := st.values[i]
		if i == st.hostIdx {
			v = strings.TrimSpace(host)
		}
		if lower {
			v = strings.ToLower(v)
		}
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.String()
}

// keyCache maps (secret key, date, service) to a derived signing key. It
// holds at most max entries and simply starts over when full: a day's
// working set is one entry per active key, far below max.
type keyCache struct {
	mu   sync.Mutex
	max  int
	keys map[string][]byte
}

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, keys: make(map[string][]byte)}
}

func (c *keyCache) get(secretKey, date, service string) []byte {
	// NUL cannot occur in a date or service (both are checked tokens), so
	// the parts cannot run into each other.
	id := date + "\x00" + service + "\x00" + secretKey
	c.mu.Lock()
	k, ok := c.keys[id]
	c.mu.Unlock()
	if ok {
		return k
	}
	kDate := hmacSHA256([]byte("TC3"+secretKey), date)
	kService := hmacSHA256(kDate, service)
	k = hmacSHA256(kService, tc3Terminator)
	c.mu.Lock()
	if len(c.keys) >= c.max {
		clear(c.keys)
	}
	c.keys[id] = k
	c.mu.Unlock()
	return k
}
