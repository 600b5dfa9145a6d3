package superapp_test

import (
	"testing"

	"usercenter/core"
)

// getUserEmail delivers an email in the form the email rules store: ASCII
// letters in lower case, other letters as typed, in NFC.
func TestDeliverEmailCanonical(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ typed, want string }{
		{"Mu.ZhiMing@Tencent.COM", "mu.zhiming@tencent.com"},
		{"İSTANBUL@X.com", "İstanbul@x.com"},
		{"cafe\u0301@X.com", "caf\u00e9@x.com"},
	} {
		id := f.user(t, f.a, core.UserPatch{Email: ptr(c.typed)})
		v := f.redeem(t, "getUserEmail", id, f.issue(t, id, "email")).want(t, 200, "0").str(t)
		if got := decrypt(t, f.a.SuperAppCipher, f.a.SuperAppSecretKey, v); got != c.want {
			t.Errorf("getUserEmail of a user registered with %q delivered %q, want %q", c.typed, got, c.want)
		}
	}
}
