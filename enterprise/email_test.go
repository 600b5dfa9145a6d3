package enterprise_test

import (
	"testing"

	"usercenter/core"
	"usercenter/uctest"
)

// userInfo answers a user's email in the form the email rules store: ASCII
// letters in lower case, other letters as typed, in NFC.
func TestUserInfoEmailCanonical(t *testing.T) {
	env := uctest.New(t)
	tok := login(t, env, env.Key)
	for _, c := range []struct{ typed, want string }{
		{"Alice.Liddell@Example.COM", "alice.liddell@example.com"},
		{"İSTANBUL@X.com", "İstanbul@x.com"},
		{"istanbul@x.com", "istanbul@x.com"},
		{"cafe\u0301@X.com", "caf\u00e9@x.com"},
	} {
		u := newUser(t, env, env.App.SdkAppID, core.UserPatch{Email: &c.typed})
		if got := userInfo(t, env, tok, u.ID).Email; got != c.want {
			t.Errorf("userInfo of a user registered with %q: email %q, want %q", c.typed, got, c.want)
		}
	}
}
