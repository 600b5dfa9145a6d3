package scim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"usercenter/core"
	"usercenter/uctest/svctest"

	"usercenter"
	"usercenter/uctest"
)

// externalId is kept as sent, unique per app, and found by a filter;
// name.formatted is kept.
func TestExternalIDAndName(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)
	other, _ := env.NewApp(t, "other", 0)
	oc := newClient(t, env, other.SdkAppID, usercenter.PermUsersWrite)

	created := c.do("POST", "Users", userBody("alice", `"externalId":"Ext-A1","name":{"formatted":"Ms. Alice Smith","givenName":"Alice"}`)).want(t, http.StatusCreated)
	id := created.str("id")
	if created.str("externalId") != "Ext-A1" || created.str("name.formatted") != "Ms. Alice Smith" {
		t.Fatalf("created: %s", created)
	}
	if u, err := env.Svc.GetUser(bg, usercenter.Operator(), id, nil); err != nil || u.ExternalID != "Ext-A1" || u.FullName != "Ms. Alice Smith" {
		t.Fatalf("stored %+v, %v", u, err)
	}
	byExt := func(c *client, v string) *answer {
		return c.do("GET", "Users?filter="+url.QueryEscape(`EXTERNALID eq "`+v+`"`), "").want(t, http.StatusOK)
	}
	if a := byExt(c, "Ext-A1"); a.get("totalResults") != 1.0 || a.str("Resources") != "" {
		t.Fatalf("filter externalId: %s", a)
	} else if res := a.get("Resources").([]any); res[0].(map[string]any)["id"] != id {
		t.Fatalf("filter externalId found another: %s", a)
	}
	for _, v := range []string{"ext-a1", "Ext-A1 ", "nobody"} { // case-exact, exact
		if a := byExt(c, v); a.get("totalResults") != 0.0 {
			t.Errorf("filter externalId %q: %s", v, a)
		}
	}
	if a := byExt(oc, "Ext-A1"); a.get("totalResults") != 0.0 {
		t.Errorf("another app's token finds the user by externalId: %s", a)
	}

	// Unique per app: taken here, free in another app; users without one
	// never clash.
	c.do("POST", "Users", userBody("bob", `"externalId":"Ext-A1"`)).wantError(t, http.StatusConflict, "uniqueness")
	oc.createUser(userBody("alice", `"externalId":"Ext-A1"`))
	c.createUser(userBody("carol", ""))
	c.createUser(userBody("dave", ""))
}

// writeTrail is what a user's writes left: the audit events of the user
// (action and field; disclosures left out) and the app's user.updated
// and user.status_changed events.
func writeTrail(t *testing.T, env *uctest.Env, app uint64, id string) (audit []string, events int) {
	t.Helper()
	evs, err := svctest.AuditEvents(env.Svc, bg, usercenter.Operator(), usercenter.AuditFilter{UserID: id, Limit: core.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Action != usercenter.AuditReveal {
			audit = append(audit, string(e.Action)+":"+string(e.Field))
		}
	}
	page, err := env.Svc.Events(bg, usercenter.Operator(), core.EventQuery{SdkAppID: app, Limit: core.MaxEventLimit,
		Types: []usercenter.EventType{usercenter.EventUserUpdated, usercenter.EventUserStatusChanged}})
	if err != nil {
		t.Fatal(err)
	}
	return audit, len(page.Events)
}

// PUT replaces the resource: what it leaves out is cleared, but active,
// logonMode, and, for a token without pii.read, the personal data it
// never saw.
func TestPutReplaces(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)
	full := `"externalId":"E1","name":{"formatted":"Alice Smith"},"displayName":"Alice","preferredLanguage":"fr","timezone":"Europe/Paris",` +
		`"active":false,"photos":[{"value":"https://example.com/a.png"}],"emails":[{"value":"a@example.com"}],"phoneNumbers":[{"value":"+8613612346688"}],` +
		`"addresses":[{"formatted":"1 Rue"}],"` + urnExt + `":{"city":"Paris","remark":"r","logonMode":4,"thirdPartyIds":{"qq":"q1","apple":"a1"}}`
	id := c.createUser(userBody("alice", full))

	put := c.do("PUT", "Users/"+id, userBody("alice2", `"id":"`+id+`","displayName":"Al","`+urnExt+`":{"thirdPartyIds":{"qq":"q2"}}`)).want(t, http.StatusOK)
	if put.str("userName") != "alice2" || put.str("displayName") != "Al" || put.get("externalId") != nil || put.get("name") != nil ||
		put.get("preferredLanguage") != nil || put.get("timezone") != nil || put.get("photos") != nil || put.get("active") != false {
		t.Errorf("PUT answered %s", put)
	}
	if put.header.Get("ETag") == "" || put.header.Get("ETag") != put.str("meta.version") {
		t.Errorf("PUT ETag %q, meta.version %q", put.header.Get("ETag"), put.str("meta.version"))
	}
	u, err := env.Svc.GetUser(bg, usercenter.Operator(), id, usercenter.PIIFields)
	if err != nil {
		t.Fatal(err)
	}
	want := usercenter.User{ID: id, SdkAppID: env.App.SdkAppID, OriginID: "alice2", Status: usercenter.UserDisabled}
	want.Nickname = "Al"
	want.Email, want.Phone, want.Address = "a@example.com", "+8613612346688", "1 Rue" // not seen, not cleared
	want.LogonMode = usercenter.LogonWeChat
	want.ThirdParty = map[usercenter.Provider]string{usercenter.ProviderQQ: "q2"}
	if u.OriginID != want.OriginID || u.Status != want.Status || u.Profile.Nickname != want.Nickname || u.ExternalID != "" || u.FullName != "" ||
		u.Lang != "" || u.Timezone != "" || u.Avatar != "" || u.City != "" || u.Remark != "" || u.LogonMode != want.LogonMode ||
		u.Email != want.Email || u.Phone != want.Phone || u.Address != want.Address || len(u.ThirdParty) != 1 || u.ThirdParty[usercenter.ProviderQQ] != "q2" {
		t.Errorf("after PUT: %+v", u)
	}

	// With pii.read the personal data was seen, so leaving it out clears it.
	pii := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite, usercenter.PermPIIRead)
	pii.do("PUT", "Users/"+id, userBody("alice2", `"emails":[{"value":"b@example.com"}]`)).want(t, http.StatusOK)
	if u, _ := env.Svc.GetUser(bg, usercenter.Operator(), id, usercenter.PIIFields); u.Email != "b@example.com" || u.Phone != "" || u.Address != "" {
		t.Errorf("PUT with pii.read: %+v", u)
	}

	// Refusals.
	c.do("PUT", "Users/"+id, userBody("alice2", `"id":"2mP4bQ0qZ8vJ3sXk1yWn7cTfR5a"`)).wantError(t, http.StatusBadRequest, "mutability")
	c.do("PUT", "Users/"+id, `{"displayName":"no userName"}`).wantError(t, http.StatusBadRequest, "invalidValue")
	c.do("PUT", "Users/"+id, `{"userName":`).wantError(t, http.StatusBadRequest, "invalidSyntax")
	c.do("PUT", "Users/"+id, `[1]`).wantError(t, http.StatusBadRequest, "invalidSyntax")
	other := c.createUser(userBody("bob", `"externalId":"E2"`))
	c.do("PUT", "Users/"+id, userBody("bob", "")).wantError(t, http.StatusConflict, "uniqueness")
	c.do("PUT", "Users/"+id, userBody("alice2", `"externalId":"E2"`)).wantError(t, http.StatusConflict, "uniqueness")
	if u, _ := env.Svc.GetUser(bg, usercenter.Operator(), other, nil); u.OriginID != "bob" || u.ExternalID != "E2" {
		t.Errorf("a refused PUT changed another user: %+v", u)
	}
}

// A provider that reads a user back and PUTs it unchanged writes nothing:
// no event, no audit, the same ETag; with pii.read or without.
func TestNoOpPut(t *testing.T) {
	for _, perms := range [][]usercenter.Permission{{usercenter.PermUsersWrite}, {usercenter.PermUsersWrite, usercenter.PermPIIRead}} {
		t.Run(string(perms[len(perms)-1]), func(t *testing.T) {
			env := uctest.New(t)
			c := newClient(t, env, env.App.SdkAppID, perms...)
			id := c.createUser(userBody("Alice", `"externalId":"E1","name":{"formatted":"Alice S"},"displayName":"Alice","active":"True",`+
				`"emails":[{"value":"Alice@Example.com","type":"work"}],"phoneNumbers":[{"value":"+86 136 1234 6688"}],"addresses":[{"formatted":"1 Rue"}],`+
				`"photos":[{"value":"https://example.com/a.png"}],"locale":"en-US","timezone":"Asia/Shanghai",`+
				`"`+urnExt+`":{"city":"Paris","logonMode":4,"thirdPartyIds":{"qq":"q1"}}`))
			read := c.do("GET", "Users/"+id, "").want(t, http.StatusOK)
			audit, events := writeTrail(t, env, env.App.SdkAppID, id)

			for i := range 2 {
				put := c.do("PUT", "Users/"+id, read.raw).want(t, http.StatusOK)
				if put.header.Get("ETag") != read.header.Get("ETag") || put.str("meta.lastModified") != read.str("meta.lastModified") {
					t.Errorf("PUT %d of the user as read: ETag %q, was %q", i, put.header.Get("ETag"), read.header.Get("ETag"))
				}
			}
			// A PATCH that sets what is there is no change either.
			c.do("PATCH", "Users/"+id, patchBody(`{"op":"Replace","path":"active","value":"True"},{"op":"replace","value":{"displayName":"Alice"}}`)).want(t, http.StatusOK)
			audit2, events2 := writeTrail(t, env, env.App.SdkAppID, id)
			if strings.Join(audit2, ",") != strings.Join(audit, ",") || events2 != events {
				t.Errorf("a no-op PUT wrote: audit %v then %v, events %d then %d", audit, audit2, events, events2)
			}
			// The check can fail: a real change is written and seen.
			c.do("PUT", "Users/"+id, strings.Replace(read.raw, `"displayName":"Alice"`, `"displayName":"Alicia"`, 1)).want(t, http.StatusOK)
			audit3, events3 := writeTrail(t, env, env.App.SdkAppID, id)
			if len(audit3) != len(audit)+1 || audit3[len(audit3)-1] != "update:nickname" || events3 != events+1 {
				t.Errorf("a real change: audit %v, events %d (before: %v, %d)", audit3, events3, audit, events)
			}
		})
	}
}

func patchBody(ops string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
}

// Every PATCH form a provider sends, each checked against what is stored.
func TestPatchForms(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)
	id := c.createUser(userBody("alice", `"displayName":"Alice","emails":[{"value":"a@example.com","type":"work"}],"`+urnExt+`":{"thirdPartyIds":{"qq":"q1"}}`))
	stored := func() *usercenter.User {
		t.Helper()
		u, err := env.Svc.GetUser(bg, usercenter.Operator(), id, usercenter.PIIFields)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	for _, tc := range []struct {
		name, ops string
		check     func(u *usercenter.User) bool
	}{
		{"Entra: Replace active with a string", `{"op":"Replace","path":"active","value":"False"}`,
			func(u *usercenter.User) bool { return u.Status == usercenter.UserDisabled }},
		{"Entra: True again", `{"op":"replace","path":"ACTIVE","value":"True"}`,
			func(u *usercenter.User) bool { return u.Status == usercenter.UserActive }},
		{"Okta: replace without path, partial object", `{"op":"replace","value":{"id":"` + id + `","active":false,"displayName":"Al","name":{"formatted":"Alice Smith"}}}`,
			func(u *usercenter.User) bool {
				return u.Status == usercenter.UserDisabled && u.Nickname == "Al" && u.FullName == "Alice Smith"
			}},
		{"Entra: Add without path", `{"op":"Add","value":{"externalId":"E1","urn:usercenter:params:scim:schemas:extension:2.0:User":{"city":"Paris"}}}`,
			func(u *usercenter.User) bool { return u.ExternalID == "E1" && u.City == "Paris" }},
		{"userName", `{"op":"replace","path":"userName","value":"alice2"}`,
			func(u *usercenter.User) bool { return u.OriginID == "alice2" }},
		{"displayName, case-insensitive", `{"op":"replace","path":"DisplayName","value":"Ally"}`,
			func(u *usercenter.User) bool { return u.Nickname == "Ally" }},
		{"name.formatted", `{"op":"replace","path":"name.formatted","value":"A. Smith"}`,
			func(u *usercenter.User) bool { return u.FullName == "A. Smith" }},
		{"name parts not kept", `{"op":"replace","path":"name.givenName","value":"Al"}`,
			func(u *usercenter.User) bool { return u.FullName == "A. Smith" }},
		{"externalId", `{"op":"replace","path":"externalId","value":"E2"}`,
			func(u *usercenter.User) bool { return u.ExternalID == "E2" }},
		{"emails value filter", `{"op":"replace","path":"emails[type eq \"work\"].value","value":"b@example.com"}`,
			func(u *usercenter.User) bool { return u.Email == "b@example.com" }},
		{"phoneNumbers value filter, add", `{"op":"add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+8613612346688"}`,
			func(u *usercenter.User) bool { return u.Phone == "+8613612346688" }},
		{"addresses value filter", `{"op":"add","path":"addresses[type eq \"work\"].formatted","value":"1 Rue"}`,
			func(u *usercenter.User) bool { return u.Address == "1 Rue" }},
		{"addresses parts not kept", `{"op":"replace","path":"addresses[type eq \"work\"].locality","value":"Paris"}`,
			func(u *usercenter.User) bool { return u.Address == "1 Rue" }},
		{"emails whole", `{"op":"replace","path":"emails","value":[{"value":"c@example.com","primary":true},{"value":"d@example.com"}]}`,
			func(u *usercenter.User) bool { return u.Email == "c@example.com" }},
		{"extension attribute", `{"op":"replace","path":"urn:usercenter:params:scim:schemas:extension:2.0:User:city","value":"Lyon"}`,
			func(u *usercenter.User) bool { return u.City == "Lyon" }},
		{"extension third-party ID", `{"op":"add","path":"urn:usercenter:params:scim:schemas:extension:2.0:User:thirdPartyIds.Apple","value":"a1"}`,
			func(u *usercenter.User) bool {
				return u.ThirdParty[usercenter.ProviderApple] == "a1" && u.ThirdParty[usercenter.ProviderQQ] == "q1"
			}},
		{"enterprise extension ignored", `{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"7"}`,
			func(u *usercenter.User) bool { return true }},
		{"remove by value filter", `{"op":"remove","path":"phoneNumbers[type eq \"mobile\"]"}`,
			func(u *usercenter.User) bool { return u.Phone == "" }},
		{"remove", `{"op":"remove","path":"externalId"},{"op":"remove","path":"urn:usercenter:params:scim:schemas:extension:2.0:User:thirdPartyIds.qq"}`,
			func(u *usercenter.User) bool {
				return u.ExternalID == "" && u.ThirdParty[usercenter.ProviderQQ] == "" && u.ThirdParty[usercenter.ProviderApple] == "a1"
			}},
		{"several ops, in order", `{"op":"replace","path":"displayName","value":"X"},{"op":"replace","path":"displayName","value":"Y"},{"op":"remove","path":"emails"}`,
			func(u *usercenter.User) bool { return u.Nickname == "Y" && u.Email == "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := c.do("PATCH", "Users/"+id, patchBody(tc.ops)).want(t, http.StatusOK)
			if a.str("id") != id || a.header.Get("ETag") != a.str("meta.version") {
				t.Errorf("answer: %s", a)
			}
			if u := stored(); !tc.check(u) {
				t.Errorf("stored after %s: %+v", tc.ops, u)
			}
		})
	}
}

// A PATCH is written whole or not at all: one bad operation leaves the
// user as it was.
func TestPatchAtomic(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)
	id := c.createUser(userBody("alice", `"displayName":"Alice"`))
	c.createUser(userBody("bob", `"externalId":"taken"`))
	before := c.do("GET", "Users/"+id, "").want(t, http.StatusOK)
	for _, tc := range []struct{ ops, scimType string }{
		{`{"op":"replace","path":"displayName","value":"X"},{"op":"add","path":"emails[type eq \"work\"].value","value":"not an email"}`, "invalidValue"},
		{`{"op":"replace","path":"displayName","value":"X"},{"op":"replace","path":"externalId","value":"taken"}`, "uniqueness"},
		{`{"op":"replace","path":"displayName","value":"X"},{"op":"replace","path":"nosuch","value":"1"}`, "invalidPath"},
	} {
		a := c.do("PATCH", "Users/"+id, patchBody(tc.ops))
		status := http.StatusBadRequest
		if tc.scimType == "uniqueness" {
			status = http.StatusConflict
		}
		a.wantError(t, status, tc.scimType)
	}
	after := c.do("GET", "Users/"+id, "").want(t, http.StatusOK)
	if after.raw != before.raw {
		t.Errorf("a refused PATCH wrote:\n%s\n%s", before, after)
	}
}

// Each PATCH refusal has its scimType.
func TestPatchErrors(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)
	id := c.createUser(userBody("alice", ""))
	many := strings.TrimSuffix(strings.Repeat(`{"op":"replace","path":"displayName","value":"x"},`, 101), ",")
	for _, tc := range []struct {
		name, body string
		status     int
		scimType   string
	}{
		{"unknown attribute", patchBody(`{"op":"replace","path":"title2","value":"x"}`), http.StatusBadRequest, "invalidPath"},
		{"unknown schema", patchBody(`{"op":"replace","path":"urn:example:User:x","value":"x"}`), http.StatusBadRequest, "invalidPath"},
		{"bad path syntax", patchBody(`{"op":"replace","path":"emails[type eq","value":"x"}`), http.StatusBadRequest, "invalidPath"},
		{"filter on value", patchBody(`{"op":"remove","path":"emails[value eq \"a@example.com\"]"}`), http.StatusBadRequest, "invalidPath"},
		{"unknown member in a partial object", patchBody(`{"op":"add","value":{"nosuch":1}}`), http.StatusBadRequest, "invalidPath"},
		{"remove matching nothing", patchBody(`{"op":"remove","path":"emails[type eq \"work\"]"}`), http.StatusBadRequest, "noTarget"},
		{"replace matching nothing", patchBody(`{"op":"replace","path":"phoneNumbers[type eq \"work\"].value","value":"+8613612346688"}`), http.StatusBadRequest, "noTarget"},
		{"remove without path", patchBody(`{"op":"remove"}`), http.StatusBadRequest, "noTarget"},
		{"remove userName", patchBody(`{"op":"remove","path":"userName"}`), http.StatusBadRequest, "mutability"},
		{"change id", patchBody(`{"op":"replace","path":"id","value":"x"}`), http.StatusBadRequest, "mutability"},
		{"change id without path", patchBody(`{"op":"replace","value":{"id":"2mP4bQ0qZ8vJ3sXk1yWn7cTfR5a"}}`), http.StatusBadRequest, "mutability"},
		{"meta", patchBody(`{"op":"replace","path":"meta.created","value":"x"}`), http.StatusBadRequest, "mutability"},
		{"bad boolean", patchBody(`{"op":"replace","path":"active","value":"yes"}`), http.StatusBadRequest, "invalidValue"},
		{"bad type", patchBody(`{"op":"replace","path":"displayName","value":5}`), http.StatusBadRequest, "invalidValue"},
		{"bad email", patchBody(`{"op":"add","path":"emails","value":[{"value":"x"}]}`), http.StatusBadRequest, "invalidValue"},
		{"empty userName", patchBody(`{"op":"replace","path":"userName","value":""}`), http.StatusBadRequest, "invalidValue"},
		{"no value", patchBody(`{"op":"replace","path":"displayName"}`), http.StatusBadRequest, "invalidValue"},
		{"no operations", patchBody(``), http.StatusBadRequest, "invalidValue"},
		{"too many operations", patchBody(many), http.StatusBadRequest, "invalidValue"},
		{"unknown op", patchBody(`{"op":"move","path":"displayName","value":"x"}`), http.StatusBadRequest, "invalidSyntax"},
		{"malformed", `{"Operations":[`, http.StatusBadRequest, "invalidSyntax"},
		{"not an object", `[]`, http.StatusBadRequest, "invalidSyntax"},
		{"another message schema", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"Operations":[{"op":"add","path":"displayName","value":"x"}]}`, http.StatusBadRequest, "invalidSyntax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.do("PATCH", "Users/"+id, tc.body).wantError(t, tc.status, tc.scimType)
		})
	}
	// One operation short of the limit is taken.
	c.do("PATCH", "Users/"+id, patchBody(strings.TrimSuffix(strings.Repeat(`{"op":"replace","path":"displayName","value":"x"},`, 100), ","))).want(t, http.StatusOK)
}

// If-Match: a stale version gets 412 and writes nothing, on PUT, PATCH
// and DELETE; the current version, or *, lets the write through.
func TestIfMatch(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)
	id := c.createUser(userBody("alice", `"displayName":"A"`))
	stale := c.do("GET", "Users/"+id, "").want(t, http.StatusOK).header.Get("ETag")
	fresh := c.do("PATCH", "Users/"+id, patchBody(`{"op":"replace","path":"displayName","value":"B"}`)).want(t, http.StatusOK).header.Get("ETag")
	if fresh == stale {
		t.Fatalf("a change kept the ETag %s", stale)
	}
	withIfMatch := func(method, tag, body string) *answer {
		c.t.Helper()
		req, _ := http.NewRequest(method, env.URL+"/scim/v2/"+fmtUint(env.App.SdkAppID)+"/Users/"+id, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", "application/scim+json")
		req.Header.Set("If-Match", tag)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		a := &answer{status: resp.StatusCode, header: resp.Header}
		raw, _ := io.ReadAll(resp.Body)
		a.raw = string(raw)
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &a.body); err != nil {
				t.Fatalf("not JSON: %s", raw)
			}
		}
		return a
	}
	audit, events := writeTrail(t, env, env.App.SdkAppID, id)
	for _, tag := range []string{stale, `W/"garbage"`, `"x"`} {
		withIfMatch("PUT", tag, userBody("alice", `"displayName":"C"`)).wantError(t, http.StatusPreconditionFailed, "")
		withIfMatch("PATCH", tag, patchBody(`{"op":"replace","path":"displayName","value":"C"}`)).wantError(t, http.StatusPreconditionFailed, "")
		withIfMatch("DELETE", tag, "").wantError(t, http.StatusPreconditionFailed, "")
	}
	if u, err := env.Svc.GetUser(bg, usercenter.Operator(), id, nil); err != nil || u.Nickname != "B" {
		t.Fatalf("after stale writes: %+v, %v", u, err)
	}
	if audit2, events2 := writeTrail(t, env, env.App.SdkAppID, id); len(audit2) != len(audit) || events2 != events {
		t.Errorf("stale writes left a trail: %v %d, before %v %d", audit2, events2, audit, events)
	}
	// The current version, in a list or alone, and *.
	put := withIfMatch("PUT", stale+", "+fresh, userBody("alice", `"displayName":"C"`)).want(t, http.StatusOK)
	patched := withIfMatch("PATCH", put.header.Get("ETag"), patchBody(`{"op":"replace","path":"displayName","value":"D"}`)).want(t, http.StatusOK)
	if patched.str("displayName") != "D" || patched.header.Get("ETag") == put.header.Get("ETag") {
		t.Errorf("PATCH with the current version: %s", patched)
	}
	withIfMatch("PATCH", "*", patchBody(`{"op":"replace","path":"displayName","value":"E"}`)).want(t, http.StatusOK)
	cur := c.do("GET", "Users/"+id, "").want(t, http.StatusOK).header.Get("ETag")
	withIfMatch("DELETE", put.header.Get("ETag"), "").wantError(t, http.StatusPreconditionFailed, "")
	withIfMatch("DELETE", cur, "").want(t, http.StatusNoContent)
	withIfMatch("DELETE", cur, "").wantError(t, http.StatusNotFound, "")
}

// PUT, PATCH and DELETE of another app's user answer exactly as those of
// a user that does not exist, and change nothing.
func TestWriteIsolation(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)
	appB, _ := env.NewApp(t, "second", 1000)
	b := newClient(t, env, appB.SdkAppID, usercenter.PermUsersWrite)
	foreign := b.createUser(userBody("bob", `"displayName":"Bob"`))
	missing := "2mP4bQ0qZ8vJ3sXk1yWn7cTfR5a"
	for _, req := range []struct{ method, body string }{
		{"PUT", userBody("x", "")},
		{"PATCH", patchBody(`{"op":"replace","path":"displayName","value":"x"}`)},
		{"DELETE", ""},
	} {
		got := c.do(req.method, "Users/"+foreign, req.body)
		want := c.do(req.method, "Users/"+missing, req.body)
		got.wantError(t, http.StatusNotFound, "")
		if got.raw != want.raw {
			t.Errorf("%s of another app's user: %s; of nobody: %s", req.method, got, want)
		}
	}
	if u, err := env.Svc.GetUser(bg, usercenter.Operator(), foreign, nil); err != nil || u.Nickname != "Bob" || u.OriginID != "bob" {
		t.Errorf("the other app's user: %+v, %v", u, err)
	}
}
