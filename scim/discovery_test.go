package scim_test

import (
	"net/http"
	"net/url"
	"testing"

	"usercenter/uctest"
)

// The discovery endpoints say truthfully what this server does.
func TestDiscovery(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID)

	spc := c.do("GET", "ServiceProviderConfig", "").want(t, http.StatusOK)
	for path, want := range map[string]any{
		"patch.supported": true, "bulk.supported": false, "filter.supported": true, "filter.maxResults": 100.0,
		"sort.supported": false, "etag.supported": true, "changePassword.supported": false,
		"meta.resourceType": "ServiceProviderConfig",
	} {
		if got := spc.get(path); got != want {
			t.Errorf("ServiceProviderConfig %s = %v, want %v", path, got, want)
		}
	}
	if schemes, _ := spc.get("authenticationSchemes").([]any); len(schemes) != 1 || schemes[0].(map[string]any)["type"] != "oauthbearertoken" {
		t.Errorf("authenticationSchemes: %s", spc)
	}

	types := c.do("GET", "ResourceTypes", "").want(t, http.StatusOK)
	res, _ := types.get("Resources").([]any)
	if types.get("totalResults") != 1.0 || len(res) != 1 || res[0].(map[string]any)["endpoint"] != "/Users" || res[0].(map[string]any)["schema"] != urnUser {
		t.Errorf("ResourceTypes (only User; no Group): %s", types)
	}
	if user := c.do("GET", "ResourceTypes/User", "").want(t, http.StatusOK); user.str("id") != "User" {
		t.Errorf("ResourceTypes/User: %s", user)
	}
	c.do("GET", "ResourceTypes/Group", "").wantError(t, http.StatusNotFound, "")

	schemas := c.do("GET", "Schemas", "").want(t, http.StatusOK)
	res, _ = schemas.get("Resources").([]any)
	ids := map[string]map[string]any{}
	for _, r := range res {
		m := r.(map[string]any)
		ids[m["id"].(string)] = m
	}
	if len(ids) != 2 || ids[urnUser] == nil || ids[urnExt] == nil {
		t.Fatalf("Schemas: %s", schemas)
	}
	attrs := map[string]map[string]any{}
	for _, a := range ids[urnUser]["attributes"].([]any) {
		m := a.(map[string]any)
		attrs[m["name"].(string)] = m
	}
	if u := attrs["userName"]; u == nil || u["uniqueness"] != "server" || u["caseExact"] != true || u["required"] != true {
		t.Errorf("userName attribute: %v", u)
	}
	for _, name := range []string{"displayName", "nickName", "active", "emails", "phoneNumbers", "addresses", "photos", "preferredLanguage", "locale", "timezone"} {
		if attrs[name] == nil {
			t.Errorf("the User schema lacks %s", name)
		}
	}
	for _, id := range []string{urnUser, urnExt} {
		if one := c.do("GET", "Schemas/"+url.PathEscape(id), "").want(t, http.StatusOK); one.str("id") != id {
			t.Errorf("Schemas/%s: %s", id, one)
		}
	}
	c.do("GET", "Schemas/urn:nothing", "").wantError(t, http.StatusNotFound, "")
	// Discovery needs a live token like everything else.
	anon := &client{t: t, env: env, app: env.App.SdkAppID}
	anon.do("GET", "ServiceProviderConfig", "").wantError(t, http.StatusUnauthorized, "")
}
