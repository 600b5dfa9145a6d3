package restapi_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"usercenter"
	"usercenter/uctest"
)

// eventJSON and eventList are the answer of GET /v1/apps/{sdkAppId}/events.
type eventJSON struct {
	ID       int64          `json:"id"`
	Type     string         `json:"type"`
	SdkAppID uint64         `json:"sdkAppId"`
	At       string         `json:"at"`
	Actor    string         `json:"actor"`
	Data     map[string]any `json:"data"`
}

type eventList struct {
	Events []eventJSON `json:"events"`
	Next   int64       `json:"next"`
	More   bool        `json:"more"`
}

func appEvents(sdkAppID uint64) string { return "/v1/apps/" + itoa(sdkAppID) + "/events" }

// eventsPage reads one page, which must answer 200.
func eventsPage(t *testing.T, env *uctest.Env, k *usercenter.APIKey, path string) eventList {
	t.Helper()
	res := do(t, env, request{Method: "GET", Path: path, Auth: basic(k)})
	if res.Status != 200 {
		t.Fatalf("%s: %d %s", path, res.Status, res.Body)
	}
	var l eventList
	dec := json.NewDecoder(bytes.NewReader(res.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		t.Fatalf("%s: %v: %s", path, err, res.Body)
	}
	return l
}

// TestEventsPaging pages through an app's events with next while users
// are created between pages: every event once, in id order, none of
// another app's; an empty page keeps next; more says whether to ask again
// at once.
func TestEventsPaging(t *testing.T) {
	env := uctest.New(t)
	other, otherKey := env.NewApp(t, "other", 1000)
	app := env.App.SdkAppID
	reader := env.NewKey(t, []uint64{app}, usercenter.PermUsersRead)
	created := map[string]bool{}
	for range 5 {
		created[createUser(t, env, env.Key, app, `{}`).UserID] = true
	}
	// The first page, from the start (app.created, key.created, ...).
	first := eventsPage(t, env, reader, appEvents(app)+"?limit=3")
	if len(first.Events) != 3 || !first.More || first.Next != first.Events[2].ID {
		t.Fatalf("first page: %+v", first)
	}
	seen := map[int64]bool{}
	var got []eventJSON
	after, pages := int64(0), 0
	for {
		page := eventsPage(t, env, reader, appEvents(app)+"?limit=3&after="+strconv.FormatInt(after, 10))
		pages++
		for _, e := range page.Events {
			if e.ID <= after || seen[e.ID] {
				t.Fatalf("event %d after %d, or twice", e.ID, after)
			}
			if e.SdkAppID != app {
				t.Fatalf("an event of app %d: %+v", e.SdkAppID, e)
			}
			seen[e.ID] = true
			got = append(got, e)
			after = e.ID
		}
		if page.Next != after {
			t.Fatalf("next %d, want %d", page.Next, after)
		}
		if pages == 2 {
			// Written between pages: this app's come on a later page, the
			// other app's never.
			for range 2 {
				created[createUser(t, env, env.Key, app, `{}`).UserID] = true
			}
			createUser(t, env, otherKey, other.SdkAppID, `{}`)
		}
		if !page.More && pages > 2 {
			if len(page.Events) == 3 {
				t.Fatalf("a full page without more: %+v", page)
			}
			break
		}
	}
	users := map[string]bool{}
	for _, e := range got {
		if e.Type == "user.created" {
			users[e.Data["userId"].(string)] = true
		}
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(e.At) || e.Actor == "" {
			t.Fatalf("event %+v", e)
		}
	}
	if len(users) != len(created) {
		t.Fatalf("user.created for %d users, created %d", len(users), len(created))
	}
	if got[0].Type != "app.created" || got[1].Type != "key.created" || got[1].Data["secretId"] != env.Key.SecretID {
		t.Fatalf("the app's first events: %+v", got[:2])
	}
	// Past the end: empty, next where it was.
	last := eventsPage(t, env, reader, appEvents(app)+"?after="+strconv.FormatInt(after, 10))
	if len(last.Events) != 0 || last.Next != after || last.More {
		t.Fatalf("past the end: %+v", last)
	}
	// Types and prefixes.
	typed := eventsPage(t, env, reader, appEvents(app)+"?type=key.created,app.*")
	if len(typed.Events) < 2 || typed.Events[0].Type != "app.created" {
		t.Fatalf("type=key.created,app.*: %+v", typed.Events)
	}
	for _, e := range typed.Events[1:] {
		if e.Type != "key.created" {
			t.Fatalf("type=key.created,app.*: %+v", typed.Events)
		}
	}
	if n := len(eventsPage(t, env, reader, appEvents(app)+"?type=user.*&limit=1000").Events); n != len(created) {
		t.Fatalf("type=user.*: %d events, want %d", n, len(created))
	}
}

// TestEventsIsolation: a key never reads another app's events, and asking
// for them answers exactly as for an app that does not exist.
func TestEventsIsolation(t *testing.T) {
	env := uctest.New(t)
	appB, keyB := env.NewApp(t, "tenant-b", 1000)
	createUser(t, env, keyB, appB.SdkAppID, `{"originId": "b-origin"}`)
	strip := func(body []byte) string { // the request ID differs, nothing else may
		return regexp.MustCompile(`"requestId":"[^"]*"`).ReplaceAllString(string(body), "")
	}
	for name, k := range map[string]*usercenter.APIKey{
		"A all permissions": env.Key,
		"A read only":       env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead),
		"A write only":      env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersWrite),
	} {
		t.Run(name, func(t *testing.T) {
			foreign := do(t, env, request{Method: "GET", Path: appEvents(appB.SdkAppID) + "?type=user.*", Auth: basic(k)})
			missing := do(t, env, request{Method: "GET", Path: appEvents(987654321) + "?type=user.*", Auth: basic(k)})
			checkProblem(t, foreign, 404, "app_not_found", "")
			if strip(foreign.Body) != strip(missing.Body) || foreign.Status != missing.Status {
				t.Fatalf("another app's events answer\n%s\nan app that does not exist\n%s", foreign.Body, missing.Body)
			}
			if bytes.Contains(foreign.Body, []byte("b-origin")) {
				t.Fatalf("the answer leaks B: %s", foreign.Body)
			}
		})
	}
	// B's own key reads B's events; A's never holds one of B's.
	if l := eventsPage(t, env, keyB, appEvents(appB.SdkAppID)); len(l.Events) == 0 {
		t.Fatal("B reads no events of its own")
	}
	for _, e := range eventsPage(t, env, env.Key, appEvents(env.App.SdkAppID)+"?limit=1000").Events {
		if e.SdkAppID != env.App.SdkAppID {
			t.Fatalf("A read an event of app %d", e.SdkAppID)
		}
	}
	// Without users.read, on its own app: forbidden.
	res := do(t, env, request{Method: "GET", Path: appEvents(env.App.SdkAppID), Auth: basic(env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersWrite))})
	checkProblem(t, res, 403, "forbidden", "")
}

// TestEventsBadInput: every malformed parameter gets a 400 naming it.
func TestEventsBadInput(t *testing.T) {
	env := uctest.New(t)
	base := appEvents(env.App.SdkAppID)
	for _, c := range []struct{ query, field string }{
		{"after=-1", "after"},
		{"after=abc", "after"},
		{"after=1.5", "after"},
		{"after=%2B1", "after"},
		{"after=01", "after"},
		{"after=", "after"},
		{"after=99999999999999999999", "after"},
		{"after=1&after=2", "after"},
		{"limit=0", "limit"},
		{"limit=-5", "limit"},
		{"limit=1001", "limit"},
		{"limit=99999999999999999999", "limit"},
		{"limit=ten", "limit"},
		{"limit=", "limit"},
		{"type=user.nope", "type"},
		{"type=user", "type"},
		{"type=user.created,", "type"},
		{"type=", "type"},
		{"tpye=user.created", "tpye"},
	} {
		res := do(t, env, request{Method: "GET", Path: base + "?" + c.query, Auth: basic(env.Key)})
		if res.Status != 400 {
			t.Fatalf("%s: %d %s", c.query, res.Status, res.Body)
		}
		code := "invalid_field"
		if c.field == "tpye" {
			code = "unknown_field"
		}
		checkProblem(t, res, 400, code, c.field)
	}
	for _, path := range []string{appEvents(0), "/v1/apps/abc/events", "/v1/apps/-1/events"} {
		res := do(t, env, request{Method: "GET", Path: path, Auth: basic(env.Key)})
		checkProblem(t, res, 400, "invalid_field", "sdkAppId")
	}
	// The bounds themselves are fine.
	for _, q := range []string{"limit=1", "limit=1000", "after=0", "after=9223372036854775807", "type=user.*,pii.disclosed"} {
		eventsPage(t, env, env.Key, base+"?"+q)
	}
	res := do(t, env, request{Method: "POST", Path: base, Auth: basic(env.Key)})
	checkProblem(t, res, 405, "method_not_allowed", "")
	if res.Header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("Allow %q", res.Header.Get("Allow"))
	}
}

// TestRevokeUserTokens: POST /v1/users/{userId}:revoke-tokens ends the
// user's sessions, and is routed beside :erase.
func TestRevokeUserTokens(t *testing.T) {
	env := uctest.New(t)
	sess := register(t, env, "revoked")
	other := register(t, env, "kept")
	path := "/v1/users/" + sess.User.ID + ":revoke-tokens"
	res := do(t, env, request{Method: "POST", Path: path, Auth: basic(env.Key)})
	if res.Status != 200 || strings.TrimSpace(string(res.Body)) != `{"revokedTokens":1}` {
		t.Fatalf("revoke: %d %s", res.Status, res.Body)
	}
	if res := do(t, env, request{Method: "GET", Path: "/v1/me", Auth: bearer(sess.Token)}); res.Status != 401 {
		t.Fatalf("a revoked token answers %d %s", res.Status, res.Body)
	}
	if res := do(t, env, request{Method: "GET", Path: "/v1/me", Auth: bearer(other.Token)}); res.Status != 200 {
		t.Fatalf("another user's token answers %d %s", res.Status, res.Body)
	}
	// Again: nothing left to revoke.
	res = do(t, env, request{Method: "POST", Path: path, Auth: basic(env.Key)})
	if res.Status != 200 || strings.TrimSpace(string(res.Body)) != `{"revokedTokens":0}` {
		t.Fatalf("revoke again: %d %s", res.Status, res.Body)
	}
	events := eventsPage(t, env, env.Key, appEvents(env.App.SdkAppID)+"?type=user.tokens_revoked")
	if len(events.Events) != 1 || events.Events[0].Data["userId"] != sess.User.ID || events.Events[0].Data["tokens"] != 1.0 {
		t.Fatalf("user.tokens_revoked events: %+v", events.Events)
	}
	audit := auditOf(t, env, env.Key, "action=tokens.revoke")
	if len(audit) != 1 || audit[0].UserID != sess.User.ID {
		t.Fatalf("tokens.revoke audit events: %+v", audit)
	}

	reader := env.NewKey(t, []uint64{env.App.SdkAppID}, usercenter.PermUsersRead)
	checkProblem(t, do(t, env, request{Method: "POST", Path: path, Auth: basic(reader)}), 403, "forbidden", "")
	checkProblem(t, do(t, env, request{Method: "POST", Path: "/v1/users/u_nobody:revoke-tokens", Auth: basic(env.Key)}), 404, "user_not_found", "")
	// :erase still routes, and an unknown verb does not (the path is a
	// user's, which takes no POST).
	res = do(t, env, request{Method: "POST", Path: "/v1/users/" + sess.User.ID + ":revoke-everything", Auth: basic(env.Key)})
	checkProblem(t, res, 405, "method_not_allowed", "")
	if strings.Contains(res.Header.Get("Allow"), "POST") {
		t.Fatalf("an unknown verb allows %q", res.Header.Get("Allow"))
	}
	if res := do(t, env, request{Method: "POST", Path: "/v1/users/" + other.User.ID + ":erase", Auth: basic(env.Key)}); res.Status != 200 {
		t.Fatalf(":erase beside :revoke-tokens: %d %s", res.Status, res.Body)
	}
}
