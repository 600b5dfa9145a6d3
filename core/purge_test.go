package core_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// TestPurgeExpired runs the background purge and checks that it removes
// expired login tokens, temporary codes and enterprise tokens, and nothing
// that is still valid.
func TestPurgeExpired(t *testing.T) {
	logs := &uctest.LogBuffer{}
	svc, clock := newFrozen(t, core.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	app, key, err := svc.CreateApp(bg, usercenter.Operator(), core.NewApp{Name: "purge"})
	if err != nil {
		t.Fatal(err)
	}
	actor := key.Actor()
	// One of each, which the clock then leaves behind, and one of each
	// still valid; register makes a user with a login token and a code.
	register := func(name string) (*core.Session, *core.EnterpriseSession) {
		t.Helper()
		sess, err := svctest.RegisterUser(svc, bg, actor, svctest.Registration{SdkAppID: app.SdkAppID, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		phone := "+8613612346688"
		if _, err := svc.UpdateUser(bg, actor, sess.User.ID, core.UserPatch{Phone: &phone}); err != nil {
			t.Fatal(err)
		}
		if _, err = svc.SuperAppIssueCode(bg, svctest.SuperAppActor(app.SdkAppID), sess.User.ID, "phone"); err != nil {
			t.Fatal(err)
		}
		u, p := signedLogin(key, clock.Now())
		ent, err := svc.AccessKeyLogin(bg, u, p)
		if err != nil {
			t.Fatal(err)
		}
		return sess, ent
	}
	sess, ent := register("p")
	clock.Advance(usercenter.DefaultTokenTTL + time.Hour)
	fresh, freshEnt := register("q")

	// A pass deletes the expired one of each, and only that one: all three
	// are gone from the store itself, not merely refused.
	purgeOnce(t, svc, logs)
	if n, err := svc.PurgeCodes(bg); err != nil || n != 0 {
		t.Fatalf("codes left after the purge: %d, %v", n, err)
	}
	if n, err := svc.DeleteExpiredEnterpriseTokens(bg); err != nil || n != 0 {
		t.Fatalf("enterprise tokens left after the purge: %d, %v", n, err)
	}
	if _, err := svc.Me(bg, sess.Token); usercenter.ErrorCode(err) != usercenter.EUnauthenticated {
		t.Fatalf("an expired token still answers: %v", err)
	}
	if _, err := svc.AuthenticateAccessToken(bg, ent.Token); err == nil {
		t.Fatal("an expired enterprise token still answers")
	}
	if _, err := svc.Me(bg, fresh.Token); err != nil {
		t.Fatalf("a valid token was purged: %v", err)
	}
	if _, err := svc.AuthenticateAccessToken(bg, freshEnt.Token); err != nil {
		t.Fatalf("a valid enterprise token was purged: %v", err)
	}
	for _, what := range []string{"login tokens", "temporary codes", "enterprise tokens"} {
		if !strings.Contains(logs.String(), `msg="purged expired `+what+`" count=1`) {
			t.Errorf("the purge did not delete the expired %s alone; log:\n%s", what, logs.String())
		}
	}
}

// purgeOnce runs the purge loop until it has made a pass that deleted
// something of the last kind it purges, enterprise tokens, as its log
// shows: the pass is then over, whatever the load. The minute only stops a
// broken test.
func purgeOnce(t *testing.T, svc *core.Service, logs *uctest.LogBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.PurgeExpired(ctx, 20*time.Millisecond)
	}()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(logs.String(), `msg="purged expired enterprise tokens"`); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no purge pass deleted the expired enterprise token in a minute; log:\n%s", logs.String())
		}
	}
}
