package tcsig_test

// Independent client-side signers, written from Tencent Cloud's published
// formulas and deliberately sharing no code with the package, so that a bug
// in the verifier cannot be mirrored by the test.

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"usercenter/tcsig"
)

const (
	testID  = "AKIDtestSecretId0123456789abcdef"
	testKey = "testSecretKey0123456789ABCDEFGHIJ"
)

// tc3Req describes one request to sign with TC3 and send.
type tc3Req struct {
	method      string // default POST
	sentHost    string // Host as sent; default "127.0.0.1:8080"
	signHost    string // host value signed; default sentHost
	path        string // request path; default "/"
	signPath    string // canonical URI; default "/"
	query       string // raw query, sent and signed
	body        []byte
	contentType string            // default by method, as the Go SDK does
	signed      map[string]string // extra headers, sent and signed (lowercase names)
	unsigned    bool              // X-TC-Content-SHA256: UNSIGNED-PAYLOAD
	asIs        bool              // sign header values without lowercasing, as the Go SDK does
	service     string            // default "lcic"
	ts          int64             // X-TC-Timestamp
	tsText      string            // overrides the X-TC-Timestamp text when set
	date        string            // scope date; default UTC date of ts
	id, key     string            // default testID / testKey
	emptyKey    bool              // sign with the empty key
}

func (c tc3Req) withDefaults() tc3Req {
	if c.method == "" {
		c.method = "POST"
	}
	if c.sentHost == "" {
		c.sentHost = "127.0.0.1:8080"
	}
	if c.signHost == "" {
		c.signHost = c.sentHost
	}
	if c.path == "" {
		c.path = "/"
	}
	if c.signPath == "" {
		c.signPath = "/"
	}
	if c.contentType == "" {
		if c.method == "GET" {
			c.contentType = "application/x-www-form-urlencoded"
		} else {
			c.contentType = "application/json"
		}
	}
	if c.service == "" {
		c.service = "lcic"
	}
	if c.tsText == "" {
		c.tsText = strconv.FormatInt(c.ts, 10)
	}
	if c.date == "" {
		c.date = time.Unix(c.ts, 0).UTC().Format("2006-01-02")
	}
	if c.id == "" {
		c.id = testID
	}
	if c.key == "" && !c.emptyKey {
		c.key = testKey
	}
	return c
}

func testHMAC256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func testSHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tc3Signature returns the hex signature and the Authorization header.
func (c tc3Req) sign() (sig, authorization string) {
	c = c.withDefaults()
	hdrs := map[string]string{"content-type": c.contentType, "host": c.signHost}
	for k, v := range c.signed {
		hdrs[k] = v
	}
	names := make([]string, 0, len(hdrs))
	for k := range hdrs {
		names = append(names, k)
	}
	sort.Strings(names)
	var canon strings.Builder
	for _, n := range names {
		v := strings.TrimSpace(hdrs[n])
		if !c.asIs {
			v = strings.ToLower(v)
		}
		canon.WriteString(n + ":" + v + "\n")
	}
	signedHeaders := strings.Join(names, ";")
	payload := testSHA256Hex(c.body)
	if c.unsigned {
		payload = testSHA256Hex([]byte("UNSIGNED-PAYLOAD"))
	}
	query := c.query
	if c.method == "POST" {
		query = ""
	}
	canonical := c.method + "\n" + c.signPath + "\n" + query + "\n" + canon.String() + "\n" + signedHeaders + "\n" + payload
	scope := c.date + "/" + c.service + "/tc3_request"
	sts := "TC3-HMAC-SHA256\n" + c.tsText + "\n" + scope + "\n" + testSHA256Hex([]byte(canonical))
	kDate := testHMAC256([]byte("TC3"+c.key), c.date)
	kService := testHMAC256(kDate, c.service)
	kSigning := testHMAC256(kService, "tc3_request")
	sig = hex.EncodeToString(testHMAC256(kSigning, sts))
	authorization = "TC3-HMAC-SHA256 Credential=" + c.id + "/" + scope + ", SignedHeaders=" + signedHeaders + ", Signature=" + sig
	return sig, authorization
}

// request signs c and returns the request a server would see.
func (c tc3Req) request() *tcsig.Request {
	c = c.withDefaults()
	_, authz := c.sign()
	h := http.Header{}
	h.Set("Content-Type", c.contentType)
	h.Set("X-TC-Action", "RegisterUser")
	h.Set("X-TC-Version", "2022-08-17")
	h.Set("X-TC-Timestamp", c.tsText)
	h.Set("Authorization", authz)
	for k, v := range c.signed {
		h.Set(k, v)
	}
	if c.unsigned {
		h.Set("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD")
	}
	return &tcsig.Request{
		Method:   c.method,
		Host:     c.sentHost,
		Path:     c.path,
		RawQuery: c.query,
		Header:   h,
		Body:     append([]byte(nil), c.body...),
	}
}

// v1Req describes one request to sign with signature v1 and send.
type v1Req struct {
	method     string // default POST
	sentHost   string // default "127.0.0.1:8080"
	signHost   string // default sentHost
	path       string // default "/"
	signPath   string // default path
	params     map[string]string
	sigMethod  string // "HmacSHA1", "HmacSHA256", or "" to omit SignatureMethod (signs SHA1)
	macMethod  string // hash actually used; default from sigMethod
	key        string // default testKey
	inQuery    bool   // POST with the parameters in the URL and an empty body
	omitParams []string
}

// v1Params returns the common parameters for ts plus extra.
func v1Params(ts int64, extra map[string]string) map[string]string {
	p := map[string]string{
		"Action":        "RegisterUser",
		"Version":       "2022-08-17",
		"Region":        "",
		"Language":      "en-US",
		"RequestClient": "SDK_GO_1.3.209",
		"Timestamp":     strconv.FormatInt(ts, 10),
		"Nonce":         "5577006791947779410",
		"SecretId":      testID,
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func (c v1Req) withDefaults() v1Req {
	if c.method == "" {
		c.method = "POST"
	}
	if c.sentHost == "" {
		c.sentHost = "127.0.0.1:8080"
	}
	if c.signHost == "" {
		c.signHost = c.sentHost
	}
	if c.path == "" {
		c.path = "/"
	}
	if c.signPath == "" {
		c.signPath = c.path
	}
	if c.key == "" {
		c.key = testKey
	}
	if c.macMethod == "" {
		c.macMethod = c.sigMethod
	}
	return c
}

// signV1 returns the params including Signature.
func (c v1Req) sign() (map[string]string, string) {
	c = c.withDefaults()
	p := map[string]string{}
	for k, v := range c.params {
		p[k] = v
	}
	if c.sigMethod != "" {
		p["SignatureMethod"] = c.sigMethod
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = k + "=" + p[k]
	}
	sts := c.method + c.signHost + c.signPath + "?" + strings.Join(pairs, "&")
	var h func() hash.Hash = sha1.New
	if c.macMethod == "HmacSHA256" {
		h = sha256.New
	}
	m := hmac.New(h, []byte(c.key))
	m.Write([]byte(sts))
	sig := base64.StdEncoding.EncodeToString(m.Sum(nil))
	p["Signature"] = sig
	for _, k := range c.omitParams {
		delete(p, k)
	}
	return p, sig
}

func (c v1Req) request() *tcsig.Request {
	c = c.withDefaults()
	p, _ := c.sign()
	vals := url.Values{}
	for k, v := range p {
		vals.Set(k, v)
	}
	enc := vals.Encode()
	r := &tcsig.Request{Method: c.method, Host: c.sentHost, Path: c.path, Header: http.Header{}}
	if c.method == "GET" || c.inQuery {
		r.RawQuery = enc
	} else {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Body = []byte(enc)
	}
	return r
}
