package superapp_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
)

// TestFlow runs the two-step flow for phone and email in every cipher and
// every key length, decrypting the value with the test's own code, as the
// mini program's backend would.
func TestFlow(t *testing.T) {
	f := newFixture(t)
	keys := []string{"0123456789abcdef", "0123456789abcdefghijklmn", "0123456789abcdefghijklmnopqrstuv"}
	for _, c := range []usercenter.SuperAppCipher{usercenter.CipherAESECBHex, usercenter.CipherAESCBCBase64, usercenter.CipherAESGCMBase64} {
		for _, key := range keys {
			f.setApp(t, f.a, core.AppPatch{SuperAppCipher: ptr(c), SuperAppSecretKey: ptr(key)})
			for _, d := range []struct{ kind, endpoint, masked, value string }{
				{"phone", "getUserPhoneNumber", phoneMask, phone},
				{"email", "getUserEmail", emailMask, email},
			} {
				a := send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/getUserInfoTemporaryCode", key: key,
					params: map[string]string{"UserId": f.full, "Type": d.kind}}).want(t, 200, "0")
				var tc struct {
					Code string `json:"code"`
					Data string `json:"data"`
				}
				if err := json.Unmarshal(a.Data, &tc); err != nil {
					t.Fatal(err)
				}
				if tc.Data != d.masked {
					t.Fatalf("%s: masked %q, want %q", d.kind, tc.Data, d.masked)
				}
				if strings.Contains(string(a.Raw), d.value) {
					t.Fatalf("the code answer reveals the value: %s", a.Raw)
				}
				a = send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/" + d.endpoint, key: key,
					params: map[string]string{"UserId": f.full, "TemporaryCode": tc.Code}}).want(t, 200, "0")
				v := a.str(t)
				if strings.Contains(v, d.value) || strings.Contains(string(a.Raw), d.value) {
					t.Fatalf("%s delivered in plain text: %s", c, a.Raw)
				}
				if got := decrypt(t, c, key, v); got != d.value {
					t.Fatalf("%s/%d: decrypted %q, want %q", c, len(key), got, d.value)
				}
				// The same code works once.
				f.redeem(t, d.endpoint, f.full, tc.Code).want(t, 200, "200003")
			}
		}
	}
	// GCM draws a new nonce each time: two deliveries of one value differ.
	f.setApp(t, f.a, core.AppPatch{SuperAppCipher: ptr(usercenter.CipherAESGCMBase64)})
	v1 := f.redeem(t, "getUserPhoneNumber", f.full, f.issue(t, f.full, "phone")).want(t, 200, "0").str(t)
	v2 := f.redeem(t, "getUserPhoneNumber", f.full, f.issue(t, f.full, "phone")).want(t, 200, "0").str(t)
	if v1 == v2 {
		t.Fatal("aes-gcm-base64 repeated a ciphertext")
	}
}

// TestCodeRules checks what a code is bound to: one use, its lifetime, its
// user, its kind of value and its app.
func TestCodeRules(t *testing.T) {
	f := newFixture(t)
	t.Run("format", func(t *testing.T) {
		seen := map[string]bool{}
		for i := 0; i < 20; i++ {
			c := f.issue(t, f.full, "phone")
			if len(c) < 22 || seen[c] { // 22 base62 or 26 base32 characters carry 128 bits
				t.Fatalf("code %q is short or repeated", c)
			}
			seen[c] = true
		}
	})
	t.Run("reuse", func(t *testing.T) {
		c := f.issue(t, f.full, "phone")
		f.redeem(t, "getUserPhoneNumber", f.full, c).want(t, 200, "0")
		for i := 0; i < 3; i++ {
			f.redeem(t, "getUserPhoneNumber", f.full, c).want(t, 200, "200003")
		}
	})
	t.Run("expiry", func(t *testing.T) {
		c := f.issue(t, f.full, "email")
		f.env.Clock.Advance(f.a.CodeTTL + time.Second)
		f.redeem(t, "getUserEmail", f.full, c).want(t, 200, "200003")
		// Just inside the lifetime it works.
		c = f.issue(t, f.full, "email")
		f.env.Clock.Advance(f.a.CodeTTL - 2*time.Second)
		f.redeem(t, "getUserEmail", f.full, c).want(t, 200, "0")
	})
	t.Run("app setting", func(t *testing.T) {
		f.setApp(t, f.a, core.AppPatch{CodeTTL: ptr(30 * time.Second)})
		defer f.setApp(t, f.a, core.AppPatch{CodeTTL: ptr(usercenter.DefaultCodeTTL)})
		c := f.issue(t, f.full, "phone")
		f.env.Clock.Advance(31 * time.Second)
		f.redeem(t, "getUserPhoneNumber", f.full, c).want(t, 200, "200003")
	})
	t.Run("cross type", func(t *testing.T) {
		c := f.issue(t, f.full, "phone")
		f.redeem(t, "getUserEmail", f.full, c).want(t, 200, "200003")
		// The misused code is spent.
		f.redeem(t, "getUserPhoneNumber", f.full, c).want(t, 200, "200003")
		c = f.issue(t, f.full, "email")
		f.redeem(t, "getUserPhoneNumber", f.full, c).want(t, 200, "200003")
	})
	t.Run("cross user", func(t *testing.T) {
		other := f.user(t, f.a, core.UserPatch{Phone: ptr("+8613900001111")})
		c := f.issue(t, f.full, "phone")
		a := f.redeem(t, "getUserPhoneNumber", other, c).want(t, 200, "200003")
		if strings.Contains(string(a.Raw), "13900001111") || strings.Contains(string(a.Raw), "6688") {
			t.Fatalf("a cross-user attempt reveals a number: %s", a.Raw)
		}
		f.redeem(t, "getUserPhoneNumber", f.full, c).want(t, 200, "200003")
	})
	t.Run("cross app", func(t *testing.T) {
		c := f.issue(t, f.full, "phone")
		// App B authenticates with its own key and names app A's user.
		path := "/apps/" + jsonNum(f.b.SdkAppID) + "/superapp/user/getUserPhoneNumber"
		send(t, f.env, f.url, req{method: "POST", path: path, key: f.b.SuperAppSecretKey,
			params: map[string]string{"UserId": f.full, "TemporaryCode": c}}).want(t, 200, "200002")
		// …or its own user with app A's code.
		send(t, f.env, f.url, req{method: "POST", path: path, key: f.b.SuperAppSecretKey,
			params: map[string]string{"UserId": f.other, "TemporaryCode": c}}).want(t, 200, "200003")
	})
	t.Run("value removed", func(t *testing.T) {
		u := f.user(t, f.a, core.UserPatch{Phone: ptr(phone)})
		c := f.issue(t, u, "phone")
		if _, err := f.env.Svc.UpdateUser(bg, usercenter.Operator(), u, core.UserPatch{Phone: ptr("")}); err != nil {
			t.Fatal(err)
		}
		f.redeem(t, "getUserPhoneNumber", u, c).want(t, 200, "200000")
		if n := len(f.deliveries(t, u)); n != 0 {
			t.Fatalf("%d deliver events for a failed delivery", n)
		}
	})
	t.Run("deleted user", func(t *testing.T) {
		u := f.user(t, f.a, core.UserPatch{Phone: ptr(phone)})
		c := f.issue(t, u, "phone")
		if err := f.env.Svc.DeleteUser(bg, usercenter.Operator(), u); err != nil {
			t.Fatal(err)
		}
		f.redeem(t, "getUserPhoneNumber", u, c).want(t, 200, "200002")
	})
}

// TestLockout checks that five wrong codes lock a user's deliveries, the
// right code included, until a new code is issued.
func TestLockout(t *testing.T) {
	f := newFixture(t)
	good := f.issue(t, f.full, "phone")
	for i := 0; i < core.MaxCodeAttempts; i++ {
		f.redeem(t, "getUserPhoneNumber", f.full, "guess-"+string(rune('a'+i))).want(t, 200, "200003")
	}
	f.redeem(t, "getUserPhoneNumber", f.full, good).want(t, 200, "200003")
	f.redeem(t, "getUserEmail", f.full, good).want(t, 200, "200003")
	// Other users are not locked.
	u := f.user(t, f.a, core.UserPatch{Phone: ptr(phone)})
	f.redeem(t, "getUserPhoneNumber", u, f.issue(t, u, "phone")).want(t, 200, "0")
	// The good code was not spent by the locked attempts: a new code lifts
	// the lock for both.
	fresh := f.issue(t, f.full, "phone")
	f.redeem(t, "getUserPhoneNumber", f.full, good).want(t, 200, "0")
	f.redeem(t, "getUserPhoneNumber", f.full, fresh).want(t, 200, "0")

	// Four failures leave the right code working.
	c := f.issue(t, f.full, "email")
	for i := 0; i < core.MaxCodeAttempts-1; i++ {
		f.redeem(t, "getUserEmail", f.full, "nope").want(t, 200, "200003")
	}
	f.redeem(t, "getUserEmail", f.full, c).want(t, 200, "0")

}

// TestConcurrentRedeem spends one code from 20 goroutines at once: exactly
// one succeeds, and exactly one event records it.
func TestConcurrentRedeem(t *testing.T) {
	f := newFixture(t)
	for round := 0; round < 3; round++ {
		before := len(f.deliveries(t, f.full))
		c := f.issue(t, f.full, "phone")
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			codes = map[string]int{}
		)
		start := make(chan struct{})
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				a := f.redeem(t, "getUserPhoneNumber", f.full, c)
				mu.Lock()
				codes[a.ReturnCode]++
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		if codes["0"] != 1 || codes["200003"] != 19 {
			t.Fatalf("round %d: return codes %v, want one 0 and nineteen 200003", round, codes)
		}
		if n := len(f.deliveries(t, f.full)) - before; n != 1 {
			t.Fatalf("round %d: %d deliver events, want 1", round, n)
		}
	}
}

// TestAudit checks that each successful delivery writes exactly one event,
// naming the field, the facade and the request, and that nothing else in
// the API writes one.
func TestAudit(t *testing.T) {
	f := newFixture(t)
	all := func() []usercenter.AuditEvent {
		evs, err := f.env.Store.AuditEvents(bg, usercenter.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	base := len(all())

	pc := f.issue(t, f.full, "phone")
	ec := f.issue(t, f.full, "email")
	for _, ep := range []string{"checkUser", "getUserAvatar", "getUserNick"} {
		send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/" + ep, key: f.a.SuperAppSecretKey, params: map[string]string{"UserId": f.full}}).want(t, 200, "0")
	}
	if n := len(all()) - base; n != 0 {
		t.Fatalf("reads and code issues wrote %d events", n)
	}
	// Failed deliveries write nothing.
	f.redeem(t, "getUserPhoneNumber", f.full, "wrong").want(t, 200, "200003")
	f.redeem(t, "getUserEmail", f.disabled, ec).want(t, 200, "200001")
	f.redeem(t, "getUserEmail", unknownUID, ec).want(t, 200, "200002")
	send(t, f.env, f.url, req{method: "POST", path: "/superapp/user/getUserEmail", key: "0000000000000000", params: map[string]string{"UserId": f.full, "TemporaryCode": ec}}).want(t, 401, "401")
	if n := len(all()) - base; n != 0 {
		t.Fatalf("failed deliveries wrote %d events", n)
	}

	pa := f.redeem(t, "getUserPhoneNumber", f.full, pc).want(t, 200, "0")
	ea := f.redeem(t, "getUserEmail", f.full, ec).want(t, 200, "0")
	f.redeem(t, "getUserEmail", f.full, ec).want(t, 200, "200003")
	evs := all()[base:]
	if len(evs) != 2 {
		t.Fatalf("%d events after two deliveries: %+v", len(evs), evs)
	}
	for i, want := range []struct{ field, req string }{{"phone", pa.RequestId}, {"email", ea.RequestId}} {
		e := evs[i]
		if e.Action != usercenter.AuditDeliver || e.Field != want.field || e.Actor != "facade:superapp" ||
			e.UserID != f.full || e.SdkAppID != f.a.SdkAppID || e.RequestID != want.req {
			t.Errorf("event %d = %+v, want deliver %s by facade:superapp in request %s", i, e, want.field, want.req)
		}
	}
}

// TestPurgeCodes checks that expired codes are deleted, used or not, and
// live ones kept.
func TestPurgeCodes(t *testing.T) {
	f := newFixture(t)
	used := f.issue(t, f.full, "phone")
	f.redeem(t, "getUserPhoneNumber", f.full, used).want(t, 200, "0")
	f.issue(t, f.full, "email")
	if n, err := f.env.Svc.PurgeCodes(bg); err != nil || n != 0 {
		t.Fatalf("PurgeCodes before expiry: %d, %v", n, err)
	}
	f.env.Clock.Advance(f.a.CodeTTL + time.Second)
	live := f.issue(t, f.full, "phone")
	if n, err := f.env.Svc.PurgeCodes(bg); err != nil || n != 2 {
		t.Fatalf("PurgeCodes after expiry: %d, %v; want 2", n, err)
	}
	f.redeem(t, "getUserPhoneNumber", f.full, live).want(t, 200, "0")
}
