package scim_test

import (
	"net/http"
	"net/url"
	"testing"

	"usercenter"
	"usercenter/uctest"
)

// TestEntraSequence walks the steps of Microsoft Entra ID's provisioning
// that this slice serves, with request bodies modelled on the examples of
// Microsoft's SCIM endpoint guide (not a byte-for-byte replay: that is
// issue 16's next step): create (with externalId, name and the enterprise
// extension, which are not kept), get by userName, get by id, the query
// of a user that does not exist, and delete.
func TestEntraSequence(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)

	created := c.do("POST", "Users", `{
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
    "active": true,
    "emails": [{
        "primary": true,
        "type": "work",
        "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"
    }],
    "meta": {
        "resourceType": "User"
    },
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName"
    },
    "roles": []
}`).want(t, http.StatusCreated)
	id := created.str("id")
	if created.str("userName") != "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1" || created.get("active") != true || id == "" {
		t.Fatalf("create: %s", created)
	}

	q := "Users?filter=" + url.QueryEscape(`userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"`)
	found := c.do("GET", q, "").want(t, http.StatusOK)
	if res, _ := found.get("Resources").([]any); found.get("totalResults") != 1.0 || len(res) != 1 || res[0].(map[string]any)["id"] != id {
		t.Errorf("get by query: %s", found)
	}
	if got := c.do("GET", "Users/"+id, "").want(t, http.StatusOK); got.str("id") != id {
		t.Errorf("get by id: %s", got)
	}

	// Entra checks that a user is absent by a query that must answer 200
	// with no resources, never 404.
	none := c.do("GET", "Users?filter="+url.QueryEscape(`userName eq "non-existent user"`), "").want(t, http.StatusOK)
	if res, ok := none.get("Resources").([]any); none.get("totalResults") != 0.0 || !ok || len(res) != 0 {
		t.Errorf("query of a non-existent user: %s", none)
	}

	c.do("DELETE", "Users/"+id, "").want(t, http.StatusNoContent)
	c.do("GET", "Users/"+id, "").wantError(t, http.StatusNotFound, "")
}
