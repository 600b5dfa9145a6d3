package scim_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"usercenter"
	"usercenter/core"
	"usercenter/uctest"
	"usercenter/uctest/svctest"
)

// attributes and excludedAttributes shape what is returned, names
// case-insensitive and with or without their URN; id and schemas always
// stay; and personal data left out is not revealed, so not audited.
func TestAttributes(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite, usercenter.PermPIIRead)
	id := c.createUser(userBody("erin", `"displayName":"Erin","emails":[{"value":"erin@example.com","type":"work"}],"phoneNumbers":[{"value":"+8613612346688"}],"`+urnExt+`":{"city":"Lyon","province":"Rhone"}`))
	reveals := func() int {
		events, err := svctest.AuditEvents(env.Svc, bg, usercenter.Operator(), usercenter.AuditFilter{Action: usercenter.AuditReveal, Limit: core.MaxListLimit})
		if err != nil {
			t.Fatal(err)
		}
		return len(events)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	get := func(query string) *answer {
		return c.do("GET", "Users/"+id+"?"+query, "").want(t, http.StatusOK)
	}

	before := reveals()
	if a := get("attributes=" + url.QueryEscape("urn:ietf:params:scim:schemas:core:2.0:User:USERNAME")); !slices.Equal(keys(a.body), []string{"id", "schemas", "userName"}) {
		t.Errorf("attributes=userName: %s", a)
	}
	if n := reveals(); n != before {
		t.Errorf("a read of userName only revealed %d values", n-before)
	}
	a := get("attributes=emails.value,displayName")
	if !slices.Equal(keys(a.body), []string{"displayName", "emails", "id", "schemas"}) {
		t.Errorf("attributes=emails.value,displayName: %s", a)
	}
	if emails, _ := a.get("emails").([]any); len(emails) != 1 || !slices.Equal(keys(emails[0].(map[string]any)), []string{"value"}) {
		t.Errorf("emails.value: %s", a)
	}
	if n := reveals(); n != before+1 {
		t.Errorf("a read of the email revealed %d values, want 1", n-before)
	}
	a = get("excludedAttributes=" + url.QueryEscape("emails,PHONENUMBERS,addresses,meta.created,id"))
	if a.get("emails") != nil || a.get("phoneNumbers") != nil || a.get("meta.created") != nil || a.get("meta.lastModified") == nil || a.str("id") != id || a.str("userName") != "erin" {
		t.Errorf("excludedAttributes: %s", a)
	}
	if n := reveals(); n != before+1 {
		t.Errorf("a read without personal data revealed %d more values", n-before-1)
	}
	a = get("attributes=" + url.QueryEscape(urnExt+":city"))
	if a.get(urnExt+".city") != "Lyon" || a.get(urnExt+".province") != nil || a.get("userName") != nil {
		t.Errorf("attributes=the extension's city: %s", a)
	}

	list := c.do("GET", "Users?attributes=userName", "").want(t, http.StatusOK)
	if res, _ := list.get("Resources").([]any); len(res) != 1 || !slices.Equal(keys(res[0].(map[string]any)), []string{"id", "schemas", "userName"}) {
		t.Errorf("a listing with attributes=userName: %s", list)
	}
	searched := c.do("POST", "Users/.search", `{"filter":"userName eq \"erin\"","excludedAttributes":["meta","urn:usercenter:params:scim:schemas:extension:2.0:User"]}`).want(t, http.StatusOK)
	if res, _ := searched.get("Resources").([]any); len(res) != 1 || res[0].(map[string]any)["meta"] != nil || res[0].(map[string]any)[urnExt] != nil || res[0].(map[string]any)["emails"] == nil {
		t.Errorf(".search with excludedAttributes: %s", searched)
	}
}
