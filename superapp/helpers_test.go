package superapp_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/server"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

var bg = context.Background()

func ptr[T any](v T) *T { return &v }

// The crypto below is the test's own, written from the platform's
// description with the standard library's AES block cipher alone, so that
// a mistake in the service's implementation cannot hide behind the same
// mistake here.

// ecb encrypts plaintext with AES-ECB and PKCS7 padding, block by block.
func ecb(t testing.TB, key, plaintext []byte) []byte {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	pad := 16 - len(plaintext)%16
	buf := append([]byte{}, plaintext...)
	for i := 0; i < pad; i++ {
		buf = append(buf, byte(pad))
	}
	out := make([]byte, len(buf))
	for i := 0; i < len(buf); i += 16 {
		b.Encrypt(out[i:i+16], buf[i:i+16])
	}
	return out
}

// sign is the TC-Signature of ts under key.
func sign(t testing.TB, key, ts string) string {
	return hex.EncodeToString(ecb(t, []byte(key), []byte(ts)))
}

// unpad strips PKCS7 padding, failing on anything malformed.
func unpad(t testing.TB, b []byte) []byte {
	t.Helper()
	if len(b) == 0 || len(b)%16 != 0 {
		t.Fatalf("ciphertext of %d bytes is not whole blocks", len(b))
	}
	n := int(b[len(b)-1])
	if n < 1 || n > 16 {
		t.Fatalf("bad PKCS7 padding byte %d", n)
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			t.Fatalf("bad PKCS7 padding %x", b[len(b)-n:])
		}
	}
	return b[:len(b)-n]
}

// decrypt opens a delivered value as the mini program's backend would.
func decrypt(t testing.TB, c usercenter.SuperAppCipher, key, value string) string {
	t.Helper()
	block, err := aes.NewCipher([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	switch c {
	case usercenter.CipherAESECBHex:
		if strings.ToLower(value) != value {
			t.Fatalf("aes-ecb-hex value %q is not lowercase hex", value)
		}
		ct, err := hex.DecodeString(value)
		if err != nil {
			t.Fatalf("aes-ecb-hex value %q: %v", value, err)
		}
		pt := make([]byte, len(ct))
		for i := 0; i+16 <= len(ct); i += 16 {
			block.Decrypt(pt[i:i+16], ct[i:i+16])
		}
		return string(unpad(t, pt))
	case usercenter.CipherAESCBCBase64:
		ct, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			t.Fatalf("aes-cbc-base64 value %q: %v", value, err)
		}
		if len(ct)%16 != 0 {
			t.Fatalf("aes-cbc-base64 value of %d bytes", len(ct))
		}
		pt := make([]byte, len(ct))
		cipher.NewCBCDecrypter(block, []byte(key)[:16]).CryptBlocks(pt, ct)
		return string(unpad(t, pt))
	case usercenter.CipherAESGCMBase64:
		ct, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			t.Fatalf("aes-gcm-base64 value %q: %v", value, err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			t.Fatal(err)
		}
		if len(ct) < 12+16 {
			t.Fatalf("aes-gcm-base64 value of %d bytes", len(ct))
		}
		pt, err := gcm.Open(nil, ct[:12], ct[12:], nil)
		if err != nil {
			t.Fatalf("aes-gcm-base64 value does not open: %v", err)
		}
		return string(pt)
	}
	t.Fatalf("unknown cipher %q", c)
	return ""
}

// fixture is an instance with two apps, their users, and a server whose
// unprefixed paths serve app A (as serve --superapp-app does).
type fixture struct {
	env  *uctest.Env
	url  string // the server with app A as the default
	a, b *usercenter.App
	// Users of app A, and one of app B.
	full, bare, disabled, other string
}

const (
	phone      = "+8613612346688"
	phoneMask  = "136****6688"
	email      = "murphyng@tencent.com"
	emailMask  = "mu****ng@tencent.com"
	nickname   = "Murphy"
	avatar     = "https://example.com/murphy.png"
	unknownUID = "2zNkbGhJ3Rf6H4oqQ2nX5c9cVxV" // the shape of a UserId, never issued
)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	env := uctest.New(t)
	f := &fixture{env: env, a: env.App}
	f.b, _ = env.NewApp(t, "second", 1000)
	f.full = f.user(t, f.a, core.UserPatch{Nickname: ptr(nickname), Avatar: ptr(avatar), Phone: ptr(phone), Email: ptr(email)})
	f.bare = f.user(t, f.a, core.UserPatch{})
	f.disabled = f.user(t, f.a, core.UserPatch{Nickname: ptr(nickname), Avatar: ptr(avatar), Phone: ptr(phone), Email: ptr(email), Status: ptr(usercenter.UserDisabled)})
	f.other = f.user(t, f.b, core.UserPatch{Nickname: ptr(nickname), Avatar: ptr(avatar), Phone: ptr(phone), Email: ptr(email)})
	srv := httptest.NewServer(server.NewHandler(env.Svc, slog.New(slog.NewJSONHandler(io.Discard, nil)), server.NewRegistry(), server.WithSuperAppDefault(f.a.SdkAppID)))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fixture) user(t testing.TB, app *usercenter.App, p core.UserPatch) string {
	t.Helper()
	u, err := svctest.CreateUser(f.env.Svc, bg, usercenter.Operator(), app.SdkAppID, p)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// setApp changes app settings and refreshes the fixture's copy.
func (f *fixture) setApp(t testing.TB, app *usercenter.App, p core.AppPatch) {
	t.Helper()
	got, err := f.env.Svc.UpdateApp(bg, usercenter.Operator(), app.SdkAppID, p)
	if err != nil {
		t.Fatal(err)
	}
	if p.SuperAppSecretKey == nil {
		got.SuperAppSecretKey = app.SuperAppSecretKey // shown only when replaced
	}
	*app = *got
}

// answer is one HTTP answer of the API.
type answer struct {
	Status int
	Header http.Header
	Raw    []byte
	envelope
}

type envelope struct {
	ReturnCode    string
	ReturnMessage string
	Data          json.RawMessage
	RequestId     string
}

// str decodes Data as a string.
func (a *answer) str(t testing.TB) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(a.Data, &s); err != nil {
		t.Fatalf("Data is not a string: %s", a.Raw)
	}
	return s
}

// req is one call.
type req struct {
	method string // POST (JSON body) or GET (query)
	path   string
	params map[string]string
	body   *string // a raw body instead of params
	query  string  // a raw query instead of params
	key    string  // the SuperAppSecretKey to sign with; "" for none
	ts     string  // TC-Timestamp; "" for the instance's clock now
	sig    string  // TC-Signature; "" to compute it
}

var client = &http.Client{}

// send sends r to base and decodes the answer, checking the envelope every
// answer shares.
func send(t testing.TB, env *uctest.Env, base string, r req) *answer {
	t.Helper()
	target := base + r.path
	var body io.Reader
	switch {
	case r.body != nil:
		body = strings.NewReader(*r.body)
	case r.method == "POST":
		b, _ := json.Marshal(r.params)
		body = bytes.NewReader(b)
	}
	if r.query != "" {
		target += "?" + r.query
	} else if r.method == "GET" && len(r.params) > 0 {
		q := url.Values{}
		for k, v := range r.params {
			q.Set(k, v)
		}
		target += "?" + q.Encode()
	}
	hr, err := http.NewRequest(r.method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.key != "" {
		ts := r.ts
		if ts == "" {
			ts = strconv.FormatInt(env.Clock.Now().UnixMilli(), 10)
		}
		sig := r.sig
		if sig == "" {
			sig = sign(t, r.key, ts)
		}
		hr.Header.Set("TC-Timestamp", ts)
		hr.Header.Set("TC-Signature", sig)
	}
	res, err := client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := &answer{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if err := json.Unmarshal(raw, &a.envelope); err != nil {
		t.Fatalf("%s %s: status %d, body is not the envelope: %v: %q", r.method, r.path, res.StatusCode, err, raw)
	}
	if a.ReturnCode == "" || a.ReturnMessage == "" || a.RequestId == "" || a.RequestId != res.Header.Get("X-Request-Id") {
		t.Fatalf("%s %s: incomplete envelope: %s", r.method, r.path, raw)
	}
	if res.StatusCode == 500 {
		t.Fatalf("%s %s: 500: %s", r.method, r.path, raw)
	}
	return a
}

// want checks an answer's status, code and message.
func (a *answer) want(t testing.TB, status int, code string) *answer {
	t.Helper()
	if a.Status != status || a.ReturnCode != code {
		t.Fatalf("status %d ReturnCode %q, want %d %q: %s", a.Status, a.ReturnCode, status, code, a.Raw)
	}
	if msg, ok := seedMessages[code]; ok && a.ReturnMessage != msg {
		t.Fatalf("ReturnMessage %q for %s, want %q", a.ReturnMessage, code, msg)
	}
	return a
}

// seedMessages are the platform's codes and messages, copied from its
// documentation (the typo included).
var seedMessages = map[string]string{
	"0":      "OK",
	"200000": "request data is not exist",
	"200001": "Invalid User",
	"200002": "Invalid User id",
	"200003": "ITemporary code error or expired",
}

// forms are the three path forms of the platform's documents.
var forms = []string{"/superapp/user/", "/superapp/inner/user/", "/user/"}

// paths lists an endpoint under every form, unprefixed and under app.
func paths(app uint64, name string) []string {
	var out []string
	for _, f := range forms {
		out = append(out, f+name, "/apps/"+strconv.FormatUint(app, 10)+f+name)
	}
	return out
}

// issue gets a temporary code through the API (default app, seed path).
func (f *fixture) issue(t testing.TB, user, kind string) string {
	t.Helper()
	a := send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/getUserInfoTemporaryCode", key: f.a.SuperAppSecretKey,
		params: map[string]string{"UserId": user, "Type": kind}}).want(t, 200, "0")
	var d struct{ Code, Data string }
	if err := json.Unmarshal(a.Data, &d); err != nil || d.Code == "" {
		t.Fatalf("Data: %s", a.Raw)
	}
	return d.Code
}

// redeem calls getUserPhoneNumber or getUserEmail with a code.
func (f *fixture) redeem(t testing.TB, endpoint, user, code string) *answer {
	t.Helper()
	return send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/" + endpoint, key: f.a.SuperAppSecretKey,
		params: map[string]string{"UserId": user, "TemporaryCode": code}})
}

// deliveries counts the deliver events of a user.
func (f *fixture) deliveries(t testing.TB, user string) []usercenter.AuditEvent {
	t.Helper()
	evs, err := f.env.Store.AuditEvents(bg, usercenter.AuditFilter{UserID: user, Action: usercenter.AuditDeliver, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// msNow is the instance's clock in milliseconds, as TC-Timestamp.
func msNow(env *uctest.Env, d time.Duration) string {
	return strconv.FormatInt(env.Clock.Now().Add(d).UnixMilli(), 10)
}
