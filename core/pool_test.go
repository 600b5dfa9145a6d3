package core_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/postgres"
	"usercenter/postgres/pgtest"
	"usercenter/replay"
	"usercenter/uctest/svctest"
	"usercenter/vault"
)

// Inside an Update every read must go through the Tx. On PostgreSQL a read
// through the Store there needs a second pooled connection while the Tx
// holds one, so as many concurrent reveals as the pool has connections
// would wait for each other for ever.
func TestRevealsDoNotExhaustThePool(t *testing.T) {
	dsn := pgtest.DSN(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	ctx := context.Background()
	store, err := postgres.Open(ctx, dsn+sep+"pool_max_conns=2", postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ring, err := vault.New(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := core.NewService(ctx, store, ring, core.WithReplayMemory(replay.New(core.ReplayWindow, 16)))
	if err != nil {
		t.Fatal(err)
	}
	app, key, err := svc.CreateApp(ctx, usercenter.Operator(), core.NewApp{Name: "pool", RateLimit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	actor := key.Actor()
	var ids []string
	for i := range 4 {
		u := mustUser(t, svc, actor, app.SdkAppID, personal("u", fmt.Sprintf("+8613900001%03d", i), "", ""))
		ids = append(ids, u.ID)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.GetUser(ctx, actor, ids[i%len(ids)], []usercenter.PIIField{usercenter.FieldPhone})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// FindUsers reveals inside an Update too, and reads the app there.
	for range 2 {
		wg.Add(10)
		for range 10 {
			go func() {
				defer wg.Done()
				if _, err := svctest.FindUsers(svc, ctx, actor, app.SdkAppID, core.UserQuery{Phone: "+8613900001000"}, []usercenter.PIIField{usercenter.FieldPhone}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
}
