package core_test

import (
	"strconv"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/sacipher"
	"usercenter/uctest/svctest"
)

// The requests signed with an API key or a SuperApp secret open that
// secret on every call, from the caches, with its associated data in
// parts: no more allocations than these, which the secret, the actor
// and the super-app signature's own encoding take, and which a joined
// associated data would raise.
func TestSignedRequestAllocs(t *testing.T) {
	if core.RaceDetector {
		t.Skip("allocations are not counted under the race detector")
	}
	svc, _ := svctest.New(t)
	app, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "allocs", RateLimit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	withSecret, err := svctest.AppWithSecret(svc, bg, app.SdkAppID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	sig, err := sacipher.Signature(withSecret.SuperAppSecretKey, ts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		max  float64
		call func() error
	}{
		{"AuthenticateKey", 4, func() error {
			_, err := svc.AuthenticateKey(bg, key.SecretID, key.SecretKey)
			return err
		}},
		{"AuthenticateSuperApp", 9, func() error {
			_, err := svc.AuthenticateSuperApp(bg, app.SdkAppID, ts, now.UnixMilli(), sig)
			return err
		}},
	} {
		if err := c.call(); err != nil { // and cached
			t.Fatalf("%s: %v", c.name, err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			if err := c.call(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		})
		t.Logf("%s: %v allocations", c.name, allocs)
		if allocs > c.max {
			t.Errorf("%s allocates %v times, want at most %v", c.name, allocs, c.max)
		}
	}
}
