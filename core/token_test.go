package core_test

import (
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// Login tokens issued before they carried a KSUID (35 random characters,
// stored under their bare SHA-256) stay valid, beside the new ones.
func TestLegacyLoginTokens(t *testing.T) {
	env := uctest.New(t)
	sess, err := svctest.RegisterUser(env.Svc, bg, env.Key.Actor(), svctest.Registration{SdkAppID: env.App.SdkAppID, Name: "mu"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sess.Token) != 62 {
		t.Fatalf("a new token has %d characters, want 62", len(sess.Token))
	}
	legacy := usercenter.NewToken()
	now := env.Svc.Now()
	err = env.Store.Update(bg, func(tx core.Tx) error {
		return tx.InsertToken(bg, &core.Token{Hash: usercenter.HashToken(legacy), UserID: sess.User.ID, SdkAppID: env.App.SdkAppID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{sess.Token, legacy} {
		u, err := env.Svc.Me(bg, tok)
		if err != nil || u.ID != sess.User.ID {
			t.Fatalf("Me(%d-character token) = %+v, %v", len(tok), u, err)
		}
	}
}
