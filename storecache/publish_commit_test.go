package storecache_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/storecache"
	"usercenter/uctest/svctest"
)

// failingPublish is a bus whose Publish fails, as it does when the pool
// connection breaks right after COMMIT (or the process is killed between
// COMMIT and the publication): the write is committed, the notice is not.
type failingPublish struct{ storecache.Bus }

func (failingPublish) Publish(context.Context, []byte) error {
	return errors.New("connection reset after COMMIT")
}

// A write on PostgreSQL is announced with its transaction, not after it:
// node a disables a user, and its bus's own Publish, after COMMIT, fails
// (as when the pool's connection breaks right after COMMIT, or the
// process dies between the two). Node b, whose bus stays up and whose
// entries live an hour, still hears of it: were the notice sent after
// COMMIT, b would let the disabled user in for its whole --cache-ttl.
func TestWriteAnnouncedWithItsCommit(t *testing.T) {
	pa, pb, ring := twoPostgresNodes(t)
	a := startNode(t, pa, failingPublish{pa.InvalidationBus()}, ring)
	b := startNode(t, pb, pb.InvalidationBus(), ring)

	app, key, err := a.svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "announced-with-commit", RateLimit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	s, err := svctest.RegisterUser(a.svc, ctx, key.Actor(), svctest.Registration{SdkAppID: app.SdkAppID, Name: "disabled"})
	if err != nil {
		t.Fatal(err)
	}
	me := func() error { _, err := b.svc.Me(ctx, s.Token); return err }
	cachedOn(t, b, "users", me)
	if err := svctest.SetUserStatus(a.svc, ctx, key.Actor(), s.User.ID, usercenter.UserDisabled); err != nil {
		t.Fatal(err) // committed: a's own Update reports success
	}
	seen(t, "a disabled user whose publication failed", func() error {
		if err := me(); !errors.Is(err, core.ErrUserDisabled) {
			return fmt.Errorf("node b still lets the disabled user in: Me: %v", err)
		}
		return nil
	})
}
