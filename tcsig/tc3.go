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
	"unicode/utf8"
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

	signedList string // SignedHeaders as sent, joined by ';'
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
	// Cut rather than Split: every request passes here, and the parts
	// are substrings of s either way.
	part0, rest, ok0 := strings.Cut(rest, ",")
	part1, part2, okc := strings.Cut(rest, ",")
	if !ok0 || !okc || strings.IndexByte(part2, ',') >= 0 {
		return a, badAuth("Authorization must have exactly the fields Credential, SignedHeaders and Signature")
	}
	cred, ok1 := strings.CutPrefix(part0, "Credential=")
	signed, ok2 := strings.CutPrefix(strings.TrimLeft(part1, " "), "SignedHeaders=")
	sig, ok3 := strings.CutPrefix(strings.TrimLeft(part2, " "), "Signature=")
	if !ok1 || !ok2 || !ok3 {
		return a, badAuth("Authorization must have exactly the fields Credential, SignedHeaders and Signature, in that order")
	}

	var scope [4]string
	if !splitExactly(cred, '/', scope[:]) {
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
	a.SignedHeaders, a.signedList = names, signed

	if !isLowerHex(sig, sha256.Size*2) {
		return a, badAuth("Signature must be 64 lowercase hexadecimal digits")
	}
	a.Signature = sig
	return a, nil
}

// splitExactly splits s around every sep into parts, and reports whether
// there were exactly len(parts) of them.
func splitExactly(s string, sep byte, parts []string) bool {
	for i := range len(parts) - 1 {
		var ok bool
		parts[i], s, ok = strings.Cut(s, string(sep))
		if !ok {
			return false
		}
	}
	parts[len(parts)-1] = s
	return strings.IndexByte(s, sep) < 0
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
// It is built with the Signed that holds it, in one allocation, and its
// lists live in arrays of the sizes real requests need.
type tc3State struct {
	method        string
	paths         []string
	query         string
	names         []string // signed header names
	values        []string // their trimmed values; the host entry is filled per candidate
	hostIdx       int
	hosts         []string
	signedHeaders string
	payloadHash   [2 * sha256.Size]byte // lowercase hex
	timestamp     string                // X-TC-Timestamp exactly as sent: it is signed as text
	date, service string
	sig           [sha256.Size]byte

	pathArray  [2]string
	hostArray  [3]string
	valueArray [4]string // values, for up to four signed headers
}

// tc3Signed is a Signed of the TC3 scheme and its state, allocated at once.
type tc3Signed struct {
	Signed
	st tc3State
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

	ts3 := &tc3Signed{}
	st := &ts3.st
	st.method = r.Method
	st.paths = appendPathCandidates(st.pathArray[:0], r.Path)
	st.names = a.SignedHeaders
	if len(a.SignedHeaders) <= len(st.valueArray) {
		st.values = st.valueArray[:len(a.SignedHeaders)]
	} else {
		st.values = make([]string, len(a.SignedHeaders))
	}
	st.hostIdx = -1
	st.hosts = appendHostCandidates(st.hostArray[:0], requestHost(r))
	st.signedHeaders = a.signedList
	st.timestamp = tsv[0]
	st.date, st.service = a.Date, a.Service
	hex.Decode(st.sig[:], []byte(a.Signature)) // already validated
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

	s := &ts3.Signed
	*s = Signed{
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
	hex.Encode(st.payloadHash[:], sum[:])

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

// signingKey is a derived TC3 signing key, with the two padded blocks
// HMAC-SHA256 starts its hashes with, so that a signature is checked
// with two sha256.Sum256 calls over buffers on the stack.
type signingKey struct {
	key        [sha256.Size]byte
	ipad, opad [sha256.BlockSize]byte
}

func newSigningKey(k []byte) *signingKey {
	sk := &signingKey{}
	copy(sk.key[:], k) // 32 bytes, shorter than a block: HMAC pads it with zeros
	for i := range sha256.BlockSize {
		var b byte
		if i < len(sk.key) {
			b = sk.key[i]
		}
		sk.ipad[i], sk.opad[i] = b^0x36, b^0x5c
	}
	return sk
}

// mac is HMAC-SHA256 of msg under k, as hmac.New(sha256.New, k.key)
// computes it.
func (k *signingKey) mac(msg []byte) [sha256.Size]byte {
	var buf [sha256.BlockSize + 256]byte // a string to sign fits: at most about 190 bytes
	inner := sha256.Sum256(append(append(buf[:0], k.ipad[:]...), msg...))
	return sha256.Sum256(append(append(buf[:0], k.opad[:]...), inner[:]...))
}

// signingKeys caches derived TC3 signing keys. Deriving one takes three
// HMACs, a third of the cost of checking a signature, and a client signs a
// whole day's requests to one service with the same key.
var signingKeys = newKeyCache(4096)

func (st *tc3State) verify(secretKey string) bool {
	k := signingKeys.get(secretKey, st.date, st.service)
	// The canonical request is written into buf, on the stack for all
	// but very long queries.
	var buf [1024]byte
	for _, path := range st.paths {
		for _, host := range st.hosts {
			// The documented rule lowercases header values, but the Go and
			// Python SDKs sign them as they are; the two differ only when a
			// value (typically an endpoint host) has capitals.
			// The second form is built only when the first differs: with
			// lowercase values, as nearly every client sends, they are one.
			if st.matches(k, st.canonicalRequest(buf[:0], path, host, true)) {
				return true
			}
			if st.hasUpper(host) && st.matches(k, st.canonicalRequest(buf[:0], path, host, false)) {
				return true
			}
		}
	}
	return false
}

// matches reports whether the request's signature is the one of the
// canonical request cr.
func (st *tc3State) matches(k *signingKey, cr []byte) bool {
	crHash := sha256.Sum256(cr)
	var buf [256]byte
	sts := append(buf[:0], tc3Algorithm+"\n"...)
	sts = append(sts, st.timestamp...)
	sts = append(sts, '\n')
	sts = append(sts, st.date...)
	sts = append(sts, '/')
	sts = append(sts, st.service...)
	sts = append(sts, "/"+tc3Terminator+"\n"...)
	sts = hex.AppendEncode(sts, crHash[:])
	mac := k.mac(sts)
	return hmac.Equal(mac[:], st.sig[:])
}

// canonicalRequest appends to b the canonical request of path, with host
// as the host header's value and, if lower, every value lowercased:
//
//	method\npath\nquery\nname:value\n…\n\nsigned;headers\npayloadhash
func (st *tc3State) canonicalRequest(b []byte, path, host string, lower bool) []byte {
	b = append(b, st.method...)
	b = append(b, '\n')
	b = append(b, path...)
	b = append(b, '\n')
	b = append(b, st.query...)
	b = append(b, '\n')
	for i, n := range st.names {
		v := st.values[i]
		if i == st.hostIdx {
			v = strings.TrimSpace(host)
		}
		b = append(b, n...)
		b = append(b, ':')
		if lower {
			b = appendLower(b, v)
		} else {
			b = append(b, v...)
		}
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, st.signedHeaders...)
	b = append(b, '\n')
	return append(b, st.payloadHash[:]...)
}

// hasUpper reports whether lowercasing changes any signed value, host as
// the host's.
func (st *tc3State) hasUpper(host string) bool {
	for i, v := range st.values {
		if i == st.hostIdx {
			v = strings.TrimSpace(host)
		}
		if lowerDiffers(v) {
			return true
		}
	}
	return false
}

// appendLower appends strings.ToLower(s) to b, without a string of its
// own when s is ASCII, as header values nearly always are.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(b, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// lowerDiffers reports whether strings.ToLower(s) != s.
func lowerDiffers(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.ToLower(s) != s
		}
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// keyCache maps (secret key, date, service) to a derived signing key. It
// holds at most max entries and simply starts over when full: a day's
// working set is one entry per active key, far below max.
type keyCache struct {
	mu   sync.Mutex
	max  int
	keys map[keyID]*signingKey
}

type keyID struct{ date, service, secretKey string }

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, keys: make(map[keyID]*signingKey)}
}

func (c *keyCache) get(secretKey, date, service string) *signingKey {
	id := keyID{date, service, secretKey}
	c.mu.Lock()
	k, ok := c.keys[id]
	c.mu.Unlock()
	if ok {
		return k
	}
	kDate := hmacSHA256([]byte("TC3"+secretKey), date)
	kService := hmacSHA256(kDate, service)
	k = newSigningKey(hmacSHA256(kService, tc3Terminator))
	// Its own copies: date and service are parts of a request's header.
	id = keyID{strings.Clone(date), strings.Clone(service), secretKey}
	c.mu.Lock()
	if len(c.keys) >= c.max {
		clear(c.keys)
	}
	c.keys[id] = k
	c.mu.Unlock()
	return k
}
