package core

import (
	"strings"
	"testing"

	"usercenter"
	"usercenter/vault"
)

// TestAssociatedDataParts: a secret sealed under the joined associated
// data, as it is stored, opens through the parts the hot paths pass to
// OpenString, and only for its own row; the joined forms are those the
// databases' values were sealed with, which no change may alter; and
// opening through the parts allocates only the secret.
func TestAssociatedDataParts(t *testing.T) {
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	var digits, otherDigits [20]byte
	for _, c := range []struct {
		joined, other string
		parts         func() []string
		want          string
	}{
		{aadKey("AKIDexample"), aadKey("AKIDother"), func() []string { p := aadKeyParts("AKIDexample"); return p[:] }, "apikey:AKIDexample"},
		{aadApp(1400000001), aadApp(1400000002), func() []string { p := aadAppParts(1400000001, &digits); return p[:] }, "app:1400000001"},
		{aadApp(7), aadApp(70), func() []string { p := aadAppParts(7, &otherDigits); return p[:] }, "app:7"},
		{aadUser("u1", usercenter.FieldPhone), aadUser("u1", usercenter.FieldEmail),
			func() []string { p := aadUserParts("u1", usercenter.FieldPhone); return p[:] }, "user:u1:phone"},
	} {
		if c.joined != c.want || strings.Join(c.parts(), "") != c.want {
			t.Errorf("associated data %q, in parts %q; want %q", c.joined, c.parts(), c.want)
		}
		sealed := ring.Seal([]byte("the secret"), c.joined)
		if got, err := ring.OpenString(sealed, c.parts()...); err != nil || got != "the secret" {
			t.Errorf("%s: sealed joined, opened in parts: %q, %v", c.want, got, err)
		}
		if _, err := ring.OpenString(ring.Seal([]byte("the secret"), c.other), c.parts()...); err == nil {
			t.Errorf("%s: a value of %s opened", c.want, c.other)
		}
	}

	if raceDetector {
		return // allocations are not counted under it
	}
	key := ring.Seal([]byte("the secret"), aadKey("AKIDexample"))
	app := ring.Seal([]byte("the secret"), aadApp(1400000001))
	user := ring.Seal([]byte("the secret"), aadUser("u1", usercenter.FieldPhone))
	for name, open := range map[string]func(){
		"an API key's secret": func() {
			aad := aadKeyParts("AKIDexample")
			ring.OpenString(key, aad[:]...)
		},
		"an app's SuperApp secret": func() {
			var digits [20]byte
			aad := aadAppParts(1400000001, &digits)
			ring.OpenString(app, aad[:]...)
		},
		"a user's phone": func() {
			aad := aadUserParts("u1", usercenter.FieldPhone)
			ring.OpenString(user, aad[:]...)
		},
	} {
		if n := testing.AllocsPerRun(100, open); n != 1 {
			t.Errorf("opening %s through its parts allocates %v times, want 1: the value", name, n)
		}
	}
}
