package scim_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"usercenter"
	"usercenter/core"
	"usercenter/storecache"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// quietBus is an invalidation channel that is up and carries nothing: the
// other node's notice of its write has not arrived yet (or its
// publication failed after COMMIT).
type quietBus struct{}

func (quietBus) Publish(context.Context, []byte) error { return nil }
func (quietBus) Subscribe(ctx context.Context, sub storecache.Subscriber) {
	sub.Up()
	<-ctx.Done()
}

// staleCacheEnv is a node whose cache holds a user as it was before
// another node, on the same database, changed their nickname once; it
// returns the node, a client of it, the user's ID and the ETags of the
// user before and after the other node's write.
func staleCacheEnv(t *testing.T) (env *uctest.Env, c *client, id, before, after string) {
	listen, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { stop(); <-done })
	env = uctest.New(t, uctest.Options{Wrap: func(s core.Store) core.Store {
		cache := s.(*storecache.Store)
		cache.UseBus(quietBus{}, time.Hour)
		go func() { defer close(done); cache.Listen(listen) }()
		return cache
	}})
	c = newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)
	id = c.createUser(userBody("stale-cache", ""))
	before = c.do("GET", "Users/"+id, "").want(t, http.StatusOK).header.Get("ETag") // cached here

	other := svctest.OpenDatabase(t, env.DB)
	var version time.Time
	if err := other.Update(context.Background(), func(tx core.Tx) error {
		u, err := tx.User(context.Background(), id)
		if err != nil {
			return err
		}
		u.Nickname = "changed elsewhere"
		u.UpdatedAt = u.UpdatedAt.Add(time.Second)
		version = u.UpdatedAt
		return tx.UpdateUser(context.Background(), u)
	}); err != nil {
		t.Fatal(err)
	}
	after = `W/"` + strconv.FormatInt(version.UnixNano(), 36) + `"`
	if got := c.do("GET", "Users/"+id, "").want(t, http.StatusOK).header.Get("ETag"); got != before {
		t.Fatalf("the node's cache did not keep the user as before the other node's write: ETag %s, want %s", got, before)
	}
	return env, c, id, before, after
}

// A PATCH without If-Match after another node's write: the user read from
// the node's cache is older than the database's, core refuses to write
// over it, and the next attempt reads the user as committed and applies,
// rather than every attempt reading the same old copy and the client
// getting 409 "the user kept changing" though it changed once.
func TestPatchAfterAnotherNodesWrite(t *testing.T) {
	env, c, id, _, after := staleCacheEnv(t)
	a := c.do("PATCH", "Users/"+id, patchBody(`{"op":"replace","path":"title","value":"x"},{"op":"replace","path":"timezone","value":"Europe/Paris"}`)).want(t, http.StatusOK)
	if a.header.Get("ETag") == after {
		t.Fatalf("the PATCH kept the other node's version %s", after)
	}
	u, err := env.Svc.GetUserLatest(bg, usercenter.Operator(), id, nil)
	if err != nil || u.Nickname != "changed elsewhere" || u.Timezone != "Europe/Paris" {
		t.Fatalf("after the PATCH: %+v, %v; want the other node's nickname and the timezone", u, err)
	}
}

// PUT and PATCH with If-Match naming the version the other node wrote
// apply, though this node's cached copy is of the version before; the
// version before, which the database no longer has, still gets 412.
func TestIfMatchAfterAnotherNodesWrite(t *testing.T) {
	for _, method := range []string{"PUT", "PATCH"} {
		t.Run(method, func(t *testing.T) {
			env, c, id, before, after := staleCacheEnv(t)
			body := patchBody(`{"op":"replace","path":"timezone","value":"Europe/Paris"}`)
			if method == "PUT" {
				body = userBody("stale-cache", `"timezone":"Europe/Paris"`)
			}
			withIfMatch := func(tag string) *answer {
				t.Helper()
				req, err := http.NewRequest(method, env.URL+"/scim/v2/"+strconv.FormatUint(env.App.SdkAppID, 10)+"/Users/"+id, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+c.token)
				req.Header.Set("Content-Type", "application/scim+json")
				req.Header.Set("If-Match", tag)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return &answer{status: resp.StatusCode, header: resp.Header}
			}
			if a := withIfMatch(before); a.status != http.StatusPreconditionFailed {
				t.Fatalf("%s under If-Match of the version before the other node's write: %d, want 412", method, a.status)
			}
			if a := withIfMatch(after); a.status != http.StatusOK {
				t.Fatalf("%s under If-Match of the other node's version: %d, want 200", method, a.status)
			}
			u, err := env.Svc.GetUserLatest(bg, usercenter.Operator(), id, nil)
			if err != nil || u.Timezone != "Europe/Paris" {
				t.Fatalf("after the %s: %+v, %v", method, u, err)
			}
		})
	}
}
