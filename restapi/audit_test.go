package restapi_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"usercenter"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

func TestAuditFiltersAndPagination(t *testing.T) {
	env := uctest.New(t)
	ctx := context.Background()
	var batch []svctest.Registration
	for i := range 700 {
		batch = append(batch, svctest.Registration{SdkAppID: env.App.SdkAppID, Name: "u", OriginID: fmt.Sprintf("a-%d", i)})
	}
	if _, err := svctest.BatchRegister(env.Svc, ctx, usercenter.Operator(), batch); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Hour)
	mark := env.Clock.Now().UTC()
	env.Clock.Advance(time.Second)
	writer := env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead, usercenter.PermUsersWrite)
	u := createUser(t, env, writer, env.App.SdkAppID, `{"nickname": "n"}`)
	do(t, env, request{Method: "PATCH", Path: "/v1/users/" + u.UserID, Auth: basic(writer), Body: `{"nickname": "m", "city": "c"}`})
	other, otherKey := env.NewApp(t, "other", 1000)
	createUser(t, env, otherKey, other.SdkAppID, `{}`)

	// Page sizes below, at and above what one query returns: every event
	// exactly once, in increasing id order, and no next after the last.
	// Newest first by default, or oldest first.
	for _, c := range []struct {
		limit int
		order string
	}{{7, ""}, {499, "newest"}, {500, ""}, {7, "oldest"}, {499, "oldest"}, {500, "oldest"}} {
		limit := c.limit
		seen := map[int64]bool{}
		var last int64
		if c.order != "oldest" {
			last = 1 << 62
		}
		pages, next := 0, ""
		for {
			path := "/v1/audit?limit=" + strconv.Itoa(limit)
			if c.order != "" {
				path += "&order=" + c.order
			}
			if next != "" {
				path += "&next=" + next
			}
			res := do(t, env, request{Method: "GET", Path: path, Auth: basic(env.Key)})
			if res.Status != 200 {
				t.Fatalf("%s: %d %s", path, res.Status, res.Body)
			}
			var l auditList
			res.Decode(t, &l)
			pages++
			if len(l.Events) > limit || len(l.Events) == 0 {
				t.Fatalf("limit %d: a page of %d", limit, len(l.Events))
			}
			for _, e := range l.Events {
				if (e.ID <= last) != (c.order != "oldest") || seen[e.ID] {
					t.Fatalf("limit %d, order %q: event %d after %d", limit, c.order, e.ID, last)
				}
				if e.SdkAppID != env.App.SdkAppID {
					t.Fatalf("an event of another app: %+v", e)
				}
				seen[e.ID], last = true, e.ID
			}
			if l.Next == nil {
				break
			}
			next = *l.Next
		}
		// The app's creation and its first key's, 700 creates, the
		// writer key's creation, 1 create, 2 updates.
		if len(seen) != 706 || pages != (706+limit-1)/limit {
			t.Fatalf("limit %d: %d events in %d pages", limit, len(seen), pages)
		}
	}

	count := func(query string) int { return len(auditOf(t, env, env.Key, query)) }
	for query, want := range map[string]int{
		"limit=500": 706,
		"sdkAppId=" + strconv.FormatUint(env.App.SdkAppID, 10): 706,
		"action=create":            701,
		"action=update":            2,
		"action=update&field=city": 1,
		"field=nickname":           1,
		"userId=" + u.UserID:       3,
		"actor=operator":           703,
		"action=key.create":        2,
		"actor=" + url.QueryEscape("key:"+writer.SecretID):                                              3,
		"since=" + mark.Format(time.RFC3339):                                                            4,
		"until=" + mark.Format(time.RFC3339):                                                            702,
		"since=" + mark.Add(-24*time.Hour).Format(time.RFC3339) + "&until=" + mark.Format(time.RFC3339): 702,
		"action=reveal": 0,
	} {
		if got := count(query); got != want {
			t.Errorf("%s: %d events, want %d", query, got, want)
		}
	}
	// Events carry what the schema promises.
	events := auditOf(t, env, env.Key, "userId="+u.UserID)
	for _, e := range events {
		if _, err := time.Parse(time.RFC3339, e.At); err != nil || e.RequestID == "" || e.Actor != "key:"+writer.SecretID || e.ID == 0 {
			t.Fatalf("event %+v", e)
		}
	}
	// An unknown order is refused, and a cursor follows the order it is given with.
	checkProblem(t, do(t, env, request{Method: "GET", Path: "/v1/audit?order=sideways", Auth: basic(env.Key)}), 400, "invalid_field", "order")
	// Audit needs users.read.
	pii := env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersWrite)
	checkProblem(t, do(t, env, request{Method: "GET", Path: "/v1/audit", Auth: basic(pii)}), 403, "forbidden", "")
}
