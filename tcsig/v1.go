package tcsig

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	methodSHA1   = "HmacSHA1"
	methodSHA256 = "HmacSHA256"
)

// v1SigningParams are the parameters that carry the signature itself rather
// than API input; they are withheld from Signed.Params.
var v1SigningParams = []string{"Signature", "SignatureMethod", "SecretId", "Timestamp", "Nonce"}

type v1State struct {
	method string
	hosts  []string
	paths  []string
	// params is "k=v&k=v" over the sorted parameters minus Signature, with
	// decoded values: the SDKs sign the values before URL-encoding them.
	params string
	newMAC func() hash.Hash
	sig    []byte
}

// parseV1 returns nil, nil when the request carries no v1 signature at all,
// so that Parse can report it as unsigned.
func parseV1(r *Request, now time.Time) (*Signed, error) {
	raw, ok := v1Source(r)
	if !ok {
		return nil, nil
	}
	vals, dup, perr := parseQuery(raw)
	if perr != nil {
		if strings.Contains(raw, "Signature=") || strings.Contains(raw, "SecretId=") {
			return nil, perr
		}
		return nil, nil
	}
	// SecretId without Signature is taken as v1 too, so that a client that
	// forgot the signature hears which parameter is missing.
	if _, ok := vals["Signature"]; !ok {
		if _, ok := vals["SecretId"]; !ok {
			return nil, nil
		}
	}
	if dup != "" {
		return nil, errorf(InvalidParameter, dup, "parameter %s appears more than once", quoteParam(dup))
	}
	for _, name := range []string{"SecretId", "Signature", "Timestamp", "Nonce"} {
		if vals.Get(name) == "" {
			return nil, errorf(MissingParameter, name, "the parameter %s is missing", name)
		}
	}
	secretID := vals.Get("SecretId")
	if !ValidSecretID(secretID) {
		return nil, errorf(InvalidParameter, "SecretId", "SecretId must be 1 to 128 characters of [A-Za-z0-9._-]")
	}
	tsStr := vals.Get("Timestamp")
	if !isDigits(tsStr, 19) {
		return nil, errorf(InvalidParameter, "Timestamp", "Timestamp must be a decimal number of seconds")
	}
	ts, err := strconv.ParseInt(tsStr, 10, 64)
	if err != nil {
		return nil, errorf(InvalidParameter, "Timestamp", "Timestamp must be a decimal number of seconds")
	}
	nonce := vals.Get("Nonce")
	if !isDigits(nonce, 20) {
		return nil, errorf(InvalidParameter, "Nonce", "Nonce must be a decimal unsigned integer")
	}
	if _, err := strconv.ParseUint(nonce, 10, 64); err != nil {
		return nil, errorf(InvalidParameter, "Nonce", "Nonce must be a decimal unsigned integer")
	}
	st := &v1State{
		method: r.Method,
		hosts:  hostCandidates(requestHost(r)),
		paths:  v1PathCandidates(r.Path),
	}
	// Absent means HmacSHA1 (the SDKs' default); present-but-empty is
	// refused because it was signed as "SignatureMethod=" and is not a
	// method anyone implements.
	switch m, present := vals["SignatureMethod"]; {
	case !present || m[0] == methodSHA1:
		st.newMAC = sha1.New
	case m[0] == methodSHA256:
		st.newMAC = sha256.New
	default:
		return nil, errorf(InvalidParameter, "SignatureMethod", "SignatureMethod must be HmacSHA1 or HmacSHA256")
	}
	if e := checkSkew(ts, now); e != nil {
		return nil, e
	}
	// A malformed signature is left for Verify to reject as a mismatch,
	// which is what it is.
	st.sig, _ = base64.StdEncoding.DecodeString(vals.Get("Signature"))

	keys := make([]string, 0, len(vals))
	for k := range vals {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(vals[k][0])
	}
	st.params = b.String()

	for _, k := range v1SigningParams {
		delete(vals, k)
	}
	return &Signed{
		Scheme:    SchemeV1,
		SecretID:  secretID,
		Timestamp: ts,
		Nonce:     nonce,
		Params:    vals,
		v1:        st,
	}, nil
}

// v1Source returns the string the v1 parameters are in: the query for GET;
// for POST the form body, or the query when the body is empty (some clients
// send a signed POST with everything in the URL).
func v1Source(r *Request) (string, bool) {
	if r.Method == http.MethodGet || len(r.Body) == 0 {
		return r.RawQuery, true
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return string(r.Body), true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return "", false
	}
	return string(r.Body), true
}

// v1PathCandidates puts the real path first: the Go SDK signs the path it
// requests for v1 (unlike TC3, where it signs "/").
func v1PathCandidates(path string) []string {
	if path == "" || path == "/" {
		return []string{"/"}
	}
	return []string{path, "/"}
}

func (st *v1State) verify(secretKey string) bool {
	for _, path := range st.paths {
		for _, host := range st.hosts {
			m := hmac.New(st.newMAC, []byte(secretKey))
			m.Write([]byte(st.method + host + path + "?" + st.params))
			if hmac.Equal(m.Sum(nil), st.sig) {
				return true
			}
		}
	}
	return false
}
