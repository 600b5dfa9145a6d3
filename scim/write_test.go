package scim_test

import (
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
