package restapi_test

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// TestPaginationUnderConcurrentInserts pages through more than 1000 users
// while another goroutine keeps adding more: every user that existed
// before the walk began must be listed exactly once, and no user twice.
func TestPaginationUnderConcurrentInserts(t *testing.T) {
	env := uctest.New(t)
	ctx := context.Background()
	const initial = 1234
	before := map[string]bool{}
	for start := 0; start < initial; start += core.MaxBatchUsers {
		var batch []svctest.Registration
		for i := start; i < min(initial, start+core.MaxBatchUsers); i++ {
			batch = append(batch, svctest.Registration{SdkAppID: env.App.SdkAppID, Name: "u", OriginID: fmt.Sprintf("pre-%d", i)})
		}
		users, err := svctest.BatchRegister(env.Svc, ctx, usercenter.Operator(), batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			before[u.ID] = true
		}
	}
	if len(before) != initial {
		t.Fatalf("%d distinct users created, want %d", len(before), initial)
	}
	// Users of another app must never appear.
	other, _ := env.NewApp(t, "other", 1000)
	foreign, err := svctest.CreateUser(env.Svc, ctx, usercenter.Operator(), other.SdkAppID, core.UserPatch{})
	if err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var added atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := svctest.CreateUser(env.Svc, ctx, usercenter.Operator(), env.App.SdkAppID, core.UserPatch{}); err != nil {
				t.Error(err)
				return
			}
			added.Add(1)
		}
	}()

	seen := map[string]int{}
	pages, next, prev := 0, "", ""
	for {
		path := appUsers(env.App.SdkAppID) + "?limit=37"
		if next != "" {
			path += "&next=" + url.QueryEscape(next)
		}
		res := do(t, env, request{Method: "GET", Path: path, Auth: basic(env.Key)})
		if res.Status != 200 {
			t.Fatalf("page %d: %d %s", pages, res.Status, res.Body)
		}
		var l userList
		res.Decode(t, &l)
		pages++
		if len(l.Users) > 37 {
			t.Fatalf("page of %d users", len(l.Users))
		}
		for _, u := range l.Users {
			seen[u.UserID]++
			if u.UserID <= prev {
				t.Fatalf("not in userId order: %s after %s", u.UserID, prev)
			}
			prev = u.UserID
		}
		if l.Next == nil {
			break
		}
		next = *l.Next
		if pages > 1000 {
			t.Fatal("the walk does not end")
		}
	}
	close(stop)
	wg.Wait()

	if added.Load() == 0 {
		t.Fatal("no user was added during the walk: the test proves nothing")
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("user %s listed %d times", id, n)
		}
	}
	for id := range before {
		if seen[id] != 1 {
			t.Errorf("user %s, there before the walk, listed %d times", id, seen[id])
		}
	}
	if seen[foreign.ID] != 0 {
		t.Error("a user of another app was listed")
	}
	t.Logf("%d pages, %d users listed, %d added during the walk", pages, len(seen), added.Load())
}

func TestListDefaults(t *testing.T) {
	env := uctest.New(t)
	var batch []svctest.Registration
	for i := range 120 {
		batch = append(batch, svctest.Registration{SdkAppID: env.App.SdkAppID, Name: "u", OriginID: fmt.Sprintf("o-%d", i)})
	}
	if _, err := svctest.BatchRegister(env.Svc, context.Background(), usercenter.Operator(), batch); err != nil {
		t.Fatal(err)
	}
	count := func(query string) (int, *string) {
		res := do(t, env, request{Method: "GET", Path: appUsers(env.App.SdkAppID) + query, Auth: basic(env.Key)})
		if res.Status != 200 {
			t.Fatalf("%s: %d %s", query, res.Status, res.Body)
		}
		var l userList
		res.Decode(t, &l)
		return len(l.Users), l.Next
	}
	if n, next := count(""); n != 50 || next == nil {
		t.Fatalf("default page: %d users, next %v", n, next)
	}
	if n, next := count("?limit=500"); n != 120 || next != nil {
		t.Fatalf("limit 500: %d users, next %v", n, next)
	}
	if n, next := count("?limit=120"); n != 120 || next != nil {
		t.Fatalf("an exactly full last page must have no next: %d, %v", n, next)
	}
	// An empty app lists nothing, with a null next.
	empty, key := env.NewApp(t, "empty", 100)
	res := do(t, env, request{Method: "GET", Path: appUsers(empty.SdkAppID), Auth: basic(key)})
	if res.Status != 200 || string(res.Body) != `{"users":[],"next":null}`+"\n" {
		t.Fatalf("empty app: %d %s", res.Status, res.Body)
	}
}

func TestLookups(t *testing.T) {
	env := uctest.New(t)
	auth := basic(env.Key)
	target := createUser(t, env, env.Key, env.App.SdkAppID, `{"originId": "crm-42", "phone": "13612346688", "email": "Bob.Smith@Example.COM", "thirdPartyIds": {"wechatMiniprogram": "mp-42"}}`)
	createUser(t, env, env.Key, env.App.SdkAppID, `{"originId": "crm-43", "phone": "+8613612346699", "email": "other@example.com", "thirdPartyIds": {"wechatMiniprogram": "mp-43"}}`)
	// The same values in another app must not match.
	otherApp, otherKey := env.NewApp(t, "other", 1000)
	createUser(t, env, otherKey, otherApp.SdkAppID, `{"originId": "crm-42", "phone": "+8613612346688", "email": "bob.smith@example.com", "thirdPartyIds": {"wechatMiniprogram": "mp-42"}}`)

	users := appUsers(env.App.SdkAppID)
	one := func(t *testing.T, res *response) {
		var l userList
		res.Decode(t, &l)
		if len(l.Users) != 1 || l.Users[0].UserID != target.UserID || l.Next != nil {
			t.Fatalf("want exactly %s: %s", target.UserID, res.Body)
		}
	}
	none := func(t *testing.T, res *response) {
		var l userList
		res.Decode(t, &l)
		if len(l.Users) != 0 {
			t.Fatalf("want no match: %s", res.Body)
		}
	}
	for _, s := range []scenario{
		{Name: "originId", request: request{Method: "GET", Path: users + "?originId=crm-42", Auth: auth}, Status: 200, Check: one},
		{Name: "phone E.164", request: request{Method: "GET", Path: users + "?phone=" + url.QueryEscape("+8613612346688"), Auth: auth}, Status: 200, Check: one},
		{Name: "phone national CN", request: request{Method: "GET", Path: users + "?phone=13612346688", Auth: auth}, Status: 200, Check: one},
		{Name: "phone national with spaces", request: request{Method: "GET", Path: users + "?phone=" + url.QueryEscape("136 1234 6688"), Auth: auth}, Status: 200, Check: one},
		{Name: "email exact", request: request{Method: "GET", Path: users + "?email=bob.smith@example.com", Auth: auth}, Status: 200, Check: one},
		{Name: "email other case", request: request{Method: "GET", Path: users + "?email=BOB.Smith@example.Com", Auth: auth}, Status: 200, Check: one},
		{Name: "third-party ID", request: request{Method: "GET", Path: users + "?provider=wechatMiniprogram&providerUserId=mp-42", Auth: auth}, Status: 200, Check: one},
		{Name: "lookups mask by default", request: request{Method: "GET", Path: users + "?originId=crm-42", Auth: auth}, Status: 200, Contains: []string{`"phone":"` + usercenter.MaskPhone("+8613612346688") + `"`}, NotContains: []string{"13612346688"}},
		{Name: "lookups reveal", request: request{Method: "GET", Path: users + "?originId=crm-42&reveal=phone", Auth: auth}, Status: 200, Contains: []string{`"phone":"+8613612346688"`}},
		{Name: "no such originId", request: request{Method: "GET", Path: users + "?originId=nobody", Auth: auth}, Status: 200, Check: none},
		{Name: "no such phone", request: request{Method: "GET", Path: users + "?phone=13612340000", Auth: auth}, Status: 200, Check: none},
		{Name: "no such email", request: request{Method: "GET", Path: users + "?email=nobody@example.com", Auth: auth}, Status: 200, Check: none},
		{Name: "no such link", request: request{Method: "GET", Path: users + "?provider=qq&providerUserId=mp-42", Auth: auth}, Status: 200, Check: none},
		{Name: "two criteria", request: request{Method: "GET", Path: users + "?originId=crm-42&email=bob.smith@example.com", Auth: auth}, Status: 400, Code: "invalid_field", Field: "lookup"},
		{Name: "provider without id", request: request{Method: "GET", Path: users + "?provider=qq", Auth: auth}, Status: 400, Code: "invalid_field", Field: "providerUserId"},
		{Name: "id without provider", request: request{Method: "GET", Path: users + "?providerUserId=x", Auth: auth}, Status: 400, Code: "invalid_field", Field: "provider"},
		{Name: "unknown provider", request: request{Method: "GET", Path: users + "?provider=myspace&providerUserId=x", Auth: auth}, Status: 400, Code: "invalid_field", Field: "provider"},
		{Name: "invalid phone", request: request{Method: "GET", Path: users + "?phone=12345", Auth: auth}, Status: 400, Code: "invalid_field", Field: "phone"},
		{Name: "invalid email", request: request{Method: "GET", Path: users + "?email=not-an-email", Auth: auth}, Status: 400, Code: "invalid_field", Field: "email"},
		{Name: "empty lookup value", request: request{Method: "GET", Path: users + "?originId=", Auth: auth}, Status: 400, Code: "invalid_field", Field: "originId"},
		{Name: "lookup with a cursor", request: request{Method: "GET", Path: users + "?originId=crm-42&next=abc", Auth: auth}, Status: 400, Code: "invalid_field", Field: "next"},
		{Name: "lookup with a limit", request: request{Method: "GET", Path: users + "?originId=crm-42&limit=5", Auth: auth}, Status: 400, Code: "invalid_field", Field: "limit"},
	} {
		t.Run(s.Name, func(t *testing.T) { s.run(t, env) })
	}
}
