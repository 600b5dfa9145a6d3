package core_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest/svctest"
)

// TestPurgeExpired runs the background purge and checks that it removes
// expired login tokens, temporary codes and enterprise tokens, and nothing
// that is still valid.
func TestPurgeExpired(t *testing.T) {
	var logs bytes.Buffer
	svc, clock := newFrozen(t, core.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	app, key, err := svc.CreateApp(bg, core.NewApp{Name: "purge"})
	if err != nil {
		t.Fatal(err)
	}
	actor := key.Actor()
	sess, err := svctest.RegisterUser(svc, bg, actor, svctest.Registration{SdkAppID: app.SdkAppID, Name: "p"})
	if err != nil {
		t.Fatal(err)
	}
	phone := "+8613612346688"
	if _, err := svc.UpdateUser(bg, actor, sess.User.ID, core.UserPatch{Phone: &phone}); err != nil {
		t.Fatal(err)
	}
	_, err = svc.SuperAppIssueCode(bg, svctest.SuperAppActor(app.SdkAppID), sess.User.ID, "phone")
	if err != nil {
		t.Fatal(err)
	}
	u, p := signedLogin(key, clock.Now())
	ent, err := svc.AccessKeyLogin(bg, u, p)
	if err != nil {
		t.Fatal(err)
	}

	// Nothing has expired yet: a purge pass must keep everything.
	purgeOnce(t, svc)
	if _, err := svc.Me(bg, sess.Token); err != nil {
		t.Fatalf("a valid token was purged: %v", err)
	}
	if _, err := svc.AuthenticateAccessToken(bg, ent.Token); err != nil {
		t.Fatalf("a valid enterprise token was purged: %v", err)
	}

	// Past every lifetime: all three are gone from the store itself, not
	// merely refused.
	clock.Advance(usercenter.DefaultTokenTTL + time.Hour)
	purgeOnce(t, svc)
	if n, err := svc.PurgeCodes(bg); err != nil || n != 0 {
		t.Fatalf("codes left after the purge: %d, %v", n, err)
	}
	if n, err := svc.DeleteExpiredEnterpriseTokens(bg); err != nil || n != 0 {
		t.Fatalf("enterprise tokens left after the purge: %d, %v", n, err)
	}
	if _, err := svc.Me(bg, sess.Token); usercenter.ErrorCode(err) != usercenter.EUnauthenticated {
		t.Fatalf("an expired token still answers: %v", err)
	}
	for _, what := range []string{"login tokens", "temporary codes", "enterprise tokens"} {
		if !strings.Contains(logs.String(), `msg="purged expired `+what+`" count=1`) {
			t.Errorf("the purge did not delete the expired %s; log:\n%s", what, logs.String())
		}
	}
}

// purgeOnce runs the purge loop until it has made at least one pass.
func purgeOnce(t *testing.T, svc *core.Service) {
	t.Helper()
	ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
	defer cancel()
	svc.PurgeExpired(ctx, 20*time.Millisecond)
}
