package scim_test

import (
	"net/http"
	"net/url"
	"testing"

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
