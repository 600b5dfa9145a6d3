package superapp_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/sacipher"
)

// TestSignatureVector pins the signature to a vector computed by OpenSSL
// from the platform's description: AES-128-ECB, PKCS7, lowercase hex. The
// test's own implementation must agree with it, and so must the service.
func TestSignatureVector(t *testing.T) {
	key, ts := "0123456789abcdef", "1735293931220"
	got := sign(t, key, ts)
	// From a third implementation, OpenSSL:
	//   printf %s 1735293931220 | openssl enc -aes-128-ecb -K "$(printf %s 0123456789abcdef | xxd -p)" | xxd -p
	if want := "38cfaad10e5fb0a6d28d7540e21156d2"; got != want {
		t.Fatalf("signature %q, want %q", got, want)
	}
	svc, err := sacipher.Signature(key, ts)
	if err != nil || svc != got {
		t.Fatalf("superapp.Signature = %q, %v; the test's own AES-ECB gives %q", svc, err, got)
	}
	// A 16-byte timestamp pads to a whole extra block.
	if got := sign(t, key, "1234567890123456"); len(got) != 64 {
		t.Fatalf("a 16-byte plaintext gave %d hex digits, want 64", len(got))
	}
}

func TestSignature(t *testing.T) {
	f := newFixture(t)
	env := f.env
	path := "/superapp/user/checkUser"
	params := map[string]string{"UserId": f.full}
	ok := func(t *testing.T, r req) {
		t.Helper()
		a := send(t, env, f.url, r).want(t, 200, "0")
		if string(a.Data) != "true" {
			t.Fatalf("Data = %s, want true", a.Data)
		}
	}
	refused := func(t *testing.T, r req) *answer {
		t.Helper()
		a := send(t, env, f.url, r).want(t, 401, "401")
		if a.Data != nil {
			t.Fatalf("a refused call carries Data: %s", a.Raw)
		}
		for _, leak := range []string{f.full, nickname, "true", "false"} {
			if strings.Contains(string(a.Raw), leak) {
				t.Fatalf("401 reveals %q: %s", leak, a.Raw)
			}
		}
		return a
	}

	t.Run("good", func(t *testing.T) {
		ok(t, req{method: "POST", path: path, params: params, key: f.a.SuperAppSecretKey})
		ok(t, req{method: "GET", path: path, params: params, key: f.a.SuperAppSecretKey})
	})
	t.Run("uppercase hex", func(t *testing.T) {
		ts := msNow(env, 0)
		ok(t, req{method: "POST", path: path, params: params, key: f.a.SuperAppSecretKey, ts: ts, sig: strings.ToUpper(sign(t, f.a.SuperAppSecretKey, ts))})
	})
	t.Run("wrong key", func(t *testing.T) {
		refused(t, req{method: "POST", path: path, params: params, key: "ffffffffffffffffffffffffffffffff"})
		// The other app's key does not open app A.
		refused(t, req{method: "POST", path: path, params: params, key: f.b.SuperAppSecretKey})
	})
	t.Run("signature of another timestamp", func(t *testing.T) {
		refused(t, req{method: "POST", path: path, params: params, key: f.a.SuperAppSecretKey, ts: msNow(env, 0), sig: sign(t, f.a.SuperAppSecretKey, msNow(env, -time.Second))})
	})
	t.Run("missing headers", func(t *testing.T) {
		refused(t, req{method: "POST", path: path, params: params})
		refused(t, req{method: "POST", path: path, params: params, key: f.a.SuperAppSecretKey, sig: " "})
	})
	t.Run("malformed", func(t *testing.T) {
		for _, r := range []req{
			{ts: "not-a-number"},
			{ts: "-1735293931220"},
			{ts: "17352939312201735293931220"},
			{ts: "1735293931220.5"},
			{sig: "zz" + strings.Repeat("0", 30)},                 // not hex
			{sig: strings.Repeat("0", 31)},                        // odd length
			{sig: strings.Repeat("ab", 200)},                      // too long
			{sig: "0x" + strings.Repeat("0", 30)},                 // not hex
			{sig: strings.Repeat("0", 16) + "\u00e9" + "0000000"}, // not ASCII
		} {
			r.method, r.path, r.params, r.key = "POST", path, params, f.a.SuperAppSecretKey
			if r.sig == "" && r.ts != "" {
				r.sig = sign(t, f.a.SuperAppSecretKey, r.ts)
			}
			refused(t, r)
		}
	})
	t.Run("leading zeros", func(t *testing.T) {
		// "000" and a current timestamp fill a whole AES block, which a
		// delivered email could also contain: such a signature could be cut
		// out of a delivery. Correctly signed, it is still refused.
		ts := "000" + msNow(env, 0)
		refused(t, req{method: "POST", path: path, params: params, key: f.a.SuperAppSecretKey, ts: ts, sig: sign(t, f.a.SuperAppSecretKey, ts)})
	})
	t.Run("stale", func(t *testing.T) {
		key := f.a.SuperAppSecretKey
		// Just inside the window, either way, is accepted. The clock stands
		// still from here, so that "just inside" (2 s) does not run out
		// while a loaded machine serves the request.
		env.Clock.Freeze()
		ok(t, req{method: "POST", path: path, params: params, key: key, ts: msNow(env, -5*time.Minute+2*time.Second)})
		ok(t, req{method: "POST", path: path, params: params, key: key, ts: msNow(env, 5*time.Minute-2*time.Second)})
		// A request signed now is refused once the server's clock has moved
		// past five minutes, forwards or backwards.
		ts := msNow(env, 0)
		sig := sign(t, key, ts)
		ok(t, req{method: "POST", path: path, params: params, key: key, ts: ts, sig: sig})
		env.Clock.Advance(5*time.Minute + time.Second)
		a := refused(t, req{method: "POST", path: path, params: params, key: key, ts: ts, sig: sig})
		if !strings.Contains(a.ReturnMessage, "5 minutes") {
			t.Errorf("stale message %q does not say why", a.ReturnMessage)
		}
		env.Clock.Advance(-2 * (5*time.Minute + time.Second))
		refused(t, req{method: "POST", path: path, params: params, key: key, ts: ts, sig: sig})
		env.Clock.Advance(5*time.Minute + time.Second)
		ok(t, req{method: "POST", path: path, params: params, key: key, ts: ts, sig: sig})
	})
	t.Run("unknown app", func(t *testing.T) {
		for _, p := range []string{"/apps/999/superapp/user/checkUser", "/apps/abc/superapp/user/checkUser", "/apps/0/user/checkUser", "/apps/99999999999999999999999/user/checkUser",
			// The app's own ID, spelt otherwise: only canonical decimal names it.
			"/apps/0" + jsonNum(f.a.SdkAppID) + "/user/checkUser", "/apps/%2B" + jsonNum(f.a.SdkAppID) + "/superapp/user/checkUser", "/apps/00" + jsonNum(f.a.SdkAppID) + "/user/checkUser"} {
			refused(t, req{method: "POST", path: p, params: params, key: f.a.SuperAppSecretKey})
		}
	})
	t.Run("key lengths", func(t *testing.T) {
		for _, key := range []string{"0123456789abcdef", "0123456789abcdefghijklmn", "0123456789abcdefghijklmnopqrstuv", "!#$%&()*+,-./:;<=>?@[]^_`{|}~AbC"} {
			f.setApp(t, f.a, core.AppPatch{SuperAppSecretKey: ptr(key)})
			ok(t, req{method: "POST", path: path, params: params, key: key})
			ok(t, req{method: "GET", path: "/apps/" + jsonNum(f.a.SdkAppID) + path, params: params, key: key})
			// A key that differs in its last byte is wrong.
			wrong := key[:len(key)-1] + string(key[len(key)-1]^1)
			refused(t, req{method: "POST", path: path, params: params, key: wrong})
			// The key is the raw bytes: a prefix of a longer key is wrong.
			if len(key) > 16 {
				refused(t, req{method: "POST", path: path, params: params, key: key[:16]})
			}
		}
	})
}

// TestAuthBeforeEverything checks that a request without a valid
// signature learns nothing: every endpoint, whatever the user, whatever
// the body, answers the same 401.
func TestAuthBeforeEverything(t *testing.T) {
	f := newFixture(t)
	var first string
	for _, ep := range []string{"checkUser", "getUserAvatar", "getUserNick", "getUserInfoTemporaryCode", "getUserPhoneNumber", "getUserEmail"} {
		for _, user := range []string{f.full, f.disabled, f.other, unknownUID, "", "bad"} {
			for _, body := range []string{`{"UserId":` + quote(user) + `,"Type":"phone","TemporaryCode":"x"}`, `{not json`, strings.Repeat("x", 1<<17)} {
				a := send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/" + ep, body: &body, key: f.a.SuperAppSecretKey, sig: strings.Repeat("00", 16)}).want(t, 401, "401")
				if first == "" {
					first = a.ReturnMessage
				} else if a.ReturnMessage != first {
					t.Fatalf("401 messages differ: %q and %q", first, a.ReturnMessage)
				}
			}
		}
	}
	if evs := f.deliveries(t, f.full); len(evs) != 0 {
		t.Fatalf("refused calls wrote %d audit events", len(evs))
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func jsonNum(n uint64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestKeyValidation checks the key rules of app update: 16, 24 or 32
// printable characters.
func TestKeyValidation(t *testing.T) {
	f := newFixture(t)
	for _, key := range []string{"", "short", strings.Repeat("a", 15), strings.Repeat("a", 17), strings.Repeat("a", 31), strings.Repeat("a", 33), strings.Repeat("a", 15) + " ", strings.Repeat("é", 8)} {
		_, err := f.env.Svc.UpdateApp(bg, usercenter.Operator(), f.a.SdkAppID, core.AppPatch{SuperAppSecretKey: ptr(key)})
		if usercenter.ErrorCode(err) != usercenter.EInvalid {
			t.Errorf("key %q: err %v, want invalid", key, err)
		}
	}
	// The key in force did not change.
	send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/checkUser", params: map[string]string{"UserId": f.full}, key: f.a.SuperAppSecretKey}).want(t, 200, "0")
}
