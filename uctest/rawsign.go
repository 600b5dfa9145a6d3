package uctest

// Independent client-side signers for tests that craft raw HTTP requests.
//
// They are written from Tencent Cloud's published formulas (see the API
// reference in the shared docs, §4.2) and deliberately share no code with
// usercenter/tcsig, so that a mistake in the server's verifier cannot be
// mirrored here. They do exactly what they are told: a test changes one
// input (a key, a timestamp, the scope date, a signed header, the signed
// host, the service) and sees what the server makes of it.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// TC3Signer signs requests with TC3-HMAC-SHA256. Zero fields take the
// defaults the official Go SDK uses.
type TC3Signer struct {
	SecretID  string
	SecretKey string
	// Service is the credential scope's service; default "lcic".
	Service string
	// Time is sent as X-TC-Timestamp; default time.Now().
	Time time.Time
	// Date is the credential scope's date; default the UTC date of Time.
	Date string
	// SignedHeaders are the lowercase header names to sign, in the order
	// given (the protocol wants them sorted); default content-type, host.
	SignedHeaders []string
	// SignHost is the value signed for the host header; default req.Host,
	// or req.URL.Host when that is empty.
	SignHost string
	// Path is the canonical URI; default "/" (the SDKs always sign "/").
	Path string
}

// SignTC3 signs req, whose payload is body, with TC3-HMAC-SHA256: it sets
// X-TC-Timestamp, a default Content-Type when there is none, and
// Authorization. service, signedHeaders and signHost may be empty for their
// defaults (see TC3Signer).
func SignTC3(req *http.Request, body []byte, secretID, secretKey, service string, ts time.Time, signedHeaders []string, signHost string) {
	TC3Signer{
		SecretID: secretID, SecretKey: secretKey, Service: service, Time: ts,
		SignedHeaders: signedHeaders, SignHost: signHost,
	}.Sign(req, body)
}

// Sign signs req, whose payload is body (nil for GET). It sets
// X-TC-Timestamp, Content-Type when absent (application/json for POST,
// application/x-www-form-urlencoded otherwise) and Authorization. Headers
// to be signed must be set on req before; the query is signed exactly as
// req.URL.RawQuery holds it.
func (s TC3Signer) Sign(req *http.Request, body []byte) {
	ts := s.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	service := s.Service
	if service == "" {
		service = "lcic"
	}
	date := s.Date
	if date == "" {
		date = ts.UTC().Format("2006-01-02")
	}
	names := s.SignedHeaders
	if len(names) == 0 {
		names = []string{"content-type", "host"}
	}
	host := s.SignHost
	if host == "" {
		host = req.Host
	}
	if host == "" {
		host = req.URL.Host
	}
	path := s.Path
	if path == "" {
		path = "/"
	}
	if req.Header.Get("Content-Type") == "" {
		if req.Method == http.MethodPost {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	timestamp := strconv.FormatInt(ts.Unix(), 10)
	req.Header.Set("X-TC-Timestamp", timestamp)

	// Canonical headers: "name:value\n" with the value lower-cased and
	// trimmed, as the documentation states.
	var ch strings.Builder
	for _, n := range names {
		v := host
		if n != "host" {
			v = req.Header.Get(n)
		}
		ch.WriteString(strings.ToLower(strings.TrimSpace(n)))
		ch.WriteByte(':')
		ch.WriteString(strings.ToLower(strings.TrimSpace(v)))
		ch.WriteByte('\n')
	}
	signed := strings.Join(names, ";")

	payload := body
	if req.Header.Get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD" {
		payload = []byte("UNSIGNED-PAYLOAD")
	}
	canonical := req.Method + "\n" +
		path + "\n" +
		req.URL.RawQuery + "\n" +
		ch.String() + "\n" +
		signed + "\n" +
		sha256Hex(payload)

	scope := date + "/" + service + "/tc3_request"
	stringToSign := "TC3-HMAC-SHA256\n" + timestamp + "\n" + scope + "\n" + sha256Hex([]byte(canonical))

	kDate := mac(sha256.New, []byte("TC3"+s.SecretKey), date)
	kService := mac(sha256.New, kDate, service)
	kSigning := mac(sha256.New, kService, "tc3_request")
	sig := hex.EncodeToString(mac(sha256.New, kSigning, stringToSign))

	req.Header.Set("Authorization", fmt.Sprintf("TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		s.SecretID, scope, signed, sig))
}

// SignV1 signs params with signature v1 for a request of method to
// host+path and returns a new set of parameters ready to send (as the form
// body of a POST or the query of a GET): params plus SecretId,
// SignatureMethod (omitted when sigMethod is ""; the server then assumes
// HmacSHA1), Timestamp and Nonce when params lacks them (now, and a random
// number), and Signature. sigMethod "HmacSHA256" signs with SHA-256,
// anything else with SHA-1. Only the first value of each parameter is
// signed.
//
// String to sign: METHOD + host + path + "?" + k=v&… over the sorted
// parameters except Signature, with values not URL-encoded; the signature
// is the Base64 HMAC of it under secretKey.
func SignV1(method, host, path string, params url.Values, secretID, secretKey, sigMethod string) url.Values {
	out := url.Values{}
	for k, v := range params {
		out[k] = append([]string(nil), v...)
	}
	out.Del("Signature")
	out.Set("SecretId", secretID)
	if sigMethod != "" {
		out.Set("SignatureMethod", sigMethod)
	}
	if out.Get("Timestamp") == "" {
		out.Set("Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	}
	if out.Get("Nonce") == "" {
		out.Set("Nonce", strconv.FormatUint(RandomNonce(), 10))
	}
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(out[k][0])
	}
	newHash := sha1.New
	if sigMethod == "HmacSHA256" {
		newHash = sha256.New
	}
	sig := mac(newHash, []byte(secretKey), method+host+path+"?"+b.String())
	out.Set("Signature", base64.StdEncoding.EncodeToString(sig))
	return out
}

// RandomNonce returns a random v1 Nonce.
func RandomNonce() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return binary.BigEndian.Uint64(b[:]) >> 1
}

func mac(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
