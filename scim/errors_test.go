package scim_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"usercenter"
	"usercenter/uctest"
)

// Every refusal is a SCIM error with the right status and scimType, and
// none is a 500.
func TestErrors(t *testing.T) {
	env := uctest.New(t)
	c := newClient(t, env, env.App.SdkAppID, usercenter.PermUsersWrite)
	id := c.createUser(userBody("taken", ""))
	filter := func(f string) string { return "Users?filter=" + url.QueryEscape(f) }

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		scimType                 string
	}{
		{"duplicate userName", "POST", "Users", userBody("taken", ""), http.StatusConflict, "uniqueness"},
		{"bad JSON", "POST", "Users", `{"userName": "x",`, http.StatusBadRequest, "invalidSyntax"},
		{"not an object", "POST", "Users", `["x"]`, http.StatusBadRequest, "invalidSyntax"},
		{"userName not a string", "POST", "Users", `{"userName": 5}`, http.StatusBadRequest, "invalidSyntax"},
		{"no userName", "POST", "Users", `{"displayName": "x"}`, http.StatusBadRequest, "invalidValue"},
		{"active not a boolean", "POST", "Users", userBody("x1", `"active":"yes"`), http.StatusBadRequest, "invalidValue"},
		{"two emails, none primary", "POST", "Users", userBody("x2", `"emails":[{"value":"a@example.com"},{"value":"b@example.com"}]`), http.StatusBadRequest, "invalidValue"},
		{"bad email", "POST", "Users", userBody("x3", `"emails":[{"value":"not an email"}]`), http.StatusBadRequest, "invalidValue"},
		{"userName with a space", "POST", "Users", userBody("a b", ""), http.StatusBadRequest, "invalidValue"},
		{"unknown attribute filtered", "GET", filter(`title eq "boss"`), "", http.StatusBadRequest, "invalidFilter"},
		{"unsupported operator", "GET", filter(`userName sw "ta"`), "", http.StatusBadRequest, "invalidFilter"},
		{"or", "GET", filter(`userName eq "a" or userName eq "b"`), "", http.StatusBadRequest, "invalidFilter"},
		{"not", "GET", filter(`not (userName eq "a")`), "", http.StatusBadRequest, "invalidFilter"},
		{"syntax", "GET", filter(`userName eq`), "", http.StatusBadRequest, "invalidFilter"},
		{"externalId with another operator", "GET", filter(`externalId co "x"`), "", http.StatusBadRequest, "invalidFilter"},
		{"active alone", "GET", filter(`active eq true`), "", http.StatusBadRequest, "invalidFilter"},
		{"two lookups", "GET", filter(`userName eq "a" and id eq "b"`), "", http.StatusBadRequest, "invalidFilter"},
		{"another schema", "GET", filter(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"`), "", http.StatusBadRequest, "invalidFilter"},
		{"value filter", "GET", filter(`emails[type eq "work"]`), "", http.StatusBadRequest, "invalidFilter"},
		{"long filter", "GET", filter(`userName eq "` + strings.Repeat("a", 2000) + `"`), "", http.StatusBadRequest, "invalidFilter"},
		{"malformed id", "GET", "Users/" + strings.Repeat("x", 300), "", http.StatusNotFound, ""},
		{"PATCH without operations", "PATCH", "Users/" + id, `{"Operations":[]}`, http.StatusBadRequest, "invalidValue"},
		{".search with bad JSON", "POST", "Users/.search", `{"filter": 5}`, http.StatusBadRequest, "invalidSyntax"},
		{".search with a bad filter", "POST", "Users/.search", `{"filter": "nickName co \"a\""}`, http.StatusBadRequest, "invalidFilter"},
		{".search by GET", "GET", "Users/.search", "", http.StatusMethodNotAllowed, ""},
		{"Bulk", "POST", "Bulk", `{}`, http.StatusNotImplemented, ""},
		{"Groups", "GET", "Groups", "", http.StatusNotFound, ""},
		{"unknown endpoint", "GET", "Devices", "", http.StatusNotFound, ""},
		{"method", "PUT", "Users", `{}`, http.StatusMethodNotAllowed, ""},
		{"a path too deep", "GET", "Users/" + id + "/x", "", http.StatusNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.do(tc.method, tc.path, tc.body).wantError(t, tc.status, tc.scimType)
		})
	}

	base := env.URL + "/scim/v2/" + fmtUint(env.App.SdkAppID) + "/"
	t.Run("other media type", func(t *testing.T) {
		c.doURL("POST", base+"Users", userBody("x4", ""), "text/plain").wantError(t, http.StatusUnsupportedMediaType, "")
	})
	t.Run("application/json", func(t *testing.T) {
		c.doURL("POST", base+"Users", userBody("x5", ""), "application/json; charset=utf-8").want(t, http.StatusCreated)
	})
	t.Run("a body too large", func(t *testing.T) {
		c.doURL("POST", base+"Users", userBody("x6", `"displayName":"`+strings.Repeat("a", 70<<10)+`"`), "").wantError(t, http.StatusRequestEntityTooLarge, "tooMany")
	})
	t.Run("a path without an app", func(t *testing.T) {
		c.doURL("GET", env.URL+"/scim/v2/0123/Users", "", "").wantError(t, http.StatusNotFound, "")
	})
	for name, token := range map[string]string{"no token": "", "a wrong token": "nope", "a token without Bearer": "Basic " + c.token} {
		t.Run(name, func(t *testing.T) {
			anon := &client{t: t, env: env, app: env.App.SdkAppID, token: token}
			if strings.HasPrefix(token, "Basic ") {
				req, _ := http.NewRequest("GET", base+"Users", nil)
				req.Header.Set("Authorization", token)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("Basic: %d", resp.StatusCode)
				}
				return
			}
			for _, path := range []string{"Users", "Users/" + id, "Groups", "ServiceProviderConfig", "Nowhere"} {
				a := anon.do("GET", path, "")
				a.wantError(t, http.StatusUnauthorized, "")
				if !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s: WWW-Authenticate %q", path, a.header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	t.Run("a revoked token", func(t *testing.T) {
		tok, err := env.Svc.CreateSCIMToken(bg, usercenter.Operator(), env.App.SdkAppID, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := &client{t: t, env: env, app: env.App.SdkAppID, token: tok.Token}
		r.do("GET", "Users", "").want(t, http.StatusOK)
		if err := env.Svc.RevokeSCIMToken(bg, usercenter.Operator(), tok.ID); err != nil {
			t.Fatal(err)
		}
		r.do("GET", "Users", "").wantError(t, http.StatusUnauthorized, "")
	})
	t.Run("rate limited", func(t *testing.T) {
		env := uctest.New(t, uctest.Options{RateLimit: 1})
		c := newClient(t, env, env.App.SdkAppID)
		env.Clock.Freeze()
		c.do("GET", "Users", "").want(t, http.StatusOK)
		c.do("GET", "Users", "").wantError(t, http.StatusTooManyRequests, "")
	})
	// Nothing of the refused creations was stored.
	if list := c.do("GET", "Users", "").want(t, http.StatusOK); list.get("totalResults") != 2.0 {
		t.Errorf("after the refusals: %s", list)
	}
}
